--- One training epoch of a multilayer perceptron on Fashion-MNIST with model:fit, as a
-- user writes it (examples/fashion_mnist_mlp.lua), against the same model in PyTorch
-- (scripts/benchmarks/torch/mlp.py) and the machine's cblas_sgemm throughput.
--   --config seed  (benchmark mlp): the seeds' model, 784-256-relu-dropout(0.25)-128-relu-
--                  dropout(0.25)-10-softmax, Adam(0.001), batch 32.
--                  Target: lurn's epoch in at most 0.30 of PyTorch's time.
--   --config wide  (benchmark mlp_wide, scripts/benchmarks/mlp_wide.lua): hidden layers
--                  1024-1024, batch 256. Target: the training step at no less than 60% of
--                  cblas_sgemm's GFLOP/s at its largest product, M=256 N=1024 K=1024.
-- Both: peak memory (VmHWM, the whole run: loading, training, evaluating) at most the
-- float32 size of the data set plus 150 MB.
--
-- A round builds a fresh model, fits `warmup` untimed epochs on the first
-- WARMUP_SAMPLES samples (buffers sized, pages touched), then times `reps` full epochs
-- of 60000 samples, each on its own; the round's figure is their median. lurn,
-- cblas_sgemm and PyTorch (a process per round) take turns for `rounds` rounds and each
-- keeps its best round. The test accuracy is the best round's, after its epochs.
--   build/lurn scripts/benchmarks/mlp.lua [--threads T] [--config seed|wide]
--       [--reps 1] [--warmup 1] [--rounds 3] [--warmup_samples 6400] [--seed 42]
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local lurn = lurn or require "lurn"
local harness = require "harness"
local L = lurn.layers

local CONFIGS = {
  seed = {bench = "mlp", hidden = {256, 128}, batch_size = 32, torch_ratio = 0.30},
  wide = {bench = "mlp_wide", hidden = {1024, 1024}, batch_size = 256, cblas_ratio = 0.60},
}
local MEMORY_SLACK_MB = 150  -- MB = 10^6 bytes, the stricter reading

local o = harness.options {config = "seed", reps = 1, warmup = 1, rounds = 3, warmup_samples = 6400, seed = 42}
local cfg = CONFIGS[o.config]
if not cfg then
  io.stderr:write(arg[0], ": --config takes seed or wide, got ", o.config, "\n")
  os.exit(2)
end
local B, h = cfg.batch_size, cfg.hidden
local widths = {784, h[1], h[2], 10}

-- GEMM floating-point operations of one training step per sample: each Dense in -> out
-- costs 2*in*out forward (x W), 2*in*out for dW (x^T dy) and 2*in*out for dx (dy W^T),
-- except the first layer, whose dx nobody needs:
--   flops = 3 * sum_l 2*in_l*out_l - 2*784*h1     (times the samples of the epoch)
-- Bias, activation, dropout, loss and Adam are not counted.
local flops_per_sample = -2 * widths[1] * widths[2]
for l = 1, #widths - 1 do flops_per_sample = flops_per_sample + 3 * 2 * widths[l] * widths[l + 1] end

--- This process's peak resident memory so far (VmHWM), in MB.
local function peak_memory_mb()
  local f = assert(io.open("/proc/self/status"))
  local status = f:read "a"
  f:close()
  return tonumber(status:match("VmHWM:%s*(%d+) kB")) * 1024 / 1e6
end

lurn.manual_seed(o.seed)
local x_train, y_train, x_test, y_test = lurn.datasets.fashion_mnist.load_data()
-- Scaled in place: `x:reshape(-1, 784) / 255` would keep the unscaled 188 MB of
-- x_train alive beside the scaled copy until the collector runs, and that transient
-- alone would exceed the memory target (docs/benchmarks.md).
x_train = x_train:reshape(-1, 784):div_(255)
x_test = x_test:reshape(-1, 784):div_(255)
local n = x_train:size(1)
local data_mb = (x_train:numel() + y_train:numel() + x_test:numel() + y_test:numel()) * 4 / 1e6
local loaded_mb = peak_memory_mb()
local flops = flops_per_sample * n
local function gflops(seconds) return flops / seconds / 1e9 end
local x_warm = x_train:narrow(1, 1, math.min(o.warmup_samples, n))
local y_warm = y_train:narrow(1, 1, math.min(o.warmup_samples, n))

