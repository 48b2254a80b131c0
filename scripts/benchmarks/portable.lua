--- Portable builds (issue 20): the seeds' MLP and CNN trained on Fashion-MNIST by the
-- default build (plain `cmake`, what LuaRocks and a packager build, kernels chosen at run
-- time) and by a -march=native build of the same source. Target: the default build within
-- 5% of the native one on every model at every thread count run.
--   build/lurn scripts/benchmarks/portable.lua --threads T [--batches B] [--rounds 3] [--model mlp|cnn]
-- The native build's lurn is $LURN_NATIVE_LURN (scripts/bench builds it in build-native/);
-- without it this prints the default build's figures alone. The two take turns, round by
-- round, each keeping its best; a figure is the time of `batches` training batches of 32
-- after 20 untimed (by default 1500 for the MLP, 300 for the CNN: about 0.4 s and 3 s at
-- one thread; 300 of the MLP's, 0.08 s, left the two builds' ratio to the noise, 1.00-1.07).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local lurn = lurn or require "lurn"
local harness = require "harness"
local seed_cnn = require "seed_cnn"
local seed_mlp = require "seed_mlp"

local o = harness.options {batches = 0, rounds = 3, seed = 42, reps = 1, warmup = 0, model = "both", child = 0}
local BATCHES = {mlp = 1500, cnn = 300}  -- when --batches is not given
local x_train, y_train = lurn.datasets.fashion_mnist.load_data()
local n = math.min(x_train:size(1), 32 * (math.max(o.batches, BATCHES.mlp, BATCHES.cnn) + 20))
local images = x_train:narrow(1, 1, n):contiguous():div(255)
local labels = y_train:narrow(1, 1, n):contiguous()

local MODELS = {mlp = {build = seed_mlp, x = images:reshape(n, 784)}, cnn = {build = seed_cnn, x = images:reshape(n, 28, 28, 1)}}

local function batches(name)
  return o.batches > 0 and o.batches or BATCHES[name]
end

local function train_seconds(name)
  return (harness.fit_seconds(MODELS[name].build, MODELS[name].x, labels, batches(name), o.seed))
end

-- A round in the native build: this script again, one model, one round, its seconds on stdout.
if o.child == 1 then
  print(("seconds %.6f"):format(train_seconds(o.model)))
  return
end

local native = os.getenv("LURN_NATIVE_LURN")
if native == "" then native = nil end
local function native_seconds(name)
  local cmd = ("OMP_NUM_THREADS=%d OPENBLAS_NUM_THREADS=%d %q %q --threads %d --batches %d --seed %d --model %s --child 1")
    :format(o.threads, o.threads, native, arg[0], o.threads, batches(name), o.seed, name)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return tonumber(out:match("seconds (%S+)")) or error("the native build's run failed: " .. cmd .. "\n" .. out)
end

for _, name in ipairs(o.model == "both" and {"mlp", "cnn"} or {o.model}) do
  local best, best_native = math.huge, math.huge
  for _ = 1, o.rounds do
    best = math.min(best, train_seconds(name))
    if native then best_native = math.min(best_native, native_seconds(name)) end
  end
  local fields = {{"model", name}, {"batches", batches(name)}, {"default_s", best}}
  if native then
    local ratio = best / best_native
    print(("%s, %d threads, %d batches: default build %.3f s, native build %.3f s: %.3f of native (target <= 1.05)")
      :format(name, o.threads, batches(name), best, best_native, ratio))
    for _, f in ipairs{{"native_s", best_native}, {"ratio", ratio}, {"verdict", ratio <= 1.05 and "PASS" or "FAIL"}} do
      fields[#fields + 1] = f
    end
  else
    print(("%s, %d threads, %d batches: default build %.3f s (no native build: set LURN_NATIVE_LURN)")
      :format(name, o.threads, batches(name), best))
  end
  harness.result("portable", o.threads, fields)
end
