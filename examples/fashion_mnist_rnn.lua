-- A recurrent network on Fashion-MNIST (Debian's dataset-fashion-mnist), each image read
-- as a sequence of its 28 rows of 28 pixels: GRU(128) (or LSTM(128)) then Dense(10,
-- softmax), Adam(0.001), batch 64 (issue 17: GRU(128) should reach at least 0.85 test
-- accuracy in 3 epochs).
-- Usage: lurn examples/fashion_mnist_rnn.lua [--cell GRU|LSTM|SimpleRNN] [--epochs 3]
--        [--batch-size 64] [--threads T] [--train-samples N] (a subset, for quick looks)
local lurn = lurn or require "lurn"
local L = lurn.layers

local opts = {cell = "GRU", epochs = 3, batch_size = 64, seed = 42, train_samples = 60000}
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
  if key == "cell" then
    if value ~= "GRU" and value ~= "LSTM" and value ~= "SimpleRNN" then
      error("--cell expects GRU, LSTM or SimpleRNN, got " .. tostring(value))
    end
    opts.cell = value
  else
    opts[key] = math.tointeger(tonumber(value)) or error(("--%s expects an integer"):format(key))
  end
  i = i + 1
end
if opts.threads then lurn.set_num_threads(opts.threads) end
lurn.manual_seed(opts.seed)

local x_train, y_train, x_test, y_test = lurn.datasets.fashion_mnist.load_data()
x_train = x_train:reshape(-1, 28, 28):div_(255)  -- (images, rows as timesteps, pixels as features)
x_test = x_test:reshape(-1, 28, 28):div_(255)
if opts.train_samples < x_train:size(1) then
  x_train = x_train:narrow(1, 1, opts.train_samples):contiguous()
  y_train = y_train:narrow(1, 1, opts.train_samples):contiguous()
end

local model = lurn.Sequential{
  L[opts.cell](128, {input_shape = {28, 28}}),
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
print(("%s(128): test accuracy %.4f, test loss %.4f; seconds per epoch (with validation): %s; %d threads"):format(
  opts.cell, scores.accuracy, scores.loss, table.concat(per_epoch, ", "), lurn.get_num_threads()))
