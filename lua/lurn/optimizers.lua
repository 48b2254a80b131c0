--- Optimizers with Keras names, arguments and defaults: SGD, Adam, AdamW, RMSprop,
-- Adagrad, Nadam, Adamax, Adadelta, Ftrl. An optimizer object wraps a C optimizer; its settings read and write
-- through, so `model.optimizer.learning_rate = 1e-4` takes effect at the next step. learning_rate may
-- also be a schedule (lurn.optimizers.schedules): every path that updates (fit,
-- train_on_batch, apply_gradients) first calls optimizer:_apply_schedule(), which sets the
-- rate to schedule(iterations), the count of updates before this one, as Keras does;
-- learning_rate then reads the rate of the latest update (schedule(0) before any).
local core = require "lurn.core"
local options = require "lurn.options"
local schedules = require "lurn.optimizers.schedules"

local optimizers = {}
optimizers.schedules = schedules

local Optimizer = {}
Optimizer.__index = function(self, key)
  if Optimizer[key] then return Optimizer[key] end
  if self._settings[key] ~= nil then return self._c:get(key) end
  if key == "iterations" then return self._c:get("iterations") end
end
Optimizer.__newindex = function(self, key, value)
  if self._settings[key] == nil then
    error(("%s has no setting '%s'"):format(self.class_name, tostring(key)), 2)
  end
  if key == "learning_rate" and schedules._is_schedule(value) then  -- Keras allows a new schedule
    rawset(self, "_schedule", value)
    self:_apply_schedule()
    return
  end
  if key == "learning_rate" and self._schedule then
    error(("%s: learning_rate is a schedule (%s), which sets the rate before every update; it cannot be set to "
      .. "a number (create the optimizer with a number as learning_rate to set the rate by hand)"):format(
      self.class_name, self._schedule.class_name), 2)
  end
  if key == "learning_rate_power" then  -- Ftrl's, the one setting that is <= 0
    if type(value) ~= "number" or not (value <= 0) then
      error(("%s: learning_rate_power must be a number <= 0"):format(self.class_name), 2)
    end
  elseif type(value) ~= "number" or value ~= value or value < 0 then
    error(("%s: %s must be a number >= 0"):format(self.class_name, key), 2)
  end
  self._c:set(key, value)
end
Optimizer.__tostring = function(self)
  if self._schedule then return ("%s{learning_rate = %s}"):format(self.class_name, tostring(self._schedule)) end
  return ("%s{learning_rate = %g}"):format(self.class_name, self.learning_rate)
end

function Optimizer:get_config()
  local cfg = {name = self.class_name}
  for k in pairs(self._settings) do cfg[k] = self._c:get(k) end
  for k, v in pairs(self._flags) do cfg[k] = v end
  if self._schedule then cfg.learning_rate = schedules.serialize(self._schedule) end
  return cfg
end

-- Before an update: a scheduled rate for this step, schedule(iterations); or with `step`,
-- the rate of that step (a restored optimizer shows its latest update's).
function Optimizer:_apply_schedule(step)
  local schedule = self._schedule
  if not schedule then return end
  step = step or self._c:get("iterations")
  local rate = schedule(step)
  if type(rate) ~= "number" or rate ~= rate or rate < 0 or rate == math.huge then
    error(("%s: the learning-rate schedule %s gave %s at step %d; a learning rate must be a finite number >= 0"):format(
      self.class_name, schedule.class_name, tostring(rate), step), 0)
  end
  self._c:set("learning_rate", rate)
end

-- Keras class name -> C kind, float settings with defaults, boolean flags with defaults.
local specs = {
  SGD = {kind = "sgd", settings = {learning_rate = 0.01, momentum = 0}, flags = {nesterov = false}},
  Adam = {kind = "adam", settings = {learning_rate = 0.001, beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7},
          flags = {amsgrad = false}},
  AdamW = {kind = "adamw", settings = {learning_rate = 0.001, weight_decay = 0.004, beta_1 = 0.9, beta_2 = 0.999,
                                       epsilon = 1e-7}, flags = {amsgrad = false}},
  RMSprop = {kind = "rmsprop", settings = {learning_rate = 0.001, rho = 0.9, momentum = 0, epsilon = 1e-7}, flags = {}},
  Adagrad = {kind = "adagrad", settings = {learning_rate = 0.001, initial_accumulator_value = 0.1, epsilon = 1e-7},
             flags = {}},
  Nadam = {kind = "nadam", settings = {learning_rate = 0.001, beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7},
           flags = {}},
  Adamax = {kind = "adamax", settings = {learning_rate = 0.001, beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7},
            flags = {}},
  Adadelta = {kind = "adadelta", settings = {learning_rate = 0.001, rho = 0.95, epsilon = 1e-7}, flags = {}},
  Ftrl = {kind = "ftrl", settings = {learning_rate = 0.001, learning_rate_power = -0.5, initial_accumulator_value = 0.1,
                                     l1_regularization_strength = 0, l2_regularization_strength = 0,
                                     l2_shrinkage_regularization_strength = 0, beta = 0}, flags = {}},
}

-- Keras' optimizer options lurn does not implement (weight_decay: AdamW's only).
local UNSUPPORTED = {"weight_decay", "global_clipnorm", "use_ema", "ema_momentum", "ema_overwrite_frequency",
                     "jit_compile", "decay", "centered"}

