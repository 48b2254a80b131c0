-- Learning-rate schedules (lurn.optimizers.schedules) against Keras 2's formulas
-- (tf_keras/optimizers/schedules/learning_rate_schedule.py), each value worked by hand:
--   ExponentialDecay:  lr0 * rate ^ (step / decay_steps)          (staircase: floor of it)
--   InverseTimeDecay:  lr0 / (1 + rate * step / decay_steps)       (staircase: floor of it)
--   PiecewiseConstantDecay: values[1] for step <= b[1], values[i+1] for b[i] < step <= b[i+1]
--   CosineDecay: lr0 * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha);
--     with warmup_target: lr0 + (target - lr0) * step / warmup_steps while step < warmup_steps,
--     then the cosine of (step - warmup_steps) from target, step capped at decay + warmup.
-- An optimizer with a schedule uses schedule(iterations) for an update, iterations counting
-- the updates before it, in fit, train_on_batch and apply_gradients alike.
local lurn = require "lurn"
local S = lurn.optimizers.schedules

local function close(expected, actual, tol, what)
  assert(math.abs(expected - actual) <= (tol or 1e-12) * math.max(1, math.abs(expected)),
    ("%sexpected %.17g, got %.17g"):format(what and (what .. ": ") or "", expected, actual))
end

local function f32(x) return (string.unpack("f", string.pack("f", x))) end

describe("schedules, by hand", function()
  it("ExponentialDecay, continuous and staircase", function()
    local s = S.ExponentialDecay(0.1, 10, 0.5)
    close(0.1, s(0))
    close(0.1 * math.sqrt(0.5), s(5))   -- 0.5 ^ (5 / 10)
    close(0.05, s(10))
    close(0.1 * 0.5 ^ 1.9, s(19))
    local stair = S.ExponentialDecay(0.1, 10, 0.5, true)
    close(0.1, stair(9))    -- floor(9 / 10) = 0
    close(0.05, stair(10))  -- floor(10 / 10) = 1
    close(0.05, stair(19))
    close(0.025, stair(20))
  end)

  it("PiecewiseConstantDecay: a boundary belongs to the interval before it", function()
    local s = S.PiecewiseConstantDecay({10, 20}, {1.0, 0.5, 0.1})
    assert.same({1.0, 1.0, 0.5, 0.5, 0.1, 0.1}, {s(0), s(10), s(11), s(20), s(21), s(1000)})
    local one = S.PiecewiseConstantDecay({0}, {0.3, 0.2})
    assert.same({0.3, 0.2}, {one(0), one(1)})
  end)

  it("CosineDecay, without and with warmup", function()
    local s = S.CosineDecay(1.0, 10, 0.1)
    close(1.0, s(0))
    close(0.9 * 0.5 * (1 + math.cos(math.pi * 0.3)) + 0.1, s(3))
    close(0.55, s(5))  -- cos(pi / 2) = 0: 0.9 * 0.5 + 0.1
    close(0.1, s(10))
    close(0.1, s(25))  -- capped at decay_steps
    close(0.5, S.CosineDecay(1.0, 10)(5))  -- alpha = 0
    local w = S.CosineDecay(0.0, 10, {warmup_target = 1.0, warmup_steps = 4})
    close(0.0, w(0))
    close(0.25, w(1))
    close(0.75, w(3))
    close(1.0, w(4))   -- the decay begins at warmup_steps, from warmup_target
    close(0.5, w(9))   -- 5 steps into a decay of 10
    close(0.0, w(14))
    close(0.0, w(100))
    -- warmup_steps = 0 with a target: the decay starts at once, from the target
    close(2.0, S.CosineDecay(1.0, 10, {warmup_target = 2.0})(0))
  end)

  it("InverseTimeDecay, continuous and staircase", function()
    local s = S.InverseTimeDecay(1.0, 10, 0.5)
    close(1.0, s(0))
    close(0.8, s(5))         -- 1 / (1 + 0.5 * 0.5)
    close(1 / 1.5, s(10))
    local stair = S.InverseTimeDecay(1.0, 10, 0.5, true)
    close(1.0, stair(9))
    close(1 / 1.5, stair(10))
    close(1 / 1.5, stair(19))
    close(0.5, stair(20))
  end)
end)

