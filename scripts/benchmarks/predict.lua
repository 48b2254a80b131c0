--- Single predictions (issue 20): the latency of one sample through the seeds' MLP
-- (784-256-relu-dropout-128-relu-dropout-10-softmax) and the seeds' CNN
-- (lib/seed_cnn.lua), as a host application asks for it: model:predict(x) and model(x)
-- on a (1, ...) tensor, against PyTorch's model(x) under torch.no_grad() on the same
-- shapes (scripts/benchmarks/torch/predict.py). The weights are untrained: the work of a
-- prediction does not depend on them.
-- Target: lurn's model(x) at most 0.5 of PyTorch's latency.
--
-- A rep times `inner` predictions of the same sample one after the other; the figure is
-- a rep's median over `inner`, per prediction. lurn and PyTorch take turns for `rounds`
-- rounds, each keeping its best.
--   build/lurn scripts/benchmarks/predict.lua [--threads T] [--inner 200] [--reps 21] [--rounds 3]
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local lurn = lurn or require "lurn"
local harness = require "harness"
local seed_cnn = require "seed_cnn"
local seed_mlp = require "seed_mlp"

local TARGET = 0.5
local o = harness.options {inner = 200, seed = 42}
lurn.manual_seed(o.seed)


local MODELS = {
  {name = "mlp", build = seed_mlp, x = lurn.rand(1, 784)},
  {name = "cnn", build = seed_cnn, x = lurn.rand(1, 28, 28, 1)},
}

for _, spec in ipairs(MODELS) do
  local model, x = spec.build(), spec.x
  local ways = {
    predict = function() for _ = 1, o.inner do model:predict(x, {verbose = 0}) end end,
    call = function() for _ = 1, o.inner do model(x) end end,
  }
  local torch_us, why
  local best = harness.rounds(o, {
    {"predict", function() return harness.time(ways.predict, o).median end},
    {"call", function() return harness.time(ways.call, o).median end},
    {"torch", function()
      local r
      r, why = harness.torch("predict", o, ("--model %s --inner %d"):format(spec.name, o.inner))
      if r then torch_us = math.min(torch_us or math.huge, r.latency_us) end
      return r and r.latency_us or math.huge
    end},
  })
  local predict_us, call_us = best.predict / o.inner * 1e6, best.call / o.inner * 1e6
  local fields = {{"model", spec.name}, {"predict_us", predict_us}, {"call_us", call_us}}
  if torch_us then
    local ratio = call_us / torch_us
    fields[#fields + 1] = {"torch_us", torch_us}
    fields[#fields + 1] = {"ratio_call", ratio}
    fields[#fields + 1] = {"ratio_predict", predict_us / torch_us}
    fields[#fields + 1] = {"target", TARGET}
    fields[#fields + 1] = {"verdict", ratio <= TARGET and "PASS" or "FAIL"}
    print(("%s: model(x) %.1f us, predict %.1f us, PyTorch %.1f us: %.2f of PyTorch's time (target %.2f)"):format(
      spec.name, call_us, predict_us, torch_us, ratio, TARGET))
  else
    print(("%s: model(x) %.1f us, predict %.1f us (PyTorch: %s)"):format(spec.name, call_us, predict_us, why))
  end
  harness.result("predict", o.threads, fields)
end
