-- Masks (issue 17): Masking and Embedding(mask_zero = true) make one; Dense, Dropout,
-- Activation, TimeDistributed and BatchNormalization (statistics over the real steps, as
-- Keras 2.13) pass it on; merges pass the one mask of their inputs; a layer that cannot
-- take one is an error naming what to do, as Keras refuses it. A loss over a masked output
-- leaves the padding out (spec/losses/masked_loss_spec.lua).
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"
local L = lurn.layers

local function close(expected, actual, tol, what)
  assert(math.abs(expected - actual) <= (tol or 1e-5),
    ("%sexpected %.9g, got %.9g"):format(what and what .. ": " or "", expected, actual))
end

describe("Masking", function()
  before_each(function() lurn.manual_seed(3) end)

  it("zeroes the steps whose features all equal mask_value, and only those", function()
    local layer = L.Masking{mask_value = 2}
    layer:build({3, 2})
    local x = lurn.tensor{{{2, 2}, {2, 5}, {0 / 0, 2}}, {{1, 1}, {2, 2}, {2, 2}}}
    local y = layer._core:forward(x, false)
    assert.same({0, 0}, {y:get(1, 1, 1), y:get(1, 1, 2)})  -- all features 2: padding
    assert.same({2, 5}, {y:get(1, 2, 1), y:get(1, 2, 2)})  -- one feature differs: a real step
    assert.is_true(y:get(1, 3, 1) ~= y:get(1, 3, 1))       -- NaN never equals mask_value
    assert.same({0, 0, 0, 0}, {y:get(2, 2, 1), y:get(2, 2, 2), y:get(2, 3, 1), y:get(2, 3, 2)})
  end)

  it("passes the gradient check, and sends no gradient into padded steps", function()
    local layer = L.Masking{mask_value = 0}
    layer:build({4, 3})
    gradcheck.check_layer(layer, lurn.randn{2, 4, 3})  -- real steps (a padded one is a jump, not a slope)
    local x = lurn.randn{2, 4, 3}
    x:narrow(2, 2, 1):fill(0)  -- step 2 of both samples is padding
    local dx = layer._core:backward(x, layer._core:forward(x, true), lurn.ones{2, 4, 3})
    assert.equal(0, dx:narrow(2, 2, 1):abs():sum())
  end)

  it("refuses inputs that are not (steps, features) per sample", function()
    assert.error_matches(function() L.Masking():build({3}) end, "expects input of shape %(steps, features%)")
    assert.error_matches(function() L.Masking{mask_value = "x"} end, "mask_value must be a number")
  end)
end)

describe("masks between layers", function()
  before_each(function() lurn.manual_seed(5) end)
  local ids = lurn.tensor{{1, 2, 0, 0}, {3, 0, 0, 0}}

  local function embedding() return L.Embedding(6, 3, {mask_zero = true, input_length = 4}) end

  it("go through Dense, Dropout, Activation and TimeDistributed", function()
    local m = lurn.Sequential{embedding(), L.Dense(3), L.Dropout(0.2), L.Activation("tanh"),
                              L.TimeDistributed(L.Dense(2))}
    m:compile{loss = "mse", optimizer = "sgd"}
    assert.same({2, 4, 2}, m:predict(ids, {verbose = 0}):shape())  -- predicting is fine
    -- the mask reaches the loss, which leaves the padded steps out
    assert.is_number(m:fit(ids, lurn.zeros{2, 4, 2}, {verbose = 0, shuffle = false}).history.loss[1])
    assert.same({{1, 1, 0, 0}, {1, 0, 0, 0}}, m._core:output_mask():totable())
  end)

  it("stop at a layer that cannot take one, naming it, as Keras", function()
    local m = lurn.Sequential{embedding(), L.Conv1D(2, 2)}
    assert.error_matches(function() m:predict(ids, {verbose = 0}) end,
      "Conv1D 'conv1d[_%d]*' does not support masking")
    m = lurn.Sequential{embedding(), L.Flatten(), L.Dense(1)}
    assert.error_matches(function() m:predict(ids, {verbose = 0}) end, "Flatten '.*' does not support masking")
  end)

  it("pass through a merge of inputs that carry the same mask, and stop at different masks", function()
    local input = lurn.Input{shape = {4}}
    local e = embedding()(input)
    local out = L.Add()({L.Dense(2)(e), L.Dense(2)(e)})
    local m = lurn.Model(input, out)
    m:compile{loss = "mse", optimizer = "sgd"}
    assert.is_number(m:fit(ids, lurn.zeros{2, 4, 2}, {verbose = 0, shuffle = false}).history.loss[1])
    assert.same({{1, 1, 0, 0}, {1, 0, 0, 0}}, m._core:output_mask():totable())  -- the graph's output carries it
    local e2 = embedding()(input)
    local m2 = lurn.Model(input, L.Add()({e, e2}))
    assert.error_matches(function() m2:predict(ids, {verbose = 0}) end,
      "merging inputs with different masks is not supported yet")
  end)

  it("leave models without mask_zero as they were", function()
    local m = lurn.Sequential{L.Embedding(6, 3, {input_length = 4}), L.Conv1D(2, 2), L.Flatten(), L.Dense(1)}
    m:compile{loss = "mse", optimizer = "sgd"}
    assert.is_number(m:fit(ids, lurn.zeros{2, 1}, {verbose = 0}).history.loss[1])
  end)
end)

