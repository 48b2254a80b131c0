--- The callbacks that write model files (lurn/models/saving.lua), as Keras 2's:
-- ModelCheckpoint(filepath, {monitor = "val_loss", verbose = 0, save_best_only = false,
-- save_weights_only = false, mode = "auto", save_freq = "epoch", initial_value_threshold})
-- and BackupAndRestore(backup_dir, {save_freq = "epoch", delete_checkpoint = true}).
-- BackupAndRestore also keeps the other callbacks' counters (EarlyStopping's wait and
-- best, ...) through the get_state/set_state hook below.
local class = require "lurn.class"
local core = require "lurn.core"
local options = require "lurn.options"
local at_user_line = require "lurn.at_user_line"

local checkpoints = {}

local callbacks = require "lurn.training.callbacks"
local auto_mode = require("lurn.training.monitor").auto_mode
local data_parallel = require "lurn.training.data_parallel"

local function base() return callbacks.Callback end

-- "auto": as EarlyStopping (callbacks.auto_mode).
local function resolve_mode(who, mode, monitor)
  mode = mode or "auto"
  if mode == "auto" then return auto_mode(monitor) end
  if mode ~= "min" and mode ~= "max" then error(who .. ": mode must be 'auto', 'min' or 'max'", 3) end
  return mode
end

local make_directories = require("lurn.paths").make_directories

-- ---- the file path's placeholders ------------------------------------------------------------

-- A Python format spec lurn can give: [sign][0][width][.precision][type], type one of
-- d f e E g G s %; nothing: the value as Python's str would (integers whole, floats in full).
local function format_value(name, value, spec, filepath)
  if spec == "" then
    if math.type(value) == "float" then  -- the shortest digits that read back the same, as Python's str
      local text
      for digits = 15, 17 do
        text = ("%." .. digits .. "g"):format(value)
        if tonumber(text) == value then break end
      end
      return (text:gsub("^(-?%d+)$", "%1.0"))
    end
    return tostring(value)
  end
  local flags, kind = spec:match("^([-+ ]?0?%d*%.?%d*)([dfeEgGs%%]?)$")
  if not flags then
    error(("ModelCheckpoint: the placeholder {%s:%s} in '%s' has a format lurn does not know"):format(name, spec,
      filepath), 0)
  end
  if kind == "" then kind = math.type(value) == "integer" and "d" or "g" end
  if kind == "%" then return ("%" .. flags .. "f%%"):format(value * 100) end
  if kind == "d" then
    local whole = math.tointeger(value)
    if not whole then
      error(("ModelCheckpoint: {%s:%s} in '%s' asks for an integer, but %s is %s"):format(name, spec, filepath,
        name, tostring(value)), 0)
    end
    value = whole
  end
  return ("%" .. flags .. kind):format(value)
end