for class_name, spec in pairs(specs) do
  optimizers[class_name] = function(opts)
    opts = opts or {}
    if type(opts) ~= "table" then error(class_name .. ": expected an options table", 2) end
    local cfg = {kind = spec.kind, clipnorm = opts.clipnorm or 0, clipvalue = opts.clipvalue or 0}
    local settings = {clipnorm = true, clipvalue = true}
    local schedule
    for k, v in pairs(spec.settings) do
      local given = opts[k]
      if k == "learning_rate" and given == nil then given = opts.lr end
      if k == "learning_rate" and schedules._is_schedule(given) then
        schedule, given = given, nil
      elseif k == "learning_rate" and given ~= nil and type(given) ~= "number" then
        error(("%s: 'learning_rate' must be a number or a schedule (lurn.optimizers.schedules), got %s"):format(
          class_name, type(given)), 2)
      end
      cfg[k] = given == nil and v or given
      settings[k] = true
    end
    local flags = {}
    for k, v in pairs(spec.flags) do
      if opts[k] == nil then flags[k] = v else flags[k] = opts[k] and true or false end
      cfg[k] = flags[k]
    end
    local known = {lr = true, name = true}
    for k in pairs(settings) do known[k] = true end
    for k in pairs(spec.flags) do known[k] = true end
    options.check(opts, known, class_name, 2, {unsupported = UNSUPPORTED})
    local ok, c = pcall(core.optimizer, cfg)
    if not ok then error(class_name .. ": " .. tostring(c), 2) end
    local opt = setmetatable({_c = c, _settings = settings, _flags = flags, class_name = class_name,
                              _schedule = schedule}, Optimizer)
    ok, c = pcall(opt._apply_schedule, opt)  -- learning_rate reads schedule(0) before any update
    if not ok then error(c, 2) end
    return opt
  end
end

local aliases = {sgd = "SGD", adam = "Adam", adamw = "AdamW", rmsprop = "RMSprop", adagrad = "Adagrad",
                 nadam = "Nadam", adamax = "Adamax", adadelta = "Adadelta", ftrl = "Ftrl"}

--- An optimizer as plain data, as Keras' serialize: {class_name = "Adam", config =
-- optimizer:get_config()}.
function optimizers.serialize(opt)
  if getmetatable(opt) ~= Optimizer then
    error(("optimizers.serialize: expected an optimizer, got %s"):format(type(opt)), 2)
  end
  return {class_name = opt.class_name, config = opt:get_config()}
end

--- A new optimizer with the settings serialize describes (its state, the moments and
-- the iteration count, starts afresh).
function optimizers.deserialize(t)
  if type(t) ~= "table" or not specs[t.class_name] or (t.config ~= nil and type(t.config) ~= "table") then
    error(("optimizers.deserialize: expected {class_name =, config =} with class_name one of SGD, Adam, AdamW, "
      .. "RMSprop, Adagrad, Nadam, Adamax, Adadelta, Ftrl, got %s"):format(
      type(t) == "table" and tostring(t.class_name) or type(t)), 2)
  end
  local config = {}
  for k, v in pairs(t.config or {}) do config[k] = v end
  -- a schedule inside the config is in its serialized form, as Keras' from_config reads it
  if type(config.learning_rate) == "table" and not schedules._is_schedule(config.learning_rate) then
    local ok, s = pcall(schedules.deserialize, config.learning_rate)
    if not ok then
      error(("optimizers.deserialize: learning_rate: %s"):format((tostring(s):gsub("^[^\n]-:%d+: ", ""))), 2)
    end
    config.learning_rate = s
  end
  local ok, opt = pcall(optimizers[t.class_name], config)
  if not ok then error((tostring(opt):gsub("^[^\n]-%.lua:%d+: ", "")), 2) end
  return opt
end

--- An optimizer object, its serialized form, or a new one with default settings from a
-- name ("adam").
function optimizers.get(x)
  if getmetatable(x) == Optimizer then return x end
  if type(x) == "table" and x.class_name then return optimizers.deserialize(x) end
  if type(x) == "string" then
    local class_name = aliases[x:lower()]
    if class_name then return optimizers[class_name]() end
  end
  error(("unknown optimizer %s (known: sgd, adam, adamw, rmsprop, adagrad, nadam, adamax, adadelta, ftrl)"):format(
    type(x) == "string" and ("'" .. x .. "'") or type(x)), 2)
end

function optimizers.is_optimizer(x) return getmetatable(x) == Optimizer end

return optimizers
