--- The base of every layer on the Lua side: naming, building the C layer for an input
-- shape, weights in and out, configs. A layer type is made by Layer._define(class_name)
-- and provides `_new(...)` (its constructor), `_create()` (returns its lurn.Layer
-- userdata) and `get_config()`; see dense.lua for a complete one. Every file in this
-- folder returns a table of its classes by class name ({Dense = Dense}); a class is
-- callable as its constructor (Dense(4) is Dense._new(4)) and has Dense.from_config(config).
local class = require "lurn.class"
local core = require "lurn.core"
local activations = require "lurn.activations"
local initializers = require "lurn.initializers"
local regularizers = require "lurn.regularizers"
local symbolic = require "lurn.symbolic"
local at_user_line = require "lurn.at_user_line"
local shapes = require "lurn.shape"
local options = require "lurn.options"

local Layer = class()

--- A layer class named class_name, a subclass of parent (Layer by default): callable as its
-- constructor cls._new, with cls.from_config(config), which builds the layer get_config
-- described (cls._from_config does the work; containers override it).
function Layer._define(class_name, parent)
  local cls = class(parent or Layer)
  cls.class_name = class_name
  getmetatable(cls).__call = function(_, ...) return cls._new(...) end
  cls.from_config = function(config) return cls._from_config(cls, config) end
  return cls
end

-- A deep copy of plain data (configs are handed to constructors, which may keep tables).
local function copy_data(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = copy_data(x) end
  return out
end
Layer._copy_data = copy_data

--- Marks `layer` as the inner layer of the wrapper `by` (TimeDistributed, Bidirectional),
-- refusing one that another wrapper already holds: each would make its own C layer, two
-- sets of weights where Keras shares one (shared layers are not supported yet).
function Layer._wrap(layer, by, level)
  if layer._wrapped_by and layer._wrapped_by ~= by then
    error(("%s: layer '%s' is already inside a %s; a layer in two places (shared weights) is not supported yet: "
      .. "give each wrapper its own layer"):format(by.class_name, layer.name, layer._wrapped_by.class_name), level + 1)
  end
  layer._wrapped_by = by
end

-- A class (lurn.layers.Dense) where a layer (Dense(4)) belongs is an error saying so:
-- classes have every method of their layers, so they would get further and fail worse.
function Layer:_check_instance()
  if rawget(self, "class_name") then
    error(("%s is a layer class, not a layer: make one with %s(...)"):format(self.class_name, self.class_name), 0)
  end
end

--- The default from_config: the config is the constructor's options table (initializers
-- and regularizers in their serialized form, which the constructors accept).
function Layer._from_config(cls, config)
  if type(config) ~= "table" then
    error(("%s.from_config: expected a config table, got %s"):format(cls.class_name, type(config)), 3)
  end
  return cls._new(copy_data(config))
end

local name_counts = {}

