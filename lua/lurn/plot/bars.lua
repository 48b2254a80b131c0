--- lurn.plot.bars: grouped bars, one group per label, one bar per series in it (the
-- per-class precision and recall of two models, a class count before and after
-- resampling). Internal: lurn.plot is the surface.
local core = require "lurn.core"
local gnuplot = require "lurn.plot.gnuplot"
local options = require "lurn.options"
local values = require "lurn.plot.values"

local text = gnuplot.text

local fail = values.fail

--- bars{{labels =, values =, label =}, ..., file =, title =, xlabel =, ylabel =}
return function(spec)
  local where = "lurn.plot.bars"
  if type(spec) ~= "table" then
    fail(where, "takes a table {{labels =, values =, label =}, ..., file = ...}, got %s", type(spec))
  end
  options.check(spec, {"file", "title", "xlabel", "ylabel"}, where, 1, {positional = true})
  local out = gnuplot.output(spec.file, where)
  local n = rawlen(spec)
  if n == 0 then fail(where, "give at least one series {values = {...}}") end
  local series, labels = {}, nil
  for i = 1, n do
    local s, what = rawget(spec, i), ("series %d"):format(i)
    if type(s) ~= "table" or core.is_tensor(s) then
      fail(where, "%s must be a table {labels =, values =, label =}, got %s", what, type(s))
    end
    options.check(s, {"labels", "values", "label"}, where .. ": " .. what, 1)
    if s.values == nil then fail(where, "%s has no values", what) end
    local v = values.numbers(s.values, where, what .. " values")
    if #v == 0 then fail(where, "%s has no values", what) end
    if i > 1 and #v ~= #series[1].values then
      fail(where, "%s has %d values, series 1 has %d", what, #v, #series[1].values)
    end
    local these = values.labels(s.labels, #v, where, what .. " labels")
    if these and labels then
      for j = 1, #v do
        if these[j] ~= labels[j] then
          fail(where, "%s labels[%d] is '%s', series 1 has '%s' there: series share their labels", what, j, these[j], labels[j])
        end
      end
    end
    labels = labels or these
    series[i] = {values = v, label = values.text(s.label, where, what .. " label")}
  end
  local count = #series[1].values
  if not labels then
    labels = {}
    for j = 1, count do labels[j] = tostring(j) end
  end
  -- One row per group, one column per series; clustered histograms put group j at x = j - 1.
  local rows = {}
  for j = 1, count do
    local row = {}
    for i, s in ipairs(series) do row[i] = s.values[j] end
    rows[j] = row
  end
  local tics, plots = {}, {}
  for j, label in ipairs(labels) do tics[j] = ("%s %d"):format(gnuplot.tic_label(label), j - 1) end
  for i, s in ipairs(series) do
    plots[i] = ("$bars using %d %s"):format(i, s.label and ("title " .. text(s.label)) or "notitle")
  end
  local body = table.concat{
    gnuplot.datablock("bars", rows),
    "set title ", text(values.text(spec.title, where, "title") or ""), "\n",
    "set xlabel ", text(values.text(spec.xlabel, where, "xlabel") or ""), "\n",
    "set ylabel ", text(values.text(spec.ylabel, where, "ylabel") or ""), "\n",
    "set style data histograms\nset style histogram clustered gap 1\n",
    out.kind == "text" and "set style fill solid noborder\n" or "set style fill solid 0.8 border -1\n",
    "set boxwidth 0.9 relative\nset key top right noopaque noenhanced\nset grid ytics\n",
    "set yrange [*<0:0<*]\nset offsets 0, 0, graph 0.1, 0\nset xrange [-0.5:", count - 0.5, "]\n",
    "set xtics (", table.concat(tics, ", "), ")\n",
    "plot ", table.concat(plots, ", "), "\n",
  }
  return gnuplot.plot(where, body, out, {math.max(640, 60 * count * #series + 120), 480})
end
