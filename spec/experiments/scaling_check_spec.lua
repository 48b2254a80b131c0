-- lurn.experiments.scaling_check: raw features against StandardScaler and MinMaxScaler,
-- each fitted on the training split only.
local lurn = require "lurn"
local tiny = require "helpers.tiny_data"

describe("lurn.experiments.scaling_check", function()
  local build = tiny.builder{optimizer = lurn.optimizers.Adam{learning_rate = 0.01}}

  it("shows scaling helping features of disparate magnitudes, and measures the spread", function()
    local x, y = tiny.classification(160)
    x = x * lurn.tensor{{1000, 0.01}} + lurn.tensor{{5000, 0}}
    local r = lurn.experiments.scaling_check(build, x, y, {epochs = 5})
    assert.same({"raw", "StandardScaler", "MinMaxScaler"}, {r.runs[1].name, r.runs[2].name, r.runs[3].name})
    assert.is_true(r.feature_spread.ratio > 1e4)
    assert.is_true(r.runs[2].best_val_loss < r.runs[1].best_val_loss)
    assert.matches("Scaling helped", r.report, 1, true)
  end)

  it("fits the scaler on the training split only", function()
    local x, y = tiny.classification(40)
    local xv, yv = tiny.classification(10, 2)
    local seen = {}
    local Spy = {}
    Spy.__index = Spy
    function Spy:fit(t) seen[#seen + 1] = t:size(1); self.s = lurn.preprocessing.StandardScaler():fit(t); return self end
    function Spy:transform(t) return self.s:transform(t) end
    local r = lurn.experiments.scaling_check(build, x, y, {epochs = 1, validation_data = {xv, yv},
      scalers = {{name = "spy", scaler = function() return setmetatable({}, Spy) end}}})
    assert.same({40}, seen)
    assert.equal(1, #r.runs)
  end)

  it("says when the raw features already share a scale and scaling makes no clear difference", function()
    local x, y = tiny.classification(160)
    local r = lurn.experiments.scaling_check(build, x, y, {epochs = 3,
      scalers = {{name = "raw"}, {name = "StandardScaler", scaler = lurn.preprocessing.StandardScaler()}}})
    assert.is_true(r.feature_spread.ratio < 10)
    local a, b = r.runs[1].best_val_loss, r.runs[2].best_val_loss
    if (a - b) / a > 0.05 then
      assert.matches("Scaling helped", r.report, 1, true)
    else
      assert.matches("as expected with raw scales already within 10 x", r.report, 1, true)
    end
  end)

  it("refuses a scaler that is not one", function()
    local x, y = tiny.classification(20)
    local ok, e = pcall(lurn.experiments.scaling_check, build, x, y, {scalers = {{name = "bad", scaler = 3}}})
    assert.is_false(ok)
    assert.matches("scaling_check_spec.lua:%d+: scaling_check: scalers%[1%]: scaler must be a scaler", e)
  end)
end)
