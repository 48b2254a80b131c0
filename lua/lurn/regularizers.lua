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

--- nil, a regularizer, or a name ("l1", "l2", "l1_l2" with Keras' default factors).
function regularizers.get(x)
  if x == nil then return nil end
  if type(x) == "table" and x.is_regularizer then return x end
  if type(x) == "string" and regularizers[x] then return regularizers[x]() end
  error(("unknown regularizer %s (use lurn.regularizers.l1, l2 or l1_l2)"):format(tostring(x)), 2)
end

return regularizers