describe("schedule construction", function()
  it("takes Keras' positional arguments, an options table, or both; defaults as Keras", function()
    local a = S.ExponentialDecay(0.1, 100, 0.96, true)
    local b = S.ExponentialDecay{initial_learning_rate = 0.1, decay_steps = 100, decay_rate = 0.96, staircase = true}
    local c = S.ExponentialDecay(0.1, 100, 0.96, {staircase = true, name = "decay"})
    assert.same(a:get_config(), b:get_config())
    assert.equal("decay", c.name)
    assert.is_false(S.ExponentialDecay(0.1, 100, 0.96).staircase)
    assert.same({initial_learning_rate = 0.1, decay_steps = 10, alpha = 0.0, warmup_steps = 0},
      S.CosineDecay(0.1, 10):get_config())
    local p = S.PiecewiseConstantDecay{boundaries = {5}, values = {1, 2}}
    assert.same({boundaries = {5}, values = {1, 2}}, p:get_config())
    assert.same({boundaries = {5}, values = {1, 2}, name = "steps"},
      S.PiecewiseConstantDecay({5}, {1, 2}, {name = "steps"}):get_config())
  end)

  it("refuses bad arguments, naming them, at the caller's line", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(S.ExponentialDecay, 0.1, 0, 0.5)
    assert.is_false(ok)
    assert.truthy(err:find(("schedules_spec.lua:%d: ExponentialDecay: decay_steps must be a number > 0, got 0"):format(
      line), 1, true), err)
    assert.error_matches(function() S.ExponentialDecay{initial_learning_rate = 0.1, decay_step = 10} end,
      "ExponentialDecay: unknown option 'decay_step'")
    assert.error_matches(function() S.ExponentialDecay(0.1, 10, 0.5, {decay_steps = 5}) end,
      "ExponentialDecay: decay_steps is given twice")
    assert.error_matches(function() S.ExponentialDecay(0.1, 10, 0.5, "yes") end, "staircase must be true or false")
    assert.error_matches(function() S.ExponentialDecay(-0.1, 10, 0.5) end,
      "initial_learning_rate must be a number >= 0, got %-0.1")
    assert.error_matches(function() S.InverseTimeDecay(0.1, 10) end, "decay_rate must be a number >= 0, got nil")
    assert.error_matches(function() S.CosineDecay(0.1, 10, 0, nil, 1.0, 2.5) end,
      "warmup_steps must be a whole number >= 0, got 2.5")
    assert.error_matches(function() S.PiecewiseConstantDecay({10, 20}, {1, 2}) end,
      "values must be a list one longer than boundaries %(3%), got 2 values")
    assert.error_matches(function() S.PiecewiseConstantDecay({20, 10}, {1, 2, 3}) end,
      "boundaries must be strictly increasing, got 10 after 20")
    assert.error_matches(function() S.PiecewiseConstantDecay({1.5}, {1, 2}) end,
      "boundaries%[1%] must be a whole number >= 0, got 1.5")
    assert.error_matches(function() S.PiecewiseConstantDecay({}, {1}) end, "boundaries must be a list of at least one")
    assert.error_matches(function() S.ExponentialDecay(0.1, 10, 0.5)("x") end, "step must be a number")
    assert.error_matches(function() S.ExponentialDecay(0.1, 10, 0.5, false, "n", 1) end, "too many arguments")
    -- a method called on something else than a schedule
    assert.error_matches(function() S.ExponentialDecay.__call(0.1, 2) end,
      "__call: expected a learning%-rate schedule as self, got number")
    assert.error_matches(function() S.CosineDecay.get_config({}) end,
      "CosineDecay:get_config: expected a learning%-rate schedule as self, got table")
  end)

  it("round-trip through get_config/from_config and serialize/deserialize", function()
    for _, s in ipairs{S.ExponentialDecay(0.1, 7, 0.9, true), S.PiecewiseConstantDecay({3, 8}, {0.3, 0.2, 0.1}),
                       S.CosineDecay(0.2, 9, 0.05, {warmup_target = 0.4, warmup_steps = 3, name = "cos"}),
                       S.InverseTimeDecay(0.5, 4, 2.0)} do
      local again = getmetatable(s).from_config(s:get_config())
      local t = S.serialize(s)
      assert.equal(s.class_name, t.class_name)
      assert.same(s:get_config(), t.config)
      local back = S.deserialize(t)
      assert.equal(getmetatable(s), getmetatable(back))
      for step = 0, 12 do
        assert.equal(s(step), again(step))
        assert.equal(s(step), back(step))
      end
    end
    assert.error_matches(function() S.deserialize{class_name = "PolynomialDecay", config = {}} end,
      "class_name one of CosineDecay, ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, got PolynomialDecay")
    assert.error_matches(function() S.deserialize{class_name = "ExponentialDecay", config = {decay_steps = 1}} end,
      "ExponentialDecay: initial_learning_rate must be")
    assert.error_matches(function() S.serialize(0.1) end, "expected a learning%-rate schedule")
  end)
end)

