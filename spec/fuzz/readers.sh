#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of lurn's file readers (spec/fuzz/fuzz_*.c).
#   bash spec/fuzz/readers.sh build FUZZ_DIR
#       configures spec/fuzz (a project of its own) with clang and builds it into FUZZ_DIR
#   bash spec/fuzz/readers.sh run FUZZ_DIR READER SECONDS [RUNS]
#       fuzzes READER (csv, npy, idx or model) for SECONDS from the kept corpus spec/fuzz/corpus/READER,
#       with seed 1 (the test suite); new inputs go to a scratch corpus in FUZZ_DIR. With RUNS
#       (the suite) it stops after that many inputs, so that every machine tries the same
#       ones whatever its speed; SECONDS is then only a cap
#   LURN_FUZZ_KEEP=1 bash spec/fuzz/readers.sh run FUZZ_DIR READER SECONDS
#       the same with a random seed, then merges the new inputs into the kept corpus (scripts/fuzz)
# A finding (crash, leak, sanitizer report, hang, runaway allocation) is written to
# FUZZ_DIR/findings/READER/ and fails the run, naming the reproducer. Under LURN_FUZZ_KEEP=1
# it is also copied into the kept corpus: what was found once is tried by every later run.
set -euo pipefail
source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mode=$1
fuzz_dir=$(mkdir -p "$2" && cd "$2" && pwd)

if [ "$mode" = build ]; then
  cmake -S "$source_dir/spec/fuzz" -B "$fuzz_dir" -DCMAKE_C_COMPILER=clang >/dev/null
  cmake --build "$fuzz_dir" -j "$(nproc)"
  exit 0
fi
[ "$mode" = run ] || { echo "usage: readers.sh build FUZZ_DIR | run FUZZ_DIR READER SECONDS" >&2; exit 2; }

reader=$3
seconds=$4
runs=${5:-}
fuzzer=$fuzz_dir/fuzz_$reader
kept=$source_dir/spec/fuzz/corpus/$reader
scratch=$fuzz_dir/corpus/$reader
findings=$fuzz_dir/findings/$reader
log=$fuzz_dir/$reader.log
[ -x "$fuzzer" ] || { echo "FAIL: $fuzzer is not built (readers.sh build $fuzz_dir)" >&2; exit 1; }
rm -rf "$scratch"
mkdir -p "$scratch" "$findings"

if [ "${LURN_FUZZ_KEEP:-0}" = 1 ]; then
  seed=$(( (RANDOM << 15 | RANDOM) + 1 ))
else
  seed=1
fi
# -timeout: one input running this long is a hang; -rss_limit_mb also stops any single
# allocation above it (libFuzzer's malloc limit), which a small file never needs.
options=(-seed="$seed" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
         -artifact_prefix="$findings/" -print_final_stats=1)
[ -n "$runs" ] && options+=(-runs="$runs")
echo "fuzz_$reader: ${runs:+$runs inputs or }$seconds s, seed $seed, corpus $kept (log: $log)"
# The scratch corpus comes first: libFuzzer writes new inputs to its first folder only.
status=0
UBSAN_OPTIONS=print_stacktrace=1 "$fuzzer" "${options[@]}" "$scratch" "$kept" >"$log" 2>&1 || status=$?
grep -E '^stat::number_of_executed_units|^Done' "$log" || true

if [ "${LURN_FUZZ_KEEP:-0}" = 1 ]; then
  # Adds to the kept corpus the scratch inputs that reach code it does not yet reach (even
  # after a finding: libFuzzer's merge steps over inputs that crash).
  before=$(find "$kept" -type f | wc -l)
  "$fuzzer" -merge=1 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$findings/" "$kept" "$scratch" >"$fuzz_dir/$reader.merge.log" 2>&1 || true
  after=$(find "$kept" -type f | wc -l)
  echo "fuzz_$reader: $((after - before)) new input(s) merged into $kept"
fi

if [ "$status" != 0 ]; then
  # The sanitizer's or libFuzzer's report, from its first line.
  report=$(sed -n '/runtime error\|^==[0-9]*==ERROR\|^==[0-9]*== ERROR/,$p' "$log" | head -n 80)
  if [ -n "$report" ]; then echo "$report"; else tail -n 40 "$log"; fi
  found=$(grep -o "Test unit written to .*" "$log" | sed 's/^Test unit written to //' | tail -n 1)
  echo "FAIL: fuzz_$reader found a problem (exit $status, seed $seed)" >&2
  if [ -n "$found" ]; then
    echo "  reproducer: $found" >&2
    echo "  replay:     $fuzzer $found" >&2
    if [ "${LURN_FUZZ_KEEP:-0}" = 1 ]; then
      sum=$(sha1sum <"$found" | cut -d' ' -f1)
      if find "$kept" -type f -exec sha1sum {} + | grep -q "^$sum "; then
        echo "  already in the kept corpus $kept" >&2
      else
        cp "$found" "$kept/"
        echo "  kept as $kept/$(basename "$found"): the suite fails on it until the reader is fixed" >&2
      fi
    fi
  fi
  exit 1
fi

