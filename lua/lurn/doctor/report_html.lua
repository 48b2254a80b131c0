--- The doctor's report as a web page (report:write_html(path)): the findings most severe
-- first, each with its evidence, its fix and, where the finding carries plottable evidence,
-- the plot that shows it (lurn.plot through gnuplot, SVG inlined as a data URI). The page is
-- self-contained: CSS inline, no script, nothing fetched.
--
-- Plottable evidence (optional fields of a finding's evidence, docs/doctor.md):
--   loss_curve = {numbers}, val_loss_curve = {numbers}   the loss per epoch (or step)
--   lr_curve = {lr = {numbers}, loss = {numbers}}          a range test: loss against lr (log x)
--   per_layer = {{layer =, value =}, ...}, per_layer_label = "dead fraction"
--   per_feature = {{feature =, value =}, ...}, per_feature_label = "std"
--   class_counts = {n0, n1, ...}                           samples per class (0-based classes)
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

local function is_number_list(t)
  if type(t) ~= "table" or #t == 0 then return false end
  for _, v in ipairs(t) do
    if type(v) ~= "number" then return false end
  end
  return true
end

-- Non-finite values dropped (a diverged loss ends in NaN): gnuplot draws what is left.
local function finite_points(list)
  local x, y = {}, {}
  for i, v in ipairs(list) do
    if v == v and v ~= math.huge and v ~= -math.huge then x[#x + 1], y[#y + 1] = i, v end
  end
  return x, y
end

local function named_values(list, key)
  if type(list) ~= "table" or #list == 0 then return nil end
  local labels, values = {}, {}
  for i, e in ipairs(list) do
    if type(e) ~= "table" or type(e.value) ~= "number" then return nil end
    labels[i], values[i] = tostring(e[key] or i), e.value
  end
  return labels, values
end

-- The plot specs (lurn.plot function name, spec without file) a finding's evidence gives.
function html.plots(f)
  local e, out = f.evidence or {}, {}
  local title = f.code .. (f.layer and (" (" .. f.layer .. ")") or "")
  if is_number_list(e.loss_curve) then
    local series = {}
    local x, y = finite_points(e.loss_curve)
    if #y > 0 then series[#series + 1] = {x = x, y = y, label = "loss"} end
    if is_number_list(e.val_loss_curve) then
      local vx, vy = finite_points(e.val_loss_curve)
      if #vy > 0 then series[#series + 1] = {x = vx, y = vy, label = "val_loss"} end
    end
    if #series > 0 then
      series.title, series.xlabel, series.ylabel = title .. ": loss", "epoch", "loss"
      out[#out + 1] = {"lines", series}
    end
  end
  if type(e.lr_curve) == "table" and is_number_list(e.lr_curve.lr) and is_number_list(e.lr_curve.loss)
    and #e.lr_curve.lr == #e.lr_curve.loss then
    local x, y = {}, {}
    for i, v in ipairs(e.lr_curve.loss) do
      if v == v and v ~= math.huge and v ~= -math.huge and e.lr_curve.lr[i] > 0 then
        x[#x + 1], y[#y + 1] = e.lr_curve.lr[i], v
      end
    end
    if #y > 0 then
      out[#out + 1] = {"lines", {{x = x, y = y, label = "loss"}, title = title .. ": loss against learning rate",
                                 xlabel = "learning rate", ylabel = "loss", logx = true}}
    end
  end
  for _, kind in ipairs{{"per_layer", "layer"}, {"per_feature", "feature"}} do
    local labels, values = named_values(e[kind[1]], kind[2])
    if labels then
      local label = type(e[kind[1] .. "_label"]) == "string" and e[kind[1] .. "_label"] or "value"
      out[#out + 1] = {"bars", {{labels = labels, values = values, label = label}, title = title .. ": " .. label
        .. " per " .. kind[2], xlabel = kind[2], ylabel = label}}
    end
  end
  if is_number_list(e.class_counts) then
    local labels = {}
    for i = 1, #e.class_counts do labels[i] = tostring(i - 1) end
    out[#out + 1] = {"bars", {{labels = labels, values = e.class_counts, label = "samples"},
                              title = title .. ": samples per class", xlabel = "class", ylabel = "samples"}}
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
  for k in pairs(e or {}) do keys[#keys + 1] = tostring(k) end
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
h2 .sev{font-size:.7em;text-transform:uppercase;margin-right:.5em}
table.evidence{border-collapse:collapse;font-size:.9em}table.evidence th,table.evidence td{border:1px solid #ccc;padding:.2em .5em;text-align:left}
code{background:#f4f4f4;padding:.1em .3em}figure{margin:1em 0}figure img{max-width:100%}.noplot{color:#777}
]]

--- The page's HTML for a report (opts.title, opts.plots = false to leave the plots out).
function html.render(report, opts)
  opts = opts or {}
  local title = opts.title or "lurn doctor"
  local findings = report:sorted()
  local counts = {error = 0, warning = 0, info = 0}
  for _, f in ipairs(findings) do counts[f.severity] = counts[f.severity] + 1 end
  local out = {"<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\">", "<title>" .. escape(title) .. "</title>",
               "<style>" .. CSS .. "</style></head><body>", "<h1>" .. escape(title) .. "</h1>",
               ("<p class=\"summary\">%d error(s), %d warning(s), %d note(s)</p>"):format(counts.error, counts.warning,
                 counts.info)}
  if #findings == 0 then out[#out + 1] = "<p>No findings.</p>" end
  for i, f in ipairs(findings) do
    out[#out + 1] = ('<section id="finding-%d" class="%s" data-code="%s">'):format(i, escape(f.severity), escape(f.code))
    out[#out + 1] = ('<h2><span class="sev">%s</span><code>%s</code>%s</h2>'):format(escape(f.severity), escape(f.code),
      f.layer and (" in layer <code>" .. escape(f.layer) .. "</code>") or "")
    out[#out + 1] = "<p>" .. escape(f.message) .. "</p>"
    if f.fix then out[#out + 1] = "<p class=\"fix\"><strong>Fix:</strong> " .. escape(f.fix) .. "</p>" end
    out[#out + 1] = evidence_table(f.evidence)
    if opts.plots ~= false then
      for _, p in ipairs(html.plots(f)) do out[#out + 1] = figure(p[1], p[2]) end
    end
    out[#out + 1] = "</section>"
  end
  out[#out + 1] = "</body></html>\n"
  return table.concat(out, "\n")
end

--- report:write_html(path [, {title =, plots = true}]) -> path.
function html.write(report, path, opts)
  if type(path) ~= "string" or path == "" then error("write_html: path must be a file name, got " .. type(path), 2) end
  local page = html.render(report, opts)
  local f, err = io.open(path, "wb")
  if not f then error("write_html: cannot write " .. tostring(err), 2) end
  f:write(page)
  f:close()
  return path
end

return html
