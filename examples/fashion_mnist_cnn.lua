-- The seeds' convolutional network on Fashion-MNIST (Debian's dataset-fashion-mnist):
-- Conv2D(64, 3, relu) MaxPooling2D(2) Conv2D(128, 3, relu) MaxPooling2D(2) Flatten
-- Dense(10, softmax), Adam(0.001), batch 32.
-- Usage: lurn examples/fashion_mnist_cnn.lua [--epochs N] [--batch-size B] [--threads T]
--        [--train-samples N] (a subset, for quick looks)
local lurn = lurn or require "lurn"
local L = lurn.layers

local opts = {epochs = 1, batch_size = 32, seed = 42, train_samples = 60000}
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
  opts[key] = math.tointeger(tonumber(value)) or error(("--%s expects an integer"):format(key))
  i = i + 1
end
if opts.threads then lurn.set_num_threads(opts.threads) end
lurn.manual_seed(opts.seed)

local x_train, y_train, x_test, y_test = lurn.datasets.fashion_mnist.load_data()
x_train = x_train:reshape(-1, 28, 28, 1):div_(255)  -- channels last, in place
x_test = x_test:reshape(-1, 28, 28, 1):div_(255)
if opts.train_samples < x_train:size(1) then
  x_train = x_train:narrow(1, 1, opts.train_samples):contiguous()
  y_train = y_train:narrow(1, 1, opts.train_samples):contiguous()
end

local model = lurn.Sequential{
  L.Conv2D(64, 3, {activation = "relu", input_shape = {28, 28, 1}}),
  L.MaxPooling2D(2),
  L.Conv2D(128, 3, {activation = "relu"}),
  L.MaxPooling2D(2),
  L.Flatten(),
  L.Dense(10, {activation = "softmax"}),
}
model:summary()
model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.001},
              loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}

local epoch_times = {}
local timer = {
  on_epoch_begin = function(self) self.t0 = lurn.clock() end,
  on_epoch_end = function(self) epoch_times[#epoch_times + 1] = lurn.clock() - self.t0 end,
}
model:fit(x_train, y_train, {epochs = opts.epochs, batch_size = opts.batch_size,
                             validation_data = {x_test, y_test}, callbacks = {timer}})
local scores = model:evaluate(x_test, y_test, {verbose = 0})
local per_epoch = {}
for e, t in ipairs(epoch_times) do per_epoch[e] = ("%.1f"):format(t) end
print(("test accuracy %.4f, test loss %.4f; seconds per epoch (with validation): %s; %d threads"):format(
  scores.accuracy, scores.loss, table.concat(per_epoch, ", "), lurn.get_num_threads()))
