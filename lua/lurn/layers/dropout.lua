--- Dropout(rate): inverted dropout, active only in training (fit), the identity in
-- evaluate and predict, as Keras.
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"

local Dropout = Layer._define("Dropout")
Dropout._options = {"rate"}
-- lurn's dropout masks come from the global generator (lurn.manual_seed), not one per layer
Dropout._unsupported_options = {"noise_shape", "seed"}

function Dropout._new(rate, opts)
  if type(rate) == "table" and opts == nil then rate, opts = rate.rate, rate end
  if type(rate) ~= "number" or not (rate >= 0 and rate < 1) then
    error(("Dropout: rate must be a number in [0, 1), got %s"):format(tostring(rate)), 2)
  end
  local self = Layer.setup(setmetatable({}, Dropout), opts)
  self.rate = rate
  return self
end

function Dropout:_create() return core.dropout_layer(self.rate) end

function Dropout:get_config()
  local cfg = Layer.get_config(self)
  cfg.rate = self.rate
  return cfg
end

return {Dropout = Dropout}
