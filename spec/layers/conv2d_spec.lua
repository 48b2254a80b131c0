-- Conv2D: hand-computed outputs, TensorFlow's "same" padding, a naive convolution as
-- reference (strides, dilation, channels), Keras' kernel layout and initializer fans,
-- gradients against finite differences, thread-count independence, and errors.
local lurn = require "lurn"
local helpers = require "helpers.image_helpers"
local gradcheck = require "helpers.gradcheck"

local flat = gradcheck.flat

local assert_all_close = helpers.assert_all_close

-- A conv layer built for a per-sample shape with the given weights (tensors or tables).
local function conv(filters, kernel_size, opts, in_shape, weights)
  local layer = lurn.layers.Conv2D(filters, kernel_size, opts)
  layer:build(in_shape)
  if weights then layer:set_weights(weights) end
  return layer
end

local image = helpers.image

-- Direct convolution in Lua doubles, with TensorFlow's padding rule written out again.
local function reference(x, kernel, bias, strides, padding, dilation)
  local n, h, w, c = table.unpack(x:shape())
  local kh, kw, _, f = table.unpack(kernel:shape())
  local sh, sw, dh, dw = strides[1], strides[2], dilation[1], dilation[2]
  local oh, ow, top, left = helpers.window_geometry(h, w, kh, kw, strides, padding, dilation)
  local xv, kv, bv = flat(x), flat(kernel), bias and flat(bias)
  local out = {}
  for b = 0, n - 1 do
    for i = 0, oh - 1 do
      for j = 0, ow - 1 do
        for o = 0, f - 1 do
          local s = bv and bv[o + 1] or 0
          for p = 0, kh - 1 do
            local ih = i * sh - top + p * dh
            for q = 0, kw - 1 do
              local iw = j * sw - left + q * dw
              if ih >= 0 and ih < h and iw >= 0 and iw < w then
                for ch = 0, c - 1 do
                  s = s + xv[((b * h + ih) * w + iw) * c + ch + 1] * kv[((p * kw + q) * c + ch) * f + o + 1]
                end
              end
            end
          end
          out[#out + 1] = s
        end
      end
    end
  end
  return out, {n, oh, ow, f}
end

describe("Conv2D", function()
  before_each(function() lurn.manual_seed(11) end)

  it("slides a 3x3 kernel of ones over a 4x4 image", function()
    local layer = conv(1, 3, {kernel_initializer = "ones", use_bias = false}, {4, 4, 1})
    assert.same({2, 2, 1}, layer.output_shape)
    local x = image{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}, {12, 13, 14, 15}}
    assert.same({45, 54, 81, 90}, flat(layer(x)))
  end)

  it("pads 'same' as TensorFlow: the odd pixel goes to the bottom and right", function()
    -- a 1x2 kernel of ones over one row [1, 2, 3]: the padding is on the right only
    local row = conv(1, {1, 2}, {padding = "same", kernel_initializer = "ones", use_bias = false}, {1, 3, 1})
    assert.same({3, 5, 3}, flat(row(image{{1, 2, 3}})))
    -- stride 2 over 4 columns with a width-3 kernel: 2 outputs, one column of padding on the right
    local strided = conv(1, {1, 3}, {padding = "same", strides = 2, kernel_initializer = "ones", use_bias = false},
      {1, 4, 1})
    assert.same({6, 7}, flat(strided(image{{1, 2, 3, 4}})))
    -- a 3x3 kernel of ones at stride 1 counts each pixel's neighbours
    local full = conv(1, 3, {padding = "same", kernel_initializer = "ones", use_bias = false}, {3, 3, 1})
    assert.same({4, 6, 4, 6, 9, 6, 4, 6, 4}, flat(full(lurn.ones{1, 3, 3, 1})))
  end)

  it("gives ceil(in / stride) outputs with 'same' and floor((in - k) / stride) + 1 with 'valid'", function()
    local cases = {
      {{5, 7, 1}, 3, {padding = "same", strides = 2}, {3, 4, 2}},
      {{5, 7, 1}, 3, {strides = 2}, {2, 3, 2}},
      {{6, 9, 3}, {2, 4}, {padding = "same", strides = {2, 3}}, {3, 3, 2}},
      {{7, 7, 1}, 3, {dilation_rate = 2}, {3, 3, 2}},
      {{7, 8, 1}, 3, {dilation_rate = {2, 3}, padding = "same"}, {7, 8, 2}},
      {{2, 2, 1}, 5, {padding = "same"}, {2, 2, 2}},
    }
    for _, case in ipairs(cases) do
      local in_shape, k, opts, want = table.unpack(case)
      local layer = conv(2, k, opts, in_shape)
      assert.same(want, layer.output_shape)
      local n = 2
      local y = layer(lurn.randn{n, table.unpack(in_shape)})
      assert.same({n, table.unpack(want)}, y:shape())
    end
  end)

  it("matches a direct convolution over channels, strides, padding and dilation", function()
    local cases = {
      {{2, 5, 6, 3}, 4, 3, {}},
      {{2, 6, 5, 2}, 3, {3, 2}, {strides = 2, padding = "same"}},
      {{1, 7, 7, 2}, 2, 3, {dilation_rate = 2, padding = "same"}},
      {{3, 8, 6, 1}, 2, {2, 3}, {strides = {2, 1}, dilation_rate = {1, 2}}},
      {{2, 4, 5, 5}, 3, 1, {}},
      {{1, 5, 5, 2}, 2, 4, {strides = 3, padding = "same"}},
    }
    for _, case in ipairs(cases) do
      local shape, filters, k, opts = table.unpack(case)
      opts.bias_initializer = "random_normal"
      local layer = conv(filters, k, opts, {shape[2], shape[3], shape[4]})
      local x = lurn.randn(shape)
      local kernel, bias = table.unpack(layer:get_weights())
      local want, want_shape = reference(x, kernel, bias, layer.strides, layer.padding, layer.dilation_rate)
      local y = layer(x)
      assert.same(want_shape, y:shape())
      assert_all_close(want, flat(y), 1e-5)
    end
  end)

  it("keeps Keras' kernel layout (kh, kw, in, filters) and initializer fans", function()
    local layer = conv(8, {3, 2}, {}, {10, 10, 4})
    local kernel, bias = table.unpack(layer:get_weights())
    assert.same({3, 2, 4, 8}, kernel:shape())
    assert.same({8}, bias:shape())
    assert.equal(3 * 2 * 4 * 8 + 8, layer:count_params())
    local limit = math.sqrt(6 / (3 * 2 * 4 + 3 * 2 * 8))
    assert.is_true(kernel:max() <= limit and kernel:min() >= -limit)
    assert.is_true(kernel:max() > 0.8 * limit)
    assert.equal(0, bias:abs():max())
    -- kernel[p][q][c][f] multiplies input channel c at offset (p, q) into filter f
    local k = lurn.zeros{3, 2, 4, 8}
    k:set(2, 1, 3, 5, 1)
    layer:set_weights{k, lurn.zeros{8}}
    local x = lurn.zeros{1, 10, 10, 4}
    x:set(1, 5, 7, 3, 2)
    local y = layer(x)
    assert.equal(2, y:get(1, 4, 7, 5))
    assert.equal(2, y:abs():sum())
  end)

  it("reports a Keras config", function()
    local layer = lurn.layers.Conv2D{filters = 8, kernel_size = {3, 1}, strides = 2, padding = "SAME",
                                     activation = "relu", name = "c"}
    local cfg = layer:get_config()
    assert.same({name = "c", trainable = true, filters = 8, kernel_size = {3, 1}, strides = {2, 2}, padding = "same",
                 data_format = "channels_last", dilation_rate = {1, 1}, activation = "relu", use_bias = true,
                 kernel_initializer = {class_name = "GlorotUniform", config = {}},
                 bias_initializer = {class_name = "Zeros", config = {}}}, cfg)
  end)

  it("applies its activation after the convolution", function()
    local layer = conv(2, 1, {activation = "relu", use_bias = false}, {2, 2, 1},
      {lurn.tensor{1, -1}:reshape{1, 1, 1, 2}})
    local y = layer(image{{1, -2}, {3, 0}})
    assert.same({1, 0, 0, 2, 3, 0, 0, 0}, flat(y))
  end)

  local grad_cases = {
    {"stride 1, valid, odd sizes", {2, 5, 5, 2}, 3, 3, {}},
    {"stride 2, same, even and odd sizes", {2, 6, 5, 3}, 2, {3, 2}, {strides = 2, padding = "same"}},
    {"stride 2, valid, tanh", {2, 6, 7, 2}, 2, 2, {strides = 2, activation = "tanh"}},
    {"dilation 2, same", {1, 7, 6, 2}, 2, 3, {dilation_rate = 2, padding = "same"}},
    {"dilation 2, valid, stride 2", {2, 7, 7, 1}, 3, 2, {dilation_rate = 2, strides = 2}},
    {"1x1 kernel, no bias, sigmoid", {3, 3, 4, 3}, 4, 1, {use_bias = false, activation = "sigmoid"}},
    {"kernel larger than the input, same", {2, 3, 2, 2}, 2, 4, {padding = "same"}},
  }
  for _, case in ipairs(grad_cases) do
    local what, shape, filters, k, opts = table.unpack(case)
    it("passes a finite-difference gradient check: " .. what, function()
      opts.bias_initializer = opts.use_bias == false and nil or "random_normal"
      local layer = conv(filters, k, opts, {shape[2], shape[3], shape[4]})
      gradcheck.check_layer(layer, lurn.randn(shape))
    end)
  end

  it("fails a gradient check when a kernel gradient is off by 10%", function()
    local layer = conv(2, 3, {}, {4, 4, 2})
    local x = lurn.randn{2, 4, 4, 2}
    local y = layer._core:forward(x, true)
    local r = lurn.randn(y:shape())
    layer._core:backward(x, y, r)
    local wrong = layer:gradients()[1]:clone() * 1.1
    local function objective() return gradcheck.dot(r, layer._core:forward(x, true)) end
    local ok = gradcheck.compare(wrong, gradcheck.numeric(objective, layer:parameters()[1]))
    assert.is_false(ok)
  end)

  it("gives the same outputs and gradients on 1 and 2 threads", function()
    -- large enough (2.4M multiply-adds) to split over threads
    local threads = lurn.get_num_threads()
    local layer = conv(16, 3, {padding = "same", strides = {1, 2}, activation = "tanh", bias_initializer = "ones"},
      {17, 30, 6})
    local x, dy = lurn.randn{7, 17, 30, 6}, lurn.randn{7, 17, 15, 16}
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
  end)

  it("predicts one or two samples (im2col and one product) as it predicts them in a batch (oneDNN)", function()
    local model = lurn.Sequential{lurn.layers.Conv2D(24, 3, {activation = "relu", input_shape = {11, 11, 5}}),
      lurn.layers.Conv2D(10, 3, {padding = "same", strides = 2})}
    local x = lurn.randn{6, 11, 11, 5}
    local want = flat(model(x))
    for _, n in ipairs{1, 2} do
      local got = flat(model(x:narrow(1, 1, n)))
      assert_all_close(got, {table.unpack(want, 1, #got)}, 1e-5)
      assert_all_close(flat(model:predict(x:narrow(1, 1, n))), got, 0)
    end
  end)

  it("back-propagates through a Sequential model with pooling and Dense layers", function()
    local model = lurn.Sequential{
      lurn.layers.Conv2D(3, 3, {activation = "tanh", padding = "same", input_shape = {6, 5, 2},
                                kernel_regularizer = lurn.regularizers.l2(0.1)}),
      lurn.layers.MaxPooling2D(2, {padding = "same"}),
      lurn.layers.Conv2D(2, 2, {activation = "tanh", bias_regularizer = lurn.regularizers.l1(0.1),
                                activity_regularizer = lurn.regularizers.l2(0.05)}),
      lurn.layers.GlobalAveragePooling2D(),
      lurn.layers.Dense(3, {activation = "softmax"}),
    }
    model:build()
    assert.same({3, 3, 3}, model.layers[2].output_shape)
    assert.same({2}, model.layers[4].output_shape)
    local x = gradcheck.rand_away({4, 6, 5, 2}, -1, 1, {}, 0)
    local y = lurn.tensor{0, 2, 1, 2}
    gradcheck.check_model(model, {kind = "sparse_categorical_crossentropy"}, x, y)
  end)

  it("fuses a softmax output with cross-entropy, per pixel over the filters", function()
    local model = lurn.Sequential{lurn.layers.Conv2D(3, 2, {activation = "softmax", input_shape = {3, 4, 2}})}
    model:build()
    local x = lurn.randn{2, 3, 4, 2}
    local y = lurn.zeros{2, 2, 3, 3}
    for i = 1, 2 do
      for j = 1, 3 do y:set(1, i, j, (i + j) % 3 + 1, 1); y:set(2, i, j, (i * j) % 3 + 1, 1) end
    end
    gradcheck.check_model(model, {kind = "categorical_crossentropy"}, x, y)
    local p = model:predict(x):sum(4)
    assert.is_true((p - 1):abs():max() < 1e-6)
  end)

  it("learns where a bright spot is", function()
    -- 6x6 images with one bright pixel: class 1 if it is in the left half
    local n = 64
    local x, y = lurn.zeros{n, 6, 6, 1}, lurn.zeros{n}
    for s = 1, n do
      local i, j = (s * 7) % 6 + 1, (s * 5) % 6 + 1
      x:set(s, i, j, 1, 1)
      y:set(s, j <= 3 and 1 or 0)
    end
    local model = lurn.Sequential{
      lurn.layers.Conv2D(4, 3, {activation = "relu", padding = "same", input_shape = {6, 6, 1}}),
      lurn.layers.MaxPooling2D(),
      lurn.layers.Flatten(),
      lurn.layers.Dense(1, {activation = "sigmoid"}),
    }
    model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.05}, loss = "binary_crossentropy",
                  metrics = {"accuracy"}}
    local history = model:fit(x, y, {epochs = 30, batch_size = 16, verbose = 0})
    local loss = history.history.loss
    assert.is_true(loss[#loss] < 0.1 * loss[1])
  end)

  it("rejects bad options with clear messages", function()
    local C = lurn.layers.Conv2D
    assert.error_matches(function() C(0, 3) end, "Conv2D: filters must be a positive integer, got 0")
    assert.error_matches(function() C(4) end, "Conv2D: kernel_size is required")
    assert.error_matches(function() C(4, {3}) end, "kernel_size must be a positive integer or a pair {height, width}")
    assert.error_matches(function() C(4, 3, {strides = 0}) end, "strides must be a positive integer or a pair")
    assert.error_matches(function() C(4, 3, {dilation_rate = {1, 1.5}}) end, "dilation_rate must be")
    assert.error_matches(function() C(4, 3, {padding = "full"}) end, "padding must be 'valid' or 'same', got full")
    assert.error_matches(function() C(4, 3, {data_format = "channels_first"}) end,
      "only data_format 'channels_last' is supported")
    assert.error_matches(function() C(4, 3, {activation = "swishy"}) end, "unknown activation 'swishy'")
  end)

  it("rejects inputs of the wrong rank, size or channels, naming the layer and the shapes", function()
    assert.error_matches(function() conv(2, 3, {name = "c1"}, {28, 28}) end,
      "layer 'c1' %(Conv2D%): Conv2D: expects input of shape %(height, width, channels%) per sample, got %(28, 28%)")
    assert.error_matches(function() conv(2, 5, {}, {3, 4, 1}) end,
      "Conv2D: kernel 5x5 is larger than the input 3x4 %(input shape %(3, 4, 1%), padding 'valid'%)")
    assert.error_matches(function() conv(2, 3, {dilation_rate = 2}, {4, 6, 1}) end,
      "kernel 3x3 with dilation 2x2 spans 5x5, larger than the input 4x6")
    assert.error_matches(function() conv(2, 1, {}, {0, 4, 1}) end, "input shape %(0, 4, 1%) has a zero size")
    local layer = conv(2, 3, {}, {5, 5, 1})
    assert.error_matches(function() layer._core:forward(lurn.zeros{2, 5, 5, 3}) end,
      "Conv2D expects a packed batch of its input shape, got %(2, 5, 5, 3%)")
    assert.error_matches(function() layer:build{5, 5, 3} end, "already built for input shape %(5, 5, 1%), cannot take %(5, 5, 3%)")
    assert.error_matches(function() layer:set_weights{lurn.zeros{3, 3, 2, 2}, lurn.zeros{2}} end,
      "kernel must have shape %(3, 3, 1, 2%), got %(3, 3, 2, 2%)")
    local model = lurn.Sequential{lurn.layers.Conv2D(2, 3, {input_shape = {5, 5, 1}})}
    assert.error_matches(function() model:predict(lurn.zeros{2, 5, 5, 3}) end, "does not match the model's input shape")
  end)
end)
