-- Activations by Keras name: known values, numerical stability, finite-difference
-- gradients as a Dense activation and as an Activation layer, and the layer forms
-- ReLU, LeakyReLU, ELU and Softmax with Keras' defaults.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"

local SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805

local function close(expected, actual, tol, what)
  assert(math.abs(expected - actual) <= (tol or 1e-6),
    ("%sexpected %.9g, got %.9g"):format(what and (what .. ": ") or "", expected, actual))
end

local function sigmoid(z) return 1 / (1 + math.exp(-z)) end

-- Reference values in doubles. gelu is Keras' exact form 0.5 z (1 + erf(z / sqrt 2)),
-- tabulated (Lua has no erf).
local reference = {
  linear = function(z) return z end,
  relu = function(z) return math.max(z, 0) end,
  sigmoid = sigmoid,
  tanh = function(z) return (math.exp(z) - math.exp(-z)) / (math.exp(z) + math.exp(-z)) end,
  softplus = function(z) return math.log(1 + math.exp(z)) end,
  softsign = function(z) return z / (1 + math.abs(z)) end,
  selu = function(z) return z > 0 and SELU_SCALE * z or SELU_SCALE * SELU_ALPHA * (math.exp(z) - 1) end,
  elu = function(z) return z > 0 and z or math.exp(z) - 1 end,
  leaky_relu = function(z) return z > 0 and z or 0.2 * z end,
}
local points = {-2, -0.5, 0.25, 1.5}
local gelu_values = {-0.04550026389635842, -0.15426876936299344, 0.14967658142073093, 1.399789198096713}

local names = {"linear", "relu", "sigmoid", "tanh", "softmax", "softplus", "softsign", "selu", "elu",
               "leaky_relu", "gelu"}
local kinked = {relu = true, leaky_relu = true, elu = true, selu = true}

local function apply(name, values)
  return lurn.activations.apply(name, lurn.tensor{values}):totable()[1]
end

