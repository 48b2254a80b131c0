--- What every benchmark in scripts/benchmarks/ shares: its command line, the timing
-- loop, the ceiling (build/bench/sgemm_peak), the PyTorch twin and the result line.
--
-- A benchmark runs under build/lurn, once per thread count:
--   build/lurn scripts/benchmarks/NAME.lua --threads T [--reps R] [--warmup W] [--rounds N] [own options]
-- and prints, besides its human-readable lines, one line scripts/bench collects:
--   result bench=NAME threads=T key=value ...
--
-- How it measures: `warmup` untimed calls, then `reps` calls each timed on its own,
-- and their median is one round's figure. lurn and its reference (the ceiling,
-- PyTorch) take turns for `rounds` rounds and each keeps its best round, so that a
-- moment when something else had the machine costs neither side more than the other.
local lurn = lurn or require "lurn"

local harness = {}

local here = arg and arg[0] and arg[0]:match("^(.*)/") or "."
harness.root = os.getenv("LURN_ROOT") or (here .. "/../..")
harness.build = os.getenv("LURN_BUILD_DIR") or (harness.root .. "/build")

local function fail(msg)
  io.stderr:write((arg and arg[0] or "benchmark"), ": ", msg, "\n")
  os.exit(2)
end

--- Reads `--name value` pairs from the script's arguments into a copy of defaults
-- (integer defaults take integers), and applies --threads to lurn.
function harness.options(defaults)
  local o = {threads = lurn.get_num_threads(), reps = 21, warmup = 3, rounds = 3}
  for k, v in pairs(defaults or {}) do o[k] = v end
  local i = 1
  while arg[i] do
    local name, value = arg[i]:match("^%-%-([%w_]+)$"), arg[i + 1]
    if not name or o[name] == nil then fail("unknown option " .. arg[i]) end
    if value == nil then fail("option --" .. name .. " needs a value") end
    if math.type(o[name]) == "integer" then
      value = math.tointeger(tonumber(value))
      if not value or value < (name == "warmup" and 0 or 1) then
        fail("--" .. name .. " takes a positive integer")
      end
    end
    o[name] = value
    i = i + 2
  end
  lurn.set_num_threads(o.threads)
  return o
end

