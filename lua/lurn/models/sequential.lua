--- Sequential: a stack of layers, each fed the output of the one before, as in Keras.
-- What a model does with its layers (compile, fit, evaluate, predict, weights, get_config,
-- summary) is the Model base's (model.lua); this file says how the stack is built, and
-- what only a stack knows: its summary rows, its build_input_shape, from_config.
local class = require "lurn.class"
local core = require "lurn.core"
local Model = require "lurn.models.model"
local at_user_line = require "lurn.at_user_line"
local shapes = require "lurn.shape"
local options = require "lurn.options"
local text = require "lurn.text"
local batch_shape_text, thousands = text.batch_shape, text.thousands

local Sequential = class(Model)
Sequential.class_name = "Sequential"
Sequential.__index = Model._index_for(Sequential)  -- trainable_weights, non_trainable_weights

--- Sequential{layer, ...} or Sequential(); model:add(layer). As Keras, a model whose input
-- shape is known (the first layer's input_shape, or an Input first) is built at once, so
-- that get_weights, set_weights, count_params and summary work before compile.
function Sequential.new(layers, opts)
  if type(layers) == "table" and (layers._create or layers.is_input or getmetatable(layers)) then
    error("Sequential: expected a list of layers {layer, ...}, got one " .. tostring(layers), 2)
  end
  options.check(layers, {}, "Sequential", 2,
    {positional = true, hint = "give options second: Sequential({layer, ...}, {name = ...})"})
  options.check(opts, {"name"}, "Sequential", 2)
  local self = Model._new(Sequential, {}, (opts or {}).name, "sequential")
  for _, layer in ipairs(layers or {}) do self:add(layer) end
  return self
end

function Sequential:add(layer)
  if type(layer) ~= "table" then error("Sequential:add expects a layer, got " .. type(layer), 2) end
  if layer.is_input then
    if #self.layers > 0 then error("Sequential: an Input must come first", 2) end
    self.input_shape = layer.shape
    return self
  end
  if not layer._create then error("Sequential:add expects a layer, got " .. tostring(layer), 2) end
  if layer._several_outputs and layer:_several_outputs() then
    error(("Sequential: %s returns several tensors (return_state, or Bidirectional's merge_mode = false); a "
      .. "Sequential model's layers have one output each: use the functional API (lurn.Model)"):format(
      tostring(layer)), 2)
  end
  if #self.layers == 0 and layer.input_shape and not self.input_shape then self.input_shape = layer.input_shape end
  self.layers[#self.layers + 1] = layer
  -- built layers keep their weights: the C model is made again over them with the new one
  if self.input_shape then
    local err = self:_make_core()
    if err then
      self.layers[#self.layers] = nil
      error(err, 2)
    end
  end
  return self
end

-- Makes the C model over the layers for self.input_shape; returns an error message if
-- a layer cannot take its input (the model then keeps the C model it had, if any).
function Sequential:_make_core()
  local ok, err = pcall(function()
    local m = core.model()
    local shape = self.input_shape
    for _, layer in ipairs(self.layers) do
      layer:build(shape)
      for _, c in ipairs(layer:cores()) do m:add(c) end
      shape = layer.output_shape
    end
    m:build(self.input_shape)
    self.output_shape, self._core = shape, m
    self:_sync_trainable()
  end)
  if not ok then return err end
end

--- model:build(input_shape): builds every layer for a per-sample input shape, a table of
-- sizes without the batch dimension ({784}, {28, 28, 1}); Keras' build takes the batch
-- shape (None, 784). Without a shape: the first layer's input_shape or the Input's.
function Sequential:build(input_shape)
  if type(input_shape) == "table" then input_shape = shapes.list(input_shape, "build", "input_shape", 2) end
  if self._core then
    self:_check_build_shape(input_shape, "Sequential")
    return self
  end
  if self._building then  -- a layer's build (a Lambda's function) called the model
    error("Sequential: the model is being built (called from inside a layer's build, e.g. a Lambda layer's "
      .. "function)", 2)
  end
  self._building = true
  local building <close> = setmetatable({}, {__close = function() self._building = nil end})
  input_shape = input_shape or self.input_shape
  if not input_shape then
    error("Sequential: the input shape is unknown: give the first layer input_shape = {...}, start with "
      .. "lurn.layers.Input{shape = {...}}, or call fit/predict first", 2)
  end
  if type(input_shape) ~= "table" then
    error("build: input_shape must be a table of per-sample sizes, e.g. {784}", 2)
  end
  if #self.layers == 0 then error("Sequential: the model has no layers", 2) end
  self.input_shape = input_shape
  local err = self:_make_core()
  if err then error(err, 2) end
  return self
end

local summary = require "lurn.models.summary"
local COLUMNS = {summary.column("Layer (type)", 29, {gap = 1}),
                 summary.column("Output Shape", 26, {before = " ", gap = 1}),
                 summary.column("Param #", 10, {before = " ", right = true})}

-- The summary's columns and rows (Model:summary prints them): layer (type), output shape,
-- parameters. The model is built first if its input shape is known.
function Sequential:_summary_table()
  if not self._core then
    if self.input_shape then self:build() else
      error("summary: the model is not built: give the first layer input_shape or call fit first", 2)
    end
  end
  local rows = {}
  for i, layer in ipairs(self.layers) do
    rows[i] = {("%s (%s)"):format(layer.name, layer.class_name), batch_shape_text(layer.output_shape),
               thousands((layer:_param_counts()))}
  end
  return COLUMNS, rows
end

-- Errors from these point at the user's line, wherever inside lurn they are raised.
for _, method in ipairs{"add", "build"} do
  Sequential[method] = at_user_line(Sequential[method])
end

-- What get_config (the Model base's) adds for a Sequential: build_input_shape, the
-- per-sample input shape when it is known (Keras' has the batch dimension too).
function Sequential:_add_config(cfg)
  if self.input_shape then cfg.build_input_shape = table.move(self.input_shape, 1, #self.input_shape, 1, {}) end
end

--- Sequential.from_config(config): a new model with the layers get_config describes,
-- built when build_input_shape is given (new weights: copy them with set_weights).
Sequential.from_config = at_user_line(function(config)
  if type(config) ~= "table" or type(config.layers) ~= "table" then
    error("Sequential.from_config: expected a config {name =, layers = {...}} (what model:get_config gives)", 2)
  end
  local deserialize = require("lurn.layers").deserialize
  local list = {}
  for i, t in ipairs(config.layers) do list[i] = deserialize(t) end
  local model = Sequential.new(list, {name = config.name})
  model.trainable = config.trainable ~= false  -- a frozen model stays frozen (Keras keeps it too)
  if config.build_input_shape and not model._core then model:build(config.build_input_shape) end
  return model
end)

setmetatable(Sequential, {__index = Model,
                          __call = at_user_line(function(_, layers, opts) return Sequential.new(layers, opts) end)})

return Sequential
