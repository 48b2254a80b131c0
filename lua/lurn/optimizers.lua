--- Optimizers with Keras names, arguments and defaults: SGD, Adam, AdamW, RMSprop,
-- Adagrad, Nadam, Adamax, Adadelta, Ftrl. An optimizer object wraps a C optimizer; its settings read and write
-- through, so `model.optimizer.learning_rate = 1e-4` takes effect at the next step.
local core = require "lurn.core"
local options = require "lurn.options"

local optimizers = {}

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
  return ("%s{learning_rate = %g}"):format(self.class_name, self.learning_rate)
end

function Optimizer:get_config()
  local cfg = {name = self.class_name}
  for k in pairs(self._settings) do cfg[k] = self._c:get(k) end
  for k, v in pairs(self._flags) do cfg[k] = v end
  return cfg
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
    for k, v in pairs(spec.settings) do
      local given = opts[k]
      if k == "learning_rate" and given == nil then given = opts.lr end
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
    return setmetatable({_c = c, _settings = settings, _flags = flags, class_name = class_name}, Optimizer)
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