--- The path for an epoch (0-based; {epoch} is epoch + 1, as Keras), its logs, and with a
-- save every so many batches the batch (0-based; {batch} is batch + 1, as Keras).
function checkpoints.format_path(filepath, epoch, logs, batch)
  return (filepath:gsub("{([%w_]*):?([^}]*)}", function(name, spec)
    local value
    if name == "epoch" then
      value = epoch + 1
    elseif name == "batch" and batch ~= nil then
      value = batch + 1
    else
      value = logs and logs[name]
    end
    if value == nil then
      local keys = {"epoch", batch ~= nil and "batch" or nil}
      for k in pairs(logs or {}) do keys[#keys + 1] = k end
      table.sort(keys)
      error(("ModelCheckpoint: the file path '%s' names {%s}, which the logs do not have (they have: %s)")
        :format(filepath, name, table.concat(keys, ", ")), 0)
    end
    return format_value(name, value, spec, filepath)
  end))
end

-- ---- ModelCheckpoint --------------------------------------------------------------------------

local ModelCheckpoint = class()
checkpoints.ModelCheckpoint = ModelCheckpoint
ModelCheckpoint._main_only = true  -- in a data-parallel fit, rank 0 alone writes (data_parallel.is_main)

local CHECKPOINT_OPTIONS = {"monitor", "verbose", "save_best_only", "save_weights_only", "mode", "save_freq",
                            "initial_value_threshold"}

function ModelCheckpoint.new(filepath, opts)
  if type(filepath) == "table" and opts == nil then filepath, opts = filepath.filepath, filepath end
  options.check(opts, {"filepath", table.unpack(CHECKPOINT_OPTIONS)}, "ModelCheckpoint", 2,
                {unsupported = {"options"}})
  opts = opts or {}
  if type(filepath) ~= "string" then
    error("ModelCheckpoint: filepath must be a path (a string, with {epoch:02d}-style placeholders)", 2)
  end
  local save_freq = opts.save_freq == nil and "epoch" or opts.save_freq
  if save_freq ~= "epoch" and (math.type(save_freq) ~= "integer" or save_freq < 1) then
    error(("ModelCheckpoint: save_freq must be 'epoch' or a positive number of batches, got %s"):format(
      tostring(save_freq)), 2)
  end
  local monitor = opts.monitor or "val_loss"
  if type(monitor) ~= "string" then error("ModelCheckpoint: monitor must be the name of a logged value", 2) end
  for _, key in ipairs{"save_best_only", "save_weights_only"} do
    if opts[key] ~= nil and type(opts[key]) ~= "boolean" then
      error(("ModelCheckpoint: %s must be true or false, got %s"):format(key, tostring(opts[key])), 2)
    end
  end
  if opts.verbose ~= nil and math.type(opts.verbose) ~= "integer" then
    error(("ModelCheckpoint: verbose must be 0 or 1, got %s"):format(tostring(opts.verbose)), 2)
  end
  local threshold = opts.initial_value_threshold
  if threshold ~= nil and (type(threshold) ~= "number" or threshold ~= threshold) then
    error(("ModelCheckpoint: initial_value_threshold must be a number, got %s"):format(tostring(threshold)), 2)
  end
  local self = setmetatable({
    filepath = filepath, monitor = monitor, verbose = opts.verbose or 0,
    save_best_only = opts.save_best_only == true, save_weights_only = opts.save_weights_only == true,
    save_freq = save_freq, mode = resolve_mode("ModelCheckpoint", opts.mode, monitor),
  }, ModelCheckpoint)
  self.initial_value_threshold = opts.initial_value_threshold
  self.best = opts.initial_value_threshold or (self.mode == "min" and math.huge or -math.huge)
  return self
end

function ModelCheckpoint:on_train_begin()
  self._batches = 0
end

function ModelCheckpoint:on_epoch_begin(epoch) self._epoch = epoch end

function ModelCheckpoint:_better(value)
  if self.mode == "min" then return value < self.best end
  return value > self.best
end

function ModelCheckpoint:_save(epoch, logs, batch)
  local path = checkpoints.format_path(self.filepath, epoch, logs, batch)
  if self.save_best_only then
    local value = logs[self.monitor]
    if value == nil then
      io.stderr:write(("ModelCheckpoint: can save the best model only with %s available, skipping.\n"):format(
        self.monitor))
      return
    end
    if not self:_better(value) then
      if self.verbose > 0 then
        print(("\nEpoch %05d: %s did not improve from %.5f"):format(epoch + 1, self.monitor, self.best))
      end
      return
    end
    if self.verbose > 0 then
      print(("\nEpoch %05d: %s improved from %.5f to %.5f, saving model to %s"):format(epoch + 1, self.monitor,
        self.best, value, path))
    end
    self.best = value
  elseif self.verbose > 0 then
    print(("\nEpoch %05d: saving model to %s"):format(epoch + 1, path))
  end
  local dir = path:match("^(.*)/[^/]*$")
  if dir and dir ~= "" then make_directories(dir) end
  if self.save_weights_only then self.model:save_weights(path) else self.model:save(path) end
  self.last_path = path
end

function ModelCheckpoint:on_train_batch_end(batch, logs)
  if self.save_freq == "epoch" then return end
  self._batches = (self._batches or 0) + 1
  if self._batches >= self.save_freq then
    self._batches = 0
    self:_save(self._epoch or 0, logs or {}, batch)
  end
end

function ModelCheckpoint:on_epoch_end(epoch, logs)
  if self.save_freq == "epoch" then self:_save(epoch, logs or {}) end
end

--- Its counter, for BackupAndRestore: the best value so far.
function ModelCheckpoint:get_state() return {best = self.best} end
function ModelCheckpoint:set_state(state) self.best = state.best end

-- ---- the callbacks' state --------------------------------------------------------------------

--- checkpoints.get_state(cb) -> plain data: cb:get_state() where a callback defines it
-- (lurn's own keep their counters only: EarlyStopping's wait and best, ...); else the
-- fields whose values are numbers, strings or booleans, not those whose names begin with
-- "_". checkpoints.set_state(cb, state) gives them back (cb:set_state).
function checkpoints.get_state(cb)
  if type(cb.get_state) == "function" then return cb:get_state() end
  local state = {}
  for k, v in pairs(cb) do
    local t = type(v)
    if type(k) == "string" and k:sub(1, 1) ~= "_" and (t == "number" or t == "string" or t == "boolean") then
      state[k] = v
    end
  end
  return state
end

function checkpoints.set_state(cb, state)
  if type(cb.set_state) == "function" then return cb:set_state(state) end
  for k, v in pairs(state) do
    local t = type(v)
    if type(k) == "string" and k:sub(1, 1) ~= "_" and (t == "number" or t == "string" or t == "boolean") then
      rawset(cb, k, v)
    end
  end
end

-- ---- BackupAndRestore -------------------------------------------------------------------------

local BackupAndRestore = class()
checkpoints.BackupAndRestore = BackupAndRestore

function BackupAndRestore.new(backup_dir, opts)
  if type(backup_dir) == "table" and opts == nil then backup_dir, opts = backup_dir.backup_dir, backup_dir end
  options.check(opts, {"backup_dir", "save_freq", "delete_checkpoint"}, "BackupAndRestore", 2,
                {unsupported = {"save_before_preemption"}})
  opts = opts or {}
  if type(backup_dir) ~= "string" or backup_dir == "" then
    error("BackupAndRestore: backup_dir must be a directory path (a string)", 2)
  end
  if opts.delete_checkpoint ~= nil and type(opts.delete_checkpoint) ~= "boolean" then
    error(("BackupAndRestore: delete_checkpoint must be true or false, got %s"):format(
      tostring(opts.delete_checkpoint)), 2)
  end
  if opts.save_freq ~= nil and opts.save_freq ~= "epoch" then
    error(("BackupAndRestore: save_freq must be 'epoch' (a backup within an epoch is not supported by lurn), got %s")
      :format(tostring(opts.save_freq)), 2)
  end
  return setmetatable({backup_dir = backup_dir, save_freq = "epoch",
                       delete_checkpoint = opts.delete_checkpoint ~= false}, BackupAndRestore)
end

function BackupAndRestore:_path() return self.backup_dir .. "/backup.lurn" end

-- The name of a callback's class in lurn.callbacks ("Callback" for the user's own), which
-- a backup keeps beside its state: a state goes back only to a callback of its class.
local function kind_of(cb)
  local mt = getmetatable(cb)
  for name, cls in pairs(callbacks) do
    if cls == mt then return name end
  end
  for name, cls in pairs(checkpoints) do
    if cls == mt then return name end
  end
  return "Callback"
