-- report:write_html(path): a self-contained page (nothing fetched) with every finding, most
-- severe first, its evidence and fix, and a plot for each finding that carries plottable
-- evidence (docs/doctor.md, "Plottable evidence").
require "lurn"
local Report = require "lurn.doctor.report"
local report_html = require "lurn.doctor.report_html"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function sample_report()
  local r = Report.new()
  r:add{code = "class_imbalance", severity = "info", message = "class 1 is 10% of the samples",
        fix = "fit(x, y, {class_weight = {...}})", evidence = {class_counts = {90, 10}}}
  r:add{code = "dead_relu", severity = "warning", layer = "dense", message = "92% of <dense>'s units never fire",
        fix = "Dense(64, {activation = 'leaky_relu'})",
        evidence = {per_layer = {{layer = "dense", value = 0.92}, {layer = "dense_1", value = 0.05}},
                    per_layer_label = "dead fraction"}}
  r:add{code = "lr_too_high", severity = "error", message = "the loss diverges",
        fix = "Adam{learning_rate = 1e-3}", evidence = {loss_curve = {1.0, 1.5, 3.0, 0 / 0}, suggested_lr = 1e-3}}
  r:add{code = "overfitting", severity = "warning", message = "validation loss rises", fix = "EarlyStopping",
        evidence = {gap = 0.4}}
  return r
end

describe("report:write_html", function()
  local path
  before_each(function() path = os.tmpname() .. ".html" end)
  after_each(function() os.remove(path); os.remove(path:sub(1, -6)) end)

  it("writes a page that lists every finding, most severe first, with evidence and fix", function()
    local r = sample_report()
    assert.equal(path, r:write_html(path))
    local page = read(path)
    local order = {}
    for code in page:gmatch('data%-code="([%w_]+)"') do order[#order + 1] = code end
    assert.same({"lr_too_high", "dead_relu", "overfitting", "class_imbalance"}, order)
    assert.truthy(page:find("Adam{learning_rate = 1e-3}", 1, true))
    assert.truthy(page:find("suggested_lr", 1, true))
    assert.truthy(page:find("&lt;dense&gt;", 1, true))  -- escaped
    assert.truthy(page:find("1 error(s), 2 warning(s), 1 note(s)", 1, true))
  end)

  it("is self-contained: no script, no stylesheet or image fetched", function()
    local r = sample_report()
    r:write_html(path)
    local page = read(path)
    assert.falsy(page:find("<script", 1, true))
    assert.falsy(page:find("<link", 1, true))
    assert.falsy(page:find('src="http', 1, true))
    for src in page:gmatch('src="([^"]*)"') do assert.equal("data:image/svg+xml;base64,", src:sub(1, 26)) end
  end)

  it("plots the findings that carry plottable evidence, and only those", function()
    local r = sample_report()
    local plots = {}
    for _, f in ipairs(r.findings) do plots[f.code] = #report_html.plots(f) end
    assert.same({class_imbalance = 1, dead_relu = 1, lr_too_high = 1, overfitting = 0}, plots)
    r:write_html(path)
    local page = read(path)
    local figures = select(2, page:gsub("<figure>", ""))
    local notes = select(2, page:gsub('class="noplot"', ""))
    assert.equal(3, figures + notes)  -- without gnuplot, a note says why instead
  end)

  it("writes a page for an empty report", function()
    Report.new():write_html(path)
    assert.truthy(read(path):find("No findings", 1, true))
  end)

  it("refuses unknown options and a folder it cannot write, and leaves the old page whole", function()
    Report.new():write_html(path, {title = "old"})
    local before = read(path)
    local ok, err = pcall(Report.new().write_html, Report.new(), path, {titel = "x"})
    assert.is_false(ok)
    assert.matches("unknown option 'titel'", err, 1, true)
    assert.is_false((pcall(Report.new().write_html, Report.new(), path, "title")))
    ok, err = pcall(Report.new().write_html, Report.new(), "/nonexistent-lurn-dir/p.html")
    assert.is_false(ok)
    assert.matches("write_html: cannot write", err, 1, true)
    assert.equal(before, read(path))
  end)
end)
