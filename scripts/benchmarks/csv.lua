--- lurn.data.read_csv + df:to_tensor() on a numeric CSV of ROWS x COLS random values
-- (6 significant digits, as "%.6g" writes them: about 170 MB for 1,000,000 x 20),
-- written once to /tmp and reused while its size matches. Parsing is libcsv's and
-- runs on one core whatever --threads says.
-- Target: 1,000,000 x 20 read into an (N, 20) tensor in under 2 s.
--   build/lurn scripts/benchmarks/csv.lua [--threads T] [--rows 1000000] [--cols 20]
--                                         [--reps 3] [--warmup 1] [--rounds 1]
--                                         [--file /tmp/lurn_bench_1000000x20.csv]
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local lurn = lurn or require "lurn"
local harness = require "harness"

local TARGET_S = 2.0

local o = harness.options {rows = 1000000, cols = 20, reps = 3, warmup = 1, rounds = 1, file = ""}
local rows, cols = o.rows, o.cols
local file = o.file ~= "" and o.file or ("/tmp/lurn_bench_%dx%d.csv"):format(rows, cols)

local function file_size(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local size = f:seek("end")
  f:close()
  return size
end

-- The values: a pool of 65536 formatted normal draws (mean 0, sd 100), picked at random
-- per field (Lua's own generator, seeded), so that writing the file takes seconds in Lua.
local function write_csv(path)
  lurn.manual_seed(7)
  math.randomseed(7)
  local pool = {}
  for i, v in ipairs((lurn.randn {65536} * 100):totable()) do pool[i] = ("%.6g"):format(v) end
  local f = assert(io.open(path .. ".part", "wb"))
  local names = {}
  for c = 1, cols do names[c] = "x" .. c end
  f:write(table.concat(names, ","), "\n")
  local random, row, lines = math.random, {}, {}
  for _ = 1, rows do
    for c = 1, cols do row[c] = pool[random(65536)] end
    lines[#lines + 1] = table.concat(row, ",")
    if #lines == 1000 then
      f:write(table.concat(lines, "\n"), "\n")
      lines = {}
    end
  end
  if #lines > 0 then f:write(table.concat(lines, "\n"), "\n") end
  f:close()
  assert(os.rename(path .. ".part", path))
end

-- Columns in the header of an existing file (a file of other sizes is written anew).
local function header_columns(path)
  local f = assert(io.open(path, "rb"))
  local header = f:read("l")
  f:close()
  local n = 1
  for _ in header:gmatch(",") do n = n + 1 end
  return n
end

if not file_size(file) or header_columns(file) ~= cols then
  io.write(("writing %s (%d x %d) ... "):format(file, rows, cols))
  io.flush()
  local t0 = lurn.clock()
  write_csv(file)
  print(("%.1f s"):format(lurn.clock() - t0))
end
local bytes = file_size(file)

local df
local function read() df = lurn.data.read_csv(file) end
local function read_and_stack()
  read()
  return df:to_tensor()
end
local best = harness.rounds(o, {
  {"read_csv", function() return harness.time(read, o).median end},
  {"total", function() return harness.time(read_and_stack, o).median end},
})
assert(df:nrows() == rows and df:ncols() == cols,
  ("read %d x %d, expected %d x %d (a stale %s? remove it)"):format(df:nrows(), df:ncols(), rows, cols, file))
local verdict = (rows == 1000000 and cols == 20) and (best.total < TARGET_S and "PASS" or "FAIL") or "n/a"

print(("csv %d x %d (%.1f MB), read_csv + to_tensor (median of %d, best of %d rounds)"):format(rows, cols,
  bytes / 1e6, o.reps, o.rounds))
print(("  read_csv            %8.3f s  %8.0f rows/s  %6.1f MB/s"):format(best.read_csv, rows / best.read_csv,
  bytes / 1e6 / best.read_csv))
print(("  read_csv+to_tensor  %8.3f s  %8.0f rows/s  %6.1f MB/s   target < %.1f s: %s"):format(best.total,
  rows / best.total, bytes / 1e6 / best.total, TARGET_S, verdict))
harness.result("csv", o.threads, {
  {"rows", rows}, {"cols", cols}, {"mb", bytes / 1e6}, {"read_s", best.read_csv}, {"total_s", best.total},
  {"rows_per_s", rows / best.total}, {"mb_per_s", bytes / 1e6 / best.total}, {"target_s", TARGET_S},
  {"verdict", verdict},
})
