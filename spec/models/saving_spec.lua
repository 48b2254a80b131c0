-- Model files from the user's side: save/load_model round trips that predict the same
-- numbers for every layer class (Lambda refused by name), the compile settings and the
-- optimizer state kept, exact resume (2 + 2 epochs with a save/load between = 4 epochs,
-- bit for bit, Dropout and shuffle on, Sequential and functional), loading to predict
-- leaving the process's random state alone, preprocessing objects saved beside the model,
-- save_weights/load_weights with shape errors naming the weight, and export_npy.
local lurn = require "lurn"
local core = require "lurn.core"
local L = lurn.layers

local dir
local function path_of(name)
  if not dir then
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p '" .. dir .. "'"))
  end
  return dir .. "/" .. name
end

local function error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return tostring(err)
end

local function same_tensor(a, b)
  assert.same(a:shape(), b:shape())
  assert.same(a:totable(), b:totable())
end

-- One model per layer class: the layer between an input and a Dense head. Merge layers
-- join two branches of a functional model.
local function around(layer, shape)
  local input = lurn.Input{shape = shape}
  local y = layer(input)
  if #y.shape > 2 then y = L.Flatten()(y) end
  return lurn.Model{inputs = input, outputs = L.Dense(2)(y)}
end
local function merged(layer)
  local input = lurn.Input{shape = {4}}
  local a, b = L.Dense(3)(input), L.Dense(3, {activation = "tanh"})(input)
  return lurn.Model{inputs = input, outputs = L.Dense(2)(layer{a, b})}
