--- Conv2D(filters, kernel_size, opts): 2-D convolution over channels-last images, as
-- Keras' Conv2D. Batches are (N, height, width, channels); give the first layer
-- input_shape = {height, width, channels}. The kernel is (kh, kw, in_channels, filters)
-- as in Keras, so get_weights/set_weights exchange weights with it. Options: strides (1),
-- padding ("valid" or "same", TensorFlow's rule), dilation_rate (1), activation,
-- use_bias (true), kernel_initializer ("glorot_uniform"), bias_initializer ("zeros"),
-- kernel_regularizer, bias_regularizer, activity_regularizer, input_shape.
-- kernel_size, strides and dilation_rate are a number or a pair {height, width}.
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"
local text = require "lurn.text"

local Conv2D = Layer._define("Conv2D")
Conv2D._options = {"filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation",
                   "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
                   "activity_regularizer"}
Conv2D._unsupported_options = {"groups", "kernel_constraint", "bias_constraint"}

--- A number or a pair {h, w} of positive integers -> {h, w}; errors name the layer.
function Conv2D._pair(v, what, class_name, level)
  if math.type(v) == "integer" and v >= 1 then return {v, v} end
  if type(v) == "table" and #v == 2 and math.type(v[1]) == "integer" and math.type(v[2]) == "integer"
    and v[1] >= 1 and v[2] >= 1 then
    return {v[1], v[2]}
  end
  local text = type(v) == "table" and ("{" .. table.concat(v, ", ") .. "}") or tostring(v)
  error(("%s: %s must be a positive integer or a pair {height, width}, got %s"):format(class_name, what, text),
    level + 1)
end

--- "valid" or "same" (any case); errors name the layer.
function Conv2D._padding(v, class_name, level)
  local p = type(v) == "string" and v:lower() or v
  if p == nil then return "valid" end
  if p ~= "valid" and p ~= "same" then
    error(("%s: padding must be 'valid' or 'same', got %s"):format(class_name, tostring(v)), level + 1)
  end
  return p
end

--- Only channels-last data is supported; errors name the layer.
function Conv2D._data_format(v, class_name, level)
  if v ~= nil and v ~= "channels_last" then
    error(("%s: only data_format 'channels_last' is supported, got %s"):format(class_name, tostring(v)), level + 1)
  end
end

function Conv2D._new(filters, kernel_size, opts)
  if type(filters) == "table" and kernel_size == nil and opts == nil then
    filters, kernel_size, opts = filters.filters, filters.kernel_size, filters
  end
  opts = opts or {}
  if math.type(filters) ~= "integer" or filters < 1 then
    error(("Conv2D: filters must be a positive integer, got %s"):format(text.shown(filters)), 2)
  end
  if kernel_size == nil then error("Conv2D: kernel_size is required, e.g. Conv2D(32, 3)", 2) end
  Conv2D._data_format(opts.data_format, "Conv2D", 2)
  local self = Layer.setup(setmetatable({}, Conv2D), opts)
  self.filters = filters
  self.kernel_size = Conv2D._pair(kernel_size, "kernel_size", "Conv2D", 2)
  self.strides = Conv2D._pair(opts.strides or 1, "strides", "Conv2D", 2)
  self.dilation_rate = Conv2D._pair(opts.dilation_rate or 1, "dilation_rate", "Conv2D", 2)
  self.padding = Conv2D._padding(opts.padding, "Conv2D", 2)
  self:_kernel_options(opts, "kernel")
  return self
end

function Conv2D:_create()
  return core.conv2d_layer{filters = self.filters, kernel_size = self.kernel_size, strides = self.strides,
                           dilation_rate = self.dilation_rate, padding = self.padding,
                           activation = self.activation, alpha = self.alpha, use_bias = self.use_bias,
                           kernel_initializer = self.kernel_initializer, bias_initializer = self.bias_initializer}
end

function Conv2D:get_config()
  local cfg = Layer.get_config(self)
  cfg.filters, cfg.kernel_size, cfg.strides = self.filters, self.kernel_size, self.strides
  cfg.padding, cfg.data_format, cfg.dilation_rate = self.padding, "channels_last", self.dilation_rate
  return self:_kernel_config(cfg, "kernel")
end

return {Conv2D = Conv2D}
