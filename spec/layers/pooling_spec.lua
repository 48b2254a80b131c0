-- Pooling: max picks the max (and backward routes dy to it), average "same" averages
-- the elements inside the image only, output sizes, the global forms, gradients
-- against finite differences, and errors.
local lurn = require "lurn"
local helpers = require "helpers.image_helpers"
local gradcheck = require "helpers.gradcheck"

local flat = gradcheck.flat
local L = lurn.layers

local function assert_all_close(expected, actual, tol) helpers.assert_all_close(expected, actual, tol or 1e-6) end

local built = helpers.built

local image = helpers.image

-- Distinct values 0.1 apart in a random order: no ties, and far apart compared with the
-- finite-difference step, so that the max never changes hands during a check.
local function distinct(shape)
  local n = 1
  for _, s in ipairs(shape) do n = n * s end
  return lurn.randperm(n):reshape(shape) * 0.1 - n * 0.05
end

describe("MaxPooling2D", function()
  before_each(function() lurn.manual_seed(5) end)

  it("picks the max of each window, channel by channel", function()
    local layer = built(L.MaxPooling2D(), {4, 4, 2})
    assert.same({2, 2, 2}, layer.output_shape)
    local x = lurn.arange(32):reshape{1, 4, 4, 2}
    x = x * lurn.tensor{1, -1}  -- channel 2 is negated: its max is the first of each window
    assert.same({10, -1, 14, -5, 26, -17, 30, -21}, flat(layer(x)))
  end)

  it("routes the gradient to the element that won", function()
    local layer = built(L.MaxPooling2D(2), {2, 4, 1})
    local x = image{{1, 5, 2, 0}, {3, -1, 7, 6}}
    local y = layer._core:forward(x, true)
    assert.same({5, 7}, flat(y))
    local dx = layer._core:backward(x, y, lurn.tensor{10, 20}:reshape{1, 1, 2, 1})
    assert.same({0, 10, 0, 0, 0, 0, 20, 0}, flat(dx))
  end)

  it("gives zero gradient to the rows and columns no window covers", function()
    -- 5x5 in 2x2 windows: row 5 and column 5 are in none. dx is a fresh (uninitialised)
    -- buffer: backward must write every element of it, not only the winners.
    local layer = built(L.MaxPooling2D(2), {5, 5, 1})
    local x = lurn.arange(25):reshape{1, 5, 5, 1}
    local y = layer._core:forward(x, true)
    assert.same({6, 8, 16, 18}, flat(y))
    for _ = 1, 3 do
      local junk = lurn.ones{1, 5, 5, 1} * 7  -- freed memory of dx's size, not zero
      junk = nil
      collectgarbage()
      local dx = flat(layer._core:backward(x, y, lurn.tensor{1, 2, 3, 4}:reshape{1, 2, 2, 1}))
      local want = {}
      for i = 1, 25 do want[i] = 0 end
      want[7], want[9], want[17], want[19] = 1, 2, 3, 4
      assert.same(want, dx)
    end
  end)

  it("pads 'same' without letting the padding win", function()
    local layer = built(L.MaxPooling2D(2, {padding = "same"}), {3, 3, 1})
    assert.same({2, 2, 1}, layer.output_shape)
    local x = image{{-9, -8, -7}, {-6, -5, -4}, {-3, -2, -1}}
    assert.same({-5, -4, -2, -1}, flat(layer(x)))
  end)

  it("has Keras' output sizes: strides default to pool_size", function()
    local cases = {
      {L.MaxPooling2D(), {5, 5, 1}, {2, 2, 1}},
      {L.MaxPooling2D(2, {padding = "same"}), {5, 5, 3}, {3, 3, 3}},
      {L.MaxPooling2D(3, {strides = 2}), {7, 6, 1}, {3, 2, 1}},
      {L.MaxPooling2D({2, 3}, {strides = {1, 2}, padding = "same"}), {5, 7, 2}, {5, 4, 2}},
      {L.MaxPooling2D{pool_size = 3, strides = 1}, {4, 4, 1}, {2, 2, 1}},
      {L.AveragePooling2D(), {5, 5, 1}, {2, 2, 1}},
      {L.AveragePooling2D(3, {strides = 2, padding = "same"}), {6, 5, 1}, {3, 3, 1}},
    }
    for _, case in ipairs(cases) do
      local layer, in_shape, want = table.unpack(case)
      built(layer, in_shape)
      assert.same(want, layer.output_shape)
      assert.same({2, table.unpack(want)}, layer(lurn.randn{2, table.unpack(in_shape)}):shape())
    end
    local layer = L.MaxPooling2D(3, {strides = 2})
    assert.same({3, 3}, layer.pool_size)
    assert.same({2, 2}, layer.strides)
    assert.same({pool_size = {2, 2}, strides = {2, 2}, padding = "valid"},
      (function(c) return {pool_size = c.pool_size, strides = c.strides, padding = c.padding} end)(
        L.MaxPooling2D():get_config()))
  end)
end)

