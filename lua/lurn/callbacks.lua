--- Callbacks as in Keras: objects with optional methods on_train_begin(logs),
-- on_train_end(logs), on_epoch_begin(epoch, logs), on_epoch_end(epoch, logs),
-- on_train_batch_begin(batch, logs), on_train_batch_end(batch, logs). `self.model` is set
-- before training starts; setting `model.stop_training = true` ends training after the
-- current epoch. Epochs and batches are numbered from 0 as in Keras.
local class = require "lurn.class"

local callbacks = {}

local Callback = class()
callbacks.Callback = Callback

function Callback.new(methods)
  return setmetatable(methods or {}, Callback)
end

--- LambdaCallback{on_epoch_end = function(epoch, logs) ... end, ...}
function callbacks.LambdaCallback(fns)
  local cb = Callback.new()
  for k, fn in pairs(fns or {}) do
    cb[k] = function(_, ...) return fn(...) end
  end
  return cb
end

--- History: filled by fit; history.history.loss[e], history.epoch = {0, 1, ...}.
local History = class(Callback)
callbacks.History = History

function History.new()
  return setmetatable({history = {}, epoch = {}}, History)
end

function History:on_epoch_end(epoch, logs)
  self.epoch[#self.epoch + 1] = epoch
  for k, v in pairs(logs or {}) do
    self.history[k] = self.history[k] or {}
    local list = self.history[k]
    list[#list + 1] = v
  end
end

--- EarlyStopping{monitor = "val_loss", min_delta = 0, patience = 0, mode = "auto",
-- baseline = nil, restore_best_weights = false, start_from_epoch = 0}
local EarlyStopping = class(Callback)
callbacks.EarlyStopping = EarlyStopping

function EarlyStopping.new(opts)
  opts = opts or {}
  local self = setmetatable({
    monitor = opts.monitor or "val_loss",
    min_delta = math.abs(opts.min_delta or 0),
    patience = opts.patience or 0,
    baseline = opts.baseline,
    restore_best_weights = opts.restore_best_weights or false,
    start_from_epoch = opts.start_from_epoch or 0,
    verbose = opts.verbose or 0,
    stopped_epoch = 0,
  }, EarlyStopping)
  local mode = opts.mode or "auto"
  if mode == "auto" then
    local m = self.monitor
    mode = (m:find("acc") or m:find("auc") or m:find("precision") or m:find("recall")) and "max" or "min"
  end
  if mode ~= "min" and mode ~= "max" then error("EarlyStopping: mode must be 'auto', 'min' or 'max'", 2) end
  self.mode = mode
  return self
end
setmetatable(EarlyStopping, {__index = Callback, __call = function(_, opts) return EarlyStopping.new(opts) end})

function EarlyStopping:_improved(value, reference)
  if reference == nil then return true end
  if self.mode == "min" then return value < reference - self.min_delta end
  return value > reference + self.min_delta
end

function EarlyStopping:on_train_begin()
  self.wait, self.stopped_epoch, self.best, self.best_weights, self.best_epoch = 0, 0, nil, nil, 0
end

function EarlyStopping:on_epoch_end(epoch, logs)
  local value = logs[self.monitor]
  if value == nil then
    local keys = {}
    for k in pairs(logs) do keys[#keys + 1] = k end
    table.sort(keys)
    io.stderr:write(("EarlyStopping: metric '%s' is not available (available: %s)\n"):format(
      self.monitor, table.concat(keys, ", ")))
    return
  end
  if epoch < self.start_from_epoch then return end
  if self.restore_best_weights and self.best_weights == nil then self.best_weights = self.model:get_weights() end
  self.wait = self.wait + 1
  if self:_improved(value, self.best) then
    self.best, self.best_epoch = value, epoch
    if self.restore_best_weights then self.best_weights = self.model:get_weights() end
    if self.baseline == nil or self:_improved(value, self.baseline) then self.wait = 0 end
  end
  if self.wait >= self.patience and epoch > 0 then
    self.stopped_epoch = epoch
    self.model.stop_training = true
    if self.restore_best_weights and self.best_weights then
      if self.verbose > 0 then print(("Restoring model weights from the end of the best epoch: %d."):format(self.best_epoch + 1)) end
      self.model:set_weights(self.best_weights)
    end
  end
end

function EarlyStopping:on_train_end()
  if self.stopped_epoch > 0 and self.verbose > 0 then
    print(("Epoch %d: early stopping"):format(self.stopped_epoch + 1))
  end
end

--- LearningRateScheduler(schedule): schedule(epoch, lr) -> new lr, set before each epoch.
function callbacks.LearningRateScheduler(schedule, opts)
  if type(schedule) ~= "function" then error("LearningRateScheduler: schedule must be a function(epoch, lr)", 2) end
  local verbose = (opts or {}).verbose or 0
  local cb = Callback.new()
  function cb:on_epoch_begin(epoch)
    local lr = schedule(epoch, self.model.optimizer.learning_rate)
    if type(lr) ~= "number" then error("LearningRateScheduler: the schedule must return a number", 0) end
    self.model.optimizer.learning_rate = lr
    if verbose > 0 then print(("Epoch %d: LearningRateScheduler setting learning rate to %g."):format(epoch + 1, lr)) end
  end
  function cb:on_epoch_end(_, logs) logs.learning_rate = self.model.optimizer.learning_rate end
  return cb
end

return callbacks
