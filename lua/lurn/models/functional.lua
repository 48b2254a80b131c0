--- Functional: the functional API. lurn.Model{inputs = x, outputs = y} (the Model base
-- called, as Keras' Model(inputs, outputs)) makes one: x is the symbolic tensor of a
-- lurn.Input and y one made from it by calling layers (see lurn/symbolic.lua). The
-- layers between them run in C as one graph container (src/layers/graph.c) inside the
-- same C model a Sequential uses; compile, fit, evaluate, predict, weights, get_config
-- and summary are the Model base's (model.lua), as Sequential's are. model.layers lists
-- the InputLayer first, then the layers in Keras' order: by decreasing depth from the
-- output, ties in the order met walking back from the output. They also run in that
-- order, and weights follow it.
local class = require "lurn.class"
local core = require "lurn.core"
local Model = require "lurn.models.model"  -- compile, fit, evaluate, predict, weights
local symbolic = require "lurn.symbolic"
local at_user_line = require "lurn.at_user_line"
local options = require "lurn.options"
local shapes = require "lurn.shape"
local multi_io = require "lurn.models.multi_io"

local Functional = class(Model)
Functional.class_name = "Functional"
Functional.__index = Model._index_for(Functional)  -- trainable_weights, non_trainable_weights

-- The symbolic tensors of `inputs` or `outputs`: a tensor or a list of them (Keras also
-- takes a dict; lurn a list, whose order is the order of the data lists).
local function tensor_list(what, v)
  if v == nil then
    error(("Model: %s must be a symbolic tensor (from lurn.Input and layer calls), got a nil"):format(what), 3)
  end
  local list = (type(v) == "table" and not symbolic.is(v)) and shapes.list(v, "Model", what, 3, 32) or {v}
  local seen = {}
  for i, t in ipairs(list) do
    if not symbolic.is(t) then
      error(("Model: %s%s must be a symbolic tensor (from lurn.Input and layer calls), got %s"):format(what,
        #list > 1 and ("[" .. i .. "]") or "", symbolic.describe(t)), 3)
    end
    if seen[t] then error(("Model: %s lists the output of '%s' twice"):format(what, t.layer.name), 3) end
    seen[t] = true
  end
  return list
end

-- The nodes that lead from the inputs to the outputs, in Keras' order (deepest first:
-- the inputs' layers lead).
local function graph_order(inputs, outputs)
  local post, pre, leaves, met = {}, {}, {}, 0
  local function visit(t)
    if pre[t] then return end
    met = met + 1
    pre[t] = met
    if t.is_input then
      leaves[#leaves + 1] = t
    else
      for _, src in ipairs(t.inputs) do visit(src) end
    end
    post[#post + 1] = t
  end
  for _, output in ipairs(outputs) do visit(output) end
  local is_input = {}
  for _, input in ipairs(inputs) do is_input[input] = true end
  for _, leaf in ipairs(leaves) do
    if not is_input[leaf] then
      error(("Model: the outputs depend on Input '%s' of shape %s, which is not among the model's inputs: "
        .. "they are not reachable from the inputs alone"):format(leaf.layer.name, symbolic.shape_text(leaf.shape)), 3)
    end
  end
  for _, input in ipairs(inputs) do
    if not pre[input] then
      error(("Model: the outputs do not depend on the input '%s'"):format(input.layer.name), 3)
    end
  end
  -- depth: 0 at the outputs, one more than the deepest node reading it (reverse post-order
  -- visits every reader of a node before the node)
  local depth = {}
  for i = #post, 1, -1 do
    local t = post[i]
    depth[t] = depth[t] or 0
    for _, src in ipairs(t.inputs) do depth[src] = math.max(depth[src] or 0, depth[t] + 1) end
  end
  table.sort(post, function(a, b)
    if depth[a] ~= depth[b] then return depth[a] > depth[b] end
    return pre[a] < pre[b]
  end)
  return post
end

-- The C layers of node t, run one after another on its inputs: the layer's own (itself,
-- then a Lua activation if it has one), after a Pack of its inputs when it reads initial
-- states; or, for one of the outputs of a call that gives several (t._slice), the Slice
-- of the packed output that is this one (see lurn/rnn_states.lua). Made once per tensor.
local function node_cores(t)
  if t._slice then
    t._slice.core = t._slice.core or core.slice_layer(t._slice.offset, t.shape, t._slice.keep_mask)
    return {t._slice.core}
  end
  if not t._pack then return t.layer:cores() end
  t._pack_core = t._pack_core or core.merge_layer("Pack")
  local cores = {t._pack_core}
  for _, c in ipairs(t.layer:cores()) do cores[#cores + 1] = c end
  return cores
end

-- The nodes that are layer calls, without the slices of a call's outputs: what
-- model.layers, the summary and the config show.
local function layer_nodes(nodes)
  local out = {}
  for _, t in ipairs(nodes) do
    if not t._slice then out[#out + 1] = t end
  end
  return out
end

-- The C graph of the nodes (inputs among them): a layer's C layers (itself, then a Lua
-- activation if it has one) become consecutive nodes; input j is C node 1 - j. Several
-- inputs or outputs are passed to C (io), packed side by side in x and y.
local function c_graph(nodes, inputs_list, outputs)
  local cores, inputs, node_of = {}, {}, {}
  for j, input in ipairs(inputs_list) do node_of[input] = 1 - j end
  for i = 1, #nodes do
    local t = nodes[i]
    if node_of[t] then goto continue end
    local from = {}
    for j, src in ipairs(t.inputs) do from[j] = node_of[src] end
    for k, c in ipairs(node_cores(t)) do
      cores[#cores + 1] = c
      inputs[#inputs + 1] = k == 1 and from or {#cores - 1}
    end
    node_of[t] = #cores
    ::continue::
  end
  if #inputs_list == 1 and #outputs == 1 then return core.graph_layer(cores, inputs) end
  local io = {inputs = {}, outputs = {}}
  for j, input in ipairs(inputs_list) do io.inputs[j] = input.shape end
  for k, output in ipairs(outputs) do io.outputs[k] = node_of[output] end
  return core.graph_layer(cores, inputs, io)
end

--- Model{inputs =, outputs =, name =}, or Model(inputs, outputs[, {name =}]) as Keras.
function Functional.new(opts, outputs, extra)
  if symbolic.is(opts) or (type(opts) == "table" and opts.inputs == nil and #opts > 0) then
    options.check(extra, {"name"}, "Model", 2)
    opts = {inputs = opts, outputs = outputs, name = extra and extra.name}
  end
  if type(opts) ~= "table" then error("Model: expected {inputs = ..., outputs = ...}", 2) end
  options.check(opts, {"inputs", "outputs", "name"}, "Model", 2)
  local inputs, outputs = tensor_list("inputs", opts.inputs), tensor_list("outputs", opts.outputs)
  for _, input in ipairs(inputs) do
    if not input.is_input then
      error(("Model: inputs must come from lurn.Input, got the output of %s '%s'"):format(input.layer.class_name,
        input.layer.name), 2)
    end
  end
  for _, output in ipairs(outputs) do
    if output.is_input then
      error(("Model: output '%s' is an input: there are no layers between them"):format(output.layer.name), 2)
    end
  end
  local all_nodes = graph_order(inputs, outputs)
  local nodes = layer_nodes(all_nodes)
  local layers, seen = {}, {}
  for i, t in ipairs(nodes) do
    if seen[t.layer] then
      error(("Model: layer '%s' is called twice in this model; shared layers (the same weights twice) are not "
        .. "supported yet: create a second layer"):format(t.layer.name), 2)
    end
    seen[t.layer], layers[i] = true, t.layer
  end
  local self = Model._new(Functional, layers, opts.name, "model")
  self._nodes = nodes
  self.inputs, self.outputs = inputs, outputs
  local function copy(shape) return table.move(shape, 1, #shape, 1, {}) end
  if #inputs == 1 and #outputs == 1 then
    self.input, self.output = inputs[1], outputs[1]
    self.input_shape, self.output_shape = copy(inputs[1].shape), copy(outputs[1].shape)
  else  -- Keras: lists of per-sample shapes; the C model takes them packed (multi_io.lua)
    self.input = #inputs == 1 and inputs[1] or inputs
    self.output = #outputs == 1 and outputs[1] or outputs
    multi_io.setup(self, inputs, outputs)
  end
  local m = core.model()
  m:add(c_graph(all_nodes, inputs, outputs))
  m:build(self._packed_input_shape or self.input_shape)
  self._core = m
  self:_sync_trainable()
  return self
end

function Functional:add()
  error("Model: a functional model is fixed once made; call layers on symbolic tensors and make a new Model", 2)
end

--- Built when made; a shape that is not the input's is an error.
function Functional:build(input_shape)
  if input_shape and self._io then
    error("Model: a model of several inputs is built when made: build takes no shape", 2)
  elseif input_shape then
    self:_check_build_shape(shapes.list(input_shape, "Model: build", "input_shape", 2), "Model")
  end
  return self
end

--- model(x) on a tensor: the output in inference mode, as for any model.
function Functional:__call(x, training)
  if symbolic.is(x) or (type(x) == "table" and symbolic.is(x[1])) then
    error("Model: calling a model on a symbolic tensor (a model inside a model) is not supported yet", 2)
  end
  return Model.__call(self, x, training)
end

local thousands = require("lurn.text").thousands
local summary = require "lurn.models.summary"
local COLUMNS = {summary.column("Layer (type)", 31, {gap = 1}),
                 summary.column("Output Shape", 21, {before = " ", gap = 1}),
                 summary.column("Param #", 10, {before = " ", right = true}),
                 summary.column("Connected to", 20, {before = "   "})}

-- The summary's columns and rows (Model:summary prints them), as Keras' functional table:
-- layer (type), output shape, parameters and the layers each one reads ("name[0][0]",
-- one per line).
function Functional:_summary_table()
  local rows = {}
  for i, t in ipairs(self._nodes) do
    local layer = t.layer
    local shape = symbolic.shape_text(t.shape)
    if t._parts then  -- a call that gives several tensors: their shapes, as Keras' list
      local each = {}
      for k, part in ipairs(t._parts) do each[k] = symbolic.shape_text(part.shape) end
      shape = "[" .. table.concat(each, ", ") .. "]"
    end
    local from = {}
    for j, src in ipairs(t.inputs) do from[j] = ("%s[0][%d]"):format(src.layer.name, src.tensor_index or 0) end
    rows[i] = {("%s (%s)"):format(layer.name, layer.class_name), t.is_input and ("[" .. shape .. "]") or shape,
               thousands((layer:_param_counts())), from}
  end
  return COLUMNS, rows
end

-- A tensor in a config: the name of the layer that made it, or {name, tensor_index} for
-- one of the tensors of a call that gives several (Keras' [name, node, tensor_index]).
local function tensor_ref(t)
  if t.tensor_index and t.tensor_index > 0 then return {t.layer.name, t.tensor_index} end
  return t.layer.name
end

-- What get_config (the Model base's) adds for a functional model: each layer's entry
-- gets its name and inbound_nodes, the tensors it reads (in the order of its inputs, the
-- sequence then the initial states; Keras' inbound_nodes, simplified: see tensor_ref),
-- and the config names the input_layers and output_layers.
function Functional:_add_config(cfg)
  cfg.input_layers, cfg.output_layers = {}, {}
  for j, t in ipairs(self.inputs) do cfg.input_layers[j] = t.layer.name end
  for k, t in ipairs(self.outputs) do cfg.output_layers[k] = tensor_ref(t) end
  for i, t in ipairs(self._nodes) do
    local entry = cfg.layers[i]
    entry.name, entry.inbound_nodes = t.layer.name, {}
    for j, src in ipairs(t.inputs) do entry.inbound_nodes[j] = tensor_ref(src) end
  end
end

-- The symbolic tensor a config's reference names (see tensor_ref), among made (layer
-- name -> the call's result: a symbolic tensor, or the list of several); nil if none.
local function resolve_ref(made, ref)
  local name, index = ref, 0
  if type(ref) == "table" then name, index = ref[1], ref[2] end
  local result = type(name) == "string" and made[name]
  if not result or math.type(index) ~= "integer" or index < 0 then return nil end
  if symbolic.is(result) then return index == 0 and result or nil end
  return result[index + 1]
end

local function ref_text(ref)
  if type(ref) == "table" then return ("%s[%s]"):format(tostring(ref[1]), tostring(ref[2])) end
  return tostring(ref)
end

-- A layer of a config called on what its inbound_nodes name: a merge layer on its list,
-- a layer with initial states (more than one input) on the sequence with them.
local function call_from_config(layer, inputs)
  if #inputs > 1 and layer._takes_initial_state then
    return layer(inputs[1], {initial_state = table.move(inputs, 2, #inputs, 1, {})})
  end
  return layer(#inputs == 1 and inputs[1] or inputs)
end

--- Model.from_config(config): a new model with the layers get_config describes, connected
-- the same way (new weights: copy them with set_weights).
function Functional.from_config(config)
  if type(config) ~= "table" or type(config.layers) ~= "table" or type(config.input_layers) ~= "table"
    or type(config.output_layers) ~= "table" then
    error("Model.from_config: expected a config {name =, layers =, input_layers =, output_layers =} (what "
      .. "model:get_config gives)", 2)
  end
  local deserialize = require("lurn.layers").deserialize
  local outputs = {}  -- layer name -> its symbolic output (or the list of several)
  for i, entry in ipairs(config.layers) do
    if type(entry) ~= "table" or type(entry.inbound_nodes) ~= "table" then
      error(("Model.from_config: layer %d has no inbound_nodes list"):format(i), 2)
    end
    local inputs = {}
    for j, ref in ipairs(entry.inbound_nodes) do
      inputs[j] = resolve_ref(outputs, ref)
      if not inputs[j] then
        error(("Model.from_config: layer %d reads '%s', which no layer before it makes"):format(i, ref_text(ref)), 2)
      end
    end
    local layer = deserialize(entry)
    if layer.class_name == "InputLayer" then
      outputs[layer.name] = layer.output
    else  -- a merge layer reads a list of 2 or more, the others one tensor (and states)
      outputs[layer.name] = call_from_config(layer, inputs)
    end
  end
  local function tensors(names)
    local list = {}
    for i, name in ipairs(names) do
      list[i] = resolve_ref(outputs, name)
      if not list[i] then
        error("Model.from_config: input_layers and output_layers must name layers of the config", 3)
      end
    end
    if #list == 0 then error("Model.from_config: input_layers and output_layers must name layers of the config", 3) end
    return list
  end
  local model = Functional.new{inputs = tensors(config.input_layers), outputs = tensors(config.output_layers),
                               name = config.name}
  model.trainable = config.trainable ~= false  -- a frozen model stays frozen
  return model
end

for _, method in ipairs{"add", "build", "__call", "from_config"} do
  Functional[method] = at_user_line(Functional[method])
end

setmetatable(Functional, {__index = Model, __call = at_user_line(function(_, ...) return Functional.new(...) end)})

return Functional
