-- ProgbarLogger: fit's progress bar is this callback, first in the list, counting steps,
-- added when verbose is not 0 unless the callbacks hold one (then that one is the only
-- bar), with fit's verbosity. Output is captured off a terminal: verbose = 1 prints the
-- epoch's last bar line, verbose = 2 a one-line summary, 0 nothing.
local lurn = require "lurn"

-- Runs f with io.stdout and print captured: -> the lines written, f's result.
local function captured(f)
  local real_stdout, real_print, out = io.stdout, _G.print, {}
  io.stdout = {write = function(self, ...)
    for _, s in ipairs{...} do out[#out + 1] = tostring(s) end
    return self
  end, flush = function() end}
  _G.print = function(...) out[#out + 1] = table.concat({...}, "\t") .. "\n" end
  local ok, res = pcall(f)
  io.stdout, _G.print = real_stdout, real_print
  if not ok then error(res, 0) end
  local lines = {}
  for line in table.concat(out):gmatch("(.-)\n") do lines[#lines + 1] = line end
  return lines, res
end

-- 5 samples in batches of 2 (3 steps), with accuracy and validation.
local function fit(opts)
  local m = lurn.Sequential{lurn.layers.Dense(2, {input_shape = {3}, activation = "softmax"})}
  m:compile{optimizer = "sgd", loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
  local all = {batch_size = 2, validation_data = {lurn.zeros{2, 3}, lurn.tensor{0, 1}}}
  for k, v in pairs(opts) do all[k] = v end
  return captured(function() return m:fit(lurn.zeros{5, 3}, lurn.tensor{0, 1, 0, 1, 1}, all) end)
end

local BAR = "%[==============================%]"

describe("fit's progress bar (ProgbarLogger)", function()
  it("verbose = 1: Epoch e/n, then the bar line with the epoch's logs", function()
    local lines = fit{epochs = 2, verbose = 1}
    assert.equal(4, #lines)
    assert.same({"Epoch 1/2", "Epoch 2/2"}, {lines[1], lines[3]})
    for _, i in ipairs{2, 4} do
      assert.truthy(lines[i]:match("^3/3 " .. BAR .. " %- %d+m?s %d+[mu]?s/step %- loss: [%d.e-]+ %- accuracy: [%d.]+ "
        .. "%- val_loss: [%d.e-]+ %- val_accuracy: [%d.]+$"), lines[i])
    end
  end)

  it("verbose = 2: one line per epoch; verbose = 0: nothing", function()
    local lines = fit{epochs = 1, verbose = 2}
    assert.equal(2, #lines)
    assert.equal("Epoch 1/1", lines[1])
    assert.truthy(lines[2]:match("^3/3 %- %d+m?s %- %d+[mu]?s/step %- loss: "), lines[2])
    assert.same({}, (fit{epochs = 2, verbose = 0}))
  end)

  it("is first among the callbacks, and a given ProgbarLogger replaces it", function()
    local cb = lurn.callbacks.LambdaCallback{on_epoch_begin = function() print("callback") end}
    local lines = fit{epochs = 1, verbose = 1, callbacks = {cb}}
    assert.same({"Epoch 1/1", "callback"}, {lines[1], lines[2]})
    -- counting samples: 2, 4, 5 of 5; one bar only, in the place it was given
    local logger = lurn.callbacks.ProgbarLogger()
    lines = fit{epochs = 1, verbose = 1, callbacks = {cb, logger}}
    assert.equal(3, #lines)
    assert.same({"callback", "Epoch 1/1"}, {lines[1], lines[2]})
    assert.truthy(lines[3]:match("^5/5 " .. BAR .. " %- %d+m?s %d+[mu]?s/sample %- loss: "), lines[3])
    assert.equal(5, logger.seen)
    -- its verbosity is fit's
    assert.same({}, (fit{epochs = 1, verbose = 0, callbacks = {lurn.callbacks.ProgbarLogger()}}))
    lines = fit{epochs = 1, verbose = 1, callbacks = {lurn.callbacks.ProgbarLogger("steps")}}
    assert.truthy(lines[2]:match("^3/3 "), lines[2])
  end)

  it("a subclass of ProgbarLogger replaces fit's bar too", function()
    local Mine = setmetatable({}, {__index = lurn.callbacks.ProgbarLogger})
    Mine.__index = Mine
    local mine = setmetatable(lurn.callbacks.ProgbarLogger("steps"), Mine)
    local lines = fit{epochs = 1, verbose = 1, callbacks = {mine}}
    assert.equal(2, #lines)
  end)

  it("counts the seen samples batch by batch", function()
    local seen = {}
    local logger = lurn.callbacks.ProgbarLogger{count_mode = "samples"}
    local spy = lurn.callbacks.LambdaCallback{on_batch_end = function() seen[#seen + 1] = logger.seen end}
    fit{epochs = 1, verbose = 1, callbacks = {logger, spy}}
    assert.same({2, 4, 5}, seen)
    assert.equal(5, logger.target)
  end)

  it("fit gives callbacks Keras 2's params", function()
    local cb = lurn.callbacks.LambdaCallback{on_train_begin = function() end}
    fit{epochs = 3, verbose = 0, callbacks = {cb}}
    local params = cb.params
    assert.same({epochs = 3, steps = 3, verbose = 0, batch_size = 2, samples = 5, do_validation = true,
                 metrics = {"loss", "accuracy", "val_loss", "val_accuracy"}}, params)
  end)

  it("a generator without steps_per_epoch (or len) is an error before anything is printed", function()
    local m = lurn.Sequential{lurn.layers.Dense(1, {input_shape = {3}})}
    m:compile{optimizer = "sgd", loss = "mse"}
    local function gen() return lurn.zeros{4, 3}, lurn.zeros{4, 1} end
    local line = debug.getinfo(1, "l").currentline + 1
    local lines, res = captured(function() return {pcall(m.fit, m, gen, {epochs = 1})} end)
    assert.same({}, lines)
    assert.is_false(res[1])
    assert.equal(("%s:%d: fit (with a generator): steps_per_epoch must be a positive integer, got nil"):format(
      debug.getinfo(1, "S").short_src, line), res[2])
  end)

  it("refuses an unknown count_mode and Keras' stateful_metrics", function()
    assert.error_matches(function() lurn.callbacks.ProgbarLogger{count_mode = "batches"} end,
      "ProgbarLogger: count_mode must be 'samples' or 'steps', got batches")
    assert.error_matches(function() lurn.callbacks.ProgbarLogger{stateful_metrics = {"acc"}} end,
      "ProgbarLogger: option 'stateful_metrics' is not supported by lurn")
    assert.equal("samples", lurn.callbacks.ProgbarLogger().count_mode)
  end)
end)
