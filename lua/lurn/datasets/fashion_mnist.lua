--- Fashion-MNIST (Zalando): 60000 training and 10000 test images of clothing, 28x28
-- grey levels, in 10 classes (0 T-shirt/top, 1 trouser, 2 pullover, 3 dress, 4 coat,
-- 5 sandal, 6 shirt, 7 sneaker, 8 bag, 9 ankle boot).
--
--   local x_train, y_train, x_test, y_test = lurn.datasets.fashion_mnist.load_data()
--
-- x_* are float32 tensors (N, 28, 28) of 0..255, as Keras returns them; y_* are the
-- labels 0..9, as stored. The files come from Debian's package dataset-fashion-mnist
-- (/usr/share/datasets/fashion-mnist/*-ubyte.gz), or from elsewhere:
--   load_data{path = FOLDER}  reads FOLDER/train-images-idx3-ubyte.gz and the other three
--                             (each .gz or plain);
--   LURN_DATA=ROOT            reads ROOT/fashion-mnist/ instead of Debian's folder.
-- path= wins over LURN_DATA.
local idx = require "lurn.datasets.idx"
local at_user_line = require "lurn.at_user_line"

local fashion_mnist = {}

local DATASET = {
  name = "fashion_mnist",
  folder = "fashion-mnist",
  default = "/usr/share/datasets/fashion-mnist",
  classes = 10,
  missing_hint = "install Debian's package with `apt-get install dataset-fashion-mnist`, "
    .. "or pass path= (or set LURN_DATA to the parent of) a folder with the four IDX files",
  damaged_hint = "if it is Debian's copy, restore it with `apt-get install --reinstall dataset-fashion-mnist`",
}

--- x_train, y_train, x_test, y_test. opts: {path = folder} (optional).
fashion_mnist.load_data = at_user_line(function(opts) return idx.load_data(DATASET, opts) end)

return fashion_mnist