describe("GlobalAveragePooling1D with a mask", function()
  before_each(function() lurn.manual_seed(8) end)

  it("averages the real steps only, as Keras, and sends them the gradient", function()
    local pool = L.GlobalAveragePooling1D()
    pool:build({4, 2})
    local x = lurn.randn{2, 4, 2}
    local mask = lurn.tensor{{1, 1, 0, 0}, {0, 1, 1, 1}}
    local y = pool._core:forward(x, true, mask)
    for c = 1, 2 do
      assert.is_true(math.abs(y:get(1, c) - (x:get(1, 1, c) + x:get(1, 2, c)) / 2) < 1e-6)
      assert.is_true(math.abs(y:get(2, c) - (x:get(2, 2, c) + x:get(2, 3, c) + x:get(2, 4, c)) / 3) < 1e-6)
    end
    local dy = lurn.tensor{{1, 2}, {3, 6}}
    local dx = pool._core:backward(x, y, dy, mask)
    assert.same({{{0.5, 1}, {0.5, 1}, {0, 0}, {0, 0}}, {{0, 0}, {1, 2}, {1, 2}, {1, 2}}}, dx:totable())
    -- without a mask: the mean of all steps, as before
    assert.is_true(math.abs(pool._core:forward(x, true):get(1, 1) - x:narrow(1, 1, 1):select(3, 1):mean()) < 1e-6)
  end)

  it("makes Embedding(mask_zero) + GlobalAveragePooling1D ignore the padding, as Keras' text classifiers", function()
    local function model()
      lurn.manual_seed(8)
      return lurn.Sequential{L.Embedding(9, 4, {mask_zero = true, input_length = 5}), L.GlobalAveragePooling1D(),
                             L.Dense(1, {activation = "sigmoid"})}
    end
    local m = model()
    local short = m:predict(lurn.tensor{{3, 5, 0, 0, 0}}, {verbose = 0}):item()
    local longer = m:predict(lurn.tensor{{3, 5, 0, 0, 0}, {3, 5, 7, 0, 0}}, {verbose = 0})
    assert.are.equal(short, longer:get(1, 1))
    assert.are_not.equal(short, longer:get(2, 1))
    -- padding anywhere changes nothing: only the real ids count
    assert.are.equal(short, m:predict(lurn.tensor{{0, 3, 0, 5, 0}}, {verbose = 0}):item())
    m:compile{loss = "binary_crossentropy", optimizer = "adam"}
    assert.is_number(m:fit(lurn.tensor{{1, 2, 0, 0, 0}, {4, 4, 4, 0, 0}}, lurn.tensor{{0}, {1}}, {verbose = 0})
      .history.loss[1])
    assert.error_matches(function()
      lurn.Sequential{L.Embedding(9, 4, {mask_zero = true, input_length = 5}), L.GlobalMaxPooling1D()}
        :predict(lurn.tensor{{1, 0, 0, 0, 0}}, {verbose = 0})
    end, "GlobalMaxPooling1D '.*' does not support masking")
  end)
end)