describe("activations", function()
  before_each(function() lurn.manual_seed(11) end)

  for name, f in pairs(reference) do
    it(name .. " matches its formula", function()
      local got = apply(name, points)
      for i, z in ipairs(points) do close(f(z), got[i], 1e-6, ("%s(%g)"):format(name, z)) end
    end)
  end

  it("the functions refuse what is not a tensor, at the caller's line", function()
    local ok, err = pcall(function() return lurn.activations.elu() end)
    assert.is_false(ok)
    assert.truthy(err:find("activation_spec%.lua:%d+: activations%.elu: x must be a tensor, got nil"), err)
    assert.error_matches(function() lurn.activations.relu("x") end, "activations.relu: x must be a tensor, got string")
    assert.error_matches(function() lurn.activations.elu(lurn.zeros{2, 2}, "1") end,
      "activations.elu: alpha must be a number, got string")
  end)

  it("gelu is the exact (erf) form, as Keras' default", function()
    local got = apply("gelu", points)
    for i = 1, #points do close(gelu_values[i], got[i], 1e-6, ("gelu(%g)"):format(points[i])) end
  end)

  it("selu uses Keras' constants", function()
    close(SELU_SCALE, apply("selu", {1})[1], 1e-7)
    close(-SELU_SCALE * SELU_ALPHA, apply("selu", {-30})[1], 1e-6)
  end)

  it("the activation name 'leaky_relu' has slope 0.2 and 'elu' alpha 1.0", function()
    close(-0.2, apply("leaky_relu", {-1})[1])
    close(math.exp(-1) - 1, apply("elu", {-1})[1])
  end)

  it("softmax normalises each row over the last dimension", function()
    local y = lurn.activations.softmax(lurn.tensor{{1, 2, 3}, {0, 0, 0}}):totable()
    local e = {math.exp(1), math.exp(2), math.exp(3)}
    local s = e[1] + e[2] + e[3]
    for c = 1, 3 do close(e[c] / s, y[1][c]) end
    for c = 1, 3 do close(1 / 3, y[2][c]) end
    local y3 = lurn.activations.softmax(lurn.randn{2, 3, 4})
    local sums = y3:sum(3):totable()
    for i = 1, 2 do for j = 1, 3 do close(1, sums[i][j], 1e-6) end end
  end)

  it("stays finite for large inputs", function()
    local big = {-1000, -100, 100, 1000}
    for _, name in ipairs(names) do
      local y = apply(name, big)
      for i, v in ipairs(y) do
        assert(v == v, ("%s(%g) is NaN"):format(name, big[i]))
        if name ~= "linear" and name ~= "relu" and name ~= "softplus" and name ~= "selu" and name ~= "elu"
           and name ~= "leaky_relu" and name ~= "gelu" then
          assert(math.abs(v) <= 1, ("%s(%g) = %g"):format(name, big[i], v))
        end
      end
    end
    close(0, apply("sigmoid", {-1000})[1])
    close(1000, apply("softplus", {1000})[1], 1e-3)
    close(0, apply("softplus", {-1000})[1])
    local sm = apply("softmax", {1000, 1000, -1000})
    close(0.5, sm[1])
    close(0, sm[3])
  end)

  it("unknown names fail with the list of known ones", function()
    assert.error_matches(function() lurn.layers.Activation("swish_x") end,
      "unknown activation 'swish_x' %(known: linear, relu, sigmoid")
    assert.error_matches(function() lurn.layers.Dense(2, {activation = 3}) end, "activation must be a name")
  end)

  -- Gradient checks. Inputs of the kinked functions stay 0.05 away from 0.
  for _, name in ipairs(names) do
    it(name .. " passes a gradient check as an Activation layer", function()
      local layer = lurn.layers.Activation(name)
      layer:build{5}
      local x = gradcheck.rand_away({4, 5}, -2.5, 2.5, {0}, 0.05)
      gradcheck.check_layer(layer, x)
    end)

    it(name .. " passes a gradient check as a Dense activation", function()
      local d = lurn.layers.Dense(4, {activation = name, bias_initializer = "random_normal"})
      d:build{3}
      local lin = lurn.layers.Dense(4)
      lin:build{3}
      lin:set_weights(d:get_weights())
      -- Redraw x until every pre-activation is clear of the kink at 0.
      local x
      for _ = 1, 50 do
        x = lurn.randn{3, 3}
        local z = gradcheck.flat(lin(x))
        local clear = true
        for _, v in ipairs(z) do clear = clear and (not kinked[name] or math.abs(v) > 0.03) end
        if clear then break end
      end
      gradcheck.check_layer(d, x)
    end)
  end
end)

