--- Bidirectional(layer, {merge_mode = "concat", backward_layer = nil}): a recurrent layer
-- (SimpleRNN, LSTM, GRU) run over the sequence and its twin run the other way, their
-- outputs merged, as Keras' Bidirectional: "concat" (on the last axis, forward first),
-- "sum", "mul" or "ave". The twin is built from the layer's config with go_backwards
-- flipped (or is backward_layer); with return_sequences its outputs are put back in the
-- input's time order before merging. The layers are named forward_<name> and
-- backward_<name>; weights are the forward layer's, then the backward's.
-- merge_mode = false (or "none") is Keras' merge_mode=None (Lua cannot pass nil as an
-- option's value, and a config stores it as false): calling the layer gives the two
-- outputs as a list {forward_output, backward_output}. With the layer's return_state the
-- call gives {output(s)..., forward_h[, forward_c], backward_h[, backward_c]}, as Keras;
-- layer(x, {initial_state = {forward states..., backward states...}}) starts both from
-- theirs, as Keras' initial_state (forward's first).
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"
local rnn_states = require "lurn.rnn_states"
local at_user_line = require "lurn.at_user_line"

local Bidirectional = Layer._define("Bidirectional")
Bidirectional._options = {"layer", "merge_mode", "backward_layer"}
Bidirectional._unsupported_options = {"weights"}

local MERGE_MODES = {concat = true, sum = true, mul = true, ave = true, none = true}
local RECURRENT = {SimpleRNN = true, LSTM = true, GRU = true}

local function describe(v)
  if type(v) ~= "table" then return type(v) end
  return rawget(v, "class_name") and "the class " .. v.class_name or (v.class_name or "a table")
end

local function check_recurrent(layer, what)
  if type(layer) ~= "table" or not layer._create or rawget(layer, "class_name") or not RECURRENT[layer.class_name] then
    error(("Bidirectional: %s must be a recurrent layer (SimpleRNN, LSTM, GRU), got %s"):format(what,
      describe(layer)), 4)
  end
  if layer._regularizers and layer._regularizers.activity then
    error(("Bidirectional: %s has an activity_regularizer, which lurn does not apply inside a Bidirectional yet"):format(
      what), 4)
  end
  if layer._core then
    error(("Bidirectional: %s '%s' is already built; give a new layer"):format(what, layer.name), 4)
  end
end

function Bidirectional._new(layer, opts)
  if opts == nil and type(layer) == "table" and layer.layer ~= nil and not layer._create then
    layer, opts = layer.layer, layer
  end
  opts = opts or {}
  check_recurrent(layer, "layer")
  local merge_mode = opts.merge_mode == nil and "concat" or opts.merge_mode
  if merge_mode == false then merge_mode = "none" end  -- Keras' None
  if not MERGE_MODES[merge_mode] then
    error(("Bidirectional: merge_mode must be concat, sum, mul, ave, or false (\"none\": Keras' None, the two "
      .. "outputs as a list), got %s"):format(tostring(merge_mode)), 2)
  end
  local setup_opts = {}
  for k, v in pairs(opts) do
    if k ~= "layer" and k ~= "merge_mode" and k ~= "backward_layer" then setup_opts[k] = v end
  end
  local self = Layer.setup(setmetatable({}, Bidirectional), setup_opts)
  self.merge_mode = merge_mode
  local backward = opts.backward_layer
  if backward == nil then
    local cfg = layer:get_config()
    cfg.name, cfg.go_backwards = nil, not layer.go_backwards
    backward = layer.from_config(cfg)
  else
    check_recurrent(backward, "backward_layer")
    if backward.go_backwards == layer.go_backwards then
      error("Bidirectional: backward_layer must read the other way: its go_backwards must differ from layer's", 2)
    end
    if backward.return_sequences ~= layer.return_sequences then
      error("Bidirectional: layer and backward_layer must agree on return_sequences", 2)
    end
    if backward.return_state ~= layer.return_state or backward.class_name ~= layer.class_name
      or backward.units ~= layer.units then
      error("Bidirectional: layer and backward_layer must be of one class and agree on units and return_state "
        .. "(their states are given and returned side by side)", 2)
    end
  end
  Layer._wrap(layer, self, 2)
  Layer._wrap(backward, self, 2)
  -- Keras' names: forward_<layer>, backward_<backward layer> (the twin is named after layer)
  local base = layer.name
  local own = opts.backward_layer ~= nil and backward.name or base
  layer.name, backward.name = "forward_" .. base, "backward_" .. own:gsub("^backward_", "")
  self.forward_layer, self.backward_layer = layer, backward
  return self
end

function Bidirectional:_create()
  for _, inner in ipairs(self:_sublayers()) do inner:_make_core() end
  return core.bidirectional_layer(self.forward_layer._core, self.backward_layer._core, self.merge_mode)
