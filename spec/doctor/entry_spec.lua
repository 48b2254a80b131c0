-- What every doctor entry point shares at its door: codes that exist (a misspelt one is an
-- error, not a "not found" forever), inputs the model cannot take refused as fit refuses
-- them, and labels the loss reads wrongly reported as such before any probe runs.
local lurn = require "lurn"
local Report = require "lurn.doctor.report"
local L = lurn.layers

local function mlp(inputs, classes)
  lurn.manual_seed(3)
  local m = lurn.Sequential{L.Dense(8, {activation = "relu", input_shape = {inputs}}),
                            L.Dense(classes, {activation = "softmax"})}
  return m:compile{optimizer = "adam", loss = "sparse_categorical_crossentropy"}
end

local function labels(n, classes)
  local t = {}
  for i = 1, n do t[i] = i % classes end
  return lurn.tensor(t)
end

describe("the doctor's report codes", function()
  it("lists the 22 codes of docs/doctor.md by kind", function()
    local n = 0
    for _, kind in pairs(Report.CODES) do n = n + #kind end
    assert.equal(22, n)
    local doc = io.open("docs/doctor.md"):read("a")
    for _, kind in pairs(Report.CODES) do
      for _, code in ipairs(kind) do assert.truthy(doc:find("`" .. code .. "`", 1, true), code .. " is not documented") end
    end
  end)

  it("refuses an unknown code in has and get, naming the known ones", function()
    local r = Report.new()
    assert.has_error(function() r:has("unscaled_feature") end)
    local ok, err = pcall(r.get, r, "dead_relus")
    assert.is_false(ok)
    assert.truthy(err:find("unknown code 'dead_relus'", 1, true))
    assert.truthy(err:find("dead_relu,", 1, true))
    assert.has_error(function() r:has("dead_relu", "fatal") end)
    assert.is_false(r:has("dead_relu"))
    assert.same({}, r:get("dead_relu"))
  end)
end)

describe("diagnose at its door", function()
  it("refuses x of another shape than the model's input, as fit does", function()
    lurn.set_num_threads(1)
    local ok, err = pcall(lurn.doctor.diagnose, mlp(4, 3), lurn.randn{50, 5}, labels(50, 3))
    assert.is_false(ok)
    assert.truthy(err:find("input of shape (50, 5) does not match the model's input shape (None, 4)", 1, true), err)
    ok, err = pcall(lurn.doctor.diagnose, mlp(4, 3), lurn.randn{50, 4}, labels(50, 3),
                    {validation_data = {lurn.randn{10, 3}, labels(10, 3)}})
    assert.is_false(ok)
    assert.truthy(err:find("validation_data", 1, true), err)
  end)

  it("reports one-hot labels with a sparse loss as label_encoding_mismatch, not as a NaN loss", function()
    lurn.set_num_threads(1)
    local y = lurn.utils.to_categorical(labels(60, 3))
    local r = lurn.doctor.diagnose(mlp(4, 3), lurn.randn{60, 4}, y)
    assert.is_true(r:has("label_encoding_mismatch", "error"))
    assert.is_false(r:has("nan_loss"))
    assert.truthy(r.probe.skipped)
  end)
end)
