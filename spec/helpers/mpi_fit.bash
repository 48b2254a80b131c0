# Sourced by spec/integration/mpi_fit_*.sh (data-parallel fit): spec/helpers/mpi.bash
# ($lurn, $work, run_mpi, fail, the SKIP without MPI), then $work as the current folder and
# one thread per process: a fixed thread count, so that the same seed gives the same bits.
source "$(dirname "${BASH_SOURCE[0]}")/mpi.bash"
cd "$work" || exit 1
export OMP_NUM_THREADS=1