end

-- What rnn_states needs (see there): the parts of the output, the states.
function Bidirectional:_several_outputs()
  return self.merge_mode == "none" or self.forward_layer.return_state
end

function Bidirectional:_state_shapes()
  local out = {}
  for _, inner in ipairs(self:_sublayers()) do
    for _, s in ipairs(inner:_state_shapes()) do out[#out + 1] = s end
  end
  return out
end

function Bidirectional:_set_sequence(shape)
  self._sequence_shape = shape and table.move(shape, 1, #shape, 1, {})
  for _, inner in ipairs(self:_sublayers()) do inner:_set_sequence(shape) end
end

function Bidirectional:_parts()
  if not self:_several_outputs() then return nil end
  local out = {}
  local part = self.forward_layer:_output_part()
  if self.merge_mode == "none" then
    out[1], out[2] = part, part
  else
    local shape = table.move(part.shape, 1, #part.shape, 1, {})
    if self.merge_mode == "concat" then shape[#shape] = 2 * shape[#shape] end
    out[1] = {shape = shape, keep_mask = part.keep_mask}
  end
  if self.forward_layer.return_state then
    for _, s in ipairs(self:_state_shapes()) do out[#out + 1] = {shape = s, keep_mask = false} end
  end
  return out
end

Bidirectional._takes_initial_state = true
Bidirectional.__call = at_user_line(rnn_states.layer_call)

function Bidirectional:_built(input_shape)
  Layer._built(self, input_shape)
  for _, inner in ipairs(self:_sublayers()) do inner:_built(input_shape) end
  if self._sequence_shape then  -- built on the packed sequence and states: say the sequence
    for _, layer in ipairs{self, self.forward_layer, self.backward_layer} do
      layer.input_shape = table.move(self._sequence_shape, 1, 2, 1, {})
    end
  end
end

-- The two layers, for whoever expands containers (per-layer statistics, weights).
function Bidirectional:_sublayers() return {self.forward_layer, self.backward_layer} end

local function concat(lists)
  local out = {}
  for _, list in ipairs(lists) do for _, v in ipairs(list) do out[#out + 1] = v end end
  return out
end

function Bidirectional:get_weights()
  return concat{self.forward_layer:get_weights(), self.backward_layer:get_weights()}
end

function Bidirectional:set_weights(weights)
  local nf = #self.forward_layer:get_weights()
  if type(weights) ~= "table" then error("Bidirectional:set_weights: expected a list of tensors", 2) end
  self.forward_layer:set_weights(table.move(weights, 1, nf, 1, {}))
  self.backward_layer:set_weights(table.move(weights, nf + 1, #weights, 1, {}))
end

function Bidirectional:gradients()
  return concat{self.forward_layer:gradients(), self.backward_layer:gradients()}
end

function Bidirectional:parameters()
  local params, names = {}, {}
  for _, inner in ipairs(self:_sublayers()) do
    local p, n = inner:parameters()
    for i = 1, #p do
      params[#params + 1], names[#names + 1] = p[i], inner.name .. "/" .. n[i]
    end
  end
  return params, names
end

function Bidirectional:_param_counts()
  local total, trainable = 0, 0
  for _, inner in ipairs(self:_sublayers()) do
    local n, t = inner:_param_counts()
    total, trainable = total + n, trainable + t
  end
  return total, self.trainable and trainable or 0
end

function Bidirectional:_sync_trainable(frozen_above)
  local frozen = Layer._sync_trainable(self, frozen_above)
  for _, inner in ipairs(self:_sublayers()) do inner:_sync_trainable(frozen) end
  return frozen
end

--- Keras' config: {name =, trainable =, layer = serialized forward layer, merge_mode =,
-- backward_layer = serialized backward layer}.
function Bidirectional:get_config()
  local layers = require "lurn.layers"
  local cfg = Layer.get_config(self)
  cfg.layer, cfg.backward_layer = layers.serialize(self.forward_layer), layers.serialize(self.backward_layer)
  cfg.merge_mode = self.merge_mode ~= "none" and self.merge_mode or false
  return cfg
end

function Bidirectional._from_config(cls, config)
  local layers = require "lurn.layers"
  if type(config) ~= "table" or type(config.layer) ~= "table" then
    error("Bidirectional.from_config: expected a config with layer = serialized layer", 3)
  end
  local opts = Layer._copy_data(config)
  local forward = layers.deserialize(config.layer)
  forward.name = (forward.name:gsub("^forward_", ""))
  opts.layer = nil
  if config.backward_layer ~= nil then opts.backward_layer = layers.deserialize(config.backward_layer) end
  return cls._new(forward, opts)
end

return {Bidirectional = Bidirectional}
