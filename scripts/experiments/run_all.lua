--- Runs the bundled lessons of issue 18 and writes the report: OUT/report.md and
-- OUT/report.html (self-contained), each lesson's results in OUT/<name>/.
--   build/lurn scripts/experiments/run_all.lua [--tiny | --quick | --full] [--only a,b]
--                                              [--out DIR] [--seed N] [--doctor]
--   build/lurn scripts/experiments/run_all.lua --list    the lessons' short names, in order
-- Run from the repository root (scripts/run does). Each lesson is
-- scripts/experiments/<name>.lua, loaded with LESSON_LOADING set (lesson.lua); a missing
-- file is reported as missing, a lesson that fails gets a section with its error and the
-- run goes on. Progress on stderr. Exit status 1 when a lesson failed (the report is
-- written all the same), 2 on bad arguments. --doctor runs only the lessons' doctor cases
-- (lesson.lua): their tables and the report's summary of them.
-- Under `mpirun -np N build/lurn scripts/experiments/run_all.lua ...` lesson k runs on rank
-- (k - 1) % N and rank 0 writes the report (docs/distributed.md, "The lessons' report").
package.path = "scripts/experiments/?.lua;" .. package.path
local lurn = require "lurn"
local lesson = require "lesson"
local report = require "report"

-- The lessons, in the issue's order, with the titles shown for a lesson not written yet.
local LESSONS = {
  {"scaling", "Feature scaling"}, {"time_series", "Time series: scaling a recurrent model's input"},
  {"encoding", "Encoding categories"}, {"tokenization", "Tokenization: one vectorizer or two"},
  {"lr_sweep", "Learning-rate sweep and range test"}, {"optimizers", "Optimizers"},
  {"capacity", "Capacity and architecture"}, {"initialization", "Initialization"},
  {"dying_relu", "Dying ReLU"}, {"saturation", "Saturation and vanishing gradients"},
  {"overfitting", "Overfitting and regularization"}, {"early_stopping", "Early stopping"},
  {"imbalance", "Class imbalance"}, {"augmentation", "Data augmentation"}, {"batch_size", "Batch size"},
  {"lr_schedule", "Learning-rate schedules"}, {"label_noise", "Label noise"},
  {"class_coverage", "Class coverage of the splits"},
}

local function usage(msg)
  io.stderr:write("run_all: " .. msg .. "\nusage: build/lurn scripts/experiments/run_all.lua [--tiny | --quick | --full]"
    .. " [--only NAME,NAME] [--out DIR] [--seed N] [--doctor] | --list\n")
  os.exit(2)
end

