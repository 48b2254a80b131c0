-- Losses: values against Keras' formulas computed here in doubles (epsilon 1e-7
-- clipping, "sum_over_batch_size" reduction with sample weights), finite-difference
-- gradients, label and shape errors, and the fused softmax/sigmoid + cross-entropy path
-- of a model against the from_logits path.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"

local EPS = 1e-7
local flat = gradcheck.flat

local function close(expected, actual, tol, what)
  assert(math.abs(expected - actual) <= (tol or 1e-6) * math.max(1, math.abs(expected)),
    ("%sexpected %.9g, got %.9g"):format(what and (what .. ": ") or "", expected, actual))
end

local function clip(p, lo, hi) return math.min(math.max(p, lo), hi) end

-- Keras' reference formulas, one sample (a list over the last dimension) at a time.
local ref = {}
function ref.binary_crossentropy(p, t, from_logits)
  local s = 0
  for i = 1, #p do
    if from_logits then
      local z = p[i]
      s = s + math.max(z, 0) - z * t[i] + math.log(1 + math.exp(-math.abs(z)))
    else
      local q = clip(p[i], EPS, 1 - EPS)
      s = s - (t[i] * math.log(q + EPS) + (1 - t[i]) * math.log(1 - q + EPS))
    end
  end
  return s / #p
end
function ref.categorical_crossentropy(p, t, from_logits)
  local q, s = {}, 0
  if from_logits then
    local m = -math.huge
    for i = 1, #p do m = math.max(m, p[i]) end
    local se = 0
    for i = 1, #p do se = se + math.exp(p[i] - m) end
    for i = 1, #p do q[i] = math.exp(p[i] - m) / se end
  else
    local sum = 0
    for i = 1, #p do sum = sum + p[i] end
    for i = 1, #p do q[i] = clip(p[i] / sum, EPS, 1 - EPS) end
  end
  for i = 1, #p do s = s - t[i] * math.log(q[i]) end
  return s
end
function ref.sparse_categorical_crossentropy(p, label, from_logits)
  local t = {}
  for i = 1, #p do t[i] = (i - 1 == label) and 1 or 0 end
  if from_logits then return ref.categorical_crossentropy(p, t, true) end
  -- tf.keras: softmax cross-entropy on log(clip(p))
  local sum = 0
  for i = 1, #p do sum = sum + clip(p[i], EPS, 1 - EPS) end
  return math.log(sum) - math.log(clip(p[label + 1], EPS, 1 - EPS))
end
function ref.mean_squared_error(p, t)
  local s = 0
  for i = 1, #p do s = s + (p[i] - t[i]) ^ 2 end
  return s / #p
end
function ref.mean_absolute_error(p, t)
  local s = 0
  for i = 1, #p do s = s + math.abs(p[i] - t[i]) end
  return s / #p
end
function ref.huber(p, t, _, delta)
  local s = 0
  for i = 1, #p do
    local a = math.abs(p[i] - t[i])
    s = s + (a <= delta and 0.5 * a * a or delta * a - 0.5 * delta * delta)
  end
  return s / #p
end

-- sum_i w_i * loss_i / N over the rows of 2-D pred (N, C).
local function reference(loss, pred, target, w)
  local P, T = pred:totable(), target:totable()
  local W = w and w:totable()
  local s = 0
  for i = 1, #P do
    s = s + (W and W[i] or 1) * ref[loss.kind](P[i], T[i], loss.from_logits, loss.delta)
  end
  return s / #P
end

local function probabilities(n, c)
  return lurn.rand{n, c} * 0.8 + 0.1  -- in [0.1, 0.9): clear of the clipping
end

local function one_hot(labels, c)
  local rows = {}
  for i, l in ipairs(labels) do
    rows[i] = {}
    for j = 1, c do rows[i][j] = (j - 1 == l) and 1 or 0 end
  end
  return lurn.tensor(rows)
end

local L = lurn.losses

-- The loss value alone.
local function value(...) return (lurn.core.loss_value(...)) end

