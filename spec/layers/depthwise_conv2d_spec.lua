-- DepthwiseConv2D: a kernel of ones sums each channel's window, a direct depthwise
-- convolution as reference (strides, TensorFlow's "same", dilation, depth_multiplier),
-- Keras' kernel layout, output channel order and initializer fans, gradients against
-- finite differences, thread-count independence, errors; and a Sequential model with
-- ZeroPadding2D, DepthwiseConv2D and UpSampling2D that back-propagates and learns.
local lurn = require "lurn"
local helpers = require "helpers.image_helpers"
local gradcheck = require "helpers.gradcheck"

local flat = gradcheck.flat
local L = lurn.layers

local assert_all_close = helpers.assert_all_close

-- A depthwise layer built for a per-sample shape with the given weights.
local function depthwise(kernel_size, opts, in_shape, weights)
  local layer = L.DepthwiseConv2D(kernel_size, opts)
  layer:build(in_shape)
  if weights then layer:set_weights(weights) end
  return layer
end

-- Direct depthwise convolution in Lua doubles, with TensorFlow's padding rule written out again.
local function reference(x, kernel, bias, strides, padding, dilation)
  local n, h, w, c = table.unpack(x:shape())
  local kh, kw, _, m = table.unpack(kernel:shape())
  local sh, sw, dh, dw = strides[1], strides[2], dilation[1], dilation[2]
  local oh, ow, top, left = helpers.window_geometry(h, w, kh, kw, strides, padding, dilation)
  local xv, kv, bv = flat(x), flat(kernel), bias and flat(bias)
  local out = {}
  for b = 0, n - 1 do
    for i = 0, oh - 1 do
      for j = 0, ow - 1 do
        for ch = 0, c - 1 do
          for u = 0, m - 1 do
            local s = bv and bv[ch * m + u + 1] or 0
            for p = 0, kh - 1 do
              local ih = i * sh - top + p * dh
              for q = 0, kw - 1 do
                local iw = j * sw - left + q * dw
                if ih >= 0 and ih < h and iw >= 0 and iw < w then
                  s = s + xv[((b * h + ih) * w + iw) * c + ch + 1] * kv[((p * kw + q) * c + ch) * m + u + 1]
                end
              end
            end
            out[#out + 1] = s
          end
        end
      end
    end
  end
  return out, {n, oh, ow, c * m}
end

describe("DepthwiseConv2D", function()
  before_each(function() lurn.manual_seed(51) end)

  it("sums each channel's window with a kernel of ones", function()
    local layer = depthwise(3, {depthwise_initializer = "ones", use_bias = false}, {4, 4, 2})
    assert.same({2, 2, 2}, layer.output_shape)
    -- channel 1: 0..15, channel 2: 100 times it; each output a 3x3 box sum of its own channel
    local ch = lurn.arange(16):reshape{1, 4, 4, 1}
    local x = lurn.cat({ch, ch * 100}, 4)
    assert.same({45, 4500, 54, 5400, 81, 8100, 90, 9000}, flat(layer(x)))
    -- "same" with depth_multiplier 2: each channel twice, the box clipped at the border
    local same = depthwise(3, {depthwise_initializer = "ones", use_bias = false, padding = "same",
                               depth_multiplier = 2}, {3, 3, 2})
    local y = same(lurn.cat({lurn.ones{1, 3, 3, 1}, lurn.ones{1, 3, 3, 1} * 2}, 4)):reshape{9, 4}
    assert.same({4, 6, 4, 6, 9, 6, 4, 6, 4}, flat(y:select(2, 1)))
    assert.same({4, 6, 4, 6, 9, 6, 4, 6, 4}, flat(y:select(2, 2)))
    assert.same({8, 12, 8, 12, 18, 12, 8, 12, 8}, flat(y:select(2, 3)))
    assert.same({8, 12, 8, 12, 18, 12, 8, 12, 8}, flat(y:select(2, 4)))
  end)

  it("gives ceil(in / stride) outputs with 'same' and floor((in - span) / stride) + 1 with 'valid'", function()
    local cases = {
      {{5, 7, 3}, 3, {padding = "same", strides = 2}, {3, 4, 3}},
      {{5, 7, 3}, 3, {strides = 2, depth_multiplier = 2}, {2, 3, 6}},
      {{6, 9, 2}, {2, 4}, {padding = "same", strides = {2, 3}}, {3, 3, 2}},
      {{7, 7, 1}, 3, {dilation_rate = 2, depth_multiplier = 3}, {3, 3, 3}},
      {{2, 2, 2}, 5, {padding = "same"}, {2, 2, 2}},
    }
    for _, case in ipairs(cases) do
      local in_shape, k, opts, want = table.unpack(case)
      local layer = depthwise(k, opts, in_shape)
      assert.same(want, layer.output_shape)
      assert.same({2, table.unpack(want)}, layer(lurn.randn{2, table.unpack(in_shape)}):shape())
    end
  end)

  it("matches a direct depthwise convolution over strides, padding, dilation and depth_multiplier", function()
    local cases = {
      {{2, 5, 6, 3}, 3, {}},
      {{2, 6, 5, 2}, {3, 2}, {strides = 2, padding = "same", depth_multiplier = 2}},
      {{1, 7, 7, 2}, 3, {dilation_rate = 2, padding = "same", depth_multiplier = 3}},
      {{3, 8, 6, 1}, {2, 3}, {strides = {2, 1}, dilation_rate = {1, 2}, depth_multiplier = 2}},
      {{1, 5, 5, 4}, 4, {strides = 3, padding = "same"}},
    }
    for _, case in ipairs(cases) do
      local shape, k, opts = table.unpack(case)
      opts.bias_initializer = "random_normal"
      local layer = depthwise(k, opts, {shape[2], shape[3], shape[4]})
      local x = lurn.randn(shape)
      local kernel, bias = table.unpack(layer:get_weights())
      local want, want_shape = reference(x, kernel, bias, layer.strides, layer.padding, layer.dilation_rate)
      local y = layer(x)
      assert.same(want_shape, y:shape())
      assert_all_close(want, flat(y), 1e-5)
    end
  end)

  it("keeps Keras' kernel layout (kh, kw, in, depth_multiplier), output order and initializer fans", function()
    local layer = depthwise({3, 2}, {depth_multiplier = 2}, {10, 10, 4})
    local kernel, bias = table.unpack(layer:get_weights())
    assert.same({3, 2, 4, 2}, kernel:shape())
    assert.same({8}, bias:shape())
    assert.equal(3 * 2 * 4 * 2 + 8, layer:count_params())
    assert.same({"depthwise_kernel", "bias"}, select(2, layer:parameters()))
    -- Keras' fans for a (kh, kw, in, out) shape: fan_in = kh*kw*in, fan_out = kh*kw*depth_multiplier
    local limit = math.sqrt(6 / (3 * 2 * 4 + 3 * 2 * 2))
    assert.is_true(kernel:max() <= limit and kernel:min() >= -limit)
    assert.is_true(kernel:max() > 0.8 * limit)
    assert.equal(0, bias:abs():max())
    -- kernel[p][q][c][m] (1-based) takes input channel c at offset (p, q) into output (c - 1) * 2 + m
    local k = lurn.zeros{3, 2, 4, 2}
    k:set(2, 1, 3, 2, 5)
    layer:set_weights{k, lurn.zeros{8}}
    local x = lurn.zeros{1, 10, 10, 4}
    x:set(1, 5, 7, 3, 2)
    x:set(1, 5, 7, 4, 100)  -- another channel at the same place: not mixed in
    local y = layer(x)
    assert.equal(10, y:get(1, 4, 7, 6))
    assert.equal(10, y:abs():sum())
    assert.error_matches(function() L.DepthwiseConv2D(3):count_params() end, "is not built yet")
    assert.equal(3 * 3 * 3, depthwise(3, {use_bias = false}, {4, 4, 3}):count_params())
  end)

  it("reports a Keras config", function()
    local layer = L.DepthwiseConv2D{kernel_size = {3, 1}, strides = 2, padding = "SAME", depth_multiplier = 2,
                                    activation = "relu", name = "dw"}
    assert.same({name = "dw", trainable = true, kernel_size = {3, 1}, strides = {2, 2}, padding = "same",
                 depth_multiplier = 2, data_format = "channels_last", dilation_rate = {1, 1}, activation = "relu",
                 use_bias = true, depthwise_initializer = {class_name = "GlorotUniform", config = {}},
                 bias_initializer = {class_name = "Zeros", config = {}}},
      layer:get_config())
    assert.equal("depthwise_conv2d", L.DepthwiseConv2D(3).name:gsub("_%d+$", ""))
  end)

  it("applies its activation after the convolution", function()
    local layer = depthwise(1, {activation = "relu", use_bias = false, depth_multiplier = 2}, {2, 1, 1},
      {lurn.tensor{1, -1}:reshape{1, 1, 1, 2}})
    assert.same({1, 0, 0, 2}, flat(layer(lurn.tensor{1, -2}:reshape{1, 2, 1, 1})))
  end)

  local grad_cases = {
    {"stride 1, valid, 3 channels", {2, 5, 5, 3}, 3, {}},
    {"stride 2, same, depth_multiplier 2", {2, 6, 5, 3}, {3, 2}, {strides = 2, padding = "same", depth_multiplier = 2}},
    {"stride 2, valid, tanh", {2, 6, 7, 2}, 2, {strides = 2, activation = "tanh"}},
    {"dilation 2, same, depth_multiplier 2", {1, 7, 6, 2}, 3, {dilation_rate = 2, padding = "same", depth_multiplier = 2}},
    {"dilation 2, valid, stride 2", {2, 7, 7, 2}, 2, {dilation_rate = 2, strides = 2}},
    {"no bias, sigmoid, depth_multiplier 3", {2, 4, 4, 2}, 2, {use_bias = false, activation = "sigmoid", depth_multiplier = 3}},
    {"kernel larger than the input, same", {2, 3, 2, 2}, 4, {padding = "same"}},
  }
  for _, case in ipairs(grad_cases) do
    local what, shape, k, opts = table.unpack(case)
    it("passes a finite-difference gradient check: " .. what, function()
      opts.bias_initializer = opts.use_bias == false and nil or "random_normal"
      local layer = depthwise(k, opts, {shape[2], shape[3], shape[4]})
      gradcheck.check_layer(layer, lurn.randn(shape))
    end)
  end

  it("fails a gradient check when a kernel gradient is off by 10%", function()
    local layer = depthwise(3, {depth_multiplier = 2}, {4, 4, 2})
    local x = lurn.randn{2, 4, 4, 2}
    local y = layer._core:forward(x, true)
    local r = lurn.randn(y:shape())
    layer._core:backward(x, y, r)
    local wrong = layer:gradients()[1]:clone() * 1.1
    local function objective() return gradcheck.dot(r, layer._core:forward(x, true)) end
    assert.is_false(gradcheck.compare(wrong, gradcheck.numeric(objective, layer:parameters()[1])))
  end)

  it("gives the same outputs and gradients on 1 and 2 threads", function()
    local threads = lurn.get_num_threads()
    for _, m in ipairs{1, 2} do
      local layer = depthwise(3, {padding = "same", strides = {1, 2}, activation = "tanh", depth_multiplier = m,
                                  bias_initializer = "ones"}, {12, 14, 8})
      local x = lurn.randn{6, 12, 14, 8}
      local dy = lurn.randn{6, 12, 7, 8 * m}
      local results = {}
      for _, t in ipairs{1, 2} do
        lurn.set_num_threads(t)
        local y = layer._core:forward(x, true)
        local dx = layer._core:backward(x, y, dy)
        local g = layer:gradients()
        results[t] = {y, dx, g[1]:clone(), g[2]:clone()}
      end
      lurn.set_num_threads(threads)
      for i = 1, 4 do
        local a, b = results[1][i], results[2][i]
        assert.is_true((a - b):abs():max() <= 1e-5 * math.max(1, a:abs():max()))
      end
    end
  end)

  it("rejects bad options with clear messages", function()
    local D = L.DepthwiseConv2D
    assert.error_matches(function() D() end, "DepthwiseConv2D: kernel_size is required")
    assert.error_matches(function() D(0) end, "DepthwiseConv2D: kernel_size must be a positive integer or a pair")
    assert.error_matches(function() D(3, {strides = {1, 0}}) end, "DepthwiseConv2D: strides must be")
    assert.error_matches(function() D(3, {dilation_rate = 1.5}) end, "DepthwiseConv2D: dilation_rate must be")
    assert.error_matches(function() D(3, {depth_multiplier = 0}) end,
      "DepthwiseConv2D: depth_multiplier must be a positive integer, got 0")
    assert.error_matches(function() D(3, {padding = "causal"}) end, "padding must be 'valid' or 'same', got causal")
    assert.error_matches(function() D(3, {data_format = "channels_first"}) end,
      "DepthwiseConv2D: only data_format 'channels_last' is supported")
    assert.error_matches(function() D(3, {activation = "swishy"}) end, "unknown activation 'swishy'")
    assert.error_matches(function() D(3, {depthwise_initializer = "nope"}) end, "unknown initializer 'nope'")
  end)

  it("rejects inputs of the wrong rank, size or channels, naming the layer and the shapes", function()
    assert.error_matches(function() depthwise(3, {name = "d1"}, {28, 28}) end,
      "layer 'd1' %(DepthwiseConv2D%): DepthwiseConv2D: expects input of shape %(height, width, channels%) per sample, got %(28, 28%)")
    assert.error_matches(function() depthwise(5, {}, {3, 4, 1}) end,
      "DepthwiseConv2D: kernel 5x5 is larger than the input 3x4 %(input shape %(3, 4, 1%), padding 'valid'%)")
    assert.error_matches(function() depthwise(3, {dilation_rate = 2}, {4, 6, 1}) end,
      "DepthwiseConv2D: kernel 3x3 with dilation 2x2 spans 5x5, larger than the input 4x6")
    assert.error_matches(function() depthwise(1, {}, {4, 4, 0}) end,
      "DepthwiseConv2D: input shape %(4, 4, 0%) has a zero size")
    local layer = depthwise(3, {depth_multiplier = 2}, {5, 5, 1})
    assert.error_matches(function() layer._core:forward(lurn.zeros{2, 5, 5, 3}) end,
      "DepthwiseConv2D expects a packed batch of its input shape, got %(2, 5, 5, 3%)")
    assert.error_matches(function() layer:set_weights{lurn.zeros{3, 3, 1, 1}, lurn.zeros{2}} end,
      "depthwise_kernel must have shape %(3, 3, 1, 2%), got %(3, 3, 1, 1%)")
  end)
end)

describe("ZeroPadding2D, DepthwiseConv2D and UpSampling2D in a Sequential model", function()
  before_each(function() lurn.manual_seed(52) end)

  it("back-propagates through all three, with regularizers", function()
    local model = lurn.Sequential{
      L.ZeroPadding2D({{1, 0}, {0, 2}}, {input_shape = {4, 3, 2}}),
      L.DepthwiseConv2D(2, {depth_multiplier = 2, activation = "tanh", bias_initializer = "random_normal",
                            depthwise_regularizer = lurn.regularizers.l2(0.1),
                            bias_regularizer = lurn.regularizers.l1(0.1),
                            activity_regularizer = lurn.regularizers.l2(0.05)}),
      L.UpSampling2D(2, {interpolation = "bilinear"}),
      L.DepthwiseConv2D(3, {strides = 2, padding = "same"}),
      L.UpSampling2D({1, 2}),
      L.GlobalAveragePooling2D(),
      L.Dense(3, {activation = "softmax"}),
    }
    model:build()
    assert.same({5, 5, 2}, model.layers[1].output_shape)
    assert.same({4, 4, 4}, model.layers[2].output_shape)
    assert.same({8, 8, 4}, model.layers[3].output_shape)
    assert.same({4, 4, 4}, model.layers[4].output_shape)
    assert.same({4, 8, 4}, model.layers[5].output_shape)
    local total = model:count_params()
    assert.equal((2 * 2 * 2 * 2 + 4) + (3 * 3 * 4 * 1 + 4) + (4 * 3 + 3), total)
    local x = lurn.randn{3, 4, 3, 2}
    gradcheck.check_model(model, {kind = "sparse_categorical_crossentropy"}, x, lurn.tensor{0, 2, 1})
  end)

  it("learns which corner a bright spot is in", function()
    -- 4x4 images with one bright pixel; class 1 if it is in the top-left 2x2 corner
    local n = 32
    local x, y = lurn.zeros{n, 4, 4, 1}, lurn.zeros{n}
    for s = 1, n do
      local i, j = (s * 3) % 4 + 1, (s * 5 + s // 4) % 4 + 1
      x:set(s, i, j, 1, 1)
      y:set(s, (i <= 2 and j <= 2) and 1 or 0)
    end
    local model = lurn.Sequential{
      L.ZeroPadding2D(1, {input_shape = {4, 4, 1}}),
      L.DepthwiseConv2D(3, {depth_multiplier = 4, activation = "tanh"}),
      L.UpSampling2D(2, {interpolation = "bilinear"}),
      L.MaxPooling2D(2),
      L.Flatten(),
      L.Dense(1, {activation = "sigmoid"}),
    }
    model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.05}, loss = "binary_crossentropy"}
    local history = model:fit(x, y, {epochs = 40, batch_size = 8, verbose = 0})
    local loss = history.history.loss
    assert.is_true(loss[#loss] < 0.1 * loss[1], ("loss went from %g to %g"):format(loss[1], loss[#loss]))
  end)
end)
