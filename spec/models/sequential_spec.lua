-- Sequential: building, summary, weights in and out, training that converges and
-- repeats bit for bit, Keras' weighting, splitting and batching rules, and the errors
-- a user meets first.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"

local flat = gradcheck.flat

local function close(expected, actual, tol, what)
  assert(math.abs(expected - actual) <= (tol or 1e-6) * math.max(1, math.abs(expected)),
    ("%sexpected %.9g, got %.9g"):format(what and (what .. ": ") or "", expected, actual))
end

local function mlp(opts)
  opts = opts or {}
  local layers = {lurn.layers.Dense(8, {activation = "relu", input_shape = {opts.inputs or 2}})}
  if opts.dropout then layers[#layers + 1] = lurn.layers.Dropout(opts.dropout) end
  layers[#layers + 1] = lurn.layers.Dense(opts.outputs or 1, {activation = opts.activation})
  return lurn.Sequential(layers)
end

-- Runs f with io.stderr replaced by a sink; returns what was written and f's results.
local function capture_stderr(f)
  local real, text = io.stderr, {}
  io.stderr = {write = function(self, ...)
    for _, s in ipairs{...} do text[#text + 1] = tostring(s) end
    return self
  end}
  local ok, a = pcall(f)
  io.stderr = real
  if not ok then error(a, 0) end
  return table.concat(text), a
end

local quiet = {verbose = 0}

describe("Sequential building", function()
  before_each(function() lurn.manual_seed(51) end)

  it("builds from input_shape and chains the output shapes", function()
    local model = lurn.Sequential{
      lurn.layers.Dense(4, {input_shape = {3}, activation = "relu"}),
      lurn.layers.Dropout(0.2),
      lurn.layers.Dense(2, {activation = "softmax"}),
    }
    model:build()
    assert.same({3}, model.input_shape)
    assert.same({2}, model.output_shape)
    assert.same({4}, model.layers[2].output_shape)
    local total, trainable = model:_param_counts()
    assert.equal(3 * 4 + 4 + 4 * 2 + 2, total)
    assert.equal(total, trainable)
  end)

  it("builds from an Input, or from the first batch it sees", function()
    local a = lurn.Sequential{lurn.layers.Input{shape = {5}}, lurn.layers.Dense(2)}
    a:build()
    assert.same({5}, a.input_shape)
    local b = lurn.Sequential{lurn.layers.Dense(2)}
    assert.same({7, 2}, b:predict(lurn.zeros{7, 5}):shape())
    assert.same({5}, b.input_shape)
  end)

  it("prints a Keras-style summary", function()
    local model = lurn.Sequential({
      lurn.layers.Dense(4, {input_shape = {3}, name = "hidden"}),
      lurn.layers.Dense(2, {name = "out"}),
    }, {name = "tiny"})
    local lines = {}
    model:summary(function(s) lines[#lines + 1] = s end)
    local text = table.concat(lines, "\n")
    assert.truthy(text:find('Model: "tiny"', 1, true))
    assert.truthy(text:find("Layer (type)", 1, true))
    assert.truthy(text:match("hidden %(Dense%)%s+%(None, 4%)%s+16"))
    assert.truthy(text:match("out %(Dense%)%s+%(None, 2%)%s+10"))
    assert.truthy(text:find("Total params: 26", 1, true))
    assert.truthy(text:find("Trainable params: 26", 1, true))
    assert.truthy(text:find("Non-trainable params: 0", 1, true))
  end)

  it("get_weights and set_weights round-trip, in Keras order", function()
    local model = mlp{outputs = 2}
    model:build()
    local w = model:get_weights()
    assert.equal(4, #w)
    assert.same({2, 8}, w[1]:shape())
    assert.same({8}, w[2]:shape())
    assert.same({8, 2}, w[3]:shape())
    assert.same({2}, w[4]:shape())
    local x = lurn.randn{3, 2}
    local before = model:predict(x):totable()
    -- get_weights returns copies
    w[1]:fill(0)
    assert.same(before, model:predict(x):totable())
    local other = mlp{outputs = 2}
    other:build()
    other:set_weights(model:get_weights())
    assert.same(before, other:predict(x):totable())
    for i, t in ipairs(other:get_weights()) do assert.same(model:get_weights()[i]:totable(), t:totable()) end
  end)

  it("set_weights rejects the wrong count and shapes", function()
    local model = mlp()
    model:build()
    local w = model:get_weights()
    assert.error_matches(function() model:set_weights{w[1], w[2], w[3]} end, "expects 2 weight tensors")
    w[1] = lurn.zeros{3, 8}
    assert.error_matches(function() model:set_weights(w) end, "kernel must have shape %(2, 8%), got %(3, 8%)")
    w = model:get_weights()
    w[5] = lurn.zeros{1}
    assert.error_matches(function() model:set_weights(w) end, "the model has 4 weight tensors, got 5")
    assert.error_matches(function() lurn.Sequential{lurn.layers.Dense(2)}:set_weights({}) end, "not built")
  end)
end)

describe("Sequential training", function()
  before_each(function() lurn.manual_seed(52) end)

  it("fits a small regression problem", function()
    local x = lurn.randn{64, 3}
    local y = (x:narrow(2, 1, 1) * 2 - x:narrow(2, 2, 1) + x:narrow(2, 3, 1) * 0.5 + 1):contiguous()
    local model = lurn.Sequential{lurn.layers.Dense(1, {input_shape = {3}})}
    model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.1}, loss = "mse", metrics = {"mae"}}
    local history = model:fit(x, y, {epochs = 60, batch_size = 16, verbose = 0})
    local losses = history.history.loss
    assert.equal(60, #losses)
    assert.same(history.epoch[1], 0)
    assert.is_true(losses[#losses] < 1e-3, "final loss " .. losses[#losses])
    assert.is_true(losses[#losses] < losses[1])
    local k, b = table.unpack(model:get_weights())
    close(2, k:get(1, 1), 0.05)
    close(-1, k:get(2, 1), 0.05)
    close(1, b:get(1), 0.05)
    assert.is_true(history.history.mae[#losses] < 0.05)
  end)

  it("fits XOR-like classes to full accuracy", function()
    local x = lurn.tensor{{0, 0}, {0, 1}, {1, 0}, {1, 1}}
    local y = lurn.tensor{0, 1, 1, 0}
    local model = lurn.Sequential{
      lurn.layers.Dense(16, {activation = "tanh", input_shape = {2}}),
      lurn.layers.Dense(2, {activation = "softmax"}),
    }
    model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.05}, loss = "sparse_categorical_crossentropy",
                  metrics = {"accuracy"}}
    local history = model:fit(x, y, {epochs = 150, batch_size = 4, verbose = 0})
    assert.equal(1, history.history.accuracy[150])
    local scores = model:evaluate(x, y, quiet)
    assert.equal(1, scores.accuracy)
    assert.is_true(scores.loss < 0.1)
  end)

  it("repeats bit for bit for the same seed at a fixed thread count", function()
    local threads = lurn.get_num_threads()
    lurn.set_num_threads(1)
    local function run()
      lurn.manual_seed(2024)
      local x, y = lurn.randn{40, 2}, lurn.rand{40, 1}:gt(0.5)
      local model = mlp{dropout = 0.3, activation = "sigmoid"}
      model:compile{optimizer = "adam", loss = "binary_crossentropy", metrics = {"accuracy"}}
      local history = model:fit(x, y, {epochs = 3, batch_size = 8, validation_split = 0.25, verbose = 0})
      local w = {}
      for i, t in ipairs(model:get_weights()) do w[i] = t:totable() end
      return w, history.history
    end
    local ok, err = pcall(function()
      local w1, h1 = run()
      local w2, h2 = run()
      assert.same(w1, w2)
      assert.same(h1, h2)
      lurn.manual_seed(7)
      local x, y = lurn.randn{40, 2}, lurn.rand{40, 1}:gt(0.5)
      local model = mlp{dropout = 0.3, activation = "sigmoid"}
      model:compile{optimizer = "adam", loss = "binary_crossentropy"}
      model:fit(x, y, {epochs = 3, batch_size = 8, verbose = 0})
      assert.are_not.same(w1[1], model:get_weights()[1]:totable())
    end)
    lurn.set_num_threads(threads)
    if not ok then error(err, 0) end
  end)

  it("keeps the last partial batch: 10 samples in batches of 4 take 3 steps", function()
    local x, y = lurn.randn{10, 2}, lurn.randn{10, 1}
    local model = mlp()
    model:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0}, loss = "mse"}
    local sizes = {}
    local cb = lurn.callbacks.LambdaCallback{on_train_batch_end = function(batch) sizes[#sizes + 1] = batch end}
    local history = model:fit(x, y, {epochs = 1, batch_size = 4, verbose = 0, callbacks = {cb}})
    assert.same({0, 1, 2}, sizes)
    -- with a zero learning rate the epoch loss is the loss over all 10 samples
    close(model:evaluate(x, y, {verbose = 0, batch_size = 10}).loss, history.history.loss[1], 1e-6)
    close(model:evaluate(x, y, {verbose = 0, batch_size = 3}).loss, history.history.loss[1], 1e-6)
  end)

  it("validation_split takes the last fraction of the data, before shuffling", function()
    local x, y = lurn.randn{20, 2}, lurn.randn{20, 1}
    local model = mlp()
    model:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0}, loss = "mse"}
    local history = model:fit(x, y, {epochs = 1, batch_size = 5, validation_split = 0.2, verbose = 0})
    local head_x, head_y = x:narrow(1, 1, 16):contiguous(), y:narrow(1, 1, 16):contiguous()
    local tail_x, tail_y = x:narrow(1, 17, 4):contiguous(), y:narrow(1, 17, 4):contiguous()
    close(model:evaluate(tail_x, tail_y, quiet).loss, history.history.val_loss[1], 1e-6)
    close(model:evaluate(head_x, head_y, quiet).loss, history.history.loss[1], 1e-6)
  end)

  it("validation_split keeps floor(n * (1 - split)) samples for training, as Keras 2", function()
    -- 9 samples at 0.25: Keras trains on floor(6.75) = 6 and validates on 3 (floor(9 * 0.25)
    -- would validate on 2)
    local x, y = lurn.randn{9, 2}, lurn.randn{9, 1}
    local model = mlp()
    model:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0}, loss = "mse"}
    local history = model:fit(x, y, {epochs = 1, batch_size = 9, validation_split = 0.25, verbose = 0})
    close(model:evaluate(x:narrow(1, 7, 3):contiguous(), y:narrow(1, 7, 3):contiguous(), quiet).loss,
      history.history.val_loss[1], 1e-6)
    close(model:evaluate(x:narrow(1, 1, 6):contiguous(), y:narrow(1, 1, 6):contiguous(), quiet).loss,
      history.history.loss[1], 1e-6)
    assert.error_matches(function() model:fit(x:narrow(1, 1, 1):contiguous(), y:narrow(1, 1, 1):contiguous(),
      {validation_split = 0.5, verbose = 0}) end, "1 samples are not enough to split")
    assert.error_matches(function() model:fit(x, y, {validation_split = 1e-17, verbose = 0}) end,
      "9 samples are not enough to split into training and validation parts with validation_split = 1e%-17")
  end)

  it("validation_data is evaluated after each epoch", function()
    local x, y = lurn.randn{12, 2}, lurn.randn{12, 1}
    local xv, yv = lurn.randn{5, 2}, lurn.randn{5, 1}
    local model = mlp()
    model:compile{optimizer = "sgd", loss = "mse", metrics = {"mae"}}
    local history = model:fit(x, y, {epochs = 2, batch_size = 4, validation_data = {xv, yv}, verbose = 0})
    assert.equal(2, #history.history.val_loss)
    assert.equal(2, #history.history.val_mae)
    close(model:evaluate(xv, yv, quiet).loss, history.history.val_loss[2], 1e-6)
  end)

  it("validation_data that cannot be evaluated is refused before any training, naming it", function()
    local x, y = lurn.randn{12, 2}, lurn.randn{12, 1}
    local model = mlp()
    model:compile{optimizer = "sgd", loss = "mse"}
    local before = model:get_weights()[1]:clone()
    assert.error_matches(function()
      model:fit(x, y, {verbose = 0, validation_data = {lurn.randn{5, 3}, lurn.randn{5, 1}}})
    end, "fit: validation_data: input of shape %(5, 3%) does not match the model's input shape %(None, 2%)")
    assert.error_matches(function()
      model:fit(x, y, {verbose = 0, validation_data = {lurn.randn{5, 2}, lurn.randn{4, 1}}})
    end, "fit: validation_data x and y have different numbers of samples")
    assert.equal(0, (model:get_weights()[1] - before):abs():max())
  end)

  it("class_weight multiplies each sample's loss by its class's weight (sum / N)", function()
    local x = lurn.randn{8, 2}
    local y = lurn.tensor{0, 1, 1, 0, 2, 1, 0, 2}
    local model = mlp{outputs = 3, activation = "softmax"}
    model:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0}, loss = "sparse_categorical_crossentropy"}
    local cw = {[0] = 1, [1] = 3, [2] = 0.5}
    local history = model:fit(x, y, {epochs = 1, batch_size = 8, class_weight = cw, verbose = 0})
    local w = lurn.tensor{1, 3, 3, 1, 0.5, 3, 1, 0.5}
    local want = lurn.core.loss_value({kind = "sparse_categorical_crossentropy"}, model:predict(x), y, w)
    close(want, history.history.loss[1], 1e-5)
    -- one-hot targets find the class by argmax
    local onehot = lurn.zeros{8, 3}
    for i, c in ipairs(y:totable()) do onehot:set(i, c + 1, 1) end
    model:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0}, loss = "categorical_crossentropy"}
    history = model:fit(x, onehot, {epochs = 1, batch_size = 8, class_weight = cw, verbose = 0})
    close(want, history.history.loss[1], 1e-5)
  end)

  it("sample_weight weights the loss, and combines with class_weight by product", function()
    local x, y = lurn.randn{6, 2}, lurn.tensor{0, 1, 0, 1, 1, 0}
    local model = mlp{outputs = 2, activation = "softmax"}
    model:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0}, loss = "sparse_categorical_crossentropy"}
    local sw = lurn.tensor{1, 0, 2, 1, 0.5, 3}
    local loss = {kind = "sparse_categorical_crossentropy"}
    local h = model:fit(x, y, {epochs = 1, batch_size = 6, sample_weight = sw, verbose = 0})
    close(lurn.core.loss_value(loss, model:predict(x), y, sw), h.history.loss[1], 1e-5)
    h = model:fit(x, y, {epochs = 1, batch_size = 6, sample_weight = sw, class_weight = {[0] = 2, [1] = 1},
                         verbose = 0})
    local both = lurn.tensor{2, 0, 4, 1, 0.5, 6}
    close(lurn.core.loss_value(loss, model:predict(x), y, both), h.history.loss[1], 1e-5)
    -- evaluate takes sample weights too
    close(lurn.core.loss_value(loss, model:predict(x), y, sw),
      model:evaluate(x, y, {sample_weight = sw, batch_size = 6, verbose = 0}).loss, 1e-5)
  end)

  it("reports a NaN loss with its epoch and batch, and stops", function()
    local x, y = lurn.randn{64, 3}, lurn.randn{64, 2}
    local model = lurn.Sequential{lurn.layers.Dense(2, {input_shape = {3}})}
    model:compile{optimizer = lurn.optimizers.SGD{learning_rate = 1e30}, loss = "mse"}
    local text, history = capture_stderr(function()
      return model:fit(x, y, {epochs = 3, batch_size = 8, verbose = 0})
    end)
    assert.is_table(history.nan)
    assert.equal(0, history.nan.epoch)  -- 0-based, as Keras numbers epochs in callbacks
    assert.is_true(history.nan.batch >= 1 and history.nan.batch < 8)
    assert.truthy(history.nan.message:find(("loss became NaN or infinite at epoch 1, batch %d"):format(history.nan.batch + 1),
      1, true))
    assert.truthy(text:find("loss became NaN", 1, true))
    assert.equal(1, #history.history.loss)
    assert.is_true(model.stop_training)
  end)
end)

describe("Sequential errors", function()
  before_each(function() lurn.manual_seed(53) end)

  it("fit and evaluate before compile", function()
    local model = mlp()
    assert.error_matches(function() model:fit(lurn.zeros{4, 2}, lurn.zeros{4, 1}, quiet) end,
      "fit: the model must be compiled first")
    assert.error_matches(function() model:evaluate(lurn.zeros{4, 2}, lurn.zeros{4, 1}, quiet) end,
      "evaluate: the model must be compiled first")
  end)

  it("an input of the wrong shape names both shapes", function()
    local model = mlp()
    model:compile{optimizer = "sgd", loss = "mse"}
    assert.error_matches(function() model:fit(lurn.zeros{4, 3}, lurn.zeros{4, 1}, quiet) end,
      "fit: input of shape %(4, 3%) does not match the model's input shape %(None, 2%)")
    assert.error_matches(function() model:predict(lurn.zeros{4, 2, 1}) end,
      "predict: input of shape %(4, 2, 1%) does not match the model's input shape %(None, 2%)")
    assert.error_matches(function() model:predict(lurn.zeros{4}) end, "x must have a batch dimension")
  end)

  it("x and y of different lengths", function()
    local model = mlp()
    model:compile{optimizer = "sgd", loss = "mse"}
    assert.error_matches(function() model:fit(lurn.zeros{4, 2}, lurn.zeros{5, 1}, quiet) end,
      "x and y have different numbers of samples: %(4, 2%) and %(5, 1%)")
    assert.error_matches(function() model:evaluate(lurn.zeros{4, 2}, lurn.zeros{3, 1}, quiet) end,
      "x and y have different numbers of samples")
  end)

  it("targets of the wrong shape name both shapes", function()
    local model = mlp()
    model:compile{optimizer = "sgd", loss = "mse"}
    assert.error_matches(function() model:fit(lurn.zeros{4, 2}, lurn.zeros{4, 3}, quiet) end,
      "y of shape %(4, 3%) does not fit the model's output %(None, 1%) under mean_squared_error")
    -- the data's shape, not a batch's: (100,) against two softmax units under binary_crossentropy
    local two = lurn.Sequential{lurn.layers.Dense(2, {activation = "softmax", input_shape = {2}})}
    two:compile{optimizer = "sgd", loss = "binary_crossentropy"}
    assert.error_matches(function() two:fit(lurn.zeros{100, 2}, lurn.zeros{100}, quiet) end,
      "y of shape (100,) does not fit the model's output (None, 2) under binary_crossentropy", nil, true)
  end)

  it("unknown activation, optimizer, loss and metric names", function()
    assert.error_matches(function() lurn.layers.Dense(2, {activation = "rectifier"}) end,
      "unknown activation 'rectifier'")
    local model = mlp()
    assert.error_matches(function() model:compile{optimizer = "adamx", loss = "mse"} end,
      "unknown optimizer 'adamx'")
    assert.error_matches(function() model:compile{optimizer = "sgd", loss = "mean_error"} end,
      "unknown loss 'mean_error'")
    assert.error_matches(function() model:compile{optimizer = "sgd", loss = "mse", metrics = {"f1"}} end,
      "unknown metric 'f1'")
    assert.error_matches(function() model:compile{optimizer = "sgd"} end, "a loss is required")
  end)

  it("labels out of range for sparse_categorical_crossentropy", function()
    local model = mlp{outputs = 3, activation = "softmax"}
    model:compile{optimizer = "sgd", loss = "sparse_categorical_crossentropy"}
    assert.error_matches(function() model:fit(lurn.zeros{4, 2}, lurn.tensor{0, 1, 3, 2}, quiet) end,
      "label 3 at sample %d+ is not a class in 0%.%.2")
    assert.error_matches(function() model:evaluate(lurn.zeros{4, 2}, lurn.tensor{0, 1, -1, 2}, quiet) end,
      "label %-1 at sample 3 is not a class in 0%.%.2")
  end)

  it("bad fit options", function()
    local model = mlp()
    model:compile{optimizer = "sgd", loss = "mse"}
    local x, y = lurn.zeros{4, 2}, lurn.zeros{4, 1}
    assert.error_matches(function() model:fit(x, y, {epochs = 0, verbose = 0}) end, "epochs must be a positive integer")
    assert.error_matches(function() model:fit(x, y, {epochs = "3", verbose = 0}) end,
      'epochs must be a positive integer, got the string "3"', nil, true)
    assert.error_matches(function() model:fit(x, y, {batch_size = 2.5, verbose = 0}) end,
      "batch_size must be a positive integer")
    assert.error_matches(function() model:fit(x, y, {validation_split = 1, verbose = 0}) end,
      "validation_split must be a number in %[0, 1%)")
    assert.error_matches(function() model:fit(x, y, {sample_weight = lurn.ones{3}, verbose = 0}) end,
      "sample_weight must be a 1%-D tensor with one weight per sample %(4%)")
    local function gen() return x, y end
    assert.error_matches(function() model:fit(gen, {steps_per_epoch = 1, validation_split = 0.5, verbose = 0}) end,
      "validation_split needs x and y tensors, not a generator")
  end)

  it("adding a layer that cannot take the model's output, or not a layer", function()
    local model = mlp()
    model:build()
    assert.error_matches(function() model:add(lurn.layers.Reshape{3}) end, "cannot reshape")
    assert.equal(2, #model.layers)  -- the failed layer is not kept
    assert.error_matches(function() model:add(42) end, "expects a layer")
  end)
end)
