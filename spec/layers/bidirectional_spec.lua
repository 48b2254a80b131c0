-- Bidirectional(layer): the layer and its twin reading the other way, on the same input,
-- merged as Keras merges them (the twin's sequence outputs put back in time order),
-- gradient-checked in every merge mode.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"
local L = lurn.layers

local function built(layer, shape)
  layer:build(shape)
  return layer
end

-- out[n][t][j] for (N, steps, units) or out[n][j] for (N, units)
local function at(t, ...) return t:get(...) end

describe("Bidirectional", function()
  before_each(function() lurn.manual_seed(11) end)

  it("concatenates the forward output and the twin's, put back in time order", function()
    local b = built(L.Bidirectional(L.LSTM(3, {return_sequences = true})), {5, 2})
    local x = lurn.randn{4, 5, 2}
    local out = b._core:forward(x, false)
    local yf = b.forward_layer._core:forward(x, false)
    local yb = b.backward_layer._core:forward(x, false)
    assert.same({4, 5, 6}, out:shape())
    for n = 1, 4 do
      for t = 1, 5 do
        for j = 1, 3 do
          assert.are.equal(at(yf, n, t, j), at(out, n, t, j))
          assert.are.equal(at(yb, n, 6 - t, j), at(out, n, t, 3 + j))  -- the twin read step 6 - t t-th
        end
      end
    end
    assert.is_true(b.backward_layer.go_backwards)
    assert.is_false(b.forward_layer.go_backwards)
    assert.matches("^forward_lstm", b.forward_layer.name)
    assert.are.equal(b.forward_layer.name:gsub("^forward_", "backward_"), b.backward_layer.name)
  end)

  it("merges last states by sum, mul and ave", function()
    for mode, merge in pairs{sum = function(a, c) return a + c end, mul = function(a, c) return a * c end,
                             ave = function(a, c) return (a + c) * 0.5 end} do
      local b = built(L.Bidirectional(L.GRU(2), {merge_mode = mode}), {3, 2})
      local x = lurn.randn{3, 3, 2}
      local out = b._core:forward(x, false)
      local yf, yb = b.forward_layer._core:forward(x, false), b.backward_layer._core:forward(x, false)
      assert.same({3, 2}, out:shape())
      for n = 1, 3 do
        for j = 1, 2 do
          assert.is_true(math.abs(at(out, n, j) - merge(at(yf, n, j), at(yb, n, j))) < 1e-6, mode)
        end
      end
    end
  end)

  for _, case in ipairs{{"concat", true, "LSTM"}, {"sum", true, "GRU"}, {"mul", false, "SimpleRNN"},
                        {"ave", false, "LSTM"}, {"concat", false, "GRU"}} do
    local mode, sequences, cell = case[1], case[2], case[3]
    it(("passes the gradient check: %s, %s, return_sequences = %s"):format(cell, mode, tostring(sequences)), function()
      local b = built(L.Bidirectional(L[cell](3, {return_sequences = sequences}), {merge_mode = mode}), {4, 2})
      gradcheck.check_layer(b, lurn.randn{3, 4, 2})
    end)
  end

  it("trains inside a model, with the twin's weights after the layer's", function()
    local b = L.Bidirectional(L.SimpleRNN(4), {input_shape = {6, 1}})
    local m = lurn.Sequential{b, L.Dense(1)}
    m:compile{loss = "mse", optimizer = lurn.optimizers.Adam{learning_rate = 0.02}}
    local x = lurn.randn{64, 6, 1}
    local y = x:sum(2)  -- the sum of the sequence
    local names = select(2, b:parameters())
    local fwd = b.forward_layer.name
    assert.same({fwd .. "/kernel", fwd .. "/recurrent_kernel", fwd .. "/bias"}, {names[1], names[2], names[3]})
    assert.matches("^backward_simple_rnn.*/kernel$", names[4])
    local first = m:evaluate(x, y, {verbose = 0}).loss
    m:fit(x, y, {epochs = 30, batch_size = 16, verbose = 0})
    assert.is_true(m:evaluate(x, y, {verbose = 0}).loss < first / 4)
    assert.are.equal(2, #m:layer_stats(x, y) - 1)  -- the two recurrent layers, then Dense
  end)

  it("takes a backward_layer of its own", function()
    local fwd, bwd = L.GRU(2, {return_sequences = true}), L.GRU(2, {return_sequences = true, go_backwards = true})
    local b = built(L.Bidirectional(fwd, {backward_layer = bwd}), {3, 2})
    assert.are.equal(bwd, b.backward_layer)
    assert.same({2, 3, 4}, b._core:forward(lurn.randn{2, 3, 2}, false):shape())
  end)

  it("refuses what it cannot run", function()
    assert.error_matches(function() L.Bidirectional(L.Dense(3)) end, "must be a recurrent layer")
    assert.error_matches(function() L.Bidirectional(L.LSTM) end, "the class LSTM")
    assert.error_matches(function() L.Bidirectional(L.LSTM(2), {merge_mode = "max"}) end, "merge_mode must be")
    assert.error_matches(function() L.Bidirectional(L.LSTM(2), {merge_mode = "None"}) end, "false")
    assert.error_matches(function() L.Bidirectional(L.LSTM(2), {backward_layer = L.LSTM(2)}) end,
                         "must read the other way")
    assert.error_matches(function()
      L.Bidirectional(L.LSTM(2), {backward_layer = L.LSTM(2, {go_backwards = true, return_sequences = true})})
    end, "agree on return_sequences")
    assert.error_matches(function() L.Bidirectional(L.LSTM(2), {weights = {}}) end, "weights")
  end)
end)
