#!/usr/bin/env bash
# The lessons' report under `mpirun -np 2` (docs/distributed.md, "The lessons' report"):
# run_all.lua spreads the lessons over the ranks (lesson k on rank (k - 1) % 2) and rank 0
# alone writes report.md and report.html, with the same sections and numbers as one
# process (one thread each, timings aside). Then the two ranks in two folders, as on two
# machines with their own disks: rank 0's folder gets every lesson's files (the other
# rank's sent through the gather), the other folder only its own lesson's, and no report.
# Skips when lurn was built without MPI.
# Usage: bash spec/integration/mpi_lessons.sh BUILD_DIR SOURCE_DIR
source "$(dirname "$0")/../helpers/mpi.bash"
source_dir=$(cd "$2" && pwd)
export OMP_NUM_THREADS=1
# two lessons whose sections hold no timings and no doctor cases (diagnose's probe stops at
# a time budget, so its findings may vary with the machine's load)
lessons=(--tiny --only tokenization,lr_schedule)

# run_all runs from a folder holding scripts/ and examples/ (the lessons' data)
for dir in "$work" "$work/P" "$work/A" "$work/B"; do
  mkdir -p "$dir"
  ln -s "$source_dir/scripts" "$dir/scripts"
  ln -s "$source_dir/examples" "$dir/examples"
done

# one process in P, two ranks in the folder of run_mpi; every run's report in its reports/
(cd "$work/P" && timeout 120 "$lurn" scripts/experiments/run_all.lua "${lessons[@]}" --out reports >"$work/out" 2>"$work/err") ||
  fail "one process"
run_mpi 2 scripts/experiments/run_all.lua "${lessons[@]}" --out reports || fail "two ranks: status $?"
[[ $(grep -c '^report: ' "$work/err") == 1 ]] || fail "the report was written $(grep -c '^report: ' "$work/err") times"

# the files as they should agree: timings as T, the footer (date, ranks, command) and
# results.json's seconds left out
normal() {
  sed -E -e 's/[0-9]+(\.[0-9]+)? s\b/T s/g' -e '/^Written .* Command: /d' -e '/^<footer>/d' \
    -e 's/"seconds":[-0-9.eE+]+//g' "$1"
}
(cd "$work/P/reports" && find . -type f | sort) >"$work/one.files"
(cd "$work/reports" && find . -type f | sort) >"$work/two.files"
cmp -s "$work/one.files" "$work/two.files" || fail "other files: $(diff "$work/one.files" "$work/two.files")"
grep -q '^./lr_schedule/results.json$' "$work/one.files" || fail "no lesson ran: $(cat "$work/one.files")"
while read -r file; do
  cmp -s <(normal "$work/P/reports/$file") <(normal "$work/reports/$file") ||
    fail "$file differs: $(diff <(normal "$work/P/reports/$file") <(normal "$work/reports/$file") | head -20)"
done <"$work/one.files"

# two folders, as two machines: rank 0 in A, rank 1 (lr_schedule, lesson 2 of 2) in B
(timeout 60 mpirun --allow-run-as-root --oversubscribe --bind-to none \
  -np 1 -wdir "$work/A" "$lurn" scripts/experiments/run_all.lua "${lessons[@]}" --out reports : \
  -np 1 -wdir "$work/B" "$lurn" scripts/experiments/run_all.lua "${lessons[@]}" --out reports \
  >"$work/out" 2>"$work/err") || fail "two ranks in two folders: status $?"
(cd "$work/A/reports" && find . -type f | sort) >"$work/A.files"
cmp -s "$work/one.files" "$work/A.files" || fail "rank 0's folder: $(diff "$work/one.files" "$work/A.files")"
[[ $(cd "$work/B/reports" && find . -type f -name 'report.*') == "" ]] || fail "rank 1 wrote a report"
[[ $(ls "$work/B/reports") == lr_schedule ]] || fail "rank 1 ran $(ls "$work/B/reports")"
while read -r file; do
  cmp -s <(normal "$work/P/reports/$file") <(normal "$work/A/reports/$file") || fail "A/reports/$file differs from one process's"
done <"$work/one.files"
echo "ok: the lessons' report under 2 ranks has one process's sections and numbers, written once by rank 0"
