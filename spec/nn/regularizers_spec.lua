-- Regularizers: l1, l2 and l1_l2 weight penalties and activity regularizers, added to
-- the loss that evaluate reports and to the gradients (checked by finite differences
-- through a model), with Keras' factors and its division of activity penalties by the
-- batch size.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"

local R = lurn.regularizers
local flat = gradcheck.flat

local function close(expected, actual, tol, what)
  assert(math.abs(expected - actual) <= (tol or 1e-6) * math.max(1, math.abs(expected)),
    ("%sexpected %.9g, got %.9g"):format(what and (what .. ": ") or "", expected, actual))
end

local function abs_sum(t)
  local s = 0
  for _, v in ipairs(flat(t)) do s = s + math.abs(v) end
  return s
end

local function sq_sum(t)
  local s = 0
  for _, v in ipairs(flat(t)) do s = s + v * v end
  return s
end

-- Weights clear of 0 (the kink of |w|) and a model built around them.
local function model_with(opts, out_opts)
  local model = lurn.Sequential{
    lurn.layers.Dense(4, (function()
      local o = {activation = "tanh", input_shape = {3}}
      for k, v in pairs(opts or {}) do o[k] = v end
      return o
    end)()),
    lurn.layers.Dense(2, out_opts or {}),
  }
  model:build()
  local w = {}
  for i, t in ipairs(model:get_weights()) do w[i] = gradcheck.rand_away(t:shape(), -0.8, 0.8, {0}, 0.05) end
  model:set_weights(w)
  return model
end

