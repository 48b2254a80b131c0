--- SimpleRNN(units, opts), LSTM(units, opts), GRU(units, opts): recurrent layers over
-- batches (batch, timesteps, features), as Keras 2's, from a zero initial state. Options:
-- activation ("tanh"), recurrent_activation ("sigmoid"; LSTM, GRU), use_bias (true),
-- kernel_initializer ("glorot_uniform"), recurrent_initializer ("orthogonal"),
-- bias_initializer ("zeros"), unit_forget_bias (true; LSTM), reset_after (true; GRU),
-- kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer,
-- return_sequences (false), go_backwards (false), input_shape = {timesteps, features}.
-- return_state (false), as Keras: calling the layer gives a list {output, h} (SimpleRNN,
-- GRU) or {output, h, c} (LSTM), the states after the last real step under a mask.
-- layer(x, {initial_state = {h0[, c0]}}) starts from those states instead of zeros, as
-- Keras' layer(x, initial_state=[...]) (tensors, or symbolic tensors in a functional
-- model; each (batch, units)); layer(x, {training = true}) as layer(x, true).
-- dropout (0) and recurrent_dropout (0), as Keras 2's: in training, each sample's input
-- features (dropout) and the state entering the recurrent product (recurrent_dropout) are
-- dropped with that probability (the kept ones scaled by 1 / (1 - rate)), masks drawn once
-- per batch for all timesteps; one input mask for all gates without recurrent_dropout,
-- else one mask per gate on each side. stateful and unroll take only their defaults
-- (false, false). Weights in Keras' layout and order (get_weights):
-- kernel (features, k*units), recurrent_kernel (units, k*units), bias (k*units), with
-- LSTM's gates i, f, c, o (k = 4) and GRU's z, r, h (k = 3; bias (2, 3*units) with
-- reset_after, the input and the recurrent bias).
-- Cls.weights_from_torch(state) converts PyTorch's nn.RNN/nn.LSTM/nn.GRU weights to them.
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"
local initializers = require "lurn.initializers"
local rnn_states = require "lurn.rnn_states"
local at_user_line = require "lurn.at_user_line"
local text = require "lurn.text"

-- The activations the cells take (their derivative follows from their output).
local CELL_ACTIVATIONS = {tanh = true, sigmoid = true, relu = true, softsign = true, linear = true}

-- Options Keras takes that lurn accepts only at their default value, with why.
local DEFAULT_ONLY = {
  stateful = {false, "stateful recurrent layers are not supported (each batch starts from a zero state)"},
  unroll = {false, "unroll is not supported (lurn's loop over time is already compiled)"},
  -- in every Keras 2 recurrent config, at values that change nothing
  implementation = {2, "implementation is Keras' choice of kernels; lurn has one (it computes the same)"},
  time_major = {false, "time_major is not supported: inputs are (batch, timesteps, features)"},
}

local BASE = {"units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
              "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
              "return_sequences", "go_backwards", "stateful", "return_state", "dropout", "recurrent_dropout",
              "unroll", "implementation", "time_major"}
local UNSUPPORTED = {"kernel_constraint", "recurrent_constraint", "bias_constraint"}

