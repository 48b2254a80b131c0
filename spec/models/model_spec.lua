-- The functional API: lurn.Input, layer calls on symbolic tensors, lurn.Model. Graph order
-- and summary as Keras, gradients through fan-outs and skip connections, equality with
-- the Sequential (and Residual) that computes the same thing, training flags and
-- penalties inside the graph, and the errors of graphs lurn cannot run.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"
local L = lurn.layers

local quiet = {verbose = 0}

local function names(layers)
  local out = {}
  for i, layer in ipairs(layers) do out[i] = layer.name end
  return out
end

local function same_tensors(a, b)
  assert.equal(#a, #b)
  for i = 1, #a do assert.same(a[i]:totable(), b[i]:totable()) end
end

local function summary_text(model)
  local lines = {}
  model:summary(function(s) lines[#lines + 1] = s end)
  return table.concat(lines, "\n")
end

describe("functional Model", function()
  before_each(function() lurn.manual_seed(71) end)

  it("builds the issue's example and trains it with Sequential's machinery", function()
    local inputs = lurn.Input{shape = {6, 6, 1}}
    assert.same({6, 6, 1}, inputs.shape)
    local x = L.Conv2D(4, 3, {padding = "same", activation = "relu", name = "c1"})(inputs)
    local y = L.Conv2D(4, 3, {padding = "same", name = "c2"})(x)
    x = L.Add{name = "sum"}({x, y})
    x = L.Activation("relu")(x)
    x = L.Flatten()(x)
    local a = L.Dense(8, {activation = "relu", name = "a"})(x)
    local b = L.Dense(8, {activation = "tanh", name = "b"})(x)
    x = L.Concatenate{axis = -1, name = "cat"}({a, b})
    assert.same({16}, x.shape)
    local outputs = L.Dense(3, {activation = "softmax", name = "out"})(x)
    local model = lurn.models.Model{inputs = inputs, outputs = outputs, name = "example"}
    assert.equal("InputLayer", model.layers[1].class_name)
    assert.same({"c1", "c2", "sum"}, {model.layers[2].name, model.layers[3].name, model.layers[4].name})
    assert.same({"a", "b", "cat", "out"}, {model.layers[7].name, model.layers[8].name, model.layers[9].name,
                                           model.layers[10].name})
    assert.same({3}, model.output_shape)
    model:compile{optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
    local xs, ys = lurn.rand{40, 6, 6, 1}, (lurn.rand{40} * 3):floor()
    local history = model:fit(xs, ys, {epochs = 2, batch_size = 8, validation_split = 0.25, verbose = 0})
    assert.equal(2, #history.history.val_accuracy)
    assert.is_number(model:evaluate(xs, ys, quiet).accuracy)
    assert.same({40, 3}, model:predict(xs):shape())
    assert.same(model:predict(xs:narrow(1, 1, 5)):totable(), model(xs:narrow(1, 1, 5)):totable())
    local w = model:get_weights()
    assert.equal(2 + 2 + 2 + 2 + 2, #w)
    local fresh = model:predict(xs)
    for i, t in ipairs(w) do w[i] = t * 0 end
    model:set_weights(w)
    assert.are_not.same(fresh:totable(), model:predict(xs):totable())
  end)

  it("orders layers as Keras: by depth from the output, ties in the order met walking back", function()
    local inp = lurn.Input{shape = {3}, name = "in"}
    local long = L.Dense(2, {name = "long1"})(inp)
    long = L.Dense(2, {name = "long2"})(long)
    local short = L.Dense(2, {name = "short"})(inp)
    local out = L.Add{name = "join"}({short, long})
    local model = lurn.Model{inputs = inp, outputs = out}
    -- depths: join 0, short 1, long2 1, long1 2, in 3; short is met before long2
    assert.same({"in", "long1", "short", "long2", "join"}, names(model.layers))
  end)

  it("prints a Keras functional summary with the layers each one reads", function()
    local inp = lurn.Input{shape = {3}, name = "features"}
    local h = L.Dense(4, {name = "hidden"})(inp)
    local out = L.Concatenate{name = "both"}({h, inp})
    local text = summary_text(lurn.Model{inputs = inp, outputs = out, name = "tiny"})
    assert.truthy(text:find('Model: "tiny"', 1, true))
    assert.truthy(text:match("Layer %(type%)%s+Output Shape%s+Param #%s+Connected to"))
    assert.truthy(text:match("features %(InputLayer%)%s+%[%(None, 3%)%]%s+0\n"))
    assert.truthy(text:match("hidden %(Dense%)%s+%(None, 4%)%s+16%s+features%[0%]%[0%]"))
    assert.truthy(text:match("both %(Concatenate%)%s+%(None, 7%)%s+0%s+hidden%[0%]%[0%]\n%s+features%[0%]%[0%]"))
    assert.truthy(text:find("Total params: 16", 1, true))
    assert.truthy(text:find("Trainable params: 16", 1, true))
  end)

  it("has finite-difference gradients through fan-outs, skip connections and merges", function()
    local inp = lurn.Input{shape = {3}}
    local x = L.Dense(4, {activation = "tanh"})(inp)
    local b1 = L.Dense(4, {activation = "tanh", kernel_regularizer = lurn.regularizers.l2(0.1)})(x)
    local b2 = L.Dense(4, {activation = "sigmoid", activity_regularizer = lurn.regularizers.l1(0.05)})(x)
    b2 = L.BatchNormalization()(b2)
    local m = L.Multiply()({b1, b2})
    local s = L.Add()({m, x, x})                  -- x read four times, twice by one node
    local c = L.Concatenate()({s, inp})           -- the model's input read twice
    local d = L.Subtract()({L.Dense(4)(c), L.Average()({s, b1})})
    local out = L.Dense(2)(L.Maximum()({d, L.Minimum()({s, b2})}))
    local model = lurn.Model{inputs = inp, outputs = out}
    gradcheck.check_model(model, lurn.losses.get("mse"), lurn.randn{6, 3}, lurn.randn{6, 2})
  end)

  it("runs Residual blocks and Lua-function activations as graph nodes", function()
    local inp = lurn.Input{shape = {3}}
    local h = L.Dense(4, {activation = function(x) return lurn.tanh(x) * 2 end})(inp)
    local r = L.Residual{L.Dense(4, {activation = "tanh"}), L.Dense(4)}(h)
    local model = lurn.Model{inputs = inp, outputs = L.Dense(2)(L.Add()({r, h}))}
    assert.same({"Residual", "Add"}, {model.layers[3].class_name, model.layers[4].class_name})
    gradcheck.check_model(model, lurn.losses.get("mse"), lurn.randn{5, 3}, lurn.randn{5, 2})
  end)

  it("has finite-difference gradients into a softmax output (fused cross-entropy) and past an output penalty", function()
    for _, penalty in ipairs{false, true} do
      local inp = lurn.Input{shape = {4}}
      local x = L.Dense(5, {activation = "tanh"})(inp)
      local y = L.Add()({L.Dense(5, {activation = "relu"})(x), x})
      local out = L.Dense(3, {activation = "softmax", activity_regularizer = penalty and lurn.regularizers.l2(0.3) or nil})(y)
      local model = lurn.Model{inputs = inp, outputs = out}
      local labels = lurn.tensor{0, 2, 1, 1, 0}
      gradcheck.check_model(model, lurn.losses.get("sparse_categorical_crossentropy"), lurn.randn{5, 4}, labels)
    end
  end)

  it("a gradient check of a graph fails when a branch's gradient is lost", function()
    local inp = lurn.Input{shape = {3}}
    local x = L.Dense(3, {activation = "tanh"})(inp)
    local out = L.Add()({L.Dense(3)(x), x})
    local model = lurn.Model{inputs = inp, outputs = out}
    local loss, xs, ys = lurn.losses.get("mse"), lurn.randn{4, 3}, lurn.randn{4, 3}
    model._core:gradients(loss, xs, ys)
    local g = model.layers[2]:gradients()[1]:clone()
    local numeric = gradcheck.numeric(function() return (model._core:gradients(loss, xs, ys)) end,
      model.layers[2]:parameters()[1])
    assert.is_true((gradcheck.compare(g, numeric)))
    -- the gradient through the Dense branch alone (as if the skip's share were dropped)
    local dense_only = lurn.Model{inputs = inp, outputs = L.Dense(3)(x)}
    dense_only.layers[3]:set_weights(model.layers[3]:get_weights())
    dense_only._core:gradients(loss, xs, ys)
    assert.is_false((gradcheck.compare(model.layers[2]:gradients()[1], numeric)))
  end)

  it("a plain chain computes exactly what the same Sequential computes, in training too", function()
    local function layers()
      return {L.Dense(8, {activation = "relu"}), L.BatchNormalization(), L.Dropout(0.3),
              L.Dense(3, {activation = "softmax", kernel_regularizer = lurn.regularizers.l2(0.01)})}
    end
    local seq = lurn.Sequential(layers())
    seq:build{5}
    local inp = lurn.Input{shape = {5}}
    local t = inp
    for _, layer in ipairs(layers()) do t = layer(t) end
    local fun = lurn.Model{inputs = inp, outputs = t}
    fun:set_weights(seq:get_weights())
    local x, y = lurn.randn{30, 5}, (lurn.rand{30} * 3):floor()
    assert.same(seq:predict(x):totable(), fun:predict(x):totable())
    for _, m in ipairs{seq, fun} do m:compile{optimizer = "adam", loss = "sparse_categorical_crossentropy"} end
    assert.equal(seq:evaluate(x, y, quiet).loss, fun:evaluate(x, y, quiet).loss)
    lurn.manual_seed(5)
    local h1 = seq:fit(x, y, {epochs = 2, batch_size = 8, shuffle = false, verbose = 0})
    lurn.manual_seed(5)
    local h2 = fun:fit(x, y, {epochs = 2, batch_size = 8, shuffle = false, verbose = 0})
    assert.same(h1.history.loss, h2.history.loss)
    same_tensors(seq:get_weights(), fun:get_weights())
  end)

  it("a skip connection computes exactly what Sequential with a Residual block computes", function()
    local seq = lurn.Sequential{L.Dense(4, {activation = "tanh"}), L.Residual{L.Dense(4, {activation = "tanh"}), L.Dense(4)},
                                L.Dense(1)}
    seq:build{3}
    local inp = lurn.Input{shape = {3}}
    local h = L.Dense(4, {activation = "tanh"})(inp)
    local f = L.Dense(4)(L.Dense(4, {activation = "tanh"})(h))
    local fun = lurn.Model{inputs = inp, outputs = L.Dense(1)(L.Add()({f, h}))}
    fun:set_weights(seq:get_weights())
    local x, y = lurn.randn{16, 3}, lurn.randn{16, 1}
    assert.same(seq:predict(x):totable(), fun:predict(x):totable())
    local loss = lurn.losses.get("mse")
    local v1, dx1 = seq._core:gradients(loss, x, y)
    local v2, dx2 = fun._core:gradients(loss, x, y)
    assert.equal(v1, v2)
    assert.same(dx1:totable(), dx2:totable())
    for _, m in ipairs{seq, fun} do m:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0.1}, loss = "mse"} end
    seq:fit(x, y, {epochs = 2, batch_size = 4, shuffle = false, verbose = 0})
    fun:fit(x, y, {epochs = 2, batch_size = 4, shuffle = false, verbose = 0})
    same_tensors(seq:get_weights(), fun:get_weights())
  end)

  it("runs Dropout and BatchNormalization in training mode only in fit", function()
    local inp = lurn.Input{shape = {50}}
    local out = L.Concatenate()({L.Dropout(0.5)(inp), L.BatchNormalization()(inp)})
    local model = lurn.Model{inputs = inp, outputs = out}
    local x = lurn.randn{8, 50} + 3
    -- inference: Dropout is the identity, BatchNormalization uses its initial moving
    -- statistics (mean 0, variance 1)
    local expected = lurn.cat({x, x / math.sqrt(1.001)}, 2)
    assert.is_true((model:predict(x) - expected):abs():max() < 1e-5)
    -- training: Dropout zeroes about half, batch statistics centre every column
    local train = model._core:forward(x, true):clone()
    local dropped = train:narrow(2, 1, 50):contiguous()
    assert.is_true(dropped:eq(0):sum() > 100 and dropped:eq(0):sum() < 300)
    assert.is_true(train:narrow(2, 51, 50):contiguous():mean(1):abs():max() < 1e-4)
    model:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0}, loss = "mse"}
    model:fit(x, expected, {epochs = 1, batch_size = 8, verbose = 0})
    local moving_mean = model.layers[3]:get_weights()[3]
    assert.is_true(moving_mean:min() > 0.01)
  end)

  it("counts the penalties of its inner layers in the loss", function()
    local inp = lurn.Input{shape = {2}}
    local inner = L.Dense(3, {kernel_regularizer = lurn.regularizers.l2(0.5),
                              activity_regularizer = lurn.regularizers.l1(0.25)})
    local h = inner(inp)
    local out = L.Dense(1)(L.Concatenate()({h, inp}))
    local model = lurn.Model{inputs = inp, outputs = out}
    model:compile{optimizer = "sgd", loss = "mse"}
    local x, y = lurn.randn{10, 2}, lurn.randn{10, 1}
    local kernel, bias = table.unpack(inner:get_weights())
    local activity = 0.25 * (lurn.matmul(x, kernel) + bias):abs():sum() / 10
    local data_only = lurn.core.loss_value(lurn.losses.get("mse"), model:predict(x), y)
    local expected = data_only + 0.5 * (kernel * kernel):sum() + activity
    assert.is_true(math.abs(expected - model:evaluate(x, y, {verbose = 0, batch_size = 10}).loss) < 1e-4)
  end)

  it("accepts lists of one input and one output, positional arguments, and lurn.layers.Input", function()
    local inp = L.Input{shape = {2}}
    local model = lurn.Model{inputs = {inp}, outputs = {L.Dense(1)(inp)}}
    assert.same({1}, model.output_shape)
    assert.same({4, 1}, model:predict(lurn.zeros{4, 2}):shape())
    local other = lurn.Model(inp, L.Dense(3)(inp), {name = "positional"})
    assert.equal("positional", other.name)
    assert.same({3}, other.output_shape)
  end)

  it("leaves layers callable on tensors, and Input usable in a Sequential", function()
    local d = L.Dense(2)
    assert.same({3, 2}, d(lurn.randn{3, 4}):shape())
    local seq = lurn.Sequential{lurn.Input{shape = {4}}, d}
    assert.same({3, 2}, seq:predict(lurn.randn{3, 4}):shape())
  end)
end)

describe("functional Model errors", function()
  it("takes lists of inputs and outputs (spec/models/multi_io_spec.lua), each named once", function()
    local a, b = lurn.Input{shape = {2}}, lurn.Input{shape = {2}}
    local sum = L.Add()({a, b})
    assert.equals(2, #lurn.Model{inputs = {a, b}, outputs = sum}.inputs)
    assert.equals(2, #lurn.Model{inputs = a, outputs = {L.Dense(1)(a), L.Dense(1)(a)}}.outputs)
    assert.error_matches(function() lurn.Model{inputs = {a, b}, outputs = {sum, sum}} end,
      "Model: outputs lists the output of 'add[_%d]*' twice")
    assert.error_matches(function() lurn.Model{inputs = {a, b}, outputs = {}} end,
      "Model: outputs must be a table of 1 to 32 entries")
  end)

  it("names an Input the outputs need that is not the model's input", function()
    local a, b = lurn.Input{shape = {2}, name = "first"}, lurn.Input{shape = {5}, name = "second"}
    local sum = L.Add()({L.Dense(3)(a), L.Dense(3)(b)})
    assert.error_matches(function() lurn.Model{inputs = a, outputs = sum} end,
      "the outputs depend on Input 'second' of shape %(None, 5%), which is not among the model's inputs")
    assert.error_matches(function() lurn.Model{inputs = a, outputs = L.Dense(1)(b)} end,
      "Input 'second' of shape %(None, 5%), which is not among the model's inputs")
  end)

  it("rejects inputs and outputs that are not symbolic tensors from lurn.Input", function()
    local a = lurn.Input{shape = {2}}
    local h = L.Dense(2, {name = "mid"})(a)
    assert.error_matches(function() lurn.Model{inputs = a, outputs = lurn.zeros{1, 2}} end,
      "outputs must be a symbolic tensor %(from lurn.Input and layer calls%), got a tensor")
    assert.error_matches(function() lurn.Model{inputs = h, outputs = L.Dense(1)(h)} end,
      "inputs must come from lurn.Input, got the output of Dense 'mid'")
    assert.error_matches(function() lurn.Model{inputs = a, outputs = a} end, "there are no layers between them")
    assert.error_matches(function() lurn.Model{inputs = a, outputs = h, optimizer = "adam"} end,
      "Model: unknown option 'optimizer'")
    assert.error_matches(function() lurn.Model(a) end, "outputs must be a symbolic tensor .*, got a nil")
    assert.error_matches(function() lurn.Model(5) end, "expected {inputs = ..., outputs = ...}")
  end)

  it("rejects a layer called twice in one model, with a clear message", function()
    local a = lurn.Input{shape = {3}}
    local shared = L.Dense(3, {name = "shared"})
    local out = shared(shared(a))
    assert.error_matches(function() lurn.Model{inputs = a, outputs = out} end,
      "layer 'shared' is called twice in this model; shared layers %(the same weights twice%) are not supported yet")
  end)

  it("explains calls a layer cannot take", function()
    local a, b = lurn.Input{shape = {3}}, lurn.Input{shape = {4}}
    local d = L.Dense(2, {name = "d"})
    assert.error_matches(function() d({a, a}) end, "Dense 'd' takes one tensor; only merge layers")
    d(a)
    assert.error_matches(function() d(b) end, "already built for input shape %(3,%), cannot take %(4,%)")
    assert.error_matches(function() lurn.Input{shape = {3}, batch_size = 8} end,
      "Input: option 'batch_size' is not supported by lurn")
    local model = lurn.Model{inputs = a, outputs = L.Dense(1)(a)}
    assert.error_matches(function() model(a) end, "calling a model on a symbolic tensor")
    assert.error_matches(function() model:add(L.Dense(1)) end, "a functional model is fixed once made")
    assert.error_matches(function() model:predict(lurn.zeros{2, 4}) end,
      "input of shape %(2, 4%) does not match the model's input shape %(None, 3%)")
  end)
end)