describe("loss values", function()
  before_each(function() lurn.manual_seed(21) end)

  it("binary_crossentropy on probabilities: hand-computed value", function()
    local v = lurn.core.loss_value(L.BinaryCrossentropy(), lurn.tensor{{0.8}, {0.3}}, lurn.tensor{{1}, {0}})
    close((-math.log(0.8 + EPS) - math.log(0.7 + EPS)) / 2, v, 1e-6)
  end)

  it("binary_crossentropy clips probabilities to [1e-7, 1 - 1e-7] as Keras", function()
    local v = lurn.core.loss_value(L.BinaryCrossentropy(), lurn.tensor{{0}}, lurn.tensor{{1}})
    close(-math.log(2e-7), v, 1e-5)  -- log(clip(0) + eps)
    v = lurn.core.loss_value(L.BinaryCrossentropy(), lurn.tensor{{1}}, lurn.tensor{{1}})
    close(0, v, 1e-6)
    v = lurn.core.loss_value(L.BinaryCrossentropy(), lurn.tensor{{1}}, lurn.tensor{{0}})
    close(-math.log(2e-7), v, 1e-2)  -- float32 1 - 1e-7 is 0.99999988
  end)

  it("categorical_crossentropy on probabilities: -log p of the true class, with clipping", function()
    local p = lurn.tensor{{0.7, 0.2, 0.1}, {0.25, 0.25, 0.5}}
    close((-math.log(0.7) - math.log(0.5)) / 2, value(L.CategoricalCrossentropy(), p,
      one_hot({0, 2}, 3)), 1e-6)
    -- zero probability on the true class: -log(1e-7)
    close(-math.log(EPS), value(L.CategoricalCrossentropy(), lurn.tensor{{0, 1}}, lurn.tensor{{1, 0}}),
      1e-5)
    -- unnormalised rows are normalised first, as Keras does
    close(-math.log(0.25), value(L.CategoricalCrossentropy(), lurn.tensor{{1, 3}},
      lurn.tensor{{1, 0}}), 1e-6)
  end)

  it("sparse_categorical_crossentropy takes 0-based labels, (N) or (N, 1)", function()
    local p = lurn.tensor{{0.7, 0.2, 0.1}, {0.25, 0.25, 0.5}}
    local want = (-math.log(0.7) - math.log(0.5)) / 2
    close(want, value(L.SparseCategoricalCrossentropy(), p, lurn.tensor{0, 2}), 1e-6)
    close(want, value(L.SparseCategoricalCrossentropy(), p, lurn.tensor{{0}, {2}}), 1e-6)
  end)

  it("from_logits forms: hand-computed values", function()
    local z = lurn.tensor{{2, -1, 0.5}}
    local lse = math.log(math.exp(2) + math.exp(-1) + math.exp(0.5))
    close(lse - 0.5, value(L.CategoricalCrossentropy{from_logits = true}, z, lurn.tensor{{0, 0, 1}}))
    close(lse - 2, value(L.SparseCategoricalCrossentropy{from_logits = true}, z, lurn.tensor{0}))
    close(math.log(1 + math.exp(-2)), value(L.BinaryCrossentropy{from_logits = true},
      lurn.tensor{{2}}, lurn.tensor{{1}}))
    -- large logits stay finite and exact
    close(1000, value(L.BinaryCrossentropy{from_logits = true}, lurn.tensor{{-1000}},
      lurn.tensor{{1}}), 1e-6)
    close(2000, value(L.SparseCategoricalCrossentropy{from_logits = true},
      lurn.tensor{{1000, -1000}}, lurn.tensor{1}), 1e-6)
  end)

  it("regression losses average over the last dimension", function()
    local p, t = lurn.tensor{{1, 2}, {0, -1}}, lurn.tensor{{0, 4}, {0.5, -1}}
    close((((1 + 4) / 2) + (0.25 / 2)) / 2, value(L.MeanSquaredError(), p, t))
    close((((1 + 2) / 2) + (0.5 / 2)) / 2, value(L.MeanAbsoluteError(), p, t))
    -- huber, delta 1: 0.5 e^2 inside, |e| - 0.5 outside
    close((((0.5 + 1.5) / 2) + (0.125 / 2)) / 2, value(L.Huber(), p, t))
    -- delta 2: e = 2 is inside (0.5 * 4)
    close((((0.5 + 2) / 2) + (0.125 / 2)) / 2, value(L.Huber{delta = 2}, p, t))
  end)

  for _, case in ipairs{
    {"binary_crossentropy", false}, {"binary_crossentropy", true},
    {"categorical_crossentropy", false}, {"categorical_crossentropy", true},
    {"sparse_categorical_crossentropy", false}, {"sparse_categorical_crossentropy", true},
    {"mean_squared_error"}, {"mean_absolute_error"}, {"huber"},
  } do
    local kind, logits = case[1], case[2]
    it(("%s%s matches Keras' formula with and without sample weights"):format(kind,
      logits and " (from_logits)" or ""), function()
      local loss = {kind = kind, from_logits = logits, delta = 1.0}
      local n, c = 5, 4
      local pred = logits and lurn.randn{n, c} * 2 or probabilities(n, c)
      local target
      if kind == "sparse_categorical_crossentropy" then
        target = lurn.tensor{0, 3, 1, 2, 3}
      elseif kind == "categorical_crossentropy" then
        target = one_hot({0, 3, 1, 2, 3}, c)
      elseif kind == "binary_crossentropy" then
        target = lurn.rand{n, c}:gt(0.5)
      else
        pred, target = lurn.randn{n, c}, lurn.randn{n, c}
      end
      local w = lurn.tensor{1, 0, 2, 0.5, 3}
      local function ref_value(weights)
        if kind == "sparse_categorical_crossentropy" then
          local P, T, W, s = pred:totable(), target:totable(), weights and weights:totable(), 0
          for i = 1, n do s = s + (W and W[i] or 1) * ref[kind](P[i], T[i], logits) end
          return s / n
        end
        return reference(loss, pred, target, weights)
      end
      close(ref_value(nil), value(loss, pred, target), 1e-6, "unweighted")
      close(ref_value(w), value(loss, pred, target, w), 1e-6, "weighted")
    end)
  end

  it("sample weights give sum(w * loss) / N, not a weighted mean", function()
    local p, t = lurn.tensor{{1}, {2}}, lurn.tensor{{0}, {0}}
    close((1 * 1 + 3 * 4) / 2, value(L.MeanSquaredError(), p, t, lurn.tensor{1, 3}))
    close(0, value(L.MeanSquaredError(), p, t, lurn.tensor{0, 0}))
  end)

  it("3-D predictions: each sample's rows share its weight; the mean is over all rows", function()
    local p = lurn.tensor{{{1, 1}, {2, 2}}, {{0, 0}, {3, 3}}}
    local t = lurn.zeros{2, 2, 2}
    close((1 + 4 + 0 + 9) / 4, value(L.MeanSquaredError(), p, t))
    close((1 + 4 + 2 * (0 + 9)) / 4, value(L.MeanSquaredError(), p, t, lurn.tensor{1, 2}))
  end)

  it("loss objects are callable as loss(y_true, y_pred)", function()
    local mse = L.MeanSquaredError()
    close(2.5, mse(lurn.tensor{{0, 0}}, lurn.tensor{{1, 2}}))
    assert.equal("mean_squared_error", L.get("mse").kind)
    assert.equal("mean_absolute_error", L.get("mae").kind)
    assert.equal("huber", L.get("huber_loss").kind)
    assert.equal(2, L.Huber{delta = 2}.delta)
  end)
end)

