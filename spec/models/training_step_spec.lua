-- The training step in two halves: train_on_batch is compute_gradients then
-- apply_gradients bit for bit (every optimizer, with and without clipping, with a frozen
-- layer), and fit is a loop of them; gradients() are raw (clipping works on a copy);
-- apply_gradients takes given gradients (averaged ones from other machines) and names the
-- weight of a wrong one; compute_gradients reports fit's loss, penalties included.
local lurn = require "lurn"
local L = lurn.layers
local O = lurn.optimizers

local function same(a, b)
  return (a - b):abs():max() == 0
end

local function same_weights(a, b)
  local wa, wb = a:get_weights(), b:get_weights()
  assert.equal(#wa, #wb)
  for i = 1, #wa do assert.is_true(same(wa[i], wb[i]), "weight " .. i .. " differs") end
end

-- Two models with the same weights (a fixed seed before each).
local function twins(build)
  lurn.manual_seed(3)
  local a = build()
  lurn.manual_seed(3)
  local b = build()
  same_weights(a, b)
  return a, b
end

local function mlp(opts)
  opts = opts or {}
  return lurn.Sequential{L.Dense(6, {input_shape = {4}, activation = "relu", trainable = not opts.frozen,
                                     kernel_regularizer = opts.reg}),
                         L.Dense(5, {activation = "tanh", activity_regularizer = opts.reg}),
                         L.Dense(3, {activation = "softmax"})}
end

local x, y
before_each(function()
  lurn.manual_seed(11)
  x = lurn.randn{16, 4}
  y = (lurn.rand{16} * 3):floor()
end)

local OPTIMIZERS = {
  function(c) return O.SGD(c) end,
  function(c) c.momentum, c.nesterov = 0.9, true return O.SGD(c) end,
  function(c) return O.Adam(c) end,
  function(c) c.weight_decay = 0.1 return O.AdamW(c) end,
  function(c) return O.RMSprop(c) end,
  function(c) return O.Adagrad(c) end,
  function(c) return O.Nadam(c) end,
  function(c) return O.Adamax(c) end,
  function(c) return O.Adadelta(c) end,
  function(c) return O.Ftrl(c) end,
}
local CLIPPING = {{}, {clipnorm = 1e-3}, {clipvalue = 1e-4}, {clipnorm = 0.05, clipvalue = 0.01}}

describe("train_on_batch", function()
  it("equals compute_gradients then apply_gradients bit for bit, for every optimizer, clipped or not", function()
    for k, make in ipairs(OPTIMIZERS) do
      for _, clip in ipairs(CLIPPING) do
        local a, b = twins(function() return mlp{frozen = k % 3 == 0, reg = "l2"} end)
        local function config()
          local c = {learning_rate = 0.05}
          for key, v in pairs(clip) do c[key] = v end
          return c
        end
        a:compile{optimizer = make(config()), loss = "sparse_categorical_crossentropy"}
        b:compile{optimizer = make(config()), loss = "sparse_categorical_crossentropy"}
        for _ = 1, 3 do
          local la = a:train_on_batch(x, y)
          local lb = b:compute_gradients(x, y)
          b:apply_gradients()
          assert.equal(la, lb)
        end
        same_weights(a, b)
      end
    end
  end)

  it("leaves a frozen layer alone through apply_gradients, given gradients or its own", function()
    lurn.manual_seed(3)
    local model = mlp{frozen = true}
    model:compile{optimizer = O.SGD{learning_rate = 0.5}, loss = "sparse_categorical_crossentropy"}
    local frozen = model.layers[1]:get_weights()
    assert.equal(4, #model.trainable_weights)
    assert.equal(2, #model.non_trainable_weights)
    model:compute_gradients(x, y)
    model:apply_gradients()
    model:apply_gradients(model:gradients())
    model:train_on_batch(x, y)
    for i, w in ipairs(model.layers[1]:get_weights()) do assert.is_true(same(frozen[i], w)) end
  end)

  it("is what fit runs: fit equals a loop of compute_gradients and apply_gradients", function()
    local a, b = twins(function() return mlp{reg = "l1"} end)
    a:compile{optimizer = O.Adam{learning_rate = 0.01, clipnorm = 0.1}, loss = "sparse_categorical_crossentropy"}
    b:compile{optimizer = O.Adam{learning_rate = 0.01, clipnorm = 0.1}, loss = "sparse_categorical_crossentropy"}
    a:fit(x, y, {epochs = 2, batch_size = 5, shuffle = false, verbose = 0})
    for _ = 1, 2 do
      for start = 1, 16, 5 do
        local n = math.min(5, 16 - start + 1)
        b:compute_gradients(x:narrow(1, start, n), y:narrow(1, start, n))
        b:apply_gradients()
      end
    end
    same_weights(a, b)
  end)

  it("returns the loss, metrics as Keras (a list, or a table with return_dict), with sample weights", function()
    lurn.manual_seed(3)
    local model = mlp()
    model:compile{optimizer = "sgd", loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
    local list = model:train_on_batch(x, y)
    assert.equal(2, #list)
    local logs = model:train_on_batch(x, y, {return_dict = true, class_weight = {[0] = 2, [1] = 1, [2] = 1}})
    assert.is_number(logs.loss)
    assert.is_number(logs.accuracy)
    local plain = mlp()
    plain:compile{optimizer = "sgd", loss = "sparse_categorical_crossentropy"}
    assert.is_number(plain:train_on_batch(x, y, lurn.ones{16}))
  end)
end)

describe("train_on_batch with reset_metrics = false", function()
  it("returns the loss averaged over the samples of every batch so far, as Keras' loss tracker", function()
    local model = mlp()
    model:compile{optimizer = O.SGD{learning_rate = 0}, loss = "sparse_categorical_crossentropy",
                  metrics = {"accuracy"}}
    local x1, y1 = x:narrow(1, 1, 10):contiguous(), y:narrow(1, 1, 10):contiguous()
    local x2, y2 = x:narrow(1, 11, 6):contiguous(), y:narrow(1, 11, 6):contiguous()
    local l1 = model:train_on_batch(x1, y1, {reset_metrics = false})[1]  -- batch 1 alone
    local l2 = model:train_on_batch(x2, y2, {reset_metrics = false})[1]
    local l3 = model:train_on_batch(x2, y2)[1]  -- still accumulated; reset after it, as Keras
    local b2 = model:train_on_batch(x2, y2)[1]  -- batch 2 alone
    assert.is_true(math.abs(l2 - (10 * l1 + 6 * b2) / 16) < 1e-6)
    assert.is_true(math.abs(l3 - (10 * l1 + 12 * b2) / 22) < 1e-6)
  end)
end)

describe("gradients", function()
  it("are the raw gradients in trainable_weights order, unchanged by clipping", function()
    lurn.manual_seed(3)
    local model = mlp()
    model:compile{optimizer = O.SGD{learning_rate = 0.1, clipnorm = 1e-6, clipvalue = 1e-7},
                  loss = "sparse_categorical_crossentropy"}
    model:compute_gradients(x, y)
    local raw = model:gradients()
    local weights = model.trainable_weights
    assert.equal(6, #raw)
    for i, g in ipairs(raw) do assert.same(weights[i]:shape(), g:shape()) end
    assert.is_true(raw[1]:abs():max() > 1e-3) -- far above what clipping leaves
    model:apply_gradients()
    local after = model:gradients()
    for i = 1, #raw do assert.is_true(same(raw[i], after[i]), "gradient " .. i .. " was clipped in place") end
  end)
end)

describe("apply_gradients", function()
  it("updates with the given gradients: doubled gradients take SGD twice as far", function()
    local a, b = twins(mlp)
    a:compile{optimizer = O.SGD{learning_rate = 0.1}, loss = "sparse_categorical_crossentropy"}
    b:compile{optimizer = O.SGD{learning_rate = 0.1}, loss = "sparse_categorical_crossentropy"}
    local before = a:get_weights()
    a:compute_gradients(x, y)
    local grads = a:gradients()
    local doubled = {}
    for i, g in ipairs(grads) do doubled[i] = g * 2 end
    a:apply_gradients(doubled)
    for i, w in ipairs(a:get_weights()) do
      -- by hand: w - lr * 2g, in float32 as the optimizer computes it
      local want = before[i] - (doubled[i] * 0.1)
      assert.is_true((w - want):abs():max() <= 1e-6, "weight " .. i)
    end
    -- and twice the model's own step (its raw gradients are unchanged by the first apply)
    b:compute_gradients(x, y)
    b:apply_gradients()
    b:apply_gradients()
    for i, w in ipairs(a:get_weights()) do assert.is_true((w - b:get_weights()[i]):abs():max() <= 1e-6) end
  end)

  it("names the weight of a gradient of the wrong shape, and counts a wrong list", function()
    lurn.manual_seed(3)
    local model = mlp()
    model:compile{optimizer = "sgd", loss = "sparse_categorical_crossentropy"}
    model:compute_gradients(x, y)
    local grads = model:gradients()
    local name = model.layers[1].name
    assert.error_matches(function() model:apply_gradients({grads[1]}) end,
      "expected 6 gradients %(one per trainable weight%), got 1")
    grads[2], grads[1] = grads[1], grads[2]
    assert.error_matches(function() model:apply_gradients(grads) end,
      "gradient 1 %(for " .. name .. "/kernel%) must have shape %(4, 6%), got %(6,%)")
    grads[1] = "x"
    assert.error_matches(function() model:apply_gradients(grads) end, "gradient 1 %(for " .. name
      .. "/kernel%) must be a tensor")
    assert.error_matches(function() model:apply_gradients(grads[2]) end, "grads must be a list of tensors")
    local fresh = mlp()
    assert.error_matches(function() fresh:apply_gradients() end, "must be compiled first")
  end)
end)

describe("compute_gradients", function()
  it("reports the loss evaluate reports on the batch, regularization penalties included", function()
    lurn.manual_seed(3)
    local model = mlp{reg = lurn.regularizers.l1_l2{l1 = 0.01, l2 = 0.02}}
    model:compile{optimizer = "sgd", loss = "sparse_categorical_crossentropy"}
    local loss = model:compute_gradients(x, y)
    local plain = mlp()
    plain:set_weights(model:get_weights())
    plain:compile{optimizer = "sgd", loss = "sparse_categorical_crossentropy"}
    local without = plain:compute_gradients(x, y)
    assert.is_true(loss > without + 1e-3) -- the penalties are in
    local scores = model:evaluate(x, y, {batch_size = 16, verbose = 0})
    assert.is_true(math.abs(scores.loss - loss) <= 1e-12 * math.abs(loss))
  end)

  it("checks its batch as fit does", function()
    lurn.manual_seed(3)
    local model = mlp()
    assert.error_matches(function() model:compute_gradients(x, y) end, "must be compiled first")
    model:compile{optimizer = "sgd", loss = "sparse_categorical_crossentropy"}
    assert.error_matches(function() model:compute_gradients(x, y:narrow(1, 1, 3)) end,
      "x and y have different numbers of samples")
    assert.error_matches(function() model:train_on_batch(x, y + 5) end, "is not a class in 0..2")
    assert.error_matches(function() model:train_on_batch(x, y, {class_weight = {[0] = "a"}}) end,
      "train_on_batch: class_weight must map 0%-based class numbers")
    -- a NaN weight would turn every weight of the model into NaN in one step
    assert.error_matches(function() model:train_on_batch(x, y, {class_weight = {[0] = 0 / 0}}) end,
      "train_on_batch: class_weight of class 0 is .*nan; weights must be finite numbers")
    assert.error_matches(function() model:fit(x, y, {verbose = 0, class_weight = {[1] = math.huge}}) end,
      "fit: class_weight of class 1 is inf")
    -- the data check's hint names an option train_on_batch takes
    local nan_x = x:clone()
    nan_x:set(1, 1, 0 / 0)
    assert.error_matches(function() model:train_on_batch(nan_x, y) end, "pass allow_nonfinite = true")
    model:train_on_batch(nan_x, y, {allow_nonfinite = true})
    assert.error_matches(function() model:compute_gradients(x, y, lurn.ones{3}) end,
      "sample_weight must be a 1%-D tensor with one weight per sample %(16%)")
  end)
end)

describe("functional models", function()
  it("have the same training step", function()
    local function functional()
      local input = lurn.Input{shape = {4}}
      local h = L.Dense(6, {activation = "relu"})(input)
      return lurn.Model{inputs = input, outputs = L.Dense(3, {activation = "softmax"})(h)}
    end
    local a, b = twins(functional)
    a:compile{optimizer = O.Adam{clipnorm = 0.01}, loss = "sparse_categorical_crossentropy"}
    b:compile{optimizer = O.Adam{clipnorm = 0.01}, loss = "sparse_categorical_crossentropy"}
    assert.equal(4, #b.trainable_weights)
    assert.equal(0, #b.non_trainable_weights)
    for _ = 1, 2 do
      a:train_on_batch(x, y)
      b:compute_gradients(x, y)
      b:apply_gradients(b:gradients())
    end
    same_weights(a, b)
  end)
end)
