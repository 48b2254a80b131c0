--- Masking{mask_value = 0}: Keras' Masking marks the steps whose features all equal
-- mask_value so that the layers after it skip them. lurn passes no masks between layers
-- yet (they come with the recurrent layers), and a Masking that did nothing would give
-- wrong answers without a word: constructing one is an error that says so.
local Layer = require "lurn.layers.layer"

local Masking = Layer._define("Masking")
Masking._options = {"mask_value"}

function Masking._new(opts)
  if opts ~= nil and type(opts) ~= "table" then opts = {mask_value = opts} end
  Layer.setup(setmetatable({}, Masking), opts)  -- a misspelt option is named first, as everywhere
  error("Masking: not supported yet: lurn passes no masks between layers (masks come with the recurrent "
    .. "layers); remove the Masking layer, or pad with a value the model can learn to ignore", 2)
end

return {Masking = Masking}
