--- lurn.layers: every layer constructor by its Keras class name, and the registry by
-- name that loading a model uses.
local activation = require "lurn.layers.activation"
local reshape = require "lurn.layers.reshape"
local conv2d = require "lurn.layers.conv2d"
local pooling = require "lurn.layers.pooling"
local merge = require "lurn.layers.merge"
local at_user_line = require "lurn.at_user_line"

local layers = {
  Dense = require "lurn.layers.dense",
  Dropout = require "lurn.layers.dropout",
  BatchNormalization = require "lurn.layers.batchnorm",
  Residual = require "lurn.layers.residual",
  Activation = activation.Activation,
  ReLU = activation.ReLU,
  LeakyReLU = activation.LeakyReLU,
  ELU = activation.ELU,
  Softmax = activation.Softmax,
  Flatten = reshape.Flatten,
  Reshape = reshape.Reshape,
  Input = require "lurn.layers.input",
  Lambda = require "lurn.layers.lambda",
  Conv2D = conv2d.Conv2D,
  MaxPooling2D = pooling.MaxPooling2D,
  AveragePooling2D = pooling.AveragePooling2D,
  GlobalMaxPooling2D = pooling.GlobalMaxPooling2D,
  GlobalAveragePooling2D = pooling.GlobalAveragePooling2D,
  ZeroPadding2D = require "lurn.layers.zero_padding2d",
  UpSampling2D = require "lurn.layers.upsampling2d",
  DepthwiseConv2D = require "lurn.layers.depthwise_conv2d",
}

-- Merge layers, and Keras' lower-case functions that call a new one: L.add({a, b})
for _, name in ipairs{"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"} do
  layers[name], layers[name:lower()] = merge[name], merge[name:lower()]
end

-- Keras' aliases
layers.Convolution2D, layers.MaxPool2D, layers.AvgPool2D = layers.Conv2D, layers.MaxPooling2D, layers.AveragePooling2D
layers.GlobalMaxPool2D, layers.GlobalAvgPool2D = layers.GlobalMaxPooling2D, layers.GlobalAveragePooling2D

-- Errors of every constructor (a bad option, activation, initializer or regularizer) point
-- at the line of the script that called it, not into the layer's file. Aliases share one
-- wrapper; Lambda stays a callable table (core_for is also in lambda.lua).
local wrapped = {}
for name, ctor in pairs(layers) do
  if not wrapped[ctor] then
    if type(ctor) == "function" then
      wrapped[ctor] = at_user_line(ctor)
    else
      wrapped[ctor] = setmetatable({core_for = ctor.core_for},
                                   {__call = at_user_line(function(_, ...) return ctor(...) end)})
    end
  end
  layers[name] = wrapped[ctor]
end

return layers
