--- Weight regularizers as in Keras: l1(0.01), l2(0.01), l1_l2{l1 = 0.01, l2 = 0.01}.
-- The penalty (l1 * sum|w| + l2 * sum w^2) is added to the reported loss and its
-- gradient to the weights' gradients (src/nn/regularizers.c).
local options = require "lurn.options"

local regularizers = {}

local function make(l1, l2)
  for name, v in pairs{l1 = l1, l2 = l2} do
    if type(v) ~= "number" or v < 0 or v ~= v then
      error(("regularizer: %s must be a number >= 0"):format(name), 3)
    end
  end
  return {l1 = l1, l2 = l2, is_regularizer = true}
end

function regularizers.l1(l1) return make(l1 == nil and 0.01 or l1, 0) end
function regularizers.l2(l2) return make(0, l2 == nil and 0.01 or l2) end
function regularizers.l1_l2(opts)
  options.check(opts, {"l1", "l2"}, "l1_l2", 2)
  opts = opts or {}
  return make(opts.l1 == nil and 0.01 or opts.l1, opts.l2 == nil and 0.01 or opts.l2)
end
regularizers.L1, regularizers.L2 = regularizers.l1, regularizers.l2
--- L1L2{l1 = 0, l2 = 0}: Keras' class, whose factors default to 0 (the function l1_l2's to 0.01).
function regularizers.L1L2(opts)
  options.check(opts, {"l1", "l2"}, "L1L2", 2)
  opts = opts or {}
  return make(opts.l1 or 0, opts.l2 or 0)
end

--- A regularizer as plain data, as Keras' serialize: {class_name = "L1L2", config = {l1 =, l2 =}}.
function regularizers.serialize(reg)
  if type(reg) ~= "table" or not reg.is_regularizer then
    error(("regularizers.serialize: expected a regularizer, got %s"):format(type(reg)), 2)
  end
  return {class_name = "L1L2", config = {l1 = reg.l1, l2 = reg.l2}}
end

--- The regularizer serialize describes: {class_name = "L1L2" (or "L1", "L2"), config =}.
function regularizers.deserialize(t)
  local ctor = type(t) == "table" and ({L1L2 = regularizers.L1L2, L1 = true, L2 = true})[t.class_name]
  if not ctor or (t.config ~= nil and type(t.config) ~= "table") then
    error(("regularizers.deserialize: expected {class_name = 'L1L2', config = {l1 =, l2 =}}, got %s"):format(
      type(t) == "table" and tostring(t.class_name) or type(t)), 2)
  end
  local config = t.config or {}
  if t.class_name == "L1" then return regularizers.l1(config.l1) end
  if t.class_name == "L2" then return regularizers.l2(config.l2) end
  return ctor(config)
end

--- nil, a regularizer, its serialized form, or a name ("l1", "l2", "l1_l2" with Keras'
-- default factors).
function regularizers.get(x)
  if x == nil then return nil end
  if type(x) == "table" and x.is_regularizer then return x end
  if type(x) == "table" and x.class_name then return regularizers.deserialize(x) end
  if type(x) == "string" and regularizers[x] then return regularizers[x]() end
  error(("unknown regularizer %s (use lurn.regularizers.l1, l2 or l1_l2)"):format(tostring(x)), 2)
end

return regularizers
