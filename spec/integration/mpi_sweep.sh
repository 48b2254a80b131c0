#!/usr/bin/env bash
# lurn.experiments under `mpirun -np 2` (docs/distributed.md, "Sweeps"): lr_sweep and
# compare spread their runs over the ranks and give rank 0 the same numbers, report and
# conclusion as one process with the same seed (one thread per rank, as in the one
# process, so that every sum runs in the same order), every rank gets the result, and
# rank 0 alone writes the plots. Skips when lurn was built without MPI.
# Usage: bash spec/integration/mpi_sweep.sh BUILD_DIR SOURCE_DIR
source "$(dirname "$0")/../helpers/mpi.bash"

cat >"$work/sweep.lua" <<'LUA'
local out, plots = arg[1], arg[2]
local json = require "lurn.models.json"
lurn.set_num_threads(1)
lurn.manual_seed(1)
local x = lurn.randn{96, 2}
local y = (x:select(2, 1) + x:select(2, 2)):gt(0)
local L = lurn.layers
local function build(units)
  local m = lurn.Sequential{L.Dense(units or 8, {input_shape = {2}, activation = "relu"}),
                            L.Dense(2, {activation = "softmax"})}
  return m:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0.1}, loss = "sparse_categorical_crossentropy",
                   metrics = {"accuracy"}}
end
local sweep = lurn.experiments.lr_sweep(build, x, y, {rates = {0.01, 0.1, 1, 1e4}, optimizers = {"sgd", "adam"},
                                                      epochs = 3, seed = 5, plots = plots, plot_format = "gp"})
local cmp = lurn.experiments.compare({{name = "base"}, {name = "adam", optimizer = "adam"},
                                     {name = "wide", build = function() return build(32) end}}, x, y,
                                    {build = build, epochs = 3, seed = 5})
local function numbers(list)
  local kept = {}
  for i, run in ipairs(list) do
    kept[i] = {history = run.history, optimizer = run.optimizer, learning_rate = run.learning_rate,
               diverged = run.diverged, name = run.name, params = run.params}
  end
  return kept
end
assert(#sweep.runs == 8 and #cmp.runs == 3, "every rank gets every run")
if lurn.distributed.is_main() then
  local f = assert(io.open(out, "w"))
  f:write(json.encode{sweep = numbers(sweep.runs), optimizers = sweep.optimizers, report = sweep.report,
                      compare = numbers(cmp.runs), conclusion = cmp.conclusion})
  f:close()
end
LUA

mkdir -p "$work/plots1" "$work/plots2"
(cd "$work" && timeout 120 "$lurn" sweep.lua one.json "$work/plots1" >"$work/out" 2>"$work/err") || fail "one process"
run_mpi 2 sweep.lua two.json "$work/plots2" || fail "two ranks: status $?"
same_file one.json two.json "two ranks differ from one process"
[[ $(ls "$work/plots1") == "$(ls "$work/plots2")" && -n $(ls "$work/plots2") ]] || fail "the plots differ: $(ls "$work/plots1") / $(ls "$work/plots2")"
echo "ok: lr_sweep and compare under 2 ranks give one process's numbers, rank 0 writes the plots"
