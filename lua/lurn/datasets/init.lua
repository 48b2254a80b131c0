--- Ready-made data sets, loaded as Keras loads them (lurn.datasets.NAME.load_data).
return {
  fashion_mnist = require "lurn.datasets.fashion_mnist",
  mnist = require "lurn.datasets.mnist",
}
