-- Keras' return_state and initial_state on SimpleRNN, LSTM, GRU and Bidirectional, and
-- Bidirectional's merge_mode = None (false): the values (final states are the last real
-- step's, initial states replace the zeros), finite-difference gradients in every mode
-- (into the states alone, into output and states, wrt h0/c0 and x, with go_backwards and
-- masks), functional models that read the parts, their summary and config, and the
-- errors a user can cause.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"
local L = lurn.layers

local function max_diff(a, b)
  return (a - b):abs():max()
end

-- Random weights (biases too), scaled to keep the gates away from saturation.
local function randomize(layer)
  local w = layer:get_weights()
  for i, t in ipairs(w) do w[i] = lurn.randn(t:shape()) * 0.5 end
  layer:set_weights(w)
  return layer
end

local function units_of(layer) return layer.units or layer.forward_layer.units end

-- layer built on (steps, features), eagerly through rnn_states when it reads states.
local function built(layer, steps, features, with_states)
  if with_states then
    layer:_set_sequence{steps, features}
    local total = steps * features
    for _, s in ipairs(layer:_state_shapes()) do total = total + s[1] end
    layer:build{total}
  else
    layer:build{steps, features}
  end
  return randomize(layer)
end

-- L = sum(r * y) over the packed output, r zero outside [from, to) of each row (0-based
-- offsets): dL/dx (x packed with its states, if any) and every parameter gradient. opts:
-- mask, h (the step: larger for the bigger Bidirectional sums, whose float32 round-off
-- is larger).
local function check_part(layer, x, from, to, opts)
  opts = opts or {}
  local core = layer._core
  local y = core:forward(x, false, opts.mask)
  local r = lurn.randn(y:shape())
  local n, width = y:shape()[1], y:shape()[2]
  for i = 1, n do
    for j = 1, width do
      if j - 1 < from or j - 1 >= to then r:set(i, j, 0) end
    end
  end
  local rv = gradcheck.flat(r)
  local dx = core:backward(x, y, r, opts.mask)
  local grads = {}
  for i, g in ipairs(layer:gradients()) do grads[i] = g:clone() end
  local function objective() return gradcheck.dot(rv, core:forward(x, false, opts.mask)) end
  gradcheck.assert_close(dx, gradcheck.numeric(objective, x, opts.h), nil, layer.name .. " dL/dx")
  local params, names = layer:parameters()
  for i, p in ipairs(params) do
    gradcheck.assert_close(grads[i], gradcheck.numeric(objective, p, opts.h), nil, layer.name .. " dL/d" .. names[i])
  end
end

-- A (N, steps) mask with some steps padded, every sample keeping one real step or none.
local function some_mask(n, steps)
  local m = lurn.ones{n, steps}
  m:set(1, steps, 0)
  m:set(2, 1, 0)
  if steps > 2 then m:set(2, 2, 0) end
  for t = 1, steps do m:set(n, t, 0) end  -- a sample with no real step: its states stay the initial ones
  return m
end

local CLASSES = {SimpleRNN = L.SimpleRNN, LSTM = L.LSTM, GRU = L.GRU}
local N, T, F, U = 3, 4, 2, 3

