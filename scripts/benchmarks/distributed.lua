-- scripts/bench: once (it starts its own mpirun jobs, each choosing its threads per rank)
--- Data-parallel fit over MPI (issue 21): the seeds' CNN trained on Fashion-MNIST under
-- `mpirun -np N build/lurn` on this machine, N = 1, 2, 4 ... up to its cores, each rank on
-- cores / N threads (lurn's default under mpirun), global batch 32. For each N: the time of
-- a step (`batches` steps after 20 untimed, best of `rounds`), the speed-up over N = 1, and
-- the all-reduce's share of a step: the gradient's all-reduce (every trainable value, one
-- flat buffer, as fit sends it) timed alone in the same job, against the step.
-- Then a model of the all-reduce on a real cluster: a ring all-reduce of B bytes over N
-- machines sends and receives 2 (N - 1) / N * B per machine, plus 2 (N - 1) message
-- latencies; at 10 and 100 Gbit/s (latency 20 and 5 us), against this machine's one-process
-- step cut into N shards.
--   build/lurn scripts/benchmarks/distributed.lua [--batches 200] [--rounds 2] [--max_np 16]
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local lurn = lurn or require "lurn"
local harness = require "harness"
local seed_cnn = require "seed_cnn"

local o = harness.options {batches = 200, rounds = 2, seed = 42, reps = 1, warmup = 0, max_np = 16, child = 0}
local d = lurn.distributed

-- One job's figures, run by every rank under mpirun; rank 0 prints them.
if o.child == 1 then
  lurn.set_num_threads("auto")  -- harness.options fixed it; under mpirun: cores / ranks here
  local x_train, y_train = lurn.datasets.fashion_mnist.load_data()
  local n = 32 * (o.batches + 20)
  local x = x_train:narrow(1, 1, n):contiguous():div(255):reshape(n, 28, 28, 1)
  local y = y_train:narrow(1, 1, n):contiguous()
  local best = math.huge
  local model
  for _ = 1, o.rounds do
    local seconds
    seconds, model = harness.fit_seconds(seed_cnn, x, y, o.batches, o.seed, d.barrier)
    best = math.min(best, seconds / o.batches)
  end
  local values = 0
  for _, w in ipairs(model.trainable_weights) do values = values + w:numel() end
  local flat = lurn.zeros(values)
  local times = {}
  for i = 1, 51 do
    d.barrier()
    local t = lurn.clock()
    d.allreduce(flat)
    times[i] = lurn.clock() - t
  end
  table.sort(times)
  if d.is_main() then
    print(("figures np=%d threads=%d step_s=%.6f allreduce_s=%.6f values=%d"):format(d.size(),
      lurn.get_num_threads(), best, times[26], values))
  end
  return
end

local cores = tonumber(io.popen("nproc"):read("l")) or 1
local env = "OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1 "
  .. "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
local function job(np)
  local cmd = ("env -u OMP_NUM_THREADS -u OPENBLAS_NUM_THREADS %s mpirun --bind-to none -np %d %q %q "
    .. "--batches %d --rounds %d --seed %d --child 1 2>&1"):format(env, np, harness.build .. "/lurn", arg[0],
    o.batches, o.rounds, o.seed)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  local fig = {}
  for k, v in (out:match("figures ([^\n]*)") or ""):gmatch("([%w_]+)=(%S+)") do fig[k] = tonumber(v) end
  if not fig.step_s then error("the job with " .. np .. " processes failed:\n" .. cmd .. "\n" .. out) end
  return fig
end

if not d.built() then
  print("distributed: lurn was built without MPI (libopenmpi-dev): nothing to measure")
  return
end
local base
local np = 1
while np <= math.min(cores, o.max_np) do
  local fig = job(np)
  base = base or fig
  local speedup = base.step_s / fig.step_s
  print(("mpirun -np %d (%d thread%s each): %.2f ms a step of 32, %.2fx of one process; all-reduce of %d values "
    .. "(%.0f KB) %.3f ms, %.1f%% of the step"):format(np, fig.threads, fig.threads == 1 and "" or "s",
    fig.step_s * 1e3, speedup, fig.values, fig.values * 4 / 1024, fig.allreduce_s * 1e3,
    100 * fig.allreduce_s / fig.step_s))
  harness.result("distributed", fig.threads, {{"np", np}, {"step_ms", fig.step_s * 1e3}, {"speedup", speedup},
    {"allreduce_ms", fig.allreduce_s * 1e3}, {"allreduce_share", fig.allreduce_s / fig.step_s},
    {"values", fig.values}})
  np = np * 2
end

-- The model: N machines like this one, each a shard of the global batch of 32.
local bytes = base.values * 4
print(("\nA ring all-reduce of the seeds' CNN's gradient (%d values, %.0f KB) over N machines, against "
  .. "this machine's step (%.2f ms at %d threads) cut into N shards:"):format(base.values, bytes / 1024,
  base.step_s * 1e3, base.threads))
for _, net in ipairs{{name = "10 Gbit/s", bytes_s = 10e9 / 8, latency = 20e-6},
                     {name = "100 Gbit/s", bytes_s = 100e9 / 8, latency = 5e-6}} do
  for _, n in ipairs{2, 4, 8, 16} do
    local ring = 2 * (n - 1) / n * bytes / net.bytes_s + 2 * (n - 1) * net.latency
    local compute = base.step_s / n
    print(("  %-10s N = %2d: all-reduce %.3f ms, compute %.3f ms, all-reduce %.0f%% of the step, "
      .. "speed-up %.1fx"):format(net.name, n, ring * 1e3, compute * 1e3, 100 * ring / (ring + compute),
      base.step_s / (ring + compute)))
  end
end
