--- TimeDistributed(layer, opts): applies `layer` to every step of a sequence, as Keras'
-- TimeDistributed: (N, steps, ...) -> (N, steps, ...layer's output), the same weights at
-- every step (the inner layer runs once on the batch seen as (N * steps, ...)). Weights,
-- trainable and regularizers are the inner layer's; its activity_regularizer is divided by
-- N * steps, the batch it sees, as in Keras. Options: input_shape, name, trainable.
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"

local TimeDistributed = Layer._define("TimeDistributed")
TimeDistributed._options = {"layer"}

function TimeDistributed._new(layer, opts)
  if opts == nil and type(layer) == "table" and layer.layer ~= nil and not layer._create then
    layer, opts = layer.layer, layer
  end
  opts = opts or {}
  if type(layer) ~= "table" or not layer._create or rawget(layer, "class_name") then
    error(("TimeDistributed: expected a layer, got %s"):format(
      type(layer) == "table" and (rawget(layer, "class_name") and "the class " .. layer.class_name or "a table")
      or type(layer)), 2)
  end
  if layer._several_outputs and layer:_several_outputs() then
    error(("TimeDistributed: %s returns several tensors (return_state, or Bidirectional's merge_mode = false); "
      .. "the inner layer must give one"):format(tostring(layer)), 2)
  end
  local setup_opts = opts
  if opts.layer ~= nil then
    setup_opts = {}
    for k, v in pairs(opts) do if k ~= "layer" then setup_opts[k] = v end end
  end
  local self = Layer.setup(setmetatable({}, TimeDistributed), setup_opts)
  Layer._wrap(layer, self, 2)
  self.layer = layer
  return self
end

function TimeDistributed:_create()
  self.layer:_make_core()
  if self.layer._post then
    error(("TimeDistributed: the inner layer '%s' has a Lua-function activation, which cannot run inside it; "
      .. "use a named activation"):format(self.layer.name), 0)
  end
  return core.time_distributed_layer(self.layer._core)
end

function TimeDistributed:_built(input_shape)
  Layer._built(self, input_shape)
  self.layer:_built(table.move(input_shape, 2, #input_shape, 1, {}))
end

-- The layer inside, for whoever expands containers (per-layer statistics).
function TimeDistributed:_sublayers() return {self.layer} end

function TimeDistributed:get_weights() return self.layer:get_weights() end
function TimeDistributed:set_weights(weights) return self.layer:set_weights(weights) end
function TimeDistributed:gradients() return self.layer:gradients() end

function TimeDistributed:parameters()
  local params, names = self.layer:parameters()
  local out = {}
  for i, n in ipairs(names) do out[i] = self.layer.name .. "/" .. n end
  return params, out
end

function TimeDistributed:_param_counts()
  local n, t = self.layer:_param_counts()
  return n, self.trainable and t or 0
end

function TimeDistributed:_sync_trainable(frozen_above)
  local frozen = Layer._sync_trainable(self, frozen_above)
  self.layer:_sync_trainable(frozen)
  return frozen
end

--- {name =, trainable =, layer = serialized inner layer}, as Keras' config.
function TimeDistributed:get_config()
  local layers = require "lurn.layers"
  local cfg = Layer.get_config(self)
  cfg.layer = layers.serialize(self.layer)
  return cfg
end

function TimeDistributed._from_config(cls, config)
  local layers = require "lurn.layers"
  if type(config) ~= "table" or type(config.layer) ~= "table" then
    error("TimeDistributed.from_config: expected a config with layer = serialized layer", 3)
  end
  local opts = Layer._copy_data(config)
  opts.layer = nil
  return cls._new(layers.deserialize(config.layer), opts)
end

return {TimeDistributed = TimeDistributed}
