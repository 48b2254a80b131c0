--- Dense(units, opts): y = activation(x @ kernel + bias), as Keras' Dense. Options:
-- activation, use_bias (true), kernel_initializer ("glorot_uniform"), bias_initializer
-- ("zeros"), kernel_regularizer, bias_regularizer, activity_regularizer, input_shape.
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"
local text = require "lurn.text"

local Dense = Layer._define("Dense")
Dense._options = {"units", "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
                  "bias_regularizer", "activity_regularizer"}
Dense._unsupported_options = {"kernel_constraint", "bias_constraint"}

function Dense._new(units, opts)
  if type(units) == "table" and opts == nil then units, opts = units.units, units end
  opts = opts or {}
  if math.type(units) ~= "integer" or units < 1 then
    error(("Dense: units must be a positive integer, got %s"):format(text.shown(units)), 2)
  end
  local self = Layer.setup(setmetatable({}, Dense), opts)
  self.units = units
  self:_kernel_options(opts, "kernel")
  return self
end

function Dense:_create()
  return core.dense_layer{units = self.units, activation = self.activation, alpha = self.alpha,
                          use_bias = self.use_bias, kernel_initializer = self.kernel_initializer,
                          bias_initializer = self.bias_initializer}
end

function Dense:get_config()
  local cfg = Layer.get_config(self)
  cfg.units = self.units
  return self:_kernel_config(cfg, "kernel")
end

return {Dense = Dense}
