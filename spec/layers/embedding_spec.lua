-- Embedding: rows looked up by 0-based id (hand-checked), Keras' shapes, weight name and
-- default initializer, the scatter-added gradient (finite differences, repeated ids,
-- threads), training in a model, and ids that are not integers in [0, input_dim)
-- refused with the sample and position, before anything is written.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"

local flat = gradcheck.flat
local L = lurn.layers

local function built(layer, shape)
  layer:build(shape)
  return layer
end

-- Random ids (n, steps) in [0, input_dim), as floats.
local function ids(n, steps, input_dim)
  return (lurn.rand{n, steps} * (input_dim - 0.01)):floor()
end

describe("Embedding", function()
  before_each(function() lurn.manual_seed(21) end)

  it("looks up row id (0-based) of the embeddings (hand-checked)", function()
    local layer = built(L.Embedding(3, 2), {4})
    layer:set_weights{lurn.tensor{{0, 1}, {10, 11}, {20, 21}}}
    local y = layer(lurn.tensor{{0, 2, 1, 0}, {1, 1, 2, 2}})
    assert.same({2, 4, 2}, y:shape())
    assert.same({{{0, 1}, {20, 21}, {10, 11}, {0, 1}}, {{10, 11}, {10, 11}, {20, 21}, {20, 21}}}, y:totable())
  end)

  it("has Keras' shapes, weight name and default initializer (uniform in [-0.05, 0.05])", function()
    local layer = L.Embedding(1000, 16, {input_length = 5})
    assert.same({5}, layer.input_shape)
    local model = lurn.Sequential{layer}
    model:build()
    assert.same({5, 16}, layer.output_shape)
    local params, names = layer:parameters()
    assert.same({"embeddings"}, names)
    assert.same({1000, 16}, params[1]:shape())
    assert.is_true(params[1]:abs():max() <= 0.05)
    assert.is_true(params[1]:abs():max() > 0.04)
    assert.equal(16000, layer:count_params())
    assert.same({class_name = "RandomUniform", config = {minval = -0.05, maxval = 0.05}},
      layer:get_config().embeddings_initializer)
    -- any per-sample shape: (N, a, b) -> (N, a, b, output_dim)
    assert.same({2, 3, 2, 4}, L.Embedding(5, 4)(ids(6, 2, 5):reshape{2, 3, 2}):shape())
  end)

  it("scatter-adds the gradient onto the rows of the ids, repeated ids summed (hand-checked)", function()
    local layer = built(L.Embedding(4, 2), {3})
    local x = lurn.tensor{{1, 3, 1}, {0, 1, 1}}
    local y = layer._core:forward(x, true)
    local dy = lurn.tensor{{{1, 2}, {3, 4}, {5, 6}}, {{7, 8}, {9, 10}, {11, 12}}}
    local dx = layer._core:backward(x, y, dy)
    assert.same({{7, 8}, {1 + 5 + 9 + 11, 2 + 6 + 10 + 12}, {0, 0}, {3, 4}}, layer:gradients()[1]:totable())
    assert.same({{0, 0, 0}, {0, 0, 0}}, dx:totable())  -- ids get no gradient
  end)

  it("passes a finite-difference check of the embeddings' gradient", function()
    local layer = built(L.Embedding(6, 3), {5})
    local x = ids(4, 5, 6)
    local y = layer._core:forward(x, true)
    local r = lurn.randn(y:shape())
    layer._core:backward(x, y, r)
    local analytic = layer:gradients()[1]:clone()
    local function objective() return gradcheck.dot(r, layer._core:forward(x, true)) end
    gradcheck.assert_close(analytic, gradcheck.numeric(objective, layer:parameters()[1]), nil, "dL/dembeddings")
  end)

  it("gives the same gradient on 1 and 2 threads (columns split, no races)", function()
    local threads = lurn.get_num_threads()
    local layer = built(L.Embedding(50, 64), {200})
    local x, results = ids(16, 200, 50), {}
    local dy = lurn.randn{16, 200, 64}
    for _, t in ipairs{1, 2} do
      lurn.set_num_threads(t)
      local y = layer._core:forward(x, true)
      layer._core:backward(x, y, dy)
      results[t] = layer:gradients()[1]:clone()
    end
    lurn.set_num_threads(threads)
    assert.is_true((results[1] - results[2]):abs():max() <= 1e-4)
  end)

  it("trains in a model: Embedding, GlobalAveragePooling1D, Dense (gradient check)", function()
    local model = lurn.Sequential{
      L.Embedding(8, 4, {input_length = 6, embeddings_regularizer = lurn.regularizers.l2(0.1)}),
      L.GlobalAveragePooling1D(),
      L.Dense(2, {activation = "softmax"}),
    }
    model:build()
    local x = ids(5, 6, 8)
    local y = lurn.tensor{0, 1, 1, 0, 1}
    -- the model's dL/dx is not checked against differences: ids are not continuous
    local core = model._core
    local loss = {kind = "sparse_categorical_crossentropy"}
    core:gradients(loss, x, y)
    local grads = {}
    for li, layer in ipairs(model.layers) do
      grads[li] = {}
      for i, g in ipairs(layer:gradients()) do grads[li][i] = g:clone() end
    end
    local function value() return (core:gradients(loss, x, y)) end
    for li, layer in ipairs(model.layers) do
      local params, names = layer:parameters()
      for i, p in ipairs(params) do
        gradcheck.assert_close(grads[li][i], gradcheck.numeric(value, p), nil, layer.name .. " " .. names[i])
      end
    end
  end)

  it("runs in a functional model with Conv1D, TimeDistributed and pooling: fits, and round-trips its config", function()
    local inp = L.Input{shape = {6}}
    local e = L.Embedding(10, 4)(inp)
    local c = L.Conv1D(3, 2, {padding = "causal", activation = "relu"})(e)
    local t = L.TimeDistributed(L.Dense(2))(c)
    local g = L.GlobalMaxPooling1D()(t)
    local model = lurn.Model{inputs = inp, outputs = L.Dense(1)(g)}
    model:compile{optimizer = "adam", loss = "mse"}
    local x, y = ids(8, 6, 10), lurn.randn{8, 1}
    local before = model:get_weights()[1]:clone()
    model:fit(x, y, {epochs = 2, verbose = 0})
    assert.is_true((model:get_weights()[1] - before):abs():max() > 0)
    assert.equal(40 + 27 + 8 + 3, model:count_params())
    local copy = L.deserialize(L.serialize(model))
    copy:build()
    copy:set_weights(model:get_weights())
    assert.same(model:predict(x):totable(), copy:predict(x):totable())
  end)

  it("refuses ids that are not integers in [0, input_dim), naming the sample and position", function()
    local layer = built(L.Embedding(10, 2), {3})
    local cases = {
      {{{1, 2, 0}, {9, 3.5, 3}}, "token id 3.5 at sample 2 of the batch, position 2 is not an integer in %[0, 10%)"},
      {{{1, 2, 10}, {9, 3, 3}}, "token id 10 at sample 1 of the batch, position 3 is not an integer in %[0, 10%)"},
      {{{1, 2, 0}, {-1, 3, 3}}, "token id %-1 at sample 2 of the batch, position 1"},
      {{{1, 0 / 0, 0}, {1, 3, 3}}, "token id NaN at sample 1 of the batch, position 2"},
      {{{1, 1 / 0, 0}, {1, 3, 3}}, "token id inf at sample 1 of the batch, position 2"},
    }
    for _, c in ipairs(cases) do
      assert.error_matches(function() layer(lurn.tensor(c[1])) end, "Embedding: " .. c[2])
    end
    -- checked before anything is written: the gradient of the last good batch stays
    local x = lurn.tensor{{1, 2, 0}, {9, 3, 3}}
    local y = layer._core:forward(x, true)
    layer._core:backward(x, y, lurn.ones{2, 3, 2})
    local before = layer:gradients()[1]:clone()
    assert.error_matches(function() layer._core:backward(lurn.tensor{{1, 2, 0}, {9, 30, 3}}, y, lurn.ones{2, 3, 2}) end,
      "token id 30 at sample 2 of the batch, position 2")
    assert.same(before:totable(), layer:gradients()[1]:totable())
  end)

  it("refuses bad options and inputs, naming them", function()
    assert.error_matches(function() L.Embedding(0, 3) end, "Embedding: input_dim must be a positive integer, got 0")
    assert.error_matches(function() L.Embedding(5) end, "Embedding: output_dim must be a positive integer, got nil")
    assert.error_matches(function() L.Embedding(5, 2, {input_length = 0}) end, "input_length must be a positive integer")
    assert.error_matches(function() L.Embedding(5, 2, {input_length = 3, input_shape = {3}}) end,
      "give input_length or input_shape, not both")
    assert.error_matches(function() L.Embedding(5, 2, {mask_zero = true}):build({2, 3}) end,
      "Embedding: mask_zero needs ids of shape %(steps%) per sample")
    assert.error_matches(function() L.Embedding(5, 2, {mask_zero = 1}) end, "mask_zero must be true or false")
    assert.error_matches(function() L.Embedding(5, 2, {embeddings_initializer = "nope"}) end, "unknown initializer")
    assert.error_matches(function() L.Embedding(5, 2, {sparse = true}) end, "sparse")
    -- wrong rank: a batch of one number each is (N), not (N, steps)
    assert.error_matches(function() L.Embedding(5, 2)(lurn.tensor{1, 2}) end, "expected a batch")
    local layer = built(L.Embedding(5, 2), {3})
    assert.error_matches(function() layer(lurn.tensor{{1, 2}}) end, "expects a packed batch of its input shape")
  end)
end)
