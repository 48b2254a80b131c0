-- 1-D pooling: hand-checked max and average windows, "same" pooling the elements inside
-- the sequence only, Keras' output lengths (strides default to pool_size), the global
-- forms and keepdims, gradients against finite differences, a relu below max pooling
-- (the fused mask), and errors.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"

local flat = gradcheck.flat
local L = lurn.layers

local function built(layer, shape)
  layer:build(shape)
  return layer
end

-- Distinct values 0.1 apart in a random order: no ties, so the max never changes hands
-- during a finite-difference check.
local function distinct(shape)
  local n = 1
  for _, s in ipairs(shape) do n = n * s end
  return lurn.randperm(n):reshape(shape) * 0.1 - n * 0.05
end

-- (1, steps, 1) from a list
local function seq(values)
  return lurn.tensor(values):reshape{1, #values, 1}
end

describe("1-D pooling", function()
  before_each(function() lurn.manual_seed(3) end)

  it("MaxPooling1D picks the max of each window and routes the gradient to it (hand-checked)", function()
    local layer = built(L.MaxPooling1D(2), {5, 1})
    assert.same({2, 1}, layer.output_shape)
    local x = seq{1, 5, 7, 2, 9}
    local y = layer._core:forward(x, true)
    assert.same({5, 7}, flat(y))
    local dx = layer._core:backward(x, y, lurn.tensor{10, 20}:reshape{1, 2, 1})
    assert.same({0, 10, 20, 0, 0}, flat(dx))
  end)

  it("AveragePooling1D 'same' averages the elements inside the sequence only (hand-checked)", function()
    local layer = built(L.AveragePooling1D(2, {padding = "same"}), {5, 1})
    assert.same({3, 1}, layer.output_shape)
    assert.same({1.5, 3.5, 5}, flat(layer(seq{1, 2, 3, 4, 5})))
    local avg = built(L.AveragePooling1D(3, {strides = 1}), {5, 1})
    assert.same({2, 3, 4}, flat(avg(seq{1, 2, 3, 4, 5})))
  end)

  it("has Keras' output lengths: strides default to pool_size", function()
    local cases = {
      {L.MaxPooling1D(), {5, 2}, {2, 2}},
      {L.MaxPooling1D(2, {padding = "same"}), {5, 3}, {3, 3}},
      {L.MaxPooling1D(3, {strides = 2}), {7, 1}, {3, 1}},
      {L.MaxPooling1D{pool_size = 3, strides = 1}, {4, 1}, {2, 1}},
      {L.AveragePooling1D({4}, {strides = {3}, padding = "same"}), {10, 1}, {4, 1}},
      {L.GlobalAveragePooling1D(), {6, 4}, {4}},
      {L.GlobalMaxPooling1D{keepdims = true}, {6, 4}, {1, 4}},
    }
    for _, c in ipairs(cases) do
      local layer, shape, want = table.unpack(c)
      assert.same(want, built(layer, shape).output_shape, tostring(layer))
      assert.same({2, table.unpack(want)}, layer(lurn.randn{2, table.unpack(shape)}):shape())
    end
  end)

  it("global pooling takes the mean and the max over the steps, per channel (hand-checked)", function()
    local x = lurn.tensor{{{1, -1}, {4, -4}, {7, -1}}}
    assert.same({{4, -2}}, L.GlobalAveragePooling1D()(x):totable())
    assert.same({{7, -1}}, L.GlobalMaxPooling1D()(x):totable())
    assert.same({{{7, -1}}}, L.GlobalMaxPooling1D{keepdims = true}(x):totable())
  end)

  local grad_cases = {
    {"MaxPooling1D valid", function() return L.MaxPooling1D(2) end, {2, 7, 3}},
    {"MaxPooling1D same, strides 1", function() return L.MaxPooling1D(3, {strides = 1, padding = "same"}) end, {2, 6, 2}},
    {"MaxPooling1D overlapping, strides 2", function() return L.MaxPooling1D(3, {strides = 2}) end, {2, 9, 2}},
    {"AveragePooling1D valid", function() return L.AveragePooling1D(2) end, {2, 7, 3}},
    {"AveragePooling1D same, strides 2", function() return L.AveragePooling1D(3, {strides = 2, padding = "same"}) end,
     {2, 8, 2}},
    {"GlobalMaxPooling1D", function() return L.GlobalMaxPooling1D() end, {3, 5, 2}},
    {"GlobalMaxPooling1D keepdims", function() return L.GlobalMaxPooling1D{keepdims = true} end, {3, 5, 2}},
    {"GlobalAveragePooling1D", function() return L.GlobalAveragePooling1D() end, {3, 5, 2}},
  }
  for _, case in ipairs(grad_cases) do
    local what, make, shape = table.unpack(case)
    it("passes a finite-difference gradient check: " .. what, function()
      local layer = built(make(), {shape[2], shape[3]})
      gradcheck.check_layer(layer, distinct(shape))
    end)
  end

  it("back-propagates through a relu below max pooling (fused mask) as without it", function()
    local function model()
      lurn.manual_seed(9)
      local m = lurn.Sequential{
        L.Conv1D(4, 3, {activation = "relu", padding = "same", input_shape = {8, 2}}),
        L.MaxPooling1D(2),
        L.Flatten(),
        L.Dense(2),
      }
      m:build()
      return m
    end
    local m = model()
    local x = distinct{3, 8, 2}
    local y = lurn.randn{3, 2}
    gradcheck.check_model(m, {kind = "mean_squared_error"}, x, y)
  end)

  it("refuses bad options and inputs, naming them", function()
    assert.error_matches(function() L.MaxPooling1D(0) end, "MaxPooling1D: pool_size must be a positive integer")
    assert.error_matches(function() L.AveragePooling1D(2, {strides = -1}) end, "strides must be a positive integer")
    assert.error_matches(function() L.MaxPooling1D(2, {padding = "causal"}) end, "padding must be 'valid' or 'same'")
    assert.error_matches(function() L.GlobalMaxPooling1D{data_format = "channels_first"} end, "channels_last")
    assert.error_matches(function() L.MaxPooling1D(2)(lurn.randn{2, 4, 4, 1}) end,
      "MaxPooling1D: expects input of shape %(steps, channels%) per sample, got %(4, 4, 1%)")
    assert.error_matches(function() L.GlobalAveragePooling1D()(lurn.randn{2, 4}) end,
      "GlobalAveragePooling1D: expects input of shape %(steps, channels%)")
    assert.error_matches(function() L.MaxPooling1D(5)(lurn.randn{2, 4, 1}) end,
      "pool_size 5 is larger than the input's 4 steps")
  end)
end)

describe("windows and strides past the input", function()
  it("give one output step with padding 'same', as TensorFlow, not zero (no overflow)", function()
    local lurn = require "lurn"
    local L = lurn.layers
    local x = lurn.randn{1, 5, 2}
    assert.same({1, 1, 2}, L.Conv1D(2, 2, {padding = "same", strides = math.maxinteger})(x):shape())
    local y = L.MaxPooling1D(math.maxinteger, {padding = "same"})(x)
    assert.same({1, 1, 2}, y:shape())
    assert.equal(x:select(3, 1):max(), y:get(1, 1, 1))  -- the window is the whole sequence
    assert.same({1, 1, 1, 2}, L.Conv2D(2, 2, {padding = "same", strides = 1000})(lurn.randn{1, 5, 5, 2}):shape())
  end)
end)
