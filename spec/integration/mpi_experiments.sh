#!/usr/bin/env bash
# lr_range_test, imbalance_check and label_noise_check under `mpirun -np 2`
# (docs/distributed.md, "Sweeps"): imbalance_check's strategies and label_noise_check's
# folds spread over the ranks, lr_range_test's one sequential run on rank 0 alone; every
# rank returns one process's result (numbers, conclusion; rank 0 the report too: the other
# ranks' reports name no plot, as they write none) for the same seed and one thread, and
# rank 0 alone writes the plots and prints. Skips when lurn was built
# without MPI.
# Usage: bash spec/integration/mpi_experiments.sh BUILD_DIR SOURCE_DIR
source "$(dirname "$0")/../helpers/mpi.bash"

cat >"$work/experiments.lua" <<'LUA'
local out, plots = arg[1], arg[2]
local json = require "lurn.models.json"
local E = lurn.experiments
lurn.set_num_threads(1)
lurn.manual_seed(1)
local x = lurn.randn{160, 2}
local y = (x:select(2, 1) + x:select(2, 2)):gt(1.2)     -- imbalanced: about 20% positives
for i = 1, 160, 16 do y:set(i, 1 - y:get(i)) end         -- and some flipped labels
local L = lurn.layers
local function build()
  local m = lurn.Sequential{L.Dense(8, {input_shape = {2}, activation = "relu"}), L.Dense(2, {activation = "softmax"})}
  return m:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.02}, loss = "sparse_categorical_crossentropy",
                   metrics = {"accuracy"}}
end
local common = {seed = 3, plots = plots, plot_format = "gp", verbose = 1}
local function with(t)
  for k, v in pairs(common) do t[k] = v end
  return t
end
-- the results without what differs from run to run (timings) or by folder (the plots' paths),
-- and without the reports (which name the plots written) for `numbers`
local function kept(v, numbers)
  if type(v) ~= "table" then return v end
  local t = {}
  for k, e in pairs(v) do
    if k ~= "epoch_seconds" and k ~= "seconds_per_epoch" and k ~= "plots" and not (numbers and k == "report") then
      t[k] = kept(e, numbers)
    end
  end
  return t
end
local function keyed(counts)             -- class-keyed tables (from 0) as lists, for JSON
  local list = {}
  for c = 0, 1 do list[c + 1] = counts[c] end
  return list
end
local range = E.lr_range_test(build, x, y, with{min_lr = 1e-4, max_lr = 1e3, steps = 40, batch_size = 16})
local imb = E.imbalance_check(build, x, y, with{epochs = 3})
for _, r in ipairs(imb.runs) do
  r.train_counts, r.class_weight = keyed(r.train_counts), r.class_weight and keyed(r.class_weight)
end
imb.training_counts, imb.validation_counts = keyed(imb.training_counts), keyed(imb.validation_counts)
local noise = E.label_noise_check(build, x, y, with{epochs = 3, top = 8})
local folds = E.label_noise_check(build, x, y, with{epochs = 3, top = 8, cv = 3})
assert(#imb.runs == 4 and #folds.runs == 3, "every rank gets every run")
assert(range.diverged_at, "the range test reaches divergence")
local all = {range = range, imbalance = imb, noise = noise, folds = folds}
for _, part in ipairs{"full", "numbers"} do
  local f = assert(io.open(("%s.%s.%d"):format(out, part, lurn.distributed.rank()), "w"))
  f:write(json.encode(kept(all, part == "numbers")))
  f:close()
end
LUA

mkdir -p "$work/plots1" "$work/plots2"
(cd "$work" && timeout 120 "$lurn" experiments.lua one.json "$work/plots1" >"$work/out1" 2>"$work/err") || fail "one process"
run_mpi 2 experiments.lua two.json "$work/plots2" || fail "two ranks: status $?"
same_file one.json.full.0 two.json.full.0 "two.json.full.0 differs from one.json.full.0"
same_file one.json.numbers.0 two.json.numbers.1 "two.json.numbers.1 differs from one.json.numbers.0"
[[ $(ls "$work/plots1") == "$(ls "$work/plots2")" && -n $(ls "$work/plots2") ]] || fail "the plots differ: $(ls "$work/plots1") / $(ls "$work/plots2")"
# verbose lines: rank 0 prints the range test's line once, and its share of the spread
# runs (strategies and folds 1 and 3), where one process prints every one
[[ $(grep -c '^lr_range_test: ' "$work/out") == 1 ]] || fail "lr_range_test's line printed $(grep -c '^lr_range_test: ' "$work/out") times"
shares() { grep -o "$1" "$2" | tr '\n' ' '; }
[[ $(shares 'imbalance_check: [a-z_]*' "$work/out1") == "imbalance_check: none imbalance_check: class_weight imbalance_check: oversample imbalance_check: smote " ]] ||
  fail "one process's strategies: $(shares 'imbalance_check: [a-z_]*' "$work/out1")"
[[ $(shares 'imbalance_check: [a-z_]*' "$work/out") == "imbalance_check: none imbalance_check: oversample " ]] ||
  fail "rank 0's share of the strategies: $(shares 'imbalance_check: [a-z_]*' "$work/out")"
[[ $(shares 'fold [0-9]' "$work/out") == "fold 1 fold 3 " ]] || fail "rank 0's share of the folds: $(shares 'fold [0-9]' "$work/out")"
echo "ok: lr_range_test, imbalance_check and label_noise_check under 2 ranks give every rank one process's result"
