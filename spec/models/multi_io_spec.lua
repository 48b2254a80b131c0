-- Functional models of several inputs and outputs (lurn/models/multi_io.lua, the packed
-- graph of src/layers/graph.c): the same numbers as the single-input and single-output
-- models they reduce to, gradients against finite differences, Keras' per-output losses,
-- loss_weights, metrics and log names, data as lists or tables by name, files.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"
local L = lurn.layers

local function same_bits(a, b, what)
  local fa, fb = gradcheck.flat(a), gradcheck.flat(b)
  assert.equals(#fa, #fb, what)
  for i = 1, #fa do
    if fa[i] ~= fb[i] then error(("%s: element %d differs: %.9g vs %.9g"):format(what, i, fa[i], fb[i]), 2) end
  end
end

local function two_heads(opts)
  opts = opts or {}
  local a = lurn.Input{shape = {4}, name = "a"}
  local b = lurn.Input{shape = {3}, name = "b"}
  local h = L.Concatenate()({L.Dense(6, {activation = "relu", name = "trunk"})(a), b})
  local cls = L.Dense(3, {activation = "softmax", name = "cls"})(h)
  local reg = L.Dense(2, {name = "reg", activation = opts.reg_activation})(h)
  return lurn.Model{inputs = {a, b}, outputs = {cls, reg}}
end

local function data(n)
  local xa, xb = lurn.randn{n, 4}, lurn.randn{n, 3}
  local labels = xa:narrow(2, 1, 1):gt(0) + xb:narrow(2, 1, 1):gt(0)
  local reg = lurn.cat({xa:narrow(2, 2, 1) * 2 + xb:narrow(2, 2, 1), xa:narrow(2, 3, 1)}, 2)
  return xa, xb, labels, reg
end

describe("functional models of several inputs and outputs", function()
  before_each(function() lurn.manual_seed(7) end)

  it("give the numbers of the one-input model on the concatenated data, bit for bit", function()
    local a, b = lurn.Input{shape = {4}}, lurn.Input{shape = {3}}
    local two = lurn.Model{inputs = {a, b},
                           outputs = L.Dense(2, {activation = "softmax"})(L.Concatenate()({a, b}))}
    local x = lurn.Input{shape = {7}}
    local one = lurn.Model{inputs = x, outputs = L.Dense(2, {activation = "softmax"})(x)}
    one:set_weights(two:get_weights())
    local xa, xb = lurn.randn{40, 4}, lurn.randn{40, 3}
    local y = xa:narrow(2, 1, 1):gt(0)
    for _, m in ipairs{one, two} do m:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.01},
                                              loss = "sparse_categorical_crossentropy"} end
    one:fit(lurn.cat({xa, xb}, 2), y, {epochs = 3, batch_size = 8, shuffle = false, verbose = 0})
    two:fit({xa, xb}, y, {epochs = 3, batch_size = 8, shuffle = false, verbose = 0})
    for i, w in ipairs(one:get_weights()) do same_bits(w, two:get_weights()[i], "weight " .. i) end
    same_bits(one:predict(lurn.cat({xa, xb}, 2)), two:predict({xa, xb}), "predictions")
  end)

  it("train the first output as the model of that output alone when the second weighs 0", function()
    local m = two_heads()
    local a, b = lurn.Input{shape = {4}}, lurn.Input{shape = {3}}
    local h = L.Concatenate()({L.Dense(6, {activation = "relu"})(a), b})
    local alone = lurn.Model{inputs = {a, b}, outputs = L.Dense(3, {activation = "softmax"})(h)}
    local w = m:get_weights()
    alone:set_weights({w[1], w[2], w[3], w[4]})  -- trunk, cls (model.layers order)
    local xa, xb, labels, reg = data(48)
    m:compile{optimizer = "adam", loss = {"sparse_categorical_crossentropy", "mse"}, loss_weights = {1, 0}}
    alone:compile{optimizer = "adam", loss = "sparse_categorical_crossentropy"}
    m:fit({xa, xb}, {labels, reg}, {epochs = 2, batch_size = 16, shuffle = false, verbose = 0})
    alone:fit({xa, xb}, labels, {epochs = 2, batch_size = 16, shuffle = false, verbose = 0})
    local after = m:get_weights()
    for i, v in ipairs(alone:get_weights()) do same_bits(v, after[i], "weight " .. i) end
  end)

  it("have gradients that match finite differences, inputs included", function()
    local m = two_heads{reg_activation = "tanh"}
    m:compile{optimizer = "sgd", loss = {"sparse_categorical_crossentropy", "mse"}, loss_weights = {0.7, 2.5}}
    local xa, xb, labels, reg = data(5)
    local x = m:_x({xa, xb}, "spec")
    local y = m:_y({labels, reg}, "spec")
    gradcheck.check_model(m, m.loss, x, y, lurn.tensor{1, 0.5, 2, 1, 1})
  end)

  it("have exact gradients where an output also feeds other layers (no fused loss, no fused relu there)", function()
    local img = lurn.Input{shape = {4, 4, 1}}
    local conv = L.Conv2D(2, 3, {padding = "same", activation = "relu", name = "conv"})(img)
    local probs = L.Dense(3, {activation = "softmax", name = "probs"})(L.Flatten()(L.MaxPooling2D(2)(conv)))
    local final = L.Dense(2, {activation = "sigmoid", name = "final"})(probs)
    local m = lurn.Model{inputs = img, outputs = {conv, probs, final}}
    m:compile{optimizer = "sgd", loss = {"mse", "categorical_crossentropy", "binary_crossentropy"},
              loss_weights = {0.5, 1, 2}}
    local x = gradcheck.rand_away({3, 4, 4, 1}, -1, 1, {0}, 0.05)
    local y = m:_y({lurn.rand{3, 4, 4, 2}, lurn.tensor{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, lurn.tensor{{1, 0}, {0, 1}, {1, 1}}},
                   "spec")
    gradcheck.check_model(m, m.loss, x, y)
  end)

  it("leave an output's padded steps out of its loss and metrics, as a model of that output alone", function()
    local ids = lurn.Input{shape = {5}}
    local seq = L.LSTM(4, {return_sequences = true})(L.Embedding(10, 3, {mask_zero = true})(ids))
    local tags = L.TimeDistributed(L.Dense(3, {activation = "softmax"}), {name = "tags"})(seq)
    local total = L.Dense(1, {name = "total"})(L.LSTM(2)(seq))
    local m = lurn.Model{inputs = ids, outputs = {tags, total}}
    local alone = lurn.Model{inputs = ids, outputs = tags}  -- the same layers, the same weights
    m:compile{optimizer = "sgd", loss = {"sparse_categorical_crossentropy", "mse"}, metrics = {{"accuracy"}, {}}}
    alone:compile{optimizer = "sgd", loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
    local x = lurn.tensor{{1, 2, 0, 0, 0}, {3, 4, 5, 0, 0}, {6, 7, 8, 9, 1}}
    local y_tags = lurn.tensor{{0, 1, 2, 2, 2}, {2, 1, 0, 0, 0}, {1, 1, 1, 0, 2}}
    local y_total = lurn.tensor{{1}, {2}, {3}}
    local s = m:evaluate(x, {y_tags, y_total}, {verbose = 0})
    local a = alone:evaluate(x, y_tags, {verbose = 0})
    assert.near(a.loss, s.tags_loss, 1e-6 * a.loss)
    assert.equals(a.accuracy, s.tags_accuracy)
    -- the padding under the mask changes nothing
    local other = y_tags:clone()
    other:set(1, 4, 0)
    other:set(2, 5, 1)
    local s2 = m:evaluate(x, {other, y_total}, {verbose = 0})
    assert.equals(s.tags_loss, s2.tags_loss)
    assert.equals(s.tags_accuracy, s2.tags_accuracy)
    -- the gradients are those of the two one-output models summed (finite differences are
    -- too coarse here in float32: the single-output masked loss has its own check)
    local by_output = lurn.Model{inputs = ids, outputs = total}
    by_output:compile{optimizer = "sgd", loss = "mse"}
    local function grads(model, y)
      model._core:gradients(model.loss, x, y)
      local out = {}
      for _, layer in ipairs(m.layers) do
        for i, g in ipairs(layer:gradients()) do out[layer.name .. "#" .. i] = g:clone() end
      end
      return out
    end
    local both = grads(m, m:_y({y_tags, y_total}, "spec"))
    local g1 = grads(alone, y_tags)
    local in_alone = {}
    for _, layer in ipairs(alone.layers) do in_alone[layer.name] = true end
    for _, layer in ipairs(m.layers) do
      if not in_alone[layer.name] then
        for i, g in ipairs(layer:gradients()) do g1[layer.name .. "#" .. i] = g * 0 end
      end
    end
    local g2 = grads(by_output, y_total)
    local in_second = {}
    for _, layer in ipairs(by_output.layers) do in_second[layer.name] = true end
    for key, g in pairs(both) do
      local want = g1[key] + (in_second[(key:gsub("#%d+$", ""))] and g2[key] or g2[key] * 0)
      local diff = (g - want):abs():max()
      assert.is_true(diff <= 1e-5 * (want:abs():max() + 1e-3), key .. ": off by " .. diff)
    end
  end)

  it("report each output's loss, the weighted sum and per-output metrics under Keras' names", function()
    local m = two_heads()
    m:compile{optimizer = "adam", loss = {cls = "sparse_categorical_crossentropy", reg = "mse"},
              loss_weights = {cls = 1, reg = 0.25}, metrics = {cls = {"accuracy"}, reg = {"mae"}}}
    local xa, xb, labels, reg = data(30)
    local scores = m:evaluate({a = xa, b = xb}, {cls = labels, reg = reg}, {verbose = 0, batch_size = 30})
    local p = m:predict({xa, xb})
    local ce = lurn.losses.SparseCategoricalCrossentropy()(labels, p[1])
    local mse = lurn.losses.MeanSquaredError()(reg, p[2])
    assert.near(ce, scores.cls_loss, 1e-5 * ce)
    assert.near(mse, scores.reg_loss, 1e-5 * mse)
    assert.near(ce + 0.25 * mse, scores.loss, 1e-5 * scores.loss)
    local mae = 0
    for i, v in ipairs(gradcheck.flat(p[2] - reg)) do mae = mae + math.abs(v) / 60 end
    assert.near(mae, scores.reg_mae, 1e-5)
    assert.is_number(scores.cls_accuracy)
    local history = m:fit({xa, xb}, {labels, reg}, {epochs = 1, verbose = 0, validation_data = {{xa, xb}, {labels, reg}}})
    assert.same({"loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae", "val_loss", "val_cls_loss",
                 "val_reg_loss", "val_cls_accuracy", "val_reg_mae"}, history.params.metrics)
  end)

  it("take one loss for every output and a flat list of metrics for each, as Keras 2", function()
    local a = lurn.Input{shape = {3}}
    local o1, o2 = L.Dense(1, {name = "first"})(a), L.Dense(1, {name = "second"})(a)
    local m = lurn.Model{inputs = a, outputs = {o1, o2}}
    m:compile{optimizer = "sgd", loss = "mse", metrics = {"mae"}}
    local x = lurn.randn{10, 3}
    local s = m:evaluate(x, {x:narrow(2, 1, 1), x:narrow(2, 2, 1)}, {verbose = 0})
    assert.near(s.first_loss + s.second_loss, s.loss, 1e-6)
    assert.is_number(s.first_mae)
    assert.is_number(s.second_mae)
    local out = m(x)
    assert.equals(2, #out)
    same_bits(out[1], m:predict(x)[1], "call and predict")
  end)

  it("train a pooling on the second input (the relu plan skips the graph's inputs)", function()
    local a, b = lurn.Input{shape = {4, 4, 1}}, lurn.Input{shape = {4, 4, 2}}
    local pa = L.Flatten()(L.MaxPooling2D(2)(L.Conv2D(2, 3, {padding = "same", activation = "relu"})(a)))
    local pb = L.Flatten()(L.MaxPooling2D(2)(b))
    local m = lurn.Model{inputs = {a, b}, outputs = L.Dense(1)(L.Concatenate()({pa, pb}))}
    m:compile{optimizer = "sgd", loss = "mse"}
    assert.same({1}, m.output_shape)
    assert.same({4, 4, 1}, m.input_shape[1])
    gradcheck.check_model(m, m.loss, m:_x({gradcheck.rand_away({3, 4, 4, 1}, -1, 1, {0}, 0.05),
                                           lurn.randn{3, 4, 4, 2}}, "spec"), lurn.randn{3, 1})
  end)

  it("name several outputs of one layer as Keras 2, and take partial tables of metrics and weights", function()
    local x = lurn.Input{shape = {3, 2}}
    local out, h, c = table.unpack(L.LSTM(2, {return_state = true, name = "lstm"})(x))
    local m = lurn.Model{inputs = x, outputs = {out, h, c}}
    assert.same({"lstm", "lstm_1", "lstm_2"}, m.output_names)
    m:compile{optimizer = "sgd", loss = "mse", loss_weights = {lstm_1 = 0}, metrics = {lstm = {"mae"}}}
    local y = {lurn.zeros{4, 2}, lurn.zeros{4, 2}, lurn.zeros{4, 2}}
    local s = m:evaluate(lurn.randn{4, 3, 2}, y, {verbose = 0})
    assert.near(s.lstm_loss + s.lstm_2_loss, s.loss, 1e-6)
    assert.is_number(s.lstm_mae)
    assert.is_nil(s.lstm_1_mae)
    local config = m:get_compile_config()
    assert.same({lstm_1 = 0}, config.loss_weights)
  end)

  it("are cloned by lurn.experiments' model maker with their per-output losses, weights and metrics", function()
    local m = two_heads()
    m:compile{optimizer = "adam", loss = {"sparse_categorical_crossentropy", "mse"}, loss_weights = {1, 0.5},
              metrics = {cls = {"accuracy"}}}
    local clone = require("lurn.experiments.runs").maker("spec", m)()
    assert.equals(0.5, clone.loss.outputs[2].weight)
    assert.same({cls = {"accuracy"}}, clone:get_compile_config().metrics)
  end)

  it("name a model with one output's metrics as any model's", function()
    local a, b = lurn.Input{shape = {2}}, lurn.Input{shape = {2}}
    local m = lurn.Model{inputs = {a, b}, outputs = L.Dense(1, {activation = "sigmoid"})(L.Add()({a, b}))}
    m:compile{optimizer = "sgd", loss = "binary_crossentropy", metrics = {"accuracy"}}
    local h = m:fit({lurn.randn{8, 2}, lurn.randn{8, 2}}, lurn.ones{8, 1}, {epochs = 1, verbose = 0})
    assert.same({"loss", "accuracy"}, h.params.metrics)
  end)

  it("save, load and resume exactly", function()
    local m = two_heads()
    m:compile{optimizer = "adam", loss = {"sparse_categorical_crossentropy", "mse"}, loss_weights = {1, 0.5},
              metrics = {{"accuracy"}, {"mae"}}}
    local xa, xb, labels, reg = data(32)
    m:fit({xa, xb}, {labels, reg}, {epochs = 1, verbose = 0})
    local path = os.tmpname()
    m:save(path)
    local back = lurn.models.load_model(path)
    os.remove(path)
    assert.same(m.output_names, back.output_names)
    m:fit({xa, xb}, {labels, reg}, {epochs = 2, verbose = 0, shuffle = false})
    back:fit({xa, xb}, {labels, reg}, {epochs = 2, verbose = 0, shuffle = false})
    for i, w in ipairs(m:get_weights()) do same_bits(w, back:get_weights()[i], "weight " .. i) end
    local s = back:evaluate({xa, xb}, {labels, reg}, {verbose = 0})
    assert.is_number(s.reg_mae)
    local again = lurn.Model.from_config(m:get_config())
    assert.same({"a", "b"}, again.input_names)
    assert.same({"cls", "reg"}, again.output_names)
  end)

  it("refuse wrong data with errors naming the input or output", function()
    local m = two_heads()
    m:compile{optimizer = "sgd", loss = {"sparse_categorical_crossentropy", "mse"}}
    local xa, xb, labels, reg = data(6)
    assert.has_error(function() m:fit(xa, {labels, reg}, {verbose = 0}) end,
      "fit: x: the model has 2 inputs (a, b): give a list of 2, one per input, or a table by name")
    assert.error_matches(function() m:fit({xb, xa}, {labels, reg}, {verbose = 0}) end,
      "x for input 'a' has shape %(6, 3%); expected %(None, 4%)")
    assert.error_matches(function() m:fit({xa, xb}, {labels, reg:narrow(2, 1, 1)}, {verbose = 0}) end,
      "y for output 'reg' has shape %(6, 1%); the output is %(None, 2%) and its loss %(mse%) takes 2 values")
    assert.error_matches(function() m:fit({a = xa, c = xb}, {labels, reg}, {verbose = 0}) end, "no input named 'c'")
    assert.error_matches(function() m:fit({xa, xb}, {labels, reg}, {verbose = 0, class_weight = {[0] = 2}}) end,
      "class_weight is only supported for models with a single output")
    local bad = labels:clone()
    bad:set(3, 1, 9)
    assert.error_matches(function() m:fit({xa, xb}, {bad, reg}, {verbose = 0}) end,
      "output 'cls'.*label 9 at sample 3 is not a class in 0..2")
    assert.error_matches(function() m:compile{loss = {"mse"}} end, "the model has 2 outputs %(cls, reg%), got 1")
    assert.error_matches(function() m:compile{loss = "mse", metrics = {lurn.metrics.Precision()}} end,
      "a metric object cannot be shared by several outputs")
    assert.error_matches(function() m:compile{loss = "mse", loss_weights = {1, 0 / 0}} end,
      "loss_weights for output 'reg' must be a finite number")
    local x = lurn.Input{shape = {2}}
    local single = lurn.Model{inputs = x, outputs = L.Dense(1)(x)}
    assert.error_matches(function() single:compile{loss = "mse", loss_weights = {1}} end,
      "loss_weights weigh the losses of several outputs")
    local orphan = lurn.Input{shape = {2}}
    assert.error_matches(function() lurn.Model{inputs = {x, orphan}, outputs = L.Dense(1)(x)} end,
      "the outputs do not depend on the input")
  end)
end)
