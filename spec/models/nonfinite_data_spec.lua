-- Data with a NaN or an infinity is refused by fit, evaluate and predict with the sample
-- and feature (1-based) that holds it: a NaN input otherwise trains the first layer's
-- weights into NaN behind a normal-looking loss. allow_nonfinite = true lets it through.
local lurn = require "lurn"
local L = lurn.layers

local nan, inf = 0 / 0, math.huge

local function model_for(inputs)
  local m = lurn.Sequential{L.Dense(4, {input_shape = {inputs}, activation = "relu"}), L.Dense(1)}
  m:compile{optimizer = "sgd", loss = "mse"}
  return m
end

local quiet = {verbose = 0}

describe("non-finite data", function()
  before_each(function() lurn.manual_seed(5) end)

  it("is refused by fit, naming the sample and the feature of x", function()
    local model = model_for(20)
    local x, y = lurn.randn{10, 20}, lurn.randn{10, 1}
    x:set(3, 17, nan)
    assert.error_matches(function() model:fit(x, y, quiet) end, "fit: x has NaN at sample 3, feature 17", nil, true)
    x:set(3, 17, 0)
    x:set(10, 1, -inf)
    assert.error_matches(function() model:fit(x, y, quiet) end, "x has -inf at sample 10, feature 1", nil, true)
  end)

  it("names y, sample_weight and validation_data", function()
    local model = model_for(2)
    local x, y = lurn.randn{6, 2}, lurn.randn{6, 1}
    local bad_y = y:clone()
    bad_y:set(4, 1, inf)
    assert.error_matches(function() model:fit(x, bad_y, quiet) end, "y has inf at sample 4, feature 1", nil, true)
    local w = lurn.ones{6}
    w:set(2, nan)
    assert.error_matches(function() model:fit(x, y, {verbose = 0, sample_weight = w}) end,
      "sample_weight has NaN at sample 2", nil, true)
    local xv = x:clone()
    xv:set(5, 2, nan)
    assert.error_matches(function() model:fit(x, y, {verbose = 0, validation_data = {xv, y}}) end,
      "validation_data x has NaN at sample 5, feature 2", nil, true)
  end)

  it("is refused in each batch a generator yields", function()
    local model = model_for(2)
    local calls = 0
    local function gen()
      calls = calls + 1
      local xb = lurn.randn{4, 2}
      if calls == 3 then xb:set(2, 1, nan) end
      return xb, lurn.randn{4, 1}
    end
    assert.error_matches(function() model:fit(gen, {steps_per_epoch = 5, verbose = 0}) end,
      "batch 3 from the generator%): x has NaN at sample 2, feature 1")
  end)

  it("is refused by evaluate and predict; an image names its position", function()
    local model = model_for(3)
    local x = lurn.randn{5, 3}
    x:set(5, 3, nan)
    assert.error_matches(function() model:evaluate(x, lurn.zeros{5, 1}, quiet) end,
      "evaluate: x has NaN at sample 5, feature 3", nil, true)
    assert.error_matches(function() model:predict(x) end, "predict: x has NaN at sample 5, feature 3", nil, true)
    local conv = lurn.Sequential{L.Conv2D(2, 3, {input_shape = {5, 6, 2}}), L.Flatten()}
    local img = lurn.zeros{2, 5, 6, 2}
    img:set(2, 4, 6, 1, inf)
    assert.error_matches(function() conv:predict(img) end, "x has inf at sample 2, position (4, 6, 1)", nil, true)
  end)

  it("passes with allow_nonfinite = true (and NaN reaches the loss)", function()
    local model = model_for(2)
    local x, y = lurn.randn{4, 2}, lurn.randn{4, 1}
    x:set(1, 1, nan)
    local out = model:predict(x, {allow_nonfinite = true})
    assert.is_true(out:get(1, 1) ~= out:get(1, 1))  -- relu keeps the NaN: the output is NaN
    local scores = model:evaluate(x, y, {verbose = 0, allow_nonfinite = true})
    assert.is_true(scores.loss ~= scores.loss)
  end)

  it("the C scan finds the first non-finite value of a large tensor", function()
    local core = require "lurn.core"
    local t = lurn.zeros{1000, 100}
    assert.is_nil(core.first_nonfinite(t))
    t:set(700, 42, nan)
    t:set(900, 1, inf)
    local pos, v = core.first_nonfinite(t)
    assert.equal(699 * 100 + 42, pos)
    assert.is_true(v ~= v)
  end)
end)
