--- A busy machine (issue 20): the seeds' MLP and CNN trained on Fashion-MNIST and a single
-- prediction, on a quiet machine and with one core held by another program (a spinning
-- process this benchmark starts and stops), at one thread and at lurn's default thread
-- count (automatic: lurn_threads_adapt gives its pool the cores other programs leave).
-- Targets: busy, the default never slower than one thread (training); a single prediction
-- busy within 1.5 times its quiet latency; quiet, the default uses every core (its time at
-- most one thread's).
--   build/lurn scripts/benchmarks/busy.lua [--batches 300] [--rounds 2] [--seed 42]
-- A figure is the time of `batches` training batches of 32 (after 20 untimed), the best of
-- `rounds`; the prediction's, the median of 2000 calls of model(x) on one image.
-- scripts/bench: once (it chooses its own thread counts)
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local lurn = lurn or require "lurn"
local harness = require "harness"
local seed_cnn = require "seed_cnn"
local seed_mlp = require "seed_mlp"

local o = harness.options {batches = 300, rounds = 2, seed = 42, reps = 1, warmup = 0}
lurn.set_num_threads("auto")  -- harness.options fixed it
local x_train, y_train = lurn.datasets.fashion_mnist.load_data()
local n = math.min(x_train:size(1), 32 * (o.batches + 20))
local images = x_train:narrow(1, 1, n):contiguous():div(255)
local labels = y_train:narrow(1, 1, n):contiguous()

local MODELS = {
  {name = "mlp", build = seed_mlp, x = images:reshape(n, 784)},
  {name = "cnn", build = seed_cnn, x = images:reshape(n, 28, 28, 1)},
}

local function train_seconds(spec, threads)
  lurn.set_num_threads(threads)
  return harness.fit_seconds(spec.build, spec.x, labels, (n - 640) // 32, o.seed)
end

local function predict_us(model, x)
  local times = {}
  for i = 1, 2000 do
    local t = lurn.clock()
    model(x)
    times[i] = lurn.clock() - t
  end
  table.sort(times)
  return times[1000] * 1e6
end

-- the other program: a shell loop on one core, until stopped
local function spin()
  local p = assert(io.popen("sh -c 'echo $$; exec sh -c \"while :; do :; done\"' 2>/dev/null"))
  local pid = p:read("l")
  return function() os.execute("kill " .. pid .. " 2>/dev/null"); p:close() end
end

lurn.set_num_threads("auto")
local cores = lurn.get_num_threads()  -- the default on a quiet machine
for _, spec in ipairs(MODELS) do
  local fig = {}
  for _, state in ipairs{"quiet", "busy"} do
    local stop = state == "busy" and spin() or nil
    if stop then lurn.clock(); os.execute("sleep 0.3") end
    -- busy, also every core fixed (what the default did before it followed the load)
    local counts = state == "busy" and {1, "auto", cores} or {1, "auto"}
    for _, threads in ipairs(counts) do
      local best, model = math.huge, nil
      for _ = 1, o.rounds do
        local s, m = train_seconds(spec, threads)
        if s < best then best, model = s, m end
      end
      fig[state .. "_" .. threads] = best
      if threads == "auto" then fig[state .. "_predict"] = predict_us(model, spec.x:narrow(1, 1, 1)) end
    end
    if stop then stop() end
    lurn.set_num_threads("auto")
  end
  local busy_ok = fig.busy_auto <= fig.busy_1 * 1.05  -- 5%: the rounds' noise on this VM
  local predict_ok = fig.busy_predict <= 1.5 * fig.quiet_predict
  local quiet_ok = fig.quiet_auto <= fig.quiet_1 * 1.05
  print(("%s: %d batches, quiet: 1 thread %.3f s, default %.3f s; busy: 1 thread %.3f s, default %.3f s "
    .. "(%.2f of one thread; %d fixed: %.3f s); model(x) quiet %.1f us, busy %.1f us (%.2fx)"):format(spec.name,
    o.batches, fig.quiet_1, fig.quiet_auto, fig.busy_1, fig.busy_auto, fig.busy_auto / fig.busy_1, cores,
    fig["busy_" .. cores], fig.quiet_predict, fig.busy_predict, fig.busy_predict / fig.quiet_predict))
  harness.result("busy", "auto", {{"model", spec.name}, {"batches", o.batches}, {"quiet_1_s", fig.quiet_1},
    {"quiet_default_s", fig.quiet_auto}, {"busy_1_s", fig.busy_1}, {"busy_default_s", fig.busy_auto},
    {"busy_ratio", fig.busy_auto / fig.busy_1}, {"busy_all_cores_fixed_s", fig["busy_" .. cores]}, {"predict_quiet_us", fig.quiet_predict},
    {"predict_busy_us", fig.busy_predict}, {"verdict", (busy_ok and predict_ok and quiet_ok) and "PASS" or "FAIL"}})
end
