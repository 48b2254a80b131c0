--- The report of a run of the lessons (issue 18): out/report.md and out/report.html from
-- the sections run_all.lua collected. The page is self-contained: CSS inline, every plot
-- inlined as a data URI (PNG as it is, SVG as text), no script, nothing fetched.
--
-- An entry per lesson: {name =, title =, status = "ok" | "error" | "missing", section =
-- (status ok), error = (status error), seconds =}. In the page each lesson is a
-- <section id="NAME" data-status="STATUS">, listed in the table of contents; the browser
-- test (spec/integration/report_browser.sh) checks them by those ids. Before them, the
-- doctor's outcome across the lessons (report.doctor_summary) in <div id="doctor">.
package.path = "scripts/experiments/?.lua;" .. package.path
local lesson = require "lesson"

local report = {}

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local data = f:read("a")
  f:close()
  return data
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

--- Base64 (RFC 4648) of a string.
function report.base64(data)
  local out = {}
  for i = 1, #data, 3 do
    local a, b, c = data:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local s1, s2 = n >> 18, (n >> 12) & 63
    local s3, s4 = (n >> 6) & 63, n & 63
    out[#out + 1] = B64:sub(s1 + 1, s1 + 1) .. B64:sub(s2 + 1, s2 + 1)
      .. (b and B64:sub(s3 + 1, s3 + 1) or "=") .. (c and B64:sub(s4 + 1, s4 + 1) or "=")
  end
  return table.concat(out)
end

--- Text made safe for HTML.
function report.escape(s)
  return (tostring(s):gsub("[&<>\"]", {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;"}))
end
local escape = report.escape

local MIME = {png = "image/png", svg = "image/svg+xml", jpg = "image/jpeg", jpeg = "image/jpeg", gif = "image/gif"}

--- An image file as a data URI, or nil (not an image, or unreadable).
function report.data_uri(path)
  local mime = MIME[(path:match("%.(%w+)$") or ""):lower()]
  if not mime then return nil end
  local data = read(path)
  if not data or #data == 0 then return nil end
  return ("data:%s;base64,%s"):format(mime, report.base64(data))
end

-- Inline Markdown: `code`, **bold**, *emphasis*, images and links; `image(alt, src)` gives
-- the HTML of an image.
local function inline(text, image)
  local parts = {}
  local i = 1
  while true do
    local s, e, code = text:find("`([^`]+)`", i)
    local plain = text:sub(i, (s or #text + 1) - 1)
    plain = escape(plain)
    plain = plain:gsub("!%[([^%]]*)%]%(([^)%s]+)%)", function(alt, src) return image(alt, src) end)
    plain = plain:gsub("%[([^%]]+)%]%(([^)%s]+)%)", '<a href="%2">%1</a>')
    plain = plain:gsub("%*%*(.-)%*%*", "<strong>%1</strong>")
    plain = plain:gsub("%f[%w%*]%*([^%*\n]+)%*", "<em>%1</em>")
    plain = plain:gsub("\\|", "|")
    parts[#parts + 1] = plain
    if not s then break end
    parts[#parts + 1] = "<code>" .. escape(code) .. "</code>"
    i = e + 1
  end
  return table.concat(parts)
end

local function split_row(line)
  line = line:gsub("\\|", "\1"):gsub("^%s*|", ""):gsub("|%s*$", "")
  local cells = {}
  for c in (line .. "|"):gmatch("(.-)|") do cells[#cells + 1] = (c:gsub("\1", "\\|"):match("^%s*(.-)%s*$")) end
  return cells
end

--- Markdown blocks as HTML: paragraphs, headings (shifted so that none is above h3),
-- lists, tables, fenced code. image(alt, src) renders images (default: a broken-free
-- text note).
function report.markdown(md, image)
  image = image or function(alt) return "[" .. escape(alt) .. "]" end
  local lines = {}
  for line in (tostring(md or "") .. "\n"):gmatch("(.-)\r?\n") do lines[#lines + 1] = line end
  local out, para, i = {}, {}, 1
  local function flush()
    if #para > 0 then out[#out + 1] = "<p>" .. inline(table.concat(para, "\n"), image) .. "</p>" end
    para = {}
  end
  while i <= #lines do
    local line = lines[i]
    if line:match("^%s*$") then
      flush()
      i = i + 1
    elseif line:match("^```") then
      flush()
      local code = {}
      i = i + 1
      while i <= #lines and not lines[i]:match("^```") do code[#code + 1] = lines[i]; i = i + 1 end
      out[#out + 1] = "<pre><code>" .. escape(table.concat(code, "\n")) .. "</code></pre>"
      i = i + 1
    elseif line:match("^#+%s") then
      flush()
      local hashes, text = line:match("^(#+)%s+(.-)%s*$")
      local level = math.min(math.max(#hashes, 3), 6)
      out[#out + 1] = ("<h%d>%s</h%d>"):format(level, inline(text, image), level)
      i = i + 1
    elseif line:match("^%s*|") and lines[i + 1] and lines[i + 1]:match("^%s*|[%s:%-|]+$") then
      flush()
      local rows = {split_row(line)}
      i = i + 2
      while i <= #lines and lines[i]:match("^%s*|") do rows[#rows + 1] = split_row(lines[i]); i = i + 1 end
      local html = {"<table>", "<thead><tr>"}
      for _, c in ipairs(rows[1]) do html[#html + 1] = "<th>" .. inline(c, image) .. "</th>" end
      html[#html + 1] = "</tr></thead><tbody>"
      for r = 2, #rows do
        html[#html + 1] = "<tr>"
        for _, c in ipairs(rows[r]) do html[#html + 1] = "<td>" .. inline(c, image) .. "</td>" end
        html[#html + 1] = "</tr>"
      end
      html[#html + 1] = "</tbody></table>"
      out[#out + 1] = table.concat(html)
    elseif line:match("^%s*[-*]%s") and not line:match("^%s*%*%*") or line:match("^%s*%d+%.%s") then
      flush()
      local ordered = line:match("^%s*%d+%.%s") ~= nil
      local items = {}
      while i <= #lines do
        local l = lines[i]
        local item = l:match("^%s*[-*]%s+(.*)$") or l:match("^%s*%d+%.%s+(.*)$")
        if item and not l:match("^%s*%*%*") then
          items[#items + 1] = item
        elseif #items > 0 and l:match("^%s+%S") then
          items[#items] = items[#items] .. "\n" .. l:match("^%s+(.*)$")
        else
          break
        end
        i = i + 1
      end
      local tag = ordered and "ol" or "ul"
      local html = {"<" .. tag .. ">"}
      for _, item in ipairs(items) do html[#html + 1] = "<li>" .. inline(item, image) .. "</li>" end
      html[#html + 1] = "</" .. tag .. ">"
      out[#out + 1] = table.concat(html)
    else
      para[#para + 1] = line
      i = i + 1
    end
  end
  flush()
  return table.concat(out, "\n")
end

local function seconds_text(s)
  if type(s) ~= "number" then return "-" end
  if s < 60 then return ("%.1f s"):format(s) end
  return ("%d min %02d s"):format(math.floor(s / 60), math.floor(s % 60))
end
report.seconds_text = seconds_text

-- A lesson's plot as HTML: an image inlined from out/<name>/<file>, or a note when the
-- file is not an image (a gnuplot script written where gnuplot is missing) or is absent.
local function figure(dir, plot)
  local path = plot.file:sub(1, 1) == "/" and plot.file or (dir .. "/" .. plot.file)
  local caption = escape(plot.caption or plot.file)
  local uri = report.data_uri(path)
  if uri then
    return ('<figure><img src="%s" alt="%s"><figcaption>%s</figcaption></figure>'):format(uri, caption, caption)
  end
  if path:match("%.gp$") then
    return ('<p class="note">Plot script <code>%s</code> (gnuplot was not found: draw it with <code>gnuplot -p %s</code>).</p>')
      :format(escape(plot.file), escape(plot.file))
  end
  return ('<p class="note">Plot <code>%s</code>: the file is missing or is not an image.</p>'):format(escape(plot.file))
end

local function html_table(t)
  local html = {"<table>"}
  if t.caption then html[#html + 1] = "<caption>" .. inline(t.caption, function() return "" end) .. "</caption>" end
  html[#html + 1] = "<thead><tr>"
  for _, h in ipairs(t.header or {}) do html[#html + 1] = "<th>" .. escape(lesson.cell_text(h)) .. "</th>" end
  html[#html + 1] = "</tr></thead><tbody>"
  for _, row in ipairs(t.rows or {}) do
    html[#html + 1] = "<tr>"
    for c = 1, #(t.header or {}) do
      local v = row[c]
      local cls = type(v) == "number" and ' class="num"' or ""
      html[#html + 1] = ("<td%s>%s</td>"):format(cls, escape(v == nil and "" or lesson.cell_text(v)))
    end
    html[#html + 1] = "</tr>"
  end
  html[#html + 1] = "</tbody></table>"
  return table.concat(html)
end

local CSS = [[
body { font-family: sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; color: #222; }
h1 { font-size: 1.7rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; margin-top: 2.5rem; }
nav ol { columns: 2; } nav .status { color: #777; font-size: .9em; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } caption { font-style: italic; text-align: left; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .9rem; color: #555; }
.conclusion { background: #f3f7ee; border-left: 4px solid #6a5; padding: .5rem 1rem; }
.meta { color: #666; font-size: .9rem; }
section[data-status="error"] .problem { background: #fbeeee; border-left: 4px solid #c44; padding: .5rem 1rem; }
section[data-status="missing"] .problem { background: #f6f6f6; border-left: 4px solid #999; padding: .5rem 1rem; }
pre { overflow-x: auto; background: #f6f6f6; padding: .5rem; } code { background: #f3f3f3; }
footer { margin-top: 3rem; border-top: 1px solid #ccc; color: #555; font-size: .9rem; }
]]

local TITLE = "Why is my network not learning? The lessons, run"

local function status_text(e)
  if e.status == "ok" then return seconds_text(e.seconds) end
  if e.status == "error" then return "failed" end
  return "not written yet"
end

--- The doctor's outcome across the lessons (the tables lesson.lua adds, issue 19) as one
-- table {caption =, header =, rows =}, or nil when no lesson ran the doctor: per lesson the
-- broken configurations whose code was found, the fixed ones that came out clean, and the
-- misses and false alarms by name; a last row of totals.
function report.doctor_summary(entries)
  local rows, total = {}, {found = 0, broken = 0, clean = 0, fixed = 0}
  for _, e in ipairs(entries) do
    local list = e.status == "ok" and e.section.doctor
    if list and #list > 0 then
      local c, faults = {found = 0, broken = 0, clean = 0, fixed = 0}, {}
      for _, r in ipairs(list) do
        if r.fixed then
          c.fixed = c.fixed + 1
          if r.verdict == "clean" then c.clean = c.clean + 1 else faults[#faults + 1] = r.name .. ": " .. r.verdict end
        elseif r.expect then
          c.broken = c.broken + 1
          if r.verdict == "found" then c.found = c.found + 1 else faults[#faults + 1] = r.name .. ": " .. r.verdict end
        end
      end
      for k, v in pairs(c) do total[k] = total[k] + v end
      rows[#rows + 1] = {e.name, ("%d / %d"):format(c.found, c.broken), ("%d / %d"):format(c.clean, c.fixed),
                         #faults > 0 and table.concat(faults, "; ") or "-"}
    end
  end
  if #rows == 0 then return nil end
  rows[#rows + 1] = {"all", ("%d / %d"):format(total.found, total.broken), ("%d / %d"):format(total.clean, total.fixed), ""}
  return {caption = "The doctor on the lessons' broken and fixed configurations (each lesson's table has the codes): "
            .. "broken ones whose expected code the doctor gave, fixed ones with no warning or error",
          header = {"lesson", "broken configurations found", "fixed configurations clean", "misses and false alarms"},
          rows = rows}
end

--- The HTML page of entries (list), with info = {mode =, command =, date =, machine =,
-- seconds =, out =}.
function report.html(entries, info)
  local h = {"<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             "<title>" .. escape(TITLE) .. "</title>", "<style>" .. CSS .. "</style></head><body>",
             "<h1>" .. escape(TITLE) .. "</h1>",
             ('<p class="meta">lurn, %s mode: %d lesson(s) run, %d failed, %d not written yet; %s in all.</p>'):format(
               escape(info.mode), info.counts.ok, info.counts.error, info.counts.missing, seconds_text(info.seconds)),
             '<nav id="toc"><h2>Contents</h2><ol>'}
  for _, e in ipairs(entries) do
    h[#h + 1] = ('<li><a href="#%s">%s</a> <span class="status">(%s)</span></li>'):format(e.name, escape(e.title),
      escape(status_text(e)))
  end
  h[#h + 1] = "</ol></nav>"
  local doctor = report.doctor_summary(entries)
  -- a div: the lessons alone are <section>s (spec/integration/report_browser.sh reads them)
  if doctor then h[#h + 1] = '<div id="doctor"><h2>The lessons as doctor cases</h2>' .. html_table(doctor) .. "</div>" end
  for k, e in ipairs(entries) do
    h[#h + 1] = ('<section id="%s" class="lesson" data-status="%s">'):format(e.name, e.status)
    h[#h + 1] = ("<h2>%d. %s</h2>"):format(k, escape(e.title))
    if e.status == "ok" then
      local s, dir = e.section, info.out .. "/" .. e.name
      h[#h + 1] = ('<p class="meta">Lesson <code>%s</code> (<code>scripts/experiments/%s.lua</code>), %s mode, %s; results in <code>%s/</code>.</p>')
        :format(e.name, e.name, escape(info.mode), seconds_text(e.seconds), escape(dir))
      if s.compared then h[#h + 1] = "<h3>What was compared</h3>\n" .. report.markdown(s.compared) end
      for _, t in ipairs(s.tables or {}) do h[#h + 1] = html_table(t) end
      for _, p in ipairs(s.plots or {}) do h[#h + 1] = figure(dir, p) end
      if s.conclusion then
        h[#h + 1] = '<div class="conclusion"><strong>Conclusion.</strong> ' .. report.markdown(s.conclusion) .. "</div>"
      end
    elseif e.status == "error" then
      h[#h + 1] = ('<div class="problem"><p>The lesson failed after %s:</p><pre>%s</pre></div>'):format(
        seconds_text(e.seconds), escape(e.error))
    else
      h[#h + 1] = ('<div class="problem"><p>No lesson file <code>scripts/experiments/%s.lua</code> yet.</p></div>')
        :format(e.name)
    end
    h[#h + 1] = "</section>"
  end
  h[#h + 1] = ("<footer><p>Written %s on %s, %s mode, in %s.</p><p>Command: <code>%s</code></p></footer>"):format(
    escape(info.date), escape(info.machine), escape(info.mode), seconds_text(info.seconds), escape(info.command))
  h[#h + 1] = "</body></html>\n"
  return table.concat(h, "\n")
end

--- The Markdown report (plots linked into the lessons' folders).
function report.markdown_report(entries, info)
  local m = {"# " .. TITLE, "",
             ("lurn, %s mode: %d lesson(s) run, %d failed, %d not written yet; %s in all."):format(info.mode,
               info.counts.ok, info.counts.error, info.counts.missing, seconds_text(info.seconds)), "", "## Contents", ""}
  for k, e in ipairs(entries) do
    m[#m + 1] = ("%d. [%s](#%s) (%s)"):format(k, e.title, e.name, status_text(e))
  end
  m[#m + 1] = ""
  local doctor = report.doctor_summary(entries)
  if doctor then
    m[#m + 1] = "## The lessons as doctor cases\n"
    m[#m + 1] = lesson.markdown_table(doctor)
    m[#m + 1] = ""
  end
  for k, e in ipairs(entries) do
    m[#m + 1] = ('<a id="%s"></a>'):format(e.name)
    m[#m + 1] = ""
    if e.status == "ok" then
      local s = {}
      for key, v in pairs(e.section) do s[key] = v end
      s.plots = {}
      for i, p in ipairs(e.section.plots or {}) do
        s.plots[i] = {file = p.file:sub(1, 1) == "/" and p.file or (e.name .. "/" .. p.file), caption = p.caption}
      end
      m[#m + 1] = lesson.section_markdown({title = ("%d. %s"):format(k, e.title)}, s)
      m[#m + 1] = ("*Lesson `%s`, %s mode, %s.*"):format(e.name, info.mode, seconds_text(e.seconds))
    elseif e.status == "error" then
      m[#m + 1] = ("## %d. %s\n\nThe lesson failed after %s:\n\n```\n%s\n```"):format(k, e.title, seconds_text(e.seconds),
        e.error)
    else
      m[#m + 1] = ("## %d. %s\n\nNo lesson file `scripts/experiments/%s.lua` yet."):format(k, e.title, e.name)
    end
    m[#m + 1] = ""
  end
  m[#m + 1] = "---"
  m[#m + 1] = ""
  m[#m + 1] = ("Written %s on %s, %s mode, in %s. Command: `%s`"):format(info.date, info.machine, info.mode,
    seconds_text(info.seconds), info.command)
  return table.concat(m, "\n") .. "\n"
end

--- Writes OUT/report.md and OUT/report.html.
function report.write(entries, info)
  info.counts = {ok = 0, error = 0, missing = 0}
  for _, e in ipairs(entries) do info.counts[e.status] = info.counts[e.status] + 1 end
  write(info.out .. "/report.md", report.markdown_report(entries, info))
  write(info.out .. "/report.html", report.html(entries, info))
end

return report
