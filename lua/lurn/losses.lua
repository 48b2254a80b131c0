--- Losses by Keras name ("sparse_categorical_crossentropy", "mse", ...) or as objects
-- (`lurn.losses.BinaryCrossentropy{from_logits = true}`, `lurn.losses.Huber{delta = 2}`).
-- A loss resolves to the table the C core takes: {kind =, from_logits =, delta =}.
-- A loss object is also callable: loss(y_true, y_pred) -> value.
local core = require "lurn.core"
local options = require "lurn.options"

local losses = {}

local Loss = {}
Loss.__index = Loss
Loss.__call = function(self, y_true, y_pred, sample_weight)
  local value = core.loss_value(self, y_pred, y_true, sample_weight)
  return value
end

local function make(kind, name, opts)
  opts = opts or {}
  return setmetatable({kind = kind, name = name, from_logits = opts.from_logits and true or false,
                       delta = opts.delta or 1.0}, Loss)
end

-- Keras class name -> kind, and the options it takes.
local classes = {
  BinaryCrossentropy = {"binary_crossentropy", {"from_logits"}},
  CategoricalCrossentropy = {"categorical_crossentropy", {"from_logits"}},
  SparseCategoricalCrossentropy = {"sparse_categorical_crossentropy", {"from_logits"}},
  MeanSquaredError = {"mean_squared_error", {}},
  MeanAbsoluteError = {"mean_absolute_error", {}},
  Huber = {"huber", {"delta"}},
}
-- Keras' loss options lurn does not implement (losses are averaged over the batch).
local UNSUPPORTED = {"label_smoothing", "axis", "reduction", "ignore_class", "name"}
for class_name, spec in pairs(classes) do
  losses[class_name] = function(opts)
    options.check(opts, spec[2], class_name, 2, {unsupported = UNSUPPORTED})
    return make(spec[1], spec[1], opts)
  end
end

local names = {
  binary_crossentropy = "binary_crossentropy",
  categorical_crossentropy = "categorical_crossentropy",
  sparse_categorical_crossentropy = "sparse_categorical_crossentropy",
  mean_squared_error = "mean_squared_error", mse = "mean_squared_error",
  mean_absolute_error = "mean_absolute_error", mae = "mean_absolute_error",
  huber = "huber", huber_loss = "huber",
}

function losses.get(x)
  if getmetatable(x) == Loss then return x end
  if type(x) == "string" and names[x] then return make(names[x], x) end
  local known = {}
  for k in pairs(names) do known[#known + 1] = k end
  table.sort(known)
  error(("unknown loss %s (known: %s)"):format(type(x) == "string" and ("'" .. x .. "'") or type(x),
    table.concat(known, ", ")), 2)
end

return losses
