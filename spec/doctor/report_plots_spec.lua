-- The page shows the plots that show each finding (docs/doctor.md, "Plottable evidence"):
-- the findings the checks themselves make (check_data, diagnose's probe, Monitor, the
-- training checks) carry the evidence their plot needs, and the page written for a report
-- of every kind holds one drawn figure per plot, none left as a note.
local lurn = require "lurn"
local L = lurn.layers
local models = require "helpers.doctor_models"
local mlp = models.mlp
local report_html = require "lurn.doctor.report_html"
local training = require "lurn.doctor.training_checks"

local check = lurn.doctor.check_data

-- k separated Gaussian blobs in d dimensions (seeded), labels 0..k-1 in turn.
local function blobs(n, d, k, seed)
  lurn.manual_seed(seed)
  local x = lurn.randn{n, d}
  local y = lurn.zeros{n}
  local centres = lurn.randn{k, d} * 6
  for i = 1, n do
    y:set(i, (i - 1) % k)
    x:select(1, i):add_(centres:select(1, (i - 1) % k + 1))
  end
  return x, y
end

local function wine() return models.shipped("wine") end

local QUICK = {epochs = 5, batch_size = 16, budget_seconds = 10}

-- The first finding of `code` in a report, with the report shown when it is missing.
local function finding(report, code)
  local f = report:get(code)[1]
  assert(f, ("expected %s in:\n%s"):format(code, tostring(report)))
  return f
end

