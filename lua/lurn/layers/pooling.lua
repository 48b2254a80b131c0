--- Pooling over channels-last images, as Keras: MaxPooling2D(pool_size, opts) and
-- AveragePooling2D(pool_size, opts) with pool_size (2), strides (pool_size) and padding
-- ("valid" or "same"; windows over the border pool the elements inside the image only);
-- GlobalMaxPooling2D(opts) and GlobalAveragePooling2D(opts), (N, H, W, C) -> (N, C), or
-- (N, 1, 1, C) with keepdims = true.
local class = require "lurn.class"
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"
local conv2d = require("lurn.layers.conv2d").Conv2D

local Pooling2D = class(Layer)
Pooling2D._options = {"pool_size", "strides", "padding", "data_format"}

function Pooling2D:_create()
  return core.pool2d_layer{kind = self.kind, pool_size = self.pool_size, strides = self.strides,
                           padding = self.padding}
end

function Pooling2D:get_config()
  local cfg = Layer.get_config(self)
  cfg.pool_size, cfg.strides, cfg.padding = self.pool_size, self.strides, self.padding
  cfg.data_format = "channels_last"
  return cfg
end

local GlobalPooling2D = class(Layer)
GlobalPooling2D._options = {"data_format", "keepdims"}

function GlobalPooling2D:_create()
  return core.pool2d_layer{kind = self.kind, global = true, keepdims = self.keepdims}
end

function GlobalPooling2D:get_config()
  local cfg = Layer.get_config(self)
  cfg.data_format, cfg.keepdims = "channels_last", self.keepdims
  return cfg
end

local function subclass(base, class_name, kind)
  local cls = Layer._define(class_name, base)
  cls.kind = kind
  return cls
end

local MaxPooling2D = subclass(Pooling2D, "MaxPooling2D", "max")
local AveragePooling2D = subclass(Pooling2D, "AveragePooling2D", "average")
local GlobalMaxPooling2D = subclass(GlobalPooling2D, "GlobalMaxPooling2D", "max")
local GlobalAveragePooling2D = subclass(GlobalPooling2D, "GlobalAveragePooling2D", "average")

local function pooling(cls, pool_size, opts)
  -- MaxPooling2D{pool_size = 3, strides = 2}: the options alone, pool_size among them
  if type(pool_size) == "table" and pool_size[1] == nil and opts == nil then
    pool_size, opts = pool_size.pool_size, pool_size
  end
  opts = opts or {}
  local name = cls.class_name
  conv2d._data_format(opts.data_format, name, 3)
  local self = Layer.setup(setmetatable({}, cls), opts)
  self.pool_size = conv2d._pair(pool_size or 2, "pool_size", name, 3)
  self.strides = conv2d._pair(opts.strides or self.pool_size, "strides", name, 3)
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

function MaxPooling2D._new(pool_size, opts) return pooling(MaxPooling2D, pool_size, opts) end
function AveragePooling2D._new(pool_size, opts) return pooling(AveragePooling2D, pool_size, opts) end
function GlobalMaxPooling2D._new(opts) return global_pooling(GlobalMaxPooling2D, opts) end
function GlobalAveragePooling2D._new(opts) return global_pooling(GlobalAveragePooling2D, opts) end

return {MaxPooling2D = MaxPooling2D, AveragePooling2D = AveragePooling2D, GlobalMaxPooling2D = GlobalMaxPooling2D,
        GlobalAveragePooling2D = GlobalAveragePooling2D}