end
local CASES = {
  Dense = function() return around(L.Dense(3, {activation = "relu"}), {4}), {4} end,
  Dropout = function() return around(L.Dropout(0.3), {4}), {4} end,
  BatchNormalization = function() return around(L.BatchNormalization{momentum = 0.5}, {4}), {4} end,
  Residual = function()
    return around(L.Residual{L.Dense(4, {activation = "relu"}), L.BatchNormalization(),
                             projection = L.Dense(4, {use_bias = false})}, {3}), {3}
  end,
  Activation = function() return around(L.Activation("elu"), {4}), {4} end,
  ReLU = function() return around(L.ReLU(), {4}), {4} end,
  LeakyReLU = function() return around(L.LeakyReLU{alpha = 0.1}, {4}), {4} end,
  ELU = function() return around(L.ELU{alpha = 0.5}, {4}), {4} end,
  Softmax = function() return around(L.Softmax(), {4}), {4} end,
  Reshape = function() return around(L.Reshape{2, 3}, {6}), {6} end,
  Flatten = function() return around(L.Flatten(), {2, 3}), {2, 3} end,
  Conv2D = function() return around(L.Conv2D(3, {2, 3}, {padding = "same", activation = "relu"}), {5, 6, 2}), {5, 6, 2} end,
  DepthwiseConv2D = function() return around(L.DepthwiseConv2D({3, 3}, {depth_multiplier = 2}), {5, 5, 2}), {5, 5, 2} end,
  MaxPooling2D = function() return around(L.MaxPooling2D{2, 2}, {4, 4, 2}), {4, 4, 2} end,
  AveragePooling2D = function() return around(L.AveragePooling2D(2), {4, 4, 2}), {4, 4, 2} end,
  GlobalMaxPooling2D = function() return around(L.GlobalMaxPooling2D(), {4, 4, 2}), {4, 4, 2} end,
  GlobalAveragePooling2D = function() return around(L.GlobalAveragePooling2D(), {4, 4, 2}), {4, 4, 2} end,
  ZeroPadding2D = function() return around(L.ZeroPadding2D{{1, 2}, {0, 1}}, {3, 3, 1}), {3, 3, 1} end,
  UpSampling2D = function() return around(L.UpSampling2D({2, 2}, {interpolation = "bilinear"}), {3, 3, 1}), {3, 3, 1} end,
  Add = function() return merged(L.Add()), {4} end,
  Subtract = function() return merged(L.Subtract()), {4} end,
  Multiply = function() return merged(L.Multiply()), {4} end,
  Average = function() return merged(L.Average()), {4} end,
  Maximum = function() return merged(L.Maximum()), {4} end,
  Minimum = function() return merged(L.Minimum()), {4} end,
  Concatenate = function() return merged(L.Concatenate()), {4} end,
  InputLayer = function() return around(L.Dense(2), {3}), {3} end,
  Conv1D = function() return around(L.Conv1D(3, 2, {padding = "causal", dilation_rate = 2}), {6, 2}), {6, 2} end,
  MaxPooling1D = function() return around(L.MaxPooling1D(2), {6, 2}), {6, 2} end,
  AveragePooling1D = function() return around(L.AveragePooling1D(3, {strides = 1}), {6, 2}), {6, 2} end,
  GlobalMaxPooling1D = function() return around(L.GlobalMaxPooling1D(), {6, 2}), {6, 2} end,
  GlobalAveragePooling1D = function() return around(L.GlobalAveragePooling1D(), {6, 2}), {6, 2} end,
  TimeDistributed = function() return around(L.TimeDistributed(L.Dense(3, {activation = "tanh"})), {4, 2}), {4, 2} end,
  -- its output's mask goes on through Dense (Flatten would refuse it, as Keras)
  Masking = function()
    local input = lurn.Input{shape = {3, 2}}
    return lurn.Model{inputs = input, outputs = L.Dense(2)(L.Masking{mask_value = 0}(input))}, {3, 2}
  end,
  SimpleRNN = function() return around(L.SimpleRNN(3, {return_sequences = true, go_backwards = true}), {4, 2}), {4, 2} end,
  LSTM = function() return around(L.LSTM(3, {dropout = 0.2, recurrent_dropout = 0.1}), {4, 2}), {4, 2} end,
  GRU = function() return around(L.GRU(3, {reset_after = false}), {4, 2}), {4, 2} end,
  Bidirectional = function()
    return around(L.Bidirectional(L.LSTM(3, {return_sequences = true}), {merge_mode = "concat"}), {4, 2}), {4, 2}
  end,
  -- token ids, not normal numbers: the third value makes the input
  Embedding = function()
    return around(L.Embedding(7, 3), {5}), {5}, function() return lurn.rand{3, 5}:mul(7):floor() end
  end,
}
-- Classes that never run inside a model: TextVectorization (runs on strings before the
-- model; it is saved beside the model as preprocessing, below).
local NOT_IN_MODELS = {TextVectorization = true}

-- Weights that are not the initial ones (positive: a moving variance must be).
local function scramble(model)
  for _, w in ipairs(model._core:weights()) do w:copy(lurn.rand(w:shape()) + 0.5) end
end

