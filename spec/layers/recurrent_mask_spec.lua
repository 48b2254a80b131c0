-- SimpleRNN, LSTM, GRU and Bidirectional under a mask of their input's steps (Keras 2's
-- backend.rnn): at a masked step a sample keeps its state and repeats its previous output
-- (zeros before its first real step). Checked as the classic property (a padded sequence
-- under its mask gives what its real steps alone give, padding after, before or between),
-- an all-ones mask giving exactly the unmasked numbers, finite differences with a mixed
-- mask in every mode, an LSTM computed by hand in Lua, and Bidirectional against its two
-- layers run by hand.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"
local L = lurn.layers

local function close(expected, actual, tol, what)
  assert(math.abs(expected - actual) <= (tol or 1e-5),
    ("%sexpected %.9g, got %.9g"):format(what and what .. ": " or "", expected, actual))
end

local function sigmoid(v) return 1 / (1 + math.exp(-v)) end

local CELLS = {
  {"SimpleRNN", {}}, {"LSTM", {}}, {"GRU", {}}, {"GRU", {reset_after = false}},
}
local MODES = {{}, {return_sequences = true}, {go_backwards = true}, {go_backwards = true, return_sequences = true}}

local function merged(a, b)
  local o = {}
  for k, v in pairs(a) do o[k] = v end
  for k, v in pairs(b) do o[k] = v end
  return o
end

