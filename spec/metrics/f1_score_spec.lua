-- Keras' F1Score as a training metric (keras.metrics.F1Score, Keras 2.13): per-class F1 from
-- true and false positives and false negatives accumulated over batches; average nil (one log
-- entry per class: f1_score_0, f1_score_1, ...), "micro", "macro", "weighted"; through fit,
-- evaluate, train_on_batch, History, the progress bar and EarlyStopping.
local lurn = require "lurn"

local M = lurn.metrics

local function close(a, b, tol)
  if type(a) == "table" then
    assert.equal(#b, #a)
    for i = 1, #a do close(a[i], b[i], tol) end
    return
  end
  assert(math.abs(a - b) <= (tol or 1e-6), ("%.9g vs %.9g"):format(a, b))
end

local function one_hot(labels, c)
  local rows = {}
  for i, l in ipairs(labels) do
    rows[i] = {}
    for k = 1, c do rows[i][k] = (k - 1 == l) and 1 or 0 end
  end
  return lurn.tensor(rows)
end

-- Probabilities whose argmax is `labels`' prediction list.
local function probs_for(pred, c)
  local rows = {}
  for i, l in ipairs(pred) do
    rows[i] = {}
    for k = 1, c do rows[i][k] = (k - 1 == l) and 0.6 or 0.4 / (c - 1) end
  end
  return lurn.tensor(rows)
end

describe("F1Score", function()
  it("gives Keras' documented example (threshold 0.5, multi-label)", function()
    local m = M.F1Score{threshold = 0.5}
    m:update(lurn.tensor{{0.2, 0.6, 0.7}, {0.2, 0.6, 0.6}, {0.6, 0.8, 0.0}}, lurn.tensor{{1, 1, 1}, {1, 0, 0}, {1, 1, 0}})
    close(m:result(), {0.5, 0.8, 0.6666667})
  end)

  -- Single-label predictions by argmax: Keras' per-class F1 and its averages are
  -- scikit-learn's (checked against scikit-learn in sklearn_spec.lua).
  local yt = {0, 1, 2, 2, 1, 0, 2, 1, 3, 0}
  local yp = {0, 2, 2, 2, 1, 0, 0, 1, 0, 0}  -- class 3 is never predicted
  local w = {1, 2, 1, 0.5, 1, 1, 3, 1, 1, 2}

  it("matches f1_score per class and averaged, from argmax predictions", function()
    for _, average in ipairs {"micro", "macro", "weighted"} do
      local m = M.F1Score{average = average}
      m:update(probs_for(yp, 4), one_hot(yt, 4))
      close(m:result(), M.f1_score(yt, yp, {average = average}))
    end
    local m = M.F1Score()
    m:update(probs_for(yp, 4), one_hot(yt, 4))
    close(m:result(), M.f1_score(yt, yp, {average = false}))
  end)

  it("weights samples, accumulates over batches and takes class labels as well as one-hot rows", function()
    local m = M.F1Score{average = "weighted"}
    local p, t, sw = probs_for(yp, 4), one_hot(yt, 4), lurn.tensor(w)
    m:update(p:narrow(1, 1, 6):contiguous(), t:narrow(1, 1, 6):contiguous(), sw:narrow(1, 1, 6):contiguous())
    m:update(p:narrow(1, 7, 4):contiguous(), lurn.tensor{2, 1, 3, 0}, sw:narrow(1, 7, 4):contiguous())
    close(m:result(), M.f1_score(yt, yp, {average = "weighted", sample_weight = w}))
    m:reset()
    close(m:result(), 0)
  end)

  it("is 0 for a class with no true or predicted sample (Keras' divide_no_nan)", function()
    local m = M.F1Score()
    m:update(probs_for({0, 1}, 3), one_hot({0, 1}, 3))
    close(m:result(), {1, 1, 0})
  end)

  it("refuses bad options", function()
    assert.has_error(function() M.F1Score{average = "mean"} end)
    assert.has_error(function() M.F1Score{threshold = 0} end)
    local ok, err = pcall(M.F1Score, {treshold = 0.5})
    assert.is_false(ok)
    assert.matches("F1Score: unknown option 'treshold'", err, 1, true)
    assert.matches("f1_score_spec.lua:%d+:", err)
  end)
end)

describe("F1Score in compile and fit", function()
  local function data()
    lurn.manual_seed(3)
    local x = lurn.randn{48, 4}
    local labels = {}
    for i = 1, 48 do labels[i] = (i % 3) end
    return x, lurn.tensor(labels)
  end

  local function model(metrics)
    lurn.manual_seed(4)
    local m = lurn.Sequential{lurn.layers.Dense(8, {activation = "relu", input_shape = {4}}),
                              lurn.layers.Dense(3, {activation = "softmax"})}
    m:compile{optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = metrics}
    return m
  end

  it("logs one entry per class without average, in History and for validation", function()
    local x, y = data()
    local m = model {M.F1Score(), M.F1Score{average = "macro", name = "f1_macro"}}
    local h = m:fit(x, y, {epochs = 2, batch_size = 16, validation_split = 0.25, verbose = 0})
    for _, key in ipairs {"f1_score_0", "f1_score_1", "f1_score_2", "f1_macro", "val_f1_score_0", "val_f1_score_2",
                          "val_f1_macro"} do
      assert.equal(2, #h.history[key], key)
    end
    assert.is_nil(h.history.f1_score)
    local last = #h.history.f1_macro
    close((h.history.f1_score_0[last] + h.history.f1_score_1[last] + h.history.f1_score_2[last]) / 3,
      h.history.f1_macro[last])
  end)

  it("gives evaluate's and train_on_batch's per-class entries, equal to f1_score on the predictions", function()
    local x, y = data()
    local m = model {M.F1Score()}
    m:fit(x, y, {epochs = 1, batch_size = 16, verbose = 0})
    local scores = m:evaluate(x, y, {verbose = 0})
    local pred = (m:predict(x):argmax(2) - 1):reshape(48)
    local expected = M.f1_score(y, pred, {average = false, labels = {0, 1, 2}})
    close({scores.f1_score_0, scores.f1_score_1, scores.f1_score_2}, expected, 1e-9)
    local list = m:train_on_batch(x, y)
    assert.equal(4, #list)  -- loss, then one F1 per class
  end)

  it("shows the per-class entries on the progress bar", function()
    local x, y = data()
    local m = model {M.F1Score()}
    local real, out = io.stdout, {}
    local ok, err = pcall(function()
      io.stdout = {write = function(self, ...)
        for _, s in ipairs{...} do out[#out + 1] = tostring(s) end
        return self
      end, flush = function(self) return self end}
      m:fit(x, y, {epochs = 1, batch_size = 16, verbose = 2})
    end)
    io.stdout = real
    assert(ok, err)
    local text = table.concat(out)
    assert.matches("f1_score_0: ", text, 1, true)
    assert.matches("f1_score_2: ", text, 1, true)
  end)

  it("lets EarlyStopping watch one class's F1, as a quantity to maximise", function()
    local es = lurn.callbacks.EarlyStopping{monitor = "val_f1_score_1", patience = 0}
    assert.equal("max", es.mode)
    local x, y = data()
    local m = model {M.F1Score()}
    m:fit(x, y, {epochs = 3, batch_size = 16, validation_split = 0.25, verbose = 0, callbacks = {es}})
  end)

  it("resolves the string \"F1Score\" (Keras' class name) but not \"f1_score\", as Keras 2", function()
    local x, y = data()
    local m = model {"F1Score"}
    local h = m:fit(x, y, {epochs = 1, batch_size = 16, verbose = 0})
    assert.equal(1, #h.history.f1_score_2)
    local ok, err = pcall(model, {"f1_score"})
    assert.is_false(ok)
    assert.matches("unknown metric 'f1_score'", err, 1, true)
  end)
end)
