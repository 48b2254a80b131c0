--- Activation layers: Activation(name), and the Keras layer forms ReLU(),
-- LeakyReLU{alpha = 0.3}, ELU{alpha = 1.0}, Softmax().
local class = require "lurn.class"
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"
local activations = require "lurn.activations"

local Activation = class(Layer)
Activation.class_name = "Activation"

function Activation:_create()
  return core.activation_layer(self.activation, self.alpha)
end

function Activation:get_config()
  local cfg = Layer.get_config(self)
  cfg.activation, cfg.alpha = self.activation, self.alpha
  return cfg
end

-- The options of each form, besides the base ones (see Layer.setup).
local OPTIONS = {Activation = {"activation"}, ReLU = {"max_value", "negative_slope", "threshold"},
                 LeakyReLU = {"alpha", "negative_slope"}, ELU = {"alpha"}, Softmax = {"axis"}}

local function make(class_name, activation, alpha, opts)
  local cls = class_name == "Activation" and Activation or setmetatable({class_name = class_name}, {__index = Activation})
  cls._options = OPTIONS[class_name]
  cls.__index = cls
  for k, v in pairs(Activation) do
    if type(k) == "string" and k:sub(1, 2) == "__" and k ~= "__index" then cls[k] = v end
  end
  local self = Layer.setup(setmetatable({}, cls), opts)
  self.activation, self.alpha = activation, alpha
  return self
end

local M = {}

function M.Activation(name, opts)
  if type(name) == "table" and opts == nil then name, opts = name.activation, name end
  local act, alpha, fn = activations.resolve(name)
  local self = make("Activation", act, alpha, opts)
  self.activation_fn = fn
  return self
end

local function number_option(opts, key, default, class_name)
  local v = opts[key]
  if v == nil then return default end
  if type(v) ~= "number" or v ~= v then error(("%s: %s must be a number"):format(class_name, key), 3) end
  return v
end

-- Keras' ReLU{max_value, negative_slope, threshold} forms are not implemented yet: refused,
-- rather than silently computing a plain relu.
function M.ReLU(opts)
  opts = opts or {}
  for _, k in ipairs{"max_value", "negative_slope", "threshold"} do
    if opts[k] ~= nil and opts[k] ~= 0 then
      error(("ReLU: %s is not supported yet (only the plain relu); use a Lambda or an activation function"):format(k),
        2)
    end
  end
  return make("ReLU", "relu", 0, opts)
end
function M.Softmax(opts)
  local self = make("Softmax", "softmax", 0, opts)
  local axis = (opts or {}).axis
  if axis ~= nil and axis ~= -1 then
    error(("Softmax: only axis = -1 (the last dimension) is supported, got %s"):format(tostring(axis)), 2)
  end
  return self
end

function M.LeakyReLU(opts)
  opts = opts or {}
  local alpha = number_option(opts, "alpha", number_option(opts, "negative_slope", 0.3, "LeakyReLU"), "LeakyReLU")
  return make("LeakyReLU", "leaky_relu", alpha, opts)
end

function M.ELU(opts)
  opts = opts or {}
  return make("ELU", "elu", number_option(opts, "alpha", 1.0, "ELU"), opts)
end

return M