describe("a mask reaching the recurrent layers", function()
  it("makes a padded sequence give what the sequence alone gives, padding before or after", function()
    lurn.manual_seed(12)
    for _, cell in ipairs{"LSTM", "GRU", "SimpleRNN"} do
      local padded = lurn.Sequential{L.Embedding(9, 4, {mask_zero = true, input_length = 6}), L[cell](3)}
      local plain = lurn.Sequential{L.Embedding(9, 4, {input_length = 3}), L[cell](3)}
      plain:set_weights(padded:get_weights())
      local alone = plain:predict(lurn.tensor{{5, 2, 7}}, {verbose = 0})
      for _, ids in ipairs{{5, 2, 7, 0, 0, 0}, {0, 0, 0, 5, 2, 7}, {0, 5, 0, 2, 7, 0}} do
        local y = padded:predict(lurn.tensor{ids}, {verbose = 0})
        assert.same(alone:totable(), y:totable(), cell .. " " .. table.concat(ids, ","))
      end
    end
  end)

  it("trains a padded-text classifier whose padding cannot leak into the prediction", function()
    lurn.manual_seed(13)
    local m = lurn.Sequential{L.Masking{mask_value = 0, input_shape = {5, 1}}, L.GRU(4), L.Dense(1)}
    m:compile{loss = "mse", optimizer = lurn.optimizers.Adam{learning_rate = 0.05}}
    -- the target is the sum of the real steps; trailing zeros are padding of varying length
    local x, y = lurn.zeros{64, 5, 1}, lurn.zeros{64, 1}
    for i = 1, 64 do
      local len, sum = (i % 5) + 1, 0
      for t = 1, len do
        local v = (i * t) % 3 + 1
        x:set(i, t, 1, v)
        sum = sum + v
      end
      y:set(i, 1, sum)
    end
    local first = m:evaluate(x, y, {verbose = 0}).loss
    m:fit(x, y, {epochs = 40, batch_size = 16, verbose = 0})
    assert.is_true(m:evaluate(x, y, {verbose = 0}).loss < first / 5)
  end)
end)

describe("masks and the layers that cannot honour them yet (review findings)", function()
  it("are refused rather than ignored: a mask made inside TimeDistributed", function()
    lurn.manual_seed(14)
    assert.error_matches(function()
      lurn.Sequential{L.Input{shape = {2, 4}}, L.TimeDistributed(L.Embedding(9, 3, {mask_zero = true}))}
    end, "TimeDistributed: a Embedding that makes a mask")
  end)

  it("a merge of the graph's own input and a masked tensor (it crashed)", function()
    local input = lurn.Input{shape = {4, 3}}
    local m = lurn.Model(input, L.Add()({input, L.Masking{mask_value = 0}(input)}))
    assert.same({2, 4, 3}, m:predict(lurn.randn{2, 4, 3}, {verbose = 0}):shape())
  end)

  it("a backward on another batch than the forward's is an error, not a write past the buffers", function()
    local bi = L.Bidirectional(L.GRU(4, {return_sequences = true}))
    bi:build({5, 2})
    bi._core:forward(lurn.randn{40, 5, 2}, true)
    local y = lurn.randn{1, 5, 8}
    assert.error_matches(function() bi._core:backward(lurn.randn{1, 5, 2}, y, y) end,
      "backward needs the forward of the same batch first")
    local g = L.LSTM(4, {return_sequences = true})
    g:build({5, 2})
    g._core:forward(lurn.randn{40, 5, 2}, true)
    local y2 = lurn.randn{1, 5, 4}
    assert.error_matches(function() g._core:backward(lurn.randn{1, 5, 2}, y2, y2) end,
      "LSTM: backward needs the forward of the same batch first")
  end)

  it("Bidirectional refuses an inner activity_regularizer it would not apply", function()
    assert.error_matches(function()
      L.Bidirectional(L.LSTM(4, {activity_regularizer = lurn.regularizers.l2(10)}))
    end, "activity_regularizer, which lurn does not apply inside a Bidirectional yet")
  end)
end)

