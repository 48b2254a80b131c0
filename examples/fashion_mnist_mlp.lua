-- The seeds' multilayer perceptron on Fashion-MNIST (Debian's dataset-fashion-mnist):
-- 784-256-relu-dropout(0.25)-128-relu-dropout(0.25)-10-softmax, Adam(0.001), batch 32.
-- Usage: lurn examples/fashion_mnist_mlp.lua [--epochs N] [--batch-size B] [--threads T]
local lurn = lurn or require "lurn"
local L = lurn.layers

local opts = {epochs = 1, batch_size = 32, seed = 42}
local i = 1
while i <= #arg do
  local key, value = arg[i]:match("^%-%-([%w-]+)=?(.*)$")
  if not key then error("unexpected argument: " .. arg[i]) end
  if value == "" then
    i = i + 1
    value = arg[i]
  end
  key = key:gsub("-", "_")
  if opts[key] == nil and key ~= "threads" then error("unknown option --" .. key) end
  opts[key] = tonumber(value) or error(("--%s expects a number"):format(key))
  i = i + 1
end
if opts.threads then lurn.set_num_threads(opts.threads) end
lurn.manual_seed(opts.seed)

local x_train, y_train, x_test, y_test = lurn.datasets.fashion_mnist.load_data()
x_train = x_train:reshape(-1, 784):div_(255)  -- in place: no second copy of the data
x_test = x_test:reshape(-1, 784):div_(255)

local model = lurn.Sequential{
  L.Dense(256, {activation = "relu", input_shape = {784}}),
  L.Dropout(0.25),
  L.Dense(128, {activation = "relu"}),
  L.Dropout(0.25),
  L.Dense(10, {activation = "softmax"}),
}
model:summary()
model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.001},
              loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}

local started = lurn.clock()
model:fit(x_train, y_train, {epochs = opts.epochs, batch_size = opts.batch_size,
                             validation_data = {x_test, y_test}})
local seconds = lurn.clock() - started
local scores = model:evaluate(x_test, y_test, {verbose = 0})
print(("test accuracy %.4f, test loss %.4f; %.1f s per epoch on %d threads"):format(
  scores.accuracy, scores.loss, seconds / opts.epochs, lurn.get_num_threads()))