describe("loss errors", function()
  it("an out-of-range sparse label names the label and the sample", function()
    local p = lurn.tensor{{0.5, 0.5}, {0.5, 0.5}, {0.5, 0.5}}
    local loss = L.SparseCategoricalCrossentropy()
    assert.error_matches(function() lurn.core.loss_value(loss, p, lurn.tensor{0, 1, 2}) end,
      "label 2 at sample 3 is not a class in 0%.%.1")
    assert.error_matches(function() lurn.core.loss_value(loss, p, lurn.tensor{-1, 0, 0}) end,
      "label %-1 at sample 1")
    assert.error_matches(function() lurn.core.loss_value(loss, p, lurn.tensor{0, 0.5, 0}) end,
      "label 0%.5 at sample 2")
    assert.error_matches(function() lurn.core.loss_value(L.SparseCategoricalCrossentropy{from_logits = true}, p,
      lurn.tensor{0, 0, 7}) end, "label 7 at sample 3")
  end)

  it("mismatched shapes name both shapes", function()
    assert.error_matches(function()
      lurn.core.loss_value(L.MeanSquaredError(), lurn.zeros{4, 3}, lurn.zeros{4, 2})
    end, "targets of shape %(4, 2%) do not match predictions of shape %(4, 3%)")
    assert.error_matches(function()
      lurn.core.loss_value(L.CategoricalCrossentropy(), lurn.zeros{4, 3}, lurn.zeros{4})
    end, "for integer labels use sparse_categorical_crossentropy")
    assert.error_matches(function()
      lurn.core.loss_value(L.SparseCategoricalCrossentropy(), lurn.zeros{4, 3}, lurn.zeros{4, 3})
    end, "labels of shape %(4, 3%) do not match predictions of shape %(4, 3%)")
    assert.error_matches(function()
      lurn.core.loss_value(L.MeanSquaredError(), lurn.zeros{4, 1}, lurn.zeros{4, 1}, lurn.ones{3})
    end, "sample weights of shape %(3,?%) do not match")
  end)

  it("unknown loss names list the known ones", function()
    assert.error_matches(function() L.get("cross_entropy") end,
      "unknown loss 'cross_entropy' %(known: binary_crossentropy")
  end)
end)

