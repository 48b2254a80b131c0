-- Configs: every layer class in lurn.layers round-trips through serialize/deserialize and
-- from_config with non-default options (initializers and regularizers with their
-- arguments), the rebuilt layer with the same weights computes the same outputs, configs
-- are plain data; the same for Sequential (Residual and BatchNormalization inside) and a
-- functional model with a merge; Lambda is refused; initializers, regularizers and
-- optimizers round-trip too.
local lurn = require "lurn"
local L = lurn.layers
local I, R, O = lurn.initializers, lurn.regularizers, lurn.optimizers

-- Fails unless v is plain data: numbers, strings, booleans, tables of them (no functions,
-- userdata or metatables).
local function assert_plain(v, path)
  local t = type(v)
  if t == "number" or t == "string" or t == "boolean" then return end
  assert(t == "table", ("%s is a %s, not plain data"):format(path, t))
  assert(getmetatable(v) == nil, path .. " has a metatable")
  for k, x in pairs(v) do
    assert(type(k) == "string" or math.type(k) == "integer", path .. " has a " .. type(k) .. " key")
    assert_plain(x, path .. "." .. tostring(k))
  end
end

local function same_values(a, b)
  assert.same(a:shape(), b:shape())
  assert.same(a:totable(), b:totable())
end

-- Each layer class: a layer with non-default options and the per-sample shape it takes
-- (merge layers: two inputs of that shape), then optionally a function making inputs of
-- a shape (token ids), or, for a text layer, the texts it takes.
local CASES = {
  Dense = {function()
    return L.Dense(3, {activation = "tanh", kernel_initializer = I.HeNormal{seed = 3},
                       bias_initializer = I.RandomUniform{minval = -0.2, maxval = 0.3, seed = 2},
                       kernel_regularizer = R.l1_l2{l1 = 0.01, l2 = 0.02}, bias_regularizer = R.l2(0.1),
                       activity_regularizer = R.l1(0.001), input_shape = {4}, name = "cfg_dense", trainable = false})
  end, {4}},
  Dropout = {function() return L.Dropout(0.3, {name = "cfg_dropout"}) end, {5}},
  BatchNormalization = {function()
    return L.BatchNormalization{momentum = 0.9, epsilon = 0.01, scale = false,
                                beta_initializer = I.Constant{value = 0.5}, beta_regularizer = R.l2(0.1)}
  end, {4}},
  Residual = {function()
    return L.Residual{L.Dense(4, {activation = "relu"}), L.BatchNormalization{center = false},
                      projection = L.Dense(4, {use_bias = false}), name = "cfg_res"}
  end, {3}},
  Activation = {function() return L.Activation("elu") end, {5}},
  ReLU = {function() return L.ReLU{name = "cfg_relu"} end, {5}},
  LeakyReLU = {function() return L.LeakyReLU{alpha = 0.1} end, {5}},
  ELU = {function() return L.ELU{alpha = 0.5} end, {5}},
  Softmax = {function() return L.Softmax{axis = -1} end, {5}},
  Reshape = {function() return L.Reshape({2, -1}, {input_shape = {6}}) end, {6}},
  Flatten = {function() return L.Flatten{} end, {2, 3}},
  Conv2D = {function()
    return L.Conv2D(3, {2, 3}, {strides = {1, 2}, padding = "same", activation = "relu",
                                kernel_initializer = I.GlorotNormal{seed = 1}, bias_initializer = "ones",
                                kernel_regularizer = R.l2(0.01), input_shape = {5, 6, 2}})
  end, {5, 6, 2}},
  DepthwiseConv2D = {function()
    return L.DepthwiseConv2D({3, 3}, {depth_multiplier = 2, padding = "same", dilation_rate = 2,
                                      depthwise_initializer = I.RandomNormal{mean = 0.1, stddev = 0.2, seed = 4},
                                      depthwise_regularizer = R.l1(0.01), use_bias = false})
  end, {5, 5, 2}},
  MaxPooling2D = {function() return L.MaxPooling2D({2, 2}, {strides = {1, 1}, padding = "same"}) end, {5, 5, 2}},
  AveragePooling2D = {function() return L.AveragePooling2D(3, {strides = 2}) end, {5, 5, 2}},
  GlobalMaxPooling2D = {function() return L.GlobalMaxPooling2D{keepdims = true} end, {5, 5, 2}},
  GlobalAveragePooling2D = {function() return L.GlobalAveragePooling2D{} end, {5, 5, 2}},
  ZeroPadding2D = {function() return L.ZeroPadding2D{{1, 2}, {0, 3}} end, {3, 3, 1}},
  UpSampling2D = {function() return L.UpSampling2D({2, 3}, {interpolation = "bilinear"}) end, {3, 3, 1}},
  Add = {function() return L.Add{name = "cfg_add"} end, {4}, true},
  Subtract = {function() return L.Subtract() end, {4}, true},
  Multiply = {function() return L.Multiply() end, {4}, true},
  Average = {function() return L.Average() end, {4}, true},
  Maximum = {function() return L.Maximum() end, {4}, true},
  Minimum = {function() return L.Minimum() end, {4}, true},
  Concatenate = {function() return L.Concatenate{axis = -1, name = "cfg_cat"} end, {4}, true},
  InputLayer = {function() return L.InputLayer{shape = {3, 2}, name = "cfg_input"} end},
  Conv1D = {function()
    return L.Conv1D(3, 2, {strides = 2, padding = "causal", dilation_rate = 2, activation = "relu",
                           kernel_initializer = I.GlorotNormal{seed = 1}, bias_initializer = "ones",
                           kernel_regularizer = R.l2(0.01), bias_regularizer = R.l1(0.02),
                           activity_regularizer = R.l2(0.03), input_shape = {7, 2}, name = "cfg_conv1d"})
  end, {7, 2}},
  MaxPooling1D = {function() return L.MaxPooling1D(3, {strides = 1, padding = "same"}) end, {6, 2}},
  AveragePooling1D = {function() return L.AveragePooling1D({2}, {strides = {2}}) end, {6, 2}},
  GlobalMaxPooling1D = {function() return L.GlobalMaxPooling1D{keepdims = true} end, {6, 2}},
  GlobalAveragePooling1D = {function() return L.GlobalAveragePooling1D{} end, {6, 2}},
  Embedding = {function()
    return L.Embedding(7, 3, {embeddings_initializer = I.RandomNormal{stddev = 0.3, seed = 2},
                              embeddings_regularizer = R.l2(0.01), activity_regularizer = R.l1(0.001),
                              input_length = 4, name = "cfg_embedding", trainable = false})
  end, {4}, nil, function(shape) return (lurn.rand{3, table.unpack(shape)} * 6.99):floor() end},
  Bidirectional = {function()
    return L.Bidirectional(L.GRU(3, {return_sequences = true, recurrent_regularizer = R.l2(0.01),
                                     kernel_initializer = I.HeNormal{seed = 4}}),
                           {merge_mode = "ave", name = "cfg_bidi", input_shape = {4, 2}})
  end, {4, 2}},
  TimeDistributed = {function()
    return L.TimeDistributed(L.Dense(2, {activation = "tanh", kernel_regularizer = R.l2(0.1),
                                         bias_initializer = I.Constant{value = 0.5}}),
                             {name = "cfg_td", input_shape = {4, 3}})
  end, {4, 3}},
  -- takes strings, not a shape: the fifth entry is the texts both must map the same
  TextVectorization = {function()
    local v = L.TextVectorization{max_tokens = 6, output_sequence_length = 4, standardize = "lower", name = "cfg_tv"}
    v:adapt{"a b b c, c c", "d e"}
    return v
  end, nil, nil, nil, {"c, b a z", "e"}},
  SimpleRNN = {function()
    return L.SimpleRNN(3, {activation = "relu", return_sequences = true, go_backwards = true, recurrent_dropout = 0.2,
                           recurrent_initializer = I.Orthogonal{gain = 0.5, seed = 2}, kernel_regularizer = R.l2(0.01),
                           recurrent_regularizer = R.l1(0.02), input_shape = {4, 2}, name = "cfg_rnn"})
  end, {4, 2}},
  LSTM = {function()
    return L.LSTM(3, {recurrent_activation = "tanh", unit_forget_bias = false, use_bias = true,
                      bias_initializer = I.RandomNormal{stddev = 0.3, seed = 1}, bias_regularizer = R.l2(0.1),
                      activity_regularizer = R.l1(0.001), go_backwards = true, dropout = 0.25})
  end, {4, 2}},
  Masking = {function() return L.Masking{mask_value = 0.5, name = "cfg_masking", input_shape = {4, 3}} end, {4, 3}},
  GRU = {function()
    return L.GRU(3, {activation = "softsign", return_sequences = true, reset_after = false,
                     kernel_initializer = I.HeNormal{seed = 3}, recurrent_initializer = "glorot_uniform"})
  end, {4, 2}},
}
-- The classes whose layers have no config: Lambda (a Lua function).
local REFUSED = {Lambda = true}