describe("AveragePooling2D", function()
  before_each(function() lurn.manual_seed(6) end)

  it("averages each window", function()
    local layer = built(L.AveragePooling2D(2), {2, 4, 1})
    assert.same({2.25, 5.25}, flat(layer(image{{1, 5, 2, 0}, {3, 0, 7, 12}})))
  end)

  it("averages only the elements inside the image over a 'same' border", function()
    local layer = built(L.AveragePooling2D(3, {strides = 1, padding = "same"}), {4, 4, 1})
    local y = layer(lurn.arange(16):reshape{1, 4, 4, 1})
    assert_all_close({2.5, 3, 4, 4.5, 4.5, 5, 6, 6.5, 8.5, 9, 10, 10.5, 10.5, 11, 12, 12.5}, flat(y))
    -- 2x2 at stride 2 over 3x3: the last row and column average 2 elements, the corner 1
    local odd = built(L.AveragePooling2D(2, {padding = "same"}), {3, 3, 1})
    assert_all_close({(0 + 1 + 3 + 4) / 4, (2 + 5) / 2, (6 + 7) / 2, 8}, flat(odd(lurn.arange(9):reshape{1, 3, 3, 1})))
  end)

  it("spreads dy evenly over the elements each window averaged", function()
    local layer = built(L.AveragePooling2D(2, {padding = "same"}), {3, 3, 1})
    local x = lurn.zeros{1, 3, 3, 1}
    local y = layer._core:forward(x, true)
    local dx = layer._core:backward(x, y, lurn.tensor{4, 2, 6, 5}:reshape{1, 2, 2, 1})
    assert_all_close({1, 1, 1, 1, 1, 1, 3, 3, 5}, flat(dx))
  end)
end)

describe("Global pooling", function()
  before_each(function() lurn.manual_seed(8) end)

  it("averages or takes the max over the whole image, per channel", function()
    local x = lurn.arange(24):reshape{2, 2, 3, 2}
    local avg = built(L.GlobalAveragePooling2D(), {2, 3, 2})
    assert.same({2}, avg.output_shape)
    assert_all_close({5, 6, 17, 18}, flat(avg(x)))
    local max = built(L.GlobalMaxPooling2D(), {2, 3, 2})
    assert.same({10, 11, 22, 23}, flat(max(x)))
    local keep = built(L.GlobalAveragePooling2D{keepdims = true}, {2, 3, 2})
    assert.same({1, 1, 2}, keep.output_shape)
    assert.same({2, 1, 1, 2}, keep(x):shape())
    assert.same("global_average_pooling2d", L.GlobalAveragePooling2D().name:gsub("_%d+$", ""))
  end)
end)

