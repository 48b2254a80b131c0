--- UpSampling2D(size, opts): channels-last images made size times larger, as Keras'
-- UpSampling2D: (N, H, W, C) -> (N, H * sh, W * sw, C). size (2) is a number or a pair
-- {sh, sw}; interpolation is "nearest" (each pixel repeated, the default) or "bilinear",
-- which follows tf.image.resize as Keras 2 calls it (half-pixel centers: output row i
-- samples source row (i + 0.5) / sh - 0.5, clamped to the image).
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"
local conv2d = require("lurn.layers.conv2d").Conv2D

local UpSampling2D = Layer._define("UpSampling2D")
UpSampling2D._options = {"size", "data_format", "interpolation"}

function UpSampling2D:_create()
  return core.upsampling2d_layer{size = self.size, interpolation = self.interpolation}
end

function UpSampling2D:get_config()
  local cfg = Layer.get_config(self)
  cfg.size, cfg.data_format, cfg.interpolation = self.size, "channels_last", self.interpolation
  return cfg
end

function UpSampling2D._new(size, opts)
  -- UpSampling2D{size = 3, interpolation = "bilinear"}: the options alone, size among them
  if type(size) == "table" and size[1] == nil and opts == nil then size, opts = size.size, size end
  opts = opts or {}
  conv2d._data_format(opts.data_format, "UpSampling2D", 2)
  local self = Layer.setup(setmetatable({}, UpSampling2D), opts)
  self.size = conv2d._pair(size or 2, "size", "UpSampling2D", 2)
  local interpolation = opts.interpolation or "nearest"
  if interpolation ~= "nearest" and interpolation ~= "bilinear" then
    error(("UpSampling2D: interpolation must be 'nearest' or 'bilinear', got %s"):format(tostring(interpolation)), 2)
  end
  self.interpolation = interpolation
  return self
end

return {UpSampling2D = UpSampling2D}