-- The output of layer on x (the list of two for a merge layer, else its first).
local function run(layer, x, merge)
  return layer(merge and x or x[1])
end

describe("layer configs", function()
  before_each(function() lurn.manual_seed(7) end)

  it("cover every layer class in lurn.layers", function()
    local missing, classes = {}, 0
    for name, v in pairs(L) do
      if type(v) == "table" and rawget(v, "class_name") then
        classes = classes + 1
        assert.equal(v, L[v.class_name], name .. " is an alias of a class under its own name")
        if not CASES[v.class_name] and not REFUSED[v.class_name] then missing[#missing + 1] = v.class_name end
        assert.is_function(v.from_config, name)
      end
    end
    assert.is_true(classes >= 28, "found only " .. classes .. " classes")
    table.sort(missing)
    assert(#missing == 0, "layer classes without a config case: " .. table.concat(missing, ", "))
  end)

  for class_name, case in pairs(CASES) do
    local make, shape, merge, inputs, texts = case[1], case[2], case[3], case[4], case[5]
    it(class_name .. " round-trips, and the copy computes the same outputs", function()
      local layer = make()
      assert.equal(class_name, layer.class_name)
      local x
      if shape then
        local draw = inputs or function(s) return lurn.randn{3, table.unpack(s)} end
        x = {draw(shape), draw(shape)}
        if not merge then layer:build(shape) end
      end
      local cfg = layer:get_config()
      assert_plain(cfg, class_name)
      local t = L.serialize(layer)
      assert_plain(t, class_name)
      assert.same({class_name = class_name, config = cfg}, t)
      for _, copy in ipairs{L.deserialize(t), L[class_name].from_config(cfg), layer.from_config(cfg)} do
        assert.equal(getmetatable(layer), getmetatable(copy))
        assert.same(cfg, copy:get_config())
        assert.equal(layer.name, copy.name)
        if shape then
          if not merge then
            copy:build(shape)
            local weights = layer:get_weights()
            -- not the initial ones (positive: BatchNormalization's moving variance is one)
            for i, w in ipairs(weights) do weights[i] = lurn.rand(w:shape()) + 0.5 end
            layer:set_weights(weights)
            copy:set_weights(layer:get_weights())
          end
          same_values(run(layer, x, merge), run(copy, x, merge))
        elseif texts then
          same_values(layer(texts), copy(texts))
        else
          assert.same(layer.output_shape, copy.output_shape)
        end
      end
      -- the config is a copy: changing it leaves the layer as it was
      t.config.name = "changed"
      assert.same(cfg, layer:get_config())
    end)
  end

  it("hold the initializers' and regularizers' arguments", function()
    local cfg = CASES.Dense[1]():get_config()
    assert.same({class_name = "HeNormal", config = {seed = 3}}, cfg.kernel_initializer)
    assert.same({class_name = "RandomUniform", config = {minval = -0.2, maxval = 0.3, seed = 2}}, cfg.bias_initializer)
    assert.same({class_name = "L1L2", config = {l1 = 0.01, l2 = 0.02}}, cfg.kernel_regularizer)
    assert.same({class_name = "L1L2", config = {l1 = 0, l2 = 0.1}}, cfg.bias_regularizer)
    assert.same({class_name = "L1L2", config = {l1 = 0.001, l2 = 0}}, cfg.activity_regularizer)
    assert.same({4}, cfg.input_shape)
    assert.is_false(cfg.trainable)
    assert.equal("tanh", cfg.activation)
    assert.is_nil(L.Dense(2):get_config().input_shape)
  end)

  it("refuse a Lambda and a Lua-function activation, saying why", function()
    local lambda = L.Lambda(function(x) return x end, {name = "fn"})
    assert.error_matches(function() L.serialize(lambda) end,
      "Lambda 'fn': its function is a Lua function, which is not data", nil, true)
    assert.error_matches(function() lambda:get_config() end, "is not data")
    assert.error_matches(function() L.Lambda.from_config({}) end, "a Lambda's function is not data")
    local dense = L.Dense(2, {activation = function(x) return x end})
    assert.error_matches(function() L.serialize(dense) end, "its activation is a Lua function")
    assert.error_matches(function() lurn.Sequential{L.Dense(2, {input_shape = {2}}), lambda}:get_config() end,
      "is not data")
  end)

  it("refuse what is not a config, naming it", function()
    assert.error_matches(function() L.deserialize({class_name = "Nope", config = {}}) end,
      "unknown layer class 'Nope'")
    assert.error_matches(function() L.deserialize("Dense") end, "expected {class_name")
    assert.error_matches(function() L.Dense.from_config(3) end, "Dense.from_config: expected a config table")
    assert.error_matches(function() L.Dense.from_config{units = 2, colour = 1} end, "Dense: unknown option 'colour'")
    assert.error_matches(function() L.serialize(L.Dense) end, "serialize: expected a layer, got the class Dense")
  end)

  it("are the names in lurn.layers: a class where a layer belongs is an error saying so", function()
    assert.equal(L.Dense, getmetatable(L.Dense(2)))
    assert.error_matches(function() L.Dense:get_config() end, "Dense is a layer class, not a layer: make one with Dense(...)",
      nil, true)
    assert.error_matches(function() lurn.Sequential{L.Dense(2, {input_shape = {2}}), L.Dense} end,
      "Dense is a layer class, not a layer")
    assert.error_matches(function() L.Residual{L.Dense} end, "Residual: element 1 is not a layer")
    assert.error_matches(function() lurn.Sequential.from_config{} end, "Sequential.from_config: expected")
    assert.error_matches(function() lurn.Model.from_config{layers = {}} end, "Model.from_config: expected")
  end)
end)

describe("model configs", function()
  before_each(function() lurn.manual_seed(11) end)

  local function trained(model, x, y)
    model:compile{optimizer = "sgd", loss = "mse"}
    model:fit(x, y, {epochs = 2, batch_size = 4, verbose = 0})
    return model
  end

  it("Sequential with Residual and BatchNormalization round-trips, same outputs with the same weights",
    function()
      local x, y = lurn.randn{16, 3}, lurn.randn{16, 2}
      local model = trained(lurn.Sequential({
        L.Dense(4, {input_shape = {3}, activation = "relu", kernel_regularizer = R.l2(0.01)}),
        L.Residual{L.Dense(4, {activation = "tanh"}), L.BatchNormalization{momentum = 0.5},
                   L.Residual{L.Dense(4)}},
        L.BatchNormalization(),
        L.Dropout(0.2),
        L.Dense(2, {kernel_initializer = I.LecunUniform{seed = 5}}),
      }, {name = "cfg_seq"}), x, y)
      local cfg = model:get_config()
      assert_plain(cfg, "Sequential")
      assert.equal("cfg_seq", cfg.name)
      assert.same({3}, cfg.build_input_shape)
      assert.equal(5, #cfg.layers)
      assert.equal("Residual", cfg.layers[2].class_name)
      assert.equal("Residual", cfg.layers[2].config.layers[3].class_name)
      for _, copy in ipairs{lurn.Sequential.from_config(cfg), L.deserialize(L.serialize(model))} do
        assert.equal(lurn.Sequential, getmetatable(copy))
        assert.same(cfg, copy:get_config())
        copy:set_weights(model:get_weights())
        same_values(model:predict(x), copy:predict(x))
      end
    end)

  it("Sequential started by an Input keeps its input shape", function()
    local model = lurn.Sequential{lurn.Input{shape = {2, 3}}, L.Flatten(), L.Dense(2)}
    local copy = lurn.Sequential.from_config(model:get_config())
    assert.same({2, 3}, copy.input_shape)
    copy:set_weights(model:get_weights())
    local x = lurn.randn{2, 2, 3}
    same_values(model(x), copy(x))
    local unbuilt = lurn.Sequential{L.Dense(2)}
    assert.is_nil(unbuilt:get_config().build_input_shape)
    assert.is_nil(lurn.Sequential.from_config(unbuilt:get_config()).input_shape)
  end)

  it("a functional model with a merge round-trips, connected the same way", function()
    local inputs = lurn.Input{shape = {4}, name = "cfg_in"}
    local a = L.Dense(3, {activation = "relu", name = "cfg_a"})(inputs)
    local b = L.BatchNormalization{name = "cfg_bn"}(L.Dense(3, {name = "cfg_b"})(inputs))
    local merged = L.Concatenate{name = "cfg_merge"}({L.Subtract{name = "cfg_sub"}({a, b}), b})
    local x, y = lurn.randn{16, 4}, lurn.randn{16, 2}
    local model = trained(lurn.Model{inputs = inputs, outputs = L.Dense(2, {name = "cfg_out"})(merged),
                                     name = "cfg_fn"}, x, y)
    local cfg = model:get_config()
    assert_plain(cfg, "Functional")
    assert.same({"cfg_in"}, cfg.input_layers)
    assert.same({"cfg_out"}, cfg.output_layers)
    for _, entry in ipairs(cfg.layers) do
      if entry.name == "cfg_sub" then assert.same({"cfg_a", "cfg_bn"}, entry.inbound_nodes) end
      if entry.name == "cfg_in" then assert.same({}, entry.inbound_nodes) end
    end
    for _, copy in ipairs{lurn.Model.from_config(cfg), L.deserialize(L.serialize(model))} do
      assert.equal("Functional", copy.class_name)
      assert.same(cfg, copy:get_config())
      for i, layer in ipairs(model.layers) do assert.equal(layer.name, copy.layers[i].name) end
      copy:set_weights(model:get_weights())
      same_values(model:predict(x), copy:predict(x))
    end
  end)

  it("a frozen model stays frozen through its config", function()
    local seq = lurn.Sequential{L.Dense(2, {input_shape = {3}})}
    seq.trainable = false
    local again = lurn.Sequential.from_config(seq:get_config())
    assert.is_false(again.trainable)
    local input = lurn.Input{shape = {3}}
    local fn = lurn.Model{inputs = input, outputs = L.Dense(2)(input)}
    fn.trainable = false
    assert.is_false(lurn.Model.from_config(fn:get_config()).trainable)
    assert.is_true(lurn.Model.from_config(lurn.Model{inputs = input, outputs = L.Dense(2)(input)}:get_config()).trainable)
  end)

  it("a functional config naming a layer that does not come before is an error", function()
    local inputs = lurn.Input{shape = {2}}
    local cfg = lurn.Model{inputs = inputs, outputs = L.Dense(1)(inputs)}:get_config()
    cfg.layers[2].inbound_nodes = {"nowhere"}
    assert.error_matches(function() lurn.Model.from_config(cfg) end, "reads 'nowhere', which no layer before it makes")
  end)
end)

describe("initializer, regularizer and optimizer configs", function()
  it("initializers round-trip with their arguments", function()
    for _, init in ipairs{I.Zeros(), I.Constant{value = 2.5}, I.RandomNormal{mean = 1, stddev = 2, seed = 9},
                          I.TruncatedNormal{seed = 1}, I.GlorotUniform{}, I.HeUniform{seed = 2}} do
      local t = I.serialize(init)
      assert_plain(t, init.class_name)
      assert.same(init, I.deserialize(t))
      assert.same(init, I.get(t))
    end
    assert.same({class_name = "Constant", config = {value = 2.5}}, I.serialize(I.Constant{value = 2.5}))
    assert.error_matches(function() I.deserialize{class_name = "Nope"} end, "initializers.deserialize: expected")
    assert.error_matches(function() I.deserialize{class_name = "HeNormal", config = {sed = 1}} end,
      "unknown option 'sed'")
  end)

  it("regularizers round-trip", function()
    for _, reg in ipairs{R.l1(0.3), R.l2(0.2), R.l1_l2{l1 = 0.1, l2 = 0.4}} do
      local t = R.serialize(reg)
      assert.equal("L1L2", t.class_name)
      assert.same(reg, R.deserialize(t))
      assert.same(reg, R.get(t))
    end
    assert.same(R.l1(0.5), R.deserialize{class_name = "L1", config = {l1 = 0.5}})
    assert.error_matches(function() R.deserialize{class_name = "L3"} end, "regularizers.deserialize: expected")
  end)

  it("optimizers round-trip their settings", function()
    for _, opt in ipairs{O.SGD{learning_rate = 0.1, momentum = 0.5, nesterov = true}, O.Adam{amsgrad = true, beta_1 = 0.8},
                         O.Ftrl{learning_rate_power = -0.25}, O.RMSprop{clipnorm = 1.5}} do
      local t = O.serialize(opt)
      assert_plain(t, opt.class_name)
      assert.equal(opt.class_name, t.class_name)
      for _, copy in ipairs{O.deserialize(t), O.get(t)} do
        assert.equal(opt.class_name, copy.class_name)
        assert.same(opt:get_config(), copy:get_config())
      end
    end
    assert.error_matches(function() O.deserialize{class_name = "Nope"} end, "optimizers.deserialize: expected")
    assert.error_matches(function() O.deserialize{class_name = "SGD", config = {momentun = 1}} end,
      "unknown option 'momentun'")
  end)
end)