describe("loss gradients (finite differences)", function()
  before_each(function() lurn.manual_seed(22) end)

  local w = lurn.tensor{1, 0.5, 2, 0}
  local cases = {
    {"binary_crossentropy", function() return probabilities(4, 3), lurn.rand{4, 3}:gt(0.5) end},
    {"binary_crossentropy (soft targets)", function() return probabilities(4, 3), lurn.rand{4, 3} end},
    {"binary_crossentropy", function() return lurn.randn{4, 3} * 2, lurn.rand{4, 3}:gt(0.5) end, true},
    {"categorical_crossentropy", function() return probabilities(4, 3), one_hot({0, 2, 1, 1}, 3) end},
    {"categorical_crossentropy (soft targets)", function() return probabilities(4, 3),
      lurn.tensor{{0.2, 0.3, 0.5}, {1, 0, 0}, {0.5, 0.5, 0}, {0.1, 0.1, 0.8}} end},
    {"categorical_crossentropy", function() return lurn.randn{4, 3} * 2, one_hot({0, 2, 1, 1}, 3) end, true},
    {"sparse_categorical_crossentropy", function() return probabilities(4, 3), lurn.tensor{0, 2, 1, 1} end},
    {"sparse_categorical_crossentropy", function() return lurn.randn{4, 3} * 2, lurn.tensor{{0}, {2}, {1}, {1}} end,
     true},
    {"mean_squared_error", function() return lurn.randn{4, 3}, lurn.randn{4, 3} end},
    {"mean_absolute_error", function()
      local t = lurn.randn{4, 3}
      return t + gradcheck.rand_away({4, 3}, -1, 1, {0}, 0.05), t
    end},
    {"huber", function()
      local t = lurn.randn{4, 3}
      return t + gradcheck.rand_away({4, 3}, -2.5, 2.5, {-1, 0, 1}, 0.05), t
    end},
    {"huber (delta 0.5)", function()
      local t = lurn.randn{4, 3}
      return t + gradcheck.rand_away({4, 3}, -1.5, 1.5, {-0.5, 0.5}, 0.05), t
    end, false, 0.5},
  }
  for _, case in ipairs(cases) do
    local label, make, logits, delta = case[1], case[2], case[3], case[4]
    local kind = label:match("^(%S+)")
    it(("%s%s"):format(label, logits and " (from_logits)" or ""), function()
      local loss = {kind = kind, from_logits = logits or false, delta = delta or 1.0}
      local pred, target = make()
      gradcheck.check_loss(loss, pred, target)
      gradcheck.check_loss(loss, pred, target, w)
    end)
  end

  it("3-D predictions with sample weights", function()
    local loss = {kind = "categorical_crossentropy", from_logits = true}
    local target = lurn.tensor{{{1, 0}, {0, 1}}, {{0, 1}, {0, 1}}}
    gradcheck.check_loss(loss, lurn.randn{2, 2, 2}, target, lurn.tensor{2, 0.5})
  end)

  it("clipped probabilities get a zero gradient", function()
    local _, g = lurn.core.loss_value(L.BinaryCrossentropy(), lurn.tensor{{0}, {1}}, lurn.tensor{{1}, {0}})
    assert.same({{0}, {0}}, g:totable())
  end)
end)