local function with(list, more)
  local out = table.move(list, 1, #list, 1, {})
  return table.move(more, 1, #more, #out + 1, out)
end

local function activation_option(cls, opts, key, default)
  local v = opts[key]
  if v == nil then return default end
  if type(v) ~= "string" or not CELL_ACTIVATIONS[v] then
    error(("%s: %s must be one of tanh, sigmoid, relu, softsign, linear, got %s"):format(cls.class_name, key,
      type(v) == "string" and ("'" .. v .. "'") or type(v)), 4)
  end
  return v
end

local function bool_option(cls, opts, key, default)
  local v = opts[key]
  if v == nil then return default end
  if type(v) ~= "boolean" then
    error(("%s: %s must be true or false, got %s"):format(cls.class_name, key, tostring(v)), 4)
  end
  return v
end

-- The constructor every recurrent class shares: cls(units, opts) or cls{units =, ...}.
local function new(cls, units, opts)
  if type(units) == "table" and opts == nil then units, opts = units.units, units end
  opts = opts or {}
  local who = cls.class_name
  if math.type(units) ~= "integer" or units < 1 then
    error(("%s: units must be a positive integer, got %s"):format(who, text.shown(units)), 3)
  end
  local self = Layer.setup(setmetatable({}, cls), opts)
  for key, spec in pairs(DEFAULT_ONLY) do
    if opts[key] ~= nil and opts[key] ~= spec[1] then
      error(("%s: %s = %s: %s"):format(who, key, tostring(opts[key]), spec[2]), 3)
    end
  end
  self.units = units
  self.activation = activation_option(cls, opts, "activation", "tanh")
  if cls._gated then
    self.recurrent_activation = activation_option(cls, opts, "recurrent_activation", "sigmoid")
  end
  self.use_bias = bool_option(cls, opts, "use_bias", true)
  self.return_sequences = bool_option(cls, opts, "return_sequences", false)
  self.go_backwards = bool_option(cls, opts, "go_backwards", false)
  self.return_state = bool_option(cls, opts, "return_state", false)
  for _, key in ipairs{"dropout", "recurrent_dropout"} do
    local v = opts[key] == nil and 0 or opts[key]
    if type(v) ~= "number" or not (v >= 0 and v < 1) then
      error(("%s: %s must be a number in [0, 1), got %s"):format(who, key, tostring(opts[key])), 3)
    end
    self[key] = v
  end
  for _, key in ipairs(cls._own_flags or {}) do self[key] = bool_option(cls, opts, key, true) end
  self.kernel_initializer = initializers.get(opts.kernel_initializer or "glorot_uniform")
  self.recurrent_initializer = initializers.get(opts.recurrent_initializer or "orthogonal")
  self.bias_initializer = initializers.get(opts.bias_initializer or "zeros")
  self:_regularize(1, opts.kernel_regularizer)
  self:_regularize(2, opts.recurrent_regularizer)
  if self.use_bias then self:_regularize(3, opts.bias_regularizer) end
  self:_regularize("activity", opts.activity_regularizer)
  return self
end

local function create(self)
  return core.recurrent_layer(self.class_name, {
    units = self.units, activation = self.activation, recurrent_activation = self.recurrent_activation,
    use_bias = self.use_bias, kernel_initializer = self.kernel_initializer,
    recurrent_initializer = self.recurrent_initializer, bias_initializer = self.bias_initializer,
    unit_forget_bias = self.unit_forget_bias, reset_after = self.reset_after,
    return_sequences = self.return_sequences, go_backwards = self.go_backwards, dropout = self.dropout,
    recurrent_dropout = self.recurrent_dropout, return_state = self.return_state,
    initial_state = self._sequence_shape ~= nil, timesteps = self._sequence_shape and self._sequence_shape[1],
    features = self._sequence_shape and self._sequence_shape[2]})
end

-- What rnn_states needs: the layer's states (h, and the LSTM's c), its output's parts
-- with return_state, the sequence it reads with initial states.
local function state_shapes(self)
  local out = {}
  for i = 1, self._gated and self.class_name == "LSTM" and 2 or 1 do out[i] = {self.units} end
  return out
end

local function output_part(self)
  local steps = self._sequence_shape and self._sequence_shape[1] or (self.input_shape and self.input_shape[1])
  return {shape = self.return_sequences and {steps, self.units} or {self.units}, keep_mask = self.return_sequences}
end

local function parts(self)
  if not self.return_state then return nil end
  local out = {output_part(self)}
  for i, s in ipairs(state_shapes(self)) do out[i + 1] = {shape = s, keep_mask = false} end
  return out
end

local function set_sequence(self, shape)
  self._sequence_shape = shape and table.move(shape, 1, #shape, 1, {})
end

local function get_config(self)
  local cfg = Layer.get_config(self)
  cfg.units, cfg.activation, cfg.use_bias = self.units, self.activation, self.use_bias
  cfg.recurrent_activation = self.recurrent_activation
  for _, key in ipairs(self._own_flags or {}) do cfg[key] = self[key] end
  cfg.return_sequences, cfg.go_backwards, cfg.return_state = self.return_sequences, self.go_backwards,
    self.return_state
  cfg.dropout, cfg.recurrent_dropout = self.dropout, self.recurrent_dropout
  for key, spec in pairs(DEFAULT_ONLY) do cfg[key] = spec[1] end
  for _, key in ipairs{"kernel_initializer", "recurrent_initializer", "bias_initializer"} do
    cfg[key] = initializers.serialize(self[key])
  end
  self:_regularizer_config(cfg, {"kernel_regularizer", "recurrent_regularizer", "bias_regularizer"})
  return cfg
end

--- PyTorch's weights of one layer, one direction (state.weight_ih_l0 (k*units, features),
-- weight_hh_l0 (k*units, units), and bias_ih_l0, bias_hh_l0 (k*units) unless it has no
-- bias; tensors or nested lists) -> {kernel, recurrent_kernel[, bias]} in Keras' layout,
-- for set_weights. order: Keras' gate block i comes from PyTorch's block order[i].
local function from_torch(cls, state, order, split_bias)
  local who = cls.class_name .. ".weights_from_torch"
  if type(state) ~= "table" then error(("%s: expected a table of PyTorch tensors, got %s"):format(who, type(state)), 3) end
  local known = {weight_ih_l0 = true, weight_hh_l0 = true, bias_ih_l0 = true, bias_hh_l0 = true}
  for key in pairs(state) do
    if not known[key] then
      error(("%s: the state holds %s; only a one-layer, one-direction module converts (weight_ih_l0, "
        .. "weight_hh_l0, bias_ih_l0, bias_hh_l0): give the keys of one layer and direction"):format(who,
        tostring(key)), 3)
    end
  end
  local function get(key, optional)
    local v = state[key]
    if v == nil then
      if optional then return nil end
      error(("%s: the state has no %s"):format(who, key), 4)
    end
    return core.is_tensor(v) and v or core.tensor(v)
  end
  local wih, whh = get("weight_ih_l0"), get("weight_hh_l0")
  local bih, bhh = get("bias_ih_l0", true), get("bias_hh_l0", true)
  local k = #order
  local rows = wih:shape()[1]
  if wih:dim() ~= 2 or whh:dim() ~= 2 or rows % k ~= 0 or whh:shape()[1] ~= rows or whh:shape()[2] * k ~= rows then
    error(("%s: weight_ih_l0 must be (%d*units, features) and weight_hh_l0 (%d*units, units), got (%s) and (%s)")
      :format(who, k, k, table.concat(wih:shape(), ", "), table.concat(whh:shape(), ", ")), 3)
  end
  local units = rows // k
  local function reorder(t) -- blocks of the first dimension in Keras' order
    local parts = {}
    for i, b in ipairs(order) do parts[i] = t:narrow(1, (b - 1) * units + 1, units) end
    return core.cat(parts, 1):contiguous()
  end
  local out = {reorder(wih):t():contiguous(), reorder(whh):t():contiguous()}
  if (bih == nil) ~= (bhh == nil) then error(("%s: give both bias_ih_l0 and bias_hh_l0, or neither"):format(who), 3) end
  if bih then
    for _, b in ipairs{bih, bhh} do
      if b:dim() ~= 1 or b:shape()[1] ~= rows then
        error(("%s: the biases must have %d values, got (%s)"):format(who, rows, table.concat(b:shape(), ", ")), 3)
      end
    end
    if split_bias then
      out[3] = core.stack({reorder(bih), reorder(bhh)}, 1)
    else
      out[3] = (reorder(bih) + reorder(bhh)):contiguous()
    end
  end
  return out
end

local function define(class_name, spec)
  local cls = Layer._define(class_name)
  cls._options = with(BASE, spec.options or {})
  cls._unsupported_options = UNSUPPORTED
  cls._gated = spec.gated
  cls._own_flags = spec.flags
  cls._new = function(units, opts) return new(cls, units, opts) end
  cls._create, cls.get_config = create, get_config
  cls._state_shapes, cls._parts, cls._set_sequence, cls._output_part = state_shapes, parts, set_sequence, output_part
  cls._several_outputs = function(self) return self.return_state end
  cls._takes_initial_state = true
  cls.__call = at_user_line(rnn_states.layer_call)
  cls.weights_from_torch = function(state) return from_torch(cls, state, spec.torch_order, spec.split_bias) end
  return cls
end

local SimpleRNN = define("SimpleRNN", {torch_order = {1}})
local LSTM = define("LSTM", {options = {"recurrent_activation", "unit_forget_bias"}, gated = true,
                             flags = {"unit_forget_bias"}, torch_order = {1, 2, 3, 4}})
local GRU = define("GRU", {options = {"recurrent_activation", "reset_after"}, gated = true, flags = {"reset_after"},
                           torch_order = {2, 1, 3}, split_bias = true})

return {SimpleRNN = SimpleRNN, LSTM = LSTM, GRU = GRU}
