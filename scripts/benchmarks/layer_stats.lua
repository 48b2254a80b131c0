--- The cost of watching training: one epoch of the seeds' CNN on Fashion-MNIST with
-- lurn.callbacks.LayerStats{every = 100} against the same epoch without it (issue 15:
-- at most 3% more). The two take turns, a fresh model each, and each keeps its best
-- round, so that a moment when something else had the machine costs neither more.
--   build/lurn scripts/benchmarks/layer_stats.lua [--threads T] [--rounds 3]
--       [--train_samples 20000] [--every 100] [--seed 42]
local lurn = lurn or require "lurn"
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local harness = require "harness"

local OVERHEAD_LIMIT = 0.03
local o = harness.options {reps = 1, warmup = 1, rounds = 3, train_samples = 20000, every = 100, seed = 42}

lurn.manual_seed(o.seed)
local x, y = lurn.datasets.fashion_mnist.load_data()
local n = math.min(o.train_samples, x:size(1))
x = x:narrow(1, 1, n):contiguous():reshape(n, 28, 28, 1):div_(255)
y = y:narrow(1, 1, n):contiguous()

local seed_cnn = require "seed_cnn"

local function build()
  local model = seed_cnn()
  model:fit(x:narrow(1, 1, 2000):contiguous(), y:narrow(1, 1, 2000):contiguous(),
            {epochs = o.warmup, batch_size = 32, verbose = 0})
  return model
end

local records
local function epoch(with_stats)
  return function()
    local model = build()
    local cb = with_stats and lurn.callbacks.LayerStats{every = o.every} or nil
    local t = harness.time(function()
      model:fit(x, y, {epochs = 1, batch_size = 32, verbose = 0, callbacks = {cb}})
    end, {warmup = 0, reps = o.reps})
    if cb then records = #cb.records end
    return t.median
  end
end

local best = harness.rounds(o, {{"plain", epoch(false)}, {"stats", epoch(true)}})
local overhead = best.stats / best.plain - 1
local verdict = overhead <= OVERHEAD_LIMIT and "PASS" or "FAIL"
print(string.format("layer_stats: the seeds' CNN, Adam, batch 32, %d samples, %d thread(s)", n, o.threads))
print(string.format("  %-24s %8.3f s/epoch", "fit", best.plain))
print(string.format("  %-24s %8.3f s/epoch  (%d rows recorded)", "fit + LayerStats{every=" .. o.every .. "}",
                    best.stats, records or 0))
print(string.format("  %-24s %+7.2f%%   target <= %.0f%%: %s", "overhead", 100 * overhead, 100 * OVERHEAD_LIMIT,
                    verdict))
harness.result("layer_stats", o.threads, {{"plain_s", best.plain}, {"stats_s", best.stats},
                                          {"overhead", overhead}, {"verdict", verdict}})
