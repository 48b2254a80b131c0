-- The hooks of ReduceLROnPlateau, TerminateOnNaN, CSVLogger and ProgbarLogger called by
-- hand (fit always passes a whole number and a table, and sets cb.model): a wrong argument
-- is an error naming the hook and what it expected, at the caller's line.
local lurn = require "lurn"
local C = lurn.callbacks

local SOURCE = debug.getinfo(1, "S").short_src

-- Asserts that fn() fails with "SOURCE:line: text..." where line is fn's own (a function
-- written on one line, which calls the hook).
local function fails_here(text, fn)
  local line = debug.getinfo(fn, "S").linedefined
  local ok, err = pcall(fn)
  assert.is_false(ok)
  local prefix = ("%s:%d: %s"):format(SOURCE, line, text)
  assert.equal(prefix, tostring(err):sub(1, #prefix))
end

describe("callback hooks called by hand", function()
  it("name a missing model, a logs that is not a table, an epoch that is not a number", function()
    local reduce = C.ReduceLROnPlateau()
    fails_here("ReduceLROnPlateau:on_epoch_end: the callback has no compiled model",
      function() reduce:on_epoch_end(0, {val_loss = 1}) end)
    fails_here("ReduceLROnPlateau:on_train_begin: the callback has no compiled model",
      function() reduce:on_train_begin() end)
    local csv = C.CSVLogger("unused.csv")
    fails_here("CSVLogger:on_epoch_end: logs must be a table, got number",
      function() csv:on_epoch_end(0, 5) end)
    local nan = C.TerminateOnNaN()
    fails_here("TerminateOnNaN:on_batch_end: logs must be a table, got function",
      function() nan:on_train_batch_end(0, print) end)
    fails_here("TerminateOnNaN:on_batch_end: the callback has no model",
      function() nan:on_train_batch_end(0, {loss = 0 / 0}) end)
    local bar = C.ProgbarLogger()
    fails_here("ProgbarLogger:on_epoch_begin: expected a whole number (the epoch or batch), got nil",
      function() bar:on_epoch_begin() end)
    fails_here("ProgbarLogger:on_train_batch_end: expected a whole number (the epoch or batch), got x",
      function() bar:on_train_batch_end("x", {}) end)
  end)

  it("fit refuses callbacks that are not a list of tables, naming the position", function()
    local m = lurn.Sequential{lurn.layers.Dense(1, {input_shape = {2}})}
    m:compile{optimizer = "sgd", loss = "mse"}
    local x, y = lurn.zeros{4, 2}, lurn.zeros{4, 1}
    fails_here("fit: callbacks[2] must be a callback (a table with methods such as on_epoch_end), got number",
      function() m:fit(x, y, {verbose = 0, callbacks = {C.TerminateOnNaN(), 1}}) end)
    fails_here("fit: callbacks must be a list of callbacks, got string",
      function() m:fit(x, y, {verbose = 0, callbacks = "csv"}) end)
    assert.equal(0, m.optimizer.iterations)
  end)

  it("a ProgbarLogger without fit's params counts steps and shows the numbers in the logs", function()
    local lines = {}
    local real_stdout, real_print = io.stdout, _G.print
    io.stdout = {write = function(self, ...)
      for _, s in ipairs{...} do lines[#lines + 1] = tostring(s) end
      return self
    end, flush = function() end}
    _G.print = function(s) lines[#lines + 1] = s .. "\n" end
    local ok, err = pcall(function()
      local bar = C.ProgbarLogger()
      bar:on_epoch_begin(0)
      bar:on_train_batch_end(0, {loss = 0.5, note = "text"})
      bar:on_epoch_end(0, {loss = 0.5, note = "text"})
    end)
    io.stdout, _G.print = real_stdout, real_print
    assert(ok, err)
    local text = table.concat(lines)
    assert.truthy(text:find("^Epoch 1/1\n1/1 %[=+%] %- %d+m?s %d+[mu]?s/step %- loss: 0%.5000\n$"), text)
  end)
end)
