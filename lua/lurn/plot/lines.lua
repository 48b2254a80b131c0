--- Line plots: lurn.plot.lines, and the two built on it, lurn.plot.history (one panel
-- per metric of a History) and lurn.plot.layer_stats (one line per layer of the
-- LayerStats records). Internal: lurn.plot is the surface.
local core = require "lurn.core"
local gnuplot = require "lurn.plot.gnuplot"
local options = require "lurn.options"
local values = require "lurn.plot.values"

local text = gnuplot.text
local lines = {}

local fail = values.fail

local INF = math.huge

local function finite(v) return v == v and v ~= INF and v ~= -INF end

-- Points that a log axis cannot show (zero, negative) become NaN: skipped, as gnuplot
-- skips every NaN, instead of a warning for each.
local function positive_only(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = v > 0 and v or 0 / 0 end
  return out
end

-- Whether axis `key` ("x" or "y") of the series is logarithmic, and a note for the title.
-- how: false (linear), true (the user asked for log) or "auto" (lurn's default of log). A
-- finite value <= 0 cannot be on a log axis: an "auto" axis then turns linear, so that a
-- zero (a dead layer's gradient) is drawn, not hidden; a log axis the user asked for stays,
-- and the note counts the points left out; with no value > 0 at all it turns linear too
-- (gnuplot would have nothing to draw).
local function axis_scale(series, key, how)
  if not how then return false, nil end
  local hidden, shown = 0, 0
  for _, s in ipairs(series) do
    for _, v in ipairs(s[key]) do
      if finite(v) then
        if v > 0 then shown = shown + 1 else hidden = hidden + 1 end
      end
    end
  end
  if hidden == 0 then return shown > 0, nil end
  if how == "auto" or shown == 0 then return false, ("linear %s axis: values <= 0"):format(key) end
  return true, ("%d %s <= 0 left out of the log %s axis"):format(hidden, hidden == 1 and "value" or "values", key)
end

-- "set Xrange [lo:hi]" for the finite values lo..hi of an axis (nil: none), or autoscale.
-- gnuplot autoscales one value (a single epoch, a constant learning rate) to an empty range
-- and warns, so that range is widened here: by `pad` on a linear axis (10% of the value,
-- or 1 for 0, when pad is nil), tenfold on a log axis; no value at all gets [0:1] ([1:10]).
local function axis_range(key, lo, hi, log, pad)
  local number = gnuplot.number
  if lo and lo < hi then return ("set autoscale %s\n"):format(key) end
  if not lo then return log and ("set %srange [1:10]\n"):format(key) or ("set %srange [0:1]\n"):format(key) end
  if log then return ("set %srange [%s:%s]\n"):format(key, number(lo / 10), number(lo * 10)) end
  local d = pad or (lo ~= 0 and math.abs(lo) * 0.1 or 1)
  return ("set %srange [%s:%s]\n"):format(key, number(lo - d), number(lo + d))
end

-- The script of one panel: series = {{x = {...}, y = {...}, label = text|nil}, ...},
-- opts = {title, xlabel, ylabel, logx, logy (false, true or "auto"), whole_x}; data blocks
-- are named prefix1, prefix2... NaN and infinite values are not drawn (the title counts them).
local function panel(series, opts, prefix)
  local logx, xnote = axis_scale(series, "x", opts.logx)
  local logy, ynote = axis_scale(series, "y", opts.logy)
  local parts, plots, notes = {}, {}, {}
  local xlo, xhi, ylo, yhi, nonfinite = INF, -INF, INF, -INF, 0
  local any_x_lo, any_x_hi = INF, -INF -- the finite x of all points, for a panel without a point
  for i, s in ipairs(series) do
    local x, y = s.x, s.y
    if logx then x = positive_only(x) end
    if logy then y = positive_only(y) end
    local rows = {}
    for j = 1, #y do
      rows[j] = {x[j], y[j]}
      if not finite(s.y[j]) then nonfinite = nonfinite + 1 end
      if finite(x[j]) then
        any_x_lo, any_x_hi = math.min(any_x_lo, x[j]), math.max(any_x_hi, x[j])
        if finite(y[j]) then
          xlo, xhi, ylo, yhi = math.min(xlo, x[j]), math.max(xhi, x[j]), math.min(ylo, y[j]), math.max(yhi, y[j])
        end
      end
    end
    local name = prefix .. i
    parts[#parts + 1] = gnuplot.datablock(name, rows)
    plots[#plots + 1] = ("$%s using 1:2 with %s %s"):format(name, #y <= 30 and "linespoints pointtype 7 pointsize 0.5"
      or "lines", s.label and ("title " .. text(s.label)) or "notitle")
  end
  local drawn = ylo <= yhi
  if not drawn then xlo, xhi = any_x_lo <= any_x_hi and any_x_lo or nil, any_x_hi end
  if not drawn then ylo = nil end
  if nonfinite > 0 then
    notes[#notes + 1] = ("%d %s NaN or infinite, not drawn"):format(nonfinite,
      nonfinite == 1 and "value" or "values")
  end
  notes[#notes + 1] = xnote
  notes[#notes + 1] = ynote
  local title = opts.title or ""
  if #notes > 0 then title = (title ~= "" and title .. " " or "") .. "(" .. table.concat(notes, "; ") .. ")" end
  parts[#parts + 1] = "set title " .. text(title) .. "\n"
  parts[#parts + 1] = "set xlabel " .. (opts.xlabel and text(opts.xlabel) or "''") .. "\n"
  parts[#parts + 1] = "set ylabel " .. (opts.ylabel and text(opts.ylabel) or "''") .. "\n"
  parts[#parts + 1] = (logx and "set logscale x\n" or "unset logscale x\n")
  parts[#parts + 1] = (logy and "set logscale y\nset format y '%g'\n" or "unset logscale y\nset format y '% h'\n")
  parts[#parts + 1] = axis_range("x", xlo ~= INF and xlo or nil, xhi, logx, opts.whole_x and 0.5 or nil)
  parts[#parts + 1] = axis_range("y", ylo, yhi, logy, nil)
  -- a margin above and below an autoscaled y, so that a line at its end (a dead layer's 0)
  -- is not drawn on the border
  parts[#parts + 1] = "set offsets 0, 0, graph 0.05, graph 0.05\n"
  parts[#parts + 1] = drawn and "unset label 1\n"
    or "set label 1 'no finite value to draw' at graph 0.5, graph 0.5 center\n"
  parts[#parts + 1] = opts.whole_x and "set xtics 1\n" or "set xtics autofreq\n"
  parts[#parts + 1] = "set key top right noopaque noenhanced\nset grid\n"
  parts[#parts + 1] = "plot " .. table.concat(plots, ", \\\n  ") .. "\n"
  return table.concat(parts)
end

-- A series given by the user: {x =, y =, label =}, x optional (1..n).
local function read_series(s, i, where)
  local what = ("series %d"):format(i)
  if type(s) ~= "table" or core.is_tensor(s) then
    fail(where, "%s must be a table {x =, y =, label =}, got %s", what, type(s))
  end
  options.check(s, {"x", "y", "label"}, where .. ": " .. what, 1)
  if s.y == nil then fail(where, "%s has no y", what) end
  local y = values.numbers(s.y, where, what .. " y")
  if #y == 0 then fail(where, "%s has no points", what) end
  local x
  if s.x == nil then
    x = {}
    for j = 1, #y do x[j] = j end
  else
    x = values.numbers(s.x, where, what .. " x")
    if #x ~= #y then fail(where, "%s has %d x values and %d y values", what, #x, #y) end
  end
  return {x = x, y = y, label = values.text(s.label, where, what .. " label")}
end

local LINES_OPTIONS = {"file", "title", "xlabel", "ylabel", "logx", "logy"}

--- lines{{x =, y =, label =}, ..., file =, title =, xlabel =, ylabel =, logx =, logy =}
function lines.lines(spec)
  local where = "lurn.plot.lines"
  if type(spec) ~= "table" then fail(where, "takes a table {{x =, y =, label =}, ..., file = ...}, got %s", type(spec)) end
  options.check(spec, LINES_OPTIONS, where, 1, {positional = true})
  local out = gnuplot.output(spec.file, where)
  local n = rawlen(spec)
  if n == 0 then fail(where, "give at least one series {y = {...}}") end
  local series = {}
  for i = 1, n do series[i] = read_series(rawget(spec, i), i, where) end
  local opts = {
    title = values.text(spec.title, where, "title"), xlabel = values.text(spec.xlabel, where, "xlabel"),
    ylabel = values.text(spec.ylabel, where, "ylabel"), logx = values.flag(spec.logx, where, "logx"),
    logy = values.flag(spec.logy, where, "logy"),
  }
  return gnuplot.plot(where, panel(series, opts, "d"), out, {800, 500})
end

-- Panels laid out in rows and columns: one column up to 3 panels, two beyond.
local function layout(n)
  local cols = n <= 3 and 1 or 2
  return math.ceil(n / cols), cols
end

-- The history's table of key -> list: a History (fit's return value) or such a table.
local function history_table(h, where)
  if type(h) ~= "table" then fail(where, "takes the History fit returns (or a table of name -> list), got %s", type(h)) end
  local t = h
  if type(rawget(h, "history")) == "table" then t = h.history end
  local out, names = {}, {}
  for k, v in pairs(t) do
    if type(k) ~= "string" then fail(where, "history keys must be metric names, got a %s key", type(k)) end
    out[k] = values.numbers(v, where, ("history '%s'"):format(k))
    names[#names + 1] = k
  end
  if #names == 0 then fail(where, "the history is empty (fit for at least one epoch)") end
  return out
end

--- history(h, {file =, metrics =}): a panel per metric (loss first), train and val_ lines.
function lines.history(h, opts)
  local where = "lurn.plot.history"
  options.check(opts, {"file", "metrics", "title"}, where, 1)
  opts = opts or {}
  local out = gnuplot.output(opts.file, where)
  local t = history_table(h, where)
  local bases = {}
  for k in pairs(t) do bases[k:match("^val_(.+)$") or k] = true end
  local names
  if opts.metrics ~= nil then
    if type(opts.metrics) ~= "table" then fail(where, "metrics must be a list of names, got %s", type(opts.metrics)) end
    names = values.labels(opts.metrics, rawlen(opts.metrics), where, "metrics")
    for _, name in ipairs(names) do
      if not bases[name] then
        fail(where, "no metric '%s' in the history (it has: %s)", name, table.concat(options.names(bases), ", "))
      end
    end
  else
    names = options.names(bases)
    table.sort(names, function(a, b) -- loss first, then by name
      if (a == "loss") ~= (b == "loss") then return a == "loss" end
      return a < b
    end)
  end
  if #names == 0 then fail(where, "metrics is empty") end
  local title = values.text(opts.title, where, "title")
  local rows, cols = layout(#names)
  local parts = {}
  if #names > 1 then parts[1] = ("set multiplot layout %d,%d title %s\n"):format(rows, cols, text(title or "")) end
  for p, name in ipairs(names) do
    local series = {}
    for _, key in ipairs{name, "val_" .. name} do
      local y = t[key]
      if y and #y > 0 then
        local x = {}
        for j = 1, #y do x[j] = j end
        series[#series + 1] = {x = x, y = y, label = key:find("^val_") and "validation" or "train"}
      end
    end
    if #series == 0 then fail(where, "the history has no values for '%s'", name) end
    local panel_title = #names == 1 and title or name
    parts[#parts + 1] = panel(series, {title = panel_title or name, xlabel = "epoch", whole_x = #(t[name] or t["val_" .. name]) <= 20}, "p" .. p .. "_")
  end
  if #names > 1 then parts[#parts + 1] = "unset multiplot\n" end
  return gnuplot.plot(where, table.concat(parts), out, {800 * cols, 300 * rows + 40})
end

local STATS = require("lurn.training.layer_stats").FIELDS
local NORMS = {grad_norm = true, weight_norm = true, update_ratio = true}

--- layer_stats(records, {stat = "grad_norm", file =, logy =, title =}): one line per layer.
function lines.layer_stats(records, opts)
  local where = "lurn.plot.layer_stats"
  options.check(opts, {"stat", "file", "logy", "title"}, where, 1)
  opts = opts or {}
  local out = gnuplot.output(opts.file, where)
  if type(records) ~= "table" then
    fail(where, "takes the records of a LayerStats callback (cb.records, a list of rows), got %s", type(records))
  end
  local stat = opts.stat or "grad_norm"
  local known = false
  for _, s in ipairs(STATS) do known = known or s == stat end
  if not known then fail(where, "stat must be one of %s, got %s", table.concat(STATS, ", "), tostring(stat)) end
  -- norms span orders of magnitude: log y unless a value is <= 0 (a dead layer's 0 gradient)
  local logy = values.flag(opts.logy, where, "logy")
  if logy == nil then logy = NORMS[stat] and "auto" or false end
  -- x: the row's recording, counted per layer (every recording has one row per layer).
  local order, by_layer, seen = {}, {}, {}
  for i = 1, rawlen(records) do
    local row = rawget(records, i)
    if type(row) ~= "table" then fail(where, "records[%d] must be a row (a table), got %s", i, type(row)) end
    local name = row.name
    if type(name) ~= "string" and type(name) ~= "number" then
      fail(where, "records[%d] has no layer name (name = ...)", i)
    end
    name = tostring(name)
    local layer = by_layer[name]
    if not layer then
      layer = {x = {}, y = {}, label = row.type and ("%s (%s)"):format(name, tostring(row.type)) or name}
      by_layer[name] = layer
      order[#order + 1] = name
    end
    seen[name] = (seen[name] or 0) + 1
    local v = row[stat]
    if v ~= nil then
      if type(v) ~= "number" then fail(where, "records[%d].%s must be a number, got %s", i, stat, type(v)) end
      layer.x[#layer.x + 1] = seen[name]
      layer.y[#layer.y + 1] = v
    end
  end
  local series = {}
  for _, name in ipairs(order) do
    if #by_layer[name].y > 0 then series[#series + 1] = by_layer[name] end
  end
  if #series == 0 then fail(where, "no record has a value for %s", stat) end
  local title = values.text(opts.title, where, "title") or stat .. " per layer"
  local body = panel(series, {title = title, xlabel = "recording", ylabel = stat, logy = logy}, "l")
  return gnuplot.plot(where, body, out, {800, 500})
end

return lines
