#!/usr/bin/env bash
# lurn.distributed under `mpirun -np 2` (docs/distributed.md): each rank knows its rank and
# the size, barrier returns, allreduce sums and broadcast copies root's tensor on every
# rank, map gathers the results on rank 0 in the list's order (nil on rank 1) and map_all
# on every rank, and the automatic thread count shares the cores between the two ranks.
# Skips when lurn was built without MPI.
# Usage: bash spec/integration/mpi_collectives.sh BUILD_DIR SOURCE_DIR
source "$(dirname "$0")/../helpers/mpi.bash"

cat >"$work/collectives.lua" <<'LUA'
local d = lurn.distributed
local r, n = d.rank(), d.size()
local function say(what, ...) print(("rank %d %s %s"):format(r, what, table.concat({...}, " "))) end
say("of", n, tostring(d.is_main()))
d.barrier()
local t = d.allreduce(lurn.tensor{1, 2, 3} * (r + 1))
say("allreduce", table.unpack(t:totable()))
local b = d.broadcast(lurn.full({2}, r + 5), 1)
say("broadcast", table.unpack(b:totable()))
local configs = {}
for i = 1, 5 do configs[i] = {value = 10 * i} end
local got = d.map(configs, function(c, i) return {twice = 2 * c.value, i = i, by = d.rank()} end)
if got then
  for i, v in ipairs(got) do say("map", i, v.twice, v.by) end
else
  say("map", "nil")
end
local all = d.map_all({"a", "b", "c"}, function(c) return c .. d.rank() end)
say("map_all", table.unpack(all))
say("threads", (lurn.get_num_threads()))
LUA

run_mpi 2 collectives.lua || fail "the job ended with status $?"
out=$(sort "$work/out")
cores=$(nproc)
share=$((cores / 2 > 0 ? cores / 2 : 1))
expected=$(sort <<EOT
rank 0 of 2 true
rank 1 of 2 false
rank 0 allreduce 3.0 6.0 9.0
rank 1 allreduce 3.0 6.0 9.0
rank 0 broadcast 6.0 6.0
rank 1 broadcast 6.0 6.0
rank 0 map 1 20 0
rank 0 map 2 40 1
rank 0 map 3 60 0
rank 0 map 4 80 1
rank 0 map 5 100 0
rank 1 map nil
rank 0 map_all a0 b1 c0
rank 1 map_all a0 b1 c0
rank 0 threads $share
rank 1 threads $share
EOT
)
[[ $out == "$expected" ]] || fail "expected:
$expected"

# The C API beneath (src/dist/dist.h) in a job of 2: spec/c/test_dist checks sums (blocking
# and non-blocking), broadcasts, an uneven gather and ranks that disagree.
if [[ -x $build_dir/spec/test_dist ]]; then
  (cd "$work" && timeout 60 mpirun --allow-run-as-root --oversubscribe -np 2 "$build_dir/spec/test_dist" >"$work/out" 2>"$work/err") \
    || fail "spec/c/test_dist under 2 ranks: status $?"
  [[ $(grep -c "^ok   " "$work/out") == 8 ]] || fail "spec/c/test_dist: not every check ran on both ranks"
fi
echo "ok: rank, size, barrier, allreduce, broadcast, map, map_all, the thread share and the C API under 2 ranks"
