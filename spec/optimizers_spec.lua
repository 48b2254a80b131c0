-- Optimizers: one and two steps of every update rule against the Keras formulas
-- computed here in doubles, gradient clipping, Keras defaults, settings that read and
-- write through (learning_rate), and errors.
local lurn = require "lurn"

local O = lurn.optimizers

local function close(expected, actual, tol, what)
  assert(math.abs(expected - actual) <= (tol or 2e-6) * math.max(1, math.abs(expected)),
    ("%sexpected %.9g, got %.9g"):format(what and (what .. ": ") or "", expected, actual))
end

-- Two parameters (a vector and a matrix, to check that state is kept per position) and
-- the gradients of three steps, as flat Lua lists.
local W0 = {{0.5, -1.0, 2.0}, {0.3, -0.2, 0.1, 1.5}}
local G = {
  {{0.1, -0.4, 2.0}, {1.0, 0.0, -0.3, 0.05}},
  {{-0.2, 0.01, 1.5}, {0.5, 0.2, -0.3, -3.0}},
  {{0.7, -0.05, -1.0}, {-0.25, 0.6, 0.0, 0.4}},
}

local function tensors(lists)
  return {lurn.tensor(lists[1]), lurn.tensor(lists[2]):reshape{2, 2}:contiguous()}
end

