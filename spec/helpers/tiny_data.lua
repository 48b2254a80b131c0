-- Tiny data and models for the experiments' specs (spec/experiments/): a two-feature
-- classification whose classes a line separates, and a builder of a small compiled
-- network for it. Everything is seeded: the same call gives the same tensors.
local lurn = require "lurn"
local L = lurn.layers

local tiny = {}

--- n samples of 2 features (standard normal, seeded), label 1 where x1 + x2 > threshold.
function tiny.classification(n, seed, threshold)
  lurn.manual_seed(seed or 1)
  local x = lurn.randn{n, 2}
  local y = (x:select(2, 1) + x:select(2, 2)):gt(threshold or 0)
  return x, y
end

--- A builder: function(units) -> Dense(units, relu) -> Dense(2, softmax), compiled with
-- opts.optimizer (default SGD 0.1), sparse categorical cross-entropy and accuracy.
function tiny.builder(opts)
  opts = opts or {}
  return function(units)
    local m = lurn.Sequential{L.Dense(units or opts.units or 8, {input_shape = {opts.features or 2}, activation = "relu"}),
                              L.Dense(2, {activation = "softmax"})}
    return m:compile{optimizer = opts.optimizer or lurn.optimizers.SGD{learning_rate = 0.1},
                     loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
  end
end

--- A fresh temporary folder for plots (removed by tiny.remove_dir).
function tiny.temp_dir()
  local path = os.tmpname()
  os.remove(path)
  assert(os.execute("mkdir -p '" .. path .. "'"))
  return path
end

function tiny.remove_dir(path)
  if path and path:match("^/tmp/") then os.execute("rm -rf '" .. path .. "'") end
end

function tiny.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

return tiny
