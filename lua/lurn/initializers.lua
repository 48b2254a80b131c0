--- Weight initializers, by Keras name ("he_normal") or as objects
-- (`lurn.initializers.HeNormal{seed = 1}`). Each resolves to the plain table the C core
-- takes: {kind =, a =, b =, seed =}. The formulas are in src/nn/initializers.c.
local options = require "lurn.options"

local initializers = {}

-- Keras class name -> C kind and default arguments.
local specs = {
  Zeros = {kind = "zeros"},
  Ones = {kind = "ones"},
  Constant = {kind = "constant", args = {value = 0}, a = "value"},
  RandomNormal = {kind = "random_normal", args = {mean = 0, stddev = 0.05}, a = "mean", b = "stddev"},
  RandomUniform = {kind = "random_uniform", args = {minval = -0.05, maxval = 0.05}, a = "minval", b = "maxval"},
  TruncatedNormal = {kind = "truncated_normal", args = {mean = 0, stddev = 0.05}, a = "mean", b = "stddev"},
  GlorotUniform = {kind = "glorot_uniform"},
  GlorotNormal = {kind = "glorot_normal"},
  HeNormal = {kind = "he_normal"},
  HeUniform = {kind = "he_uniform"},
  LecunNormal = {kind = "lecun_normal"},
  LecunUniform = {kind = "lecun_uniform"},
  Orthogonal = {kind = "orthogonal", args = {gain = 1.0}, a = "gain"},
}

local by_name = {}
for class_name, spec in pairs(specs) do
  by_name[spec.kind] = class_name
  initializers[class_name] = function(opts)
    opts = opts or {}
    if type(opts) == "number" and spec.a then opts = {[spec.a] = opts} end
    local known = {}
    for k in pairs(spec.args or {}) do known[#known + 1] = k end
    if spec.kind ~= "zeros" and spec.kind ~= "ones" and spec.kind ~= "constant" then known[#known + 1] = "seed" end
    options.check(opts, known, class_name, 2)
    local init = {kind = spec.kind, class_name = class_name, seed = opts.seed}
    for k, v in pairs(spec.args or {}) do
      init[k] = opts[k] == nil and v or opts[k]
      if type(init[k]) ~= "number" then
        error(("%s: %s must be a number"):format(class_name, k), 2)
      end
    end
    init.a = spec.a and init[spec.a] or 0
    init.b = spec.b and init[spec.b] or 0
    return init
  end
end
by_name.constant = "Constant"
-- Keras' short aliases (Embedding's default embeddings_initializer is "uniform")
by_name.uniform, by_name.normal = "RandomUniform", "RandomNormal"

--- An initializer as plain data, as Keras' serialize: {class_name = "HeNormal", config =
-- {seed = 1}} (RandomNormal's config: mean, stddev, seed; Constant's: value; ...).
function initializers.serialize(init)
  if type(init) ~= "table" or not specs[init.class_name] then
    error(("initializers.serialize: expected an initializer, got %s"):format(type(init)), 2)
  end
  local spec, config = specs[init.class_name], {}
  for k in pairs(spec.args or {}) do config[k] = init[k] end
  config.seed = init.seed
  return {class_name = init.class_name, config = config}
end

--- The initializer serialize describes ({class_name =, config =}).
function initializers.deserialize(t)
  if type(t) ~= "table" or type(t.class_name) ~= "string" or not specs[t.class_name] then
    local known = {}
    for k in pairs(specs) do known[#known + 1] = k end
    table.sort(known)
    error(("initializers.deserialize: expected {class_name =, config =} with class_name one of %s, got %s"):format(
      table.concat(known, ", "), type(t) == "table" and tostring(t.class_name) or type(t)), 2)
  end
  if t.config ~= nil and type(t.config) ~= "table" then
    error(("initializers.deserialize: %s's config must be a table, got %s"):format(t.class_name, type(t.config)), 2)
  end
  local config = {}
  for k, v in pairs(t.config or {}) do config[k] = v end
  return initializers[t.class_name](config)
end

--- Resolves a name, an initializer object, its serialized form ({class_name =, config =})
-- or a number (a constant) to a C spec.
function initializers.get(x)
  if type(x) == "table" and x.kind then return x end
  if type(x) == "table" and x.class_name then return initializers.deserialize(x) end
  if type(x) == "number" then return initializers.Constant{value = x} end
  if type(x) == "string" then
    local class_name = by_name[x] or (specs[x] and x)
    if class_name then return initializers[class_name]() end
  end
  local known = {}
  for k in pairs(by_name) do known[#known + 1] = k end
  table.sort(known)
  error(("unknown initializer %s (known: %s)"):format(
    type(x) == "string" and ("'" .. x .. "'") or type(x), table.concat(known, ", ")), 2)
end

return initializers