describe("regularizers", function()
  before_each(function() lurn.manual_seed(31) end)

  it("have Keras' default factors", function()
    assert.same({0.01, 0}, {R.l1().l1, R.l1().l2})
    assert.same({0, 0.01}, {R.l2().l1, R.l2().l2})
    assert.same({0.01, 0.01}, {R.l1_l2().l1, R.l1_l2().l2})
    assert.same({0.5, 0}, {R.l1(0.5).l1, R.l1(0.5).l2})
    assert.same({0.1, 0.2}, {R.l1_l2{l1 = 0.1, l2 = 0.2}.l1, R.l1_l2{l1 = 0.1, l2 = 0.2}.l2})
    assert.equal(0.01, R.get("l2").l2)
    -- Keras' class L1L2 defaults to no penalty, unlike the function l1_l2
    assert.same({0, 0}, {R.L1L2().l1, R.L1L2().l2})
    assert.same({0, 0.3}, {R.L1L2{l2 = 0.3}.l1, R.L1L2{l2 = 0.3}.l2})
  end)

  it("reject bad factors and names", function()
    assert.error_matches(function() R.l2(-1) end, "l2 must be a number >= 0")
    assert.error_matches(function() R.l1("x") end, "l1 must be a number >= 0")
    assert.error_matches(function() lurn.layers.Dense(2, {kernel_regularizer = "l3"}) end, "unknown regularizer l3")
  end)

  for _, case in ipairs{
    {"l1", R.l1(0.05), function(w) return 0.05 * abs_sum(w) end},
    {"l2", R.l2(0.05), function(w) return 0.05 * sq_sum(w) end},
    {"l1_l2", R.l1_l2{l1 = 0.02, l2 = 0.03}, function(w) return 0.02 * abs_sum(w) + 0.03 * sq_sum(w) end},
  } do
    local name, reg, penalty = case[1], case[2], case[3]

    it(name .. " on a kernel is added to the loss evaluate reports", function()
      local plain = model_with()
      local model = model_with{kernel_regularizer = reg}
      model:set_weights(plain:get_weights())
      plain:compile{optimizer = "sgd", loss = "mse"}
      model:compile{optimizer = "sgd", loss = "mse"}
      local x, y = lurn.randn{10, 3}, lurn.randn{10, 2}
      local base = plain:evaluate(x, y, {verbose = 0, batch_size = 4}).loss
      local got = model:evaluate(x, y, {verbose = 0, batch_size = 4}).loss
      close(base + penalty(model.layers[1]:get_weights()[1]), got, 1e-5)
    end)

    it(name .. " adds its gradient to the kernel's (finite differences through the model)", function()
      local model = model_with{kernel_regularizer = reg, bias_regularizer = reg}
      local x, y = lurn.randn{5, 3}, lurn.randn{5, 2}
      gradcheck.check_model(model, {kind = "mean_squared_error"}, x, y)
    end)
  end

  it("the penalty gradient is exactly l1 * sign(w) + 2 * l2 * w on top of the loss gradient", function()
    local plain = model_with()
    local model = model_with{kernel_regularizer = R.l1_l2{l1 = 0.1, l2 = 0.2}}
    model:set_weights(plain:get_weights())
    local x, y = lurn.randn{4, 3}, lurn.randn{4, 2}
    local loss = {kind = "mean_squared_error"}
    local v0 = plain._core:gradients(loss, x, y)
    local g0 = flat(plain.layers[1]:gradients()[1])
    local v1 = model._core:gradients(loss, x, y)
    local g1 = flat(model.layers[1]:gradients()[1])
    local w = flat(model.layers[1]:get_weights()[1])
    close(v0 + 0.1 * abs_sum(model.layers[1]:get_weights()[1]) + 0.2 * sq_sum(model.layers[1]:get_weights()[1]), v1,
      1e-5)
    for i = 1, #w do
      local sign = w[i] > 0 and 1 or -1
      close(g0[i] + 0.1 * sign + 0.4 * w[i], g1[i], 1e-5, "kernel gradient " .. i)
    end
  end)

  it("bias_regularizer applies to the bias only", function()
    local plain = model_with()
    local model = model_with{bias_regularizer = R.l2(0.5)}
    model:set_weights(plain:get_weights())
    plain:compile{optimizer = "sgd", loss = "mse"}
    model:compile{optimizer = "sgd", loss = "mse"}
    local x, y = lurn.randn{6, 3}, lurn.randn{6, 2}
    local diff = model:evaluate(x, y, {verbose = 0}).loss - plain:evaluate(x, y, {verbose = 0}).loss
    close(0.5 * sq_sum(model.layers[1]:get_weights()[2]), diff, 1e-5)
  end)

  it("activity_regularizer adds l * sum(output^2) / batch size, as Keras", function()
    local plain = model_with()
    local model = model_with{activity_regularizer = R.l2(0.1)}
    model:set_weights(plain:get_weights())
    plain:compile{optimizer = "sgd", loss = "mse"}
    model:compile{optimizer = "sgd", loss = "mse"}
    local x, y = lurn.randn{8, 3}, lurn.randn{8, 2}
    local hidden = lurn.Sequential{lurn.layers.Dense(4, {activation = "tanh", input_shape = {3}})}
    hidden:build()
    hidden:set_weights{model.layers[1]:get_weights()[1], model.layers[1]:get_weights()[2]}
    local h = hidden:predict(x)
    local diff = model:evaluate(x, y, {verbose = 0, batch_size = 8}).loss -
                 plain:evaluate(x, y, {verbose = 0, batch_size = 8}).loss
    close(0.1 * sq_sum(h) / 8, diff, 1e-5)
  end)

  it("activity_regularizer gradients pass a finite-difference check (hidden and output layers)", function()
    local model = model_with({activity_regularizer = R.l1_l2{l1 = 0.05, l2 = 0.1}},
                             {activity_regularizer = R.l2(0.2)})
    gradcheck.check_model(model, {kind = "mean_squared_error"}, lurn.randn{5, 3}, lurn.randn{5, 2})
  end)

  it("activity_regularizer on a softmax output feeding a cross-entropy passes a gradient check", function()
    local model = model_with(nil, {activation = "softmax", activity_regularizer = R.l2(0.5)})
    local x, y = lurn.randn{5, 3}, lurn.tensor{0, 1, 1, 0, 1}
    gradcheck.check_model(model, {kind = "sparse_categorical_crossentropy"}, x, y)
  end)

  it("activity_regularizer on a sigmoid output feeding binary cross-entropy passes a gradient check", function()
    local model = model_with(nil, {activation = "sigmoid", activity_regularizer = R.l1(0.3)})
    local x, y = lurn.randn{5, 3}, lurn.tensor{{0, 1}, {1, 1}, {1, 0}, {0, 0}, {1, 0}}
    gradcheck.check_model(model, {kind = "binary_crossentropy"}, x, y)
  end)

  it("l2 shrinks the weights that fit learns", function()
    local x = lurn.randn{64, 3}
    local y = x:narrow(2, 1, 2):contiguous() * 3
    local function trained(reg)
      lurn.manual_seed(1)
      local model = lurn.Sequential{lurn.layers.Dense(2, {input_shape = {3}, kernel_regularizer = reg})}
      model:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0.1}, loss = "mse"}
      model:fit(x, y, {epochs = 20, batch_size = 16, verbose = 0})
      return sq_sum(model:get_weights()[1])
    end
    assert.is_true(trained(R.l2(0.5)) < 0.5 * trained(nil))
  end)
end)
