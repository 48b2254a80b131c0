--- Residual{layer, ..., projection = layer}: a block whose input is added to its
-- output, y = F(x) + x, inside a Sequential model (the seeds' "deeper network with
-- residual connections"). When F changes the shape, a projection layer maps x to F's
-- output shape: y = F(x) + projection(x). Blocks nest. Weights: the inner layers' in
-- order, then the projection's.
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"

local Residual = Layer._define("Residual")
Residual._options, Residual._positional = {"projection"}, true

function Residual._new(opts)
  if type(opts) ~= "table" or #opts == 0 then error("Residual: expected {layer, ...}", 2) end
  local self = Layer.setup(setmetatable({}, Residual), opts)
  self.inner = {}
  for i, layer in ipairs(opts) do
    if type(layer) ~= "table" or not layer._create or rawget(layer, "class_name") then
      error(("Residual: element %d is not a layer"):format(i), 2)
    end
    self.inner[i] = layer
  end
  if opts.projection ~= nil and (type(opts.projection) ~= "table" or not opts.projection._create
      or rawget(opts.projection, "class_name")) then
    error("Residual: projection must be a layer", 2)
  end
  self.projection = opts.projection
  return self
end

function Residual:_create()
  local cores = {}
  for _, layer in ipairs(self.inner) do
    layer:_make_core()
    for _, c in ipairs(layer:cores()) do cores[#cores + 1] = c end
  end
  if self.projection then self.projection:_make_core() end
  return core.residual_layer(cores, self.projection and self.projection._core)
end

function Residual:_sublayers()
  local list = {table.unpack(self.inner)}
  if self.projection then list[#list + 1] = self.projection end
  return list
end

-- Records the shapes of the block and of every layer inside it, nested blocks included
-- (Layer.build creates and builds the C layers, then calls this).
function Residual:_built(input_shape)
  Layer._built(self, input_shape)
  local shape = input_shape
  for _, layer in ipairs(self.inner) do
    layer:_built(shape)
    shape = layer.output_shape
  end
  if self.projection then self.projection:_built(input_shape) end
end

function Residual:get_weights()
  local out = {}
  for _, layer in ipairs(self:_sublayers()) do
    for _, w in ipairs(layer:get_weights()) do out[#out + 1] = w end
  end
  return out
end

function Residual:set_weights(weights)
  local at = 1
  for _, layer in ipairs(self:_sublayers()) do
    local k = #layer:parameters()
    layer:set_weights(table.move(weights, at, at + k - 1, 1, {}))
    at = at + k
  end
  if at - 1 ~= #weights then
    error(("Residual '%s' has %d weight tensors, got %d"):format(self.name, at - 1, #weights), 2)
  end
end

function Residual:parameters()
  local params, names = {}, {}
  for _, layer in ipairs(self:_sublayers()) do
    local p, n = layer:parameters()
    for i = 1, #p do
      params[#params + 1] = p[i]
      names[#names + 1] = layer.name .. "/" .. n[i]
    end
  end
  return params, names
end

function Residual:gradients()
  local out = {}
  for _, layer in ipairs(self:_sublayers()) do
    for _, g in ipairs(layer:gradients()) do out[#out + 1] = g end
  end
  return out
end

function Residual:_param_counts()
  local n, t = 0, 0
  for _, layer in ipairs(self:_sublayers()) do
    local a, b = layer:_param_counts()
    n, t = n + a, t + (self.trainable and b or 0)
  end
  return n, t
end

function Residual:_sync_trainable(frozen_above)
  local frozen = Layer._sync_trainable(self, frozen_above)
  for _, layer in ipairs(self:_sublayers()) do layer:_sync_trainable(frozen) end
  return frozen
end

--- {name =, trainable =, layers = {serialized layer, ...}, projection = serialized layer}
-- (each as lurn.layers.serialize gives it).
function Residual:get_config()
  local layers = require "lurn.layers"
  local cfg = Layer.get_config(self)
  cfg.layers = {}
  for i, layer in ipairs(self.inner) do cfg.layers[i] = layers.serialize(layer) end
  if self.projection then cfg.projection = layers.serialize(self.projection) end
  return cfg
end

function Residual._from_config(cls, config)
  local layers = require "lurn.layers"
  if type(config) ~= "table" or type(config.layers) ~= "table" then
    error("Residual.from_config: expected a config with layers = {serialized layer, ...}", 3)
  end
  local opts = Layer._copy_data(config)
  opts.layers = nil
  for i, t in ipairs(config.layers) do opts[i] = layers.deserialize(t) end
  if config.projection ~= nil then opts.projection = layers.deserialize(config.projection) end
  return cls._new(opts)
end

return {Residual = Residual}
