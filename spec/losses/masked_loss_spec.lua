-- The loss and the metrics over a model output that still carries a mask (Embedding with
-- mask_zero or Masking upstream, then layers that keep the steps), as Keras 2.13-2.15:
-- padded steps weigh 0 and "sum_over_batch_size" divides by the number of real steps
-- (losses_utils.apply_valid_mask), the sample weights multiply (and are not divided by),
-- the metrics weigh each step by the mask (compile_utils' MetricsContainer). Checked
-- against sums by hand over the real steps, against the same sequences with more or less
-- padding, and by finite differences; a batch with no real step is an error (Keras gives NaN).
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"
local L = lurn.layers

local function close(expected, actual, tol, what)
  assert(math.abs(expected - actual) <= (tol or 1e-5),
    ("%sexpected %.9g, got %.9g"):format(what and what .. ": " or "", expected, actual))
end

-- A tagger: ids (N, steps) with 0 as padding -> one of `classes` per step.
local function tagger(steps, classes, opts)
  opts = opts or {}
  return lurn.Sequential{
    L.Embedding(8, 4, {mask_zero = true, input_length = steps}),
    L.LSTM(5, {return_sequences = true}),
    opts.time_distributed and L.TimeDistributed(L.Dense(classes, {activation = opts.activation or "softmax"}))
      or L.Dense(classes, {activation = opts.activation or "softmax"}),
  }
end

-- The cross-entropy of the real steps by hand, from the probabilities the model predicts:
-- sum over real steps of w[n] * -log p[n, t, y[n, t]], and the number of real steps.
local function by_hand(probs, ids, labels, weights)
  local p, x, y = probs:totable(), ids:totable(), labels:totable()
  local sum, real = 0, 0
  for n = 1, #x do
    for t = 1, #x[n] do
      if x[n][t] ~= 0 then
        real = real + 1
        sum = sum - (weights and weights[n] or 1) * math.log(p[n][t][y[n][t] + 1])
      end
    end
  end
  return sum, real
end

describe("a loss over a masked output", function()
  before_each(function() lurn.manual_seed(41) end)

  local ids = lurn.tensor{{1, 2, 3, 0, 0}, {4, 0, 0, 0, 0}, {5, 6, 7, 1, 2}}
  local labels = lurn.tensor{{0, 1, 2, 2, 2}, {1, 0, 0, 0, 0}, {2, 2, 1, 0, 1}}

  it("is the sum over the real steps divided by their number (9 here, not 15)", function()
    local m = tagger(5, 3)
    m:compile{loss = "sparse_categorical_crossentropy", optimizer = "sgd"}
    local sum, real = by_hand(m:predict(ids, {verbose = 0}), ids, labels)
    assert.equal(9, real)
    close(sum / real, m:evaluate(ids, labels, {verbose = 0}).loss, 1e-5, "evaluate")
    close(sum / real, m:compute_gradients(ids, labels), 1e-5, "compute_gradients")
    close(sum / real, m:train_on_batch(ids, labels), 1e-5, "train_on_batch (the loss before the update)")
  end)

  it("multiplies each sample's steps by its sample weight, still divided by the real steps", function()
    local m = tagger(5, 3)
    m:compile{loss = "sparse_categorical_crossentropy", optimizer = "sgd"}
    local w = {0.5, 3, 0}
    local sum, real = by_hand(m:predict(ids, {verbose = 0}), ids, labels, w)
    close(sum / real, m:evaluate(ids, labels, {verbose = 0, sample_weight = lurn.tensor(w)}).loss, 1e-5)
    close(sum / real, m:compute_gradients(ids, labels, lurn.tensor(w)), 1e-5)
  end)

  it("gives the fused softmax path (on the logits) and the plain path the same numbers", function()
    -- Dense(softmax) + sparse cross-entropy runs on the logits; TimeDistributed(Dense(softmax))
    -- does not fuse: the same weights give the same loss, and the gradients agree
    local fused, plain = tagger(5, 3), tagger(5, 3, {time_distributed = true})
    plain:set_weights(fused:get_weights())
    for _, m in ipairs{fused, plain} do m:compile{loss = "sparse_categorical_crossentropy", optimizer = "sgd"} end
    local a, b = fused:compute_gradients(ids, labels), plain:compute_gradients(ids, labels)
    close(a, b, 1e-5)
    local ga, gb = fused:gradients(), plain:gradients()
    for i = 1, #ga do
      local d = (ga[i] - gb[i]):abs():max()
      assert(d < 1e-5, ("gradient %d differs by %g"):format(i, d))
    end
  end)

  it("does not change with the padding: more of it, labels under it, another sample beside", function()
    local short = tagger(3, 3)
    short:compile{loss = "sparse_categorical_crossentropy", optimizer = "sgd", metrics = {"accuracy"}}
    local long = tagger(6, 3)
    long:set_weights(short:get_weights())
    long:compile{loss = "sparse_categorical_crossentropy", optimizer = "sgd", metrics = {"accuracy"}}
    local a = short:evaluate(lurn.tensor{{5, 2, 7}}, lurn.tensor{{1, 0, 2}}, {verbose = 0})
    local b = long:evaluate(lurn.tensor{{5, 2, 7, 0, 0, 0}}, lurn.tensor{{1, 0, 2, 2, 2, 1}}, {verbose = 0})
    close(a.loss, b.loss, 1e-6, "loss")
    assert.equal(a.accuracy, b.accuracy)
    local la = short:compute_gradients(lurn.tensor{{5, 2, 7}}, lurn.tensor{{1, 0, 2}})
    local lb = long:compute_gradients(lurn.tensor{{5, 2, 7, 0, 0, 0}}, lurn.tensor{{1, 0, 2, 0, 1, 1}})
    close(la, lb, 1e-6)
    local ga, gb = short:gradients(), long:gradients()
    for i = 1, #ga do
      local d = (ga[i] - gb[i]):abs():max()
      assert(d < 1e-6, ("gradient %d differs by %g"):format(i, d))
    end
    -- two samples: the mean over their 3 + 1 real steps, not of the two samples' means
    local two = long:evaluate(lurn.tensor{{5, 2, 7, 0, 0, 0}, {3, 0, 0, 0, 0, 0}},
                              lurn.tensor{{1, 0, 2, 0, 0, 0}, {2, 0, 0, 0, 0, 0}}, {verbose = 0}).loss
    local one = short:evaluate(lurn.tensor{{3, 0, 0}}, lurn.tensor{{2, 0, 0}}, {verbose = 0}).loss
    close((3 * a.loss + one) / 4, two, 1e-5)
  end)

  it("weighs the metrics by the mask: accuracy over the real steps only", function()
    local m = tagger(5, 3)
    m:compile{loss = "sparse_categorical_crossentropy", optimizer = "sgd", metrics = {"accuracy"}}
    local p, x, y = m:predict(ids, {verbose = 0}):totable(), ids:totable(), labels:totable()
    local hits, real, whits, wreal = 0, 0, 0, 0
    local w = {2, 1, 0.5}
    for n = 1, #x do
      for t = 1, #x[n] do
        if x[n][t] ~= 0 then
          local best = 1
          for c = 2, 3 do if p[n][t][c] > p[n][t][best] then best = c end end
          local hit = best - 1 == y[n][t] and 1 or 0
          hits, real = hits + hit, real + 1
          whits, wreal = whits + w[n] * hit, wreal + w[n]
        end
      end
    end
    close(hits / real, m:evaluate(ids, labels, {verbose = 0}).accuracy, 1e-6)
    close(whits / wreal, m:evaluate(ids, labels, {verbose = 0, sample_weight = lurn.tensor(w)}).accuracy, 1e-6)
    close(hits / real, m:train_on_batch(ids, labels, {return_dict = true}).accuracy, 1e-6)
  end)

  it("works for regression over the steps too (mse through TimeDistributed)", function()
    local m = lurn.Sequential{L.Masking{mask_value = 0, input_shape = {4, 2}}, L.TimeDistributed(L.Dense(1))}
    m:compile{loss = "mse", optimizer = "sgd", metrics = {"mae"}}
    local x = lurn.tensor{{{1, 2}, {3, 1}, {0, 0}, {0, 0}}, {{2, 2}, {0, 0}, {1, 1}, {0, 0}}}
    local y = lurn.tensor{{{1}, {2}, {9}, {9}}, {{0}, {9}, {1}, {9}}}
    local p, yt = m:predict(x, {verbose = 0}):totable(), y:totable()
    local sq, ab = 0, 0
    for _, s in ipairs{{1, 1}, {1, 2}, {2, 1}, {2, 3}} do
      local e = p[s[1]][s[2]][1] - yt[s[1]][s[2]][1]
      sq, ab = sq + e * e, ab + math.abs(e)
    end
    local r = m:evaluate(x, y, {verbose = 0})
    close(sq / 4, r.loss, 1e-5)
    close(ab / 4, r.mae, 1e-5)
  end)

  -- weights large enough that every derivative stands well above float32's noise
  local function scaled(m)
    local w = m:get_weights()
    for i, t in ipairs(w) do w[i] = lurn.randn(t:shape()) * 0.8 end
    m:set_weights(w)
    return m
  end

  it("passes the gradient check over a masked sequence, with sample weights", function()
    local m = scaled(tagger(5, 3))
    local loss = {kind = "sparse_categorical_crossentropy"}
    gradcheck.check_model(m, loss, ids, labels, lurn.tensor{1, 2, 0.5}, {check_dx = false, h = 1e-2})
    local td = scaled(tagger(5, 3, {time_distributed = true, activation = "sigmoid"}))
    local onehot = lurn.zeros{3, 5, 3}
    for n, row in ipairs(labels:totable()) do
      for t, c in ipairs(row) do onehot:set(n, t, c + 1, 1) end
    end
    gradcheck.check_model(td, {kind = "binary_crossentropy"}, ids, onehot, nil, {check_dx = false, h = 1e-2})
  end)

  it("core.loss_value takes the mask: padded rows get no gradient and the mean is over real rows", function()
    local pred = gradcheck.rand_away({2, 3, 2}, 0.1, 0.9)
    local target = lurn.rand{2, 3, 2}
    local mask = lurn.tensor{{1, 0, 1}, {0, 0, 1}}
    local value, grad = gradcheck.check_loss({kind = "binary_crossentropy"}, pred, target, lurn.tensor{2, 1}, {})
    assert.is_number(value)
    local v, g = lurn.core.loss_value({kind = "mean_squared_error"}, pred, target, lurn.tensor{2, 1}, mask)
    local p, t = pred:totable(), target:totable()
    local function row(n, s)
      local e1, e2 = p[n][s][1] - t[n][s][1], p[n][s][2] - t[n][s][2]
      return (e1 * e1 + e2 * e2) / 2
    end
    close((2 * row(1, 1) + 2 * row(1, 3) + row(2, 3)) / 3, v, 1e-6)
    assert.equal(0, g:select(2, 2):abs():sum())
    assert.equal(0, g:narrow(1, 2, 1):narrow(2, 1, 2):abs():sum())
    local objective = function()
      return (lurn.core.loss_value({kind = "mean_squared_error"}, pred, target, lurn.tensor{2, 1}, mask))
    end
    gradcheck.assert_close(g, gradcheck.numeric(objective, pred), nil, "masked mse dL/dpred")
    assert.error_matches(function()
      lurn.core.loss_value({kind = "mean_squared_error"}, pred, target, nil, lurn.ones{2, 2})
    end, "the output's mask of shape %(2, 2%) does not fit predictions of shape %(2, 3, 2%)")
    _ = grad
  end)

  it("is an error, at the caller's line, for a batch with no real step (Keras gives NaN)", function()
    local m = tagger(4, 3)
    m:compile{loss = "sparse_categorical_crossentropy", optimizer = "sgd", metrics = {"accuracy"}}
    local empty, y = lurn.zeros{2, 4}, lurn.zeros{2, 4}
    local before = m:get_weights()
    for what, call in pairs{
      fit = function() m:fit(empty, y, {verbose = 0}) end,
      evaluate = function() m:evaluate(empty, y, {verbose = 0}) end,
      train_on_batch = function() m:train_on_batch(empty, y) end,
      compute_gradients = function() m:compute_gradients(empty, y) end,
      layer_stats = function() m:layer_stats(empty, y) end,
    } do
      local ok, err = pcall(call)
      assert.is_false(ok, what)
      assert.matches("masked_loss_spec.lua:%d+: .*every step of this batch is padding", err, nil, false, what)
    end
    for i, w in ipairs(m:get_weights()) do assert.same(before[i]:totable(), w:totable()) end
    -- one real step anywhere in the batch is enough
    assert.is_number(m:evaluate(lurn.tensor{{0, 0, 0, 0}, {0, 0, 3, 0}}, y, {verbose = 0}).loss)
  end)

  it("refuses class_weight for targets with a label per step, as Keras 2", function()
    local m = tagger(5, 3)
    m:compile{loss = "sparse_categorical_crossentropy", optimizer = "sgd"}
    local ok, err = pcall(function() m:fit(ids, labels, {verbose = 0, class_weight = {[0] = 1, [1] = 2}}) end)
    assert.is_false(ok)
    assert.matches("masked_loss_spec.lua:%d+: fit: class_weight is not supported for targets with a label per step", err)
    assert.error_matches(function() m:train_on_batch(ids, labels, {class_weight = {[0] = 1}}) end,
      "train_on_batch: class_weight is not supported for targets with a label per step")
  end)

  it("model._core:output_mask() gives the last batch's output mask, or nil", function()
    local m = tagger(5, 3)
    m:compile{loss = "sparse_categorical_crossentropy", optimizer = "sgd"}
    m:evaluate(ids, labels, {verbose = 0})
    assert.same({{1, 1, 1, 0, 0}, {1, 0, 0, 0, 0}, {1, 1, 1, 1, 1}}, m._core:output_mask():totable())
    local plain = lurn.Sequential{L.Embedding(8, 4, {input_length = 5}), L.LSTM(3)}
    plain:predict(ids, {verbose = 0})
    assert.is_nil(plain._core:output_mask())
  end)

  it("lets a small sequence tagger learn (the tag of a step: whether its id is even)", function()
    lurn.manual_seed(7)
    local n, steps = 96, 6
    local x, y = lurn.zeros{n, steps}, lurn.zeros{n, steps}
    for i = 1, n do
      local len = (i % steps) + 1
      for t = 1, len do
        local id = (i * 7 + t * 3) % 7 + 1
        x:set(i, t, id)
        y:set(i, t, id % 2 == 0 and 1 or 0)
      end
    end
    local m = lurn.Sequential{L.Embedding(8, 8, {mask_zero = true, input_length = steps}),
                              L.LSTM(8, {return_sequences = true}), L.Dense(2, {activation = "softmax"})}
    m:compile{loss = "sparse_categorical_crossentropy", optimizer = lurn.optimizers.Adam{learning_rate = 0.03},
              metrics = {"accuracy"}}
    local first = m:evaluate(x, y, {verbose = 0})
    local h = m:fit(x, y, {epochs = 30, batch_size = 16, verbose = 0})
    local last = m:evaluate(x, y, {verbose = 0})
    assert.is_true(last.loss < first.loss / 5, ("loss %g -> %g"):format(first.loss, last.loss))
    assert.is_true(last.accuracy > 0.97, "accuracy " .. last.accuracy)
    assert.is_true(h.history.accuracy[30] > 0.9)
  end)
end)