local function median(sorted)
  local n = #sorted
  return n % 2 == 1 and sorted[(n + 1) // 2] or (sorted[n // 2] + sorted[n // 2 + 1]) / 2
end

--- One round: times fn() as sgemm_peak times cblas_sgemm, `warmup` calls, then
-- `reps` calls each timed on its own. Garbage is collected once before, never
-- during, so what the calls allocate is paid for inside them, as in a user's loop.
-- Returns {median = s, best = s, mean = s, reps = n}.
function harness.time(fn, o)
  for _ = 1, o.warmup do fn() end
  collectgarbage "collect"
  local clock, t = lurn.clock, {}
  for r = 1, o.reps do
    local t0 = clock()
    fn()
    t[r] = clock() - t0
  end
  local sum = 0
  for _, s in ipairs(t) do sum = sum + s end
  table.sort(t)
  return {median = median(t), best = t[1], mean = sum / #t, reps = #t}
end

--- Runs the measurements in turn, `o.rounds` times: runners is a list of
-- {name, fn}, fn() measuring one round and returning its seconds. Returns
-- name -> the best round's seconds.
function harness.rounds(o, runners)
  local best = {}
  for _ = 1, o.rounds do
    for _, r in ipairs(runners) do
      local s = r[2]()
      if not best[r[1]] or s < best[r[1]] then best[r[1]] = s end
    end
  end
  return best
end

--- key=value pairs of a result line.
function harness.parse(line)
  local r = {}
  for k, v in line:gmatch("([%w_]+)=(%S+)") do r[k] = tonumber(v) or v end
  return r
end

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

--- Runs a command; returns the parsed last line of its output that starts with
-- `prefix`, or nil and the reason.
local function run_for(prefix, cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read "a"
  local ok = p:close()
  local found
  for line in out:gmatch("[^\n]+") do
    if line:sub(1, #prefix + 1) == prefix .. " " then found = line end
  end
  if ok and found then return harness.parse(found) end
  return nil, (out:match("([^\n]*)\n?$") or "no output")
end

--- One round of the measured cblas_sgemm throughput for C(m x n) = A(m x k) B(k x n)
-- at the same thread count and repetitions: {gflops = ..., median_s = ..., ...}.
-- extra: more sgemm_peak options, e.g. "--trans 1 0 --dnnl 1".
function harness.sgemm_peak(m, n, k, o, extra)
  local exe = harness.build .. "/bench/sgemm_peak"
  local cmd = string.format("OPENBLAS_NUM_THREADS=%d OMP_NUM_THREADS=%d %s %d %d %d --threads %d --reps %d --warmup %d %s",
                            o.threads, o.threads, quote(exe), m, n, k, o.threads, o.reps, o.warmup, extra or "")
  local r, why = run_for("sgemm_peak", cmd)
  if not r then fail("sgemm_peak failed: " .. why) end
  return r
end

--- Whether liblurn (and so sgemm_peak) was built with oneDNN, whose sgemm lurn_sgemm
-- uses for all but small products.
function harness.has_dnnl()
  local exe = harness.build .. "/bench/sgemm_peak"
  return os.execute(quote(exe) .. " 8 8 8 --reps 1 --warmup 0 --dnnl 1 >/dev/null 2>&1") == true
end

--- The Python that imports torch (Debian's python3-torch lives in /usr/bin/python3's
-- dist-packages, which a python3 earlier on PATH, pyenv's say, does not see), or nil.
-- scripts/bench looks once and passes LURN_BENCH_PYTHON ("" for none); run alone, a
-- benchmark looks itself.
function harness.python()
  local env = os.getenv("LURN_BENCH_PYTHON")
  if env then return env ~= "" and env or nil end
  for _, py in ipairs {"python3", "/usr/bin/python3"} do
    if os.execute(py .. " -c 'import torch' >/dev/null 2>&1") == true then return py end
  end
  return nil
end

--- Runs the PyTorch twin scripts/benchmarks/torch/NAME.py with the same options and
-- returns its parsed `torch_NAME` line, or nil and why.
function harness.torch(name, o, extra)
  local python = harness.python()
  if not python then return nil, "python3-torch not installed" end
  local py = harness.root .. "/scripts/benchmarks/torch/" .. name .. ".py"
  local cmd = string.format(
      "OMP_NUM_THREADS=%d OPENBLAS_NUM_THREADS=%d %s %s --threads %d --reps %d --warmup %d --rounds %d %s",
      o.threads, o.threads, quote(python), quote(py), o.threads, o.reps, o.warmup, o.rounds, extra or "")
  return run_for("torch_" .. name, cmd)
end

--- Prints the result line: fields is a list of {key, value} pairs, in order.
--- The seconds `batches` training batches of 32 take (the samples of x, y after the first
-- 640, in order) on a model build() makes under `seed`, after an untimed warm-up fit of
-- those first 640 (20 batches); sync, when given, runs just before and just after the timed
-- fit (a barrier across ranks). Returns the seconds and the trained model.
function harness.fit_seconds(build, x, y, batches, seed, sync)
  lurn.manual_seed(seed)
  local model = build()
  model:fit(x:narrow(1, 1, 640), y:narrow(1, 1, 640), {epochs = 1, batch_size = 32, verbose = 0})
  local count = 32 * batches
  local xs, ys = x:narrow(1, 641, count), y:narrow(1, 641, count)
  if sync then sync() end
  local t = lurn.clock()
  model:fit(xs, ys, {epochs = 1, batch_size = 32, verbose = 0, shuffle = false})
  if sync then sync() end
  return lurn.clock() - t, model
end

function harness.result(name, threads, fields)
  local parts = {"result", "bench=" .. name, "threads=" .. threads}
  for _, kv in ipairs(fields) do
    local v = kv[2]
    if math.type(v) == "float" then v = string.format("%.4g", v) end
    parts[#parts + 1] = kv[1] .. "=" .. tostring(v)
  end
  print(table.concat(parts, " "))
end

return harness
