-- TerminateOnNaN and stop_training during an epoch, as Keras 2: the callback sets
-- model.stop_training after a batch whose loss is NaN or infinite, and fit ends the epoch
-- after any batch that leaves stop_training set. fit stops on a NaN loss by itself and
-- reports it once; with TerminateOnNaN the run is the same, with no second message.
local lurn = require "lurn"

-- Runs f with io.stderr and print captured: -> stderr text, printed text, f's result.
local function captured(f)
  local real_stderr, real_print, err, out = io.stderr, _G.print, {}, {}
  io.stderr = {write = function(self, ...)
    for _, s in ipairs{...} do err[#err + 1] = tostring(s) end
    return self
  end}
  _G.print = function(...) out[#out + 1] = table.concat({...}, "\t") end
  local ok, res = pcall(f)
  io.stderr, _G.print = real_stderr, real_print
  if not ok then error(res, 0) end
  return table.concat(err), table.concat(out, "\n"), res
end

local function count(text, pattern)
  local n = 0
  for _ in text:gmatch(pattern) do n = n + 1 end
  return n
end

describe("TerminateOnNaN", function()
  it("sets stop_training after a batch whose loss is NaN or infinite, not otherwise", function()
    local cb = lurn.callbacks.TerminateOnNaN()
    cb.model = {stop_training = false}
    cb:on_train_batch_end(0, {loss = 0.5})
    cb:on_train_batch_end(1, {})
    assert.is_false(cb.model.stop_training)
    cb:on_train_batch_end(2, {loss = 0 / 0})
    assert.is_true(cb.model.stop_training)
    cb.model.stop_training = false
    cb:on_train_batch_end(3, {loss = -math.huge})
    assert.is_true(cb.model.stop_training)
    assert.error_matches(function() lurn.callbacks.TerminateOnNaN{patience = 1} end,
      "TerminateOnNaN: unknown option 'patience' %(it takes no options%)")
  end)

  it("in fit: stops at the same batch as fit alone, with fit's one message", function()
    local function run(callbacks)
      lurn.manual_seed(7)
      local x, y = lurn.randn{64, 3}, lurn.randn{64, 2}
      local m = lurn.Sequential{lurn.layers.Dense(2, {input_shape = {3}})}
      m:compile{optimizer = lurn.optimizers.SGD{learning_rate = 1e30}, loss = "mse"}
      local batches = 0
      table.insert(callbacks, lurn.callbacks.LambdaCallback{on_batch_end = function() batches = batches + 1 end})
      local err, out, h = captured(function()
        return m:fit(x, y, {epochs = 3, batch_size = 8, verbose = 0, shuffle = false, callbacks = callbacks})
      end)
      return err, out, h, batches, m
    end
    local err0, _, h0, batches0 = run({})
    local err, out, h, batches, m = run({lurn.callbacks.TerminateOnNaN()})
    assert.equal(1, count(err, "loss became NaN or infinite"))
    assert.equal(err0, err)
    assert.equal("", out)
    assert.same(h0.nan, h.nan)
    assert.equal(h.nan.batch + 1, batches)  -- no batch after the NaN one
    assert.equal(batches0, batches)
    assert.equal(1, #h.history.loss)
    assert.is_true(m.stop_training)
  end)
end)

describe("stop_training set during an epoch", function()
  it("ends the epoch after that batch; validation and on_epoch_end still run, as Keras 2", function()
    local m = lurn.Sequential{lurn.layers.Dense(1, {input_shape = {2}})}
    m:compile{optimizer = "sgd", loss = "mse"}
    local batches, epochs_ended = 0, 0
    local stopper = lurn.callbacks.LambdaCallback{
      on_batch_end = function(batch)
        batches = batches + 1
        if batch == 1 then m.stop_training = true end
      end,
      on_epoch_end = function() epochs_ended = epochs_ended + 1 end,
    }
    local h = m:fit(lurn.zeros{10, 2}, lurn.zeros{10, 1}, {epochs = 3, batch_size = 2, verbose = 0,
                                                          validation_data = {lurn.zeros{4, 2}, lurn.zeros{4, 1}},
                                                          callbacks = {stopper}})
    assert.equal(2, batches)  -- batches 0 and 1 of 5
    assert.equal(1, epochs_ended)
    assert.equal(2, m.optimizer.iterations)
    assert.same({0}, h.epoch)
    assert.equal(1, #h.history.val_loss)
    assert.is_nil(h.nan)
  end)
end)