describe("an optimizer with a schedule", function()
  local function sgd(schedule) return lurn.optimizers.SGD{learning_rate = schedule} end

  it("reads schedule(0) before any update, and the rate of the latest update after", function()
    local opt = sgd(S.PiecewiseConstantDecay({0, 1}, {0.1, 0.01, 0.001}))
    assert.equal(f32(0.1), opt.learning_rate)
    assert.equal(0, opt.iterations)
  end)

  -- Dense(1), no bias, weight 1, x = 1, y = 0, mse: the gradient is 2w, so an update with
  -- rate r gives w * (1 - 2r). PiecewiseConstantDecay({0, 1}, {0.1, 0.01, 0.001}) gives
  -- 0.1 at step 0, 0.01 at step 1, 0.001 from step 2: three updates leave
  -- 0.8 * 0.98 * 0.998 (a rate from iterations + 1 would give 0.98 * 0.998 * 0.998).
  local function one_weight()
    local m = lurn.Sequential{lurn.layers.Dense(1, {input_shape = {1}, use_bias = false, kernel_initializer = "ones"})}
    m:compile{optimizer = sgd(S.PiecewiseConstantDecay({0, 1}, {0.1, 0.01, 0.001})), loss = "mse"}
    return m
  end
  local expected = {f32(1 - 2 * f32(0.1))}
  expected[2] = f32(expected[1] * f32(1 - 2 * f32(0.01)))
  expected[3] = f32(expected[2] * f32(1 - 2 * f32(0.001)))
  local function weight(m) return m:get_weights()[1]:get(1, 1) end
  local x, y = lurn.ones{1, 1}, lurn.zeros{1, 1}

  it("fit uses schedule(iterations) for each batch's update", function()
    local m = one_weight()
    local seen = {}
    m:fit(lurn.ones{3, 1}, lurn.zeros{3, 1}, {batch_size = 1, epochs = 1, verbose = 0, shuffle = false, callbacks = {
      lurn.callbacks.LambdaCallback{on_batch_end = function() seen[#seen + 1] = weight(m) end}}})
    for i = 1, 3 do close(expected[i], seen[i], 1e-6, "after update " .. i) end
    assert.equal(3, m.optimizer.iterations)
    assert.equal(f32(0.001), m.optimizer.learning_rate)
  end)

  it("train_on_batch and compute_gradients + apply_gradients step it the same way", function()
    local a, b = one_weight(), one_weight()
    for i = 1, 3 do
      a:train_on_batch(x, y)
      b:compute_gradients(x, y)
      b:apply_gradients()
      close(expected[i], weight(a), 1e-6, "train_on_batch " .. i)
      assert.equal(weight(a), weight(b))
    end
    assert.equal(3, b.optimizer.iterations)
  end)

  it("serializes the schedule in its config, and deserializes it", function()
    local opt = lurn.optimizers.Adam{learning_rate = S.InverseTimeDecay(0.01, 5, 1.0, true)}
    local t = lurn.optimizers.serialize(opt)
    assert.same({class_name = "InverseTimeDecay", config = {initial_learning_rate = 0.01, decay_steps = 5,
                                                            decay_rate = 1.0, staircase = true}},
      t.config.learning_rate)
    local back = lurn.optimizers.deserialize(t)
    assert.same(t, lurn.optimizers.serialize(back))
    assert.equal(f32(0.01), back.learning_rate)
    assert.error_matches(function()
      lurn.optimizers.deserialize{class_name = "Adam", config = {learning_rate = {class_name = "Nope", config = {}}}}
    end, "optimizers.deserialize: learning_rate: schedules.deserialize: expected")
  end)

  it("refuses a number for learning_rate, takes a new schedule, and checks what a schedule gives", function()
    local opt = sgd(S.ExponentialDecay(0.1, 10, 0.5))
    assert.error_matches(function() opt.learning_rate = 0.01 end,
      "SGD: learning_rate is a schedule %(ExponentialDecay%), which sets the rate before every update")
    opt.learning_rate = S.PiecewiseConstantDecay({5}, {0.25, 0.125})
    assert.equal(0.25, opt.learning_rate)
    assert.equal("PiecewiseConstantDecay", lurn.optimizers.serialize(opt).config.learning_rate.class_name)
    assert.error_matches(function() lurn.optimizers.SGD{learning_rate = {}} end,
      "SGD: 'learning_rate' must be a number or a schedule")
    -- a schedule of one's own: a LearningRateSchedule subclass with __call
    local Halving = setmetatable({}, {__index = S.LearningRateSchedule})
    Halving.__index, Halving.class_name = Halving, "Halving"
    Halving.__call = function(_, step) return 1 / 2 ^ step end
    local m = lurn.Sequential{lurn.layers.Dense(1, {input_shape = {1}})}
    m:compile{optimizer = sgd(setmetatable({}, Halving)), loss = "mse"}
    m:train_on_batch(x, y)
    m:train_on_batch(x, y)
    assert.equal(0.5, m.optimizer.learning_rate)
    Halving.__call = function(_, step) return step > 0 and -1 or 1 end
    assert.error_matches(function() m:train_on_batch(x, y) end,
      "SGD: the learning%-rate schedule Halving gave %-1 at step 2; a learning rate must be a finite number >= 0")
  end)

  it("LearningRateScheduler refuses it when training begins (Keras would be overruled silently)", function()
    local m = lurn.Sequential{lurn.layers.Dense(1, {input_shape = {1}})}
    m:compile{optimizer = sgd(S.ExponentialDecay(0.1, 10, 0.5)), loss = "mse"}
    local cb = lurn.callbacks.LearningRateScheduler(function(_, lr) return lr end)
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(m.fit, m, x, y, {verbose = 0, callbacks = {cb}})
    assert.is_false(ok)
    assert.truthy(err:find(("schedules_spec.lua:%d: LearningRateScheduler: the optimizer's learning_rate is a "
      .. "schedule (ExponentialDecay)"):format(line), 1, true), err)
    assert.equal(0, m.optimizer.iterations)
  end)
end)
