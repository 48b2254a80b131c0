--- The frame every lesson in scripts/experiments/ shares (issue 18): its arguments, the
-- sizes of its mode, its output folder, and the section it returns for the report.
--
-- A lesson file ends with
--   return lesson.main{name = "scaling", title = "Feature scaling", run = function(ctx) ... end}
-- Run alone (build/lurn scripts/experiments/scaling.lua [--tiny|--quick|--full] [--out DIR]
-- [--seed N]) it runs and writes DIR/<name>/: section.md, results.json and the plots.
-- Loaded by the runner (run_all.lua sets LESSON_LOADING before dofile), it returns the
-- lesson table {name =, title =, run =} without running it.
--
-- run(ctx) gets ctx = {name =, mode = "tiny" | "quick" | "full", out = the lesson's folder
-- (made), seed =, pick = function(sizes) return sizes[mode] end, log = function(fmt, ...)
-- (progress on stderr)} and returns a section:
--   {compared = Markdown: what was compared and why,
--    tables = {{caption =, header = {...}, rows = {{...}, ...}}, ...},
--    plots = {{file = path under ctx.out, caption =}, ...},  (file relative to ctx.out, or
--      ctx.out .. "/NAME" as lurn.experiments' result.plots give it: lesson.run makes it relative)
--    conclusion = Markdown computed from the numbers (never a canned sentence),
--    results = plain data (numbers, strings, lists) for results.json}
-- Modes: tiny (seconds: the specs), quick (scripts/run: all lessons in under 10 minutes on
-- 2 cores), full (the complete sizes).
--
-- A lesson that shows a fault and its fix also gives the doctor (lurn.doctor, issue 19)
-- its configurations as cases, built from the lesson's own data and builders:
--   doctor = function(ctx) return {config, ...} end     (ctx.doctor = lesson.DOCTOR[mode])
--   config = {name =, build = function() return model, x, y, {validation_data =,
--             batch_size =, class_weight =} end,
--             expect = CODE (a broken one: the code the doctor should give; neither expect
--               nor fixed: a fault that is no doctor code) | fixed = true (the fix: no
--               warning or error expected),
--             data_only = true (check_data rather than diagnose), epochs =, seconds =
--               (the probe's, where a fault takes longer to show than lesson.DOCTOR's)}
-- lesson.run puts the doctor on each and adds the table to the section (section.doctor
-- holds its rows, for the report's summary); --doctor runs only that part.
package.path = "scripts/experiments/?.lua;" .. package.path
local lurn = require "lurn"
local json = require "lurn.models.json"

local SEVERITY_RANK = {error = 1, warning = 2, info = 3}
local function rank(s) return SEVERITY_RANK[s] or 4 end

local lesson = {}

local function parse(args)
  local opts = {mode = "quick", out = "out", seed = 42}
  local i = 1
  while args[i] do
    local a = args[i]
    if a == "--tiny" or a == "--quick" or a == "--full" then
      opts.mode = a:sub(3)
    elseif a == "--doctor" then
      opts.doctor_only = true
    elseif a == "--out" and args[i + 1] then
      opts.out, i = args[i + 1], i + 1
    elseif a == "--seed" and math.tointeger(tonumber(args[i + 1])) then
      opts.seed, i = math.tointeger(tonumber(args[i + 1])), i + 1
    else
      error(("unknown argument '%s' (expected --tiny, --quick, --full, --doctor, --out DIR, --seed N)"):format(a), 0)
    end
    i = i + 1
  end
  return opts
end

--- mkdir -p, through the shell (paths come from the runner or the command line).
function lesson.mkdir(dir)
  local ok = os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "'")
  if not ok then error("cannot make the folder " .. dir, 0) end
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

--- A table cell as text: floats to 4 significant digits.
function lesson.cell_text(v)
  if math.type(v) == "float" then return ("%.4g"):format(v) end
  return tostring(v)
end

local function cell(v)
  return (lesson.cell_text(v):gsub("|", "\\|"))
end

--- A table as Markdown.
function lesson.markdown_table(t)
  local lines = {}
  if t.caption then lines[#lines + 1] = "*" .. t.caption .. "*\n" end
  local head = {}
  for i, h in ipairs(t.header) do head[i] = cell(h) end
  lines[#lines + 1] = "| " .. table.concat(head, " | ") .. " |"
  lines[#lines + 1] = "|" .. string.rep(" --- |", #t.header)
  for _, row in ipairs(t.rows) do
    local cells = {}
    for i = 1, #t.header do cells[i] = cell(row[i] == nil and "" or row[i]) end
    lines[#lines + 1] = "| " .. table.concat(cells, " | ") .. " |"
  end
  return table.concat(lines, "\n")
end

--- The section as Markdown (plots as images relative to the lesson's folder).
function lesson.section_markdown(l, section)
  local parts = {("## %s\n"):format(l.title)}
  if section.compared then parts[#parts + 1] = section.compared .. "\n" end
  for _, t in ipairs(section.tables or {}) do parts[#parts + 1] = lesson.markdown_table(t) .. "\n" end
  for _, p in ipairs(section.plots or {}) do
    parts[#parts + 1] = ("![%s](%s)\n"):format(p.caption or p.file, p.file)
  end
  if section.conclusion then parts[#parts + 1] = "**Conclusion.** " .. section.conclusion .. "\n" end
  return table.concat(parts, "\n")
end

--- A plot's file relative to the lesson's folder `dir` (the file as given when it lies
-- elsewhere).
function lesson.relative(dir, file)
  file = tostring(file)
  local prefix = dir:gsub("/+$", "") .. "/"
  if file:sub(1, #prefix) == prefix then return file:sub(#prefix + 1) end
  return file
end

-- The doctor's budget per configuration and mode: diagnose's epochs and budget_seconds
-- (its probe stops at 60% of the budget; the rate runs after it are at most 200 steps),
-- and the training and validation rows a lesson on Fashion-MNIST gives it (ctx.doctor).
lesson.DOCTOR = {tiny = {epochs = 1, seconds = 0.3, train = 300, val = 100},
                 quick = {epochs = 10, seconds = 2, train = 2000, val = 500},
                 full = {epochs = 10, seconds = 10, train = 8000, val = 2000}}

-- The codes of a report, most severe first, each once: "dead_relu (warning)", "code
-- (error) x3" when several layers have it.
local function found_text(report)
  local list, seen = {}, {}
  for _, f in ipairs(report:sorted()) do
    local key = f.code .. " (" .. f.severity .. ")"
    if not seen[key] then
      list[#list + 1] = key
      seen[key] = 0
    end
    seen[key] = seen[key] + 1
  end
  for i, key in ipairs(list) do
    if seen[key] > 1 then list[i] = ("%s x%d"):format(key, seen[key]) end
  end
  return #list > 0 and table.concat(list, ", ") or "nothing"
end

local function alarms(report)
  for _, f in ipairs(report.findings) do
    if f.severity == "error" or f.severity == "warning" then return true end
  end
  return false
end

-- One configuration through the doctor -> {name =, expect =, fixed =, by =, found =,
-- codes = {code = severity}, verdict =, seconds =}.
local function doctor_case(c, ctx, budget)
  local row = {name = c.name, expect = c.expect, fixed = c.fixed or false,
               by = c.data_only and "check_data" or "diagnose", codes = {}}
  local started = lurn.clock()
  lurn.manual_seed(ctx.seed)
  local ok, report = pcall(function()
    local model, x, y, o = c.build()
    o = o or {}
    if c.data_only then
      return lurn.doctor.check_data(x, y, {validation_data = o.validation_data, class_weight = o.class_weight,
                                           model = model})
    end
    return lurn.doctor.diagnose(model, x, y, {validation_data = o.validation_data, batch_size = o.batch_size,
                                              class_weight = o.class_weight,
                                              epochs = ctx.mode ~= "tiny" and c.epochs or budget.epochs,
                                              budget_seconds = ctx.mode ~= "tiny" and c.seconds or budget.seconds,
                                              seed = ctx.seed})
  end)
  row.seconds = lurn.clock() - started
  if not ok then
    row.found, row.verdict = "the doctor failed: " .. tostring(report):gsub("\n.*", ""), "failed"
    return row
  end
  for _, f in ipairs(report.findings) do
    if not row.codes[f.code] or rank(f.severity) < rank(row.codes[f.code]) then row.codes[f.code] = f.severity end
  end
  row.found = found_text(report)
  if c.fixed then
    row.verdict = alarms(report) and "false alarm" or "clean"
  elseif c.expect then
    row.verdict = report:has(c.expect) and "found" or "missed"
  else
    row.verdict = "no code expected"
  end
  return row
end

--- Runs the doctor on the configurations l.doctor(ctx) gives -> the rows (doctor_case's)
-- and the section's table.
function lesson.doctor(l, ctx)
  local budget = lesson.DOCTOR[ctx.mode] or lesson.DOCTOR.quick
  ctx.doctor = budget
  local rows, cells = {}, {}
  lurn.manual_seed(ctx.seed)
  for _, c in ipairs(l.doctor(ctx)) do
    ctx.log("doctor: %s", c.name)
    local row = doctor_case(c, ctx, budget)
    rows[#rows + 1] = row
    cells[#cells + 1] = {c.name, row.fixed and "none (the fix)" or row.expect or "none (not a doctor code)", row.by,
                         row.found, row.verdict, ("%.2f s"):format(row.seconds)}
  end
  local t = {caption = ("The doctor on this lesson's broken and fixed configurations (lurn.doctor; diagnose's probe: "
                        .. "%d epoch(s) or %g s each, unless a configuration asks more). A broken one is found when "
                        .. "its code is in the report "
                        .. "(any severity); a fixed one is clean when nothing is a warning or an error%s"):format(
                        budget.epochs, budget.seconds, ctx.mode == "tiny"
                          and ". Tiny mode: a few hundred rows and one epoch, too little for the verdicts to mean "
                            .. "anything (run --quick)" or ""),
             header = {"configuration", "expected code", "checked by", "the doctor found", "verdict", "time"},
             rows = cells, doctor = true}
  return rows, t
end

--- Runs lesson l with options {mode =, out =, seed =, doctor_only =}: the section, also
-- written as section.md and results.json in out/<name>/. section.seconds is the
-- wall-clock time (lurn.clock: os.clock would add up the CPU time of every thread).
function lesson.run(l, opts)
  local dir = opts.out .. "/" .. l.name
  lesson.mkdir(dir)
  local started = lurn.clock()
  local ctx = {name = l.name, mode = opts.mode, out = dir, seed = opts.seed}
  function ctx.pick(sizes) return sizes[opts.mode] end
  function ctx.log(fmt, ...)
    io.stderr:write(("[%s] " .. fmt .. "\n"):format(l.name, ...))
  end
  lurn.manual_seed(opts.seed)
  local section
  if opts.doctor_only then
    section = {compared = "The doctor's part of the lesson only (`--doctor`).", tables = {}, plots = {}, results = {}}
  else
    section = l.run(ctx)
  end
  if type(section) ~= "table" then error(("lesson %s: run(ctx) returned %s, not a section table"):format(l.name, type(section)), 0) end
  if l.doctor then
    local threads, mode = lurn.get_num_threads()
    local rows, t = lesson.doctor(l, ctx)
    lurn.set_num_threads(mode == "auto" and "auto" or threads)
    section.tables = section.tables or {}
    section.tables[#section.tables + 1] = t
    section.doctor = rows
    section.results = section.results or {}
    section.results.doctor = rows
  end
  for _, p in ipairs(section.plots or {}) do p.file = lesson.relative(dir, p.file) end
  section.seconds = lurn.clock() - started
  write(dir .. "/section.md", lesson.section_markdown(l, section))
  write(dir .. "/results.json", json.encode({name = l.name, title = l.title, mode = opts.mode,
                                             results = section.results or {}, conclusion = section.conclusion or "",
                                             seconds = section.seconds}))
  return section
end

--- The lesson's last line: runs it when the file is the script, or hands it to the runner.
function lesson.main(l)
  assert(type(l.name) == "string" and type(l.title) == "string" and type(l.run) == "function",
    "lesson.main{name =, title =, run =}")
  if rawget(_G, "LESSON_LOADING") then return l end
  local opts = parse(arg or {})
  local section = lesson.run(l, opts)
  print(("%s: %s (%s mode) -> %s/%s/"):format(l.name, section.conclusion or "", opts.mode, opts.out, l.name))
  return l
end

return lesson
