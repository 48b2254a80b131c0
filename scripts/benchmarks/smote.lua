--- lurn.sampling on ROWS x COLS normal samples: the exact k-NN of every row among all the
-- others (lurn.sampling.kneighbors, SMOTE's worst case: one class of ROWS samples), and
-- SMOTE{}:fit_resample on the same x with one row in 10 of class 1 (so SMOTE searches
-- the ROWS / 10 minority samples and makes 0.8 ROWS new ones). The k-NN is a GEMM of
-- ROWS x ROWS x (COLS + 1) plus a selection per row: its throughput is compared with
-- cblas_sgemm's on the blocks it uses (build/bench/sgemm_peak 512 512 COLS+1, the
-- ceiling). When Debian's python3-imblearn is installed, the same two calls in
-- scikit-learn / imbalanced-learn (scripts/benchmarks/imblearn/smote.py; its k-NN is
-- timed once, without warm-up: it takes tens of seconds).
-- Targets: the k-NN at no less than half the ceiling's throughput; SMOTE on 100,000 x 30
-- in under 1 s.
--   build/lurn scripts/benchmarks/smote.lua [--threads T] [--rows 100000] [--cols 30] [--k 5]
--                                           [--reps 3] [--warmup 1] [--rounds 1]
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local lurn = lurn or require "lurn"
local harness = require "harness"

local TARGET_RATIO, TARGET_SMOTE_S = 0.5, 1.0

local o = harness.options {rows = 100000, cols = 30, k = 5, reps = 3, warmup = 1, rounds = 1}
local n, d, k = o.rows, o.cols, o.k

lurn.manual_seed(1)
local x = lurn.randn {n, d}
local labels = {}
for i = 1, n do labels[i] = i % 10 == 0 and 1 or 0 end
local y = lurn.tensor(labels)

local flops = 2 * n * n * (d + 1)
local smote = lurn.sampling.SMOTE {k_neighbors = k, random_state = 0}
local best = harness.rounds(o, {
  {"knn", function() return harness.time(function() return lurn.sampling.kneighbors(x, k) end, o).median end},
  {"smote", function() return harness.time(function() return smote:fit_resample(x, y) end, o).median end},
  {"cblas", function()
    local one = {threads = 1, reps = 51, warmup = 5}  -- a block takes a millisecond
    return harness.sgemm_peak(512, 512, d + 1, one).median_s
  end},
})
local ceiling = o.threads * 2 * 512 * 512 * (d + 1) / best.cblas / 1e9
local knn_gflops = flops / best.knn / 1e9
local ratio = knn_gflops / ceiling
local full = n == 100000 and d == 30
local verdict = ratio >= TARGET_RATIO and (not full or best.smote < TARGET_SMOTE_S) and "PASS" or "FAIL"

print(("smote %d x %d, k = %d, %d thread(s), median of %d calls, best of %d round(s)"):format(n, d, k, o.threads,
  o.reps, o.rounds))
print(("  kneighbors (all %d rows)   %8.3f s  %7.1f GFLOP/s  = %.2f of %d x cblas_sgemm (%.1f GFLOP/s), "
  .. "target >= %.2f"):format(n, best.knn, knn_gflops, ratio, o.threads, ceiling, TARGET_RATIO))
print(("  SMOTE fit_resample (1 in 10) %6.3f s%s"):format(best.smote,
  full and ("   target < %.1f s"):format(TARGET_SMOTE_S) or ""))
print("  verdict: " .. verdict)

local fields = {
  {"rows", n}, {"cols", d}, {"k", k}, {"knn_s", best.knn}, {"knn_gflops", knn_gflops},
  {"cblas_gflops", ceiling}, {"ratio", ratio}, {"smote_s", best.smote}, {"target_ratio", TARGET_RATIO},
  {"target_smote_s", TARGET_SMOTE_S}, {"verdict", verdict},
}

-- The imbalanced-learn twin, when /usr/bin/python3 (or LURN_BENCH_PYTHON) imports imblearn.
local function imblearn_python()
  local env = os.getenv("LURN_BENCH_PYTHON")
  for _, py in ipairs(env and env ~= "" and {env} or {"python3", "/usr/bin/python3"}) do
    if os.execute(py .. " -c 'import imblearn' >/dev/null 2>&1") == true then return py end
  end
end
local py = imblearn_python()
if py then
  local cmd = ("OMP_NUM_THREADS=%d OPENBLAS_NUM_THREADS=%d %s %s/scripts/benchmarks/imblearn/smote.py "
    .. "--threads %d --rows %d --cols %d --k %d --reps %d --warmup %d 2>&1"):format(o.threads, o.threads, py,
    harness.root, o.threads, n, d, k, o.reps, o.warmup)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  local line = out:match("imblearn_smote [^\n]*")
  if line then
    local r = harness.parse(line)
    print(("  scikit-learn kneighbors %8.3f s (lurn %.1fx faster); imbalanced-learn SMOTE %.3f s (lurn %.1fx "
      .. "faster); imblearn %s"):format(r.knn_s, r.knn_s / best.knn, r.smote_s, r.smote_s / best.smote, r.version))
    fields[#fields + 1] = {"sklearn_knn_s", r.knn_s}
    fields[#fields + 1] = {"imblearn_smote_s", r.smote_s}
  else
    print("  imbalanced-learn twin failed: " .. (out:match("([^\n]*)\n?$") or "no output"))
  end
else
  print("  imbalanced-learn skipped: python3-imblearn not installed")
end
harness.result("smote", o.threads, fields)