describe("Pooling gradients", function()
  before_each(function() lurn.manual_seed(9) end)

  local cases = {
    {"max 2x2, stride 2, valid, odd sizes", L.MaxPooling2D, 2, {}, {2, 5, 5, 3}},
    {"max 2x2, stride 1, valid (overlapping)", L.MaxPooling2D, 2, {strides = 1}, {2, 4, 5, 2}},
    {"max 3x3, stride 2, same, even and odd", L.MaxPooling2D, 3, {strides = 2, padding = "same"}, {2, 6, 5, 2}},
    {"max 2x2, stride 1, same", L.MaxPooling2D, 2, {strides = 1, padding = "same"}, {1, 5, 4, 3}},
    {"average 2x2, stride 2, same, odd sizes", L.AveragePooling2D, 2, {padding = "same"}, {2, 5, 5, 2}},
    {"average 3x3, stride 1, same", L.AveragePooling2D, 3, {strides = 1, padding = "same"}, {2, 4, 5, 2}},
    {"average {2, 3}, stride 2, valid", L.AveragePooling2D, {2, 3}, {strides = 2}, {1, 6, 7, 3}},
  }
  for _, case in ipairs(cases) do
    local what, make, pool, opts, shape = table.unpack(case)
    it("passes a finite-difference check: " .. what, function()
      local layer = built(make(pool, opts), {shape[2], shape[3], shape[4]})
      gradcheck.check_layer(layer, distinct(shape))
    end)
  end

  it("passes a finite-difference check: global max and average", function()
    for _, make in ipairs{L.GlobalMaxPooling2D, L.GlobalAveragePooling2D} do
      local layer = built(make(), {3, 4, 2})
      gradcheck.check_layer(layer, distinct{2, 3, 4, 2})
    end
  end)

  it("gives the same outputs and gradients on 1 and 2 threads", function()
    local threads = lurn.get_num_threads()
    for _, layer in ipairs{L.MaxPooling2D(3, {strides = 2, padding = "same"}), L.AveragePooling2D(2)} do
      built(layer, {20, 21, 16})
      local x = lurn.randn{9, 20, 21, 16}
      local results = {}
      for _, t in ipairs{1, 2} do
        lurn.set_num_threads(t)
        local y = layer._core:forward(x, true)
        local dy = lurn.ones(y:shape())
        results[t] = {y, layer._core:backward(x, y, dy)}
      end
      lurn.set_num_threads(threads)
      for i = 1, 2 do assert.is_true((results[1][i] - results[2][i]):abs():max() <= 1e-6) end
    end
  end)
end)

