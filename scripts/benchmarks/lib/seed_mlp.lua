--- The seeds' MLP, as the benchmarks train it: Dense(256, relu) Dropout(0.25) Dense(128, relu)
-- Dropout(0.25) Dense(10, softmax) on 784 pixels, Adam(0.001), sparse categorical
-- cross-entropy. Returns a compiled model.
local lurn = lurn or require "lurn"
local L = lurn.layers

return function()
  local model = lurn.Sequential{
    L.Dense(256, {activation = "relu", input_shape = {784}}), L.Dropout(0.25),
    L.Dense(128, {activation = "relu"}), L.Dropout(0.25), L.Dense(10, {activation = "softmax"}),
  }
  return model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.001}, loss = "sparse_categorical_crossentropy"}
end
