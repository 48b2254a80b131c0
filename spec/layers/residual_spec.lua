-- Residual blocks inside Sequential: y = F(x) + x (or + projection(x)), gradients
-- through both paths, inner weights trained, nesting, errors.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"
local L = lurn.layers

describe("Residual", function()
  before_each(function() lurn.manual_seed(21) end)

  it("adds the block's input to its output", function()
    local block = L.Residual{L.Dense(2, {use_bias = false})}
    block:build{2}
    block:set_weights{lurn.tensor{{1, 2}, {3, 4}}}
    assert.same({{1 + 3 + 1, 2 + 4 + 1}}, block(lurn.tensor{{1, 1}}):totable())
  end)

  it("uses a projection when the block changes the shape", function()
    local block = L.Residual{L.Dense(3, {use_bias = false}), projection = L.Dense(3, {use_bias = false})}
    block:build{2}
    block:set_weights{lurn.ones{2, 3}, lurn.tensor{{1, 0, 0}, {0, 1, 0}}}
    assert.same({{2 + 1, 2 + 1, 2}}, block(lurn.tensor{{1, 1}}):totable())
    assert.equal(2, #block:get_weights())
  end)

  it("has finite-difference gradients through the block and the shortcut, nested too", function()
    local model = lurn.Sequential{
      L.Dense(4, {input_shape = {3}, activation = "tanh"}),
      L.Residual{L.Dense(4, {activation = "tanh"}), L.BatchNormalization(), L.Dense(4)},
      L.Residual{L.Residual{L.Dense(4, {activation = "sigmoid"})}, L.Dense(5), projection = L.Dense(5)},
      L.Dense(2),
    }
    model:build()
    gradcheck.check_model(model, lurn.losses.get("mse"), lurn.randn{6, 3}, lurn.randn{6, 2})
  end)

  it("trains the inner layers and regularizes them", function()
    local inner = L.Dense(4, {kernel_regularizer = lurn.regularizers.l2(0.5)})
    local model = lurn.Sequential{L.Dense(4, {input_shape = {2}}), L.Residual{inner}}
    model:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0.05}, loss = "mse"}
    model:build()
    local x, y = lurn.randn{16, 2}, lurn.randn{16, 4}
    local before = inner:get_weights()[1]:clone()
    local plain = model:evaluate(x, y, {verbose = 0}).loss
    local penalty = 0.5 * (before * before):sum()
    local data_only = lurn.core.loss_value(lurn.losses.get("mse"), model:predict(x), y)
    assert.near(data_only + penalty, plain, 1e-4)
    model:fit(x, y, {epochs = 3, batch_size = 4, verbose = 0})
    assert.is_true((inner:get_weights()[1] - before):abs():max() > 0)
  end)

  it("shows the weights of nested blocks: counts, get_weights and set_weights", function()
    local inner = L.Dense(4, {kernel_initializer = "ones"})
    local outer = L.Residual{L.Residual{inner}, L.Dense(4, {kernel_initializer = "ones"})}
    local model = lurn.Sequential{outer}
    model:build{4}
    assert.equal(40, model:count_params())
    assert.equal(40, outer:count_params())
    assert.equal(2, #outer.inner[1]:get_weights())
    assert.equal(4, #model:get_weights())
    -- inner: h = x + x @ ones = (2, 1, 1, 1); y = h @ ones + x = (6, 5, 5, 5)
    assert.same({{6, 5, 5, 5}}, model:predict(lurn.tensor{{1, 0, 0, 0}}):totable())
    local zeros = {}
    for i, w in ipairs(model:get_weights()) do zeros[i] = w:clone():fill(0) end
    model:set_weights(zeros)
    assert.same({{1, 0, 0, 0}}, model:predict(lurn.tensor{{1, 0, 0, 0}}):totable())
    assert.equal(0, inner:get_weights()[1]:abs():sum())
  end)

  it("explains a shape mismatch without a projection", function()
    local model = lurn.Sequential{L.Residual{L.Dense(3)}}
    assert.error_matches(function() model:build{2} end,
      "maps shape %(2,%) to %(3,%), so its input cannot be added to its output; give a projection layer")
  end)
end)
