--- Input{shape = {784}, name =, dtype = "float32"}: the start of a model. It returns a
-- symbolic tensor (see lurn/symbolic.lua) made by an InputLayer: call layers on it and
-- pass it to lurn.Model{inputs =, outputs =}, or put it first in a Sequential to declare
-- the input shape. Shapes are per sample (no batch dimension), as everywhere in lurn.
-- InputLayer{shape =, name =} makes the layer itself; its `output` is the symbolic tensor.
local Layer = require "lurn.layers.layer"
local symbolic = require "lurn.symbolic"
local options = require "lurn.options"

local InputLayer = Layer._define("InputLayer")

-- Keras' Input options lurn does not implement: batches are any size, tensors dense float32.
local UNSUPPORTED = {"batch_size", "batch_shape", "batch_input_shape", "sparse", "tensor", "ragged", "type_spec"}
local count = 0
local shapes = require "lurn.shape"

function InputLayer._new(opts, who)
  who = who or "InputLayer"  -- messages name what the user called: Input or InputLayer
  if type(opts) ~= "table" then error(who .. ": expected {shape = {...}}", 2) end
  local shape = opts.shape
  if shape == nil and #opts > 0 then shape = opts end  -- Input{784}
  options.check(opts, {"shape", "name", "dtype"}, who, 2, {positional = true, unsupported = UNSUPPORTED})
  if type(shape) ~= "table" or #shape == 0 then error(who .. ": shape must be a table of sizes, e.g. {784}", 2) end
  shape = shapes.list(shape, who, "shape", 2)
  for _, v in ipairs(shape) do
    if math.type(v) ~= "integer" or v < 1 then error(who .. ": sizes must be positive integers", 2) end
  end
  if opts.dtype ~= nil and opts.dtype ~= "float32" then
    error(("%s: lurn computes in float32, dtype %s is not supported"):format(who, tostring(opts.dtype)), 2)
  end
  count = count + 1
  local layer = setmetatable({name = opts.name or ("input_" .. count), trainable = true, built = true}, InputLayer)
  layer.input_shape = table.move(shape, 1, #shape, 1, {})
  layer.output_shape = table.move(shape, 1, #shape, 1, {})
  local t = symbolic.new(shape, layer)
  t.is_input, t.name = true, layer.name  -- what Sequential:add reads
  layer.output = t
  return layer
end

--- Input{shape =, name =}: the symbolic tensor of a new InputLayer.
function InputLayer._input(opts)
  return InputLayer._new(opts, "Input").output
end

-- No parameters and no C layer: the graph's input is the model's input.
function InputLayer:build() end
function InputLayer:cores() return {} end
function InputLayer:get_weights() return {} end
function InputLayer:parameters() return {}, {} end
function InputLayer:gradients() return {} end
function InputLayer:count_params() return 0 end
function InputLayer:_param_counts() return 0, 0 end
function InputLayer:_param_counts() return 0, 0 end
function InputLayer:_sync_trainable() end

function InputLayer:set_weights(weights)
  if type(weights) ~= "table" or #weights ~= 0 then
    error(("layer '%s' (InputLayer) has no weights"):format(self.name), 2)
  end
end

function InputLayer:__call()
  error(("layer '%s' (InputLayer) cannot be called: start from the symbolic tensor lurn.Input returns"):format(
    self.name), 2)
end

--- {name =, shape =, dtype = "float32"}: Input's options (the shape per sample, where
-- Keras' batch_input_shape has the batch dimension first).
function InputLayer:get_config()
  return {name = self.name, shape = Layer._copy_data(self.output_shape), dtype = "float32"}
end

return {InputLayer = InputLayer}
