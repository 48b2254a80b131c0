-- ReduceLROnPlateau against Keras 2's rules (tf.keras 2.x callbacks.py), each sequence
-- worked by hand here. Per epoch end, with `current` the monitored value:
--   logs.lr = the epoch's rate
--   if cooldown_counter > 0: cooldown_counter -= 1; wait = 0
--   if improved(current, best): best = current; wait = 0
--     (min: current < best - min_delta; max: current > best + min_delta)
--   elif cooldown_counter == 0: wait += 1
--     if wait >= patience and rate > float32(min_lr):
--       rate = max(rate * factor, min_lr); cooldown_counter = cooldown; wait = 0
-- mode "auto": max if the monitored name contains "acc", else min.
-- The values are binary fractions, so that the boundaries (current == best - min_delta)
-- are exact. The callback runs inside fit: a LambdaCallback before it puts the value of
-- the epoch into the logs, as validation would.
local lurn = require "lurn"

-- x as float32, as the optimizer keeps its rate.
local function f32(x) return (string.unpack("f", string.pack("f", x))) end

local function model_with_rate(rate)
  local m = lurn.Sequential{lurn.layers.Dense(1, {input_shape = {2}})}
  m:compile{optimizer = lurn.optimizers.SGD{learning_rate = rate}, loss = "mse"}
  return m
end