describe("model:save and lurn.models.load_model", function()
  before_each(function() lurn.manual_seed(5) end)

  it("cover every layer class but Lambda", function()
    local missing = {}
    for name, v in pairs(L) do
      if type(v) == "table" and rawget(v, "class_name") == name and name ~= "Lambda" and not CASES[name]
          and not NOT_IN_MODELS[name] then
        missing[#missing + 1] = name
      end
    end
    table.sort(missing)
    assert(#missing == 0, "layer classes without a model-file case: " .. table.concat(missing, ", "))
  end)

  for class_name, make in pairs(CASES) do
    it(class_name .. ": the loaded model predicts the same numbers, exactly", function()
      local model, shape, input = make()
      scramble(model)
      local x = input and input() or lurn.randn{3, table.unpack(shape)}
      local before = model:predict(x, {verbose = 0})
      model:save(path_of("every.lurn"))
      local copy = lurn.models.load_model(path_of("every.lurn"))
      assert.equal(model.class_name, copy.class_name)
      assert.same(model:get_config(), copy:get_config())
      same_tensor(before, copy:predict(x, {verbose = 0}))
    end)
  end

  it("refuses a Lambda layer by name in save; save_weights still works", function()
    local model = lurn.Sequential{L.Dense(3, {input_shape = {2}}), L.Lambda(function(t) return t * 2 end, {name = "double"})}
    local err = error_of(model.save, model, path_of("lambda.lurn"))
    assert.matches("layer 'double' is a Lambda layer: its function cannot be saved", err, 1, true)
    assert.matches("saving_spec.lua:%d+:", err)  -- at the user's line
    model:save_weights(path_of("lambda.weights"))
    local other = lurn.Sequential{L.Dense(3, {input_shape = {2}}), L.Lambda(function(t) return t * 2 end)}
    other:load_weights(path_of("lambda.weights"))
    same_tensor(model:get_weights()[1], other:get_weights()[1])
    -- load_model on such a file says what it is and what reads it
    assert.matches("no 'model_config' section (a file of save_weights: read it into a model of the same layers "
      .. "with model:load_weights)", error_of(lurn.models.load_model, path_of("lambda.weights")), 1, true)
  end)

  it("keeps the compile settings: loss, metrics, optimizer and its arguments and state", function()
    local model = lurn.Sequential{L.Dense(3, {input_shape = {4}}), L.Dense(2, {activation = "sigmoid"})}
    model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.02, beta_1 = 0.8, amsgrad = true, clipnorm = 1},
                  loss = lurn.losses.BinaryCrossentropy{from_logits = false}, metrics = {"accuracy", "auc"}}
    local x, y = lurn.randn{16, 4}, (lurn.rand{16, 2} + 0.5):floor()
    model:fit(x, y, {epochs = 2, batch_size = 4, verbose = 0})
    model:save(path_of("compiled.lurn"))
    local copy = lurn.models.load_model(path_of("compiled.lurn"))
    assert.is_true(copy.compiled)
    assert.equal("binary_crossentropy", copy.loss.kind)
    assert.same({"accuracy", "auc"}, copy._metric_specs)
    assert.same(model.optimizer:get_config(), copy.optimizer:get_config())
    assert.equal(8, copy.optimizer.iterations)
    local _, _, slots = model.optimizer._c:state()
    local _, _, copied = copy.optimizer._c:state()
    assert.equal(3 * 4, #copied)  -- m, v and vhat (amsgrad) of 4 weights
    for k = 1, #slots do same_tensor(slots[k], copied[k]) end
    assert.same(model:evaluate(x, y, {verbose = 0}), copy:evaluate(x, y, {verbose = 0}))
  end)

  it("load_model{compile = false} leaves the model uncompiled; unknown options are refused", function()
    local model = lurn.Sequential{L.Dense(3, {input_shape = {4}})}
    model:compile{optimizer = "adam", loss = "mse"}
    model:save(path_of("nocompile.lurn"))
    assert.is_not_true(lurn.models.load_model(path_of("nocompile.lurn"), {compile = false}).compiled)
    assert.matches("load_model: option 'custom_objects' is not supported",
      error_of(lurn.models.load_model, path_of("nocompile.lurn"), {custom_objects = {}}), 1, true)
    assert.matches("save: unknown option 'preprocesing'",
      error_of(model.save, model, path_of("x.lurn"), {preprocesing = {}}), 1, true)
  end)

  it("loads an uncompiled model uncompiled", function()
    local model = lurn.Sequential{L.Dense(3, {input_shape = {4}})}
    model:save(path_of("plain.lurn"))
    local copy = lurn.models.load_model(path_of("plain.lurn"))
    assert.is_not_true(copy.compiled)
  end)

  it("refuses a model that is not built, and a path that is not a string", function()
    local model = lurn.Sequential{L.Dense(3)}
    assert.matches("save: model '.-' is not built yet", error_of(model.save, model, path_of("x.lurn")))
    model = lurn.Sequential{L.Dense(3, {input_shape = {4}})}
    assert.matches("save: expected a file path, got number", error_of(model.save, model, 3))
    assert.matches("load_model: expected a file path, got nil", error_of(lurn.models.load_model))
  end)

  it("loading only to predict leaves the process's random state as it was", function()
    local model = lurn.Sequential{L.Dense(3, {input_shape = {4}}), L.Dropout(0.5), L.Dense(2)}
    model:compile{optimizer = "adam", loss = "mse"}
    model:fit(lurn.randn{8, 4}, lurn.randn{8, 2}, {epochs = 1, verbose = 0})
    model:save(path_of("rng.lurn"))
    lurn.manual_seed(11)
    local expected = lurn.rand(5):totable()
    lurn.manual_seed(11)
    local copy = lurn.models.load_model(path_of("rng.lurn"))
    copy:predict(lurn.randn{2, 4} * 0, {verbose = 0})
    lurn.manual_seed(11)
    copy = lurn.models.load_model(path_of("rng.lurn"))
    copy:predict(lurn.zeros{2, 4}, {verbose = 0})
    assert.same(expected, lurn.rand(5):totable())
  end)
end)

describe("exact resume", function()
  local x, y
  before_each(function()
    lurn.manual_seed(3)
    x, y = lurn.randn{40, 4}, (lurn.rand(40) * 3):floor()
  end)

  local function sequential()
    local m = lurn.Sequential{L.Dense(8, {input_shape = {4}, activation = "relu"}), L.Dropout(0.4),
                              L.BatchNormalization(), L.Dense(3, {activation = "softmax"})}
    m:compile{optimizer = lurn.optimizers.Nadam{learning_rate = 0.01}, loss = "sparse_categorical_crossentropy",
              metrics = {"accuracy"}}
    return m
  end
  local function functional()
    local input = lurn.Input{shape = {4}}
    local a = L.Dropout(0.3)(L.Dense(6, {activation = "relu"})(input))
    local b = L.Dense(6, {activation = "tanh"})(input)
    local out = L.Dense(3, {activation = "softmax"})(L.Add(){a, b})
    local m = lurn.Model{inputs = input, outputs = out}
    m:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.01}, loss = "sparse_categorical_crossentropy"}
    return m
  end

  local function convolutional()
    local m = lurn.Sequential{L.Reshape({2, 2, 1}, {input_shape = {4}}), L.UpSampling2D{2, 2},
                              L.Conv2D(3, 2, {padding = "same", activation = "relu"}), L.BatchNormalization(),
                              L.MaxPooling2D(2), L.Flatten(), L.Dropout(0.3), L.Dense(3, {activation = "softmax"})}
    m:compile{optimizer = lurn.optimizers.RMSprop{learning_rate = 0.01, momentum = 0.5},
              loss = "sparse_categorical_crossentropy"}
    return m
  end

  -- return_state and initial_state: a model reading tensors 1 and 2 of an LSTM and the
  -- states of a Bidirectional (merge_mode = false), its dropout drawn again on resume
  local function recurrent_states()
    local input = lurn.Input{shape = {4}}
    local seq = L.Reshape{2, 2}(input)
    local h0 = L.Dense(3, {activation = "tanh"})(input)
    local lstm = L.LSTM(3, {return_state = true, dropout = 0.2})(seq, {initial_state = {h0, h0}})
    local bi = L.Bidirectional(L.GRU(2, {return_state = true}), {merge_mode = false})(seq)
    local out = L.Dense(3, {activation = "softmax"})(L.Concatenate(){lstm[2], lstm[3], bi[1], bi[4]})
    local m = lurn.Model{inputs = input, outputs = out}
    m:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.01}, loss = "sparse_categorical_crossentropy"}
    return m
  end

  for name, make in pairs{Sequential = sequential, functional = functional, convolutional = convolutional,
                          ["return_state and initial_state"] = recurrent_states} do
    it(name .. ": 2 epochs, save, load, 2 more = 4 epochs in one go, bit for bit", function()
      local opts = {batch_size = 8, verbose = 0, shuffle = true, validation_split = 0.2}
      lurn.manual_seed(7)
      local whole = make()
      opts.epochs = 4
      local h_whole = whole:fit(x, y, opts)

      lurn.manual_seed(7)
      local first = make()
      opts.epochs = 2
      first:fit(x, y, opts)
      first:save(path_of("resume.lurn"))
      lurn.manual_seed(123)  -- whatever the process draws in between
      lurn.rand(17)
      local resumed = lurn.models.load_model(path_of("resume.lurn"))
      lurn.rand(5)
      opts.epochs, opts.initial_epoch = 4, 2
      local h_resumed = resumed:fit(x, y, opts)
      assert.same(h_whole.history.loss[4], h_resumed.history.loss[2])
      local a, b = whole:get_weights(), resumed:get_weights()
      for i = 1, #a do same_tensor(a[i], b[i]) end
      same_tensor(whole:predict(x, {verbose = 0}), resumed:predict(x, {verbose = 0}))
    end)
  end
