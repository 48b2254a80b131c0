--- The pipe to gnuplot under lurn.plot: quoting, data blocks, the terminal chosen by the
-- file's extension, and one run of the program per plot. Internal (lurn.plot is the
-- surface); specs set `program` and `on_script` to check what is sent.
--
-- A plot is a gnuplot script with its data inline (`$d1 << EOD` blocks of numbers only).
-- It is written to a temporary file and run as `gnuplot FILE`, reading gnuplot's messages
-- back through io.popen: gnuplot stops at the first error of a script file (exit status
-- 1), while fed on its standard input it would go on, and a write to a gnuplot that has
-- exited would end lurn with SIGPIPE. gnuplot draws into a second temporary file, which
-- lurn reads and saves with core.write_file (atomic: the old file survives a failure) or
-- prints; both temporary files are removed whatever happens.
local core = require "lurn.core"

local gnuplot = {}

--- The program run (a name looked up on PATH, or a path). Specs point it elsewhere.
gnuplot.program = "gnuplot"
--- When a function, called with each script before it runs (specs read the numbers).
gnuplot.on_script = nil

local NO_GNUPLOT = "gnuplot was not found (program '%s'): install Debian's gnuplot-nox package "
  .. "(apt-get install gnuplot-nox); the numbers are not lost: file = 'NAME.gp' saves the gnuplot "
  .. "script with the data in it, which needs no gnuplot to write"

