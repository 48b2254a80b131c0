-- Masks (issue 17): Masking and Embedding(mask_zero = true) make one; Dense, Dropout,
-- Activation and TimeDistributed pass it on (BatchNormalization refuses one: Keras leaves
-- the padding out of its statistics, lurn does not yet); merges pass the one mask
-- of their inputs; a layer that cannot take one, or a loss over a masked output, is an
-- error naming what to do (as Keras refuses the first, and weights the second, which lurn
-- does not do yet).
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"
local L = lurn.layers

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
    -- the mask still reaches the loss: refused rather than trained on padding
    assert.error_matches(function() m:fit(ids, lurn.zeros{2, 4, 2}, {verbose = 0}) end,
      "output still carries the mask of Embedding%(mask_zero = true%) or Masking: a loss over masked steps")
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
    assert.error_matches(function() m:fit(ids, lurn.zeros{2, 4, 2}, {verbose = 0}) end, "output still carries the mask")
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
  it("are refused rather than ignored: BatchNormalization, a mask made inside TimeDistributed", function()
    lurn.manual_seed(14)
    local m = lurn.Sequential{L.Input{shape = {4, 1}}, L.Masking{mask_value = 0}, L.BatchNormalization(),
                              L.GlobalAveragePooling1D(), L.Dense(1)}
    assert.error_matches(function() m:predict(lurn.ones{2, 4, 1}, {verbose = 0}) end,
      "BatchNormalization '.*' does not support masking")
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
