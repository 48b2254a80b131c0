-- Conv1D: output lengths as Keras' conv_output_length for "valid", "same" and "causal"
-- (strides, dilation), a naive 1-D convolution as reference, causality, Keras' kernel
-- layout, gradients against finite differences in every mode, a model with
-- the 1-D poolings, the fused softmax, and errors.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"

local flat = gradcheck.flat
local L = lurn.layers

local function conv(filters, kernel_size, opts, in_shape, weights)
  local layer = L.Conv1D(filters, kernel_size, opts)
  layer:build(in_shape)
  if weights then layer:set_weights(weights) end
  return layer
end

-- keras.utils.conv_utils.conv_output_length, written out again.
local function keras_length(steps, k, padding, stride, dilation)
  local span = k + (k - 1) * (dilation - 1)
  local out
  if padding == "same" or padding == "causal" then out = steps
  else out = steps - span + 1 end
  return (out + stride - 1) // stride
end

-- Direct convolution in Lua doubles: the left padding of each mode written out again
-- ("same": TensorFlow's total padding, half on the left; "causal": all of the span).
local function reference(x, kernel, bias, padding, stride, dilation)
  local n, steps, c = table.unpack(x:shape())
  local k, _, f = table.unpack(kernel:shape())
  local span = (k - 1) * dilation + 1
  local out_steps = keras_length(steps, k, padding, stride, dilation)
  local left = 0
  if padding == "same" then left = math.max((out_steps - 1) * stride + span - steps, 0) // 2 end
  if padding == "causal" then left = span - 1 end
  local xv, kv, bv = flat(x), flat(kernel), bias and flat(bias)
  local out = {}
  for b = 0, n - 1 do
    for t = 0, out_steps - 1 do
      for o = 0, f - 1 do
        local s = bv and bv[o + 1] or 0
        for p = 0, k - 1 do
          local i = t * stride - left + p * dilation
          if i >= 0 and i < steps then
            for ch = 0, c - 1 do s = s + xv[(b * steps + i) * c + ch + 1] * kv[(p * c + ch) * f + o + 1] end
          end
        end
        out[#out + 1] = s
      end
    end
  end
  return out, {n, out_steps, f}
end

describe("Conv1D", function()
  before_each(function() lurn.manual_seed(5) end)

  it("slides a kernel of ones over a sequence (hand-checked)", function()
    local layer = conv(1, 2, {kernel_initializer = "ones", use_bias = false}, {4, 1})
    local x = lurn.tensor{{{1}, {2}, {3}, {4}}}
    assert.same({{{3}, {5}, {7}}}, layer(x):totable())
  end)

  it("pads causally: step t sees the steps up to t only (hand-checked)", function()
    -- kernel {1, 10} over 2 taps, dilation 2: y[t] = 1 * x[t - 2] + 10 * x[t]
    local layer = conv(1, 2, {padding = "causal", dilation_rate = 2, use_bias = false}, {5, 1},
      {lurn.tensor{{{1}}, {{10}}}})
    local x = lurn.tensor{{{1}, {2}, {3}, {4}, {5}}}
    assert.same({{{10}, {20}, {31}, {42}, {53}}}, layer(x):totable())
    -- changing a later step leaves the earlier outputs as they were
    local x2 = x:clone()
    x2:set(1, 5, 1, 100)
    local a, b = layer(x):totable()[1], layer(x2):totable()[1]
    for t = 1, 4 do assert.same(a[t], b[t]) end
  end)

  local modes = {
    {"valid", 1, 1}, {"valid", 2, 1}, {"valid", 1, 2}, {"valid", 3, 1},
    {"same", 1, 1}, {"same", 2, 1}, {"same", 1, 2}, {"same", 3, 1},
    {"causal", 1, 1}, {"causal", 2, 1}, {"causal", 1, 3}, {"causal", 2, 2},
  }
  for _, m in ipairs(modes) do
    local padding, stride, dilation = table.unpack(m)
    local what = ("padding %s, strides %d, dilation_rate %d"):format(padding, stride, dilation)

    it("gives Keras' output length and matches a direct convolution: " .. what, function()
      for _, steps in ipairs{7, 8, 9} do
        local layer = conv(3, 3, {padding = padding, strides = stride, dilation_rate = dilation,
                                  bias_initializer = "random_normal"}, {steps, 2})
        assert.same({keras_length(steps, 3, padding, stride, dilation), 3}, layer.output_shape)
        local x = lurn.randn{2, steps, 2}
        local w = layer:get_weights()
        local want, shape = reference(x, w[1], w[2], padding, stride, dilation)
        local y = layer(x)
        assert.same(shape, y:shape())
        gradcheck.assert_close(y, want, {rtol = 1e-5, atol = 1e-5}, what)
      end
    end)

    it("passes a finite-difference gradient check: " .. what, function()
      local layer = conv(2, 3, {padding = padding, strides = stride, dilation_rate = dilation, activation = "tanh",
                                bias_initializer = "random_normal"}, {8, 3})
      gradcheck.check_layer(layer, lurn.randn{2, 8, 3})
    end)
  end

  it("passes a gradient check without a bias, with a kernel as long as the input", function()
    gradcheck.check_layer(conv(2, 5, {use_bias = false}, {5, 2}), lurn.randn{3, 5, 2})
  end)

  it("keeps the kernel as Keras: (kernel_size, in_channels, filters), Keras' names and fans", function()
    local layer = conv(4, 3, {}, {10, 2})
    local params, names = layer:parameters()
    assert.same({"kernel", "bias"}, names)
    assert.same({3, 2, 4}, params[1]:shape())
    assert.same({4}, params[2]:shape())
    -- glorot_uniform with fan_in = 3 * 2, fan_out = 3 * 4
    local limit = math.sqrt(6 / (6 + 12))
    assert.is_true(params[1]:abs():max() <= limit)
    assert.equal(3 * 2 * 4 + 4, layer:count_params())
  end)

  it("trains in a Sequential model with the 1-D poolings (gradient check)", function()
    local model = lurn.Sequential{
      L.Conv1D(3, 3, {padding = "causal", activation = "tanh", input_shape = {9, 2},
                      kernel_regularizer = lurn.regularizers.l2(0.1)}),
      L.MaxPooling1D(2, {padding = "same"}),
      L.Conv1D(2, 2, {activation = "tanh", dilation_rate = 2, activity_regularizer = lurn.regularizers.l2(0.05)}),
      L.AveragePooling1D(2),
      L.GlobalMaxPooling1D(),
      L.Dense(3, {activation = "softmax"}),
    }
    model:build()
    assert.same({5, 3}, model.layers[2].output_shape)
    assert.same({3, 2}, model.layers[3].output_shape)
    local x = gradcheck.rand_away({4, 9, 2}, -1, 1, {}, 0)
    local y = lurn.tensor{0, 2, 1, 2}
    gradcheck.check_model(model, {kind = "sparse_categorical_crossentropy"}, x, y)
  end)

  it("fuses a softmax over the filters with cross-entropy, per step", function()
    local model = lurn.Sequential{L.Conv1D(3, 2, {activation = "softmax", padding = "causal", input_shape = {4, 2}})}
    model:build()
    local x = lurn.randn{2, 4, 2}
    local y = lurn.zeros{2, 4, 3}
    for t = 1, 4 do y:set(1, t, t % 3 + 1, 1); y:set(2, t, (t + 1) % 3 + 1, 1) end
    gradcheck.check_model(model, {kind = "categorical_crossentropy"}, x, y)
  end)

  it("gives the same outputs and gradients on 1 and 2 threads", function()
    local threads = lurn.get_num_threads()
    local layer = conv(16, 5, {padding = "causal", dilation_rate = 2, activation = "relu"}, {300, 24})
    local x, dy = lurn.randn{16, 300, 24}, lurn.randn{16, 300, 16}
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
      assert.is_true((a - b):abs():max() <= 1e-4 * math.max(1, a:abs():max()))
    end
  end)

  it("refuses bad options and inputs, naming them", function()
    assert.error_matches(function() L.Conv1D(0, 3) end, "Conv1D: filters must be a positive integer, got 0")
    assert.error_matches(function() L.Conv1D(2) end, "Conv1D: kernel_size is required")
    assert.error_matches(function() L.Conv1D(2, {3, 3}) end, "kernel_size must be a positive integer")
    assert.error_matches(function() L.Conv1D(2, 3, {padding = "full"}) end,
      "padding must be 'valid', 'same' or 'causal', got full")
    assert.error_matches(function() L.Conv1D(2, 3, {strides = 0}) end, "strides must be a positive integer")
    assert.error_matches(function() L.Conv1D(2, 3, {data_format = "channels_first"}) end, "channels_last")
    assert.error_matches(function() L.Conv1D(2, 3, {groups = 2}) end, "groups")
    -- wrong rank: an image where a sequence belongs
    assert.error_matches(function() L.Conv1D(2, 3)(lurn.randn{2, 4, 4, 1}) end,
      "Conv1D: expects input of shape %(steps, channels%) per sample, got %(4, 4, 1%)")
    assert.error_matches(function() L.Conv1D(2, 3)(lurn.randn{2, 5}) end, "expects input of shape %(steps, channels%)")
    assert.error_matches(function() L.Conv1D(2, 3, {dilation_rate = 2})(lurn.randn{2, 4, 1}) end,
      "kernel_size 3 with dilation_rate 2 spans 5 steps, more than the input's 4")
    -- sizes whose span overflows 64 bits: an error, not a wrapped span
    assert.error_matches(function() L.Conv1D(2, 2 ^ 40 | 0, {dilation_rate = 2 ^ 40 | 0})(lurn.randn{1, 4, 1}) end,
      "Conv1D: kernel_size 1099511627776 with dilation_rate 1099511627776 spans too many steps")
    assert.error_matches(function()
      L.Conv1D(2, 2 ^ 40 | 0, {dilation_rate = 2 ^ 40 | 0, padding = "causal"})(lurn.randn{1, 4, 1})
    end, "spans too many steps")
    local layer = conv(2, 3, {}, {6, 2})
    assert.error_matches(function() layer(lurn.randn{2, 7, 2}) end, "Conv1D expects a packed batch of its input shape")
    assert.error_matches(function() layer._core:forward(lurn.randn{2, 6, 3}) end, "expects a packed batch")
  end)
end)
