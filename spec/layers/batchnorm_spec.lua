-- BatchNormalization: batch statistics in training, moving statistics in inference,
-- Keras' momentum update and weight order, gradients against finite differences; the
-- synchronized option (its effect under mpirun: spec/integration/mpi_fit_equivalence.sh).
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"
local L = lurn.layers

local function close(expected, actual, tol)
  assert(math.abs(expected - actual) <= (tol or 1e-4), ("expected %.7g, got %.7g"):format(expected, actual))
end

describe("BatchNormalization", function()
  before_each(function() lurn.manual_seed(11) end)

  it("normalises each channel with the batch statistics in training", function()
    local bn = L.BatchNormalization()
    bn:build{2}
    local y = bn(lurn.tensor{{1, 10}, {3, 10}, {5, 16}}, true):totable()
    -- channel 1: mean 3, biased variance 8/3; channel 2: mean 12, variance 8
    close(-2 / math.sqrt(8 / 3 + 1e-3), y[1][1])
    close(0, y[2][1])
    close(4 / math.sqrt(8 + 1e-3), y[3][2])
  end)

  it("updates the moving statistics with Keras' momentum and uses them in inference", function()
    local bn = L.BatchNormalization{momentum = 0.9}
    bn:build{1}
    bn(lurn.tensor{{2}, {4}}, true)  -- batch mean 3, variance 1
    local w = bn:get_weights()        -- gamma, beta, moving_mean, moving_variance
    assert.equal(4, #w)
    close(0.3, w[3]:get(1))
    close(0.9 * 1 + 0.1 * 1, w[4]:get(1))
    bn:set_weights{lurn.tensor{2}, lurn.tensor{1}, lurn.tensor{5}, lurn.tensor{4}}
    close(2 * (7 - 5) / math.sqrt(4 + 1e-3) + 1, bn(lurn.tensor{{7}}):get(1, 1))
  end)

  it("has finite-difference gradients on dense and image batches", function()
    local bn = L.BatchNormalization()
    bn:build{3}
    bn:set_weights{lurn.tensor{1.5, 0.5, -1}, lurn.tensor{0.1, 0, 0.3}, lurn.zeros{3}, lurn.ones{3}}
    gradcheck.check_layer(bn, lurn.randn{5, 3})
    local img = L.BatchNormalization{epsilon = 0.01}
    img:build{3, 3, 2}
    gradcheck.check_layer(img, lurn.randn{2, 3, 3, 2})
  end)

  it("has finite-difference gradients in inference mode", function()
    local bn = L.BatchNormalization()
    bn:build{2}
    bn:set_weights{lurn.tensor{2, -1}, lurn.tensor{0.5, 0}, lurn.tensor{0.3, -0.2}, lurn.tensor{1.5, 0.7}}
    local x = lurn.randn{4, 2}
    local y = bn._core:forward(x, false)
    local r = lurn.randn{4, 2}
    local dx = bn._core:backward(x, y, r)
    local function objective() return gradcheck.dot(r, bn._core:forward(x, false)) end
    gradcheck.assert_close(dx, gradcheck.numeric(objective, x), nil, "dL/dx")
    local params, grads = bn:parameters(), bn:gradients()
    for i = 1, 2 do  -- gamma, beta (the moving statistics are not trained)
      gradcheck.assert_close(grads[i], gradcheck.numeric(objective, params[i]), nil, "dL/dparam " .. i)
    end
  end)

  it("fails the gradient check when gamma's gradient is wrong", function()
    local bn = L.BatchNormalization()
    bn:build{2}
    local x = lurn.randn{4, 2}
    local y = bn._core:forward(x, true)
    local r = lurn.randn{4, 2}
    bn._core:backward(x, y, r)
    local wrong = bn:gradients()[1]:clone() * 1.1
    local function objective() return gradcheck.dot(r, bn._core:forward(x, true)) end
    assert.is_false((gradcheck.compare(wrong, gradcheck.numeric(objective, bn:parameters()[1]))))
  end)

  it("trains only gamma and beta; center/scale off freeze them", function()
    local model = lurn.Sequential{L.Dense(4, {input_shape = {3}}), L.BatchNormalization{center = false}}
    model:build()
    local total, trainable = model:_param_counts()
    assert.equal(16 + 4 * 4, total)   -- kernel + bias, then gamma, beta, moving mean and variance
    assert.equal(16 + 4, trainable)   -- beta is frozen by center = false
    model:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0.1}, loss = "mse"}
    model:fit(lurn.randn{8, 3}, lurn.randn{8, 4}, {epochs = 2, batch_size = 4, verbose = 0})
    local w = model.layers[2]:get_weights()
    assert.same({0, 0, 0, 0}, w[2]:totable())  -- beta stays 0 with center = false
  end)

  it("synchronized (Keras 2.12) trains in one process exactly as without, and keeps it in its config", function()
    local function fit(synchronized)
      lurn.manual_seed(4)
      local m = lurn.Sequential{L.Dense(4, {input_shape = {3}}), L.BatchNormalization{synchronized = synchronized},
                                L.Dense(1)}
      m:compile{optimizer = "adam", loss = "mse"}
      m:fit(lurn.randn{20, 3}, lurn.randn{20, 1}, {epochs = 2, batch_size = 6, verbose = 0})
      return m
    end
    local a, b = fit(false), fit(true)
    local wa, wb = a:get_weights(), b:get_weights()
    for i = 1, #wa do assert.equal(0, (wa[i] - wb[i]):abs():max()) end
    local cfg = b.layers[2]:get_config()
    assert.is_true(cfg.synchronized)
    assert.is_false(a.layers[2]:get_config().synchronized)
    assert.is_true(lurn.layers.deserialize(lurn.layers.serialize(b.layers[2])).synchronized)
  end)

  it("rejects bad options", function()
    assert.error_matches(function() L.BatchNormalization{synchronized = 1} end, "synchronized must be true or false")
    assert.error_matches(function() L.BatchNormalization{axis = 1} end, "axis = %-1")
    assert.error_matches(function() L.BatchNormalization{momentum = "x"} end, "momentum must be a number")
    local bn = L.BatchNormalization{momentum = 2}
    assert.error_matches(function() bn:build{3} end, "momentum must be in %[0, 1%]")
  end)
end)
