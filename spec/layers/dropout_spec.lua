-- Dropout: inverted scaling by 1/(1 - rate) in training, the identity in inference,
-- the training mask reused by backward, the fraction dropped close to rate.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"

local function close(expected, actual, tol)
  assert(math.abs(expected - actual) <= (tol or 1e-6), ("expected %.9g, got %.9g"):format(expected, actual))
end

local function dropout(rate, shape)
  local layer = lurn.layers.Dropout(rate)
  layer:build(shape)
  return layer
end

describe("Dropout", function()
  before_each(function() lurn.manual_seed(3) end)

  it("is the identity in inference", function()
    local layer = dropout(0.5, {8})
    local x = lurn.randn{4, 8}
    assert.same(x:totable(), layer._core:forward(x, false):totable())
    assert.same(x:totable(), layer(x):totable())
  end)

  it("zeroes elements or scales them by 1 / (1 - rate) in training", function()
    local rate = 0.25
    local layer = dropout(rate, {50})
    local x = lurn.rand{20, 50} + 0.5
    local xs, ys = gradcheck.flat(x), gradcheck.flat(layer._core:forward(x, true))
    local dropped = 0
    for i = 1, #xs do
      if ys[i] == 0 then
        dropped = dropped + 1
      else
        close(xs[i] / (1 - rate), ys[i], 1e-6)
      end
    end
    assert.is_true(dropped > 0)
  end)

  it("drops a fraction close to rate and keeps the mean", function()
    for _, rate in ipairs{0.1, 0.5, 0.8} do
      local layer = dropout(rate, {100})
      local x = lurn.ones{200, 100}
      local y = layer._core:forward(x, true)
      local n = y:numel()
      local kept = y:gt(0):sum()
      -- 20000 Bernoulli draws: the standard deviation of the fraction is at most 0.0036
      close(rate, 1 - kept / n, 0.02)
      close(1, y:mean(), 0.05)
    end
  end)

  it("uses the training mask in backward", function()
    local layer = dropout(0.4, {30})
    local x = lurn.rand{5, 30} + 0.1
    local y = layer._core:forward(x, true)
    local dy = lurn.randn{5, 30}
    local dx = layer._core:backward(x, y, dy)
    local ys, dys, dxs = gradcheck.flat(y), gradcheck.flat(dy), gradcheck.flat(dx)
    for i = 1, #ys do
      if ys[i] == 0 then assert.equal(0, dxs[i]) else close(dys[i] / 0.6, dxs[i], 1e-5) end
    end
  end)

  it("backward after an inference forward passes the gradient through", function()
    local layer = dropout(0.4, {6})
    local x = lurn.randn{3, 6}
    local y = layer._core:forward(x, false)
    local dy = lurn.randn{3, 6}
    assert.same(dy:totable(), layer._core:backward(x, y, dy):totable())
  end)

  it("passes a finite-difference gradient check with a fixed mask", function()
    local layer = dropout(0.3, {4, 3})
    gradcheck.check_layer(layer, lurn.randn{2, 4, 3}, {seed = 99})
  end)

  it("with rate 0 is the identity in training too", function()
    local layer = dropout(0, {5})
    local x = lurn.randn{3, 5}
    assert.same(x:totable(), layer._core:forward(x, true):totable())
  end)

  it("draws a new mask each training step, the same for the same seed", function()
    local layer = dropout(0.5, {64})
    local x = lurn.ones{2, 64}
    lurn.manual_seed(5)
    local a = layer._core:forward(x, true):totable()
    local b = layer._core:forward(x, true):totable()
    lurn.manual_seed(5)
    local c = layer._core:forward(x, true):totable()
    assert.are_not.same(a, b)
    assert.same(a, c)
  end)

  it("is active in fit and inactive in evaluate and predict", function()
    local model = lurn.Sequential{lurn.layers.Dropout(0.5, {input_shape = {10}})}
    model:compile{optimizer = "sgd", loss = "mse"}
    local x = lurn.ones{8, 10}
    assert.same(x:totable(), model:predict(x):totable())
    close(0, model:evaluate(x, x, {verbose = 0}).loss)
    local history = model:fit(x, x, {epochs = 1, batch_size = 8, verbose = 0})
    -- half the values become 0 (error 1) and half 2 (error 1): mse 1
    assert.is_true(history.history.loss[1] > 0.5)
  end)

  it("rejects rates outside [0, 1)", function()
    for _, rate in ipairs{1, -0.1, 1.5} do
      assert.error_matches(function() lurn.layers.Dropout(rate) end, "rate must be a number in %[0, 1%)")
    end
    assert.error_matches(function() lurn.layers.Dropout("half") end, "rate must be a number")
    assert.error_matches(function() lurn.layers.Dropout(0 / 0) end, "rate must be a number")
  end)
end)
