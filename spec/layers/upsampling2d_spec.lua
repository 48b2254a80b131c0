-- UpSampling2D: nearest repeats pixels, bilinear gives tf.image.resize's values (half-pixel
-- centers, worked out below from TensorFlow's formula), backward of both, gradients
-- against finite differences, config and errors.
local lurn = require "lurn"
local helpers = require "helpers.image_helpers"
local gradcheck = require "helpers.gradcheck"

local flat = gradcheck.flat
local L = lurn.layers

local function assert_all_close(expected, actual, tol) helpers.assert_all_close(expected, actual, tol or 1e-6) end

local built = helpers.built

local image = helpers.image

-- TensorFlow's source coordinate of output i along an axis of `n` in, `out` out (half-pixel
-- centers), as the two source positions (0-based, clamped) and the weight of the second.
local function source(i, n, out)
  local s = (i + 0.5) * n / out - 0.5
  local f = math.floor(s)
  return math.max(f, 0), math.min(math.ceil(s), n - 1), s - f
end

describe("UpSampling2D", function()
  before_each(function() lurn.manual_seed(41) end)

  it("repeats each pixel with 'nearest' (the default), each channel alike", function()
    local layer = built(L.UpSampling2D(), {2, 2, 2})
    assert.same({4, 4, 2}, layer.output_shape)
    assert.equal("nearest", layer.interpolation)
    local x = lurn.tensor{{1, -1}, {2, -2}, {3, -3}, {4, -4}}:reshape{1, 2, 2, 2}
    local y = layer(x):reshape{4, 4, 2}
    assert.same({1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, flat(y:select(3, 1)))
    assert.same({-1, -1, -2, -2, -1, -1, -2, -2, -3, -3, -4, -4, -3, -3, -4, -4}, flat(y:select(3, 2)))
    local wide = built(L.UpSampling2D{size = {1, 3}}, {2, 2, 1})
    assert.same({2, 6, 1}, wide.output_shape)
    assert.same({1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4}, flat(wide(image{{1, 2}, {3, 4}})))
  end)

  it("sums each block of the gradient with 'nearest'", function()
    local layer = built(L.UpSampling2D({2, 3}), {1, 2, 1})
    local x = lurn.zeros{1, 1, 2, 1}
    local y = layer._core:forward(x, true)
    local dy = lurn.arange(12):reshape{1, 2, 6, 1}
    -- left block: 0 + 1 + 2 + 6 + 7 + 8, right block: 3 + 4 + 5 + 9 + 10 + 11
    assert.same({24, 42}, flat(layer._core:backward(x, y, dy)))
  end)

  it("interpolates a 2x2 image as tf.image.resize does with 'bilinear'", function()
    -- Output i of 4 from 2 reads source (i + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25:
    -- clamped to row 0, 3/4 row 0 + 1/4 row 1, 1/4 row 0 + 3/4 row 1, clamped to row 1.
    -- Along a row [1, 2]: 1, 1.25, 1.75, 2; along a column [1, 3]: 1, 1.5, 2.5, 3.
    local layer = built(L.UpSampling2D(2, {interpolation = "bilinear"}), {2, 2, 1})
    local y = layer(image{{1, 2}, {3, 4}})
    assert.same({
      {1.00, 1.25, 1.75, 2.00},
      {1.50, 1.75, 2.25, 2.50},
      {2.50, 2.75, 3.25, 3.50},
      {3.00, 3.25, 3.75, 4.00},
    }, y:reshape{4, 4}:totable())
    -- size 3 along the width reads -1/3, 0, 1/3, 2/3, 1, 4/3 of [a, b]
    local wide = built(L.UpSampling2D({1, 3}, {interpolation = "bilinear"}), {2, 2, 1})
    assert_all_close({1, 1, 4 / 3, 5 / 3, 2, 2, 3, 3, 10 / 3, 11 / 3, 4, 4}, flat(wide(image{{1, 2}, {3, 4}})))
  end)

  it("matches TensorFlow's formula on a larger image with several channels", function()
    local h, w, c, sh, sw = 3, 4, 2, 3, 2
    local layer = built(L.UpSampling2D({sh, sw}, {interpolation = "bilinear"}), {h, w, c})
    local x = lurn.randn{1, h, w, c}
    local xv = x:reshape{h, w, c}
    local want = {}
    for i = 0, h * sh - 1 do
      local y0, y1, yl = source(i, h, h * sh)
      for j = 0, w * sw - 1 do
        local x0, x1, xl = source(j, w, w * sw)
        for k = 1, c do
          local function v(a, b) return xv:get(a + 1, b + 1, k) end
          local top = v(y0, x0) + (v(y0, x1) - v(y0, x0)) * xl
          local bottom = v(y1, x0) + (v(y1, x1) - v(y1, x0)) * xl
          want[#want + 1] = top + (bottom - top) * yl
        end
      end
    end
    assert_all_close(want, flat(layer(x)), 1e-5)
  end)

  it("sends the gradient back along the bilinear weights", function()
    local layer = built(L.UpSampling2D(2, {interpolation = "bilinear"}), {2, 2, 1})
    local x = lurn.zeros{1, 2, 2, 1}
    local y = layer._core:forward(x, true)
    -- dy of ones: every output's weights sum to 1, so dx sums to 16, split evenly by symmetry
    assert_all_close({4, 4, 4, 4}, flat(layer._core:backward(x, y, lurn.ones{1, 4, 4, 1})))
    -- dy one-hot at output (2, 2) (1-based), which is 9/16 x00 + 3/16 x01 + 3/16 x10 + 1/16 x11
    local dy = lurn.zeros{1, 4, 4, 1}
    dy:set(1, 2, 2, 1, 1)
    assert_all_close({9 / 16, 3 / 16, 3 / 16, 1 / 16}, flat(layer._core:backward(x, y, dy)))
  end)

  local cases = {
    {"nearest 2", 2, "nearest", {2, 3, 2, 3}},
    {"nearest {2, 3}", {2, 3}, "nearest", {1, 2, 3, 2}},
    {"bilinear 2", 2, "bilinear", {2, 3, 3, 3}},
    {"bilinear {3, 2}", {3, 2}, "bilinear", {1, 3, 2, 2}},
    {"bilinear 4 on one row", {1, 4}, "bilinear", {2, 1, 3, 2}},
  }
  for _, case in ipairs(cases) do
    local what, size, interpolation, shape = table.unpack(case)
    it("passes a finite-difference gradient check: " .. what, function()
      local layer = built(L.UpSampling2D(size, {interpolation = interpolation}), {shape[2], shape[3], shape[4]})
      gradcheck.check_layer(layer, lurn.randn(shape))
    end)
  end

  it("gives the same outputs and gradients on 1 and 2 threads", function()
    local threads = lurn.get_num_threads()
    for _, interpolation in ipairs{"nearest", "bilinear"} do
      -- 38400 outputs: enough to split over threads
      local layer = built(L.UpSampling2D({2, 3}, {interpolation = interpolation}), {10, 10, 8})
      local x, dy = lurn.randn{8, 10, 10, 8}, lurn.randn{8, 20, 30, 8}
      local results = {}
      for _, t in ipairs{1, 2} do
        lurn.set_num_threads(t)
        local y = layer._core:forward(x, true)
        results[t] = {y, layer._core:backward(x, y, dy)}
      end
      lurn.set_num_threads(threads)
      for i = 1, 2 do assert.equal(0, (results[1][i] - results[2][i]):abs():max()) end
    end
  end)

  it("has no weights and a Keras config", function()
    local layer = built(L.UpSampling2D({2, 3}, {interpolation = "bilinear", name = "up"}), {2, 2, 1})
    assert.same({}, layer:get_weights())
    assert.equal(0, layer:count_params())
    assert.same({name = "up", trainable = true, size = {2, 3}, data_format = "channels_last",
                 interpolation = "bilinear"}, layer:get_config())
    assert.equal("up_sampling2d", L.UpSampling2D().name:gsub("_%d+$", ""))
  end)

  it("rejects bad options and inputs, naming the layer and the shapes", function()
    local U = L.UpSampling2D
    assert.error_matches(function() U(0) end,
      "UpSampling2D: size must be a positive integer or a pair {height, width}, got 0")
    assert.error_matches(function() U{2, 2, 2} end, "UpSampling2D: size must be")
    assert.error_matches(function() U(2, {interpolation = "bicubic"}) end,
      "UpSampling2D: interpolation must be 'nearest' or 'bilinear', got bicubic")
    assert.error_matches(function() U(2, {data_format = "channels_first"}) end,
      "UpSampling2D: only data_format 'channels_last' is supported")
    assert.error_matches(function() built(U(2, {name = "u"}), {4}) end,
      "layer 'u' %(UpSampling2D%): UpSampling2D: expects input of shape %(height, width, channels%) per sample, got %(4,%)")
    assert.error_matches(function() built(U(2), {3, 0, 1}) end, "UpSampling2D: input shape %(3, 0, 1%) has a zero size")
    local layer = built(U(2), {3, 3, 2})
    assert.error_matches(function() layer._core:forward(lurn.zeros{1, 3, 2, 2}) end,
      "UpSampling2D expects a packed batch of its input shape, got %(1, 3, 2, 2%)")
  end)
end)
