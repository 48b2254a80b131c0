--- MNIST handwritten digits: 60000 training and 10000 test images, 28x28 grey levels,
-- labels 0..9. Debian ships no package of it, so the four IDX files come from a folder
-- you name:
--
--   local x_train, y_train, x_test, y_test = lurn.datasets.mnist.load_data{path = "data/mnist"}
--
-- reads data/mnist/train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
-- t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (each .gz or plain). Without
-- path=, LURN_DATA=ROOT reads ROOT/mnist/. x_* are float32 tensors (N, 28, 28) of
-- 0..255, as Keras returns them; y_* are the labels 0..9, as stored.
local idx = require "lurn.datasets.idx"
local at_user_line = require "lurn.at_user_line"

local mnist = {}

local DATASET = {
  name = "mnist",
  folder = "mnist",
  classes = 10,
  missing_hint = "put the four MNIST IDX files there (Debian has no MNIST package; "
    .. "`apt-get install dataset-fashion-mnist` gives Fashion-MNIST, a drop-in replacement: "
    .. "lurn.datasets.fashion_mnist)",
  damaged_hint = "fetch a fresh copy of the file",
}

--- x_train, y_train, x_test, y_test. opts: {path = folder}.
mnist.load_data = at_user_line(function(opts) return idx.load_data(DATASET, opts) end)

return mnist