describe("activation layers", function()
  before_each(function() lurn.manual_seed(12) end)

  it("ReLU is max(x, 0)", function()
    local y = lurn.layers.ReLU()(lurn.tensor{{-1, 0, 2}}):totable()[1]
    assert.same({0, 0, 2}, y)
  end)

  it("LeakyReLU defaults to alpha 0.3 (Keras' layer default), alpha and negative_slope set it", function()
    close(-0.3, lurn.layers.LeakyReLU()(lurn.tensor{{-1}}):item())
    close(-0.1, lurn.layers.LeakyReLU{alpha = 0.1}(lurn.tensor{{-1}}):item())
    close(-0.05, lurn.layers.LeakyReLU{negative_slope = 0.05}(lurn.tensor{{-1}}):item())
    close(2, lurn.layers.LeakyReLU()(lurn.tensor{{2}}):item())
    assert.error_matches(function() lurn.layers.LeakyReLU{alpha = "x"} end, "alpha must be a number")
  end)

  it("ELU defaults to alpha 1.0 and takes another", function()
    close(math.exp(-2) - 1, lurn.layers.ELU()(lurn.tensor{{-2}}):item())
    close(0.5 * (math.exp(-2) - 1), lurn.layers.ELU{alpha = 0.5}(lurn.tensor{{-2}}):item())
  end)

  it("Softmax rows sum to 1", function()
    local y = lurn.layers.Softmax()(lurn.randn{3, 6})
    for _, s in ipairs(y:sum(2):totable()) do close(1, s, 1e-6) end
  end)

  for _, case in ipairs{
    {"ReLU", function() return lurn.layers.ReLU() end},
    {"LeakyReLU", function() return lurn.layers.LeakyReLU() end},
    {"LeakyReLU{alpha = 0.05}", function() return lurn.layers.LeakyReLU{alpha = 0.05} end},
    {"ELU", function() return lurn.layers.ELU() end},
    {"ELU{alpha = 0.5}", function() return lurn.layers.ELU{alpha = 0.5} end},
    {"Softmax", function() return lurn.layers.Softmax() end},
  } do
    it(case[1] .. " passes a gradient check", function()
      local layer = case[2]()
      layer:build{2, 3}
      gradcheck.check_layer(layer, gradcheck.rand_away({2, 2, 3}, -2, 2, {0}, 0.05))
    end)
  end

  it("keeps the input shape", function()
    local layer = lurn.layers.Activation("tanh")
    layer:build{2, 3, 4}
    assert.same({2, 3, 4}, layer.output_shape)
  end)
end)

-- As TensorFlow and numpy, no activation turns NaN into a number: relu(NaN) = 0 would let
-- a broken input pass as a normal-looking loss while the weights below become NaN.
describe("every activation propagates NaN", function()
  local nan = 0 / 0
  local function is_nan_at(t, i, j)
    local v = t:get(i, j)
    return v ~= v
  end

  it("as a function, for every Keras name", function()
    for _, name in ipairs{"linear", "relu", "sigmoid", "tanh", "softmax", "softplus", "softsign", "selu", "elu",
                          "leaky_relu", "gelu"} do
      local y = lurn.activations[name](lurn.tensor{{nan, 1, -1}, {-2, nan, 3}})
      assert.is_true(is_nan_at(y, 1, 1), name .. "(NaN) at (1, 1) is " .. y:get(1, 1))
      assert.is_true(is_nan_at(y, 2, 2), name .. "(NaN) at (2, 2) is " .. y:get(2, 2))
    end
  end)

  it("in the layer forms, as a Dense or Conv2D activation, and as the tensor function", function()
    local L = lurn.layers
    local x = lurn.tensor{{nan, -1, 2, -3}}
    for _, layer in ipairs{L.ReLU(), L.LeakyReLU(), L.ELU(), L.Softmax(), L.Activation("relu")} do
      assert.is_true(is_nan_at(layer(x), 1, 1), layer.class_name)
    end
    local dense = L.Dense(2, {activation = "relu"})
    local y = dense(x)
    assert.is_true(is_nan_at(y, 1, 1) and is_nan_at(y, 1, 2), "Dense relu")
    local img = lurn.zeros{1, 4, 4, 1}
    img:set(1, 2, 2, 1, nan)
    local conv = L.Conv2D(2, 3, {activation = "relu", kernel_initializer = "ones"})
    local c = conv(img)
    assert.is_true(c:get(1, 1, 1, 1) ~= c:get(1, 1, 1, 1), "Conv2D relu")
    assert.is_true(is_nan_at(lurn.relu(x), 1, 1), "lurn.relu")
  end)
end)

describe("ReLU options", function()
  it("refuses max_value, negative_slope and threshold rather than ignoring them", function()
    assert.error_matches(function() lurn.layers.ReLU{max_value = 6} end, "max_value is not supported yet")
    assert.error_matches(function() lurn.layers.ReLU{negative_slope = 0.1} end, "negative_slope is not supported")
    assert.error_matches(function() lurn.layers.ReLU{threshold = 1} end, "threshold is not supported")
    assert.equal("ReLU", lurn.layers.ReLU{threshold = 0}.class_name)
  end)
end)