--- A gnuplot string expression for any Lua text. Single-quoted strings are the one kind
-- gnuplot takes literally: no backslash escapes, no `command` substitution, no @macros
-- ('' is a quote). A newline cannot be in one, so lines are joined with "\n" (a fixed
-- double-quoted literal); other control bytes become spaces, and a text that is not
-- valid UTF-8 has its non-ASCII bytes replaced by '?' (an SVG file must be valid UTF-8).
-- Terminals run noenhanced, so ^ _ { } @ & in the text are not markup either.
function gnuplot.quote(text)
  text = tostring(text):gsub("\r\n", "\n"):gsub("[%z\1-\8\11-\31\127]", " ")
  if not utf8.len(text) then text = text:gsub("[\128-\255]", "?") end
  local parts = {}
  for line in (text .. "\n"):gmatch("(.-)\n") do parts[#parts + 1] = "'" .. line:gsub("'", "''") .. "'" end
  return table.concat(parts, '."\\n".')
end

--- A title or axis label: quoted, and marked noenhanced, which the terminal's own
-- noenhanced does not cover where gnuplot measures a key entry's width.
function gnuplot.text(text)
  return gnuplot.quote(text) .. " noenhanced"
end

--- A tic label (set xtics ('label' position, ...)): gnuplot reads it as a format for the
-- position, so a % in the text is doubled to stay a %.
function gnuplot.tic_label(text)
  return gnuplot.quote((tostring(text):gsub("%%", "%%%%")))
end

--- A number as gnuplot reads it back exactly; NaN and infinities as NaN, a point gnuplot skips.
function gnuplot.number(v)
  if v ~= v or v == math.huge or v == -math.huge then return "NaN" end
  if math.type(v) == "integer" then return ("%d"):format(v) end
  return ("%.17g"):format(v)
end

--- A data block named $name from rows of numbers: "$name << EOD ... EOD".
function gnuplot.datablock(name, rows)
  local lines = {"$" .. name .. " << EOD"}
  local number = gnuplot.number
  for i, row in ipairs(rows) do
    local cells = {}
    for j, v in ipairs(row) do cells[j] = number(v) end
    lines[i + 1] = table.concat(cells, " ")
  end
  lines[#lines + 1] = "EOD"
  return table.concat(lines, "\n") .. "\n"
end

-- A text as one word for sh.
local function shell_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local bytes = f:read("a")
  f:close()
  return bytes or ""
end

local function write_all(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- The size of the terminal the text plot is drawn for, one column and one line short of
-- it: COLUMNS and LINES where set (a script may export them), else what `stty size` says
-- of the controlling terminal (the REPL's shell seldom exports COLUMNS), else 80 x 25.
local function terminal_size()
  local cols = math.tointeger(tonumber(os.getenv("COLUMNS") or ""))
  local lines = math.tointeger(tonumber(os.getenv("LINES") or ""))
  if not (cols and lines) then
    -- (2>/dev/null first: sh's own message when there is no terminal goes there too)
    local pipe = io.popen("stty size 2>/dev/null </dev/tty", "r")
    local answer = pipe and pipe:read("a") or ""
    if pipe then pipe:close() end
    local l, c = answer:match("^(%d+) (%d+)")
    lines, cols = lines or math.tointeger(tonumber(l)), cols or math.tointeger(tonumber(c))
  end
  cols = (cols and cols >= 20 and cols <= 1000) and cols - 1 or 79
  lines = (lines and lines >= 10 and lines <= 500) and lines - 1 or 24
  return cols, lines
end

--- Where a plot goes, from its `file` option: {kind = "png"|"svg"|"gp"|"text", file = ...}.
-- Raises naming `where` for a file that is not a non-empty string with a known extension.
function gnuplot.output(file, where)
  if file == nil then return {kind = "text"} end
  if type(file) ~= "string" or file == "" then
    error(("%s: file must be a file name (.png, .svg or .gp), got %s"):format(where,
      type(file) == "string" and "''" or type(file)), 0)
  end
  local ext = file:match("%.([%w]+)$")
  ext = ext and ext:lower()
  if ext ~= "png" and ext ~= "svg" and ext ~= "gp" then
    error(("%s: file '%s': the name must end in .png (pngcairo), .svg or .gp (the gnuplot script)")
      :format(where, file), 0)
  end
  return {kind = ext, file = file}
end

-- The terminal line for an output: size = {width, height} in pixels for a file; the text
-- terminal takes the size of the terminal lurn runs in.
local function terminal(out, size)
  if out.kind == "png" then
    return ("set terminal pngcairo size %d,%d noenhanced font ',10'\n"):format(size[1], size[2])
  elseif out.kind == "svg" then
    return ("set terminal svg size %d,%d noenhanced font ',10' background '#ffffff'\n"):format(size[1], size[2])
  end
  local cols, lines = terminal_size()
  return ("set terminal dumb size %d,%d noenhanced\n"):format(cols, lines)
end

-- Writes bytes as the file's content in one step (src/io/atomic_file.c), or raises naming `where`.
local function save(where, file, bytes)
  local ok, err = pcall(core.write_file, file, bytes)
  if not ok then error(("%s: %s"):format(where, tostring(err)), 0) end
  return file
end

--- Runs the plot script `body` for the output `out` (gnuplot.output), with size
-- {width, height} in pixels for files. Returns the file written, or prints the text
-- drawing and returns nothing. Errors (gnuplot's own messages, a missing gnuplot) name `where`.
function gnuplot.plot(where, body, out, size)
  if out.kind == "gp" then
    -- (the file's name stays out of it: a name ending in \ would continue the comment)
    local script = "# lurn.plot: a gnuplot script with its data inline; draw it with gnuplot -p FILE\n" .. body
    if gnuplot.on_script then gnuplot.on_script(script) end
    return save(where, out.file, script)
  end
  local script_path, drawing_path = os.tmpname(), os.tmpname()
  local ok, result = pcall(function()
    local script = terminal(out, size) .. "set output " .. gnuplot.quote(drawing_path) .. "\n" .. body
      .. "unset output\n"
    if gnuplot.on_script then gnuplot.on_script(script) end
    write_all(script_path, script)
    local pipe = assert(io.popen(("exec %s %s </dev/null 2>&1"):format(shell_quote(gnuplot.program),
      shell_quote(script_path)), "r"))
    -- gnuplot's messages name the script by its temporary path, gone when they are read.
    local messages = (pipe:read("a") or ""):gsub('"' .. script_path:gsub("%p", "%%%0") .. '"', "script")
    local _, how, code = pipe:close()
    if how == "exit" and (code == 127 or code == 126) then error(NO_GNUPLOT:format(gnuplot.program), 0) end
    if how ~= "exit" or code ~= 0 then
      messages = messages:gsub("^%s+", ""):gsub("%s+$", "")
      error(("gnuplot failed (%s %s): %s"):format(how, code, messages), 0)
    end
    -- Warnings go to stderr, less one that says nothing about the plot: gnuplot 5.4 measures
    -- a tic label of several lines with its enhanced-text parser even when enhanced text is
    -- off, and warns of a } in it, which it then draws as written.
    local kept = {}
    for line in messages:gmatch("[^\n]+") do
      if line:find("%S") and not line:find("enhanced text m?o?d?e? ?parser") then kept[#kept + 1] = line end
    end
    -- every line says where it comes from (a warning's script excerpt spans several)
    for _, line in ipairs(kept) do io.stderr:write("lurn.plot: gnuplot: ", line, "\n") end
    return read_all(drawing_path)
  end)
  os.remove(script_path)
  os.remove(drawing_path)
  if not ok then error(("%s: %s"):format(where, tostring(result):gsub("^[^\n]-%.lua:%d+: ", "")), 0) end
  if out.kind == "text" then
    io.write((result:gsub("^\f", "")))
    return nil
  end
  return save(where, out.file, result)
end

return gnuplot