local function copy(lists)
  local out = {}
  for i, l in ipairs(lists) do out[i] = table.move(l, 1, #l, 1, {}) end
  return out
end

local function flat(t) return t:reshape{-1}:totable() end

-- Runs `steps` steps of opt on fresh parameters and of `rule` on Lua copies; compares
-- after each step. rule(state, w, g, t) updates the list w in place (state is per
-- parameter position).
local function check(opt, rule, steps, what)
  local params = tensors(W0)
  local w = copy(W0)
  local state = {{}, {}}
  for t = 1, steps or 2 do
    local grads = tensors(G[t])
    opt._c:step(params, grads)
    for i = 1, 2 do rule(state[i], w[i], copy(G[t])[i], t) end
    for i = 1, 2 do
      local got = flat(params[i])
      for k = 1, #w[i] do close(w[i][k], got[k], 2e-6, ("%s step %d, parameter %d[%d]"):format(what, t, i, k)) end
    end
  end
  assert.equal(steps or 2, opt.iterations)
end

local function zeros_like(list, value)
  local z = {}
  for k = 1, #list do z[k] = value or 0 end
  return z
end

-- Keras update rules in doubles.
local function sgd(lr, mu, nesterov)
  return function(s, w, g)
    s.v = s.v or zeros_like(w)
    for k = 1, #w do
      if mu == 0 then
        w[k] = w[k] - lr * g[k]
      else
        s.v[k] = mu * s.v[k] - lr * g[k]
        w[k] = w[k] + (nesterov and (mu * s.v[k] - lr * g[k]) or s.v[k])
      end
    end
  end
end

local function adam(lr, b1, b2, eps, amsgrad, weight_decay)
  return function(s, w, g, t)
    s.m, s.v, s.vhat = s.m or zeros_like(w), s.v or zeros_like(w), s.vhat or zeros_like(w)
    local alpha = lr * math.sqrt(1 - b2 ^ t) / (1 - b1 ^ t)
    for k = 1, #w do
      if weight_decay then w[k] = w[k] - w[k] * weight_decay * lr end
      s.m[k] = b1 * s.m[k] + (1 - b1) * g[k]
      s.v[k] = b2 * s.v[k] + (1 - b2) * g[k] * g[k]
      local v = s.v[k]
      if amsgrad then
        s.vhat[k] = math.max(s.vhat[k], v)
        v = s.vhat[k]
      end
      w[k] = w[k] - alpha * s.m[k] / (math.sqrt(v) + eps)
    end
  end
end

local function rmsprop(lr, rho, mu, eps)
  return function(s, w, g)
    s.v, s.m = s.v or zeros_like(w), s.m or zeros_like(w)
    for k = 1, #w do
      s.v[k] = rho * s.v[k] + (1 - rho) * g[k] * g[k]
      local step = lr * g[k] / math.sqrt(s.v[k] + eps)
      if mu > 0 then
        s.m[k] = mu * s.m[k] + step
        step = s.m[k]
      end
      w[k] = w[k] - step
    end
  end
end

local function adagrad(lr, init, eps)
  return function(s, w, g)
    s.acc = s.acc or zeros_like(w, init)
    for k = 1, #w do
      s.acc[k] = s.acc[k] + g[k] * g[k]
      w[k] = w[k] - lr * g[k] / math.sqrt(s.acc[k] + eps)
    end
  end
end

-- Keras' clipping of each variable's gradient (norm first, then value) before `rule`.
local function clipped(rule, clipnorm, clipvalue)
  return function(s, w, g, t)
    if clipnorm then
      local ss = 0
      for k = 1, #g do ss = ss + g[k] * g[k] end
      local norm = math.sqrt(ss)
      if norm > clipnorm then
        for k = 1, #g do g[k] = g[k] * clipnorm / norm end
      end
    end
    if clipvalue then
      for k = 1, #g do g[k] = math.min(math.max(g[k], -clipvalue), clipvalue) end
    end
    rule(s, w, g, t)
  end
end

describe("optimizer updates against hand-computed steps", function()
  it("SGD", function()
    check(O.SGD{learning_rate = 0.1}, sgd(0.1, 0), 2, "SGD")
  end)

  it("SGD with momentum", function()
    check(O.SGD{learning_rate = 0.1, momentum = 0.9}, sgd(0.1, 0.9, false), 3, "SGD momentum")
  end)

  it("SGD with Nesterov momentum", function()
    check(O.SGD{learning_rate = 0.1, momentum = 0.9, nesterov = true}, sgd(0.1, 0.9, true), 3, "SGD nesterov")
  end)

  it("Adam with Keras' defaults", function()
    check(O.Adam(), adam(0.001, 0.9, 0.999, 1e-7), 2, "Adam")
  end)

  it("Adam with other settings", function()
    check(O.Adam{learning_rate = 0.05, beta_1 = 0.8, beta_2 = 0.9, epsilon = 1e-3}, adam(0.05, 0.8, 0.9, 1e-3), 2,
      "Adam")
  end)

  it("Adam with amsgrad keeps the running maximum of v", function()
    -- beta_2 = 0.5 lets v fall on the second step where the gradient shrinks
    local plain = O.Adam{learning_rate = 0.1, beta_2 = 0.5}
    local ams = O.Adam{learning_rate = 0.1, beta_2 = 0.5, amsgrad = true}
    check(ams, adam(0.1, 0.9, 0.5, 1e-7, true), 2, "Adam amsgrad")
    check(plain, adam(0.1, 0.9, 0.5, 1e-7, false), 2, "Adam")
    -- and the two differ where v fell (parameter 1, element 2: gradient -0.4 then 0.01)
    local a, b = tensors(W0), tensors(W0)
    local p, q = O.Adam{learning_rate = 0.1, beta_2 = 0.5}, O.Adam{learning_rate = 0.1, beta_2 = 0.5, amsgrad = true}
    for t = 1, 2 do
      p._c:step(a, tensors(G[t]))
      q._c:step(b, tensors(G[t]))
    end
    assert.is_true(math.abs(a[1]:get(2) - b[1]:get(2)) > 1e-3)
  end)

  it("AdamW decays the weights by lr * weight_decay before the Adam step", function()
    check(O.AdamW{learning_rate = 0.01, weight_decay = 0.1}, adam(0.01, 0.9, 0.999, 1e-7, false, 0.1), 2, "AdamW")
    check(O.AdamW(), adam(0.001, 0.9, 0.999, 1e-7, false, 0.004), 2, "AdamW defaults")
  end)

  it("AdamW with amsgrad", function()
    check(O.AdamW{learning_rate = 0.01, beta_2 = 0.5, amsgrad = true}, adam(0.01, 0.9, 0.5, 1e-7, true, 0.004), 2,
      "AdamW amsgrad")
  end)

  it("RMSprop", function()
    check(O.RMSprop{learning_rate = 0.01}, rmsprop(0.01, 0.9, 0, 1e-7), 2, "RMSprop")
    check(O.RMSprop{learning_rate = 0.01, rho = 0.5, epsilon = 1e-2}, rmsprop(0.01, 0.5, 0, 1e-2), 2, "RMSprop rho")
  end)

  it("RMSprop with momentum", function()
    check(O.RMSprop{learning_rate = 0.01, momentum = 0.9}, rmsprop(0.01, 0.9, 0.9, 1e-7), 3, "RMSprop momentum")
  end)

  it("Adagrad with the accumulator starting at 0.1", function()
    check(O.Adagrad{learning_rate = 0.1}, adagrad(0.1, 0.1, 1e-7), 3, "Adagrad")
    check(O.Adagrad{learning_rate = 0.1, initial_accumulator_value = 1, epsilon = 0.01}, adagrad(0.1, 1, 0.01), 2,
      "Adagrad")
  end)

  it("clipnorm rescales each variable's gradient to at most that norm", function()
    -- step 1 norms: 2.04 and 1.05; step 2: 1.51 and 3.06
    check(O.SGD{learning_rate = 0.1, clipnorm = 1.2}, clipped(sgd(0.1, 0), 1.2), 2, "SGD clipnorm")
    check(O.Adam{learning_rate = 0.1, clipnorm = 0.5}, clipped(adam(0.1, 0.9, 0.999, 1e-7), 0.5), 2, "Adam clipnorm")
  end)

  it("clipvalue clamps each gradient element", function()
    check(O.SGD{learning_rate = 0.1, clipvalue = 0.3}, clipped(sgd(0.1, 0), nil, 0.3), 2, "SGD clipvalue")
    check(O.RMSprop{learning_rate = 0.1, clipvalue = 0.3}, clipped(rmsprop(0.1, 0.9, 0, 1e-7), nil, 0.3), 2,
      "RMSprop clipvalue")
  end)

  it("a model's train step is its gradients followed by the optimizer step", function()
    lurn.manual_seed(41)
    local model = lurn.Sequential{lurn.layers.Dense(3, {activation = "tanh", input_shape = {4}}), lurn.layers.Dense(2)}
    model:build()
    local x, y = lurn.randn{5, 4}, lurn.randn{5, 2}
    local loss = {kind = "mean_squared_error"}
    local before = model:get_weights()
    model._core:gradients(loss, x, y)
    local grads = {}
    for _, layer in ipairs(model.layers) do
      for _, g in ipairs(layer:gradients()) do grads[#grads + 1] = g:clone() end
    end
    local opt = O.SGD{learning_rate = 0.5}
    model._core:train_step(loss, opt._c, x, y)
    for i, w in ipairs(model:get_weights()) do
      local want, got = flat((before[i] - grads[i] * 0.5):contiguous()), flat(w)
      for k = 1, #want do close(want[k], got[k], 1e-6, ("weight %d[%d]"):format(i, k)) end
    end
  end)
end)

describe("optimizer settings", function()
  it("have Keras' defaults", function()
    local function cfg(o) return o:get_config() end
    local sgd_cfg = cfg(O.SGD())
    close(0.01, sgd_cfg.learning_rate)
    assert.equal(0, sgd_cfg.momentum)
    assert.is_false(sgd_cfg.nesterov)
    local a = cfg(O.Adam())
    close(0.001, a.learning_rate)
    close(0.9, a.beta_1)
    close(0.999, a.beta_2)
    close(1e-7, a.epsilon, 1e-12)
    assert.is_false(a.amsgrad)
    close(0.004, cfg(O.AdamW()).weight_decay)
    local r = cfg(O.RMSprop())
    close(0.001, r.learning_rate)
    close(0.9, r.rho)
    assert.equal(0, r.momentum)
    local g = cfg(O.Adagrad())
    close(0.001, g.learning_rate)
    close(0.1, g.initial_accumulator_value)
    assert.equal("Adam", cfg(O.get("adam")).name)
    assert.equal("RMSprop", cfg(O.get("RMSprop")).name)
  end)

  it("learning_rate reads and writes through, and the next step uses it", function()
    local opt = O.SGD{learning_rate = 0.1}
    close(0.1, opt.learning_rate)
    opt.learning_rate = 0.5
    assert.equal(0.5, opt.learning_rate)
    local p = {lurn.tensor{1, 2}}
    opt._c:step(p, {lurn.tensor{1, -1}})
    assert.same({0.5, 2.5}, p[1]:totable())
    opt.momentum = 0.9
    close(0.9, opt.momentum)
    close(0.02, O.SGD{lr = 0.02}.learning_rate)  -- Keras 2's alias
  end)

  it("count iterations", function()
    local opt = O.Adam()
    assert.equal(0, opt.iterations)
    local p = {lurn.zeros{2}}
    for _ = 1, 3 do opt._c:step(p, {lurn.ones{2}}) end
    assert.equal(3, opt.iterations)
  end)

  it("reject unknown options, settings and names", function()
    assert.error_matches(function() O.Adam{learning_rat = 0.1} end, "Adam: unknown option 'learning_rat'")
    assert.error_matches(function() O.SGD{beta_1 = 0.9} end, "SGD: unknown option 'beta_1'")
    assert.error_matches(function() O.get("nadam") end, "unknown optimizer 'nadam' %(known: sgd, adam")
    assert.error_matches(function() O.get(42) end, "unknown optimizer number")
    local opt = O.Adam()
    assert.error_matches(function() opt.momentum = 0.9 end, "Adam has no setting 'momentum'")
    assert.error_matches(function() opt.learning_rate = -1 end, "learning_rate must be a number >= 0")
    assert.error_matches(function() opt.learning_rate = "fast" end, "learning_rate must be a number >= 0")
    assert.error_matches(function() O.SGD{learning_rate = -0.1} end, "learning_rate must be >= 0")
    assert.error_matches(function() O.SGD{learning_rate = "x"} end, "'learning_rate' must be a number")
    assert.error_matches(function() O.SGD{clipnorm = -1} end, "clipnorm and clipvalue must be > 0")
    assert.error_matches(function() O.SGD(0.1) end, "SGD: expected an options table")
  end)

  it("reject mismatched parameters and gradients, and parameters that change", function()
    local opt = O.SGD()
    assert.error_matches(function() opt._c:step({lurn.zeros{2}}, {}) end, "1 parameters but 0 gradients")
    assert.error_matches(function() opt._c:step({lurn.zeros{2}}, {lurn.zeros{3}}) end,
      "parameter 1 and its gradient must be packed tensors of the same shape")
    opt._c:step({lurn.zeros{2}}, {lurn.zeros{2}})
    assert.error_matches(function() opt._c:step({lurn.zeros{3}}, {lurn.zeros{3}}) end, "parameters changed")
  end)
end)
