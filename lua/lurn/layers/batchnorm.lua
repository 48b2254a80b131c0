--- BatchNormalization{momentum = 0.99, epsilon = 0.001, center = true, scale = true,
-- beta_initializer = "zeros", gamma_initializer = "ones", beta_regularizer,
-- gamma_regularizer, synchronized = false}: normalises the last dimension (channels) with
-- batch statistics in training and moving statistics in evaluate/predict, as Keras (axis =
-- -1). synchronized (Keras 2.12): in a data-parallel fit under mpirun, the statistics of
-- the global batch (summed over the processes) instead of each process's shard's.
-- get_weights: gamma, beta, moving_mean, moving_variance.
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"
local initializers = require "lurn.initializers"

local BatchNormalization = Layer._define("BatchNormalization")
BatchNormalization._options = {"axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
  "gamma_initializer", "beta_regularizer", "gamma_regularizer", "synchronized"}
BatchNormalization._unsupported_options = {"moving_mean_initializer", "moving_variance_initializer", "beta_constraint",
  "gamma_constraint", "renorm", "renorm_clipping", "renorm_momentum", "fused", "virtual_batch_size", "adjustment"}

function BatchNormalization._new(opts)
  opts = opts or {}
  local self = Layer.setup(setmetatable({}, BatchNormalization), opts)
  if opts.axis ~= nil and opts.axis ~= -1 then
    error("BatchNormalization: only axis = -1 (channels last) is supported", 2)
  end
  for _, k in ipairs{"momentum", "epsilon"} do
    if opts[k] ~= nil and type(opts[k]) ~= "number" then
      error(("BatchNormalization: %s must be a number"):format(k), 2)
    end
  end
  self.momentum = opts.momentum or 0.99
  self.epsilon = opts.epsilon or 0.001
  if opts.synchronized ~= nil and type(opts.synchronized) ~= "boolean" then
    error(("BatchNormalization: synchronized must be true or false, got %s"):format(tostring(opts.synchronized)), 2)
  end
  self.synchronized = opts.synchronized == true
  self.center = opts.center ~= false
  self.scale = opts.scale ~= false
  self.beta_initializer = initializers.get(opts.beta_initializer or "zeros")
  self.gamma_initializer = initializers.get(opts.gamma_initializer or "ones")
  self:_regularize(1, opts.gamma_regularizer)
  self:_regularize(2, opts.beta_regularizer)
  return self
end

function BatchNormalization:_create()
  return core.batchnorm_layer{momentum = self.momentum, epsilon = self.epsilon, center = self.center,
                              scale = self.scale, beta_initializer = self.beta_initializer,
                              gamma_initializer = self.gamma_initializer, synchronized = self.synchronized}
end

function BatchNormalization:get_config()
  local cfg = Layer.get_config(self)
  cfg.axis, cfg.momentum, cfg.epsilon, cfg.center, cfg.scale = -1, self.momentum, self.epsilon, self.center, self.scale
  cfg.beta_initializer = initializers.serialize(self.beta_initializer)
  cfg.gamma_initializer = initializers.serialize(self.gamma_initializer)
  cfg.synchronized = self.synchronized
  self:_regularizer_config(cfg, {"gamma_regularizer", "beta_regularizer"})
  return cfg
end

return {BatchNormalization = BatchNormalization}
