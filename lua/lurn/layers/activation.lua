--- Activation layers: Activation(name), and the Keras layer forms ReLU(),
-- LeakyReLU{alpha = 0.3}, ELU{alpha = 1.0}, Softmax().
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"
local activations = require "lurn.activations"

local Activation = Layer._define("Activation")

function Activation:_create()
  return core.activation_layer(self.activation, self.alpha)
end

function Activation:get_config()
  if self.activation_fn then self:_not_data("its activation") end
  local cfg = Layer.get_config(self)
  cfg.activation = self.activation
  return cfg
end

-- The Keras layer forms, subclasses of Activation with their own options (besides the
-- base ones, see Layer.setup) and configs.
local ReLU = Layer._define("ReLU", Activation)
local LeakyReLU = Layer._define("LeakyReLU", Activation)
local ELU = Layer._define("ELU", Activation)
local Softmax = Layer._define("Softmax", Activation)
Activation._options = {"activation"}
ReLU._options = {"max_value", "negative_slope", "threshold"}
LeakyReLU._options = {"alpha", "negative_slope"}
ELU._options = {"alpha"}
Softmax._options = {"axis"}

local function make(cls, activation, alpha, opts)
  local self = Layer.setup(setmetatable({}, cls), opts)
  self.activation, self.alpha = activation, alpha
  return self
end

function Activation._new(name, opts)
  if type(name) == "table" and opts == nil then name, opts = name.activation, name end
  local act, alpha, fn = activations.resolve(name)
  local self = make(Activation, act, alpha, opts)
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
function ReLU._new(opts)
  opts = opts or {}
  for _, k in ipairs{"max_value", "negative_slope", "threshold"} do
    if opts[k] ~= nil and opts[k] ~= 0 then
      error(("ReLU: %s is not supported yet (only the plain relu); use a Lambda or an activation function"):format(k),
        2)
    end
  end
  return make(ReLU, "relu", 0, opts)
end

function ReLU:get_config()
  local cfg = Layer.get_config(self)
  cfg.negative_slope, cfg.threshold = 0, 0  -- Keras' max_value = None: no key
  return cfg
end

function Softmax._new(opts)
  local self = make(Softmax, "softmax", 0, opts)
  local axis = (opts or {}).axis
  if axis ~= nil and axis ~= -1 then
    error(("Softmax: only axis = -1 (the last dimension) is supported, got %s"):format(tostring(axis)), 2)
  end
  return self
end

function Softmax:get_config()
  local cfg = Layer.get_config(self)
  cfg.axis = -1
  return cfg
end

function LeakyReLU._new(opts)
  opts = opts or {}
  local alpha = number_option(opts, "alpha", number_option(opts, "negative_slope", 0.3, "LeakyReLU"), "LeakyReLU")
  return make(LeakyReLU, "leaky_relu", alpha, opts)
end

function ELU._new(opts)
  opts = opts or {}
  return make(ELU, "elu", number_option(opts, "alpha", 1.0, "ELU"), opts)
end

-- LeakyReLU and ELU: Keras' config holds alpha.
function LeakyReLU:get_config()
  local cfg = Layer.get_config(self)
  cfg.alpha = self.alpha
  return cfg
end
ELU.get_config = LeakyReLU.get_config

return {Activation = Activation, ReLU = ReLU, LeakyReLU = LeakyReLU, ELU = ELU, Softmax = Softmax}