end)

describe("exact resume with every optimizer", function()
  local O = lurn.optimizers
  local CASES = {
    SGD = function() return O.SGD{learning_rate = 0.05, momentum = 0.9, nesterov = true} end,
    Adam = function() return O.Adam{learning_rate = 0.01, amsgrad = true} end,
    AdamW = function() return O.AdamW{learning_rate = 0.01} end,
    RMSprop = function() return O.RMSprop{learning_rate = 0.01, momentum = 0.5} end,
    Adagrad = function() return O.Adagrad{learning_rate = 0.05} end,
    Nadam = function() return O.Nadam{learning_rate = 0.01} end,
    Adamax = function() return O.Adamax{learning_rate = 0.01} end,
    Adadelta = function() return O.Adadelta{learning_rate = 1} end,
    Ftrl = function() return O.Ftrl{learning_rate = 0.05, l1_regularization_strength = 0.01} end,
  }

  it("covers every optimizer", function()
    for name, v in pairs(O) do
      if type(v) == "function" and name:match("^%u") then assert.truthy(CASES[name], "no resume case for " .. name) end
    end
  end)

  for name, make_opt in pairs(CASES) do
    it(name .. ": 1 epoch, save, load, 2 more = 3 in one go", function()
      lurn.manual_seed(8)
      local x, y = lurn.randn{24, 3}, lurn.randn{24, 2}
      local function make()
        lurn.manual_seed(1)
        local m = lurn.Sequential{L.Dense(5, {input_shape = {3}, activation = "tanh"}), L.Dropout(0.2), L.Dense(2)}
        m:compile{optimizer = make_opt(), loss = lurn.losses.Huber{delta = 0.5}}
        return m
      end
      local opts = {batch_size = 6, verbose = 0, epochs = 3}
      local whole = make()
      whole:fit(x, y, opts)
      local first = make()
      opts.epochs = 1
      first:fit(x, y, opts)
      first:save(path_of("opt.lurn"))
      local resumed = lurn.models.load_model(path_of("opt.lurn"))
      assert.equal("huber", resumed.loss.kind)
      assert.equal(0.5, resumed.loss.delta)
      opts.epochs, opts.initial_epoch = 3, 1
      resumed:fit(x, y, opts)
      local a, b = whole:get_weights(), resumed:get_weights()
      for i = 1, #a do same_tensor(a[i], b[i]) end
    end)
  end
end)