end

-- The states of the other callbacks, with their kinds.
local function states_of(list)
  local states = {}
  for i, cb in ipairs(list) do states[i] = {kind = kind_of(cb), state = checkpoints.get_state(cb)} end
  return states
end

-- The other callbacks of this fit, by position, left out: History, which fit adds last,
-- and the progress bar, which fit adds first unless verbose = 0 (a run resumed with
-- another verbose would otherwise give each state to its neighbour).
local function others(self)
  local list = {}
  for _, cb in ipairs(self.model._callbacks or {}) do
    if cb ~= self and getmetatable(cb) ~= callbacks.History and not cb._is_progbar_logger then
      list[#list + 1] = cb
    end
  end
  return list
end

--- A backup there: the model's weights, optimizer and random state come back, fit starts
-- at the epoch after the backup's, and the other callbacks' states come back at the first
-- epoch's start (after their own on_train_begin has reset them). In a data-parallel fit
-- every process reads the backup and rank 0 alone writes it.
function BackupAndRestore:on_train_begin()
  if data_parallel.is_main(self.model) then make_directories(self.backup_dir) end
  self._pending = nil
  local f = io.open(self:_path(), "rb")
  if not f then return end
  f:close()
  local path = self:_path()
  local backup = require("lurn.models.saving").restore_backup(self.model, path)
  if math.type(backup.epoch) ~= "integer" then error(path .. ": the backup has no epoch", 0) end
  local optimizer = self.model.optimizer and self.model.optimizer.class_name
  if backup.optimizer ~= nil and backup.optimizer ~= optimizer then
    error(("BackupAndRestore: %s was made training with %s, but the model is compiled with %s: resume with the "
      .. "same optimizer, or delete the backup to start afresh"):format(path, tostring(backup.optimizer),
      tostring(optimizer)), 0)
  end
  self.model._resume_epoch = backup.epoch + 1
  self._pending = type(backup.callbacks) == "table" and backup.callbacks or {}
end

--- The kept states go back by position, each only to a callback of the class that left it
-- (another class there starts afresh, with a warning); states of callbacks no longer in
-- the list are dropped.
function BackupAndRestore:on_epoch_begin()
  local pending = self._pending
  self._pending = nil
  if type(pending) ~= "table" then return end
  for i, cb in ipairs(others(self)) do
    local kept = pending[i]
    if type(kept) == "table" and kept.kind == kind_of(cb) and type(kept.state) == "table" then
      checkpoints.set_state(cb, kept.state)
    elseif type(kept) == "table" and data_parallel.is_main(self.model) then
      io.stderr:write(("BackupAndRestore: the backup kept a %s's state as callback %d, but this fit has a %s there: "
        .. "it starts afresh\n"):format(tostring(kept.kind), i, kind_of(cb)))
    end
  end
end

-- The backup: the model (weights, optimizer and random state), the optimizer's class, the
-- epoch and the other callbacks' states, written atomically over the last one.
local function write_backup(self, epoch, states)
  require("lurn.models.saving").save_backup(self.model, self:_path(), {
    epoch = epoch, callbacks = states, optimizer = self.model.optimizer and self.model.optimizer.class_name})
end

--- The backup of an epoch is written once every callback has ended it (fit's
-- _after_epoch_end, after on_epoch_end): the states it keeps do not depend on the order
-- of the list, and an epoch whose end failed is not a finished one (a run started again
-- does it again).
function BackupAndRestore:_after_epoch_end(epoch)
  if data_parallel.is_main(self.model) then write_backup(self, epoch, states_of(others(self))) end
end

--- A run that ends (finished, or stopped by a callback) removes its backup, as Keras; one
-- that is killed or fails keeps it for the next start.
function BackupAndRestore:on_train_end()
  if self.delete_checkpoint and data_parallel.is_main(self.model) then os.remove(self:_path()) end
end

-- ---- registration --------------------------------------------------------------------------------

for _, cls in ipairs{ModelCheckpoint, BackupAndRestore} do
  cls.new = at_user_line(cls.new)
  setmetatable(cls, {__index = function(_, k) return base()[k] end,
                     __call = at_user_line(function(_, ...) return cls.new(...) end)})
end

return checkpoints
