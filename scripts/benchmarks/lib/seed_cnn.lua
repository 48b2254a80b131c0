--- The seeds' CNN, as the benchmarks train it: Conv2D(64, 3, relu) MaxPooling2D(2)
-- Conv2D(128, 3, relu) MaxPooling2D(2) Flatten Dense(10, softmax) on (28, 28, 1) images,
-- Adam(0.001), sparse categorical cross-entropy, accuracy. Returns a compiled model.
local lurn = lurn or require "lurn"
local L = lurn.layers

return function()
  local model = lurn.Sequential{
    L.Conv2D(64, 3, {activation = "relu", input_shape = {28, 28, 1}}), L.MaxPooling2D(2),
    L.Conv2D(128, 3, {activation = "relu"}), L.MaxPooling2D(2), L.Flatten(),
    L.Dense(10, {activation = "softmax"}),
  }
  model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.001},
                loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
  return model
end