describe("the saved random state", function()
  it("gives way to a lurn.manual_seed called after loading", function()
    local model = lurn.Sequential{L.Dense(4, {input_shape = {3}}), L.Dropout(0.5), L.Dense(1)}
    model:compile{optimizer = "sgd", loss = "mse"}
    local x, y = lurn.randn{16, 3}, lurn.randn{16, 1}
    model:fit(x, y, {epochs = 1, verbose = 0})
    model:save(path_of("seeded.lurn"))
    local function tuned(seed)
      local m = lurn.models.load_model(path_of("seeded.lurn"))
      if seed then lurn.manual_seed(seed) end
      m:fit(x, y, {epochs = 1, verbose = 0})
      return m:get_weights()[1]:totable()
    end
    assert.same(tuned(nil), tuned(nil))        -- the saved state: the same run twice
    assert.are_not.same(tuned(5), tuned(6))    -- the seeds given after loading decide
    assert.same(tuned(5), tuned(5))
  end)
end)

describe("a scheduled learning rate in a model file", function()
  it("reads the rate of the latest update after loading, as before saving", function()
    local schedule = lurn.optimizers.schedules.PiecewiseConstantDecay({2, 4}, {1, 0.5, 0.25})
    local model = lurn.Sequential{L.Dense(1, {input_shape = {2}})}
    model:compile{optimizer = lurn.optimizers.SGD{learning_rate = schedule}, loss = "mse"}
    model:fit(lurn.randn{6, 2}, lurn.randn{6, 1}, {epochs = 1, batch_size = 1, verbose = 0})
    model:save(path_of("schedule.lurn"))
    assert.equal(0.25, model.optimizer.learning_rate)
    assert.equal(0.25, lurn.models.load_model(path_of("schedule.lurn")).optimizer.learning_rate)
  end)
end)

