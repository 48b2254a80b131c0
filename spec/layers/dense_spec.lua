-- Dense: forward against a hand computation, gradients against finite differences,
-- shapes, options and errors.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"

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

describe("Dense", function()
  before_each(function() lurn.manual_seed(7) end)

  it("computes x @ kernel + bias with Keras' (in, units) kernel layout", function()
    local d = lurn.layers.Dense(2)
    d:build{3}
    d:set_weights{lurn.tensor{{1, 2}, {3, 4}, {5, 6}}, lurn.tensor{0.5, -1}}
    local y = d(lurn.tensor{{1, 0, -1}, {0.5, 1, 2}})
    assert_all_close({{1 - 5 + 0.5, 2 - 6 - 1}, {0.5 + 3 + 10 + 0.5, 1 + 4 + 12 - 1}}, y:totable())
    assert.same({2}, d.output_shape)
    assert.equal(3 * 2 + 2, d:count_params())
  end)

  it("applies its activation after the affine map", function()
    local d = lurn.layers.Dense(2, {activation = "relu", use_bias = false})
    d:build{2}
    d:set_weights{lurn.tensor{{1, -1}, {1, 1}}}
    assert_all_close({{3, 1}, {0, 0}}, d(lurn.tensor{{1, 2}, {-1, -2}}):totable())
    assert.equal(1, #d:get_weights())
  end)

  it("works on the last dimension of 3-D input", function()
    local d = lurn.layers.Dense(4)
    d:build{5, 3}
    assert.same({5, 4}, d.output_shape)
    local x = lurn.randn{2, 5, 3}
    local y = d(x)
    assert.same({2, 5, 4}, y:shape())
    local d2 = lurn.layers.Dense(4)
    d2:build{3}
    d2:set_weights(d:get_weights())
    local flat = d2(x:reshape{10, 3})
    assert_all_close(flat:totable(), y:reshape{10, 4}:totable(), 1e-6)
  end)

  it("passes a finite-difference gradient check (kernel, bias, input)", function()
    local d = lurn.layers.Dense(3, {bias_initializer = "random_normal"})
    d:build{4}
    gradcheck.check_layer(d, lurn.randn{5, 4})
  end)

  it("passes a gradient check on 3-D input", function()
    local d = lurn.layers.Dense(2, {activation = "tanh", bias_initializer = "random_normal"})
    d:build{3, 4}
    gradcheck.check_layer(d, lurn.randn{2, 3, 4})
  end)

  it("passes a gradient check without a bias", function()
    local d = lurn.layers.Dense(3, {use_bias = false, activation = "sigmoid"})
    d:build{4}
    gradcheck.check_layer(d, lurn.randn{3, 4})
  end)

  it("fills Keras' initializers: glorot_uniform kernel within its limit, zero bias", function()
    local d = lurn.layers.Dense(30)
    d:build{20}
    local k, b = table.unpack(d:get_weights())
    local limit = math.sqrt(6 / (20 + 30))
    assert.is_true(k:max() <= limit and k:min() >= -limit)
    assert.is_true(k:max() > 0.8 * limit)
    assert.equal(0, b:abs():max())
  end)

  it("rejects bad units, activations and input shapes with clear messages", function()
    assert.error_matches(function() lurn.layers.Dense(0) end, "units must be a positive integer")
    assert.error_matches(function() lurn.layers.Dense(2.5) end, "units must be a positive integer")
    -- a number in a string is named as one, not shown as if it were the number
    assert.error_matches(function() lurn.layers.Dense("8") end, 'units must be a positive integer, got the string "8"',
                         nil, true)
    assert.error_matches(function() lurn.layers.Dense(2, {activation = "swishy"}) end,
      "unknown activation 'swishy'")
    local d = lurn.layers.Dense(2)
    d:build{3}
    assert.error_matches(function() d._core:forward(lurn.zeros{4, 5}) end,
      "Dense expects a packed batch of its input shape, got %(4, 5%)")
    assert.error_matches(function() d:build{4} end, "already built for input shape %(3,?%), cannot take %(4,?%)")
    assert.error_matches(function() d:set_weights{lurn.zeros{2, 2}, lurn.zeros{2}} end,
      "kernel must have shape %(3, 2%), got %(2, 2%)")
    assert.error_matches(function() lurn.layers.Dense(2)(lurn.zeros{3}) end,
      "Dense 'dense_?%d*': expected a batch %(batch, ...%) with the samples along the first dimension, got shape %(3%)")
  end)
end)
