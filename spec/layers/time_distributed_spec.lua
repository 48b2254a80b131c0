-- TimeDistributed: the inner layer applied to every step with one set of weights (the
-- same numbers as the inner layer run on each step alone), shapes, gradients against
-- finite differences (Dense, Conv2D, Dropout inside), training in a model with the
-- inner layer's regularizers (activity penalties over N * steps, as Keras), per-layer
-- statistics through the container, and errors.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"

local L = lurn.layers

describe("TimeDistributed", function()
  before_each(function() lurn.manual_seed(13) end)

  it("runs the inner layer on every step, with one set of weights", function()
    local dense = L.Dense(3, {activation = "tanh", bias_initializer = "random_normal"})
    local td = L.TimeDistributed(dense)
    local x = lurn.randn{2, 4, 5}
    local y = td(x)
    assert.same({2, 4, 3}, y:shape())
    assert.same({4, 3}, td.output_shape)
    assert.same({5}, dense.input_shape)
    local kernel, bias = table.unpack(td:get_weights())
    assert.same({5, 3}, kernel:shape())
    for t = 1, 4 do
      local step = x:select(2, t)  -- (2, 5)
      local want = (step:matmul(kernel) + bias):tanh()
      assert.is_true((y:select(2, t) - want):abs():max() < 1e-6)
    end
    local _, names = td:parameters()
    assert.same({dense.name .. "/kernel", dense.name .. "/bias"}, names)
    assert.equal(5 * 3 + 3, td:count_params())
  end)

  it("passes a finite-difference gradient check around Dense", function()
    local td = L.TimeDistributed(L.Dense(3, {activation = "sigmoid", bias_initializer = "random_normal"}))
    td:build{4, 2}
    gradcheck.check_layer(td, lurn.randn{3, 4, 2})
  end)

  it("passes a finite-difference gradient check around Conv2D (frames of a video)", function()
    local td = L.TimeDistributed(L.Conv2D(2, 2, {padding = "same", activation = "tanh"}))
    td:build{3, 4, 4, 2}
    assert.same({3, 4, 4, 2}, td.output_shape)
    gradcheck.check_layer(td, lurn.randn{2, 3, 4, 4, 2})
  end)

  it("passes a gradient check around Dropout (the same mask with the same seed)", function()
    local td = L.TimeDistributed(L.Dropout(0.5))
    td:build{3, 4}
    gradcheck.check_layer(td, lurn.randn{2, 3, 4}, {seed = 4})
  end)

  it("trains in a model with the inner layer's regularizer (gradient check) and reports its statistics",
    function()
      local model = lurn.Sequential{
        L.Conv1D(3, 2, {padding = "causal", activation = "relu", input_shape = {5, 2}}),
        L.TimeDistributed(L.Dense(2, {activation = "tanh", kernel_regularizer = lurn.regularizers.l2(0.1)})),
        L.Flatten(),
        L.Dense(1),
      }
      model:build()
      local x, y = lurn.randn{4, 5, 2}, lurn.randn{4, 1}
      gradcheck.check_model(model, {kind = "mean_squared_error"}, x, y)
      model:compile{optimizer = "sgd", loss = "mse"}
      local rows = model:layer_stats(x, y)
      local inner = model.layers[2].layer
      assert.equal(inner.name, rows[2].name)
      assert.is_true(rows[2].grad_norm > 0)
      assert.is_true(rows[2].act_std > 0)
      assert.equal(4, #rows)  -- the container expanded: Conv1D, the inner Dense, Flatten, Dense
      local before = model.layers[2]:get_weights()[1]:clone()
      model:fit(x, y, {epochs = 1, batch_size = 4, verbose = 0})
      assert.is_true((model.layers[2]:get_weights()[1] - before):abs():max() > 0)
    end)

  it("keeps its inner C layer alive after the inner layer's userdata is closed and collected", function()
    local core = require "lurn.core"
    local inner = core.dense_layer{units = 2, kernel_initializer = {kind = "glorot_uniform", seed = 1},
                                   bias_initializer = {kind = "zeros"}}
    local td = core.time_distributed_layer(inner)
    td:build{3, 4}
    local x = lurn.randn{2, 3, 4}
    local before = td:forward(x):clone()
    getmetatable(inner).__gc(inner)  -- closed by hand, as the collector would
    inner = nil
    collectgarbage("collect")
    collectgarbage("collect")
    assert.same(before:totable(), td:forward(x):totable())
  end)

  it("adds the inner layer's activity penalty over N * steps outputs, as Keras (value and gradient check)",
    function()
      local function model(reg)
        lurn.manual_seed(17)
        local m = lurn.Sequential{
          L.TimeDistributed(L.Dense(2, {activation = "tanh", activity_regularizer = reg}), {input_shape = {3, 4}}),
          L.Flatten(),
          L.Dense(1),
        }
        m:build()
        return m
      end
      local x, y = lurn.randn{5, 3, 4}, lurn.randn{5, 1}
      local mse = {kind = "mean_squared_error"}
      local with, without = model(lurn.regularizers.l1_l2{l1 = 0.03, l2 = 0.2}), model(nil)
      local loss_with = with._core:gradients(mse, x, y)
      local loss_without = without._core:gradients(mse, x, y)
      -- Keras: the inner layer sees a batch of N * steps = 15 rows; its penalty is divided by 15
      local inner = with.layers[1].layer._core:forward(x:reshape{15, 4}, false)
      local penalty = (0.03 * inner:abs():sum() + 0.2 * (inner * inner):sum()) / 15
      assert.is_true(math.abs(loss_with - loss_without - penalty) < 1e-5 * math.max(1, penalty),
        ("penalty %g, loss difference %g"):format(penalty, loss_with - loss_without))
      gradcheck.check_model(with, mse, x, y)
    end)

  it("follows trainable = false of the container", function()
    local td = L.TimeDistributed(L.Dense(2), {trainable = false, input_shape = {3, 2}})
    local model = lurn.Sequential{td, L.Flatten(), L.Dense(1)}
    model:compile{optimizer = "sgd", loss = "mse"}
    local before = td:get_weights()[1]:clone()
    model:fit(lurn.randn{4, 3, 2}, lurn.randn{4, 1}, {epochs = 2, batch_size = 2, verbose = 0})
    assert.same(before:totable(), td:get_weights()[1]:totable())
  end)

  it("refuses what it cannot run, naming it", function()
    assert.error_matches(function() L.TimeDistributed(3) end, "TimeDistributed: expected a layer, got number")
    assert.error_matches(function() L.TimeDistributed(L.Dense) end, "expected a layer, got the class Dense")
    assert.error_matches(function() L.TimeDistributed(L.Dense(2))(lurn.randn{2, 3}) end,
      "TimeDistributed: expects input of shape %(steps, ...%) per sample")
    assert.error_matches(function() L.TimeDistributed(L.Dense(2, {activation = function(v) return v end})) (lurn.randn{2, 3, 4}) end,
      "Lua%-function activation")
    assert.error_matches(function() L.TimeDistributed(L.Conv2D(2, 3))(lurn.randn{2, 3, 4}) end,
      "Conv2D: expects input of shape %(height, width, channels%)")
  end)
end)

describe("TimeDistributed and a layer in two places", function()
  it("refuses a layer another wrapper holds: two sets of weights where Keras shares one", function()
    local L = require("lurn").layers
    local d = L.Dense(3, {name = "shared_dense"})
    L.TimeDistributed(d)
    assert.error_matches(function() L.TimeDistributed(d) end,
      "layer 'shared_dense' is already inside a TimeDistributed; a layer in two places")
    assert.has_no.errors(function() L.Bidirectional(L.LSTM(2)) L.Bidirectional(L.LSTM(2)) end)  -- each its own
  end)
end)
