#!/usr/bin/env bash
# lurn without Open MPI (cmake -DLURN_MPI=OFF, as where libopenmpi-dev is missing): it
# builds, lurn.distributed says it is not built and behaves as one process (rank 0 of 1,
# collectives leave their tensors, map runs every config here), and lurn.pc names no MPI.
# The build lives in BUILD_DIR/without_mpi and is kept, so that later runs rebuild only
# what changed (the first takes about a minute on 2 cores).
# Usage: bash spec/integration/without_mpi.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd)/without_mpi
source_dir=$(cd "$2" && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail() {
  echo "FAIL: $*"
  cat "$log"
  exit 1
}

cmake -S "$source_dir" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLURN_MPI=OFF -DLURN_BUILD_TESTS=OFF >"$log" 2>&1 \
  || fail "cmake -DLURN_MPI=OFF"
grep -q "Distributed: one process" "$log" || fail "CMake did not choose the one-process build"
cmake --build "$build" -j 2 --target lurn lurn_core_module >"$log" 2>&1 || fail "building lurn without MPI"
if [[ -f $build/lurn.pc ]] && grep -qi mpi "$build/lurn.pc"; then fail "lurn.pc names MPI: $(grep -i mpi "$build/lurn.pc")"; fi

cat >"$log.lua" <<'LUA'
local d = lurn.distributed
assert(d.built() == false, "built() must say false")
assert(d.rank() == 0 and d.size() == 1 and d.is_main(), "rank 0 of 1")
d.init()
d.barrier()
local t = d.allreduce(lurn.tensor{1, 2})
assert(t:totable()[2] == 2, "allreduce leaves the tensor")
assert(d.broadcast(lurn.tensor{3}):totable()[1] == 3, "broadcast leaves the tensor")
local ok, err = pcall(d.broadcast, lurn.tensor{3}, 1)
assert(not ok and err:find("root must be a rank of the job, 0 .. 0, got 1", 1, true), tostring(err))
local got = d.map({1, 2, 3}, function(c, i) return c * 10 + i end)
assert(#got == 3 and got[3] == 33, "map runs every config here")
print("one process: ok")
LUA
# Started by mpirun or not, a lurn without MPI is one process.
out=$(OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_LOCAL_SIZE=1 "$build/lurn" "$log.lua" 2>&1) || { rm -f "$log.lua"; fail "$out"; }
rm -f "$log.lua"
[[ $out == "one process: ok" ]] || fail "$out"
echo "ok: built with -DLURN_MPI=OFF, lurn.distributed is one process and says it is not built"