local function describe_opts(opts)
  local parts = {}
  for key, v in pairs(opts) do parts[#parts + 1] = key .. "=" .. tostring(v) end
  table.sort(parts)
  return "{" .. table.concat(parts, ", ") .. "}"
end

-- A layer built for (steps, features) with random weights; twin(layer, steps) the same
-- layer (weights, options) built for another number of steps.
local function random_layer(name, units, steps, features, opts)
  local layer = L[name](units, opts)
  layer:build{steps, features}
  local w = layer:get_weights()
  for i, t in ipairs(w) do w[i] = lurn.randn(t:shape()) * 0.5 end
  layer:set_weights(w)
  return layer
end
local function twin(name, layer, units, steps, features, opts)
  local t = L[name](units, opts)
  t:build{steps, features}
  t:set_weights(layer:get_weights())
  return t
end

-- The steps (1-based) whose mask is 1 in row n of a mask given as a Lua table.
local function real_steps(mask, n)
  local s = {}
  for t, v in ipairs(mask[n]) do if v == 1 then s[#s + 1] = t end end
  return s
end

-- Sample n of x (a Lua table) reduced to the given steps, as a (1, #steps, features) tensor.
local function compact(xt, n, steps)
  local rows = {}
  for i, t in ipairs(steps) do rows[i] = xt[n][t] end
  return lurn.tensor{rows}
end

-- The processing order of input times 1..T.
local function order(T, backwards)
  local o = {}
  for s = 1, T do o[s] = backwards and T + 1 - s or s end
  return o
end

-- Checks the masked output of sample n (y, a Lua table) against the layer run on the
-- sample's real steps alone (yu, its output as a Lua table for one sample): the last
-- state, or each processed step's output, which at a masked step repeats the output
-- before (zeros before the first real step).
local function check_sample(y, yu, mask, n, sequences, backwards, units, what)
  local T = #mask[n]
  if not sequences then
    for j = 1, units do close(yu and yu[j] or 0, y[n][j], 1e-5, what) end
    return
  end
  local k = 0
  for s, t in ipairs(order(T, backwards)) do
    if mask[n][t] == 1 then k = k + 1 end
    for j = 1, units do
      close(k > 0 and yu[k][j] or 0, y[n][s][j], 1e-5, ("%s, sample %d, step %d"):format(what, n, s))
    end
  end
end

describe("recurrent layers with a mask", function()
  before_each(function() lurn.manual_seed(23) end)

  local N, T, F, U = 3, 5, 2, 3
  local PADDINGS = {
    post = {{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}, {1, 0, 0, 0, 0}},
    pre = {{1, 1, 1, 1, 1}, {0, 0, 1, 1, 1}, {0, 0, 0, 0, 1}},
    holes = {{1, 0, 1, 1, 0}, {0, 1, 1, 0, 1}, {1, 1, 0, 0, 1}},
  }

  for _, cell in ipairs(CELLS) do
    local name, cell_opts = cell[1], cell[2]
    for _, mode in ipairs(MODES) do
      local opts = merged(cell_opts, mode)
      local label = name .. " " .. describe_opts(opts)
      local sequences, backwards = mode.return_sequences == true, mode.go_backwards == true

      it(label .. ": a mask of all ones gives exactly the unmasked numbers and gradients", function()
        local l = random_layer(name, U, T, F, opts)
        local x, ones = lurn.randn{N, T, F}, lurn.ones{N, T}
        local y0 = l._core:forward(x, false)
        local dy = lurn.randn(y0:shape())
        local dx0 = l._core:backward(x, y0, dy)
        local g0 = {}
        for i, g in ipairs(l:gradients()) do g0[i] = g:totable() end
        local y1 = l._core:forward(x, false, ones)
        local dx1 = l._core:backward(x, y1, dy, ones)
        assert.same(y0:totable(), y1:totable())
        assert.same(dx0:totable(), dx1:totable())
        for i, g in ipairs(l:gradients()) do assert.same(g0[i], g:totable()) end
      end)

      for kind, mask in pairs(PADDINGS) do
        it(label .. ": padding " .. kind .. " under its mask gives what the real steps alone give", function()
          local l = random_layer(name, U, T, F, opts)
          local x = lurn.randn{N, T, F}
          local xt = x:totable()
          local y = l._core:forward(x, false, lurn.tensor(mask)):totable()
          for n = 1, N do
            local steps = real_steps(mask, n)
            local alone = twin(name, l, U, #steps, F, opts)
            local yu = alone._core:forward(compact(xt, n, steps), false):totable()[1]
            check_sample(y, yu, mask, n, sequences, backwards, U, label .. " " .. kind)
          end
        end)
      end

      it(label .. ": a sample with every step masked gives zeros", function()
        local l = random_layer(name, U, T, F, opts)
        local mask = {{1, 1, 0, 1, 1}, {0, 0, 0, 0, 0}}
        local y = l._core:forward(lurn.randn{2, T, F}, false, lurn.tensor(mask)):totable()
        check_sample(y, nil, mask, 2, sequences, backwards, U, label)
      end)

      it(label .. ": passes a gradient check with a mixed mask; no gradient reaches masked inputs", function()
        local l = random_layer(name, U, T, F, opts)
        local mask = PADDINGS.holes
        local _, dx = gradcheck.check_layer(l, lurn.randn{N, T, F}, {mask = lurn.tensor(mask)})
        local d = dx:totable()
        for n = 1, N do
          for t = 1, T do
            if mask[n][t] == 0 then
              for j = 1, F do assert.are.equal(0, d[n][t][j]) end
            end
          end
        end
      end)
    end
  end

  for _, cell in ipairs(CELLS) do
    local name, cell_opts = cell[1], cell[2]
    local opts = merged(cell_opts, {dropout = 0.25, recurrent_dropout = 0.25, return_sequences = true})
    it(name .. " " .. describe_opts(opts) .. ": passes a gradient check in training with a mixed mask", function()
      local l = random_layer(name, U, T, F, opts)
      gradcheck.check_layer(l, lurn.randn{N, T, F}, {mask = lurn.tensor(PADDINGS.holes), seed = 5})
    end)
  end

  it("LSTM by hand: a masked step keeps h and c and repeats the output (zeros before the first real step)", function()
    local l = L.LSTM(1, {return_sequences = true})
    l:build{4, 1}
    local k, r, b = {0.3, -0.2, 0.8, 0.5}, {0.4, 0.6, -0.7, 0.2}, {0.1, 1.0, -0.3, 0.2}
    l:set_weights{lurn.tensor{k}, lurn.tensor{r}, lurn.tensor(b)}
    local xs, mask = {0.5, -1.0, 2.0, 0.7}, {0, 1, 0, 1}
    local h, c, out = 0, 0, {}
    for t, xv in ipairs(xs) do
      if mask[t] == 1 then
        local z = {}
        for g = 1, 4 do z[g] = xv * k[g] + h * r[g] + b[g] end
        local i, f, cc, o = sigmoid(z[1]), sigmoid(z[2]), math.tanh(z[3]), sigmoid(z[4])
        c = f * c + i * cc
        h = o * math.tanh(c)
      end
      out[t] = h
    end
    assert.are.equal(0, out[1])
    local y = l._core:forward(lurn.tensor{{{xs[1]}, {xs[2]}, {xs[3]}, {xs[4]}}}, false, lurn.tensor{mask})
    for t = 1, 4 do close(out[t], y:get(1, t, 1), 1e-6, "step " .. t) end
    assert.are.equal(y:get(1, 2, 1), y:get(1, 3, 1)) -- the masked step repeats, exactly
  end)

  it("a mask that is not (batch, steps) of 0 and 1 is refused, naming the problem", function()
    local l = random_layer("GRU", U, T, F, {})
    local x = lurn.randn{N, T, F}
    assert.has_error(function() l._core:forward(x, false, lurn.ones{N, T + 1}) end,
      "bad argument #3 to 'forward' (the mask must be a packed (batch, steps) tensor of x's first two sizes)")
    assert.has_error(function() l._core:forward(x, false, lurn.ones{N, T} * 2) end,
      "bad argument #3 to 'forward' (the mask must hold 0 (padding) and 1 (a real step))")
  end)
end)

describe("Bidirectional with a mask", function()
  before_each(function() lurn.manual_seed(29) end)

  local N, T, F, U = 3, 5, 2, 3
  local MASK = {{1, 1, 1, 0, 0}, {0, 1, 1, 1, 1}, {1, 0, 1, 1, 0}}

  for _, case in ipairs{{"LSTM", true, "concat"}, {"GRU", false, "concat"}, {"SimpleRNN", true, "sum"},
                        {"GRU", true, "ave"}, {"LSTM", false, "mul"}} do
    local cell, sequences, merge = case[1], case[2], case[3]
    local label = ("%s, return_sequences = %s, %s"):format(cell, tostring(sequences), merge)

    -- Keras' Bidirectional sets its layers' zero_output_for_mask: with return_sequences both
    -- outputs are 0 at masked steps (a lone layer repeats its last output there)
    it(label .. ": equals its two layers run with the mask, the twin's sequence put back in time order, "
       .. "0 at masked steps", function()
      local b = L.Bidirectional(L[cell](U, {return_sequences = sequences}), {merge_mode = merge})
      b:build{T, F}
      local w = b:get_weights()
      for i, t in ipairs(w) do w[i] = lurn.randn(t:shape()) * 0.5 end
      b:set_weights(w)
      local x, mask = lurn.randn{N, T, F}, lurn.tensor(MASK)
      local out = b._core:forward(x, false, mask):totable()
      local yf = b.forward_layer._core:forward(x, false, mask):totable()
      local yb = b.backward_layer._core:forward(x, false, mask):totable()
      local combine = ({
        sum = function(a, c) return a + c end, mul = function(a, c) return a * c end,
        ave = function(a, c) return (a + c) * 0.5 end,
      })[merge]
      local function expect(o, f, r)
        for j = 1, U do
          if merge == "concat" then
            assert.are.equal(f[j], o[j])
            assert.are.equal(r[j], o[U + j])
          else
            close(combine(f[j], r[j]), o[j], 1e-6)
          end
        end
      end
      local zeros = {}
      for j = 1, U do zeros[j] = 0 end
      for n = 1, N do
        if sequences then
          for t = 1, T do
            local real = MASK[n][t] == 1
            expect(out[n][t], real and yf[n][t] or zeros, real and yb[n][T + 1 - t] or zeros)
          end
        else
          expect(out[n], yf[n], yb[n])
        end
      end
    end)

    it(label .. ": passes a gradient check with the mask", function()
      local b = L.Bidirectional(L[cell](U, {return_sequences = sequences}), {merge_mode = merge})
      b:build{T, F}
      local w = b:get_weights()
      for i, t in ipairs(w) do w[i] = lurn.randn(t:shape()) * 0.5 end
      b:set_weights(w)
      -- h = 3e-3: at the default 1e-3, float32 round-off over the twin's five LSTM steps
      -- moved one small recurrent-kernel derivative (0.003 of a largest 0.1) just past the
      -- tolerance; larger steps agree
      gradcheck.check_layer(b, lurn.randn{N, T, F}, {mask = lurn.tensor(MASK), h = 3e-3})
    end)
  end
end)
