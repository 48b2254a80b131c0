--- lurn: a neural-network runtime in C, driven from Lua.
-- This file assembles the public module from the C core (lurn.core) and the Lua
-- modules beside it. Later issues add layers, models and data tools here.
local core = require "lurn.core"

local lurn = {}

lurn._VERSION = "0.1.0"
lurn.core = core

local autograd = require "lurn.autograd"

-- Tensors: construction, math, files.
for _, name in ipairs {
  "tensor", "zeros", "ones", "full", "arange", "rand", "randn", "randperm", "cat", "stack", "is_tensor",
  "gt", "lt", "ge", "le", "eq", "ne", "sign", "floor", "ceil", "round", "isnan", "max", "min", "argmax",
  "argmin", "var", "std", "load_npy",
} do
  lurn[name] = assert(core[name], name)
end

-- Math that is also differentiable: inside a Lambda layer these functions receive
-- autograd Variables and record the operation; otherwise they are the C functions.
-- Their errors point at the caller's line, not at this wrapper.
local at_user_line = require "lurn.at_user_line"
for _, name in ipairs {
  "add", "sub", "mul", "div", "pow", "maximum", "minimum", "neg", "exp", "log", "sqrt", "abs", "square",
  "tanh", "sigmoid", "relu", "clamp", "sum", "mean", "matmul",
} do
  local plain, traced, is_var = assert(core[name], name), assert(autograd[name], name), autograd.is_variable
  lurn[name] = at_user_line(function(a, b, ...)
    if is_var(a) or is_var(b) then return traced(a, b, ...) end
    return plain(a, b, ...)
  end)
end
lurn.autograd = autograd

-- Process settings.
lurn.manual_seed = require("lurn.random").manual_seed
lurn.set_num_threads = core.set_num_threads
lurn.get_num_threads = core.get_num_threads
lurn.clock = core.clock

lurn.datasets = require "lurn.datasets"

-- Processes of one job (docs/distributed.md): a script started by mpirun joins the job
-- here, so that every rank knows its rank before the script's first line runs.
lurn.distributed = require "lurn.distributed"
lurn.distributed.init()

-- Models and their parts, with Keras names.
lurn.layers = require "lurn.layers"
lurn.activations = require "lurn.activations"
lurn.initializers = require "lurn.initializers"
lurn.regularizers = require "lurn.regularizers"
lurn.optimizers = require "lurn.optimizers"
lurn.losses = require "lurn.losses"
lurn.metrics = require "lurn.metrics"
lurn.callbacks = require "lurn.training.callbacks"
-- the callbacks that write model files, beside the others in lurn.callbacks
for name, cls in pairs(require "lurn.training.checkpoints") do
  if type(cls) == "table" then lurn.callbacks[name] = cls end
end
lurn.Sequential = require "lurn.models.sequential"
lurn.Model = require "lurn.models.model"  -- the base; lurn.Model{inputs =, outputs =} makes a Functional
lurn.Input = lurn.layers.Input
lurn.models = {Sequential = lurn.Sequential, Model = lurn.Model}
lurn.models.load_model = require("lurn.models.saving").load_model

lurn.data = require "lurn.data"
lurn.preprocessing = require "lurn.preprocessing"
lurn.model_selection = require "lurn.model_selection"
lurn.pipeline = require "lurn.pipeline"
lurn.data.check_splits = require "lurn.check_splits"

lurn.preprocessing = lurn.preprocessing or {}; lurn.preprocessing.image = require "lurn.preprocessing.image"
lurn.sampling = require "lurn.sampling"
lurn.utils = require "lurn.utils"
lurn.plot = require "lurn.plot"
lurn.help = require("lurn.help").help

-- Modules loaded on first use (lurn.experiments trains models: nothing to load before a
-- script asks for it).
local LAZY = {experiments = "lurn.experiments", doctor = "lurn.doctor"}
return setmetatable(lurn, {
  __index = function(t, name)
    local module = LAZY[name]
    if module == nil then return nil end
    local m = require(module)
    rawset(t, name, m)
    return m
  end,
})
