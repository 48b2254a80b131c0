--- lurn: a neural-network runtime in C, driven from Lua.
-- This file assembles the public module from the C core (lurn.core) and the Lua
-- modules beside it. Later issues add layers, models and data tools here.
local core = require "lurn.core"

local lurn = {}

lurn._VERSION = "0.1.0"
lurn.core = core

-- Tensors: construction, math, files.
for _, name in ipairs {
  "tensor", "zeros", "ones", "full", "arange", "rand", "randn", "randperm", "cat", "stack", "is_tensor",
  "add", "sub", "mul", "div", "pow", "maximum", "minimum", "gt", "lt", "ge", "le", "eq", "ne",
  "neg", "exp", "log", "sqrt", "abs", "sign", "square", "tanh", "sigmoid", "relu", "floor",
  "ceil", "round", "isnan", "clamp", "sum", "mean", "max", "min", "argmax", "argmin", "var",
  "std", "matmul", "load_npy",
} do
  lurn[name] = assert(core[name], name)
end

-- Process settings.
lurn.manual_seed = core.manual_seed
lurn.set_num_threads = core.set_num_threads
lurn.get_num_threads = core.get_num_threads
lurn.clock = core.clock

lurn.datasets = require "lurn.datasets"

-- Models and their parts, with Keras names.
lurn.layers = require "lurn.layers"
lurn.activations = require "lurn.activations"
lurn.initializers = require "lurn.initializers"
lurn.regularizers = require "lurn.regularizers"
lurn.optimizers = require "lurn.optimizers"
lurn.losses = require "lurn.losses"
lurn.metrics = require "lurn.metrics"
lurn.callbacks = require "lurn.callbacks"
lurn.Sequential = require "lurn.models.sequential"
lurn.models = {Sequential = lurn.Sequential}

return lurn
