--- How an experiment shows its numbers: a Markdown section (a table and a conclusion the
-- experiment computed from the numbers) and plots through lurn.plot, written into the
-- folder `plots` as PNG, SVG, or, where gnuplot is missing, as gnuplot scripts (.gp) that
-- hold the numbers. Internal (lurn.experiments is the surface).
local plot = require "lurn.plot"
local runs = require "lurn.experiments.runs"

local report = {}

local function finite(v) return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge end

--- A number as the tables show it: 4 significant digits, "NaN", "inf", "-" for none.
function report.number(v, fmt)
  if v == nil then return "-" end
  if type(v) ~= "number" then return tostring(v) end
  if v ~= v then return "NaN" end
  if v == math.huge then return "inf" end
  if v == -math.huge then return "-inf" end
  if math.type(v) == "integer" then return tostring(v) end
  return (fmt or "%.4g"):format(v)
end

--- A share (0.25) as a percentage ("25.0%").
function report.percent(v)
  if not finite(v) then return report.number(v) end
  return ("%.1f%%"):format(100 * v)
end

-- A table cell: | and line breaks would break the row.
local function cell(v)
  return (tostring(v):gsub("|", "\\|"):gsub("[\r\n]+", " "))
end

--- A Markdown table: columns (names), rows (lists of cells: numbers shown by
-- report.number, anything else by tostring).
function report.table(columns, rows)
  local out = {"| " .. table.concat(columns, " | ") .. " |"}
  local rule = {}
  for i = 1, #columns do rule[i] = "---" end
  out[2] = "| " .. table.concat(rule, " | ") .. " |"
  for _, row in ipairs(rows) do
    local cells = {}
    for i = 1, #columns do
      local v = row[i]
      cells[i] = cell(type(v) == "number" and report.number(v) or (v == nil and "-" or v))
    end
    out[#out + 1] = "| " .. table.concat(cells, " | ") .. " |"
  end
  return table.concat(out, "\n")
end

--- The section: "### title", what was compared, the table, the conclusion (a list of
-- sentences), and the plots written (names relative to the plots folder).
function report.section(title, intro, tbl, conclusion, plots)
  local parts = {"### " .. title, "", intro, "", tbl, "", "**Conclusion.** " .. table.concat(conclusion, " ")}
  if plots and #plots > 0 then
    parts[#parts + 1] = ""
    for _, file in ipairs(plots) do
      local name = file:match("[^/]+$")
      if file:match("%.gp$") then
        parts[#parts + 1] = ("Plot script (gnuplot was not found; draw it with `gnuplot -p %s`): `%s`"):format(name, name)
      else
        parts[#parts + 1] = ("![%s](%s)"):format(name, name)
      end
      parts[#parts + 1] = ""
    end
  end
  return table.concat(parts, "\n")
end

--- A plotter for one experiment's options: plotter(name, kind, data, options) draws
-- lurn.plot[kind] (history, lines, bars) of data with options into PLOTS/WHO_NAME.FORMAT and returns the file, or
-- nothing when opts.plots is not set. Without gnuplot, the .gp script is written instead
-- (and every later plot of the experiment goes the same way).
function report.plotter(who, opts)
  local format = opts.plot_format
  local files = {}
  local function draw(name, kind, data, plot_opts)
    if not opts.plots or not runs.writes() then return nil end  -- rank 0 (or a rank on its own) writes files
    local dir = opts.plots:gsub("/+$", "")
    plot_opts = plot_opts or {}
    local function try(ext)
      plot_opts.file = ("%s/%s_%s.%s"):format(dir == "" and "/" or dir, who, name, ext)
      if kind == "history" then return pcall(plot.history, data, plot_opts) end
      local spec = {}  -- lines and bars take the series and the options in one table
      for k, v in pairs(data) do spec[k] = v end
      for k, v in pairs(plot_opts) do spec[k] = v end
      return pcall(plot[kind], spec)
    end
    local ok, file = try(format)
    if not ok and format ~= "gp" and tostring(file):find("gnuplot was not found", 1, true) then
      format = "gp"
      ok, file = try(format)
    end
    if not ok then error(("%s: writing the plot %s: %s"):format(who, name, (tostring(file):gsub("^[^\n]-:%d+: ", ""))), 0) end
    files[#files + 1] = file
    return file
  end
  return draw, files
end

return report
