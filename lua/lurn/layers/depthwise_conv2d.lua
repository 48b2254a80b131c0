--- DepthwiseConv2D(kernel_size, opts): each channel of channels-last images convolved with
-- depth_multiplier kernels of its own, as Keras' DepthwiseConv2D: (N, H, W, C) ->
-- (N, OH, OW, C * depth_multiplier), output channel (c - 1) * depth_multiplier + m for
-- input channel c and kernel m (1-based). The depthwise kernel is (kh, kw, C,
-- depth_multiplier) and the bias (C * depth_multiplier), as in Keras, so
-- get_weights/set_weights exchange weights with it. Options: strides (1), padding ("valid"
-- or "same", TensorFlow's rule), depth_multiplier (1), dilation_rate (1), activation,
-- use_bias (true), depthwise_initializer ("glorot_uniform", with Keras' fans: fan_in =
-- kh*kw*C, fan_out = kh*kw*depth_multiplier), bias_initializer ("zeros"),
-- depthwise_regularizer, bias_regularizer, activity_regularizer, input_shape.
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"
local conv2d = require("lurn.layers.conv2d").Conv2D
local text = require "lurn.text"

local DepthwiseConv2D = Layer._define("DepthwiseConv2D")
DepthwiseConv2D._options = {"kernel_size", "strides", "padding", "depth_multiplier", "data_format", "dilation_rate",
  "activation", "use_bias", "depthwise_initializer", "bias_initializer", "depthwise_regularizer", "bias_regularizer",
  "activity_regularizer"}
DepthwiseConv2D._unsupported_options = {"depthwise_constraint", "bias_constraint"}

function DepthwiseConv2D:_create()
  return core.depthwise_conv2d_layer{kernel_size = self.kernel_size, strides = self.strides,
                                     dilation_rate = self.dilation_rate, padding = self.padding,
                                     depth_multiplier = self.depth_multiplier, activation = self.activation,
                                     alpha = self.alpha, use_bias = self.use_bias,
                                     depthwise_initializer = self.depthwise_initializer,
                                     bias_initializer = self.bias_initializer}
end

function DepthwiseConv2D:get_config()
  local cfg = Layer.get_config(self)
  cfg.kernel_size, cfg.strides, cfg.padding = self.kernel_size, self.strides, self.padding
  cfg.depth_multiplier, cfg.data_format, cfg.dilation_rate = self.depth_multiplier, "channels_last", self.dilation_rate
  return self:_kernel_config(cfg, "depthwise")
end

function DepthwiseConv2D._new(kernel_size, opts)
  -- DepthwiseConv2D{kernel_size = 3, strides = 2}: the options alone, kernel_size among them
  if type(kernel_size) == "table" and kernel_size[1] == nil and opts == nil then
    kernel_size, opts = kernel_size.kernel_size, kernel_size
  end
  opts = opts or {}
  local name = "DepthwiseConv2D"
  if kernel_size == nil then error("DepthwiseConv2D: kernel_size is required, e.g. DepthwiseConv2D(3)", 2) end
  conv2d._data_format(opts.data_format, name, 2)
  local m = opts.depth_multiplier or 1
  if math.type(m) ~= "integer" or m < 1 then
    error(("DepthwiseConv2D: depth_multiplier must be a positive integer, got %s"):format(text.shown(m)), 2)
  end
  local self = Layer.setup(setmetatable({}, DepthwiseConv2D), opts)
  self.kernel_size = conv2d._pair(kernel_size, "kernel_size", name, 2)
  self.strides = conv2d._pair(opts.strides or 1, "strides", name, 2)
  self.dilation_rate = conv2d._pair(opts.dilation_rate or 1, "dilation_rate", name, 2)
  self.padding = conv2d._padding(opts.padding, name, 2)
  self.depth_multiplier = m
  self:_kernel_options(opts, "depthwise")
  return self
end

return {DepthwiseConv2D = DepthwiseConv2D}