describe("MaxPooling2D above a relu", function()
  -- In a model, max pooling forms the relu gradient of the layer below itself (dx times
  -- y > 0) and that layer skips its own: the numbers must be those of the layers run
  -- one by one, for a Conv2D's relu, an Activation("relu"), overlapping and "same" pools.
  it("gives the gradients of the layers run one by one", function()
    lurn.manual_seed(3)
    local model = lurn.Sequential{
      L.Conv2D(4, 3, {activation = "relu", input_shape = {9, 9, 2}}),
      L.MaxPooling2D(3, {strides = 2}),             -- overlapping windows
      L.Conv2D(5, 2, {padding = "same"}),
      L.Activation("relu"),
      L.MaxPooling2D(2, {padding = "same"}),
      L.Flatten(),
      L.Dense(3),
    }
    model:build()
    local conv = model.layers[1]
    conv:set_weights{conv:get_weights()[1], lurn.full({4}, -1)}  -- many windows all <= 0
    local x, y = lurn.randn{6, 9, 9, 2}, lurn.randn{6, 3}
    local loss = {kind = "mean_squared_error"}
    local _, dx = model._core:gradients(loss, x, y)
    local fused = {}
    for i, layer in ipairs(model.layers) do
      fused[i] = {}
      for j, g in ipairs(layer:gradients()) do fused[i][j] = flat(g) end
    end
    -- the same, one layer at a time (no layer takes over another's gradient)
    local ins, outs = {x}, {}
    for i, layer in ipairs(model.layers) do
      outs[i] = layer._core:forward(ins[i], true)
      ins[i + 1] = outs[i]
    end
    local _, dy = lurn.core.loss_value(loss, outs[#outs], y)
    local zeros = 0
    for _, v in ipairs(flat(outs[2])) do zeros = zeros + (v == 0 and 1 or 0) end
    assert.is_true(zeros > 0, "some pooled relu outputs are 0, so the mask matters")
    for i = #model.layers, 1, -1 do
      dy = model.layers[i]._core:backward(ins[i], outs[i], dy)
      for j, g in ipairs(model.layers[i]:gradients()) do
        assert.same(flat(g), fused[i][j], ("layer %d, gradient %d"):format(i, j))
      end
    end
    assert.same(flat(dy), flat(dx))
  end)
end)

describe("Pooling errors", function()
  it("rejects bad options", function()
    assert.error_matches(function() L.MaxPooling2D(0) end,
      "MaxPooling2D: pool_size must be a positive integer or a pair {height, width}, got 0")
    assert.error_matches(function() L.AveragePooling2D(2, {strides = {2}}) end, "AveragePooling2D: strides must be")
    assert.error_matches(function() L.MaxPooling2D(2, {padding = "causal"}) end, "padding must be 'valid' or 'same'")
    assert.error_matches(function() L.GlobalMaxPooling2D{data_format = "channels_first"} end,
      "GlobalMaxPooling2D: only data_format 'channels_last' is supported")
  end)

  it("rejects inputs of the wrong rank or smaller than the pool, naming the layer and the shapes", function()
    assert.error_matches(function() built(L.MaxPooling2D(2, {name = "p"}), {8, 8}) end,
      "layer 'p' %(MaxPooling2D%): MaxPooling2D: expects input of shape %(height, width, channels%) per sample, got %(8, 8%)")
    assert.error_matches(function() built(L.GlobalAveragePooling2D(), {8}) end,
      "GlobalAveragePooling2D: expects input of shape %(height, width, channels%)")
    assert.error_matches(function() built(L.AveragePooling2D(3), {2, 5, 4}) end,
      "AveragePooling2D: pool 3x3 is larger than the input 2x5 %(input shape %(2, 5, 4%), padding 'valid'%)")
    local layer = built(L.MaxPooling2D(), {4, 4, 2})
    assert.error_matches(function() layer._core:forward(lurn.zeros{1, 4, 4, 3}) end,
      "MaxPooling2D expects a packed batch of its input shape, got %(1, 4, 4, 3%)")
  end)
end)

describe("max pooling and NaN", function()
  it("gives a model's predictions (no offsets kept) as its training forward gives them", function()
    for _, channels in ipairs{35, 16, 3} do  -- registers and a tail, registers alone, the tail alone
      local m = lurn.Sequential{L.MaxPooling2D(2, {padding = "same", input_shape = {5, 7, channels}}), L.Flatten()}
      local x = lurn.randn{3, 5, 7, channels}
      local trained = m._core:forward(x, true):clone()
      assert.equal(0, (trained - m:predict(x)):abs():max())
      assert.equal(0, (trained - m(x)):abs():max())
    end
    -- a layer's own inference forward keeps them: input gradients in inference mode
    local layer = built(L.MaxPooling2D(2), {2, 4, 1})
    local x = image{{1, 5, 2, 0}, {3, -1, 7, 6}}
    local y = layer._core:forward(x, false)
    assert.same({0, 10, 0, 0, 0, 0, 20, 0}, flat(layer._core:backward(x, y, lurn.tensor{10, 20}:reshape{1, 1, 2, 1})))
  end)

  it("passes a NaN on wherever it stands in the window, as PyTorch (vector and scalar channels)", function()
    local lurn = require "lurn"
    local L = lurn.layers
    for pos = 1, 3 do
      local x = lurn.tensor{{{1}, {2}, {3}}}
      x:set(1, pos, 1, 0 / 0)
      local y = L.GlobalMaxPooling1D()(x):item()
      assert.is_true(y ~= y, "NaN at step " .. pos)
    end
    for _, channels in ipairs{20, 3} do  -- 16 in registers and the rest one by one; the rest alone
      local x = lurn.randn{1, 4, 4, channels}
      x:set(1, 3, 2, channels - 1, 0 / 0)  -- in the window of output (2, 1), not its first element
      local y = L.MaxPooling2D(2)(x)
      assert.is_true(y:get(1, 2, 1, channels - 1) ~= y:get(1, 2, 1, channels - 1))
      assert.equal(1, y:isnan():sum())
    end
  end)
end)