describe("return_state", function()
  for name, cls in pairs(CLASSES) do
    local nstates = name == "LSTM" and 2 or 1
    describe(name, function()
      it("gives {output, h" .. (nstates == 2 and ", c" or "") .. "}: the last output and the states after it", function()
        lurn.manual_seed(3)
        local x = lurn.randn{N, T, F}
        for _, seqs in ipairs{false, true} do
          local layer = built(cls(U, {return_state = true, return_sequences = seqs}), T, F)
          local plain = cls(U, {return_sequences = true})
          local outs = layer(x)
          plain:build{T, F}
          plain:set_weights(layer:get_weights())
          local seq = plain(x)
          assert.equal(1 + nstates, #outs)
          assert.same(seqs and {N, T, U} or {N, U}, outs[1]:shape())
          local last = seq:narrow(2, T, 1):reshape{N, U}
          assert.is_true(max_diff(outs[2], last) == 0)
          if seqs then assert.is_true(max_diff(outs[1], seq) == 0) end
          for k = 2, #outs do assert.same({N, U}, outs[k]:shape()) end
        end
      end)

      for _, mode in ipairs{{}, {return_sequences = true}, {go_backwards = true},
                            {return_sequences = true, go_backwards = true}} do
        local parts = {}
        for k in pairs(mode) do parts[#parts + 1] = k end
        table.sort(parts)
        local label = #parts > 0 and (" {" .. table.concat(parts, ", ") .. "}") or ""
        it("passes gradient checks into the states alone and into output and states" .. label, function()
          lurn.manual_seed(5)
          local opts = {return_state = true}
          for k, v in pairs(mode) do opts[k] = v end
          local layer = built(cls(U, opts), T, F)
          local x = lurn.randn{N, T, F}
          local out_size = mode.return_sequences and T * U or U
          check_part(layer, x, out_size, out_size + nstates * U)  -- the states alone
          check_part(layer, x, 0, out_size + nstates * U)         -- all
          if nstates == 2 then check_part(layer, x, out_size + U, out_size + 2 * U) end  -- c alone
          check_part(layer, x, 0, out_size, {mask = some_mask(N, T)})
          check_part(layer, x, 0, out_size + nstates * U, {mask = some_mask(N, T)})
        end)
      end

      it("keeps the state of the last real step under a mask (as Keras' backend.rnn)", function()
        lurn.manual_seed(7)
        local layer = built(cls(U, {return_state = true}), T, F)
        local x = lurn.randn{2, T, F}
        local m = lurn.ones{2, T}
        m:set(1, T, 0)
        local y = layer._core:forward(x, false, m)
        local short = built(cls(U, {return_state = true}), T - 1, F)
        short:set_weights(layer:get_weights())
        local y1 = short._core:forward(x:narrow(1, 1, 1):narrow(2, 1, T - 1):contiguous(), false)
        assert.is_true(max_diff(y:narrow(1, 1, 1), y1) < 1e-6)
      end)
    end)
  end
end)

describe("initial_state", function()
  for name, cls in pairs(CLASSES) do
    local nstates = name == "LSTM" and 2 or 1
    describe(name, function()
      it("starts from the states given; zeros give the plain layer", function()
        lurn.manual_seed(11)
        local layer = built(cls(U), T, F)
        local x = lurn.randn{N, T, F}
        local y0 = layer(x)
        local with = cls(U)
        local zeros = {}
        for k = 1, nstates do zeros[k] = lurn.zeros{N, U} end
        local y1 = with(x, {initial_state = zeros})
        with:set_weights(layer:get_weights())
        y1 = with(x, {initial_state = zeros})
        assert.is_true(max_diff(y0, y1) < 1e-6)
        local h0 = {}
        for k = 1, nstates do h0[k] = lurn.randn{N, U} end
        local y2 = with(x, {initial_state = h0})
        assert.is_true(max_diff(y0, y2) > 1e-3)
        -- one step from h0 by hand for SimpleRNN
        if name == "SimpleRNN" then
          local one = cls(U)
          local w = layer:get_weights()
          local x1 = x:narrow(2, 1, 1):contiguous()
          one(x1, {initial_state = h0})
          one:set_weights(w)
          local expect = (x1:reshape{N, F}:matmul(w[1]) + h0[1]:matmul(w[2]) + w[3]:reshape{1, U}):tanh()
          assert.is_true(max_diff(one(x1, {initial_state = h0}), expect) < 1e-5)
        end
      end)

      for _, mode in ipairs{{}, {go_backwards = true}, {return_sequences = true, return_state = true},
                            {go_backwards = true, return_state = true}, {recurrent_dropout = 0.3}} do
        local parts = {}
        for k in pairs(mode) do parts[#parts + 1] = k end
        table.sort(parts)
        local label = #parts > 0 and (" {" .. table.concat(parts, ", ") .. "}") or ""
        it("passes gradient checks wrt h0" .. (nstates == 2 and ", c0" or "") .. " and x" .. label, function()
          lurn.manual_seed(13)
          local layer = built(cls(U, mode), T, F, true)
          local x = lurn.randn{N, T * F + nstates * U}
          local width = layer._core:output_shape()[1]
          if mode.recurrent_dropout then  -- inference: no masks, the states still flow
            check_part(layer, x, 0, width)
            return
          end
          check_part(layer, x, 0, width)
          check_part(layer, x, 0, width, {mask = some_mask(N, T)})
        end)
      end
    end)
  end

  it("gradient-checks with dropout in training (the same masks each forward)", function()
    lurn.manual_seed(17)
    local layer = built(L.LSTM(U, {dropout = 0.3, recurrent_dropout = 0.3, return_state = true}), T, F, true)
    gradcheck.check_layer(layer, lurn.randn{N, T * F + 2 * U}, {seed = 19})
  end)

  it("refuses states of the wrong number or size, and a layer called both ways, naming the layer", function()
    local x = lurn.randn{2, T, F}
    local lstm = L.LSTM(U, {name = "enc"})
    assert.error_matches(function() lstm(x, {initial_state = {lurn.zeros{2, U}}}) end,
      "LSTM 'enc': initial_state must be a list of 2 states %(%(None, 3%), %(None, 3%)%), got 1")
    assert.error_matches(function() lstm(x, {initial_state = {lurn.zeros{2, U}, lurn.zeros{2, U + 1}}}) end,
      "initial_state 2 must have shape %(None, 3%), got %(None, 4%)")
    assert.error_matches(function() lstm(x, {initial_state = {lurn.zeros{3, U}, lurn.zeros{3, U}}}) end,
      "must have the batch's 2 samples")
    assert.error_matches(function() lstm(x, {initial_state = {1, 2}}) end, "initial_state 1 must be a tensor")
    assert.error_matches(function() lstm(x, {initial = 1}) end, "a call takes initial_state and training")
    lstm(x, {initial_state = {lurn.zeros{2, U}, lurn.zeros{2, U}}})
    assert.error_matches(function() lstm(x) end, "built with initial_state")
    local gru = L.GRU(U)
    local input = lurn.Input{shape = {T, F}}
    assert.error_matches(function() gru(input, {initial_state = {lurn.zeros{2, U}}}) end, "must be a symbolic tensor")
    assert.error_matches(function() gru(input, {initial_state = {L.Dense(U + 1)(L.Flatten()(input))}}) end,
      "GRU 'gru.*': initial_state 1 must have shape %(None, 3%), got %(None, 4%)")
  end)
end)

describe("Bidirectional", function()
  it("merge_mode = false gives {forward_output, backward_output} (Keras' None)", function()
    lurn.manual_seed(23)
    local x = lurn.randn{N, T, F}
    local b = L.Bidirectional(L.GRU(U, {return_sequences = true}), {merge_mode = false})
    local outs = b(x)
    local cat = L.Bidirectional(L.GRU(U, {return_sequences = true}))
    cat:build{T, F}
    cat:set_weights(b:get_weights())
    local y = cat(x)
    assert.equal(2, #outs)
    assert.is_true(max_diff(outs[1], y:narrow(3, 1, U)) == 0)
    assert.is_true(max_diff(outs[2], y:narrow(3, U + 1, U)) == 0)
    assert.equal(false, b:get_config().merge_mode)
    assert.equal("none", L.Bidirectional.from_config(b:get_config()).merge_mode)
    assert.error_matches(function() lurn.Sequential{L.Input{shape = {T, F}}, b} end, "several tensors")
  end)

  it("return_state gives {output, forward_h, forward_c, backward_h, backward_c}", function()
    lurn.manual_seed(29)
    local x = lurn.randn{N, T, F}
    local b = L.Bidirectional(L.LSTM(U, {return_state = true}))
    local outs = b(x)
    assert.equal(5, #outs)
    assert.same({N, 2 * U}, outs[1]:shape())
    local f = b.forward_layer
    assert.is_true(max_diff(outs[1]:narrow(2, 1, U), outs[2]) == 0)
    assert.is_true(max_diff(outs[1]:narrow(2, U + 1, U), outs[4]) == 0)
    assert.is_true(f.return_state and b.backward_layer.return_state)
  end)

  for _, mode in ipairs{{merge_mode = "concat"}, {merge_mode = "none", sequences = true}, {merge_mode = "mul"},
                        {merge_mode = "ave", sequences = true}} do
    for _, cls_name in ipairs{"LSTM", "GRU", "SimpleRNN"} do
      it(("passes gradient checks (%s, merge_mode %s%s): return_state, initial_state, masks"):format(cls_name,
        mode.merge_mode, mode.sequences and ", sequences" or ""), function()
        lurn.manual_seed(31)
        local nstates = cls_name == "LSTM" and 2 or 1
        local inner = L[cls_name](U, {return_state = true, return_sequences = mode.sequences})
        local b = built(L.Bidirectional(inner, {merge_mode = mode.merge_mode == "none" and false or mode.merge_mode}),
                        T, F, true)
        local width = b._core:output_shape()[1]
        local x = lurn.randn{N, T * F + 2 * nstates * U}
        local out_size = width - 2 * nstates * U
        check_part(b, x, out_size, width, {h = 5e-3})
        check_part(b, x, 0, width, {h = 5e-3})
        check_part(b, x, 0, width, {mask = some_mask(N, T), h = 5e-3})
        local plain = built(L.Bidirectional(L[cls_name](U, {return_state = true, return_sequences = mode.sequences}),
          {merge_mode = mode.merge_mode == "none" and false or mode.merge_mode}), T, F)
        check_part(plain, lurn.randn{N, T, F}, 0, width, {mask = some_mask(N, T), h = 5e-3})
      end)
    end
  end

  it("initial_state: forward states first, then backward, as Keras", function()
    lurn.manual_seed(37)
    local x = lurn.randn{N, T, F}
    local b = L.Bidirectional(L.LSTM(U), {merge_mode = "concat"})
    local s = {lurn.randn{N, U}, lurn.randn{N, U}, lurn.randn{N, U}, lurn.randn{N, U}}
    local y = b(x, {initial_state = s})
    local f = L.LSTM(U)
    f(x, {initial_state = {s[1], s[2]}})
    f:set_weights(b.forward_layer:get_weights())
    assert.is_true(max_diff(y:narrow(2, 1, U), f(x, {initial_state = {s[1], s[2]}})) < 1e-6)
    local r = L.LSTM(U, {go_backwards = true})
    r(x, {initial_state = {s[3], s[4]}})
    r:set_weights(b.backward_layer:get_weights())
    assert.is_true(max_diff(y:narrow(2, U + 1, U), r(x, {initial_state = {s[3], s[4]}})) < 1e-6)
    assert.error_matches(function() L.Bidirectional(L.LSTM(U))(x, {initial_state = {s[1], s[2]}}) end,
      "must be a list of 4 states")
  end)
end)

describe("functional models with states", function()
  local function fit_once(model, x, y)
    model:compile{optimizer = "sgd", loss = "mse"}
    model:fit(x, y, {epochs = 1, batch_size = 2, verbose = 0})
  end

  it("x -> LSTM(return_state) -> {out, h, c}; Concatenate{h, c} -> Dense: layers, summary, gradients", function()
    lurn.manual_seed(41)
    local input = lurn.Input{shape = {T, F}, name = "seq"}
    local outs = L.LSTM(U, {return_state = true, name = "enc"})(input)
    assert.equal(3, #outs)
    assert.same({0, 1, 2}, {outs[1].tensor_index, outs[2].tensor_index, outs[3].tensor_index})
    local y = L.Dense(2, {name = "head"})(L.Concatenate{name = "hc"}{outs[2], outs[3]})
    local model = lurn.Model(input, y)
    local names = {}
    for i, layer in ipairs(model.layers) do names[i] = layer.name end
    assert.same({"seq", "enc", "hc", "head"}, names)
    local lines = {}
    model:summary(function(line) lines[#lines + 1] = line end)
    local all = table.concat(lines, "\n")
    assert.matches("%[%(None, 3%), %(None, 3%), %(None, 3%)%]", all)
    assert.matches("enc%[0%]%[1%]", all)
    assert.matches("enc%[0%]%[2%]", all)
    for _, layer in ipairs(model.layers) do randomize(layer) end
    gradcheck.check_model(model, {kind = "mean_squared_error"}, lurn.randn{N, T, F}, lurn.randn{N, 2})
    -- the output and a state read together: their gradients add up in the packed output
    local input2 = lurn.Input{shape = {T, F}}
    local o = L.GRU(U, {return_state = true})(input2)
    local model2 = lurn.Model(input2, L.Add()({o[1], o[2]}))
    for _, layer in ipairs(model2.layers) do randomize(layer) end
    gradcheck.check_model(model2, {kind = "mean_squared_error"}, lurn.randn{N, T, F}, lurn.randn{N, U})
    fit_once(model, lurn.randn{4, T, F}, lurn.randn{4, 2})
  end)

  it("x -> Dense as h0 -> GRU(x, initial_state = {h0}): gradients through h0 and x, with a Masking mask", function()
    lurn.manual_seed(43)
    local input = lurn.Input{shape = {T, F}}
    local h0 = L.Dense(U, {activation = "tanh"})(L.Flatten()(input))
    local masked = L.Masking{mask_value = 0}(input)
    local y = L.GRU(U, {go_backwards = true})(masked, {initial_state = {h0}})
    local model = lurn.Model(input, y)
    assert.equal(5, #model.layers)
    for _, layer in ipairs(model.layers) do randomize(layer) end
    local x = lurn.randn{N, T, F}
    for j = 1, F do x:set(1, T, j, 0); x:set(2, 1, j, 0) end
    gradcheck.check_model(model, {kind = "mean_squared_error"}, x, lurn.randn{N, U}, nil, {check_dx = false})
  end)

  it("Embedding(mask_zero) -> LSTM(return_state, initial_state) -> Bidirectional(merge_mode = false)", function()
    lurn.manual_seed(47)
    local input = lurn.Input{shape = {T}}
    local e = L.Embedding(7, F, {mask_zero = true})(input)
    local h = L.Dense(U)(L.Flatten()(L.Embedding(7, F)(input)))
    local outs = L.LSTM(U, {return_state = true, return_sequences = true})(e, {initial_state = {h, h}})
    local pair = L.Bidirectional(L.SimpleRNN(U), {merge_mode = false})(outs[1])
    local y = L.Dense(1)(L.Concatenate()({pair[1], pair[2], outs[3]}))
    local model = lurn.Model(input, y)
    for _, layer in ipairs(model.layers) do randomize(layer) end
    local x = lurn.tensor{{1, 2, 3, 0}, {0, 0, 4, 5}, {6, 0, 0, 0}}
    -- the model's loss is summed in float32: a larger step keeps its round-off small
    gradcheck.check_model(model, {kind = "mean_squared_error"}, x, lurn.randn{3, 1}, nil, {check_dx = false, h = 1e-2})
  end)

  it("round-trips get_config / from_config and model files (plain names still load)", function()
    lurn.manual_seed(53)
    local input = lurn.Input{shape = {T, F}}
    local h0 = L.Dense(U)(L.Flatten()(input))
    local outs = L.LSTM(U, {return_state = true})(input, {initial_state = {h0, h0}})
    local b = L.Bidirectional(L.GRU(U, {return_state = true}), {merge_mode = false})(input)
    local model = lurn.Model(input, L.Concatenate()({outs[3], b[2], b[4]}))
    local cfg = model:get_config()
    local again = lurn.Model.from_config(cfg)
    again:set_weights(model:get_weights())
    local x = lurn.randn{N, T, F}
    assert.is_true(max_diff(model:predict(x), again:predict(x)) == 0)
    local path = os.tmpname()
    model:compile{optimizer = "adam", loss = "mse"}
    fit_once(model, lurn.randn{4, T, F}, lurn.randn{4, 3 * U})
    model:save(path)
    local loaded = lurn.models.load_model(path)
    os.remove(path)
    assert.is_true(max_diff(model:predict(x), loaded:predict(x)) == 0)
    -- an output that is a state
    local m2 = lurn.Model(input, outs[2])
    assert.same({"lstm" == "" and "" or m2.layers[#m2.layers].name, 1}, m2:get_config().output_layers[1])
    local m3 = lurn.Model.from_config(m2:get_config())
    m3:set_weights(m2:get_weights())
    assert.is_true(max_diff(m2:predict(x), m3:predict(x)) == 0)
  end)
end)

describe("where a layer of several outputs cannot go", function()
  it("Sequential and TimeDistributed refuse it, as Keras; a config naming a tensor that no layer gives is an error",
    function()
    assert.error_matches(function() lurn.Sequential{L.LSTM(2, {return_state = true, input_shape = {3, 2}})} end,
      "returns several tensors")
    assert.error_matches(function() L.TimeDistributed(L.GRU(2, {return_state = true})) end, "returns several tensors")
    local input = lurn.Input{shape = {3, 2}}
    local outs = L.GRU(2, {return_state = true, name = "g"})(input)
    local cfg = lurn.Model(input, outs[2]):get_config()
    assert.same({"g", 1}, cfg.output_layers[1])
    cfg.output_layers[1] = {"g", 5}
    assert.error_matches(function() lurn.Model.from_config(cfg) end, "input_layers and output_layers must name")
    cfg.output_layers[1] = {"g", 1}
    cfg.layers[#cfg.layers + 1] = {class_name = "Dense", config = {units = 1, name = "d"}, name = "d",
                                   inbound_nodes = {{"g", "x"}}}
    assert.error_matches(function() lurn.Model.from_config(cfg) end, "reads 'g%[x%]'")
  end)
end)

describe("an encoder-decoder (two inputs)", function()
  it("the encoder's states start the decoder: gradients, fit, config and model files", function()
    lurn.manual_seed(59)
    local enc_in, dec_in = lurn.Input{shape = {T, F}, name = "enc_in"}, lurn.Input{shape = {T + 1, F}, name = "dec_in"}
    local _, h, c = table.unpack(L.LSTM(U, {return_state = true, name = "encoder"})(enc_in))
    local dec = L.LSTM(U, {return_sequences = true, name = "decoder"})(dec_in, {initial_state = {h, c}})
    local out = L.TimeDistributed(L.Dense(2), {name = "head"})(dec)
    local model = lurn.Model{inputs = {enc_in, dec_in}, outputs = out}
    for _, layer in ipairs(model.layers) do randomize(layer) end
    local xe, xd, y = lurn.randn{4, T, F}, lurn.randn{4, T + 1, F}, lurn.randn{4, T + 1, 2}
    local p = model:predict({xe, xd})
    -- the same numbers by hand: the encoder's final states, then the decoder from them
    local states = model:get_layer("encoder")(xe)
    local twin = L.LSTM(U, {return_sequences = true})
    twin(xd, {initial_state = {states[2], states[3]}})
    twin:set_weights(model:get_layer("decoder"):get_weights())
    local expected = model:get_layer("head")(twin(xd, {initial_state = {states[2], states[3]}}))
    assert.is_true(max_diff(p, expected) < 1e-6)
    model:compile{optimizer = "adam", loss = "mse"}
    -- gradients wrt every weight and both inputs (packed as the C model takes them)
    gradcheck.check_model(model, model.loss, model:_x({xe, xd}, "spec"), y, nil, {h = 1e-2})
    local history = model:fit({xe, xd}, y, {epochs = 3, batch_size = 2, verbose = 0})
    assert.equal(3, #history.history.loss)
    local again = lurn.Model.from_config(model:get_config())
    again:set_weights(model:get_weights())
    assert.is_true(max_diff(model:predict({xe, xd}), again:predict({xe, xd})) == 0)
    local path = os.tmpname()
    model:save(path)
    local loaded = lurn.models.load_model(path)
    os.remove(path)
    assert.is_true(max_diff(model:predict({xe, xd}), loaded:predict({xe, xd})) == 0)
  end)
end)
