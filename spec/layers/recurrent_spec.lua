-- SimpleRNN, LSTM, GRU: Keras' equations computed by hand in Lua on small cases, gradients
-- against finite differences in every mode (return_sequences, go_backwards, with and
-- without bias, other activations, with regularizers through a model), shapes, Keras'
-- weight layout, the orthogonal initializer, PyTorch weight conversion, options refused
-- clearly, and a tiny sequence task that trains.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"
local L = lurn.layers

local function close(expected, actual, tol)
  assert(math.abs(expected - actual) <= (tol or 1e-5), ("expected %.9g, got %.9g"):format(expected, actual))
end

local function assert_all_close(expected, actual, tol)
  if type(expected) == "table" then
    assert.equal(#expected, #actual)
    for i = 1, #expected do assert_all_close(expected[i], actual[i], tol) end
  else
    close(expected, actual, tol)
  end
end

local function sigmoid(v) return 1 / (1 + math.exp(-v)) end

-- A layer built for (timesteps, features) with random weights (biases too).
local function random_layer(cls, units, steps, features, opts)
  local layer = cls(units, opts)
  layer:build{steps, features}
  local w = layer:get_weights()
  for i, t in ipairs(w) do w[i] = lurn.randn(t:shape()) * 0.5 end
  layer:set_weights(w)
  return layer
end

describe("recurrent layers", function()
  before_each(function() lurn.manual_seed(11) end)

  describe("by hand (2 timesteps, 1 feature, 1 unit)", function()
    local x = lurn.tensor{{{0.5}, {-1.0}}}

    it("SimpleRNN: h = tanh(x k + h r + b)", function()
      local l = L.SimpleRNN(1, {return_sequences = true})
      l:build{2, 1}
      l:set_weights{lurn.tensor{{0.7}}, lurn.tensor{{-0.4}}, lurn.tensor{0.1}}
      local h1 = math.tanh(0.5 * 0.7 + 0.1)
      local h2 = math.tanh(-1.0 * 0.7 + h1 * -0.4 + 0.1)
      assert_all_close({{{h1}, {h2}}}, l(x):totable())
    end)

    it("LSTM: gates i, f, c, o in the kernels' column blocks", function()
      local l = L.LSTM(1, {return_sequences = true})
      l:build{2, 1}
      local k, r, b = {0.3, -0.2, 0.8, 0.5}, {0.4, 0.6, -0.7, 0.2}, {0.1, 1.0, -0.3, 0.2}
      l:set_weights{lurn.tensor{k}, lurn.tensor{r}, lurn.tensor(b)}
      local h, c, out = 0, 0, {}
      for t, xv in ipairs{0.5, -1.0} do
        local z = {}
        for g = 1, 4 do z[g] = xv * k[g] + h * r[g] + b[g] end
        local i, f, cc, o = sigmoid(z[1]), sigmoid(z[2]), math.tanh(z[3]), sigmoid(z[4])
        c = f * c + i * cc
        h = o * math.tanh(c)
        out[t] = {h}
      end
      assert_all_close({out}, l(x):totable())
    end)

    it("GRU (reset_after): gates z, r, h; bias (2, 3 units): input, recurrent", function()
      local l = L.GRU(1, {return_sequences = true})
      l:build{2, 1}
      local k, r = {0.3, -0.2, 0.8}, {0.4, 0.6, -0.7}
      local bi, br = {0.1, 0.5, -0.3}, {0.2, -0.1, 0.4}
      l:set_weights{lurn.tensor{k}, lurn.tensor{r}, lurn.tensor{bi, br}}
      local h, out = 0, {}
      for t, xv in ipairs{0.5, -1.0} do
        local z = sigmoid(xv * k[1] + bi[1] + h * r[1] + br[1])
        local rr = sigmoid(xv * k[2] + bi[2] + h * r[2] + br[2])
        local hh = math.tanh(xv * k[3] + bi[3] + rr * (h * r[3] + br[3]))
        h = z * h + (1 - z) * hh
        out[t] = {h}
      end
      assert_all_close({out}, l(x):totable())
    end)

    it("go_backwards reads time reversed and returns the sequence in that order, as Keras", function()
      local fwd = L.SimpleRNN(1, {return_sequences = true})
      fwd:build{2, 1}
      fwd:set_weights{lurn.tensor{{0.7}}, lurn.tensor{{-0.4}}, lurn.tensor{0.1}}
      local back = L.SimpleRNN(1, {return_sequences = true, go_backwards = true})
      back:build{2, 1}
      back:set_weights(fwd:get_weights())
      local reversed = lurn.tensor{{{-1.0}, {0.5}}}
      assert_all_close(fwd(reversed):totable(), back(x):totable(), 1e-7)
      local last = L.SimpleRNN(1, {go_backwards = true})
      last:build{2, 1}
      last:set_weights(fwd:get_weights())
      assert_all_close({fwd(reversed):totable()[1][2]}, last(x):totable(), 1e-7)
    end)
  end)

  for _, name in ipairs{"SimpleRNN", "LSTM", "GRU"} do
    describe(name, function()
      local cls = L[name]
      local k = ({SimpleRNN = 1, LSTM = 4, GRU = 3})[name]

      it("has Keras' shapes and weight layout, and its defaults", function()
        local l = cls(5)
        l:build{7, 3}
        assert.same({5}, l.output_shape)
        local w = l:get_weights()
        assert.same({3, k * 5}, w[1]:shape())
        assert.same({5, k * 5}, w[2]:shape())
        assert.same(name == "GRU" and {2, 15} or {k * 5}, w[3]:shape())
        local _, names = l:parameters()
        assert.same({"kernel", "recurrent_kernel", "bias"}, names)
        local cfg = l:get_config()
        assert.equal("tanh", cfg.activation)
        assert.equal(false, cfg.return_sequences)
        assert.equal("Orthogonal", cfg.recurrent_initializer.class_name)
        assert.equal("GlorotUniform", cfg.kernel_initializer.class_name)
        if name ~= "SimpleRNN" then assert.equal("sigmoid", cfg.recurrent_activation) end
        local seq = cls(5, {return_sequences = true})
        assert.same({2, 7, 5}, seq(lurn.randn{2, 7, 3}):shape())
        assert.same({0, 5}, cls(5)(lurn.randn{0, 7, 3}):shape())
      end)

      for _, mode in ipairs{{}, {return_sequences = true}, {go_backwards = true},
                            {go_backwards = true, return_sequences = true}, {use_bias = false},
                            {activation = "softsign", recurrent_activation = name ~= "SimpleRNN" and "tanh" or nil}} do
        local parts = {}
        for key, v in pairs(mode) do parts[#parts + 1] = key .. "=" .. tostring(v) end
        table.sort(parts)
        it("passes a gradient check with {" .. table.concat(parts, ", ") .. "}", function()
          local l = random_layer(cls, 3, 4, 2, mode)
          gradcheck.check_layer(l, lurn.randn{3, 4, 2})
        end)
      end

      it("passes a gradient check inside a model with regularizers on every weight and the output", function()
        local R = lurn.regularizers
        local model = lurn.Sequential{
          cls(3, {input_shape = {4, 2}, kernel_regularizer = R.l2(0.1), recurrent_regularizer = R.l1_l2{l1 = 0.05, l2 = 0.1},
                  bias_regularizer = R.l2(0.2), activity_regularizer = R.l2(0.01), bias_initializer = "random_normal"}),
          L.Dense(2)}
        model:compile{optimizer = "sgd", loss = "mse"}
        model:build()
        gradcheck.check_model(model, {kind = "mean_squared_error"}, lurn.randn{3, 4, 2}, lurn.randn{3, 2})
      end)

      it("adds each regularizer's penalty on its own weight (kernel, recurrent_kernel, bias)", function()
        local R = lurn.regularizers
        local x, y = lurn.randn{4, 3, 2}, lurn.randn{4, 3}
        local plain = lurn.Sequential{cls(3, {input_shape = {3, 2}, bias_initializer = "random_normal"})}
        plain:compile{optimizer = "sgd", loss = "mse"}
        local base = plain:evaluate(x, y, {verbose = 0}).loss
        for position, key in ipairs{"kernel_regularizer", "recurrent_regularizer", "bias_regularizer"} do
          local m = lurn.Sequential{cls(3, {input_shape = {3, 2}, [key] = R.l2(0.5)})}
          m:compile{optimizer = "sgd", loss = "mse"}
          m:set_weights(plain:get_weights())
          local w, sq = plain:get_weights()[position], 0
          for _, v in ipairs(gradcheck.flat(w)) do sq = sq + v * v end
          close(base + 0.5 * sq, m:evaluate(x, y, {verbose = 0}).loss, 1e-4 * (1 + sq))
        end
      end)

      it("takes the same numbers again on a second, larger batch (buffers reused)", function()
        local l = random_layer(cls, 4, 5, 3, {return_sequences = true})
        local x = lurn.randn{2, 5, 3}
        local y1 = l(x):totable()
        l(lurn.randn{6, 5, 3})
        assert_all_close(y1, l(x):totable(), 1e-6)
      end)

      it("drops the same input features at every timestep in training (dropout), none in inference", function()
        local l = random_layer(cls, 3, 5, 6, {dropout = 0.5, return_sequences = true})
        local plain = random_layer(cls, 3, 5, 6, {return_sequences = true})
        plain:set_weights(l:get_weights())
        local x = lurn.randn{4, 5, 6}
        assert_all_close(plain(x):totable(), l(x):totable(), 1e-6)
        local y = l._core:forward(x, true)
        local dx = l._core:backward(x, y, lurn.randn(y:shape()))
        local dropped = 0
        for i = 1, 4 do
          for f = 1, 6 do
            local zeros = 0
            for t = 1, 5 do
              if dx:get(i, t, f) == 0 then zeros = zeros + 1 end
            end
            assert(zeros == 0 or zeros == 5, ("sample %d feature %d dropped at %d of 5 timesteps"):format(i, f, zeros))
            if zeros == 5 then dropped = dropped + 1 end
          end
        end
        assert(dropped > 0 and dropped < 24, ("%d of 24 features dropped"):format(dropped))
      end)

      it("passes a gradient check with dropout in training (the same mask each forward)", function()
        local l = random_layer(cls, 3, 4, 5, {dropout = 0.4, return_sequences = true})
        gradcheck.check_layer(l, lurn.randn{3, 4, 5}, {seed = 17})
      end)

      for _, mode in ipairs{{recurrent_dropout = 0.4}, {recurrent_dropout = 0.4, dropout = 0.3},
                            {recurrent_dropout = 0.3, go_backwards = true, return_sequences = false}} do
        local parts = {}
        for key, v in pairs(mode) do parts[#parts + 1] = key .. "=" .. tostring(v) end
        table.sort(parts)
        it("passes a gradient check in training with {" .. table.concat(parts, ", ") .. "}", function()
          mode.return_sequences = mode.return_sequences ~= false
          local l = random_layer(cls, 3, 4, 5, mode)
          gradcheck.check_layer(l, lurn.randn{3, 4, 5}, {seed = 23})
        end)
      end

      it("recurrent_dropout masks the state entering the recurrent product, dropout the inputs (training only)",
        function()
          -- at a rate this close to 1 every element is dropped (the chance that one of these few
          -- is kept is about 1e-4): the layer is then the same one without a recurrent kernel,
          -- or on zero inputs; inference is unaffected
          local rate = 1 - 1e-6
          local function like(opts, w)
            local l = random_layer(cls, 3, 4, 2, opts)
            if w then l:set_weights(w) end
            return l
          end
          local l = like{recurrent_dropout = rate, dropout = 0.3, return_sequences = true}
          local w = l:get_weights()
          local plain = like({return_sequences = true}, w)
          local no_rk = like({return_sequences = true}, {w[1], lurn.zeros(w[2]:shape()), w[3]})
          local x, zeros = lurn.randn{2, 4, 2}, lurn.zeros{2, 4, 2}
          assert_all_close(plain(x):totable(), l(x):totable(), 1e-6)
          -- one mask for all gates, one per gate (Keras' implementation 1) on either side
          local cases = {{{recurrent_dropout = rate}, no_rk, x}, {{dropout = rate}, plain, zeros},
                         {{dropout = rate, recurrent_dropout = rate}, no_rk, zeros}}
          for _, case in ipairs(cases) do
            case[1].return_sequences = true
            local dropped = like(case[1], w)
            assert_all_close(case[2](case[3]):totable(), dropped._core:forward(x, true):totable(), 1e-6)
          end
        end)

      it("refuses what it does not support, naming the option", function()
        assert.has_error(function() cls(4, {stateful = true}) end)
        local ok, err = pcall(cls, 4, {return_state = 1})
        assert.is_false(ok)
        assert.matches("return_state must be true or false", err)
        ok, err = pcall(cls, 4, {dropout = 1})
        assert.matches("dropout must be a number in %[0, 1%)", err)
        ok, err = pcall(cls, 4, {recurrent_dropout = -0.1})
        assert.matches("recurrent_dropout must be a number in %[0, 1%)", err)
        ok, err = pcall(cls, 4, {activation = "gelu"})
        assert.matches("activation must be one of", err)
        ok, err = pcall(cls, 0)
        assert.matches("units must be a positive integer", err)
        ok, err = pcall(cls, 4, {kernel_constraint = "max_norm"})
        assert.is_false(ok)
        local l = cls(2)
        ok, err = pcall(function() l:build{5} end)
        assert.matches("%(batch, timesteps, features%)", err)
      end)

      it("converts PyTorch's weights to Keras' layout (weights_from_torch)", function()
        local u, f = 2, 3
        local kt = name == "SimpleRNN" and 1 or k
        local wih, whh = lurn.randn{kt * u, f}, lurn.randn{kt * u, u}
        local bih, bhh = lurn.randn{kt * u}, lurn.randn{kt * u}
        local w = cls.weights_from_torch{weight_ih_l0 = wih, weight_hh_l0 = whh, bias_ih_l0 = bih, bias_hh_l0 = bhh}
        assert.same({f, kt * u}, w[1]:shape())
        assert.same({u, kt * u}, w[2]:shape())
        -- Keras block g comes from PyTorch block order[g]
        local order = ({SimpleRNN = {1}, LSTM = {1, 2, 3, 4}, GRU = {2, 1, 3}})[name]
        for g, src in ipairs(order) do
          for j = 1, u do
            for i = 1, f do close(wih:get((src - 1) * u + j, i), w[1]:get(i, (g - 1) * u + j), 0) end
            for i = 1, u do close(whh:get((src - 1) * u + j, i), w[2]:get(i, (g - 1) * u + j), 0) end
            if name == "GRU" then
              close(bih:get((src - 1) * u + j), w[3]:get(1, (g - 1) * u + j), 0)
              close(bhh:get((src - 1) * u + j), w[3]:get(2, (g - 1) * u + j), 0)
            else
              close(bih:get((src - 1) * u + j) + bhh:get((src - 1) * u + j), w[3]:get((g - 1) * u + j), 1e-6)
            end
          end
        end
        local l = cls(u)
        l:build{4, f}
        l:set_weights(w)
        assert.equal(2, #cls.weights_from_torch{weight_ih_l0 = wih, weight_hh_l0 = whh})
        local ok, err = pcall(cls.weights_from_torch, {weight_ih_l0 = wih})
        assert.is_false(ok)
        assert.matches("weight_hh_l0", err)
      end)
    end)
  end

  it("LSTM's forget bias starts at one (unit_forget_bias), and not when it is false", function()
    local l = L.LSTM(2)
    l:build{3, 1}
    assert.same({0, 0, 1, 1, 0, 0, 0, 0}, l:get_weights()[3]:totable())
    local off = L.LSTM(2, {unit_forget_bias = false})
    off:build{3, 1}
    assert.same({0, 0, 0, 0, 0, 0, 0, 0}, off:get_weights()[3]:totable())

    -- bias_initializer acts on a (units) weight and a (2 units) one, as Keras: their fans
    local u = 50
    local g = L.LSTM(u, {bias_initializer = "glorot_uniform"})
    g:build{3, 1}
    local b = g:get_weights()[3]:totable()
    local function max_abs(from, to)
      local m = 0
      for j = from, to do m = math.max(m, math.abs(b[j])) end
      return m
    end
    -- glorot_uniform on a 1-D weight of n: limit sqrt(3 / n)
    assert(max_abs(1, u) <= math.sqrt(3 / u) and max_abs(1, u) > math.sqrt(3 / (4 * u)))
    for j = u + 1, 2 * u do assert.equal(1, b[j]) end
    assert(max_abs(2 * u + 1, 4 * u) <= math.sqrt(3 / (2 * u)) and max_abs(2 * u + 1, 4 * u) > math.sqrt(3 / (4 * u)))
  end)

  it("GRU with reset_after = false: bias (3 units) on the input side, r applied before the product", function()
    local l = L.GRU(1, {return_sequences = true, reset_after = false})
    l:build{2, 1}
    local k, r, b = {0.3, -0.2, 0.8}, {0.4, 0.6, -0.7}, {0.1, 0.5, -0.3}
    l:set_weights{lurn.tensor{k}, lurn.tensor{r}, lurn.tensor(b)}
    assert.same({3}, l:get_weights()[3]:shape())
    local h, out = 0, {}
    for t, xv in ipairs{0.5, -1.0} do
      local z = sigmoid(xv * k[1] + b[1] + h * r[1])
      local rr = sigmoid(xv * k[2] + b[2] + h * r[2])
      local hh = math.tanh(xv * k[3] + b[3] + (rr * h) * r[3])
      h = z * h + (1 - z) * hh
      out[t] = {h}
    end
    assert_all_close({out}, l(lurn.tensor{{{0.5}, {-1.0}}}):totable())
  end)

  for _, mode in ipairs{{}, {return_sequences = true, go_backwards = true}, {use_bias = false}} do
    it("GRU with reset_after = false passes a gradient check" .. (next(mode) and " (sequences, backwards / no bias)" or ""),
      function()
        mode.reset_after = false
        local l = random_layer(L.GRU, 3, 4, 2, mode)
        gradcheck.check_layer(l, lurn.randn{3, 4, 2})
      end)
  end

  it("the C core refuses activations its cells cannot differentiate from their output, and a bad dropout", function()
    local zeros = {kind = "zeros"}
    local function make(kind, opts)
      opts.units = 2
      opts.kernel_initializer, opts.recurrent_initializer, opts.bias_initializer = zeros, zeros, zeros
      return pcall(lurn.core.recurrent_layer, kind, opts)
    end
    local ok, err = make("LSTM", {recurrent_activation = "gelu"})
    assert.is_false(ok)
    assert.matches("LSTM: recurrent_activation 'gelu' is not supported", err)
    ok, err = make("SimpleRNN", {activation = "elu"})
    assert.matches("SimpleRNN: activation 'elu' is not supported", err)
    ok, err = make("GRU", {dropout = 1.5})
    assert.matches("GRU: dropout must be in %[0, 1%)", err)
  end)

  it("carries a NaN input through to the output, relu cells included (never a quietly finite number)", function()
    for _, act in ipairs{"relu", "tanh"} do
      local l = L.SimpleRNN(2, {activation = act})
      l:build{2, 1}
      local y = l(lurn.tensor{{{0 / 0}, {1}}})
      for j = 1, 2 do assert(y:get(1, j) ~= y:get(1, j), act .. ": expected NaN, got " .. y:get(1, j)) end
    end
  end)

  it("a tiny sequence task trains: the sign of the first timestep, remembered to the end", function()
    local n, steps = 64, 6
    local x = lurn.randn{n, steps, 1}
    local y = lurn.zeros{n, 1}
    for i = 1, n do y:set(i, 1, x:get(i, 1, 1) > 0 and 1 or 0) end
    for _, name in ipairs{"SimpleRNN", "LSTM", "GRU"} do
      lurn.manual_seed(3)
      local model = lurn.Sequential{L[name](8, {input_shape = {steps, 1}}), L.Dense(1, {activation = "sigmoid"})}
      model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.02}, loss = "binary_crossentropy",
                    metrics = {"accuracy"}}
      local history = model:fit(x, y, {epochs = 40, batch_size = 16, verbose = 0})
      local losses = history.history.loss
      assert(losses[#losses] < 0.5 * losses[1], ("%s did not learn: loss %.3f -> %.3f"):format(name, losses[1],
        losses[#losses]))
    end
  end)
end)

describe("the orthogonal initializer", function()
  it("gives orthonormal rows or columns, times gain, as Keras' Orthogonal", function()
    lurn.manual_seed(5)
    for _, shape in ipairs{{4, 12}, {12, 4}, {5, 5}} do
      local l = L.Dense(shape[2], {kernel_initializer = lurn.initializers.Orthogonal{gain = 2.0}})
      l:build{shape[1]}
      local w = l:get_weights()[1]
      local p = shape[1] <= shape[2] and lurn.matmul(w, w:t()) or lurn.matmul(w:t(), w)
      local m = math.min(shape[1], shape[2])
      for i = 1, m do
        for j = 1, m do close(i == j and 4 or 0, p:get(i, j), 1e-4) end
      end
    end
  end)

  it("is repeatable with a seed and round-trips through serialize", function()
    local I = lurn.initializers
    local a, b = L.Dense(3, {kernel_initializer = I.Orthogonal{seed = 9}}), L.Dense(3, {kernel_initializer = "orthogonal"})
    a:build{3}
    b:build{3}
    local c = L.Dense(3, {kernel_initializer = I.Orthogonal{seed = 9}})
    c:build{3}
    assert.same(a:get_weights()[1]:totable(), c:get_weights()[1]:totable())
    assert.same({class_name = "Orthogonal", config = {gain = 1.0, seed = 9}}, I.serialize(I.Orthogonal{seed = 9}))
    assert.equal("Orthogonal", I.deserialize{class_name = "Orthogonal", config = {gain = 0.5}}.class_name)
  end)

  it("refuses a 1-D weight, as Keras", function()
    local l = L.Dense(3, {bias_initializer = "orthogonal"})
    local ok, err = pcall(function() l:build{2} end)
    assert.is_false(ok)
    assert.matches("at least two dimensions", err)
  end)
end)

describe("recurrent layers and Keras' extra settings", function()
  local lurn = require "lurn"
  local L = lurn.layers
  it("take implementation = 2 and time_major = false (no-ops in every Keras 2 config), refuse other values", function()
    assert.equal(4, L.LSTM(4, {implementation = 2, time_major = false}).units)
    assert.error_matches(function() L.GRU(4, {implementation = 1}) end, "implementation = 1")
    assert.error_matches(function() L.GRU(4, {time_major = true}) end, "time_major = true")
  end)
  it("weights_from_torch refuses the keys of another layer or direction instead of ignoring them", function()
    local state = {weight_ih_l0 = lurn.randn{8, 3}, weight_hh_l0 = lurn.randn{8, 2},
                   weight_ih_l0_reverse = lurn.randn{8, 3}}
    assert.error_matches(function() L.LSTM.weights_from_torch(state) end, "holds weight_ih_l0_reverse")
  end)
end)

describe("the gates' 8-wide e^x and tanh", function()
  local lurn = require "lurn"
  local L = lurn.layers
  it("give an LSTM of 16 units the numbers of its equations in double precision, to 1e-6", function()
    lurn.manual_seed(31)
    local lstm = L.LSTM(16)
    lstm:build({1, 3})
    local x = lurn.randn{2, 1, 3} * 2
    local y = lstm._core:forward(x, false)
    local kernel, _, bias = table.unpack(lstm:get_weights())
    local function sigmoid(v) return 1 / (1 + math.exp(-v)) end
    for n = 1, 2 do
      for j = 1, 16 do
        local function gate(block)
          local s = bias:get(block * 16 + j)
          for f = 1, 3 do s = s + x:get(n, 1, f) * kernel:get(f, block * 16 + j) end
          return s
        end
        local c = sigmoid(gate(0)) * math.tanh(gate(2))  -- i * g, from a zero state
        local h = sigmoid(gate(3)) * math.tanh(c)
        assert.is_true(math.abs(y:get(n, j) - h) <= 1e-6 * math.max(1, math.abs(h)), ("%d %d"):format(n, j))
      end
    end
  end)

  it("pass NaN on at every position of the 8-wide blocks", function()
    local gru = L.GRU(16, {return_sequences = true})
    gru:build({2, 3})
    local x = lurn.randn{1, 2, 3}
    x:set(1, 1, 2, 0 / 0)
    local y = gru._core:forward(x, false)
    for j = 1, 16 do assert.is_true(y:get(1, 1, j) ~= y:get(1, 1, j), "unit " .. j) end
  end)
end)
