--- Pooling, as Keras, over channels-last images and sequences: MaxPooling2D(pool_size,
-- opts) and AveragePooling2D(pool_size, opts) with pool_size (2), strides (pool_size) and
-- padding ("valid" or "same"; windows over the border pool the elements inside only),
-- GlobalMaxPooling2D(opts) and GlobalAveragePooling2D(opts), (N, H, W, C) -> (N, C), or
-- (N, 1, 1, C) with keepdims = true; and the same four over sequences, MaxPooling1D,
-- AveragePooling1D (N, steps, C) -> (N, out_steps, C), GlobalMaxPooling1D and
-- GlobalAveragePooling1D (N, C) or (N, 1, C), their pool_size and strides a positive
-- integer or a list of one (the C side runs a sequence as an image one row high).
local class = require "lurn.class"
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"
local conv2d = require("lurn.layers.conv2d").Conv2D
local conv1d = require("lurn.layers.conv1d").Conv1D

-- What differs between the two families: the C constructor, how a size is read, and how
-- Keras' config writes it (a pair; a list of one).
local FAMILIES = {
  ["2D"] = {create = core.pool2d_layer, size = conv2d._pair, config_size = function(v) return v end},
  ["1D"] = {create = core.pool1d_layer, size = conv1d._single, config_size = function(v) return {v} end},
}

local classes = {}
for suffix, family in pairs(FAMILIES) do
  local Pooling = class(Layer)
  Pooling._options = {"pool_size", "strides", "padding", "data_format"}

  function Pooling:_create()
    return family.create{kind = self.kind, pool_size = self.pool_size, strides = self.strides, padding = self.padding}
  end

  function Pooling:get_config()
    local cfg = Layer.get_config(self)
    cfg.pool_size, cfg.strides = family.config_size(self.pool_size), family.config_size(self.strides)
    cfg.padding, cfg.data_format = self.padding, "channels_last"
    return cfg
  end

  local GlobalPooling = class(Layer)
  GlobalPooling._options = {"data_format", "keepdims"}

  function GlobalPooling:_create() return family.create{kind = self.kind, global = true, keepdims = self.keepdims} end

  function GlobalPooling:get_config()
    local cfg = Layer.get_config(self)
    cfg.data_format, cfg.keepdims = "channels_last", self.keepdims
    return cfg
  end

  local function pooling(cls, pool_size, opts)
    -- MaxPooling2D{pool_size = 3, strides = 2}: the options alone, pool_size among them
    if type(pool_size) == "table" and pool_size[1] == nil and opts == nil then
      pool_size, opts = pool_size.pool_size, pool_size
    end
    opts = opts or {}
    local name = cls.class_name
    conv2d._data_format(opts.data_format, name, 3)
    local self = Layer.setup(setmetatable({}, cls), opts)
    self.pool_size = family.size(pool_size or 2, "pool_size", name, 3)
    self.strides = family.size(opts.strides or self.pool_size, "strides", name, 3)
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

  for _, kind in ipairs{"Max", "Average"} do
    local cls = Layer._define(kind .. "Pooling" .. suffix, Pooling)
    cls.kind = kind:lower()
    function cls._new(pool_size, opts) return pooling(cls, pool_size, opts) end
    classes[cls.class_name] = cls
    local global = Layer._define("Global" .. kind .. "Pooling" .. suffix, GlobalPooling)
    global.kind = kind:lower()
    function global._new(opts) return global_pooling(global, opts) end
    classes[global.class_name] = global
  end
end

return classes
