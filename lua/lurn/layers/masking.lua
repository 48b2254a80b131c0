--- Masking{mask_value = 0} (or Masking(0)): Keras' Masking: the steps of a (batch, steps,
-- features) input whose features all equal mask_value become padding: their features are
-- set to 0 and a mask (batch, steps) tells the layers after it, which pass it on (Dense,
-- Dropout, ...) or use it (the recurrent layers skip padded steps); a layer that cannot
-- take a mask is an error, as in Keras.
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"

local Masking = Layer._define("Masking")
Masking._options = {"mask_value"}

function Masking._new(opts)
  if opts ~= nil and type(opts) ~= "table" then opts = {mask_value = opts} end
  opts = opts or {}
  local value = opts.mask_value == nil and 0 or opts.mask_value
  if type(value) ~= "number" then
    error(("Masking: mask_value must be a number, got %s"):format(type(value)), 2)
  end
  local self = Layer.setup(setmetatable({}, Masking), opts)
  self.mask_value = value
  return self
end

function Masking:_create() return core.masking_layer(self.mask_value) end

function Masking:get_config()
  local cfg = Layer.get_config(self)
  cfg.mask_value = self.mask_value
  return cfg
end

return {Masking = Masking}
