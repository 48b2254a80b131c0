--- Keras' return_state and initial_state, what the recurrent layers (layers/recurrent.lua)
-- and Bidirectional share: calling such a layer, eagerly on tensors or symbolically.
--
-- In C a layer keeps one input and one output (src/layers/recurrent.h): with return_state
-- its output packs, per sample, the output flattened and then the final states; with
-- initial_state its input packs the sequence flattened and then the states. Eagerly this
-- file packs the input (core.cat) and splits the output (narrow). Symbolically a call
-- gives a hidden packed tensor (`_parts`, and `_pack` when it reads initial states: the
-- functional graph puts a Pack node in front of the layer) and, for each of Keras' output
-- tensors, a symbolic tensor with its `tensor_index` (0-based) and `_slice` (offset,
-- keep_mask), which the graph reads through a Slice node. Those nodes are C only: the
-- model's layers, summary and config show the user's layers alone, as Keras.
--
-- A layer using this provides _parts() (nil for one output, else {{shape =, keep_mask =},
-- ...} in Keras' order), _state_shapes() (the initial states' shapes, in Keras' order) and
-- _set_sequence(shape) (the sequence's per-sample shape when it reads initial states, nil
-- when not; before it is built).
local core = require "lurn.core"
local symbolic = require "lurn.symbolic"

local states = {}

local numel = require("lurn.shape").numel

local function text(shape)
  return symbolic.shape_text(shape)
end

-- The states given as initial_state: a list of the expected count, each of the expected
-- per-sample shape (shape_of(v) gives it), or an error naming the layer.
local function check_states(layer, given, shape_of)
  local want = layer:_state_shapes()
  if type(given) ~= "table" or symbolic.is(given) or core.is_tensor(given) then
    given = {given}
  end
  if #given ~= #want then
    local parts = {}
    for i, s in ipairs(want) do parts[i] = text(s) end
    error(("%s: initial_state must be a list of %d state%s (%s), got %d"):format(tostring(layer), #want,
      #want == 1 and "" or "s", table.concat(parts, ", "), #given), 0)
  end
  for i, v in ipairs(given) do
    local shape = shape_of(v, i)
    local same = #shape == #want[i]
    for d = 1, #shape do same = same and shape[d] == want[i][d] end
    if not same then
      error(("%s: initial_state %d must have shape %s, got %s"):format(tostring(layer), i, text(want[i]),
        text(shape)), 0)
    end
  end
  return given
end

-- Builds the layer for a sequence of per-sample shape seq, reading initial states or not.
local function build(layer, seq, with_states)
  if layer.built then
    if (layer._sequence_shape ~= nil) ~= with_states then
      error(("%s: it was built %s initial_state; call it the same way (a layer called twice is not supported "
        .. "yet)"):format(tostring(layer), with_states and "without" or "with"), 0)
    end
  end
  if not with_states then
    layer:build(seq)
    return
  end
  if not layer.built then
    if #seq ~= 2 then
      error(("%s: expected inputs (batch, timesteps, features), got a sample of shape %s"):format(tostring(layer),
        text(seq)), 0)
    end
    layer:_set_sequence(seq)
  end
  local total = numel(seq)
  for _, s in ipairs(layer:_state_shapes()) do total = total + numel(s) end
  if layer.built then
    local had = layer._sequence_shape
    if had[1] ~= seq[1] or had[2] ~= seq[2] then
      error(("%s: built for sequences %s, got %s"):format(tostring(layer), text(had), text(seq)), 0)
    end
    return
  end
  layer:build({total})
  layer.input_shape = table.move(seq, 1, #seq, 1, {})
end

--- layer(x, initial_state) on a symbolic x: the symbolic output, or Keras' list of them.
function states.symbolic_call(layer, x, given)
  if given ~= nil then
    -- the states' shapes are known once the layer knows its units: check them after
    -- setting the sequence, before building
    if type(given) ~= "table" then given = {given} end
    for i, v in ipairs(symbolic.is(given) and {given} or given) do
      if not symbolic.is(v) then
        error(("%s: initial_state %d must be a symbolic tensor (the call is on one), got %s"):format(
          tostring(layer), i, symbolic.describe(v)), 0)
      end
    end
  end
  if not symbolic.is(x) then
    error(("%s expects a tensor or a symbolic tensor, got %s"):format(tostring(layer), symbolic.describe(x)), 0)
  end
  if given ~= nil then given = check_states(layer, given, function(v) return v.shape end) end
  build(layer, x.shape, given ~= nil)
  local inputs = {x}
  for i, v in ipairs(given or {}) do inputs[i + 1] = v end
  local parts = layer:_parts()
  local packed = symbolic.new(parts and {numel(layer.output_shape)} or layer.output_shape, layer, inputs)
  packed._pack = given ~= nil
  if not parts then return packed end
  packed._parts = parts
  local out, offset = {}, 0
  for k, part in ipairs(parts) do
    local t = symbolic.new(part.shape, layer, {packed})
    t.tensor_index = k - 1
    t._slice = {offset = offset, keep_mask = part.keep_mask}
    offset = offset + numel(part.shape)
    out[k] = t
  end
  return out
end

--- layer(x, initial_state) on a tensor x (batch, timesteps, features): the output, or
-- Keras' list of them (tensors).
function states.eager_call(layer, x, given, training)
  if not core.is_tensor(x) then
    error(("%s: expected a tensor or a symbolic tensor, got %s"):format(tostring(layer), symbolic.describe(x)), 0)
  end
  if x:dim() ~= 3 then
    error(("%s: expected a batch (batch, timesteps, features), got shape (%s)"):format(tostring(layer),
      table.concat(x:shape(), ", ")), 0)
  end
  local n, seq = x:shape()[1], table.move(x:shape(), 2, 3, 1, {})
  local input = x:contiguous()
  if given ~= nil then
    given = check_states(layer, given, function(v, i)
      if not core.is_tensor(v) then
        error(("%s: initial_state %d must be a tensor, got %s"):format(tostring(layer), i, symbolic.describe(v)), 0)
      end
      if v:dim() < 1 or v:shape()[1] ~= n then
        error(("%s: initial_state %d must have the batch's %d samples, got shape (%s)"):format(tostring(layer),
          i, n, table.concat(v:shape(), ", ")), 0)
      end
      return table.move(v:shape(), 2, v:dim(), 1, {})
    end)
  end
  build(layer, seq, given ~= nil)
  if given ~= nil then
    local pieces = {input:reshape{n, numel(seq)}}
    for i, v in ipairs(given) do pieces[i + 1] = v:contiguous():reshape{n, v:numel() // math.max(n, 1)} end
    input = core.cat(pieces, 2):contiguous()
  end
  local y = layer._core:forward(input, training)
  local parts = layer:_parts()
  if not parts then return y end
  local out, offset = {}, 0
  for k, part in ipairs(parts) do
    local size = numel(part.shape)
    local shape = {n}
    table.move(part.shape, 1, #part.shape, 2, shape)
    out[k] = y:narrow(2, offset + 1, size):contiguous():reshape(shape)
    offset = offset + size
  end
  return out
end

--- The __call of a layer with states: layer(x[, training]) or layer(x, {initial_state =,
-- training =}), as Keras' layer(x, initial_state=[...], training=...).
function states.call(layer, x, opts)
  local training, given = opts, nil
  if type(opts) == "table" then
    for key in pairs(opts) do
      if key ~= "initial_state" and key ~= "training" then
        error(("%s: a call takes initial_state and training, got %s"):format(tostring(layer), tostring(key)), 0)
      end
    end
    training, given = opts.training, opts.initial_state
  end
  if symbolic.is(x) or (type(x) == "table" and not core.is_tensor(x)) then
    if type(x) == "table" and not symbolic.is(x) then
      error(("%s takes one tensor (give the states as {initial_state = {...}}); only merge layers take a "
        .. "list"):format(tostring(layer)), 0)
    end
    return states.symbolic_call(layer, x, given)
  end
  if given == nil and not layer._sequence_shape and not layer:_several_outputs() then
    return nil  -- one tensor in, one out: the plain call (Layer.__call) does it
  end
  return states.eager_call(layer, x, given, training)
end

--- The __call of a layer that can give or take states (the recurrent layers, Bidirectional):
-- states.call, else the plain Layer call.
function states.layer_call(self, x, opts)
  self:_check_instance()
  local y = states.call(self, x, opts)
  if y ~= nil then return y end
  if type(opts) == "table" then opts = opts.training end
  return require("lurn.layers.layer").__call(self, x, opts)
end

return states
