--- lurn.layers: every layer constructor by its Keras class name, and the registry by
-- name that loading a model uses.
local activation = require "lurn.layers.activation"
local reshape = require "lurn.layers.reshape"

local layers = {
  Dense = require "lurn.layers.dense",
  Dropout = require "lurn.layers.dropout",
  BatchNormalization = require "lurn.layers.batchnorm",
  Activation = activation.Activation,
  ReLU = activation.ReLU,
  LeakyReLU = activation.LeakyReLU,
  ELU = activation.ELU,
  Softmax = activation.Softmax,
  Flatten = reshape.Flatten,
  Reshape = reshape.Reshape,
  Input = require "lurn.layers.input",
  Lambda = require "lurn.layers.lambda",
}

return layers
