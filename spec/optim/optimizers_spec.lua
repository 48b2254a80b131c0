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

-- Nadam as keras.optimizers.Nadam: the momentum schedule u_t = beta_1 (1 - 0.5 * 0.96^t)
-- and its running product (one product per optimizer, shared by the parameters).
local function nadam(lr, b1, b2, eps)
  local function u(t) return b1 * (1 - 0.5 * 0.96 ^ t) end
  return function(s, w, g, t)
    s.m, s.v = s.m or zeros_like(w), s.v or zeros_like(w)
    local product = 1
    for i = 1, t do product = product * u(i) end
    local product_next = product * u(t + 1)
    for k = 1, #w do
      s.m[k] = b1 * s.m[k] + (1 - b1) * g[k]
      s.v[k] = b2 * s.v[k] + (1 - b2) * g[k] * g[k]
      local m_hat = u(t + 1) * s.m[k] / (1 - product_next) + (1 - u(t)) * g[k] / (1 - product)
      local v_hat = s.v[k] / (1 - b2 ^ t)
      w[k] = w[k] - lr * m_hat / (math.sqrt(v_hat) + eps)
    end
  end
end

local function adamax(lr, b1, b2, eps)
  return function(s, w, g, t)
    s.m, s.u = s.m or zeros_like(w), s.u or zeros_like(w)
    for k = 1, #w do
      s.m[k] = b1 * s.m[k] + (1 - b1) * g[k]
      s.u[k] = math.max(b2 * s.u[k], math.abs(g[k]))
      w[k] = w[k] - lr / (1 - b1 ^ t) * s.m[k] / (s.u[k] + eps)
    end
  end
end

local function adadelta(lr, rho, eps)
  return function(s, w, g)
    s.acc_g, s.acc_d = s.acc_g or zeros_like(w), s.acc_d or zeros_like(w)
    for k = 1, #w do
      s.acc_g[k] = rho * s.acc_g[k] + (1 - rho) * g[k] ^ 2
      local delta = -math.sqrt(s.acc_d[k] + eps) / math.sqrt(s.acc_g[k] + eps) * g[k]
      s.acc_d[k] = rho * s.acc_d[k] + (1 - rho) * delta ^ 2
      w[k] = w[k] + lr * delta
    end
  end
end

