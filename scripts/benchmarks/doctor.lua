--- The doctor's figures (issue 19): how long lurn.doctor.check_data takes on Fashion-MNIST's
-- 60000 x 784 training set (target: a few seconds, here at most 5 s), how long
-- lurn.doctor.diagnose takes on the seeds' MLP with that data (target: at most 20 s on 2
-- cores), what it finds there (a healthy model: no warning or error is expected), and the
-- development corpus (scripts/doctor/corpus.lua): detection, false positives and the repair
-- rate, measured, for docs/doctor.md.
--   build/lurn scripts/benchmarks/doctor.lua [--threads T] [--rounds 1] [--corpus yes|no] [--seed 42]
-- Each timing keeps the best of `rounds` rounds (something else using the machine for a
-- moment costs neither).
local lurn = lurn or require "lurn"
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local harness = require "harness"

local CHECK_DATA_LIMIT, DIAGNOSE_LIMIT = 5.0, 20.0
local o = harness.options {reps = 1, warmup = 0, rounds = 1, corpus = "yes", seed = 42}
local L = lurn.layers

local x_train, y_train, x_test, y_test = lurn.datasets.fashion_mnist.load_data()
x_train = x_train:reshape(-1, 784):div_(255)
x_test = x_test:reshape(-1, 784):div_(255)

-- The seeds' MLP, as scripts/benchmarks/mlp.lua's --config seed.
local function seed_mlp()
  lurn.manual_seed(o.seed)
  local model = lurn.Sequential {
    L.Dense(256, {activation = "relu", input_shape = {784}}),
    L.Dropout(0.25),
    L.Dense(128, {activation = "relu"}),
    L.Dropout(0.25),
    L.Dense(10, {activation = "softmax"}),
  }
  return model:compile {optimizer = lurn.optimizers.Adam {learning_rate = 0.001},
                        loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
end

local function best_of(fn)
  local best, value = math.huge, nil
  for _ = 1, o.rounds do
    local t = harness.time(function() value = fn() end, {warmup = 0, reps = 1})
    if t.median < best then best = t.median end
  end
  return best, value
end

local check_s, data_report = best_of(function()
  return lurn.doctor.check_data(x_train, y_train, {validation_data = {x_test, y_test}})
end)
local diagnose_s, report = best_of(function()
  return lurn.doctor.diagnose(seed_mlp(), x_train, y_train, {validation_data = {x_test, y_test}, batch_size = 32})
end)

local function codes(r)
  local list = {}
  for _, f in ipairs(r:sorted()) do list[#list + 1] = f.code .. "(" .. f.severity .. ")" end
  return #list > 0 and table.concat(list, ", ") or "none"
end
local function warnings(r)
  local n = 0
  for _, f in ipairs(r.findings) do
    if f.severity ~= "info" then n = n + 1 end
  end
  return n
end

local verdict = (check_s <= CHECK_DATA_LIMIT and diagnose_s <= DIAGNOSE_LIMIT) and "PASS" or "FAIL"
print(("doctor: Fashion-MNIST 60000 x 784, the seeds' MLP, %d thread(s)"):format(o.threads))
print(("  %-34s %7.2f s   target <= %.0f s   findings: %s"):format("check_data", check_s, CHECK_DATA_LIMIT,
  codes(data_report)))
print(("  %-34s %7.2f s   target <= %.0f s   findings: %s"):format("diagnose (the seeds' MLP)", diagnose_s,
  DIAGNOSE_LIMIT, codes(report)))
local fields = {{"check_data_s", check_s}, {"diagnose_s", diagnose_s}, {"mlp_warnings", warnings(report)}}

if o.corpus == "yes" then
  -- the corpus at one thread: its figures are the same at any count, its small models
  -- gain nothing from a second thread
  local threads = lurn.get_num_threads()
  lurn.set_num_threads(1)
  local corpus = dofile(harness.root .. "/scripts/doctor/corpus.lua")
  local t0 = lurn.clock()
  local rows, totals = corpus.run(corpus.CASES, {})
  lurn.set_num_threads(threads)
  print(("\n## Corpus (%d cases, %.0f s)\n"):format(#rows, lurn.clock() - t0))
  print(corpus.markdown(rows, totals))
  fields[#fields + 1] = {"detected", ("%d/%d"):format(totals.detected, totals.broken)}
  fields[#fields + 1] = {"false_positives", ("%d/%d"):format(totals.healthy - totals.clean, totals.healthy)}
  fields[#fields + 1] = {"repaired", ("%d/%d"):format(totals.repaired, totals.repairable)}
end
fields[#fields + 1] = {"verdict", verdict}
harness.result("doctor", o.threads, fields)
