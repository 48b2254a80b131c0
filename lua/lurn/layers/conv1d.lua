--- Conv1D(filters, kernel_size, opts): 1-D convolution over sequences, as Keras' Conv1D.
-- Batches are (N, steps, channels); give the first layer input_shape = {steps, channels}.
-- The kernel is (kernel_size, in_channels, filters) as in Keras, so get_weights/set_weights
-- exchange weights with it. Options: strides (1), padding ("valid", "same" (TensorFlow's
-- rule) or "causal": dilation_rate * (kernel_size - 1) zeros on the left, so that step t
-- sees steps up to t only), dilation_rate (1), activation, use_bias (true),
-- kernel_initializer ("glorot_uniform"), bias_initializer ("zeros"), kernel_regularizer,
-- bias_regularizer, activity_regularizer, input_shape. kernel_size, strides and
-- dilation_rate are a positive integer or a list of one ({3}), as Keras' tuples.
-- Output steps as Keras' conv_output_length: ceil(steps / strides) for "same" and
-- "causal", floor((steps - span) / strides) + 1 for "valid" (span = dilation_rate *
-- (kernel_size - 1) + 1).
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"
local conv2d = require("lurn.layers.conv2d").Conv2D
local text = require "lurn.text"

local Conv1D = Layer._define("Conv1D")
Conv1D._options = {"filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation",
                   "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
                   "activity_regularizer"}
Conv1D._unsupported_options = {"groups", "kernel_constraint", "bias_constraint"}

--- A positive integer or a list of one -> the integer; errors name the layer.
function Conv1D._single(v, what, class_name, level)
  if type(v) == "table" and #v == 1 then v = v[1] end
  if math.type(v) == "integer" and v >= 1 then return v end
  local text = type(v) == "table" and ("{" .. table.concat(v, ", ") .. "}") or tostring(v)
  error(("%s: %s must be a positive integer (or a list of one), got %s"):format(class_name, what, text), level + 1)
end

function Conv1D._new(filters, kernel_size, opts)
  if type(filters) == "table" and kernel_size == nil and opts == nil then
    filters, kernel_size, opts = filters.filters, filters.kernel_size, filters
  end
  opts = opts or {}
  if math.type(filters) ~= "integer" or filters < 1 then
    error(("Conv1D: filters must be a positive integer, got %s"):format(text.shown(filters)), 2)
  end
  if kernel_size == nil then error("Conv1D: kernel_size is required, e.g. Conv1D(32, 3)", 2) end
  conv2d._data_format(opts.data_format, "Conv1D", 2)
  local padding = type(opts.padding) == "string" and opts.padding:lower() or opts.padding or "valid"
  if padding ~= "valid" and padding ~= "same" and padding ~= "causal" then
    error(("Conv1D: padding must be 'valid', 'same' or 'causal', got %s"):format(tostring(opts.padding)), 2)
  end
  local self = Layer.setup(setmetatable({}, Conv1D), opts)
  self.filters = filters
  self.kernel_size = Conv1D._single(kernel_size, "kernel_size", "Conv1D", 2)
  self.strides = Conv1D._single(opts.strides or 1, "strides", "Conv1D", 2)
  self.dilation_rate = Conv1D._single(opts.dilation_rate or 1, "dilation_rate", "Conv1D", 2)
  self.padding = padding
  self:_kernel_options(opts, "kernel")
  return self
end

function Conv1D:_create()
  return core.conv1d_layer{filters = self.filters, kernel_size = self.kernel_size, strides = self.strides,
                           dilation_rate = self.dilation_rate, padding = self.padding,
                           activation = self.activation, alpha = self.alpha, use_bias = self.use_bias,
                           kernel_initializer = self.kernel_initializer, bias_initializer = self.bias_initializer}
end

--- Keras' config: kernel_size, strides and dilation_rate as lists of one ({3}).
function Conv1D:get_config()
  local cfg = Layer.get_config(self)
  cfg.filters, cfg.kernel_size, cfg.strides = self.filters, {self.kernel_size}, {self.strides}
  cfg.padding, cfg.data_format, cfg.dilation_rate = self.padding, "channels_last", {self.dilation_rate}
  return self:_kernel_config(cfg, "kernel")
end

return {Conv1D = Conv1D}
