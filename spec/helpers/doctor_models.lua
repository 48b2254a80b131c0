--- What the doctor's specs share (spec/doctor/): a small MLP classifier and a shipped data set.
local lurn = require "lurn"
local L = lurn.layers

local helpers = {}

--- A compiled MLP for `features` inputs and `classes` classes. opts: hidden (units, 16),
-- depth (hidden layers, 1), act ("relu"), init and bias (the hidden layers' initializers),
-- out_init (the output's kernel initializer), optimizer (else SGD at lr, 0.1).
function helpers.mlp(features, classes, opts)
  opts = opts or {}
  local layers = {L.Dense(opts.hidden or 16, {input_shape = {features}, activation = opts.act or "relu",
                                              kernel_initializer = opts.init, bias_initializer = opts.bias})}
  for _ = 2, opts.depth or 1 do
    layers[#layers + 1] = L.Dense(opts.hidden or 16, {activation = opts.act or "relu", kernel_initializer = opts.init,
                                                      bias_initializer = opts.bias})
  end
  layers[#layers + 1] = L.Dense(classes, {activation = "softmax", kernel_initializer = opts.out_init})
  local m = lurn.Sequential(layers)
  return m:compile{optimizer = opts.optimizer or lurn.optimizers.SGD{learning_rate = opts.lr or 0.1},
                   loss = "sparse_categorical_crossentropy"}
end

--- examples/data/NAME.csv: x (every column but target), y (the target column).
function helpers.shipped(name)
  local df = lurn.data.read_csv((os.getenv("LURN_SOURCE_DIR") or ".") .. "/examples/data/" .. name .. ".csv")
  local cols = {}
  for _, c in ipairs(df.columns) do if c ~= "target" then cols[#cols + 1] = c end end
  return df:to_tensor{columns = cols}, df:column("target")
end

return helpers
