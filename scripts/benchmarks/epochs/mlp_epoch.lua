--- One epoch of the seeds' MLP (Dense(256, relu), Dropout(0.25), Dense(10, softmax), Adam,
-- batch 32) on the 60000 Fashion-MNIST images, after a 2000-image warm-up: prints its
-- seconds. For before/after comparisons on any build (docs/benchmarks.md):
--   build/lurn scripts/benchmarks/epochs/mlp_epoch.lua [threads = 2]
lurn.set_num_threads(tonumber(arg[1] or 2))
lurn.manual_seed(42)
local L = lurn.layers
local x, y = lurn.datasets.fashion_mnist.load_data()
x = x:reshape(-1, 784):div_(255)
local model = lurn.Sequential{L.Dense(256, {activation = "relu", input_shape = {784}}), L.Dropout(0.25),
                              L.Dense(10, {activation = "softmax"})}
model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.001}, loss = "sparse_categorical_crossentropy",
              metrics = {"accuracy"}}
model:fit(x:narrow(1, 1, 2000):contiguous(), y:narrow(1, 1, 2000):contiguous(), {epochs = 1, batch_size = 32, verbose = 0})
local t = lurn.clock()
model:fit(x, y, {epochs = 1, batch_size = 32, verbose = 0})
print(("%.3f"):format(lurn.clock() - t))
