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
package.path = "scripts/experiments/?.lua;" .. package.path
local lurn = require "lurn"
local json = require "lurn.models.json"

local lesson = {}

local function parse(args)
  local opts = {mode = "quick", out = "out", seed = 42}
  local i = 1
  while args[i] do
    local a = args[i]
    if a == "--tiny" or a == "--quick" or a == "--full" then
      opts.mode = a:sub(3)
    elseif a == "--out" and args[i + 1] then
      opts.out, i = args[i + 1], i + 1
    elseif a == "--seed" and math.tointeger(tonumber(args[i + 1])) then
      opts.seed, i = math.tointeger(tonumber(args[i + 1])), i + 1
    else
      error(("unknown argument '%s' (expected --tiny, --quick, --full, --out DIR, --seed N)"):format(a), 0)
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

--- Runs lesson l with options {mode =, out =, seed =}: the section, also written as
-- section.md and results.json in out/<name>/. section.seconds is the wall-clock time
-- (lurn.clock: os.clock would add up the CPU time of every thread).
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
  local section = l.run(ctx)
  if type(section) ~= "table" then error(("lesson %s: run(ctx) returned %s, not a section table"):format(l.name, type(section)), 0) end
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
