-- trainable = false, as Keras: fit never changes a frozen layer's weights (no gradient
-- step, no momentum, no weight decay) with any optimizer; toggling trainable takes effect
-- at the next compile; a frozen container freezes everything inside it; a frozen
-- BatchNormalization runs in inference mode and leaves its moving statistics alone.
local lurn = require "lurn"
local L = lurn.layers

local function same(a, b)
  local d = (a - b):abs():max()
  return d == 0
end

local function weights_of(layer)
  local out = {}
  for i, w in ipairs(layer:get_weights()) do out[i] = w end
  return out
end

local function unchanged(before, layer)
  local now = layer:get_weights()
  assert.equal(#before, #now)
  for i = 1, #now do assert.is_true(same(before[i], now[i]), ("weight %d of %s changed"):format(i, layer.name)) end
end

local function changed(before, layer)
  local now = layer:get_weights()
  local any = false
  for i = 1, #now do any = any or not same(before[i], now[i]) end
  assert.is_true(any, layer.name .. " did not change")
end

local x, y
local function data()
  lurn.manual_seed(7)
  x, y = lurn.randn{32, 4}, lurn.randn{32, 2}
end

local function train(model, optimizer, epochs)
  model:compile{optimizer = optimizer, loss = "mse"}
  model:fit(x, y, {epochs = epochs or 2, batch_size = 8, verbose = 0})
end

local optimizers = {
  {"SGD with momentum", function() return lurn.optimizers.SGD{learning_rate = 0.1, momentum = 0.9} end},
  {"Adam", function() return lurn.optimizers.Adam{learning_rate = 0.01} end},
  {"AdamW (decoupled weight decay)",
   function() return lurn.optimizers.AdamW{learning_rate = 0.01, weight_decay = 0.1} end},
  {"RMSprop with momentum", function() return lurn.optimizers.RMSprop{learning_rate = 0.01, momentum = 0.5} end},
  {"Adagrad", function() return lurn.optimizers.Adagrad{learning_rate = 0.1} end},
  {"Nadam", function() return lurn.optimizers.Nadam{learning_rate = 0.01} end},
  {"Adamax", function() return lurn.optimizers.Adamax{learning_rate = 0.01} end},
  {"Adadelta", function() return lurn.optimizers.Adadelta{learning_rate = 1.0} end},
  {"Ftrl with l1 and l2", function()
    return lurn.optimizers.Ftrl{learning_rate = 0.1, l1_regularization_strength = 0.01,
                                l2_regularization_strength = 0.01}
  end},
}

describe("trainable = false", function()
  before_each(data)

  for _, case in ipairs(optimizers) do
    it("keeps a layer frozen at construction unchanged under " .. case[1], function()
      local frozen = L.Dense(3, {input_shape = {4}, trainable = false})
      local model = lurn.Sequential{frozen, L.Dense(2)}
      local before, other = weights_of(frozen), weights_of(model.layers[2])
      train(model, case[2]())
      unchanged(before, frozen)
      changed(other, model.layers[2])
    end)
  end

  it("takes effect at the next compile, set before compile or after training", function()
    local first = L.Dense(3, {input_shape = {4}})
    local model = lurn.Sequential{first, L.Dense(2)}
    first.trainable = false  -- before compile
    local before = weights_of(first)
    train(model, "adam")
    unchanged(before, first)
    first.trainable = true
    train(model, "adam")
    changed(before, first)
    -- frozen after training, with the same optimizer object (its state stays in place)
    local opt = lurn.optimizers.SGD{learning_rate = 0.1, momentum = 0.9}
    train(model, opt)
    first.trainable = false
    train(model, opt)  -- recompiled
    before = weights_of(first)
    train(model, opt)
    unchanged(before, first)
  end)

  it("freezes the whole model when the model is not trainable", function()
    local model = lurn.Sequential{L.Dense(3, {input_shape = {4}}), L.Dense(2)}
    model.trainable = false
    local a, b = weights_of(model.layers[1]), weights_of(model.layers[2])
    train(model, "sgd")
    unchanged(a, model.layers[1])
    unchanged(b, model.layers[2])
    assert.equal(0, select(2, model:_param_counts()))
  end)

  it("freezes a layer inside a Residual block, and everything inside a frozen block", function()
    local inner, other = L.Dense(4, {trainable = false}), L.Dense(4)
    local model = lurn.Sequential{L.Dense(4, {input_shape = {4}}), L.Residual{inner, other}, L.Dense(2)}
    local a, b = weights_of(inner), weights_of(other)
    train(model, "adam")
    unchanged(a, inner)
    changed(b, other)

    local i1, i2 = L.Dense(4), L.Dense(4)
    local block = L.Residual({i1, i2}, {trainable = false})
    block.trainable = false
    local m2 = lurn.Sequential{L.Dense(4, {input_shape = {4}}), block, L.Dense(2)}
    a, b = weights_of(i1), weights_of(i2)
    train(m2, "adam")
    unchanged(a, i1)
    unchanged(b, i2)
    local total, trainable = m2:_param_counts()
    assert.equal(total - 2 * (4 * 4 + 4), trainable)
  end)

  it("freezes a layer of a functional Model", function()
    local input = lurn.Input{shape = {4}}
    local hidden = L.Dense(3, {trainable = false})
    local output = L.Dense(2)
    local model = lurn.Model{inputs = input, outputs = output(hidden(input))}
    local a, b = weights_of(hidden), weights_of(output)
    train(model, "rmsprop")
    unchanged(a, hidden)
    changed(b, output)
  end)

  it("runs a frozen BatchNormalization in inference mode, its moving statistics untouched", function()
    local bn = L.BatchNormalization{trainable = false}
    local model = lurn.Sequential{L.Dense(4, {input_shape = {4}}), bn, L.Dense(2)}
    local set = bn:get_weights()
    set[1]:fill(1.5)  -- gamma
    set[3]:fill(0.25)  -- moving mean
    set[4]:fill(2)  -- moving variance
    bn:set_weights(set)
    local before = weights_of(bn)
    train(model, "sgd")
    unchanged(before, bn)
    -- training mode gives the inference output (moving statistics, not the batch's)
    local h = model.layers[1](x)
    assert.is_true((bn(h, true) - bn(h)):abs():max() < 1e-6)
  end)
end)
