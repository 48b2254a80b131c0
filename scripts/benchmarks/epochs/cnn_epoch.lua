--- One epoch of the seeds' CNN on the first N Fashion-MNIST images, after a 2000-image
-- warm-up: prints its seconds. Small enough to run on any build, old ones included, for
-- before/after comparisons (docs/benchmarks.md):
--   build/lurn scripts/benchmarks/epochs/cnn_epoch.lua [N = 20000] [threads = 2]
local n = tonumber(arg[1] or 20000)
lurn.set_num_threads(tonumber(arg[2] or 2))
lurn.manual_seed(42)
local L = lurn.layers
local x, y = lurn.datasets.fashion_mnist.load_data()
x = x:narrow(1, 1, n):contiguous():reshape(n, 28, 28, 1):div_(255)
y = y:narrow(1, 1, n):contiguous()
local model = lurn.Sequential{
  L.Conv2D(64, 3, {activation = "relu", input_shape = {28, 28, 1}}), L.MaxPooling2D(2),
  L.Conv2D(128, 3, {activation = "relu"}), L.MaxPooling2D(2), L.Flatten(), L.Dense(10, {activation = "softmax"})}
model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.001}, loss = "sparse_categorical_crossentropy",
              metrics = {"accuracy"}}
model:fit(x:narrow(1, 1, 2000):contiguous(), y:narrow(1, 1, 2000):contiguous(), {epochs = 1, batch_size = 32, verbose = 0})
local t = lurn.clock()
model:fit(x, y, {epochs = 1, batch_size = 32, verbose = 0})
print(("%.3f"):format(lurn.clock() - t))
