# Sourced by spec/integration/mpi_*.sh: lurn under `mpirun -np 2` on this machine, in a
# container as root. Sets $build_dir, $lurn and $work (removed at exit), exits 77 (ctest's
# SKIP_RETURN_CODE for them) when lurn was built without MPI or mpirun is missing, and defines run_mpi NP SCRIPT
# [ARGS...]: the job's status, stdout in $work/out, stderr in $work/err, ended after 60 s.
set -u
build_dir=$(cd "$1" && pwd)
lurn=$build_dir/lurn
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[[ -x $lurn ]] || { echo "FAIL: no executable $lurn"; exit 1; }
if ! "$lurn" -e 'os.exit(lurn.distributed.built() and 0 or 1)'; then
  echo "SKIP: lurn was built without MPI (libopenmpi-dev; docs/distributed.md)"
  exit 77
fi
command -v mpirun >/dev/null || { echo "SKIP: no mpirun (openmpi-bin)"; exit 77; }

# A container: no cross-memory attach between processes, more ranks than cores allowed,
# root allowed; threads not bound to one core each, so that lurn shares the cores itself.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
unset OMP_NUM_THREADS
# The sanitizer build: Open MPI keeps allocations to the end (122 KB in 3,300 blocks from
# MPI_Init), which LeakSanitizer would report as lurn's; AddressSanitizer still checks the rest.
if [[ ${LURN_SANITIZE:-} =~ ^(ON|on|1|TRUE|true|YES|yes)$ ]]; then export ASAN_OPTIONS=detect_leaks=0; fi

run_mpi() {
  local np=$1
  shift
  (cd "$work" && timeout 60 mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$np" "$lurn" "$@" \
    >"$work/out" 2>"$work/err")
}

fail() {
  echo "FAIL: $*"
  echo "---- stdout ----"; cat "$work/out"
  echo "---- stderr ----"; cat "$work/err"
  exit 1
}

# same_file A B WHAT: fails, naming WHAT and the first differing JSON fields, unless the
# files $work/A and $work/B are equal byte for byte.
same_file() {
  cmp -s "$work/$1" "$work/$2" || fail "$3: $(diff <(tr ',' '\n' <"$work/$1") <(tr ',' '\n' <"$work/$2") | head -20)"
}
