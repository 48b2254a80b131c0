--- Pooling over sequences, as Keras: MaxPooling1D(pool_size, opts) and
-- AveragePooling1D(pool_size, opts) with pool_size (2), strides (pool_size) and padding
-- ("valid" or "same"; windows over the ends pool the elements inside the sequence only),
-- (N, steps, C) -> (N, out_steps, C); GlobalMaxPooling1D(opts) and
-- GlobalAveragePooling1D(opts), (N, steps, C) -> (N, C), or (N, 1, C) with keepdims =
-- true. pool_size and strides are a positive integer or a list of one.
local class = require "lurn.class"
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"
local conv2d = require("lurn.layers.conv2d").Conv2D
local conv1d = require("lurn.layers.conv1d").Conv1D

local Pooling1D = class(Layer)
Pooling1D._options = {"pool_size", "strides", "padding", "data_format"}

function Pooling1D:_create()
  return core.pool1d_layer{kind = self.kind, pool_size = self.pool_size, strides = self.strides,
                           padding = self.padding}
end

--- Keras' config: pool_size and strides as lists of one.
function Pooling1D:get_config()
  local cfg = Layer.get_config(self)
  cfg.pool_size, cfg.strides, cfg.padding = {self.pool_size}, {self.strides}, self.padding
  cfg.data_format = "channels_last"
  return cfg
end

local GlobalPooling1D = class(Layer)
GlobalPooling1D._options = {"data_format", "keepdims"}

function GlobalPooling1D:_create()
  return core.pool1d_layer{kind = self.kind, global = true, keepdims = self.keepdims}
end

function GlobalPooling1D:get_config()
  local cfg = Layer.get_config(self)
  cfg.data_format, cfg.keepdims = "channels_last", self.keepdims
  return cfg
end

local function subclass(base, class_name, kind)
  local cls = Layer._define(class_name, base)
  cls.kind = kind
  return cls
end

local MaxPooling1D = subclass(Pooling1D, "MaxPooling1D", "max")
local AveragePooling1D = subclass(Pooling1D, "AveragePooling1D", "average")
local GlobalMaxPooling1D = subclass(GlobalPooling1D, "GlobalMaxPooling1D", "max")
local GlobalAveragePooling1D = subclass(GlobalPooling1D, "GlobalAveragePooling1D", "average")

local function pooling(cls, pool_size, opts)
  -- MaxPooling1D{pool_size = 3, strides = 2}: the options alone, pool_size among them
  if type(pool_size) == "table" and pool_size[1] == nil and opts == nil then
    pool_size, opts = pool_size.pool_size, pool_size
  end
  opts = opts or {}
  local name = cls.class_name
  conv2d._data_format(opts.data_format, name, 3)
  local self = Layer.setup(setmetatable({}, cls), opts)
  self.pool_size = conv1d._single(pool_size or 2, "pool_size", name, 3)
  self.strides = conv1d._single(opts.strides or self.pool_size, "strides", name, 3)
  self.padding = conv2d._padding(opts.padding, name, 3)
  return self
end

local function global_pooling(cls, opts)
  opts = opts or {}
  conv2d._data_format(opts.data_format, cls.class_name, 3)
  local self = Layer.setup(setmetatable({}, cls), opts)
  self.keepdims = opts.keepdims == true
  return self
end

function MaxPooling1D._new(pool_size, opts) return pooling(MaxPooling1D, pool_size, opts) end
function AveragePooling1D._new(pool_size, opts) return pooling(AveragePooling1D, pool_size, opts) end
function GlobalMaxPooling1D._new(opts) return global_pooling(GlobalMaxPooling1D, opts) end
function GlobalAveragePooling1D._new(opts) return global_pooling(GlobalAveragePooling1D, opts) end

return {MaxPooling1D = MaxPooling1D, AveragePooling1D = AveragePooling1D, GlobalMaxPooling1D = GlobalMaxPooling1D,
        GlobalAveragePooling1D = GlobalAveragePooling1D}
