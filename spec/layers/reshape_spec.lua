-- Flatten and Reshape: per-sample shapes (with one inferred -1), values kept in order,
-- gradients passed through unchanged, and errors that name the shapes.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"

describe("Flatten", function()
  before_each(function() lurn.manual_seed(4) end)

  it("flattens every sample, keeping the batch dimension and the order", function()
    local layer = lurn.layers.Flatten()
    layer:build{2, 3, 4}
    assert.same({24}, layer.output_shape)
    local x = lurn.arange(48):reshape{2, 2, 3, 4}
    local y = layer(x)
    assert.same({2, 24}, y:shape())
    assert.same(x:reshape{2, 24}:totable(), y:totable())
  end)

  it("passes gradients through unchanged", function()
    local layer = lurn.layers.Flatten()
    layer:build{3, 2}
    local x = lurn.randn{4, 3, 2}
    local y = layer._core:forward(x, true)
    local dy = lurn.randn{4, 6}
    assert.same(dy:reshape{4, 3, 2}:totable(), layer._core:backward(x, y, dy):totable())
    gradcheck.check_layer(layer, x)
  end)

  it("is a no-op on 1-D samples", function()
    local layer = lurn.layers.Flatten()
    layer:build{5}
    assert.same({5}, layer.output_shape)
  end)
end)

describe("Reshape", function()
  before_each(function() lurn.manual_seed(5) end)

  it("reshapes each sample to target_shape", function()
    local layer = lurn.layers.Reshape{3, 4}
    layer:build{12}
    assert.same({3, 4}, layer.output_shape)
    local x = lurn.arange(24):reshape{2, 12}
    assert.same(x:reshape{2, 3, 4}:totable(), layer(x):totable())
  end)

  it("infers one -1 size", function()
    local a = lurn.layers.Reshape{-1, 2}
    a:build{3, 4}
    assert.same({6, 2}, a.output_shape)
    local b = lurn.layers.Reshape{2, -1, 3}
    b:build{12}
    assert.same({2, 2, 3}, b.output_shape)
    local c = lurn.layers.Reshape{target_shape = {-1}}
    c:build{2, 5}
    assert.same({10}, c.output_shape)
  end)

  it("passes a gradient check", function()
    local layer = lurn.layers.Reshape{2, 3}
    layer:build{6}
    gradcheck.check_layer(layer, lurn.randn{3, 6})
  end)

  it("works inside a model, before a Dense", function()
    local model = lurn.Sequential{
      lurn.layers.Reshape({2, 3}, {input_shape = {6}}),
      lurn.layers.Dense(2, {bias_initializer = "random_normal"}),
      lurn.layers.Flatten(),
    }
    model:build()
    assert.same({4}, model.output_shape)
    local loss = lurn.losses.get("mse")
    gradcheck.check_model(model, loss, lurn.randn{3, 6}, lurn.randn{3, 4})
  end)

  it("rejects sizes that do not match the input, naming both shapes", function()
    local layer = lurn.layers.Reshape{5}
    assert.error_matches(function() layer:build{2, 3} end,
      "cannot reshape input of shape %(2, 3%) %(6 values per sample%) to %(5,?%)")
    local inferred = lurn.layers.Reshape{-1, 4}
    assert.error_matches(function() inferred:build{6} end, "cannot reshape input of shape %(6,?%)")
  end)

  it("rejects bad target shapes when created", function()
    -- two -1 sizes pass the constructor and fail when the layer is built
    assert.error_matches(function() lurn.layers.Reshape{-1, -1}:build{4} end, "at most one %-1")
    assert.error_matches(function() lurn.layers.Reshape{0, 2} end, "sizes must be positive")
    assert.error_matches(function() lurn.layers.Reshape{2.5} end, "sizes must be positive integers")
    assert.error_matches(function() lurn.layers.Reshape{} end, "target_shape must be a table of sizes")
    assert.error_matches(function() lurn.layers.Reshape(4) end, "target_shape must be a table of sizes")
  end)

  it("names the layer in build errors from a model", function()
    -- built when made, as Keras
    local ok, err = pcall(lurn.Sequential, {lurn.layers.Reshape({4}, {input_shape = {3}, name = "bad_reshape"})})
    assert.is_false(ok)
    assert.truthy(err:find("layer 'bad_reshape' (Reshape)", 1, true), err)
    assert.truthy(err:find("cannot reshape input of shape (3,)", 1, true), err)
  end)
end)