-- The options every layer takes (Keras' base Layer keywords), and those of them lurn does
-- not implement. A class lists its own in `_options` (and `_unsupported_options`);
-- `_base_options` replaces the base list where it does not apply (merge layers have no
-- input_shape of their own); `_positional` allows a list part (Residual{layer, ...}).
local BASE_OPTIONS = {"name", "input_shape", "input_dim", "trainable", "dtype"}
local BASE_UNSUPPORTED = {"batch_input_shape", "batch_size", "weights", "dynamic", "autocast", "implementation"}

local function concat(a, b)
  local out = table.move(a, 1, #a, 1, {})
  return table.move(b or {}, 1, #(b or {}), #out + 1, out)
end

--- Common options: name, input_shape (or input_dim = n for {n}, as Keras), trainable,
-- dtype (only "float32"). Called by each constructor; any other key in opts that the
-- class does not list in `_options` is an error.
function Layer.setup(self, opts)
  local who = self.class_name
  options.check(opts, concat(self._base_options or BASE_OPTIONS, self._options), who, 3,
    {unsupported = concat(BASE_UNSUPPORTED, self._unsupported_options), positional = self._positional})
  opts = opts or {}
  if opts.name ~= nil and type(opts.name) ~= "string" then
    error(("%s: name must be a string, got %s"):format(who, type(opts.name)), 3)
  end
  if opts.trainable ~= nil and type(opts.trainable) ~= "boolean" then
    error(("%s: trainable must be true or false, got %s"):format(who, tostring(opts.trainable)), 3)
  end
  if opts.dtype ~= nil and opts.dtype ~= "float32" then
    error(("%s: lurn computes in float32, dtype %s is not supported"):format(who, tostring(opts.dtype)), 3)
  end
  local base = self.class_name:gsub("(%l)(%u)", "%1_%2"):lower()
  local count = name_counts[base] or 0
  name_counts[base] = count + 1
  self.name = opts.name or (count == 0 and base or (base .. "_" .. count))
  local input_shape = opts.input_shape
  if opts.input_dim ~= nil then
    if input_shape ~= nil then error(("%s: give input_shape or input_dim, not both"):format(who), 3) end
    if math.type(opts.input_dim) ~= "integer" or opts.input_dim < 1 then
      error(("%s: input_dim must be a positive integer, got %s"):format(who, tostring(opts.input_dim)), 3)
    end
    input_shape = {opts.input_dim}  -- Keras: input_dim = n means input_shape = (n,)
  end
  if input_shape ~= nil then
    if type(input_shape) ~= "table" or #input_shape == 0 then
      error(("%s: input_shape must be a table of sizes, e.g. {784}"):format(who), 3)
    end
    self.input_shape = shapes.list(input_shape, who, "input_shape", 3)
    self._config_input_shape = copy_data(self.input_shape)  -- get_config reports what was given
  end
  self.trainable = opts.trainable ~= false
  return self
end

local function copy_shape(s)
  local c = {}
  for i, v in ipairs(s) do c[i] = v end
  return c
end

--- Creates the C layer(s) without building them (containers build their inner layers).
function Layer:_make_core()
  self._core = self:_create()
  if self.name then self._core:set_name(self.name) end  -- names the model's weights: "dense/kernel"
  for position, reg in pairs(self._regularizers or {}) do
    if position == "activity" then
      self._core:set_activity_regularizer(reg.l1, reg.l2)
    else
      self._core:set_regularizer(position, reg.l1, reg.l2)
    end
  end
  if self.activation_fn then  -- a Lua-function activation runs as a Lambda after the layer
    self._post = require("lurn.layers.lambda").Lambda._core_for(self.activation_fn)
  end
end

--- Records the shapes once the C layer(s) are built (by this layer or a container).
function Layer:_built(input_shape)
  self.built = true
  self.input_shape = copy_shape(input_shape)
  self.output_shape = (self._post or self._core):output_shape()
end

--- Creates the C layer for a per-sample input shape (no batch dimension).
function Layer:build(input_shape)
  self:_check_instance()
  input_shape = shapes.list(input_shape, tostring(self) .. ": build", "the input shape of one sample", 2)
  if self.built then
    self._core:build(input_shape)  -- the same shape is fine; another is an error
    return
  end
  local ok, err = pcall(function()
    self:_make_core()
    self._core:build(input_shape)
    if self._post then self._post:build(self._core:output_shape()) end
  end)
  if not ok then
    -- the message is for the user: drop the "file:line: " of lurn's own Lua files
    local msg = tostring(err):gsub("^[^\n]-%.lua:%d+: ", "")
    error(("layer '%s' (%s): %s"):format(self.name, self.class_name, msg), 0)
  end
  self:_built(input_shape)
end

--- The C layers this layer runs, in order (the layer, then its Lua activation if any).
function Layer:cores()
  return self._post and {self._core, self._post} or {self._core}
end

--- Passes trainable = false to the C layer(s), combined with the containers' (a frozen
-- container freezes all inside it). The model calls it when it is built and at compile,
-- so that, as in Keras, toggling trainable takes effect at the next compile.
function Layer:_sync_trainable(frozen_above)
  local frozen = frozen_above or self.trainable == false
  for _, c in ipairs(self:cores()) do c:set_frozen(frozen) end
  return frozen
end

--- Keeps a regularizer for parameter `position` (1-based) or "activity".
function Layer:_regularize(position, reg)
  reg = regularizers.get(reg)
  if not reg then return end
  self._regularizers = self._regularizers or {}
  self._regularizers[position] = reg
end

--- The options every layer with a kernel and a bias takes, as Keras names them:
-- activation, use_bias, `kernel`_initializer (glorot_uniform), bias_initializer (zeros),
-- `kernel`_regularizer, bias_regularizer, activity_regularizer. kernel: "kernel" (Dense,
-- Conv2D) or "depthwise" (DepthwiseConv2D).
function Layer:_kernel_options(opts, kernel)
  self.activation, self.alpha, self.activation_fn = activations.resolve(opts.activation)
  self.use_bias = opts.use_bias ~= false
  self[kernel .. "_initializer"] = initializers.get(opts[kernel .. "_initializer"] or "glorot_uniform")
  self.bias_initializer = initializers.get(opts.bias_initializer or "zeros")
  self:_regularize(1, opts[kernel .. "_regularizer"])
  if self.use_bias then self:_regularize(2, opts.bias_regularizer) end
  self:_regularize("activity", opts.activity_regularizer)
end

--- The layer's weights as copies, in Keras order (Dense: kernel, bias).
function Layer:get_weights()
  if not self.built then return {} end
  local params = self._core:params()
  local out = {}
  for i, p in ipairs(params) do out[i] = p:clone() end
  return out
end

--- Views of the live parameters (changing them changes the layer), with their names.
function Layer:parameters()
  if not self.built then return {}, {} end
  local params, names = self._core:params()
  return params, names
end

--- Views of the gradients of the last backward pass.
function Layer:gradients()
  if not self.built then return {} end
  return (self._core:params(true))
end

function Layer:set_weights(weights)
  if not self.built then
    error(("layer '%s' is not built yet: it gets weights once its input shape is known"):format(self.name), 2)
  end
  local params, names = self._core:params()
  if type(weights) ~= "table" or #weights ~= #params then
    error(("layer '%s' expects %d weight tensors (%s), got %s"):format(self.name, #params,
      table.concat(names, ", "), type(weights) == "table" and #weights or type(weights)), 2)
  end
  for i, p in ipairs(params) do
    local w = weights[i]
    if not core.is_tensor(w) then w = core.tensor(w) end
    local ps, ws = p:shape(), w:shape()
    local same = #ps == #ws
    for d = 1, #ps do same = same and ps[d] == ws[d] end
    if not same then
      error(("layer '%s': %s must have shape (%s), got (%s)"):format(self.name, names[i],
        table.concat(ps, ", "), table.concat(ws, ", ")), 2)
    end
    p:copy(w)
  end
end

--- Number of parameters, as Keras' count_params (one number); an error before the layer
-- is built, as in Keras (it has no weights yet, so 0 would be a wrong answer).
function Layer:count_params()
  if not self.built then
    error(("count_params: layer '%s' is not built yet: it gets weights once its input shape is known "
      .. "(call layer:build(per-sample shape), or build the model that holds it)"):format(self.name), 2)
  end
  return (self:_param_counts())
end

--- Number of parameters, and how many of them training updates (Keras' trainable
-- weights: not BatchNormalization's moving statistics, nor a frozen layer's).
function Layer:_param_counts()
  if not self.built then return 0, 0 end
  local params, _, trainable = self._core:params()
  local n, t = 0, 0
  for i, p in ipairs(params) do
    n = n + p:numel()
    if trainable[i] and self.trainable then t = t + p:numel() end
  end
  return n, t
end

--- Runs the layer alone on a batch (inference mode unless training is true). On a
-- symbolic tensor (lurn.Input) it builds the layer and returns its symbolic output.
-- Errors point at the caller's line.
Layer.__call = at_user_line(function(self, x, training)
  if type(x) == "table" then return symbolic.call(self, x, 2) end
  if not core.is_tensor(x) then
    error(("%s: expected a tensor or a symbolic tensor, got %s"):format(tostring(self), type(x)), 2)
  end
  if x:dim() < 2 then
    error(("%s: expected a batch (batch, ...) with the samples along the first dimension, got shape (%s)")
      :format(tostring(self), table.concat(x:shape(), ", ")), 2)
  end
  if not self.built then self:build(table.move(x:shape(), 2, x:dim(), 1, {})) end
  local y = self._core:forward(x:contiguous(), training)
  if self._post then y = self._post:forward(y, training) end
  return y
end)

function Layer:__tostring()
  return ("%s '%s'"):format(self.class_name, self.name)
end

--- The layer's options as plain data (numbers, strings, booleans, tables): name,
-- trainable, and input_shape (per sample, no batch dimension) when the layer was given
-- one; each class adds its own. cls.from_config(config) builds an equal layer.
function Layer:get_config()
  self:_check_instance()
  local cfg = {name = self.name, trainable = self.trainable}
  if self._config_input_shape then cfg.input_shape = copy_data(self._config_input_shape) end
  return cfg
end

-- An error for options that are code, not data (a Lua-function activation, Lambda's
-- function): a config could not store them.
function Layer:_not_data(what)
  error(("%s '%s': %s is a Lua function, which is not data: the layer has no config (get_config, "
    .. "serialize and model files need named activations and no Lambda layers; rebuild it in code)"):format(
    self.class_name, self.name, what), 0)
end

--- The Keras options of a layer with a kernel (see _kernel_options) added to cfg:
-- activation, use_bias, the initializers as {class_name =, config =} and the regularizers
-- set ({class_name = "L1L2", config = {l1 =, l2 =}}).
function Layer:_kernel_config(cfg, kernel)
  if self.activation_fn then self:_not_data("its activation") end
  cfg.activation, cfg.use_bias = self.activation, self.use_bias
  cfg[kernel .. "_initializer"] = initializers.serialize(self[kernel .. "_initializer"])
  cfg.bias_initializer = initializers.serialize(self.bias_initializer)
  self:_regularizer_config(cfg, {kernel .. "_regularizer", "bias_regularizer"})
  return cfg
end

--- The regularizers set, under Keras' keys: keys[1] for parameter 1, keys[2] for
-- parameter 2, and activity_regularizer.
function Layer:_regularizer_config(cfg, keys)
  local regs = self._regularizers or {}
  for position, key in ipairs(keys) do
    if regs[position] then cfg[key] = regularizers.serialize(regs[position]) end
  end
  if regs.activity then cfg.activity_regularizer = regularizers.serialize(regs.activity) end
end

return Layer
