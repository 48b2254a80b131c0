--- One training epoch of LSTM(128) and of GRU(128) on Fashion-MNIST read as sequences (28
-- timesteps of 28 pixels, one image row each), Dense(10, softmax) on top, Adam(0.001),
-- batch 64, with model:fit, against the same models in PyTorch (nn.LSTM / nn.GRU,
-- scripts/benchmarks/torch/rnn.py) in the same run. Target (issue 17): lurn's epoch in at
-- most 0.7 of PyTorch's time, at 1 thread and at all cores.
--   build/lurn scripts/benchmarks/rnn.lua [--threads T] [--reps 1] [--warmup 1]
--       [--rounds 1] [--train_samples 60000] [--seed 42]
-- scripts/bench --threads 1,16 --only rnn prints the epoch times per thread count.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local lurn = lurn or require "lurn"
local harness = require "harness"
local L = lurn.layers

local TORCH_RATIO, UNITS, BATCH = 0.7, 128, 64
local o = harness.options {reps = 1, warmup = 1, rounds = 1, train_samples = 60000, seed = 42}

lurn.manual_seed(o.seed)
local x_train, y_train, x_test, y_test = lurn.datasets.fashion_mnist.load_data()
x_train = x_train:reshape(-1, 28, 28):div_(255)
x_test = x_test:reshape(-1, 28, 28):div_(255)
local n = math.min(o.train_samples, x_train:size(1))
if n < x_train:size(1) then
  x_train, y_train = x_train:narrow(1, 1, n):contiguous(), y_train:narrow(1, 1, n):contiguous()
end

local function build(cell)
  local model = lurn.Sequential{L[cell](UNITS, {input_shape = {28, 28}}), L.Dense(10, {activation = "softmax"})}
  model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.001}, loss = "sparse_categorical_crossentropy",
                metrics = {"accuracy"}}
  return model
end

local torch_o = {threads = o.threads, reps = o.reps, warmup = o.warmup, rounds = 1}
local fields, verdict = {}, "PASS"
print(string.format("rnn: %d units over 28 rows of 28 pixels, Adam, batch %d, %d samples per epoch, %d thread(s)",
                    UNITS, BATCH, n, o.threads))
for _, cell in ipairs{"LSTM", "GRU"} do
  local accuracy, torch_result, torch_why
  local warm = math.min(n, 3200)
  local best = harness.rounds(o, {
    {"lurn", function()
      local model = build(cell)
      if o.warmup > 0 then
        model:fit(x_train:narrow(1, 1, warm):contiguous(), y_train:narrow(1, 1, warm):contiguous(),
                  {epochs = o.warmup, batch_size = BATCH, verbose = 0})
      end
      local t = harness.time(function() model:fit(x_train, y_train, {epochs = 1, batch_size = BATCH, verbose = 0}) end,
                             {warmup = 0, reps = o.reps})
      accuracy = model:evaluate(x_test, y_test, {verbose = 0}).accuracy
      return t.median
    end},
    {"torch", function()
      local r, why = harness.torch("rnn", torch_o, ("--cell %s --train_samples %d --seed %d"):format(cell, n, o.seed))
      torch_result, torch_why = r or torch_result, why
      return r and r.median_s or math.huge
    end},
  })
  print(string.format("  %-14s %8.2f s/epoch  %8.0f samples/s  test accuracy %.4f", "lurn " .. cell, best.lurn,
                      n / best.lurn, accuracy))
  local ratio
  if torch_result then
    ratio = best.lurn / best.torch
    local ok = ratio <= TORCH_RATIO
    if not ok then verdict = "FAIL" end
    print(string.format("  %-14s %8.2f s/epoch  %8.0f samples/s  (torch %s)", "PyTorch " .. cell, best.torch,
                        n / best.torch, torch_result.version or "?"))
    print(string.format("  %-14s %8.3f   target <= %.2f: %s", "lurn / torch", ratio, TORCH_RATIO, ok and "PASS" or "FAIL"))
  else
    if verdict == "PASS" then verdict = "not-measured" end
    print(string.format("  %-14s skipped: %s", "PyTorch " .. cell, torch_why or "?"))
  end
  local key = cell:lower()
  fields[#fields + 1] = {key .. "_epoch_s", best.lurn}
  fields[#fields + 1] = {key .. "_torch_s", torch_result and best.torch or "nan"}
  fields[#fields + 1] = {key .. "_ratio", ratio or "nan"}
  fields[#fields + 1] = {key .. "_test_acc", accuracy}
end
fields[#fields + 1] = {"verdict", verdict}
harness.result("rnn", o.threads, fields)
