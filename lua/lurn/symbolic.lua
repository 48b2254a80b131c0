--- Symbolic tensors of the functional API: what lurn.Input returns and what calling a
-- layer on one gives. A symbolic tensor has no values, only a per-sample `shape` and
-- the call that made it (`layer`, the symbolic `inputs` it was called on, and
-- `tensor_index`, which of the call's outputs it is: 0-based, as Keras; see
-- lurn/rnn_states.lua for the calls that give several), so that
-- lurn.Model can walk back from its outputs to its input. Layers are built when they
-- are called, as in Keras, so shapes and shape errors are known at once.
local core = require "lurn.core"

local symbolic = {}

local SymbolicTensor = {}
SymbolicTensor.__index = SymbolicTensor

--- "(None, 28, 28, 1)": a per-sample shape with Keras' batch dimension.
symbolic.shape_text = require("lurn.text").batch_shape

local function copy(shape)
  return table.move(shape, 1, #shape, 1, {})
end

--- A symbolic tensor of per-sample `shape`, made by `layer` from the symbolic `inputs`
-- (none for an Input).
function symbolic.new(shape, layer, inputs)
  return setmetatable({shape = copy(shape), layer = layer, inputs = inputs or {}, tensor_index = 0}, SymbolicTensor)
end

function symbolic.is(v)
  return getmetatable(v) == SymbolicTensor
end

function SymbolicTensor:__tostring()
  return ("SymbolicTensor(shape=%s, from %s '%s')"):format(symbolic.shape_text(self.shape), self.layer.class_name,
    self.layer.name)
end

--- What a value is, for messages: "a number", "a tensor", "a symbolic tensor".
function symbolic.describe(v)
  if symbolic.is(v) then return "a symbolic tensor" end
  if core.is_tensor(v) then return "a tensor" end
  if getmetatable(v) == core.Tensor then return "a closed tensor" end
  return "a " .. type(v)
end

--- layer(x) on a symbolic x (called by Layer:__call): builds the layer for x's shape and
-- returns its symbolic output. `level` points errors at the user's call.
function symbolic.call(layer, x, level)
  if not symbolic.is(x) then
    if type(x) == "table" and (symbolic.is(x[1]) or core.is_tensor(x[1])) then
      error(("%s '%s' takes one tensor; only merge layers (Add, Concatenate, ...) take a list"):format(
        layer.class_name, layer.name), level + 1)
    end
    error(("%s '%s' expects a tensor or a symbolic tensor, got %s"):format(layer.class_name, layer.name,
      symbolic.describe(x)), level + 1)
  end
  layer:build(x.shape)
  return symbolic.new(layer.output_shape, layer, {x})
end

--- A merge layer called on a list of symbolic tensors: builds it for their shapes.
function symbolic.call_merge(layer, xs)
  local shapes = {}
  for i, x in ipairs(xs) do shapes[i] = x.shape end
  layer:build(shapes)
  return symbolic.new(layer.output_shape, layer, table.move(xs, 1, #xs, 1, {}))
end

return symbolic
