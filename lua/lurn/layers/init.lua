--- lurn.layers: every layer class by its Keras class name (callable as its constructor:
-- Dense(4, {...})), Keras' lower-case merge functions and aliases, and serialize /
-- deserialize, the plain-data form of a layer that model files store.
local at_user_line = require "lurn.at_user_line"

local layers = {}

-- Each file returns a table of its classes by class name.
local FILES = {"dense", "dropout", "batchnorm", "residual", "activation", "reshape", "input", "lambda", "conv2d",
               "pooling", "zero_padding2d", "upsampling2d", "depthwise_conv2d", "merge",
               "conv1d", "embedding", "time_distributed", "masking", "text_vectorization", "recurrent", "bidirectional"}

local classes = {}  -- class name -> class, the registry deserialize uses
for _, file in ipairs(FILES) do
  for class_name, cls in pairs(require("lurn.layers." .. file)) do
    classes[class_name] = cls
    layers[class_name] = cls
  end
end

-- Errors of every constructor (a bad option, activation, initializer or regularizer), of
-- get_config and of from_config point at the line of the script that called it, not into
-- the layer's file.
for _, cls in pairs(classes) do
  local construct = at_user_line(function(...) return cls._new(...) end)
  getmetatable(cls).__call = function(_, ...) return construct(...) end
  cls.from_config = at_user_line(cls.from_config)
  if rawget(cls, "get_config") then cls.get_config = at_user_line(cls.get_config) end
end

-- lurn.Input{shape =}: the symbolic tensor of a new InputLayer.
layers.Input = at_user_line(layers.InputLayer._input)

-- Merge layers' lower-case functions, as Keras', that call a new one: L.add({a, b})
for _, name in ipairs{"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"} do
  local cls = classes[name]
  layers[name:lower()] = at_user_line(function(xs, opts) return cls(opts)(xs) end)
end

-- Keras' aliases
layers.Convolution2D, layers.MaxPool2D, layers.AvgPool2D = layers.Conv2D, layers.MaxPooling2D, layers.AveragePooling2D
layers.GlobalMaxPool2D, layers.GlobalAvgPool2D = layers.GlobalMaxPooling2D, layers.GlobalAveragePooling2D
layers.Convolution1D, layers.MaxPool1D, layers.AvgPool1D = layers.Conv1D, layers.MaxPooling1D, layers.AveragePooling1D
layers.GlobalMaxPool1D, layers.GlobalAvgPool1D = layers.GlobalMaxPooling1D, layers.GlobalAveragePooling1D

-- Whether a config value is plain data: a number, string, boolean or a table of them.
local function check_data(v, path)
  local t = type(v)
  if t == "number" or t == "string" or t == "boolean" then return end
  if t ~= "table" or getmetatable(v) ~= nil then
    error(("the config holds %s at %s, which is not plain data"):format(t, path), 0)
  end
  for k, x in pairs(v) do
    if type(k) ~= "string" and math.type(k) ~= "integer" then
      error(("the config has a %s key at %s, which is not plain data"):format(type(k), path), 0)
    end
    check_data(x, path .. "." .. tostring(k))
  end
end

local copy_data = require("lurn.layers.layer")._copy_data

local function model_classes()
  return {Sequential = require "lurn.models.sequential", Functional = require "lurn.models.functional"}
end

--- A layer (or a model) as plain data, as Keras' serialize: {class_name = "Dense", config =
-- layer:get_config()}. A Lambda, or a layer whose activation is a Lua function, is an error.
layers.serialize = at_user_line(function(layer)
  if type(layer) == "table" and rawget(layer, "class_name") then
    error(("serialize: expected a layer, got the class %s (make one with %s(...))"):format(layer.class_name,
      layer.class_name), 2)
  end
  if type(layer) ~= "table" or type(layer.get_config) ~= "function" then
    error(("serialize: expected a layer, got %s"):format(type(layer) == "table" and tostring(layer) or type(layer)), 2)
  end
  local config = copy_data(layer:get_config())
  check_data(config, layer.class_name)
  return {class_name = layer.class_name, config = config}
end)

--- The layer (or model) serialize describes, new: {class_name =, config =}.
layers.deserialize = at_user_line(function(t)
  if type(t) ~= "table" or type(t.class_name) ~= "string" or type(t.config) ~= "table" then
    error(("deserialize: expected {class_name = ..., config = {...}} (what lurn.layers.serialize gives), got %s")
      :format(type(t) == "table" and "a table without them" or type(t)), 2)
  end
  local cls = classes[t.class_name] or model_classes()[t.class_name]
  if not cls then
    local known = {}
    for name in pairs(classes) do known[#known + 1] = name end
    table.sort(known)
    error(("deserialize: unknown layer class '%s' (known: %s, Sequential, Functional)"):format(t.class_name,
      table.concat(known, ", ")), 2)
  end
  return cls.from_config(t.config)
end)

return layers