-- Fits len(values) epochs with `values[e + 1]` as logs[monitor] at epoch e; returns the
-- rate logged each epoch (logs.lr, also in the history), the rate after each epoch, the
-- callback and the history.
local function run(values, opts, monitor, lr0)
  local m = model_with_rate(lr0 or 1.0)
  monitor = monitor or "val_loss"
  local cb = lurn.callbacks.ReduceLROnPlateau(opts)
  local after = {}
  local inject = lurn.callbacks.LambdaCallback{
    on_epoch_end = function(epoch, logs) logs[monitor] = values[epoch + 1] end}
  local record = lurn.callbacks.LambdaCallback{
    on_epoch_end = function() after[#after + 1] = m.optimizer.learning_rate end}
  local h = m:fit(lurn.zeros{4, 2}, lurn.zeros{4, 1}, {epochs = #values, batch_size = 4, verbose = 0,
                                                      callbacks = {inject, cb, record}})
  return h.history.lr, after, cb, h
end

describe("ReduceLROnPlateau", function()
  it("has Keras' defaults", function()
    local cb = lurn.callbacks.ReduceLROnPlateau()
    assert.same({"val_loss", 0.1, 10, 0, "auto", 1e-4, 0, 0},
      {cb.monitor, cb.factor, cb.patience, cb.verbose, cb.mode, cb.min_delta, cb.cooldown, cb.min_lr})
  end)

  it("reduces after patience epochs without an improvement larger than min_delta", function()
    -- patience 2, factor 0.5, min_delta 0.125, rate 1:
    -- e0 1.0: improved (best 1.0)     e1 0.875: not < 0.875, wait 1   e2 0.9: wait 2 -> rate 0.5
    -- e3 0.75: < 0.875, best 0.75     e4 0.6875: not < 0.625, wait 1  e5: wait 2 -> rate 0.25
    -- e6 0.6875: wait 1               e7: wait 2 -> rate 0.125
    local logged, after = run({1.0, 0.875, 0.9, 0.75, 0.6875, 0.6875, 0.6875, 0.6875},
                              {patience = 2, factor = 0.5, min_delta = 0.125})
    assert.same({1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25}, logged)  -- the rate during each epoch
    assert.same({1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.125}, after)
  end)

  it("patience = 0 reduces at every epoch without improvement, and an improvement restarts the wait", function()
    -- e0 improves; e1, e2 do not -> reduce each; e3 improves (0.5 < 1 - 1e-4): no reduction
    local _, after = run({1, 1, 1, 0.5, 0.5}, {patience = 0, factor = 0.5})
    assert.same({1, 0.5, 0.25, 0.25, 0.125}, after)
    -- patience 1: e1 reduces; e2 (0.5) improves and restarts the wait, e3 reduces again
    _, after = run({1, 1, 0.5, 0.5}, {patience = 1, factor = 0.5})
    assert.same({1, 0.5, 0.5, 0.25}, after)
  end)

  it("waits cooldown epochs after a reduction, the wait held at 0 meanwhile", function()
    -- patience 1, cooldown 2, min_delta 0, values constant:
    -- e0: best 1. e1: wait 1 -> rate 0.5, counter 2. e2: counter 1, in cooldown: nothing.
    -- e3: counter 0, wait 1 -> rate 0.25, counter 2. e4: counter 1. e5: counter 0 -> 0.125.
    local logged, after, cb = run({1, 1, 1, 1, 1, 1}, {patience = 1, cooldown = 2, factor = 0.5, min_delta = 0})
    assert.same({1, 1, 0.5, 0.5, 0.25, 0.25}, logged)
    assert.same({1, 0.5, 0.5, 0.25, 0.25, 0.125}, after)
    assert.equal(2, cb.cooldown_counter)
    assert.equal(0, cb.wait)
    -- cooldown 1 with patience 2: e1 wait 1, e2 wait 2 -> 0.5 (counter 1); e3 counter 0 and
    -- wait 0, then wait 1; e4 wait 2 -> 0.25
    _, after = run({1, 1, 1, 1, 1}, {patience = 2, cooldown = 1, factor = 0.5, min_delta = 0})
    assert.same({1, 1, 0.5, 0.5, 0.25}, after)
  end)

  it("an improvement during cooldown becomes the best", function()
    -- patience 1, cooldown 2: e1 reduces (counter 2); e2 0.5 improves during cooldown
    -- (best 0.5); e3: counter 1 -> 0, then 0.5 is no improvement: wait 1 -> reduce
    local _, after, cb = run({1, 1, 0.5, 0.5}, {patience = 1, cooldown = 2, factor = 0.5, min_delta = 0})
    assert.same({1, 0.5, 0.5, 0.25}, after)
    assert.equal(0.5, cb.best)
  end)

  it("never goes below min_lr, and stops reducing at it", function()
    -- rate 1, factor 0.1, min_lr 0.05, patience 0: 0.1, then max(0.01, 0.05) = 0.05, then
    -- float32(0.05) is not above float32(min_lr): no change
    local _, after, cb = run({1, 1, 1, 1}, {patience = 0, min_lr = 0.05})
    assert.same({1, f32(0.1), f32(0.05), f32(0.05)}, after)
    assert.equal(1, cb.wait)  -- e3 reduced nothing: no restart of the wait
    assert.equal(0, cb.cooldown_counter)
  end)

  it("mode auto is max for a name containing 'acc', min otherwise (Keras 2's rule)", function()
    -- val_accuracy 0.5, 0.625, 0.625, patience 1, min_delta 0: max mode improves at e1 and
    -- reduces at e2; min mode would reduce at e1 already
    local _, after, cb = run({0.5, 0.625, 0.625}, {monitor = "val_accuracy", patience = 1, factor = 0.5, min_delta = 0},
                             "val_accuracy")
    assert.equal("max", cb.monitor_mode)
    assert.same({1, 1, 0.5}, after)
    _, after = run({0.5, 0.625, 0.625}, {monitor = "val_accuracy", mode = "min", patience = 1, factor = 0.5,
                                         min_delta = 0}, "val_accuracy")
    assert.same({1, 0.5, 0.25}, after)
    -- Keras 2 looks for "acc" only: val_auc is minimized unless mode = "max"
    assert.equal("min", lurn.callbacks.ReduceLROnPlateau{monitor = "val_auc"}.monitor_mode)
    _, after = run({0.5, 0.625, 0.625}, {monitor = "val_auc", mode = "max", patience = 1, factor = 0.5, min_delta = 0},
                   "val_auc")
    assert.same({1, 1, 0.5}, after)
  end)

  it("max mode needs an increase larger than min_delta", function()
    -- min_delta 0.125: e1 0.625 is not > 0.5 + 0.125 -> wait 1 -> reduce (patience 1);
    -- e2 0.75 > 0.625 improves
    local _, after = run({0.5, 0.625, 0.75}, {monitor = "acc", patience = 1, factor = 0.5, min_delta = 0.125}, "acc")
    assert.same({1, 0.5, 0.5}, after)
  end)

  it("warns and skips an epoch whose logs lack the monitored key, still logging lr", function()
    local m = model_with_rate(1.0)
    local cb = lurn.callbacks.ReduceLROnPlateau{monitor = "val_loss", patience = 0}
    local text = {}
    local real = io.stderr
    io.stderr = {write = function(self, ...)
      for _, s in ipairs{...} do text[#text + 1] = tostring(s) end
      return self
    end}
    local ok, h = pcall(m.fit, m, lurn.zeros{4, 2}, lurn.zeros{4, 1}, {epochs = 3, verbose = 0, callbacks = {cb}})
    io.stderr = real
    assert(ok, h)
    text = table.concat(text)
    assert.truthy(text:find("metric 'val_loss' which is not available (available: loss, lr)", 1, true), text)
    assert.same({1, 1, 1}, h.history.lr)
    assert.equal(1, m.optimizer.learning_rate)
    assert.equal(0, cb.wait)
  end)

  it("starts afresh at each fit (Keras' _reset in on_train_begin)", function()
    local m = model_with_rate(1.0)
    local cb = lurn.callbacks.ReduceLROnPlateau{patience = 1, factor = 0.5, min_delta = 0}
    local function fit_with(values)
      local inject = lurn.callbacks.LambdaCallback{on_epoch_end = function(e, logs) logs.val_loss = values[e + 1] end}
      m:fit(lurn.zeros{4, 2}, lurn.zeros{4, 1}, {epochs = #values, verbose = 0, callbacks = {inject, cb}})
    end
    fit_with({1, 1})  -- reduces at e1: 0.5
    assert.equal(0.5, m.optimizer.learning_rate)
    -- a new fit: best is inf again, so 2.0 is an improvement, and 2.0 again reduces
    fit_with({2, 2})
    assert.equal(0.25, m.optimizer.learning_rate)
  end)

  it("prints Keras' message with verbose = 1", function()
    local lines = {}
    local saved = _G.print
    _G.print = function(s) lines[#lines + 1] = s end
    local ok, err = pcall(run, {1, 1}, {patience = 0, factor = 0.5, verbose = 1})
    _G.print = saved
    assert(ok, err)
    assert.same({"Epoch 2: ReduceLROnPlateau reducing learning rate to 0.5."}, lines)
  end)

  it("refuses bad options at the caller's line, and an optimizer whose rate is a schedule", function()
    local R = lurn.callbacks.ReduceLROnPlateau
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(R, {factor = 1.0})
    assert.is_false(ok)
    assert.truthy(err:find(("reduce_lr_on_plateau_spec.lua:%d: ReduceLROnPlateau: factor must be a number in [0, 1)")
      :format(line), 1, true), err)
    assert.error_matches(function() R{patience = 1.5} end, "patience must be a whole number >= 0, got 1.5")
    assert.error_matches(function() R{cooldown = -1} end, "cooldown must be a whole number >= 0, got %-1")
    assert.error_matches(function() R{mode = "up"} end, "mode must be 'auto', 'min' or 'max', got up")
    assert.error_matches(function() R{min_lr = -1} end, "min_lr must be a number >= 0")
    assert.error_matches(function() R{min_delta = 0 / 0} end, "min_delta must be a finite number")
    assert.error_matches(function() R{monitor = 1} end, "monitor must be a log key")
    assert.error_matches(function() R{epsilon = 1e-3} end, "epsilon is Keras' old name of min_delta")
    assert.error_matches(function() R{patiense = 3} end, "ReduceLROnPlateau: unknown option 'patiense'")
    local m = lurn.Sequential{lurn.layers.Dense(1, {input_shape = {2}})}
    m:compile{optimizer = lurn.optimizers.SGD{learning_rate = lurn.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)},
              loss = "mse"}
    assert.error_matches(function()
      m:fit(lurn.zeros{4, 2}, lurn.zeros{4, 1}, {verbose = 0, callbacks = {R()}})
    end, "ReduceLROnPlateau: the optimizer's learning_rate is a schedule %(ExponentialDecay%)")
    assert.equal(0, m.optimizer.iterations)  -- refused before any update
  end)
end)
