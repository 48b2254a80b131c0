-- lurn.Model is the Model base, as keras.Model: Sequential and functional models inherit
-- compile, fit, evaluate, predict, the training step, weights, get_config and summary from
-- it, and called with inputs and outputs it makes a functional model.
local lurn = require "lurn"
local L = lurn.layers

local function functional()
  local inp = lurn.Input{shape = {3}}
  return lurn.Model(inp, L.Dense(2)(L.Dense(4, {activation = "relu"})(inp)), {name = "fn"})
end

describe("lurn.Model, the Model base", function()
  before_each(function() lurn.manual_seed(9) end)

  it("is the class Sequential and Functional inherit from, reachable through their metatables", function()
    assert.equal(lurn.Model, lurn.models.Model)
    assert.equal("Model", lurn.Model.class_name)
    assert.equal(lurn.Model, getmetatable(lurn.Sequential).__index)
    local seq, fn = lurn.Sequential{L.Dense(2, {input_shape = {3}})}, functional()
    assert.equal("Sequential", seq.class_name)
    assert.equal("Functional", fn.class_name)
    assert.equal(lurn.Sequential, getmetatable(seq))
    assert.equal(lurn.Model, getmetatable(getmetatable(fn)).__index)
  end)

  it("holds the methods every model shares, and a method added to it reaches both kinds", function()
    local seq, fn = lurn.Sequential{L.Dense(2, {input_shape = {3}})}, functional()
    for _, name in ipairs{"compile", "fit", "evaluate", "predict", "train_on_batch", "compute_gradients",
                          "apply_gradients", "gradients", "get_weights", "set_weights", "count_params",
                          "get_layer", "get_config", "summary"} do
      assert.is_function(lurn.Model[name], name)
      assert.equal(lurn.Model[name], seq[name], name)
      assert.equal(lurn.Model[name], fn[name], name)
    end
    lurn.Model.layer_names = function(self)
      local names = {}
      for i, layer in ipairs(self.layers) do names[i] = layer.name end
      return table.concat(names, ",")
    end
    local ok, err = pcall(function()
      assert.equal(seq.layers[1].name, seq:layer_names())
      assert.equal(fn.layers[1].name .. "," .. fn.layers[2].name .. "," .. fn.layers[3].name, fn:layer_names())
    end)
    lurn.Model.layer_names = nil
    assert(ok, err)
  end)

  it("makes a functional model when called with inputs and outputs, and rebuilds one from its config", function()
    local inp = lurn.Input{shape = {3}}
    local out = L.Dense(2)(inp)
    for _, model in ipairs{lurn.Model{inputs = inp, outputs = out}, lurn.Model(inp, out)} do
      assert.equal("Functional", model.class_name)
      assert.same({5, 2}, model:predict(lurn.zeros{5, 3}):shape())
    end
    local fn = functional()
    local copy = lurn.Model.from_config(fn:get_config())
    assert.equal("Functional", copy.class_name)
    copy:set_weights(fn:get_weights())
    local x = lurn.randn{4, 3}
    assert.same(fn:predict(x):totable(), copy:predict(x):totable())
    local ok, err = pcall(lurn.Model, {inputs = 1})
    assert.is_false(ok)
    assert.matches("model_base_spec%.lua:%d+: Model: inputs must be a symbolic tensor", err)
  end)
end)