describe("metrics in a model file", function()
  it("keep lurn's metric objects with their settings, and refuse others by name", function()
    local model = lurn.Sequential{L.Dense(2, {input_shape = {3}, activation = "sigmoid"})}
    model:compile{optimizer = "sgd", loss = "binary_crossentropy",
                  metrics = {"accuracy", "F1Score", lurn.metrics.Precision{thresholds = 0.3},
                             lurn.metrics.F1Score{average = "macro", threshold = 0.4, name = "f1_macro"},
                             lurn.metrics.AUC{num_thresholds = 50}, lurn.metrics.Recall()}}
    local x, y = lurn.randn{20, 3}, lurn.rand{20, 2}:round()
    model:fit(x, y, {epochs = 1, verbose = 0})
    model:save(path_of("metric.lurn"))
    local copy = lurn.models.load_model(path_of("metric.lurn"))
    assert.same(model:evaluate(x, y, {verbose = 0}), copy:evaluate(x, y, {verbose = 0}))
    assert.equal(0.3, copy._metric_specs[3]._config.config.thresholds)
    model:compile{optimizer = "sgd", loss = "binary_crossentropy", metrics = {{name = "mine", update = function() end}}}
    assert.matches("metric 1 (mine) cannot be saved: compile with a metric name or one of lurn.metrics' classes",
      error_of(model.save, model, path_of("metric2.lurn")), 1, true)
  end)
end)

describe("preprocessing saved beside the model", function()
  it("comes back fitted, as the second value of load_model", function()
    local model = lurn.Sequential{L.Dense(2, {input_shape = {3}})}
    local x = lurn.randn{10, 3} * 4 + 2
    local scaler = lurn.preprocessing.StandardScaler():fit(x)
    model:save(path_of("pre.lurn"), {preprocessing = {scaler = scaler}})
    local copy, pre = lurn.models.load_model(path_of("pre.lurn"))
    assert.is_table(copy)
    same_tensor(scaler:transform(x), pre.scaler:transform(x))
    local _, none = lurn.models.load_model(path_of("every.lurn"))
    assert.is_nil(none)
  end)

  it("keeps an adapted TextVectorization: the same ids for the same words", function()
    local model = lurn.Sequential{L.Dense(2, {input_shape = {4}})}
    local v = L.TextVectorization{output_sequence_length = 4}
    v:adapt{"the cat sat", "the dog ran far", "a cat"}
    model:save(path_of("text.lurn"), {preprocessing = {vectorizer = v}})
    local _, pre = lurn.models.load_model(path_of("text.lurn"))
    local texts = {"the cat ran", "an unseen word"}
    same_tensor(v(texts), pre.vectorizer(texts))
    assert.same(v:get_vocabulary(), pre.vectorizer:get_vocabulary())
  end)

  it("refuses an object without get_state", function()
    local model = lurn.Sequential{L.Dense(2, {input_shape = {3}})}
    assert.matches("preprocessing 'f' has no get_state",
      error_of(model.save, model, path_of("bad.lurn"), {preprocessing = {f = {}}}))
  end)
end)

