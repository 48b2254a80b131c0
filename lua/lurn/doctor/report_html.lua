--- The doctor's report as a web page (report:write_html(path)): the findings most severe
-- first, each with its evidence, its fix and, where the finding carries plottable evidence,
-- the plot that shows it (lurn.plot through gnuplot, SVG inlined as a data URI). The page is
-- self-contained: CSS inline, no script, nothing fetched.
--
-- Plottable evidence (optional fields of a finding's evidence, docs/doctor.md, "Plottable
-- evidence", which says what each holds): loss_curve (val_loss_curve, loss_steps,
-- loss_x_label, baseline_loss), rate_curves, lr_curve, layer_curves, per_layer,
-- per_feature, per_class, class_counts, split_class_counts. The fields only a plot reads
-- are Report.PLOT_FIELDS: the evidence table leaves them out.
local Report = require "lurn.doctor.report"

local html = {}

local function escape(s)
  return (tostring(s):gsub("[&<>\"]", {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;"}))
end
html.escape = escape

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(data)
  local out = {}
  for i = 1, #data, 3 do
    local a, b, c = data:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local s3, s4 = (n >> 6) & 63, n & 63
    out[#out + 1] = B64:sub((n >> 18) + 1, (n >> 18) + 1) .. B64:sub(((n >> 12) & 63) + 1, ((n >> 12) & 63) + 1)
      .. (b and B64:sub(s3 + 1, s3 + 1) or "=") .. (c and B64:sub(s4 + 1, s4 + 1) or "=")
  end
  return table.concat(out)
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local data = f:read("a")
  f:close()
  return data
end

local function value_of(v)
  if math.type(v) == "float" then return ("%.3g"):format(v) end
  return tostring(v)
end

local function is_number_list(t)
  if type(t) ~= "table" or #t == 0 then return false end
  for _, v in ipairs(t) do
    if type(v) ~= "number" then return false end
  end
  return true
end

local function finite(v) return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge end

-- Whether a y axis of these values should be logarithmic: the positive ones spread over
-- more than two decades (a diverging loss, gradient norms across depth), and all of them
-- positive unless `zeros_ok` (a line plot leaves those out and its title counts them).
local function wide_positive(list, zeros_ok)
  local lo, hi = math.huge, 0
  for _, v in ipairs(list) do
    if finite(v) then
      if v <= 0 then
        if not zeros_ok then return false end
      else
        lo, hi = math.min(lo, v), math.max(hi, v)
      end
    end
  end
  return hi > 0 and hi / lo > 100
end

local MAX_BARS = 30  -- more bars than this are unreadable: the ones the finding names, then the largest

-- Bars from a list of {key = name, value = number}: labels, values, a note when some were
-- left out (non-finite, or past MAX_BARS), whether the values are drawn as log10.
-- `named` lists the keys the finding names (kept first when there are too many).
local function named_values(list, key, named)
  if type(list) ~= "table" or #list == 0 then return nil end
  local rows, dropped = {}, 0
  for i, e in ipairs(list) do
    if type(e) ~= "table" or type(e.value) ~= "number" then return nil end
    if finite(e.value) then rows[#rows + 1] = {label = tostring(e[key] or i), value = e.value, at = i}
    else dropped = dropped + 1 end
  end
  if #rows == 0 then return nil end
  local notes = {}
  if dropped > 0 then notes[#notes + 1] = ("%d non-finite left out"):format(dropped) end
  if #rows > MAX_BARS then
    local keep = {}
    for _, k in ipairs(type(named) == "table" and named or {}) do keep[tostring(k)] = true end
    table.sort(rows, function(a, b)
      local ka, kb = keep[a.label] or false, keep[b.label] or false
      if ka ~= kb then return ka end
      if a.value ~= b.value then return math.abs(a.value) > math.abs(b.value) end
      return a.at < b.at
    end)
    notes[#notes + 1] = ("%d of %d shown: those named, then the largest"):format(MAX_BARS, #rows)
    for i = #rows, MAX_BARS + 1, -1 do rows[i] = nil end
    table.sort(rows, function(a, b) return a.at < b.at end)
  end
  local labels, values = {}, {}
  for i, r in ipairs(rows) do labels[i], values[i] = r.label, r.value end
  local log = wide_positive(values)
  if log then
    for i, v in ipairs(values) do values[i] = math.log(v, 10) end
  end
  return labels, values, #notes > 0 and (" (" .. table.concat(notes, "; ") .. ")") or "", log
end

-- x values 1..n, or the given ones when they match.
local function steps_of(list, steps)
  if is_number_list(steps) and #steps == #list then return steps end
  local x = {}
  for i = 1, #list do x[i] = i end
  return x
end

local function finite_xy(x, list)
  local fx, fy = {}, {}
  for i, v in ipairs(list) do
    if finite(v) and finite(x[i]) then fx[#fx + 1], fy[#fy + 1] = x[i], v end
  end
  return fx, fy
end

-- A trailing mean over `w` steps of a batch loss (each batch's loss is noisy: the trend is
-- what tells the rates apart); non-finite values are left out of the mean and stay
-- non-finite themselves, so that a NaN still ends the line.
local function running_mean(list, w)
  if w <= 1 then return list end
  local out, sum, count = {}, 0, 0
  for i, v in ipairs(list) do
    if finite(v) then sum, count = sum + v, count + 1 end
    local old = list[i - w]
    if old and finite(old) then sum, count = sum - old, count - 1 end
    out[i] = finite(v) and count > 0 and sum / count or v
  end
  return out
end

-- The plot specs (lurn.plot function name, spec without file) a finding's evidence gives.
function html.plots(f)
  local e, out = f.evidence or {}, {}
  local title = f.code .. (f.layer and (" (" .. f.layer .. ")") or "")
  if is_number_list(e.loss_curve) then
    local series, all = {}, {}
    local xs = steps_of(e.loss_curve, e.loss_steps)
    local xlabel = type(e.loss_x_label) == "string" and e.loss_x_label or (is_number_list(e.loss_steps) and "step"
      or "epoch")
    local x, y = finite_xy(xs, e.loss_curve)
    if #y > 0 then series[#series + 1] = {x = x, y = y, label = "loss"} end
    if is_number_list(e.val_loss_curve) then
      local vx, vy = finite_xy(steps_of(e.val_loss_curve, e.loss_steps), e.val_loss_curve)
      if #vy > 0 then series[#series + 1] = {x = vx, y = vy, label = "val_loss"} end
    end
    if #series > 0 and finite(e.baseline_loss) then
      local lo, hi = math.huge, -math.huge
      for _, s in ipairs(series) do lo, hi = math.min(lo, s.x[1]), math.max(hi, s.x[#s.x]) end
      series[#series + 1] = {x = {lo, hi}, y = {e.baseline_loss, e.baseline_loss},
                             label = type(e.baseline_label) == "string" and e.baseline_label or "baseline"}
    end
    for _, s in ipairs(series) do table.move(s.y, 1, #s.y, #all + 1, all) end
    if #series > 0 then
      local dropped = #e.loss_curve - #y
      series.title = title .. ": loss" .. (dropped > 0 and (" (%d NaN or infinite left out)"):format(dropped) or "")
      series.xlabel, series.ylabel, series.logy = xlabel, "loss", wide_positive(all, true)
      out[#out + 1] = {"lines", series}
    end
  end
  if type(e.rate_curves) == "table" and #e.rate_curves > 0 then
    local series, all, w = {}, {}, 1
    for _, c in ipairs(e.rate_curves) do
      if type(c) == "table" and is_number_list(c.loss) then w = math.max(w, #c.loss // 20) end
    end
    for _, c in ipairs(e.rate_curves) do
      if type(c) == "table" and is_number_list(c.loss) then
        local x, y = finite_xy(steps_of(c.loss), running_mean(c.loss, w))
        local lost = #c.loss - #y
        if #y > 0 then
          series[#series + 1] = {x = x, y = y, label = ("learning_rate %s%s"):format(value_of(c.learning_rate),
            lost > 0 and (", NaN after step " .. #y) or "")}
          table.move(y, 1, #y, #all + 1, all)
        end
      end
    end
    if #series > 0 then
      series.title, series.xlabel = title .. ": training loss per step at each rate", "step"
      series.ylabel = w > 1 and ("batch loss, mean of the last %d steps"):format(w) or "batch loss"
      series.logy = wide_positive(all, true)
      out[#out + 1] = {"lines", series}
    end
  end
  if type(e.lr_curve) == "table" and is_number_list(e.lr_curve.lr) and is_number_list(e.lr_curve.loss)
    and #e.lr_curve.lr == #e.lr_curve.loss then
    local pts = {}
    for i, v in ipairs(e.lr_curve.loss) do
      if finite(v) and e.lr_curve.lr[i] > 0 then pts[#pts + 1] = {e.lr_curve.lr[i], v} end
    end
    table.sort(pts, function(a, b) return a[1] < b[1] end)  -- diagnose tries the rates out of order
    local x, y = {}, {}
    for i, p in ipairs(pts) do x[i], y[i] = p[1], p[2] end
    local lost = #e.lr_curve.loss - #y
    if #y > 0 then
      local spec = {{x = x, y = y, label = "loss"}, title = title .. ": loss against learning rate"
        .. (lost > 0 and (" (%d NaN or infinite left out)"):format(lost) or ""), xlabel = "learning rate",
        ylabel = "loss", logx = true}
      if finite(e.initial_loss) and #x > 1 then  -- where every run started: above it, a run made things worse
        spec[2] = {x = {x[1], x[#x]}, y = {e.initial_loss, e.initial_loss}, label = "before training"}
      end
      local all = table.move(y, 1, #y, 1, {})
      if spec[2] then all[#all + 1] = e.initial_loss end
      spec.logy = wide_positive(all, true)
      out[#out + 1] = {"lines", spec}
    end
  end
  if type(e.layer_curves) == "table" and #e.layer_curves > 0 then
    local series, all = {}, {}
    for _, c in ipairs(e.layer_curves) do
      if type(c) == "table" and is_number_list(c.values) then
        local x, y = finite_xy(steps_of(c.values), c.values)
        if #y > 0 then
          series[#series + 1] = {x = x, y = y, label = tostring(c.layer or #series + 1)}
          table.move(y, 1, #y, #all + 1, all)
        end
      end
    end
    if #series > 0 then
      local label = type(e.layer_curves_label) == "string" and e.layer_curves_label or "value"
      series.title, series.xlabel, series.ylabel = title .. ": " .. label .. " per layer over training", "recording",
        label
      series.logy = wide_positive(all, true)
      out[#out + 1] = {"lines", series}
    end
  end
  for _, kind in ipairs{{"per_layer", "layer", e.layers}, {"per_feature", "feature", e.columns},
                        {"per_class", "class", e.classes}} do
    local labels, values, note, log = named_values(e[kind[1]], kind[2], kind[3])
    if labels then
      local label = type(e[kind[1] .. "_label"]) == "string" and e[kind[1] .. "_label"] or "value"
      if log then label = "log10 " .. label end
      out[#out + 1] = {"bars", {{labels = labels, values = values, label = label}, title = title .. ": " .. label
        .. " per " .. kind[2] .. note, xlabel = kind[2], ylabel = label}}
    end
  end
  if is_number_list(e.class_counts) and e.per_class == nil then
    local labels = {}
    for i = 1, #e.class_counts do labels[i] = tostring(i - 1) end
    out[#out + 1] = {"bars", {{labels = labels, values = e.class_counts, label = "samples"},
                              title = title .. ": samples per class", xlabel = "class", ylabel = "samples"}}
  end
  local sc = e.split_class_counts
  if type(sc) == "table" and type(sc.classes) == "table" and #sc.classes > 0 and #sc > 0 then
    local spec = {title = title .. ": samples per class in each split", xlabel = "class", ylabel = "samples"}
    local labels = {}
    for i, c in ipairs(sc.classes) do labels[i] = tostring(c) end
    for _, s in ipairs(sc) do
      if type(s) == "table" and is_number_list(s.counts) and #s.counts == #labels then
        spec[#spec + 1] = {labels = labels, values = s.counts, label = tostring(s.split or #spec + 1)}
      end
    end
    if #spec > 0 then out[#out + 1] = {"bars", spec} end
  end
  return out
end

-- One plot as an <img> with the SVG inlined, or a note saying why there is none.
local function figure(kind, spec)
  local plot = require "lurn.plot"
  local file = os.tmpname() .. ".svg"
  spec.file = file
  local ok, err = pcall(plot[kind], spec)
  local data = ok and read(file) or nil
  os.remove(file)
  os.remove(file:sub(1, -5))
  if not data or #data == 0 then
    return ('<p class="noplot">(plot not drawn: %s)</p>'):format(escape(ok and "no output" or
      tostring(err):gsub("^[^\n]-:%d+: ", "")))
  end
  return ('<figure><img alt="%s" src="data:image/svg+xml;base64,%s"></figure>'):format(escape(spec.title or kind),
    base64(data))
end

local function value_text(v)
  if math.type(v) == "float" then return ("%.4g"):format(v) end
  if type(v) ~= "table" then return tostring(v) end
  local items = {}
  for i, x in ipairs(v) do
    if type(x) == "table" then
      local parts = {}
      for k, y in pairs(x) do parts[#parts + 1] = ("%s = %s"):format(k, value_text(y)) end
      table.sort(parts)
      items[i] = "{" .. table.concat(parts, ", ") .. "}"
    else
      items[i] = value_text(x)
    end
  end
  if #items == 0 then
    local parts = {}
    for k, y in pairs(v) do parts[#parts + 1] = ("%s = %s"):format(k, value_text(y)) end
    table.sort(parts)
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  if #items > 12 then items = {table.concat(items, ", ", 1, 6), "...", table.concat(items, ", ", #items - 2)} end
  return "{" .. table.concat(items, ", ") .. "}"
end

local function evidence_table(e)
  local keys = {}
  for k in pairs(e or {}) do
    if not Report.PLOT_FIELDS[k] then keys[#keys + 1] = tostring(k) end
  end
  if #keys == 0 then return "" end
  table.sort(keys)
  local rows = {"<table class=\"evidence\">"}
  for _, k in ipairs(keys) do
    rows[#rows + 1] = ("<tr><th>%s</th><td>%s</td></tr>"):format(escape(k), escape(value_text(e[k])))
  end
  rows[#rows + 1] = "</table>"
  return table.concat(rows, "\n")
end

local CSS = [[
body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}
section{border-left:6px solid #888;padding:.2em 1em;margin:1.5em 0}
section.error{border-color:#c0392b}section.warning{border-color:#e67e22}section.info{border-color:#2980b9}
h2 .sev,h3 .sev{font-size:.7em;text-transform:uppercase;margin-right:.5em}
table.evidence{border-collapse:collapse;font-size:.9em}table.evidence th,table.evidence td{border:1px solid #ccc;padding:.2em .5em;text-align:left}
h2.group{border-bottom:1px solid #ccc;margin-top:2em}.note{color:#555}
code{background:#f4f4f4;padding:.1em .3em}figure{margin:1em 0}figure img{max-width:100%}.noplot{color:#777}
]]

-- The sections of a list of findings (most severe first); `n` counts the sections so far
-- (their ids), `h` is the heading level.
local function sections(out, findings, opts, n, h)
  for _, f in ipairs(findings) do
    n = n + 1
    out[#out + 1] = ('<section id="finding-%d" class="%s" data-code="%s">'):format(n, escape(f.severity),
      escape(f.code))
    out[#out + 1] = ('<h%d><span class="sev">%s</span><code>%s</code>%s</h%d>'):format(h, escape(f.severity),
      escape(f.code), f.layer and (" in layer <code>" .. escape(f.layer) .. "</code>") or "", h)
    out[#out + 1] = "<p>" .. escape(f.message) .. "</p>"
    if f.fix then out[#out + 1] = "<p class=\"fix\"><strong>Fix:</strong> " .. escape(f.fix) .. "</p>" end
    out[#out + 1] = evidence_table(f.evidence)
    if opts.plots ~= false then
      for _, p in ipairs(html.plots(f)) do out[#out + 1] = figure(p[1], p[2]) end
    end
    out[#out + 1] = "</section>"
  end
  return n
end

--- The page's HTML for a report (opts.title, opts.plots = false to leave the plots out).
-- opts.groups = {{heading =, notes = {...}, report =}, ...} puts the findings under one
-- heading per group (lurn doctor: a heading per fit) instead of the report's list.
function html.render(report, opts)
  opts = opts or {}
  local title = opts.title or "lurn doctor"
  local groups = opts.groups
  if groups == nil then groups = {{report = report}} end
  local counts, total = {error = 0, warning = 0, info = 0}, 0
  for _, g in ipairs(groups) do
    for _, f in ipairs(g.report.findings) do
      counts[f.severity], total = counts[f.severity] + 1, total + 1
    end
  end
  local out = {"<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\">", "<title>" .. escape(title) .. "</title>",
               "<style>" .. CSS .. "</style></head><body>", "<h1>" .. escape(title) .. "</h1>",
               ("<p class=\"summary\">%d error(s), %d warning(s), %d note(s)</p>"):format(counts.error, counts.warning,
                 counts.info)}
  if opts.groups ~= nil and #groups == 0 then out[#out + 1] = "<p>No fit was watched.</p>" end
  if opts.groups == nil and total == 0 then out[#out + 1] = "<p>No findings.</p>" end
  local n = 0
  for i, g in ipairs(groups) do
    local level = 2
    if g.heading then
      level = 3
      out[#out + 1] = ('<h2 class="group" id="group-%d">%s</h2>'):format(i, escape(g.heading))
      for _, note in ipairs(g.notes or {}) do out[#out + 1] = "<p class=\"note\">note: " .. escape(note) .. "</p>" end
      if #g.report.findings == 0 then out[#out + 1] = "<p>No findings.</p>" end
    end
    n = sections(out, g.report:sorted(), opts, n, level)
  end
  out[#out + 1] = "</body></html>\n"
  return table.concat(out, "\n")
end

--- report:write_html(path [, {title =, plots = true}]) -> path.
function html.write(report, path, opts)
  if type(path) ~= "string" or path == "" then error("write_html: path must be a file name, got " .. type(path), 2) end
  require("lurn.options").check(opts, {"title", "plots", "groups"}, "write_html", 2)
  local page = html.render(report, opts)
  -- in one step (a temporary file, fsync, rename: src/io/atomic_file.c): an old page stays
  -- whole if the write fails
  local ok, err = pcall(require("lurn.core").write_file, path, page)
  if not ok then error("write_html: cannot write " .. tostring(err):gsub("^[^\n]-:%d+: ", ""), 2) end
  return path
end

return html
