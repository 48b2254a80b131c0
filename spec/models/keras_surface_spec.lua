-- The model surface as Keras: a Sequential with a known input shape is built when made
-- (weights, count_params and summary before compile), get_layer by name or position,
-- default model and layer names, count_params as one number, History recording the keys
-- other callbacks add, and errors that point at the user's line.
local lurn = require "lurn"
local L = lurn.layers

-- "file:line: " of the line that calls here(), as Lua writes it in error messages.
local function here()
  local info = debug.getinfo(2, "Sl")
  return info.short_src .. ":" .. info.currentline .. ": "
end

local function starts_with(s, prefix)
  assert.equal(prefix, s:sub(1, #prefix), "the message does not point at the caller's line: " .. s)
end

describe("a Sequential with a known input shape", function()
  before_each(function() lurn.manual_seed(3) end)

  it("is built when made: weights, count_params and summary work before compile", function()
    local model = lurn.Sequential{L.Dense(3, {input_shape = {4}}), L.Dense(2)}
    assert.equal(4, #model:get_weights())
    assert.equal(4 * 3 + 3 + 3 * 2 + 2, model:count_params())
    assert.equal(1, select("#", model:count_params()))  -- one number, as Keras
    local w = model:get_weights()
    w[1]:fill(0.5)
    model:set_weights(w)
    assert.equal(0.5, model.layers[1]:get_weights()[1]:get(1, 1))
    local lines = {}
    model:summary(function(s) lines[#lines + 1] = s end)
    assert.truthy(table.concat(lines, "\n"):find("Total params: 23", 1, true))
  end)

  it("is built when made from an Input, and when a layer with input_shape is added", function()
    local a = lurn.Sequential{L.Input{shape = {5}}, L.Dense(2)}
    assert.equal(5 * 2 + 2, a:count_params())
    local b = lurn.Sequential()
    b:add(L.Dense(3, {input_shape = {4}}))
    assert.equal(2, #b:get_weights())
    local kernel = b:get_weights()[1]
    b:add(L.Dense(2))  -- added after building: the built layer keeps its weights
    assert.equal(4, #b:get_weights())
    assert.is_true((b:get_weights()[1] - kernel):abs():max() == 0)
    assert.same({2}, b.output_shape)
  end)

  it("stays built and trainable when a layer that cannot take its output is added", function()
    local model = lurn.Sequential{L.Dense(3, {input_shape = {4}})}
    local before = model:get_weights()
    assert.has_error(function() model:add(L.Conv2D(2, 3)) end)
    assert.equal(1, #model.layers)
    assert.equal(4 * 3 + 3, model:count_params())
    assert.same(before[1]:totable(), model:get_weights()[1]:totable())
    model:compile{optimizer = "sgd", loss = "mse"}
    model:fit(lurn.randn{8, 4}, lurn.randn{8, 3}, {verbose = 0})
  end)

  it("says to compile again when a layer is added after training", function()
    local model = lurn.Sequential{L.Dense(3, {input_shape = {4}})}
    model:compile{optimizer = "adam", loss = "mse"}
    model:fit(lurn.randn{8, 4}, lurn.randn{8, 3}, {verbose = 0})
    model:add(L.Dense(2))
    assert.error_matches(function() model:fit(lurn.randn{8, 4}, lurn.randn{8, 2}, {verbose = 0}) end,
      "a layer added after training%?%): compile the model again with a new optimizer")
    model:compile{optimizer = "adam", loss = "mse"}
    model:fit(lurn.randn{8, 4}, lurn.randn{8, 2}, {verbose = 0})
  end)

  it("builds on model:build(per-sample shape) when no layer gives one", function()
    local model = lurn.Sequential{L.Dense(2)}
    -- Keras raises too: an unbuilt model has no weights yet, and 0 would be a wrong answer
    assert.error_matches(function() model:count_params() end, "model 'sequential_?%d*' is not built yet")
    model:build{6}
    assert.equal(6 * 2 + 2, model:count_params())
    assert.same({6}, model.input_shape)
    model:build{6}
    assert.error_matches(function() model:build{7} end, "built for inputs of shape %(None, 6%), not %(None, 7%)")
    assert.error_matches(function() lurn.Sequential{L.Dense(2)}:build(6) end, "table of per%-sample sizes")
  end)
end)

describe("get_layer and names", function()
  it("finds a layer by name or 1-based position, and names the missing one", function()
    local model = lurn.Sequential{L.Dense(3, {input_shape = {4}, name = "hidden"}), L.Dense(2, {name = "out"})}
    assert.equal(model.layers[1], model:get_layer("hidden"))
    assert.equal(model.layers[2], model:get_layer(2))
    assert.error_matches(function() model:get_layer("nope") end, "no layer named 'nope' %(layers: hidden, out%)")
    assert.error_matches(function() model:get_layer(3) end, "position 3 is out of range: the model has 2 layers")
    local input = lurn.Input{shape = {2}}
    local f = lurn.Model{inputs = input, outputs = L.Dense(1, {name = "f_out"})(input)}
    assert.equal("f_out", f:get_layer("f_out").name)
  end)

  it("gives models and layers Keras' default names", function()
    local a, b = lurn.Sequential(), lurn.Sequential()
    assert.truthy(a.name:match("^sequential"), a.name)
    local n = tonumber(a.name:match("_(%d+)$")) or 0
    assert.equal("sequential_" .. (n + 1), b.name)
    local input = lurn.Input{shape = {2}}
    local m1 = lurn.Model{inputs = input, outputs = L.Dense(1)(input)}
    local m2 = lurn.Model{inputs = input, outputs = L.Dense(1)(input)}
    local k = tonumber(m1.name:match("_(%d+)$")) or 0
    assert.truthy(m1.name:match("^model"), m1.name)
    assert.equal("model_" .. (k + 1), m2.name)
    local d1, d2 = L.Dense(1), L.Dense(1)
    local j = tonumber(d1.name:match("_(%d+)$")) or 0
    assert.truthy(d1.name:match("^dense"), d1.name)
    assert.equal("dense_" .. (j + 1), d2.name)
    assert.truthy(L.BatchNormalization().name:match("^batch_normalization"))
  end)
end)

describe("History", function()
  it("records the keys that callbacks add to the logs (it runs last, as Keras)", function()
    local model = lurn.Sequential{L.Dense(1, {input_shape = {2}})}
    model:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0.1}, loss = "mse"}
    local adds = lurn.callbacks.LambdaCallback{on_epoch_end = function(epoch, logs) logs.extra = epoch * 10 end}
    local lr = lurn.callbacks.LearningRateScheduler(function(epoch) return 0.1 / (epoch + 1) end)
    local h = model:fit(lurn.randn{8, 2}, lurn.randn{8, 1}, {epochs = 3, verbose = 0, callbacks = {adds, lr}})
    assert.same({0, 10, 20}, h.history.extra)
    assert.equal(3, #h.history.lr)
    assert.is_true(math.abs(h.history.lr[3] - 0.1 / 3) < 1e-6)
  end)
end)

describe("errors inside fit, evaluate, predict and layer calls", function()
  local model
  before_each(function()
    model = lurn.Sequential{L.Dense(3, {input_shape = {4}}), L.Dense(2)}
    model:compile{optimizer = "sgd", loss = "mse"}
  end)

  it("point at the line that called fit", function()
    local x, y = lurn.zeros{8, 4}, lurn.zeros{8, 5}  -- y does not match the output (8, 2)
    local at
    local ok, err = pcall(function() at = here(); model:fit(x, y, {verbose = 0}) end)
    assert.is_false(ok)
    starts_with(err, at)
    -- also a check that fit makes itself, and an error of the validation pass
    _, err = pcall(function() at = here(); model:fit(x, lurn.zeros{7, 2}, {verbose = 0}) end)
    starts_with(err, at)
    _, err = pcall(function()
      at = here(); model:fit(x, lurn.zeros{8, 2}, {verbose = 0, validation_data = {x, y}})
    end)
    starts_with(err, at)
  end)

  it("point at the line that called evaluate, predict, model(x) or layer(x)", function()
    local at
    local _, err = pcall(function() at = here(); model:evaluate(lurn.zeros{8, 4}, lurn.zeros{8, 5}, {verbose = 0}) end)
    starts_with(err, at)
    _, err = pcall(function() at = here(); model:predict(lurn.zeros{8, 7}) end)
    starts_with(err, at)
    _, err = pcall(function() at = here(); model(lurn.zeros{8, 7}) end)
    starts_with(err, at)
    local dense = L.Dense(2)
    dense(lurn.zeros{1, 3})
    _, err = pcall(function() at = here(); dense(lurn.zeros{1, 5}) end)
    starts_with(err, at)
    _, err = pcall(function() at = here(); lurn.Sequential{L.Reshape({4}, {input_shape = {3}})} end)
    starts_with(err, at)
  end)

  it("keep the line of a user's callback that raised", function()
    local at
    local cb = lurn.callbacks.LambdaCallback{on_epoch_end = function() at = here(); error("stop here") end}
    local _, err = pcall(function()
      model:fit(lurn.zeros{8, 4}, lurn.zeros{8, 2}, {verbose = 0, callbacks = {cb}})
    end)
    starts_with(err, at .. "stop here")
  end)
end)