describe("save_weights, load_weights and export_npy", function()
  before_each(function() lurn.manual_seed(9) end)

  it("round-trip every weight, non-trainable ones too", function()
    local model = lurn.Sequential{L.Dense(3, {input_shape = {4}}), L.BatchNormalization()}
    scramble(model)
    model:save_weights(path_of("w.lurn"))
    local other = lurn.Sequential{L.Dense(3, {input_shape = {4}}), L.BatchNormalization()}
    assert.equal(other, other:load_weights(path_of("w.lurn")))
    local a, b = model:get_weights(), other:get_weights()
    assert.equal(6, #b)
    for i = 1, #a do same_tensor(a[i], b[i]) end
  end)

  it("check every shape first, and name the weight that does not fit", function()
    local model = lurn.Sequential{L.Dense(3, {input_shape = {4}, name = "d"})}
    model:save_weights(path_of("w3.lurn"))
    local other = lurn.Sequential{L.Dense(5, {input_shape = {4}, name = "e"})}
    local before = other:get_weights()
    local err = error_of(other.load_weights, other, path_of("w3.lurn"))
    assert.matches("weight 1 'd/kernel' has shape (4, 3) in the file, but the model's 'e/kernel' has shape (4, 5)",
      err, 1, true)
    same_tensor(before[1], other:get_weights()[1])
    local two = lurn.Sequential{L.Dense(3, {input_shape = {4}}), L.Dense(1)}
    assert.matches("the file holds 2 weights, model '.-' has 4", error_of(two.load_weights, two, path_of("w3.lurn")))
  end)

  it("load_model of a weights file says what is missing", function()
    assert.matches("w3.lurn: the model file has no 'model_config' section",
      error_of(lurn.models.load_model, path_of("w3.lurn")))
  end)

  it("export_npy writes <layer>.<weight>.npy files numpy reads", function()
    local model = lurn.Sequential{L.Dense(3, {input_shape = {4}, name = "dense_1"}), L.Dense(2, {name = "odd name/x"})}
    local files = model:export_npy(dir)
    assert.same({"dense_1.kernel.npy", "dense_1.bias.npy", "odd_name_x.kernel.npy", "odd_name_x.bias.npy"}, files)
    same_tensor(model:get_weights()[1], lurn.load_npy(path_of("dense_1.kernel.npy")))
    same_tensor(model:get_weights()[4], lurn.load_npy(path_of("odd_name_x.bias.npy")))
  end)

  it("export_npy refuses two weights that map to one file name", function()
    local model = lurn.Sequential{L.Dense(3, {input_shape = {4}, name = "a b"}), L.Dense(2, {name = "a_b"})}
    assert.matches("weights 'a b/kernel' and 'a_b/kernel' both map to the file name a_b.kernel.npy",
      error_of(model.export_npy, model, dir), 1, true)
  end)
end)

describe("the random state helpers", function()
  it("rng_state and set_rng_state round-trip and refuse bad states", function()
    local s = core.rng_state()
    local a = lurn.rand(3):totable()
    core.set_rng_state(s)
    assert.same(a, lurn.rand(3):totable())
    assert.matches("64 hexadecimal digits", error_of(core.set_rng_state, "12"))
    assert.matches("cannot be all zero", error_of(core.set_rng_state, string.rep("0", 64)))
  end)
end)