-- The kinds of plot (lurn.plot function and the spec's y label) a finding gives.
local function plot_kinds(f)
  local out = {}
  for _, p in ipairs(report_html.plots(f)) do
    local spec = p[2]
    out[#out + 1] = p[1] .. ":" .. tostring(spec.ylabel)
  end
  return out
end

local function has_kind(f, pattern)
  for _, k in ipairs(plot_kinds(f)) do
    if k:find(pattern) then return true end
  end
  error(("%s: no plot matching %s among {%s}"):format(f.code, pattern, table.concat(plot_kinds(f), ", ")))
end

-- Every finding of each kind, made by the checks themselves (gathered once: the probes
-- take a few seconds).
local findings
local function all_findings()
  if findings then return findings end
  local list = {}
  local function take(report, code) list[#list + 1] = finding(report, code) end
  -- the data
  local wx, wy = wine()
  take(check(wx, wy), "unscaled_features")
  local x, y = blobs(400, 6, 2, 5)
  local gaps = x:clone()
  gaps:set(3, 2, 0 / 0); gaps:set(9, 4, 0 / 0)
  take(check(gaps, y), "missing_values")
  local flat = x:clone()
  for i = 1, 400 do flat:set(i, 3, 2.5) end
  take(check(flat, y), "constant_feature")
  local far = x:clone()
  for i = 1, 4 do far:set(i * 7, 2, 1e4) end
  take(check(far, y), "outliers")
  local keep = {}
  for i = 1, 400 do if y:get(i) == 0 or i % 20 == 0 then keep[#keep + 1] = i end end
  local idx = lurn.tensor(keep)
  take(check(x:index(1, idx), y:index(1, idx)), "class_imbalance")
  local bx, by = blobs(400, 4, 4, 8)
  local tr, va = {}, {}
  for i = 1, 400 do
    if i <= 300 then if by:get(i) ~= 3 then tr[#tr + 1] = i end else va[#va + 1] = i end
  end
  take(check(bx:index(1, lurn.tensor(tr)), by:index(1, lurn.tensor(tr)),
    {validation_data = {bx:index(1, lurn.tensor(va)), by:index(1, lurn.tensor(va))}}), "split_missing_class")
  local nx, ny = blobs(1200, 10, 4, 10)
  local noisy = ny:clone()
  lurn.manual_seed(1)
  local r = lurn.rand{1200}
  for i = 1, 1200 do if r:get(i) < 0.2 then noisy:set(i, (noisy:get(i) + 1 + i % 3) % 4) end end
  take(check(nx, noisy), "label_noise")
  -- diagnose's probe
  lurn.manual_seed(1)
  local lx = lurn.randn{400, 2}
  local ly = (lx:select(2, 1) + lx:select(2, 2)):gt(0)
  local high = lurn.doctor.diagnose(mlp(2, 2, {lr = 50}), lx, ly, QUICK)
  take(high, "lr_too_high")
  take(high, "nan_loss")
  take(lurn.doctor.diagnose(mlp(2, 2, {lr = 1e-5}), lx, ly, QUICK), "lr_too_low")
  take(lurn.doctor.diagnose(mlp(2, 2, {bias = lurn.initializers.Constant{value = -10}}), lx, ly, QUICK), "dead_relu")
  take(lurn.doctor.diagnose(mlp(2, 2, {act = "tanh", init = lurn.initializers.RandomNormal{stddev = 20}}), lx, ly,
    QUICK), "saturation")
  take(lurn.doctor.diagnose(mlp(2, 2, {depth = 5, hidden = 32, init = lurn.initializers.RandomNormal{stddev = 0.01}}),
    lx, ly, QUICK), "vanishing_gradients")
  lurn.manual_seed(6)
  local xor = lurn.randn{400, 2}
  local xy = (xor:select(2, 1) * xor:select(2, 2)):gt(0)
  local linear = lurn.Sequential{L.Dense(2, {input_shape = {2}, activation = "softmax"})}
  linear:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.01}, loss = "sparse_categorical_crossentropy"}
  take(lurn.doctor.diagnose(linear, xor, xy, QUICK), "underfitting")
  lurn.manual_seed(5)
  local ox, oy = lurn.randn{48, 10}, lurn.rand{48}:gt(0.5)
  local vx, vy = lurn.randn{200, 10}, lurn.rand{200}:gt(0.5)
  take(lurn.doctor.diagnose(mlp(10, 2, {hidden = 128, optimizer = lurn.optimizers.Adam{learning_rate = 0.01}}), ox, oy,
    {validation_data = {vx, vy}, epochs = 60, batch_size = 16}), "overfitting")
  -- a gradient grown a hundredfold during training (the check Monitor and the probe share)
  local growth = lurn.doctor.Report.new()
  local function rows(g1, g2)
    return {{name = "a", grad_norm = g1, weight_norm = 1}, {name = "b", grad_norm = g2, weight_norm = 1}}
  end
  training.growth(growth, {rows(1, 2), rows(1.2, 20), rows(1.5, 300)})
  take(growth, "exploding_gradients")
  -- Monitor on the user's own fit: a diverging loss
  local mon = lurn.doctor.Monitor{every = 5, warn = false}
  mlp(2, 2, {lr = 50}):fit(lx, ly, {epochs = 5, batch_size = 16, verbose = 0, callbacks = {mon}})
  take(mon.report, "nan_loss")
  findings = list
  return findings
end

describe("the page's plots", function()
  it("every finding the checks make carries the evidence of its plot", function()
    local by_code = {}
    for _, f in ipairs(all_findings()) do
      assert(#report_html.plots(f) > 0, ("%s gives no plot; its evidence: %s"):format(f.code,
        tostring(lurn.doctor.Report.new():merge({findings = {f}}))))
      by_code[f.code] = by_code[f.code] or f
    end
    -- each the plot its code calls for
    has_kind(by_code.unscaled_features, "^bars:.*RMS")
    has_kind(by_code.missing_values, "^bars:missing")
    has_kind(by_code.constant_feature, "^bars:std")
    has_kind(by_code.outliers, "^bars:.*std")
    has_kind(by_code.class_imbalance, "^bars:samples")
    has_kind(by_code.split_missing_class, "^bars:samples")
    has_kind(by_code.label_noise, "^bars:suspect")
    has_kind(by_code.lr_too_high, "^lines:batch loss")  -- the three rates' losses per step
    has_kind(by_code.lr_too_high, "^lines:loss")        -- the loss against the rate
    has_kind(by_code.lr_too_low, "^lines:batch loss")
    has_kind(by_code.nan_loss, "^lines:loss")
    has_kind(by_code.dead_relu, "^bars:dead")
    has_kind(by_code.saturation, "^bars:saturated")
    -- a bar per layer: the output scale through the rectifiers, or the relative gradient
    has_kind(by_code.vanishing_gradients, "^bars:")
    assert.is_true(#by_code.vanishing_gradients.evidence.per_layer >= 3)
    has_kind(by_code.exploding_gradients, "^lines:gradient norm")  -- over training, per layer
    has_kind(by_code.underfitting, "^lines:loss")
    has_kind(by_code.overfitting, "^lines:loss")
    -- the three rates: the user's, a tenth, ten times
    local rates = by_code.lr_too_high.evidence.rate_curves
    assert.is_true(#rates >= 3)
    assert.is_true(#by_code.overfitting.evidence.val_loss_curve >= 3)
  end)

  it("the page draws one figure per plot, each an inlined SVG", function()
    local report = lurn.doctor.Report.new()
    local plots = 0
    for _, f in ipairs(all_findings()) do
      report:add(f)
      plots = plots + #report_html.plots(f)
    end
    local path = os.tmpname() .. ".html"
    report:write_html(path)
    local fh = assert(io.open(path, "rb"))
    local page = fh:read("a")
    fh:close()
    os.remove(path)
    os.remove(path:sub(1, -6))
    assert.equal(#all_findings(), select(2, page:gsub("<section ", "")))
    assert.equal(0, select(2, page:gsub('class="noplot"', "")), "a plot was not drawn (is gnuplot installed?)")
    assert.equal(plots, select(2, page:gsub('<figure><img alt="[^"]*" src="data:image/svg%+xml;base64,', "")))
    -- the numbers only a plot reads are drawn, not listed in the evidence table
    assert.falsy(page:find("<th>rate_curves</th>", 1, true))
    assert.falsy(page:find("<th>per_feature</th>", 1, true))
  end)

  it("the text report leaves the plot-only fields out", function()
    local report = lurn.doctor.Report.new()
    for _, f in ipairs(all_findings()) do report:add(f) end
    local text = tostring(report)
    for field in pairs(lurn.doctor.Report.PLOT_FIELDS) do
      assert.falsy(text:find(field .. " = ", 1, true), field)
    end
  end)

  it("puts the findings under a heading per group (lurn doctor: one per fit)", function()
    local a, b = lurn.doctor.Report.new(), lurn.doctor.Report.new()
    a:add{code = "dead_relu", severity = "warning", layer = "dense", message = "dead", fix = "leaky_relu",
          evidence = {per_layer = {{layer = "dense", value = 0.9}}, per_layer_label = "dead fraction"}}
    local page = report_html.render(a, {plots = false, groups = {{heading = "fit 1 at s.lua:3", report = a},
                                                                 {heading = "fit 2 at s.lua:9", report = b,
                                                                  notes = {"a note"}}}})
    local first, second = page:find("fit 1 at s.lua:3", 1, true), page:find("fit 2 at s.lua:9", 1, true)
    assert.truthy(first and second and first < second)
    local section = page:find('data-code="dead_relu"', 1, true)
    assert.truthy(section > first and section < second)
    assert.truthy(page:find("a note", 1, true))
    assert.truthy(page:find("0 error(s), 1 warning(s), 0 note(s)", 1, true))
  end)
end)
