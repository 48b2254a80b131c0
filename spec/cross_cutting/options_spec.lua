-- Options: a misspelt or unsupported option key is an error naming the key and the
-- function (Keras raises on an unrecognized keyword argument), never silently ignored;
-- layer and callback constructor errors point at the caller's line, also through a tail
-- call; input_dim = n means input_shape = {n}.
local lurn = require "lurn"
local L = lurn.layers

local SOURCE = debug.getinfo(1, "S").short_src

-- The line of the spec that calls here().
local function here() return debug.getinfo(2, "l").currentline end

-- The error of pcall(fn, ...) (fails the test if there is none).
local function error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error")
  return tostring(err)
end

-- Asserts that err begins with this spec's "file:line: " and then text.
local function assert_at(line, text, err)
  local prefix = ("%s:%d: %s"):format(SOURCE, line, text)
  assert.equal(prefix, err:sub(1, #prefix))
end

-- The arguments each constructor needs besides options, in the all-options form
-- L.Dense{units = 2, ...}; any other constructor takes options alone.
local REQUIRED = {
  Dense = {units = 2},
  SimpleRNN = {units = 2},
  LSTM = {units = 2},
  GRU = {units = 2},
  Conv2D = {filters = 2, kernel_size = 3},
  Convolution2D = {filters = 2, kernel_size = 3},
  DepthwiseConv2D = {kernel_size = 3},
  Conv1D = {filters = 2, kernel_size = 3},
  Convolution1D = {filters = 2, kernel_size = 3},
  Embedding = {input_dim = 5, output_dim = 2},
  Dropout = {rate = 0.5},
  Reshape = {target_shape = {2}},
  Lambda = {fn = function(x) return x end},
  Input = {shape = {2}},
  Activation = {activation = "relu"},
}

-- The class each public name makes (aliases and Keras' lower-case merge functions).
local CLASS = {Convolution2D = "Conv2D", MaxPool2D = "MaxPooling2D", AvgPool2D = "AveragePooling2D",
               GlobalMaxPool2D = "GlobalMaxPooling2D", GlobalAvgPool2D = "GlobalAveragePooling2D",
               Convolution1D = "Conv1D", MaxPool1D = "MaxPooling1D", AvgPool1D = "AveragePooling1D",
               GlobalMaxPool1D = "GlobalMaxPooling1D", GlobalAvgPool1D = "GlobalAveragePooling1D"}

local function class_of(name)
  if CLASS[name] then return CLASS[name] end
  if name:match("^%l") then return name:sub(1, 1):upper() .. name:sub(2) end
  return name
end

-- Options for layer `name` with the extra key k = v.
local function layer_opts(name, k, v)
  local opts = {}
  for key, value in pairs(REQUIRED[name] or {}) do opts[key] = value end
  if name == "Residual" then opts[1] = L.Dense(2) end
  if name == "TimeDistributed" then opts.layer = L.Dense(2) end
  if name == "Bidirectional" then opts.layer = L.LSTM(2) end
  opts[k] = v
  return opts
end

-- Calls the public constructor `name` with opts (merge functions get an empty list first).
local function construct(name, opts)
  if name:match("^%l") then return L[name]({}, opts) end
  return L[name](opts)
end

describe("options", function()
  describe("every layer constructor", function()
    it("refuses a misspelt key, naming it and the class, at the caller's line", function()
      local names = {}
      -- lurn.layers also holds serialize and deserialize, which are not constructors
      for name in pairs(L) do
        if name ~= "serialize" and name ~= "deserialize" then names[#names + 1] = name end
      end
      table.sort(names)
      assert.is_true(#names >= 35)
      for _, name in ipairs(names) do
        -- construct calls the constructor in a tail call: the line is this pcall's
        local line, ok, err = here(), pcall(construct, name, layer_opts(name, "activaton", 1))
        assert.is_false(ok, name)
        assert_at(line, class_of(name) .. ": unknown option 'activaton' (known: ", err)
        -- the known names are sorted and include the base ones (Input has its own)
        local known = err:match("%(known: ([^)]*)%)")
        local list = {}
        for n in known:gmatch("[%w_]+") do list[#list + 1] = n end
        local sorted = {table.unpack(list)}
        table.sort(sorted)
        assert.same(sorted, list)
        assert.truthy(known:find("name", 1, true), name)
        assert.truthy(known:find("dtype", 1, true), name)
      end
    end)

    it("name the key that reads as its Keras misspelling", function()
      assert.error_matches(function() L.Dense(2, {activaton = "relu"}) end, "Dense: unknown option 'activaton'")
      assert.error_matches(function() L.Conv2D(2, 3, {paddding = "same"}) end, "Conv2D: unknown option 'paddding'")
      assert.error_matches(function() L.Dropout(0.5, {sed = 1}) end, "Dropout: unknown option 'sed'")
      assert.error_matches(function() L.BatchNormalization{momentun = 0.5} end,
        "BatchNormalization: unknown option 'momentun' %(known: axis, beta_initializer, beta_regularizer, center, "
          .. "dtype, epsilon, gamma_initializer, gamma_regularizer, input_dim, input_shape, momentum, name, scale, "
          .. "synchronized, trainable%)")
      assert.error_matches(function() L.Dense(2, {3}) end, "Dense: unknown option %[1%] %(known: ")
    end)

    it("refuse a Keras option lurn does not implement, saying so", function()
      assert.error_matches(function() L.Dense(2, {kernel_constraint = "max_norm"}) end,
        "Dense: option 'kernel_constraint' is not supported by lurn")
      assert.error_matches(function() L.Dropout(0.5, {seed = 1}) end, "Dropout: option 'seed' is not supported by lurn")
      assert.error_matches(function() L.Dense(2, {batch_input_shape = {nil, 3}}) end,
        "Dense: option 'batch_input_shape' is not supported by lurn")
      assert.error_matches(function() L.Softmax{axis = 1} end, "Softmax: only axis = %-1")
      assert.error_matches(function() L.Flatten{data_format = "channels_first"} end,
        "Flatten: only data_format 'channels_last' is supported")
    end)

    it("take dtype float32 only", function()
      assert.equal("dense_probe", L.Dense(2, {dtype = "float32", name = "dense_probe"}).name)
      assert.error_matches(function() L.Dense(2, {dtype = "float64"}) end,
        "Dense: lurn computes in float32, dtype float64 is not supported")
    end)

    it("take input_dim = n as input_shape = {n}, as Keras", function()
      local m = lurn.Sequential{L.Dense(2, {input_dim = 3})}
      assert.equal(3 * 2 + 2, m:count_params())
      assert.same({3}, m.layers[1].input_shape)
      assert.error_matches(function() L.Dense(2, {input_dim = 3, input_shape = {3}}) end,
        "Dense: give input_shape or input_dim, not both")
      assert.error_matches(function() L.Dense(2, {input_dim = 0}) end, "Dense: input_dim must be a positive integer")
    end)

    it("point at the caller's line for bad activations, initializers and regularizers", function()
      local line, err = here(), error_of(function() L.Dense(2, {activation = "reluu"}) end)
      assert_at(line, "unknown activation 'reluu'", err)
      line, err = here(), error_of(function() L.Dense(2, {kernel_initializer = "glorot"}) end)
      assert_at(line, "unknown initializer 'glorot'", err)
      line, err = here(), error_of(function() L.Dense(2, {kernel_regularizer = "l3"}) end)
      assert_at(line, "unknown regularizer l3", err)
      line, err = here(), error_of(function() L.Conv2D(2, 3, {activation = "x"}) end)
      assert_at(line, "unknown activation 'x'", err)
      line, err = here(), error_of(function() L.BatchNormalization{gamma_initializer = "one"} end)
      assert_at(line, "unknown initializer", err)
    end)
  end)

  describe("Sequential and Model", function()
    local function models()
      local x = lurn.Input{shape = {3}}
      local functional = lurn.Model{inputs = x, outputs = L.Dense(2)(x)}
      return {Sequential = lurn.Sequential{L.Dense(2, {input_shape = {3}})}, Functional = functional}
    end
    local x, y = lurn.zeros{4, 3}, lurn.zeros{4, 2}

    it("refuse misspelt keys in compile, fit, evaluate and predict, at the caller's line", function()
      for kind, m in pairs(models()) do
        local line, err = here(), error_of(function() m:compile{optimiser = "sgd", loss = "mse"} end)
        assert_at(line, "compile: unknown option 'optimiser' (known: loss, loss_weights, metrics, optimizer)", err)
        line, err = here(), error_of(function() m:compile{loss = "mse", metric = {"mae"}} end)
        assert_at(line, "compile: unknown option 'metric' (known: loss, loss_weights, metrics, optimizer)", err)
        m:compile{optimizer = "sgd", loss = "mse"}
        line, err = here(), error_of(function() m:fit(x, y, {epoch = 5, verbose = 0}) end)
        assert_at(line, "fit: unknown option 'epoch' (known: allow_nonfinite, batch_size, callbacks, class_weight, "
          .. "epochs, initial_epoch, sample_weight, shuffle, steps_per_epoch, validation_batch_size, "
          .. "validation_data, validation_split, verbose)", err)
        line, err = here(), error_of(function() m:evaluate(x, y, {batchsize = 1}) end)
        assert_at(line, "evaluate: unknown option 'batchsize' (known: allow_nonfinite, batch_size, return_dict, "
          .. "sample_weight, verbose)", err)
        line, err = here(), error_of(function() m:predict(x, {batchsize = 1}) end)
        assert_at(line, "predict: unknown option 'batchsize' (known: allow_nonfinite, batch_size, verbose)", err)
        -- a generator's fit checks its options too
        local gen = function() return x, y end
        assert.error_matches(function() m:fit(gen, {steps_per_epoch = 1, epoch = 2}) end, "fit: unknown option 'epoch'",
          nil, kind)
      end
    end)

    it("refuse Keras options lurn does not implement, saying so, and keep lurn's own", function()
      for _, m in pairs(models()) do
        assert.error_matches(function() m:compile{loss = "mse", run_eagerly = true} end,
          "compile: option 'run_eagerly' is not supported by lurn")
        m:compile{optimizer = "sgd", loss = "mse"}
        assert.error_matches(function() m:fit(x, y, {validation_freq = 2, verbose = 0}) end,
          "fit: option 'validation_freq' is not supported by lurn")
        assert.error_matches(function() m:evaluate(x, y, {steps = 2}) end, "evaluate: option 'steps' is not supported")
        assert.error_matches(function() m:evaluate(x, y, {return_dict = false}) end, "evaluate: lurn returns a table")
        assert.error_matches(function() m:predict(x, {workers = 2}) end, "predict: option 'workers' is not supported")
        -- lurn's allow_nonfinite, and Keras' validation_batch_size and return_dict, are taken
        m:compile{optimizer = "sgd", loss = "mse", metrics = {"mae"}}
        local h = m:fit(x, y, {epochs = 2, verbose = 0, validation_data = {x, y}, validation_batch_size = 2,
                               allow_nonfinite = true})
        assert.equal(2, #h.history.loss)
        assert.is_number(m:evaluate(x, y, {verbose = 0, return_dict = true, allow_nonfinite = true}).mae)
        assert.same({4, 2}, m:predict(x, {verbose = 0, allow_nonfinite = true}):shape())
      end
    end)

    it("refuse unknown Sequential options, and options inside the list of layers", function()
      assert.error_matches(function() lurn.Sequential({L.Dense(2)}, {nam = "m"}) end,
        "Sequential: unknown option 'nam' %(known: name%)")
      assert.error_matches(function() lurn.Sequential{L.Dense(2), name = "m"} end,
        "Sequential: unknown option 'name' %(it takes no options; give options second")
      assert.error_matches(function() lurn.Sequential(L.Dense(2)) end, "Sequential: expected a list of layers")
      assert.equal("named_model", lurn.Sequential({L.Dense(2)}, {name = "named_model"}).name)
      local x = lurn.Input{shape = {3}}
      local y = L.Dense(2)(x)
      assert.error_matches(function() lurn.Model(x, y, {nme = "m"}) end, "Model: unknown option 'nme' %(known: name%)")
      assert.error_matches(function() lurn.Model{inputs = x, outputs = y, nme = "m"} end,
        "Model: unknown option 'nme' %(known: inputs, name, outputs%)")
      assert.equal("fm", lurn.Model(x, y, {name = "fm"}).name)
    end)

    it("point at the caller's line when called in a tail call", function()
      local m = lurn.Sequential{L.Dense(2, {input_shape = {3}})}
      local line, ok, err = here(), pcall(function() return m:predict("bad") end)
      assert.is_false(ok)
      assert_at(line, "predict: ", err)
      line, ok, err = here(), pcall(function() return L.Dense(2, {activaton = 1}) end)
      assert.is_false(ok)
      assert_at(line, "Dense: unknown option 'activaton'", err)
      -- called straight from pcall (a C function): the caller's line is the pcall's
      line, ok, err = here(), pcall(L.Dense, 2, {activaton = 1})
      assert.is_false(ok)
      assert_at(line, "Dense: unknown option 'activaton'", err)
    end)
  end)

  describe("the other option tables", function()
    it("share one message: sorted known names, and Keras options lurn lacks named as such", function()
      assert.error_matches(function() lurn.optimizers.SGD{weight_decay = 0.1} end,
        "SGD: option 'weight_decay' is not supported by lurn")
      assert.error_matches(function() lurn.optimizers.SGD{momentun = 0.9} end,
        "SGD: unknown option 'momentun' %(known: clipnorm, clipvalue, learning_rate, lr, momentum, name, nesterov%)")
      local source = os.getenv("LURN_SOURCE_DIR") or "."
      -- read_csv keeps lurn's own limits among its options
      local iris = source .. "/examples/data/iris.csv"
      assert.error_matches(function() lurn.data.read_csv(iris, {header = true, colums = 1}) end,
        "read_csv: unknown option 'colums' %(known: columns, delimiter, dtype, header, max_columns, max_field_bytes, "
          .. "max_line_bytes, na_values, quote%)")
      assert.error_matches(function() lurn.model_selection.KFold{folds = 3} end,
        "KFold: unknown option 'folds' %(known: n_splits, random_state, shuffle%)")
      assert.error_matches(function() lurn.model_selection.train_test_split(lurn.zeros{4, 2}, {test = 0.5}) end,
        "train_test_split: unknown option 'test' %(known: random_state, shuffle, stratify, test_size, train_size%)")
    end)
  end)

  describe("losses, metrics, initializers and regularizers", function()
    it("refuse misspelt keys and Keras options lurn lacks", function()
      local line, err = here(), error_of(function() lurn.losses.BinaryCrossentropy{from_logit = true} end)
      assert_at(line, "BinaryCrossentropy: unknown option 'from_logit' (known: from_logits)", err)
      assert.error_matches(function() lurn.losses.Huber{delt = 2} end, "Huber: unknown option 'delt' %(known: delta%)")
      assert.error_matches(function() lurn.losses.MeanSquaredError{from_logits = true} end,
        "MeanSquaredError: unknown option 'from_logits' %(it takes no options%)")
      assert.error_matches(function() lurn.losses.CategoricalCrossentropy{label_smoothing = 0.1} end,
        "CategoricalCrossentropy: option 'label_smoothing' is not supported by lurn")
      assert.error_matches(function() lurn.metrics.Precision{threshold = 0.3} end,
        "Precision: unknown option 'threshold' %(known: name, thresholds%)")
      assert.error_matches(function() lurn.metrics.Recall{class_id = 1} end,
        "Recall: option 'class_id' is not supported by lurn")
      assert.error_matches(function() lurn.metrics.AUC{num_threshold = 3} end,
        "AUC: unknown option 'num_threshold' %(known: name, num_thresholds%)")
      assert.error_matches(function() lurn.initializers.HeNormal{sed = 1} end,
        "HeNormal: unknown option 'sed' %(known: seed%)")
      assert.error_matches(function() lurn.initializers.RandomNormal{std = 1} end,
        "RandomNormal: unknown option 'std' %(known: mean, seed, stddev%)")
      assert.error_matches(function() lurn.initializers.Zeros{seed = 1} end, "Zeros: unknown option 'seed'")
      assert.error_matches(function() lurn.regularizers.l1_l2{l = 1} end, "l1_l2: unknown option 'l' %(known: l1, l2%)")
      -- the options they take still work
      assert.is_true(lurn.losses.SparseCategoricalCrossentropy{from_logits = true}.from_logits)
      assert.equal(2, lurn.losses.Huber{delta = 2}.delta)
      assert.equal("p", lurn.metrics.Precision{thresholds = 0.3, name = "p"}.name)
      assert.error_matches(function() lurn.metrics.Precision{thresholds = {0.3, 0.5}} end,
        "Precision: thresholds must be one number in %[0, 1%] %(a list of thresholds is not supported by lurn%)")
      assert.error_matches(function() lurn.metrics.Recall{thresholds = 1.5} end, "got 1.5")
      assert.equal(7, lurn.initializers.GlorotUniform{seed = 7}.seed)
      assert.equal(3, lurn.initializers.Constant(3).value)
    end)
  end)

  describe("every callback", function()
    local function fn() end
    -- How to construct each callback with the misspelt key k.
    local MAKE = {
      Callback = function(k) return lurn.callbacks.Callback.new{[k] = fn} end,
      LambdaCallback = function(k) return lurn.callbacks.LambdaCallback{[k] = fn} end,
      History = function(k) return lurn.callbacks.History{[k] = 1} end,
      EarlyStopping = function(k) return lurn.callbacks.EarlyStopping{[k] = 3} end,
      LearningRateScheduler = function(k) return lurn.callbacks.LearningRateScheduler(fn, {[k] = 1}) end,
      LayerStats = function(k) return lurn.callbacks.LayerStats{[k] = 1} end,
      ModelCheckpoint = function(k) return lurn.callbacks.ModelCheckpoint("m.lurn", {[k] = 1}) end,
      BackupAndRestore = function(k) return lurn.callbacks.BackupAndRestore("backup", {[k] = 1}) end,
      ReduceLROnPlateau = function(k) return lurn.callbacks.ReduceLROnPlateau{[k] = 1} end,
      TerminateOnNaN = function(k) return lurn.callbacks.TerminateOnNaN{[k] = 1} end,
      CSVLogger = function(k) return lurn.callbacks.CSVLogger("log.csv", {[k] = 1}) end,
      ProgbarLogger = function(k) return lurn.callbacks.ProgbarLogger{[k] = 1} end,
    }

    it("refuses a misspelt key, naming it and the callback, at the caller's line", function()
      for name in pairs(lurn.callbacks) do
        assert.truthy(MAKE[name], "no case for callbacks." .. name)
        local line, ok, err = here(), pcall(MAKE[name], "on_epoch_ends")
        assert.is_false(ok, name)
        assert_at(line, name .. ": unknown option 'on_epoch_ends' (", err)
      end
      assert.error_matches(function() lurn.callbacks.EarlyStopping{patiense = 3} end,
        "EarlyStopping: unknown option 'patiense' %(known: baseline, min_delta, mode, monitor, patience, "
          .. "restore_best_weights, start_from_epoch, verbose%)")
      assert.error_matches(function() lurn.callbacks.LearningRateScheduler(fn, {verbos = 1}) end,
        "LearningRateScheduler: unknown option 'verbos' %(known: schedule, verbose%)")
    end)

    it("constructor errors point at the caller's line", function()
      local line, err = here(), error_of(function() lurn.callbacks.EarlyStopping{mode = "up"} end)
      assert_at(line, "EarlyStopping: mode must be", err)
      line, err = here(), error_of(function() lurn.callbacks.LearningRateScheduler(1) end)
      assert_at(line, "LearningRateScheduler: schedule must be a function", err)
      -- called straight from pcall (a C function): the caller's line is the pcall's
      local ok
      line, ok, err = here(), pcall(lurn.callbacks.EarlyStopping, {mode = "up"})
      assert.is_false(ok)
      assert_at(line, "EarlyStopping: mode must be", err)
    end)

    it("refuse methods fit never calls, and run Keras' on_batch_end as on_train_batch_end", function()
      assert.error_matches(function() lurn.callbacks.LambdaCallback{on_test_begin = fn} end,
        "LambdaCallback: option 'on_test_begin' is not supported by lurn")
      local batches = 0
      local m = lurn.Sequential{L.Dense(2, {input_shape = {3}})}
      m:compile{optimizer = "sgd", loss = "mse"}
      m:fit(lurn.zeros{4, 3}, lurn.zeros{4, 2}, {batch_size = 2, verbose = 0, callbacks = {
        lurn.callbacks.LambdaCallback{on_batch_end = function() batches = batches + 1 end}}})
      assert.equal(2, batches)
      local history = lurn.callbacks.History()
      assert.same({}, history.history)
    end)
  end)
end)