describe("a recurrent layer's backward and its forward's mask", function()
  it("must be the same mask (or none with none): another one is an error, not another gradient", function()
    lurn.manual_seed(3)
    local l = L.LSTM(4, {return_sequences = true})
    l:build({5, 3})
    local x, mask = lurn.randn{2, 5, 3}, lurn.tensor{{1, 1, 1, 0, 0}, {0, 1, 1, 1, 1}}
    local y = l._core:forward(x, true, mask)
    local dy = lurn.randn(y:shape())
    assert.has_no.errors(function() l._core:backward(x, y, dy, mask:clone()) end)  -- equal values: fine
    assert.error_matches(function() l._core:backward(x, y, dy) end, "needs the mask of its forward %(the forward had one%)")
    assert.error_matches(function() l._core:backward(x, y, dy, lurn.ones{2, 5}) end, "needs the mask of its forward")
    l._core:forward(x, true)
    assert.error_matches(function() l._core:backward(x, y, dy, mask) end, "the forward had none")
  end)
end)

describe("BatchNormalization with a mask (Keras 2.13: statistics over the real steps)", function()
  before_each(function() lurn.manual_seed(31) end)

  local mask = lurn.tensor{{1, 1, 0, 0, 1}, {0, 1, 1, 1, 1}, {1, 0, 0, 0, 0}}

  -- The real rows of x (N, steps, C) under mask, as a (1, rows, C) tensor.
  local function real_rows(x, m)
    local rows, xt = {}, x:totable()
    for n, row in ipairs(m:totable()) do
      for t, v in ipairs(row) do if v == 1 then rows[#rows + 1] = xt[n][t] end end
    end
    return lurn.tensor{rows}
  end

  it("normalises every step by the mean and variance of the real steps, and moves its statistics by them", function()
    local bn = L.BatchNormalization{momentum = 0}
    bn:build({5, 2})
    local x = lurn.randn{3, 5, 2} * 2 + 1
    local y = bn._core:forward(x, true, mask)
    local mm, mv = bn:get_weights()[3]:clone(), bn:get_weights()[4]:clone()
    -- the same layer on the real steps alone, no mask
    local alone = L.BatchNormalization{momentum = 0}
    alone:build({8, 2})
    local ya = alone._core:forward(real_rows(x, mask), true)
    for c = 1, 2 do
      close(alone:get_weights()[3]:get(c), mm:get(c), 1e-6, "moving_mean")
      close(alone:get_weights()[4]:get(c), mv:get(c), 1e-5, "moving_variance")
    end
    local real = real_rows(y, mask)
    assert.is_true((real - ya):abs():max() < 1e-5)
    -- a padded step is normalised too, by the real steps' statistics
    local eps = 1e-3
    for c = 1, 2 do
      close((x:get(1, 3, c) - mm:get(c)) / math.sqrt(mv:get(c) + eps), y:get(1, 3, c), 1e-5, "padded step")
    end
    -- inference ignores the mask
    assert.same(bn._core:forward(x, false):totable(), bn._core:forward(x, false, mask):totable())
  end)

  it("passes the gradient check with a mask, padded steps included", function()
    local bn = L.BatchNormalization()
    bn:build({5, 2})
    local w = bn:get_weights()
    w[1], w[2] = lurn.randn{2} + 1.5, lurn.randn{2}
    bn:set_weights(w)
    gradcheck.check_layer(bn, lurn.randn{3, 5, 2}, {mask = mask})
    gradcheck.check_layer(bn, lurn.randn{3, 5, 2}, {mask = lurn.ones{3, 5}})
  end)

  it("leaves the padding out of a model's training: padding more changes nothing", function()
    local function model(steps)
      lurn.manual_seed(32)
      local m = lurn.Sequential{L.Embedding(9, 3, {mask_zero = true, input_length = steps}), L.BatchNormalization(),
                                L.GRU(4, {return_sequences = true}), L.Dense(2, {activation = "softmax"})}
      m:compile{loss = "sparse_categorical_crossentropy", optimizer = "sgd"}
      return m
    end
    local short, long = model(3), model(5)
    local a = short:compute_gradients(lurn.tensor{{4, 2, 7}, {3, 1, 0}}, lurn.tensor{{1, 0, 1}, {0, 1, 0}})
    local b = long:compute_gradients(lurn.tensor{{4, 2, 7, 0, 0}, {3, 1, 0, 0, 0}},
                                     lurn.tensor{{1, 0, 1, 1, 1}, {0, 1, 0, 1, 0}})
    close(a, b, 1e-6)
    local ga, gb = short:gradients(), long:gradients()
    for i = 1, #ga do assert.is_true((ga[i] - gb[i]):abs():max() < 1e-5, "gradient " .. i) end
    assert.same(short.non_trainable_weights[1]:totable(), long.non_trainable_weights[1]:totable())
    gradcheck.check_model(long, {kind = "sparse_categorical_crossentropy"}, lurn.tensor{{4, 2, 7, 0, 0}, {3, 1, 0, 0, 0}},
                          lurn.tensor{{1, 0, 1, 1, 1}, {0, 1, 0, 1, 0}}, nil, {check_dx = false, h = 5e-3})
  end)

  it("refuses a batch with no real step before touching its statistics, and a backward without the forward's mask",
    function()
    local bn = L.BatchNormalization()
    bn:build({5, 2})
    local x = lurn.randn{3, 5, 2}
    local before = bn:get_weights()[3]:totable()
    assert.error_matches(function() bn._core:forward(x, true, lurn.zeros{3, 5}) end,
      "BatchNormalization '.*': every step of this batch is padding")
    assert.same(before, bn:get_weights()[3]:totable())
    local y = bn._core:forward(x, true, mask)
    assert.error_matches(function() bn._core:backward(x, y, y) end, "backward needs the mask of its forward")
  end)
end)

describe("GlobalAveragePooling1D(keepdims) and GlobalMaxPooling1D with a mask", function()
  before_each(function() lurn.manual_seed(33) end)

  it("GlobalAveragePooling1D{keepdims = true}: Keras' masked mean, with the steps dimension kept", function()
    local flat, kept = L.GlobalAveragePooling1D(), L.GlobalAveragePooling1D{keepdims = true}
    flat:build({4, 3})
    kept:build({4, 3})
    local x, mask = lurn.randn{2, 4, 3}, lurn.tensor{{1, 0, 1, 0}, {0, 0, 0, 1}}
    local yf, yk = flat._core:forward(x, true, mask), kept._core:forward(x, true, mask)
    assert.same({2, 1, 3}, yk:shape())
    assert.same(yf:totable(), yk:reshape{2, 3}:totable())
    close((x:get(1, 1, 2) + x:get(1, 3, 2)) / 2, yk:get(1, 1, 2), 1e-6)
    gradcheck.check_layer(kept, x, {mask = mask})
    -- in a model: padding anywhere changes nothing
    local m = lurn.Sequential{L.Embedding(9, 4, {mask_zero = true, input_length = 5}),
                              L.GlobalAveragePooling1D{keepdims = true}, L.Dense(2)}
    local a = m:predict(lurn.tensor{{3, 5, 0, 0, 0}}, {verbose = 0})
    assert.same({1, 1, 2}, a:shape())
    assert.same(a:totable(), m:predict(lurn.tensor{{0, 3, 0, 0, 5}}, {verbose = 0}):totable())
  end)

  it("GlobalMaxPooling1D refuses a mask, keepdims or not, as Keras 2's (which does not support masking)", function()
    for _, keep in ipairs{false, true} do
      local m = lurn.Sequential{L.Embedding(9, 4, {mask_zero = true, input_length = 5}),
                                L.GlobalMaxPooling1D{keepdims = keep}}
      assert.error_matches(function() m:predict(lurn.tensor{{1, 0, 0, 0, 0}}, {verbose = 0}) end,
        "GlobalMaxPooling1D '.*' does not support masking")
    end
  end)
end)
