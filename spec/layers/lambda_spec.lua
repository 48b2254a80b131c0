-- Lambda layers and Lua-function activations: values, gradients through lurn.autograd
-- checked against finite differences, shapes inferred, errors.
local lurn = require "lurn"
local L = lurn.layers

local mse = lurn.losses.get("mse")

-- Central differences of the model's loss with respect to each input element, in the
-- model's own float32 arithmetic; compared with dL/dx from backward.
local function check_input_gradient(model, x, y, step, tol)
  local _, dx = model._core:gradients(mse, x, y)
  local n = x:numel()
  local flat = x:reshape(n)
  local worst = 0
  for i = 1, n do
    local keep = flat:get(i)
    flat:set(i, keep + step)
    local up = model._core:gradients(mse, x, y)
    flat:set(i, keep - step)
    local down = model._core:gradients(mse, x, y)
    flat:set(i, keep)
    local numeric = (up - down) / (2 * step)
    local analytic = dx:reshape(n):get(i)
    local err = math.abs(numeric - analytic) / math.max(1e-3, math.abs(numeric) + math.abs(analytic))
    worst = math.max(worst, err)
  end
  assert(worst < tol, ("worst relative gradient error %.3g exceeds %.3g"):format(worst, tol))
end

describe("Lambda", function()
  local leaky_relu = function(x, a) return lurn.maximum(x * (a or 0.01), x) end

  it("computes the seeds' leaky_relu and infers its output shape", function()
    local layer = L.Lambda(function(x) return leaky_relu(x) end)
    local y = layer(lurn.tensor{{-2, 3}, {0.5, -1}})
    assert.same({2, 2}, y:shape())
    local v = y:totable()
    assert.near(-0.02, v[1][1], 1e-6)
    assert.near(3, v[1][2], 1e-6)
    assert.near(-0.01, v[2][2], 1e-6)
  end)

  it("sends gradients through the function (finite differences)", function()
    lurn.manual_seed(3)
    local model = lurn.Sequential{
      L.Dense(5, {input_shape = {4}}),
      L.Lambda(function(x) return lurn.tanh(x) * 2 + lurn.exp(x * 0.5) / (x:square() + 1) end),
      L.Dense(3),
      L.Lambda(function(x) return leaky_relu(x, 0.1) - x:mean(2, true) end),
    }
    model:build()
    local x, y = lurn.randn{6, 4}, lurn.randn{6, 3}
    check_input_gradient(model, x, y, 1e-2, 2e-2)
  end)

  it("gradients fail the check when the function's derivative is wrong", function()
    -- A deliberately wrong rule: forward x^2, but the recorded backward of sin-like op is off.
    local autograd = lurn.autograd
    local wrong = function(x)
      local v = autograd.value(x)
      if not autograd.is_variable(x) then return v * v end
      local out = setmetatable({value = v * v, parents = {x}, backward = function(g) return {g * v * 2.5} end},
        getmetatable(x))
      return out
    end
    lurn.manual_seed(4)
    local model = lurn.Sequential{L.Dense(3, {input_shape = {2}}), L.Lambda(wrong)}
    model:build()
    assert.has_error(function() check_input_gradient(model, lurn.randn{4, 2}, lurn.randn{4, 3}, 1e-2, 2e-2) end)
  end)

  it("accepts a Lua function as a Dense activation", function()
    lurn.manual_seed(5)
    local model = lurn.Sequential{
      L.Dense(4, {input_shape = {3}, activation = function(x) return lurn.maximum(x * 0.01, x) end}),
      L.Dense(2, {activation = function(x) return lurn.sigmoid(x) end}),
    }
    model:build()
    assert.same({2}, model.output_shape)
    check_input_gradient(model, lurn.randn{5, 3}, lurn.rand{5, 2}, 1e-2, 2e-2)
  end)

  it("trains: a Lambda activation network learns a toy problem", function()
    lurn.manual_seed(6)
    local x = lurn.randn{256, 2}
    local y = (x:select(2, 1) * x:select(2, 2)):gt(0):reshape(256, 1)
    local model = lurn.Sequential{
      L.Dense(16, {input_shape = {2}}),
      L.Lambda(function(h) return lurn.maximum(h * 0.01, h) end),
      L.Dense(1, {activation = "sigmoid"}),
    }
    model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.05}, loss = "binary_crossentropy",
                  metrics = {"accuracy"}}
    model:fit(x, y, {epochs = 40, batch_size = 32, verbose = 0})
    assert.is_true(model:evaluate(x, y, {verbose = 0}).accuracy > 0.9)
  end)

  it("reports non-differentiable operations and wrong results clearly", function()
    -- a model with an input shape is built when made, as Keras
    assert.error_matches(function()
      lurn.Sequential{L.Lambda(function(x) return x:get(1, 1) end, {input_shape = {2}})}
    end, "must return a tensor")
    local bad = lurn.Sequential{L.Dense(2, {input_shape = {2}}), L.Lambda(function(x) return x:argmax(2, true) end)}
    bad:compile{optimizer = "sgd", loss = "mse"}
    assert.error_matches(function()
      bad:fit(lurn.zeros{2, 2}, lurn.zeros{2, 1}, {verbose = 0})
    end, "'argmax' is not differentiable")
  end)
end)