local function parse(args)
  local opts = {mode = "quick", out = "out", seed = 42}
  local i = 1
  while args[i] do
    local a = args[i]
    if a == "--tiny" or a == "--quick" or a == "--full" then
      opts.mode = a:sub(3)
    elseif a == "--out" and args[i + 1] then
      opts.out, i = args[i + 1], i + 1
    elseif a == "--only" and args[i + 1] then
      opts.only, i = {}, i + 1
      for name in args[i]:gmatch("[^,%s]+") do opts.only[name] = true end
    elseif a == "--list" then
      opts.list = true
    elseif a == "--doctor" then
      opts.doctor_only = true
    elseif a == "--seed" and math.tointeger(tonumber(args[i + 1])) then
      opts.seed, i = math.tointeger(tonumber(args[i + 1])), i + 1
    else
      usage(("unknown argument '%s'"):format(a))
    end
    i = i + 1
  end
  if opts.only then
    local known = {}
    for _, l in ipairs(LESSONS) do known[l[1]] = true end
    for name in pairs(opts.only) do
      if not known[name] then
        local names = {}
        for _, l in ipairs(LESSONS) do names[#names + 1] = l[1] end
        usage(("no lesson '%s' (the lessons: %s)"):format(name, table.concat(names, ", ")))
      end
    end
  end
  return opts
end

local function shell(cmd)
  local p = io.popen(cmd .. " 2>/dev/null")
  if not p then return nil end
  local out = p:read("a")
  p:close()
  return out and out:match("^%s*(.-)%s*$")
end

-- "N cores (nproc), CPU model, lurn threads T"
local function machine()
  local cpu
  local f = io.open("/proc/cpuinfo")
  if f then
    for line in f:lines() do
      cpu = line:match("^model name%s*:%s*(.-)%s*$")
      if cpu then break end
    end
    f:close()
  end
  return ("%s core(s) (nproc), %s, %d lurn thread(s), host %s"):format(shell("nproc") or "?", cpu or "CPU model unknown",
    lurn.get_num_threads(), shell("uname -n") or "?")
end

local function command_line(args)
  local words = {arg and arg[0] or "scripts/experiments/run_all.lua"}
  for _, a in ipairs(args) do words[#words + 1] = a:find("[^%w%-_./,=]") and ("'" .. a:gsub("'", "'\\''") .. "'") or a end
  return os.getenv("LURN_RUN_COMMAND") or ("build/lurn " .. table.concat(words, " "))
end

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

-- The error of a failed lesson: the message and where it came from.
local function traceback(e)
  return debug.traceback(tostring(e), 2)
end

local function run_one(name, title, opts)
  local path = "scripts/experiments/" .. name .. ".lua"
  if not exists(path) then return {name = name, title = title, status = "missing"} end
  local started = lurn.clock()
  LESSON_LOADING = true
  local ok, l = xpcall(dofile, traceback, path)
  LESSON_LOADING = nil
  if ok and (type(l) ~= "table" or type(l.run) ~= "function") then
    ok, l = false, ("%s did not return a lesson (it must end with `return lesson.main{...}`)"):format(path)
  elseif ok and l.name ~= name then
    ok, l = false, ("%s returned the lesson '%s': a lesson's name is its file's"):format(path, tostring(l.name))
  end
  if not ok then return {name = name, title = title, status = "error", error = l, seconds = lurn.clock() - started} end
  local threads, mode = lurn.get_num_threads()
  local ran, section = xpcall(lesson.run, traceback, l, {mode = opts.mode, out = opts.out, seed = opts.seed,
                                                          doctor_only = opts.doctor_only})
  lurn.set_num_threads(mode == "auto" and "auto" or threads)  -- a lesson may pin the thread count for its numbers
  if not ran then
    return {name = name, title = l.title or title, status = "error", error = section, seconds = lurn.clock() - started}
  end
  return {name = name, title = l.title or title, status = "ok", section = section, seconds = section.seconds}
end

-- Lesson k of n run and its progress told on stderr -> its entry.
local function run_entry(k, n, l, opts, started)
  local name, title = l[1], l[2]
  io.stderr:write(("[%d/%d] %s (%s mode), %s elapsed\n"):format(k, n, name, opts.mode,
    report.seconds_text(lurn.clock() - started)))
  local e = run_one(name, title, opts)
  if e.status == "missing" then
    io.stderr:write(("[%d/%d] %s: no scripts/experiments/%s.lua yet (reported as missing)\n"):format(k, n, name, name))
  elseif e.status == "error" then
    io.stderr:write(("[%d/%d] %s FAILED after %s:\n%s\n"):format(k, n, name, report.seconds_text(e.seconds), e.error))
  else
    io.stderr:write(("[%d/%d] %s done in %s\n"):format(k, n, name, report.seconds_text(e.seconds)))
  end
  return e
end

-- The files a lesson wrote into its folder (section.md, results.json, plots), as
-- {path =, bytes =} each, for rank 0 to write where the lesson ran on another machine.
local function folder_files(dir)
  local list = {}
  local p = io.popen("find '" .. dir:gsub("'", "'\\''") .. "' -type f 2>/dev/null")
  for path in p:lines() do
    local f = io.open(path, "rb")
    if f then
      list[#list + 1] = {path = path, bytes = f:read("a")}
      f:close()
    end
  end
  p:close()
  return list
end

local function write_files(files)
  for _, file in ipairs(files or {}) do
    lesson.mkdir(file.path:match("^(.*)/[^/]*$") or ".")
    local f = assert(io.open(file.path, "wb"))
    f:write(file.bytes)
    f:close()
  end
end

-- Under mpirun: lesson k on rank (k - 1) % N, its fits on that rank alone (each lesson is
-- independent); rank 0 gets every entry, with the files of the lessons run elsewhere,
-- and writes them (the ranks may be on other machines, with other disks); the other
-- ranks get nil.
local function spread(chosen, opts, started)
  local entries = lurn.distributed.map(chosen, function(l, k)
    local e = run_entry(k, #chosen, l, opts, started)
    if not lurn.distributed.is_main() then e.files = folder_files(opts.out .. "/" .. l[1]) end
    return e
  end)
  for _, e in ipairs(entries or {}) do
    write_files(e.files)
    e.files = nil
  end
  return entries
end

local function main(args)
  local opts = parse(args)
  if opts.list then
    for _, l in ipairs(LESSONS) do print(l[1]) end
    return true
  end
  lesson.mkdir(opts.out)
  local chosen = {}
  for _, l in ipairs(LESSONS) do
    if not opts.only or opts.only[l[1]] then chosen[#chosen + 1] = l end
  end
  local started = lurn.clock()
  local entries = {}
  if lurn.distributed.size() > 1 then
    entries = spread(chosen, opts, started)
    if not entries then return true end  -- not rank 0: rank 0 writes the report
  else
    for k, l in ipairs(chosen) do entries[k] = run_entry(k, #chosen, l, opts, started) end
  end
  local failed = 0
  for _, e in ipairs(entries) do
    if e.status == "error" then failed = failed + 1 end
  end
  local info = {mode = opts.mode, out = opts.out, command = command_line(args), date = os.date("%Y-%m-%d %H:%M:%S %Z"),
                machine = machine(), seconds = lurn.clock() - started}
  if lurn.distributed.size() > 1 then
    info.machine = ("%s; %d ranks (mpirun; lesson k on rank (k - 1) %% %d)"):format(info.machine,
      lurn.distributed.size(), lurn.distributed.size())
  end
  report.write(entries, info)
  io.stderr:write(("report: %s/report.html and %s/report.md (%d lesson(s) run, %d failed, %d missing; %s)\n"):format(
    opts.out, opts.out, info.counts.ok, info.counts.error, info.counts.missing, report.seconds_text(info.seconds)))
  return failed == 0
end

if not main(arg or {}) then os.exit(1) end
