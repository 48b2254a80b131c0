#!/usr/bin/env bash
# A rank that fails never leaves the others waiting (docs/distributed.md, "When something
# fails"), under `mpirun -np 2`, each case within 60 s:
# - fn failing in lurn.distributed.map on rank 1: every rank raises, rank 0's error names
#   the config and the rank, the job ends with a non-zero status;
# - a Lua error on rank 1 while rank 0 waits in a barrier: rank 1's error names its rank
#   and mpirun ends rank 0;
# - rank 1 killed (kill -9) while rank 0 waits in an allreduce: mpirun ends rank 0.
# Skips when lurn was built without MPI.
# Usage: bash spec/integration/mpi_faults.sh BUILD_DIR SOURCE_DIR
source "$(dirname "$0")/../helpers/mpi.bash"

ended() { # the status $1 of a job that should have failed, neither 0 nor a timeout
  [[ $1 -ne 0 ]] || fail "$2: the job ended with status 0"
  [[ $1 -ne 124 ]] || fail "$2: the job was still running after 60 s"
}

cat >"$work/map_error.lua" <<'LUA'
local results = lurn.distributed.map({1, 2, 3, 4}, function(c, i)
  if i == 2 then error("no data for config " .. c) end
  return c
end)
print("after map on rank " .. lurn.distributed.rank())
LUA
run_mpi 2 map_error.lua
ended $? "an error in map's fn"
grep -q "rank 0 of 2: map_error.lua:1: lurn.distributed.map: config 2 failed on rank 1 of 2: map_error.lua:2: no data for config 2" "$work/err" \
  || fail "rank 0's error does not name the config, the rank and the message"
grep -q "rank 1 of 2: map_error.lua:1: lurn.distributed.map: config 2 failed on rank 1 of 2" "$work/err" \
  || fail "rank 1 does not raise its own error"
grep -q "after map" "$work/out" && fail "a rank went on after a failed map"

cat >"$work/lua_error.lua" <<'LUA'
local d = lurn.distributed
if d.rank() == 1 then error("rank one cannot read its data") end
d.barrier()
print("rank 0 passed the barrier")
LUA
run_mpi 2 lua_error.lua
ended $? "a Lua error on rank 1"
grep -q "rank 1 of 2: lua_error.lua:2: rank one cannot read its data" "$work/err" || fail "the error does not name rank 1"
grep -q "passed the barrier" "$work/out" && fail "rank 0 passed a barrier rank 1 never reached"

# a collective's own error names the rank once, not again in front of the position
cat >"$work/mismatch.lua" <<'LUA'
local d = lurn.distributed
d.allreduce(lurn.zeros(d.rank() == 0 and 10 or 12))
LUA
run_mpi 2 mismatch.lua
ended $? "allreduce of different sizes"
grep -q "lurn: mismatch.lua:2: rank 1 of 2: allreduce of 12, but the ranks give counts from 10 to 12" "$work/err" \
  || fail "the size mismatch's error does not name rank 1 after the user's line"
grep -q "rank 1 of 2: mismatch.lua:2: rank 1 of 2" "$work/err" && fail "the rank is named twice"

cat >"$work/killed.lua" <<'LUA'
local d = lurn.distributed
d.barrier()
if d.rank() == 1 then os.execute("kill -9 " .. io.open("/proc/self/stat"):read("l"):match("^%d+")) end
d.allreduce(lurn.ones{4})
print("rank " .. d.rank() .. " passed the allreduce")
LUA
run_mpi 2 killed.lua
ended $? "rank 1 killed"
grep -q "passed the allreduce" "$work/out" && fail "a rank passed an allreduce the killed rank never joined"
grep -qi "signal 9\|killed" "$work/err" || fail "mpirun does not say that a rank was killed"
echo "ok: an error in map, a Lua error and a killed rank each end the job with a message"