local function new_model()
  local model = lurn.Sequential {
    L.Dense(h[1], {activation = "relu", input_shape = {784}}),
    L.Dropout(0.25),
    L.Dense(h[2], {activation = "relu"}),
    L.Dropout(0.25),
    L.Dense(10, {activation = "softmax"}),
  }
  model:compile {optimizer = lurn.optimizers.Adam {learning_rate = 0.001},
                 loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
  return model
end

-- The accuracy of each side's best round.
local best_s, accuracy, torch_line, torch_why = {}, {}, nil, nil
local function keep(name, seconds, acc)
  if not best_s[name] or seconds < best_s[name] then best_s[name], accuracy[name] = seconds, acc end
  return seconds
end

local function lurn_round()
  local model = new_model()
  for _ = 1, o.warmup do model:fit(x_warm, y_warm, {epochs = 1, batch_size = B, verbose = 0}) end
  local t = harness.time(function() model:fit(x_train, y_train, {epochs = 1, batch_size = B, verbose = 0}) end,
                         {warmup = 0, reps = o.reps})
  return keep("lurn", t.median, model:evaluate(x_test, y_test, {batch_size = B, verbose = 0}).accuracy)
end

local torch_o = setmetatable({rounds = 1}, {__index = o})
local torch_extra = string.format("--config %s --warmup_samples %d --seed %d", o.config, o.warmup_samples, o.seed)
local function torch_round()
  if torch_why then return math.huge end
  local r, why = harness.torch("mlp", torch_o, torch_extra)
  if not r then
    torch_why = why
    return math.huge
  end
  if not torch_line or r.median_s < torch_line.median_s then torch_line = r end
  return keep("torch", r.median_s, r.test_acc)
end

-- The ceiling: cblas_sgemm at the step's largest product, a forward x W of B x in by
-- in x out (mlp: the first layer, 32 x 784 by 784 x 256; mlp_wide: the second, 256 x
-- 1024 by 1024 x 1024), timed as matmul.lua times it.
local peak_o = {threads = o.threads, reps = 21, warmup = 3}
local pm, pn, pk = B, widths[2], widths[1]
for l = 2, #widths - 1 do
  if widths[l] * widths[l + 1] > pn * pk then pn, pk = widths[l + 1], widths[l] end
end
local runners = {
  {"cblas", function() return harness.sgemm_peak(pm, pn, pk, peak_o).median_s end},
  {"lurn", lurn_round},
  {"torch", torch_round},
}
local best = harness.rounds(o, runners)
local cblas_gflops = 2 * pm * pn * pk / best.cblas / 1e9

-- What the epoch would cost if the step were nothing but its GEMMs: through cblas_sgemm
-- (same shapes, no transposes), and, when lurn has oneDNN, as lurn_sgemm runs them (its
-- transposes; oneDNN's sgemm from 2^19 multiply-adds up, src/kernels/gemm.c): a measure of
-- lurn's time outside the products.
local DNNL_MACS = 2 ^ 19
local dnnl = harness.has_dnnl()
local gemm_step_s, lurn_gemm_step_s = 0, 0
for l = 1, #widths - 1 do
  local i, j = widths[l], widths[l + 1]
  local shapes = {{B, j, i, "0 0"}, {i, j, B, "1 0"}}  -- forward x W; dW = x^T dy
  if l > 1 then shapes[3] = {B, i, j, "0 1"} end      -- dx = dy W^T
  for _, s in ipairs(shapes) do
    gemm_step_s = gemm_step_s + harness.sgemm_peak(s[1], s[2], s[3], peak_o).median_s
    if dnnl then
      local lib = s[1] * s[2] * s[3] >= DNNL_MACS and " --dnnl 1" or ""
      lurn_gemm_step_s = lurn_gemm_step_s + harness.sgemm_peak(s[1], s[2], s[3], peak_o, "--trans " .. s[4] .. lib).median_s
    end
  end
end
local gemm_epoch_s, lurn_gemm_epoch_s = gemm_step_s * n / B, lurn_gemm_step_s * n / B

local peak_mb = peak_memory_mb()
local limit_mb = data_mb + MEMORY_SLACK_MB
local lurn_s = best.lurn
local checks = {}
local function check(name, ok)
  checks[#checks + 1] = {name, ok and "PASS" or "FAIL"}
  return checks[#checks][2]
end

print(string.format("mlp %s: 784-%d-relu-dropout-%d-relu-dropout-10-softmax, Adam, batch %d, %d thread(s)",
                    o.config, h[1], h[2], B, o.threads))
print(string.format("  epochs of %d samples: median of %d after %d warm-up epoch(s) of %d, best of %d round(s)",
                    n, o.reps, o.warmup, x_warm:size(1), o.rounds))
local row = "  %-14s %8.3f s/epoch %9.0f samples/s %8.2f GFLOP/s   test accuracy %.4f"
print(string.format(row, "lurn fit", lurn_s, n / lurn_s, gflops(lurn_s), accuracy.lurn))
local fields = {
  {"config", o.config}, {"batch_size", B}, {"hidden", h[1] .. "-" .. h[2]}, {"epoch_s", lurn_s},
  {"samples_per_s", n / lurn_s}, {"gflops", gflops(lurn_s)}, {"test_acc", accuracy.lurn},
}
if torch_line then
  local ratio = lurn_s / best.torch
  print(string.format(row .. " (torch %s, OMP_WAIT_POLICY=%s)", "PyTorch", best.torch, n / best.torch,
                      gflops(best.torch), accuracy.torch, torch_line.version, torch_line.omp_wait_policy))
  local line = string.format("  %-14s %8.3f of PyTorch's time", "lurn / torch", ratio)
  if cfg.torch_ratio then
    line = line .. string.format("   target <= %.2f: %s", cfg.torch_ratio, check("torch", ratio <= cfg.torch_ratio))
  end
  print(line)
  fields[#fields + 1] = {"torch_epoch_s", best.torch}
  fields[#fields + 1] = {"torch_gflops", gflops(best.torch)}
  fields[#fields + 1] = {"torch_test_acc", accuracy.torch}
  fields[#fields + 1] = {"lurn_torch_time", ratio}
else
  print(string.format("  %-14s skipped: %s", "PyTorch", torch_why))
  if cfg.torch_ratio then print(string.format("  %-14s not measured: target not checked", "lurn / torch")) end
end
local cblas_ratio = gflops(lurn_s) / cblas_gflops
local line = string.format("  %-14s %8.2f GFLOP/s at M=%d N=%d K=%d; lurn at %.3f of it", "cblas_sgemm",
                           cblas_gflops, pm, pn, pk, cblas_ratio)
if cfg.cblas_ratio then
  line = line .. string.format("   target >= %.2f: %s", cfg.cblas_ratio, check("cblas", cblas_ratio >= cfg.cblas_ratio))
end
print(line)
print(string.format("  %-14s %8.3f s/epoch through cblas_sgemm at the step's shapes, %.0f%% of lurn's epoch",
                    "GEMMs alone", gemm_epoch_s, 100 * gemm_epoch_s / lurn_s))
if dnnl then
  print(string.format("  %-14s %8.3f s/epoch as lurn_sgemm runs them (oneDNN from 2^19 multiply-adds), %.0f%% of lurn's epoch",
                      "", lurn_gemm_epoch_s, 100 * lurn_gemm_epoch_s / lurn_s))
end
print(string.format("  %-14s %8.1f MB (%.1f MB once the data were loaded and scaled)%s", "peak memory", peak_mb,
                    loaded_mb, torch_line and string.format("; PyTorch's process %.1f MB", torch_line.peak_rss_mb)
                    or ""))
print(string.format("  %-14s %8.1f MB = the data set as float32 (%.1f MB) + %d MB   peak <= limit: %s", "memory limit",
                    limit_mb, data_mb, MEMORY_SLACK_MB, check("memory", peak_mb <= limit_mb)))

local verdict = "PASS"
for _, c in ipairs(checks) do
  fields[#fields + 1] = {c[1] .. "_verdict", c[2]}
  if c[2] == "FAIL" then verdict = "FAIL" end
end
for _, kv in ipairs {
  {"cblas_gflops", cblas_gflops}, {"cblas_ratio", cblas_ratio}, {"gemm_epoch_s", gemm_epoch_s},
  {"lurn_gemm_epoch_s", dnnl and lurn_gemm_epoch_s or "n/a"},
  {"peak_rss_mb", peak_mb}, {"rss_limit_mb", limit_mb}, {"verdict", verdict},
} do fields[#fields + 1] = kv end
harness.result(cfg.bench, o.threads, fields)
