-- Re-entrancy: a Lambda layer's function runs inside the C forward/backward pass. Calling
-- the running model again from there (or a model sharing one of its layers, or the
-- layer itself), or closing what the pass uses, is a clear error or harmless, never a
-- read of freed buffers. Between batches (callbacks) predict and evaluate are fine and
-- leave training exactly as it would have been.
local lurn = require "lurn"
local core = require "lurn.core"
local L = lurn.layers

local mse = {kind = "mean_squared_error"}

local function assert_error(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error matching '" .. pattern .. "'")
  assert(tostring(err):find(pattern), ("error '%s' does not match '%s'"):format(tostring(err), pattern))
end

local function dense(units, seed)
  return core.dense_layer{units = units, kernel_initializer = {kind = "glorot_uniform", seed = seed},
                          bias_initializer = {kind = "zeros"}}
end

-- A lurn.Layer running fn(x) -> x inside the pass (input = output shape).
local function hook_layer(fn)
  return core.lambda_layer{
    build = function(shape) return shape end,
    forward = function(x) fn() return x end,
    backward = function(_, _, dy) return dy end,
  }
end

-- A Sequential whose Lambda layer calls `inside()` once built and armed.
local function model_with_hook()
  local state = {armed = false}
  local model = lurn.Sequential{L.Dense(4, {input_shape = {3}}), L.Lambda(function(x)
    if state.armed then state.inside() end
    return x * 2
  end), L.Dense(1)}
  model:compile{optimizer = "sgd", loss = "mse"}
  model:build()
  return model, state
end

describe("calling a running model from inside its own pass", function()
  before_each(function() lurn.manual_seed(21) end)

  local x, y
  before_each(function() x, y = lurn.randn{20, 3}, lurn.randn{20, 1} end)

  it("predict inside fit is an error naming the problem, and the model trains afterwards", function()
    local model, state = model_with_hook()
    state.inside = function() model:predict(lurn.randn{7, 3}) end
    state.armed = true
    assert_error("the model is running %(called from inside its own forward", model.fit, model, x, y,
                 {epochs = 1, verbose = 0})
    state.armed = false
    local history = model:fit(x, y, {epochs = 2, verbose = 0})
    for _, v in ipairs(history.history.loss) do assert(v == v and v < math.huge) end
  end)

  it("fit and evaluate inside predict are errors too", function()
    local model, state = model_with_hook()
    state.inside = function() model:fit(x, y, {epochs = 1, verbose = 0}) end
    state.armed = true
    assert_error("the model is running", model.predict, model, x)
    state.inside = function() model:evaluate(x, y, {verbose = 0}) end
    assert_error("the model is running", model.predict, model, x)
  end)

  it("a layer of the running model called on its own is an error", function()
    local d = dense(3, 1)
    local m = core.model()
    m:add(d)
    m:add(hook_layer(function() d:forward(core.randn{2, 3}) end))
    m:build{3}
    assert_error("Dense layer is running", m.forward, m, core.randn{4, 3})
    -- released afterwards, the layer runs
    assert(d:forward(core.randn{2, 3}):size(1) == 2)
  end)

  it("a layer shared with another model cannot run in that model inside the pass", function()
    local shared = dense(3, 2)
    local other = core.model()
    other:add(shared)
    other:build{3}
    local m = core.model()
    m:add(shared)
    m:add(hook_layer(function() other:forward(core.randn{9, 3}) end))
    m:build{3}
    assert_error("Dense layer is running", m.train_step, m, mse, core.optimizer{kind = "sgd"}, core.randn{4, 3},
                 core.zeros{4, 3})
    assert(other:forward(core.randn{9, 3}):size(1) == 9)
  end)

  it("a layer inside a Residual block of the running model is claimed too", function()
    local inner = dense(3, 3)
    local m = core.model()
    m:add(core.residual_layer({inner}))
    m:add(hook_layer(function() inner:forward(core.randn{2, 3}) end))
    m:build{3}
    assert_error("Dense layer is running", m.forward, m, core.randn{4, 3})
  end)

  it("a layer running on its own cannot be run again from inside", function()
    local lambda
    lambda = hook_layer(function() lambda:forward(core.randn{5, 2}) end)
    lambda:build{2}
    assert_error("Lambda layer is running", lambda.forward, lambda, core.randn{3, 2})
  end)

  it("closing the running model or its optimizer from inside is refused", function()
    local m = core.model()
    local opt = core.optimizer{kind = "sgd"}
    local target
    m:add(dense(2, 4))
    m:add(hook_layer(function() getmetatable(target).__gc(target) end))
    m:build{3}
    target = m
    assert_error("cannot close a model while it is running", m.forward, m, core.randn{4, 3})
    target = opt
    assert_error("cannot close an optimizer while a training step uses it", m.train_step, m, mse, opt,
                 core.randn{4, 3}, core.zeros{4, 2})
    target = core.ones{1} -- harmless from now on
    assert(m:train_step(mse, opt, core.randn{4, 3}, core.zeros{4, 2}) >= 0)
  end)

  it("closing the input tensors from inside the pass leaves the step intact", function()
    local m = core.model()
    local x, t = core.randn{4, 3}, core.zeros{4, 2}
    local want_loss = (function()
      local ref = core.model()
      ref:add(dense(2, 5))
      ref:build{3}
      return ref:test_step(mse, x, t)
    end)()
    m:add(dense(2, 5))
    m:add(hook_layer(function()
      getmetatable(x).__gc(x)
      getmetatable(t).__gc(t)
    end))
    m:build{3}
    local loss = m:test_step(mse, x, t)
    assert(loss == want_loss, ("loss %g, expected %g"):format(loss, want_loss))
    assert_error("attempt to use a closed tensor", x.sum, x)
  end)

  it("closing a standalone layer from inside its own forward leaves the call intact", function()
    local lambda
    lambda = hook_layer(function() getmetatable(lambda).__gc(lambda) end)
    lambda:build{2}
    local y = lambda:forward(core.ones{3, 2})
    assert(y:sum() == 6)
    assert_error("attempt to use a closed layer", lambda.forward, lambda, core.ones{3, 2})
  end)
end)

describe("predict and evaluate between batches", function()
  local function train(with_callbacks)
    lurn.manual_seed(7)
    local model = lurn.Sequential{L.Dense(8, {activation = "relu", input_shape = {3}}), L.Dense(1)}
    model:compile{optimizer = "adam", loss = "mse"}
    local x, y = lurn.randn{40, 3}, lurn.randn{40, 1}
    local probe = lurn.randn{11, 3}
    local seen = {}
    local cb = {
      on_train_batch_end = function() seen[#seen + 1] = model:predict(probe, {batch_size = 5}) end,
      on_epoch_end = function() model:evaluate(probe, lurn.zeros{11, 1}, {batch_size = 3, verbose = 0}) end,
    }
    model:fit(x, y, {epochs = 3, batch_size = 8, shuffle = false, verbose = 0,
                     callbacks = with_callbacks and {cb} or nil})
    return model:predict(probe, {batch_size = 5}), seen
  end

  it("leave training exactly as it is without them (buffers resized back for each batch)", function()
    local plain = train(false)
    local observed, seen = train(true)
    assert(#seen == 15, "expected a prediction after each of 15 batches, got " .. #seen)
    assert((plain - observed):abs():max() == 0, "predict/evaluate between batches changed the training")
    assert((seen[#seen] - observed):abs():max() == 0, "the last prediction is not the model's")
  end)
end)

describe("building a model from inside its own build", function()
  it("is an error naming the problem, and the model builds afterwards", function()
    local model
    local nested = true
    -- no input_shape: the model is built by the build call below, not when made
    model = lurn.Sequential{L.Dense(2), L.Lambda(function(x)
      if nested then model:predict(lurn.randn{1, 3}) end
      return x
    end)}
    assert_error("the model is being built %(called from inside a layer's build", model.build, model, {3})
    nested = false
    model:build{3}
    assert(model:predict(lurn.randn{4, 3}):size(1) == 4)
  end)
end)
