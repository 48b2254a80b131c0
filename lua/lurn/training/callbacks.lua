--- Callbacks as in Keras: objects with optional methods on_train_begin(logs),
-- on_train_end(logs), on_epoch_begin(epoch, logs), on_epoch_end(epoch, logs),
-- on_train_batch_begin(batch, logs), on_train_batch_end(batch, logs). `self.model` is set
-- before training starts; setting `model.stop_training = true` ends training after the
-- current epoch. Epochs and batches are numbered from 0 as in Keras. on_batch_begin and
-- on_batch_end are Keras' older names of the train-batch methods. A method fit never
-- calls (Keras' on_test_* and on_predict_*: evaluate and predict take no callbacks) is
-- refused rather than silently never run. Constructor errors point at the caller's line.
local class = require "lurn.class"
local options = require "lurn.options"
local at_user_line = require "lurn.at_user_line"
local layer_stats = require "lurn.training.layer_stats"
local auto_mode = require("lurn.training.monitor").auto_mode
local Progbar = require "lurn.training.progbar"
local data_parallel = require "lurn.training.data_parallel"

local callbacks = {}

local Callback = class()
callbacks.Callback = Callback

-- In a data-parallel fit rank 0 alone prints and writes files: the callbacks that only
-- print or write (_main_only: the progress bar, checkpoints, CSV logs, LayerStats) run on
-- rank 0 alone, the others everywhere, saying what they do on rank 0 only.
local function say(cb, text)
  if data_parallel.is_main(cb.model) then print(text) end
end
local function warn(cb, text)
  if data_parallel.is_main(cb.model) then io.stderr:write(text) end
end

-- The methods fit calls, and Keras' others.
local HOOKS = {"on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
               "on_train_batch_end", "on_batch_begin", "on_batch_end"}
local OTHER_HOOKS = {"on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end", "on_predict_begin",
                     "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end"}

function Callback:on_train_batch_begin(batch, logs)
  if self.on_batch_begin then return self:on_batch_begin(batch, logs) end
end

function Callback:on_train_batch_end(batch, logs)
  if self.on_batch_end then return self:on_batch_end(batch, logs) end
end

--- Callback.new{on_epoch_end = function(self, epoch, logs) ... end, state = ...}: a
-- callback with these methods; keys beginning with "on_" must be methods fit calls.
function Callback.new(methods)
  if methods ~= nil and type(methods) ~= "table" then
    error(("Callback: expected a table of methods, got %s"):format(type(methods)), 2)
  end
  local hooks = {}
  for k in pairs(methods or {}) do
    if type(k) == "string" and k:sub(1, 3) == "on_" then hooks[k] = true end
  end
  options.check(hooks, HOOKS, "Callback", 2, {unsupported = OTHER_HOOKS})
  return setmetatable(methods or {}, Callback)
end

--- LambdaCallback{on_epoch_end = function(epoch, logs) ... end, ...}
function callbacks.LambdaCallback(fns)
  options.check(fns, HOOKS, "LambdaCallback", 2, {unsupported = OTHER_HOOKS})
  local cb = Callback.new()
  for k, fn in pairs(fns or {}) do
    if type(fn) ~= "function" and not (getmetatable(fn) or {}).__call then
      error(("LambdaCallback: %s must be a function, got %s"):format(k, type(fn)), 2)
    end
    cb[k] = function(_, ...) return fn(...) end
  end
  return cb
end

--- History: filled by fit; history.history.loss[e], history.epoch = {0, 1, ...}.
local History = class(Callback)
callbacks.History = History

function History.new(opts)
  options.check(opts, {}, "History", 2)
  return setmetatable({history = {}, epoch = {}}, History)
end
setmetatable(History, {__index = Callback, __call = function(_, opts) return History.new(opts) end})

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

local EARLY_STOPPING_OPTIONS = {"monitor", "min_delta", "patience", "verbose", "mode", "baseline",
                                "restore_best_weights", "start_from_epoch"}

function EarlyStopping.new(opts)
  options.check(opts, EARLY_STOPPING_OPTIONS, "EarlyStopping", 2)
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
  if mode == "auto" then mode = auto_mode(self.monitor) end
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

--- Its counters, for BackupAndRestore (its settings stay the ones it was made with). With
-- restore_best_weights the best weights are not kept, so a restored run starts its watch
-- afresh rather than restore weights that were never the best.
function EarlyStopping:get_state()
  if self.restore_best_weights then return {} end
  return {wait = self.wait, best = self.best, best_epoch = self.best_epoch, stopped_epoch = self.stopped_epoch}
end

function EarlyStopping:set_state(state)
  self.wait, self.best = state.wait or self.wait, state.best
  self.best_epoch, self.stopped_epoch = state.best_epoch or self.best_epoch, state.stopped_epoch or self.stopped_epoch
end

function EarlyStopping:on_epoch_end(epoch, logs)
  local value = logs[self.monitor]
  if value == nil then
    local keys = {}
    for k in pairs(logs) do keys[#keys + 1] = k end
    table.sort(keys)
    warn(self, ("EarlyStopping: metric '%s' is not available (available: %s)\n"):format(
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
      if self.verbose > 0 then say(self, ("Restoring model weights from the end of the best epoch: %d."):format(self.best_epoch + 1)) end
      self.model:set_weights(self.best_weights)
    end
  end
end

function EarlyStopping:on_train_end()
  if self.stopped_epoch > 0 and self.verbose > 0 then
    say(self, ("Epoch %d: early stopping"):format(self.stopped_epoch + 1))
  end
end

-- The error of a callback that sets the rate when the optimizer's rate is a schedule:
-- Keras 2 lets the schedule silently overwrite it at the next update; lurn refuses.
local function refuse_schedule(who, model)
  local schedule = model and model.optimizer and model.optimizer._schedule
  if schedule then
    error(("%s: the optimizer's learning_rate is a schedule (%s), which sets the rate before every update and "
      .. "would undo this callback's changes; give the optimizer a number as learning_rate, or drop the "
      .. "callback"):format(who, schedule.class_name), 0)
  end
end

--- LearningRateScheduler(schedule): schedule(epoch, lr) -> new lr, set before each epoch.
function callbacks.LearningRateScheduler(schedule, opts)
  if type(schedule) == "table" and opts == nil then schedule, opts = schedule.schedule, schedule end
  if type(opts) == "number" then opts = {verbose = opts} end  -- Keras: LearningRateScheduler(schedule, 1)
  options.check(opts, {"schedule", "verbose"}, "LearningRateScheduler", 2)
  if type(schedule) ~= "function" then error("LearningRateScheduler: schedule must be a function(epoch, lr)", 2) end
  local verbose = (opts or {}).verbose or 0
  local cb = Callback.new()
  function cb:on_train_begin() refuse_schedule("LearningRateScheduler", self.model) end
  function cb:on_epoch_begin(epoch)
    refuse_schedule("LearningRateScheduler", self.model)
    local lr = schedule(epoch, self.model.optimizer.learning_rate)
    if type(lr) ~= "number" then error("LearningRateScheduler: the schedule must return a number", 0) end
    self.model.optimizer.learning_rate = lr
    if verbose > 0 then say(self, ("Epoch %d: LearningRateScheduler setting learning rate to %g."):format(epoch + 1, lr)) end
  end
  -- Keras 2 logs the rate as "lr" (Keras 3 renamed it learning_rate)
  function cb:on_epoch_end(_, logs) logs.lr = self.model.optimizer.learning_rate end
  return cb
end

--- LayerStats{every = 100, file = nil}: during fit, records each layer's statistics (the
-- rows of model:layer_stats, with epoch and batch added, both 0-based) every `every`
-- batches and for the last batch of each epoch, in cb.records, and streams them to the
-- CSV file `file` if given. A recorded batch is taken from that training step itself (its
-- forward, raw gradients and update), before validation runs; other batches pay nothing.
local LayerStats = class(Callback)
callbacks.LayerStats = LayerStats
LayerStats._main_only = true

function LayerStats.new(opts)
  options.check(opts, {"every", "file"}, "LayerStats", 2)
  opts = opts or {}
  local every = opts.every == nil and 100 or opts.every
  if math.type(every) ~= "integer" or every < 1 then
    error(("LayerStats: every must be a positive integer (batches), got %s"):format(tostring(every)), 2)
  end
  if opts.file ~= nil and type(opts.file) ~= "string" then
    error(("LayerStats: file must be a path (a string), got %s"):format(type(opts.file)), 2)
  end
  return setmetatable({every = every, file = opts.file, records = setmetatable({}, layer_stats.ROWS)}, LayerStats)
end
setmetatable(LayerStats, {__index = Callback, __call = function(_, opts) return LayerStats.new(opts) end})

local CSV_COLUMNS = {"epoch", "batch", "name", "type", table.unpack(layer_stats.FIELDS)}

-- A CSV field: numbers in full (%.17g), text quoted when it must be (RFC 4180); nil empty.
local function csv_field(v)
  if v == nil then return "" end
  if math.type(v) == "float" then return ("%.17g"):format(v) end
  v = tostring(v)
  if v:find('[",\r\n]') then v = '"' .. v:gsub('"', '""') .. '"' end
  return v
end

function LayerStats:_records_batch(batch)
  local steps = self.params and self.params.steps
  return (batch + 1) % self.every == 0 or (steps ~= nil and batch == steps - 1)
end

function LayerStats:on_train_begin()
  self.records = setmetatable({}, layer_stats.ROWS)
  if self._out then self._out:close() end  -- left open by a fit that failed
  self._out = nil
  if self.file then
    local f, err = io.open(self.file, "w")
    if not f then error("LayerStats: cannot write " .. err, 0) end  -- err names the file and the cause
    f:write(table.concat(CSV_COLUMNS, ","), "\n")
    self._out = f
  end
end

function LayerStats:on_epoch_begin(epoch) self._epoch = epoch end

function LayerStats:on_train_batch_begin(batch)
  self._recording = self:_records_batch(batch) and self.model._core ~= nil
  if self._recording then self.model._core:record_stats(true) end
end

function LayerStats:on_train_batch_end(batch)
  if not self._recording then return end
  self._recording = false
  self.model._core:record_stats(false)
  for _, row in ipairs(layer_stats.rows(self.model)) do
    row.epoch, row.batch = self._epoch or 0, batch
    self.records[#self.records + 1] = row
    if self._out then
      local fields = {}
      for i, key in ipairs(CSV_COLUMNS) do fields[i] = csv_field(row[key]) end
      self._out:write(table.concat(fields, ","), "\n")
    end
  end
  if self._out then self._out:flush() end
end

function LayerStats:on_train_end()
  if self.model and self.model._core then self.model._core:record_stats(false) end
  if self._out then
    self._out:close()
    self._out = nil
  end
end

-- A whole number >= 0 (patience, cooldown), or an error naming the option.
local function count(where, key, v)
  if type(v) ~= "number" or v < 0 or v ~= math.floor(v) or v == math.huge then
    error(("%s: %s must be a whole number >= 0, got %s"):format(where, key, tostring(v)), 3)
  end
  return math.tointeger(v)
end

local function finite(v) return type(v) == "number" and v == v and v > -math.huge and v < math.huge end

-- x rounded to float32, as the optimizer keeps its learning rate.
local function f32(x) return (string.unpack("f", string.pack("f", x))) end

-- A number as Python's repr writes a float (the shortest text that reads back the same,
-- "1.0" for a whole number, "nan", "inf"): Keras' messages and CSV files show them so.
local function python_float(v)
  if v ~= v then return "nan" end
  if v == math.huge then return "inf" end
  if v == -math.huge then return "-inf" end
  local text
  for digits = 1, 17 do
    text = ("%." .. digits .. "g"):format(v)
    if tonumber(text) == v then break end
  end
  if not text:find("[.e]") then text = text .. ".0" end
  return text
end

-- The arguments of a hook, checked: fit passes a whole number (index; false for the hooks
-- without one) and a table and has set cb.model, but a hook may also be called by hand.
-- -> logs (a table).
local function hook_args(self, who, index, logs, needs_model)
  if index ~= false and not (type(index) == "number" and index == math.floor(index)) then
    error(("%s: expected a whole number (the epoch or batch), got %s"):format(who, tostring(index)), 3)
  end
  if logs ~= nil and type(logs) ~= "table" then
    error(("%s: logs must be a table, got %s"):format(who, type(logs)), 3)
  end
  if needs_model and (type(self.model) ~= "table" or self.model.optimizer == nil) then
    error(("%s: the callback has no compiled model (fit sets cb.model)"):format(who), 3)
  end
  return logs or {}
end

-- The sorted keys of logs, for messages.
local function sorted_keys(logs)
  local keys = {}
  for k in pairs(logs or {}) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  return keys
end

--- ReduceLROnPlateau{monitor = "val_loss", factor = 0.1, patience = 10, verbose = 0, mode =
-- "auto", min_delta = 1e-4, cooldown = 0, min_lr = 0}: Keras 2's. At each epoch's end it
-- logs the rate of that epoch as "lr", then: during cooldown the counter goes down and the
-- wait restarts at 0; a value better than the best by more than min_delta (min mode:
-- current < best - min_delta; max mode: current > best + min_delta) becomes the best and
-- restarts the wait; otherwise, out of cooldown, the wait grows, and when it reaches
-- patience the rate becomes max(rate * factor, min_lr) (if the rate is above min_lr),
-- cooldown starts and the wait restarts. mode "auto" is max when the monitored name
-- contains "acc", else min (Keras 2's rule: give mode = "max" for auc, precision,
-- recall). A missing monitored key is a warning on stderr, and the epoch is skipped.
local ReduceLROnPlateau = class(Callback)
callbacks.ReduceLROnPlateau = ReduceLROnPlateau

local REDUCE_OPTIONS = {"monitor", "factor", "patience", "verbose", "mode", "min_delta", "cooldown", "min_lr"}

function ReduceLROnPlateau.new(opts)
  if type(opts) == "table" and opts.epsilon ~= nil then
    error("ReduceLROnPlateau: epsilon is Keras' old name of min_delta: give min_delta", 2)
  end
  options.check(opts, REDUCE_OPTIONS, "ReduceLROnPlateau", 2)
  opts = opts or {}
  local where = "ReduceLROnPlateau"
  local monitor = opts.monitor == nil and "val_loss" or opts.monitor
  if type(monitor) ~= "string" then
    error(("%s: monitor must be a log key (a string), got %s"):format(where, type(monitor)), 2)
  end
  local factor = opts.factor == nil and 0.1 or opts.factor
  if not finite(factor) or factor < 0 or factor >= 1 then
    error(("%s: factor must be a number in [0, 1) (Keras does not support a factor >= 1.0), got %s"):format(
      where, tostring(factor)), 2)
  end
  local min_delta = opts.min_delta == nil and 1e-4 or opts.min_delta
  if not finite(min_delta) then
    error(("%s: min_delta must be a finite number, got %s"):format(where, tostring(min_delta)), 2)
  end
  local min_lr = opts.min_lr == nil and 0 or opts.min_lr
  if not finite(min_lr) or min_lr < 0 then
    error(("%s: min_lr must be a number >= 0, got %s"):format(where, tostring(min_lr)), 2)
  end
  local verbose = opts.verbose == nil and 0 or opts.verbose
  if type(verbose) ~= "number" then error(("%s: verbose must be a number, got %s"):format(where, type(verbose)), 2) end
  local mode = opts.mode == nil and "auto" or opts.mode
  if mode ~= "auto" and mode ~= "min" and mode ~= "max" then
    error(("%s: mode must be 'auto', 'min' or 'max', got %s"):format(where, tostring(mode)), 2)
  end
  local self = setmetatable({
    monitor = monitor, factor = factor, min_delta = min_delta, min_lr = min_lr, verbose = verbose,
    patience = count(where, "patience", opts.patience == nil and 10 or opts.patience),
    cooldown = count(where, "cooldown", opts.cooldown == nil and 0 or opts.cooldown),
    mode = mode,
  }, ReduceLROnPlateau)
  self:_reset()
  return self
end
setmetatable(ReduceLROnPlateau, {__index = Callback,
                                 __call = function(_, opts) return ReduceLROnPlateau.new(opts) end})

-- Keras' _reset: the direction, and the counters back to the start.
function ReduceLROnPlateau:_reset()
  local max = self.mode == "max" or (self.mode == "auto" and self.monitor:find("acc", 1, true) ~= nil)
  self.monitor_mode = max and "max" or "min"
  self.best = max and -math.huge or math.huge
  self.cooldown_counter, self.wait = 0, 0
end

function ReduceLROnPlateau:_improved(current)
  if self.monitor_mode == "min" then return current < self.best - self.min_delta end
  return current > self.best + self.min_delta
end

function ReduceLROnPlateau:in_cooldown() return self.cooldown_counter > 0 end

function ReduceLROnPlateau:on_train_begin()
  hook_args(self, "ReduceLROnPlateau:on_train_begin", false, nil, true)
  refuse_schedule("ReduceLROnPlateau", self.model)
  self:_reset()
end

--- Its counters, for BackupAndRestore (the rate itself is the optimizer's, kept in the backup).
function ReduceLROnPlateau:get_state()
  return {wait = self.wait, cooldown_counter = self.cooldown_counter, best = self.best}
end

function ReduceLROnPlateau:set_state(state)
  self.wait, self.cooldown_counter, self.best = state.wait, state.cooldown_counter, state.best
end

function ReduceLROnPlateau:on_epoch_end(epoch, logs)
  logs = hook_args(self, "ReduceLROnPlateau:on_epoch_end", epoch, logs, true)
  local optimizer = self.model.optimizer
  logs.lr = optimizer.learning_rate
  local current = logs[self.monitor]
  if current == nil then
    warn(self, ("ReduceLROnPlateau: learning rate reduction is conditioned on metric '%s' which is not "
      .. "available (available: %s)\n"):format(self.monitor, table.concat(sorted_keys(logs), ", ")))
    return
  end
  if self:in_cooldown() then
    self.cooldown_counter = self.cooldown_counter - 1
    self.wait = 0
  end
  if self:_improved(current) then
    self.best, self.wait = current, 0
  elseif not self:in_cooldown() then
    self.wait = self.wait + 1
    if self.wait >= self.patience then
      local old = optimizer.learning_rate
      if old > f32(self.min_lr) then  -- as Keras: the float32 rate against min_lr in float32
        local new = math.max(old * self.factor, self.min_lr)
        optimizer.learning_rate = new
        if self.verbose > 0 then
          say(self, ("Epoch %d: ReduceLROnPlateau reducing learning rate to %s."):format(epoch + 1, python_float(f32(new))))
        end
        self.cooldown_counter, self.wait = self.cooldown, 0
      end
    end
  end
end

--- TerminateOnNaN(): stops training after a batch whose loss is NaN or infinite. fit does
-- so by itself and reports it (stderr and history.nan), so this callback, kept for Keras
-- scripts, only sets model.stop_training and prints nothing more.
local TerminateOnNaN = class(Callback)
callbacks.TerminateOnNaN = TerminateOnNaN

function TerminateOnNaN.new(opts)
  options.check(opts, {}, "TerminateOnNaN", 2)
  return setmetatable({}, TerminateOnNaN)
end
setmetatable(TerminateOnNaN, {__index = Callback, __call = function(_, opts) return TerminateOnNaN.new(opts) end})

function TerminateOnNaN:on_batch_end(batch, logs)
  local loss = hook_args(self, "TerminateOnNaN:on_batch_end", batch, logs).loss
  if type(loss) == "number" and not finite(loss) then
    if type(self.model) ~= "table" then
      error("TerminateOnNaN:on_batch_end: the callback has no model (fit sets cb.model)", 2)
    end
    self.model.stop_training = true
  end
end

--- CSVLogger(filename, {separator = ",", append = false}): one row per epoch, as Keras 2
-- writes it with Python's csv module: the columns are epoch then the first epoch's log
-- keys sorted, with val_<key> added for each key when no val_ key is there (Keras' rule);
-- a key missing later is "NA"; numbers as Python writes floats; a field with the
-- separator, a quote or a line break quoted; lines end in "\r\n". append = true appends,
-- writing the header only if the file is missing or empty. Opened when training begins,
-- flushed after each row, closed at its end.
local CSVLogger = class(Callback)
callbacks.CSVLogger = CSVLogger
CSVLogger._main_only = true

function CSVLogger.new(filename, opts)
  if type(filename) == "table" and opts == nil then filename, opts = filename.filename, filename end
  options.check(opts, {"filename", "separator", "append"}, "CSVLogger", 2)
  opts = opts or {}
  if type(filename) ~= "string" or filename == "" then
    error(("CSVLogger: filename must be a path (a string), got %s"):format(type(filename)), 2)
  end
  local separator = opts.separator == nil and "," or opts.separator
  if type(separator) ~= "string" or #separator ~= 1 then
    error(("CSVLogger: separator must be a 1-character string, got %s"):format(
      type(separator) == "string" and ("'" .. separator .. "'") or type(separator)), 2)
  end
  if separator == '"' or separator == "\r" or separator == "\n" then
    error("CSVLogger: separator cannot be a quote or a line break", 2)
  end
  if opts.append ~= nil and type(opts.append) ~= "boolean" then
    error(("CSVLogger: append must be true or false, got %s"):format(tostring(opts.append)), 2)
  end
  return setmetatable({filename = filename, separator = separator, append = opts.append or false}, CSVLogger)
end
setmetatable(CSVLogger, {__index = Callback, __call = function(_, ...) return CSVLogger.new(...) end})

function CSVLogger:_field(v)
  local text
  if math.type(v) == "float" then
    text = python_float(v)
  elseif type(v) == "boolean" then
    text = v and "True" or "False"
  else
    text = tostring(v)
  end
  if text:find(self.separator, 1, true) or text:find('["\r\n]') then text = '"' .. text:gsub('"', '""') .. '"' end
  return text
end

function CSVLogger:on_train_begin()
  local header = true
  if self.append then
    local existing = io.open(self.filename, "rb")
    if existing then
      header = existing:read(1) == nil
      existing:close()
    end
  end
  local f, err = io.open(self.filename, self.append and "ab" or "wb")
  if not f then error("CSVLogger: cannot write " .. err, 0) end  -- err names the file and the cause
  self._file, self._header, self.keys = f, header, nil
end

function CSVLogger:on_epoch_end(epoch, logs)
  logs = hook_args(self, "CSVLogger:on_epoch_end", epoch, logs)
  if not self._file then return end
  if self.keys == nil then
    local keys = sorted_keys(logs)
    local has_val = false
    for _, k in ipairs(keys) do has_val = has_val or k:sub(1, 4) == "val_" end
    if not has_val then
      for i = 1, #keys do keys[#keys + 1] = "val_" .. keys[i] end
    end
    self.keys = keys
    if self._header then
      local names = {self:_field("epoch")}
      for _, k in ipairs(keys) do names[#names + 1] = self:_field(k) end
      self._file:write(table.concat(names, self.separator), "\r\n")
    end
  end
  local row = {self:_field(epoch)}
  for _, k in ipairs(self.keys) do
    local v = logs[k]
    row[#row + 1] = v == nil and "NA" or self:_field(v)
  end
  self._file:write(table.concat(row, self.separator), "\r\n")
  self._file:flush()
end

function CSVLogger:on_train_end()
  if self._file then
    self._file:close()
    self._file = nil
  end
end

--- ProgbarLogger{count_mode = "samples"}: the progress bar as a callback, Keras 2's. fit
-- adds one counting steps (its own bar) unless verbose = 0 or the callbacks hold one; its
-- verbosity is fit's (params.verbose): 1 a bar, 2 a line per epoch, 0 nothing.
-- count_mode = "samples" counts training samples (steps with a generator).
local ProgbarLogger = class(Callback)
callbacks.ProgbarLogger = ProgbarLogger
ProgbarLogger._is_progbar_logger = true  -- fit's test, true in subclasses too
ProgbarLogger._main_only = true

function ProgbarLogger.new(opts)
  if type(opts) == "string" then opts = {count_mode = opts} end
  options.check(opts, {"count_mode"}, "ProgbarLogger", 2, {unsupported = {"stateful_metrics"}})
  local mode = (opts or {}).count_mode or "samples"
  if mode ~= "samples" and mode ~= "steps" then
    error(("ProgbarLogger: count_mode must be 'samples' or 'steps', got %s"):format(tostring(mode)), 2)
  end
  return setmetatable({count_mode = mode, seen = 0}, ProgbarLogger)
end
setmetatable(ProgbarLogger, {__index = Callback, __call = function(_, opts) return ProgbarLogger.new(opts) end})

function ProgbarLogger:on_epoch_begin(epoch)
  hook_args(self, "ProgbarLogger:on_epoch_begin", epoch)
  local params = type(self.params) == "table" and self.params or {}
  self.verbose, self.epochs = params.verbose or 1, params.epochs or 1
  self._by_samples = self.count_mode == "samples" and params.samples ~= nil and params.batch_size ~= nil
  self.target = self._by_samples and params.samples or params.steps
  self.seen = 0
  if self.verbose ~= 0 then print(("Epoch %d/%d"):format(epoch + 1, self.epochs)) end
  self._bar = Progbar.new(self.target, self.verbose, self._by_samples and "sample" or "step")
end

-- The keys shown, in fit's order (loss, the metrics, then the val_ ones), or the logs' own.
function ProgbarLogger:_keys(logs)
  if self.params and self.params.metrics then return self.params.metrics end
  return sorted_keys(logs)
end

function ProgbarLogger:on_train_batch_end(batch, logs)
  logs = hook_args(self, "ProgbarLogger:on_train_batch_end", batch, logs)
  if self._by_samples then
    self.seen = math.min((batch + 1) * self.params.batch_size, self.target)
  else
    self.seen = batch + 1
  end
  -- no bar to draw towards an unknown end (a hook called by hand, without fit's params)
  if self._bar and self._bar.target then self._bar:update(self.seen, self:_keys(logs), logs) end
end

function ProgbarLogger:on_epoch_end(epoch, logs)
  logs = hook_args(self, "ProgbarLogger:on_epoch_end", epoch, logs)
  if not self._bar then return end
  self._bar.target = self._bar.target or self.seen
  self._bar:finish(self.seen, self:_keys(logs), logs)
  self._bar = nil
end

-- Every constructor's errors point at the caller's line.
callbacks.LambdaCallback = at_user_line(callbacks.LambdaCallback)
callbacks.LearningRateScheduler = at_user_line(callbacks.LearningRateScheduler)
for _, cls in ipairs{Callback, History, EarlyStopping, LayerStats, ReduceLROnPlateau, TerminateOnNaN, CSVLogger,
                     ProgbarLogger} do
  cls.new = at_user_line(cls.new)
  local mt = getmetatable(cls)
  if mt and mt.__call then mt.__call = at_user_line(mt.__call) end
end

return callbacks
