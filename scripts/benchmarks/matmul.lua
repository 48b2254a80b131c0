--- lurn.matmul(a, b) on two SIZE x SIZE tensors from Lua, against a direct
-- cblas_sgemm call of the same size (build/bench/sgemm_peak, the ceiling) and, when
-- Debian's python3-torch is installed, torch.matmul.
-- Target: lurn at no less than 90% of cblas_sgemm's speed.
--   build/lurn scripts/benchmarks/matmul.lua [--threads T] [--size 1024]
--                                            [--reps 21] [--warmup 3] [--rounds 3]
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local lurn = lurn or require "lurn"
local harness = require "harness"

local TARGET = 0.90

local o = harness.options {size = 1024}
local n = o.size
local flops = 2 * n * n * n
local function gflops(seconds) return flops / seconds / 1e9 end

lurn.manual_seed(1)
local a, b = lurn.randn {n, n}, lurn.randn {n, n}
local best = harness.rounds(o, {
  {"cblas", function() return harness.sgemm_peak(n, n, n, o).median_s end},
  {"lurn", function() return harness.time(function() return lurn.matmul(a, b) end, o).median end},
})
local ratio = best.cblas / best.lurn
local verdict = ratio >= TARGET and "PASS" or "FAIL"

print(string.format("matmul %dx%d @ %dx%d, %d thread(s), median of %d calls, best of %d round(s)", n, n, n,
                    n, o.threads, o.reps, o.rounds))
print(string.format("  lurn.matmul   %8.2f GFLOP/s  %8.3f ms", gflops(best.lurn), best.lurn * 1e3))
print(string.format("  cblas_sgemm   %8.2f GFLOP/s  %8.3f ms", gflops(best.cblas), best.cblas * 1e3))
print(string.format("  lurn / cblas  %8.3f                  target >= %.2f: %s", ratio, TARGET, verdict))

local fields = {
  {"size", n}, {"lurn_gflops", gflops(best.lurn)}, {"cblas_gflops", gflops(best.cblas)},
  {"ratio", ratio}, {"target", TARGET}, {"verdict", verdict},
}
local torch, why = harness.torch("matmul", o, "--size " .. n)
if torch then
  print(string.format("  torch.matmul  %8.2f GFLOP/s  %8.3f ms   lurn / torch %.3f (torch %s)", torch.gflops,
                      torch.median_s * 1e3, torch.median_s / best.lurn, torch.version))
  fields[#fields + 1] = {"torch_gflops", torch.gflops}
  fields[#fields + 1] = {"lurn_torch_ratio", torch.median_s / best.lurn}
else
  print("  torch.matmul  skipped: " .. why)
end
harness.result("matmul", o.threads, fields)