-- FTRL-Proximal as keras.optimizers.Ftrl; o holds the options with Keras' names.
local function ftrl(o)
  local lr, p = o.learning_rate, o.learning_rate_power or -0.5
  local l1, l2 = o.l1 or 0, (o.l2 or 0) + (o.beta or 0) / (2 * lr)
  return function(s, w, g)
    s.n, s.z = s.n or zeros_like(w, o.initial_accumulator_value or 0.1), s.z or zeros_like(w)
    for k = 1, #w do
      local shrunk = g[k] + 2 * (o.shrinkage or 0) * w[k]
      local n = s.n[k] + g[k] ^ 2
      s.z[k] = s.z[k] + shrunk - (n ^ -p - s.n[k] ^ -p) / lr * w[k]
      s.n[k] = n
      if math.abs(s.z[k]) <= l1 then
        w[k] = 0
      else
        local sign = s.z[k] > 0 and 1 or -1
        w[k] = (sign * l1 - s.z[k]) / (n ^ -p / lr + 2 * l2)
      end
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

  it("Nadam with Keras' defaults and with other settings", function()
    check(O.Nadam(), nadam(0.001, 0.9, 0.999, 1e-7), 3, "Nadam")
    check(O.Nadam{learning_rate = 0.05, beta_1 = 0.8, beta_2 = 0.9, epsilon = 1e-3}, nadam(0.05, 0.8, 0.9, 1e-3), 3,
      "Nadam")
  end)

  it("Adamax keeps the decayed maximum of |g|", function()
    check(O.Adamax(), adamax(0.001, 0.9, 0.999, 1e-7), 3, "Adamax")
    check(O.Adamax{learning_rate = 0.1, beta_1 = 0.5, beta_2 = 0.5, epsilon = 1e-2}, adamax(0.1, 0.5, 0.5, 1e-2), 3,
      "Adamax")
  end)

  it("Adadelta", function()
    check(O.Adadelta(), adadelta(0.001, 0.95, 1e-7), 3, "Adadelta")
    check(O.Adadelta{learning_rate = 1, rho = 0.5, epsilon = 1e-3}, adadelta(1, 0.5, 1e-3), 3, "Adadelta")
  end)

  it("Ftrl with Keras' defaults", function()
    check(O.Ftrl(), ftrl{learning_rate = 0.001}, 3, "Ftrl")
  end)

  it("Ftrl with L1 (weights set to 0), L2, shrinkage, beta and a fixed learning rate", function()
    check(O.Ftrl{learning_rate = 0.5, l1_regularization_strength = 0.3}, ftrl{learning_rate = 0.5, l1 = 0.3}, 3,
      "Ftrl l1")
    check(O.Ftrl{learning_rate = 0.5, l2_regularization_strength = 0.2, l2_shrinkage_regularization_strength = 0.1,
                 beta = 0.4, initial_accumulator_value = 1},
      ftrl{learning_rate = 0.5, l2 = 0.2, shrinkage = 0.1, beta = 0.4, initial_accumulator_value = 1}, 3, "Ftrl l2")
    check(O.Ftrl{learning_rate = 0.5, learning_rate_power = 0}, ftrl{learning_rate = 0.5, learning_rate_power = 0}, 3,
      "Ftrl power 0")
    -- the L1 case is exercised: some weights are exactly 0 after one step
    local params = tensors(W0)
    O.Ftrl{learning_rate = 0.5, l1_regularization_strength = 0.3}._c:step(params, tensors(G[1]))
    assert.equal(0, params[2]:reshape{-1}:get(2))
  end)

  it("the new optimizers clip gradients", function()
    check(O.Nadam{learning_rate = 0.1, clipnorm = 0.5}, clipped(nadam(0.1, 0.9, 0.999, 1e-7), 0.5), 2, "Nadam clipnorm")
    check(O.Adamax{learning_rate = 0.1, clipvalue = 0.3}, clipped(adamax(0.1, 0.9, 0.999, 1e-7), nil, 0.3), 2,
      "Adamax clipvalue")
    check(O.Adadelta{learning_rate = 1, clipnorm = 1.2}, clipped(adadelta(1, 0.95, 1e-7), 1.2), 2, "Adadelta clipnorm")
    check(O.Ftrl{learning_rate = 0.5, clipvalue = 0.3}, clipped(ftrl{learning_rate = 0.5}, nil, 0.3), 2,
      "Ftrl clipvalue")
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
    for _, name in ipairs{"Nadam", "Adamax"} do
      local c = cfg(O[name]())
      close(0.001, c.learning_rate)
      close(0.9, c.beta_1)
      close(0.999, c.beta_2)
      close(1e-7, c.epsilon, 1e-12)
    end
    local d = cfg(O.Adadelta())
    close(0.001, d.learning_rate)
    close(0.95, d.rho)
    close(1e-7, d.epsilon, 1e-12)
    local f = cfg(O.Ftrl())
    close(0.001, f.learning_rate)
    close(-0.5, f.learning_rate_power)
    close(0.1, f.initial_accumulator_value)
    assert.same({0, 0, 0, 0}, {f.l1_regularization_strength, f.l2_regularization_strength,
                               f.l2_shrinkage_regularization_strength, f.beta})
    assert.equal("Adam", cfg(O.get("adam")).name)
    for _, name in ipairs{"Nadam", "Adamax", "Adadelta", "Ftrl"} do
      assert.equal(name, cfg(O.get(name:lower())).name)
      assert.equal(name, cfg(O.get(name)).name)
    end
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

  it("Ftrl checks its learning_rate_power (<= 0) and learning rate (> 0), also when set live", function()
    assert.error_matches(function() O.Ftrl{learning_rate_power = 0.5} end, "learning_rate_power must be <= 0")
    assert.error_matches(function() O.Ftrl{learning_rate = 0} end, "Ftrl's learning_rate must be > 0")
    assert.error_matches(function() O.Ftrl{l1_regularization_strength = -1} end, "must be >= 0")
    local opt = O.Ftrl()
    opt.learning_rate_power = -1
    assert.equal(-1, opt.learning_rate_power)
    assert.error_matches(function() opt.learning_rate_power = 0.5 end, "learning_rate_power must be a number <= 0")
    assert.error_matches(function() opt.beta = -1 end, "beta must be a number >= 0")
    opt.learning_rate = 0
    assert.error_matches(function() opt._c:step({lurn.zeros{2}}, {lurn.ones{2}}) end,
      "Ftrl's learning_rate must be > 0")
  end)

  it("the new optimizers train a model by name in compile, learning_rate live", function()
    for _, name in ipairs{"nadam", "adamax", "adadelta", "ftrl"} do
      lurn.manual_seed(7)
      local model = lurn.Sequential{lurn.layers.Dense(1, {input_shape = {2}})}
      model:compile{optimizer = name, loss = "mse"}
      model.optimizer.learning_rate = 0.1
      local x = lurn.tensor{{0, 1}, {1, 0}, {1, 1}, {0, 0}}
      local y = lurn.tensor{{1}, {2}, {3}, {0}}
      local first = model:evaluate(x, y, {verbose = 0}).loss
      model:fit(x, y, {epochs = 20, verbose = 0})
      local last = model:evaluate(x, y, {verbose = 0}).loss
      assert.is_true(last < first, name .. " did not lower the loss")
      assert.equal(20, model.optimizer.iterations)
    end
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
    assert.error_matches(function() O.get("lion") end, "unknown optimizer 'lion' %(known: sgd, adam")
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
