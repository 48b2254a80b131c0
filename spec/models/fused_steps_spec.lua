-- The fused steps of backward (a max pooling applying the relu gradient of the layer
-- below it, the loss applying the softmax's) give the numbers of the plain chain rule:
-- a functional model, whose graph plans them for itself, and the Sequential stack of the
-- same layers and weights have the same loss and gradients bit for bit.
local lurn = require "lurn"
local L = lurn.layers

local function stack()
  return {L.Conv2D(4, 3, {activation = "relu", padding = "same"}), L.MaxPooling2D(2), L.Conv2D(3, 1, {activation = "relu"}),
          L.GlobalMaxPooling2D(), L.Dense(3, {activation = "softmax"})}
end

describe("fused steps", function()
  it("give a functional model the gradients of the Sequential stack, bit for bit", function()
    lurn.manual_seed(3)
    local seq = lurn.Sequential(stack())
    seq:build({8, 8, 2})
    local input = lurn.Input({8, 8, 2})
    local h = input
    for _, layer in ipairs(stack()) do h = layer(h) end
    local fun = lurn.Model(input, h)
    fun:set_weights(seq:get_weights())
    local x, y = lurn.randn(5, 8, 8, 2), lurn.tensor({0, 1, 2, 1, 0})
    for _, m in ipairs({seq, fun}) do m:compile({loss = "sparse_categorical_crossentropy", optimizer = "sgd"}) end
    assert.are.equal(seq:compute_gradients(x, y), fun:compute_gradients(x, y))
    local a, b = seq:gradients(), fun:gradients()
    assert.are.equal(#a, #b)
    for i = 1, #a do
      assert.are.equal(0, (a[i] - b[i]):abs():max())
      assert.is_true(a[i]:abs():max() > 0)
    end
  end)
end)