describe("fused softmax/sigmoid + cross-entropy in a model", function()
  before_each(function() lurn.manual_seed(23) end)

  -- A model with `activation` on its output Dense, and the same model with a linear
  -- output and the from_logits loss.
  local function pair(activation, units)
    local a = lurn.Sequential{
      lurn.layers.Dense(5, {activation = "tanh", input_shape = {4}}),
      lurn.layers.Dense(units, {activation = activation, bias_initializer = "random_normal"}),
    }
    a:build()
    local b = lurn.Sequential{
      lurn.layers.Dense(5, {activation = "tanh", input_shape = {4}}),
      lurn.layers.Dense(units),
    }
    b:build()
    b:set_weights(a:get_weights())
    return a, b
  end

  local function grads_of(model)
    local out = {}
    for _, layer in ipairs(model.layers) do
      for _, g in ipairs(layer:gradients()) do out[#out + 1] = flat(g) end
    end
    return out
  end

  for _, case in ipairs{
    {"softmax", "categorical_crossentropy", 3, function() return one_hot({0, 1, 2, 2, 1, 0}, 3) end},
    {"softmax", "sparse_categorical_crossentropy", 3, function() return lurn.tensor{0, 1, 2, 2, 1, 0} end},
    {"sigmoid", "binary_crossentropy", 2, function() return lurn.rand{6, 2}:gt(0.5) end},
  } do
    local activation, kind, units, targets = case[1], case[2], case[3], case[4]
    it(("Dense(%s) + %s equals the from_logits path on a linear Dense"):format(activation, kind), function()
      local probs, logits = pair(activation, units)
      local x, y = lurn.randn{6, 4}, targets()
      local w = lurn.tensor{1, 2, 0.5, 1, 0, 3}
      local v1, dx1 = probs._core:gradients({kind = kind}, x, y, w)
      local g1 = grads_of(probs)
      local v2, dx2 = logits._core:gradients({kind = kind, from_logits = true}, x, y, w)
      local g2 = grads_of(logits)
      close(v2, v1, 1e-6, "loss")
      gradcheck.assert_close(dx1, flat(dx2), {rtol = 1e-4, atol = 1e-5}, "dx")
      for i = 1, #g1 do gradcheck.assert_close(g1[i], g2[i], {rtol = 1e-4, atol = 1e-5}, "parameter " .. i) end
      -- the value on the probabilities (unfused, clipped) agrees while they are clear of the clipping
      close(v1, value({kind = kind}, probs:predict(x), y, w), 1e-5, "unfused")
      -- and the fused model passes a finite-difference check
      gradcheck.check_model(probs, {kind = kind}, x, y, w)
    end)
  end

  it("a separate Softmax/Activation('sigmoid') output layer is fused too", function()
    for _, case in ipairs{{"softmax", "categorical_crossentropy", one_hot({0, 2, 1}, 3)},
                          {"sigmoid", "binary_crossentropy", lurn.tensor{{1, 0, 1}, {0, 0, 1}, {1, 1, 0}}}} do
      local model = lurn.Sequential{lurn.layers.Dense(3, {input_shape = {2}}), lurn.layers.Activation(case[1])}
      model:build()
      local x = lurn.randn{3, 2}
      local v = model._core:gradients({kind = case[2]}, x, case[3])
      close(value({kind = case[2]}, model:predict(x), case[3]), v, 1e-5)
      gradcheck.check_model(model, {kind = case[2]}, x, case[3])
    end
  end)

  it("saturated softmax outputs keep a useful gradient (no clipping through the fused path)", function()
    local model = lurn.Sequential{lurn.layers.Dense(2, {activation = "softmax", input_shape = {1}, use_bias = false})}
    model:build()
    model:set_weights{lurn.tensor{{50, -50}}}
    local x, y = lurn.tensor{{1}}, lurn.tensor{1}
    local v = model._core:gradients({kind = "sparse_categorical_crossentropy"}, x, y)
    close(100, v, 1e-6)  -- exact logits loss, not -log(1e-7)
    local g = model.layers[1]:gradients()[1]:totable()
    close(1, g[1][1], 1e-6)
    close(-1, g[1][2], 1e-6)
  end)
end)
