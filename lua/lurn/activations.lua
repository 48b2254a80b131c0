--- Activation functions by Keras name: relu, sigmoid, tanh, softmax, softplus, softsign,
-- selu, elu, leaky_relu, gelu, linear. The math is in C (src/kernels/activations.c); these
-- helpers resolve names for layers and apply activations to tensors.
local core = require "lurn.core"
local at_user_line = require "lurn.at_user_line"

local activations = {}

-- Slope parameter the C kernels use for elu (alpha) and leaky_relu (negative slope).
local default_alpha = {elu = 1.0, leaky_relu = 0.2}

local known = {"linear", "relu", "sigmoid", "tanh", "softmax", "softplus", "softsign", "selu", "elu",
               "leaky_relu", "gelu"}
local is_known = {}
for _, k in ipairs(known) do is_known[k] = true end

--- name (or nil) -> C activation name, alpha; a Lua function -> "linear", 0, the
-- function (the layer then applies it through a Lambda). Errors on unknown names.
function activations.resolve(name)
  if name == nil then return "linear", 0 end
  if type(name) == "function" then return "linear", 0, name end
  if type(name) ~= "string" then
    error("activation must be a name (" .. table.concat(known, ", ") .. ") or a function", 3)
  end
  if not is_known[name] then
    error(("unknown activation '%s' (known: %s)"):format(name, table.concat(known, ", ")), 3)
  end
  return name, default_alpha[name] or 0
end

--- Applies a named activation to a tensor (over its last dimension for softmax).
function activations.apply(name, x, alpha)
  local act, default = activations.resolve(name)
  local layer = core.activation_layer(act, alpha or default)
  local shape = x:shape()
  local per_sample = {}
  for i = 2, #shape do per_sample[#per_sample + 1] = shape[i] end
  if #per_sample == 0 then
    x = x:reshape(shape[1], 1)
    per_sample = {1}
  end
  layer:build(per_sample)
  return layer:forward(x:contiguous()):reshape(shape)
end

for _, name in ipairs(known) do
  activations[name] = at_user_line(function(x, alpha)
    if not core.is_tensor(x) then
      error(("activations.%s: x must be a tensor, got %s"):format(name, type(x)), 2)
    end
    if alpha ~= nil and type(alpha) ~= "number" then
      error(("activations.%s: alpha must be a number, got %s"):format(name, type(alpha)), 2)
    end
    return activations.apply(name, x, alpha)
  end)
end

return activations
