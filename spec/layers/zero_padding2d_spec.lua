-- ZeroPadding2D: Keras' three padding forms, the image placed inside the zeros, backward
-- as the crop, gradients against finite differences, config and errors.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"

local flat = gradcheck.flat
local L = lurn.layers

local function built(layer, in_shape)
  layer:build(in_shape)
  return layer
end

describe("ZeroPadding2D", function()
  before_each(function() lurn.manual_seed(31) end)

  it("takes Keras' three forms of padding", function()
    local cases = {
      {nil, {{1, 1}, {1, 1}}, {5, 6, 2}},
      {2, {{2, 2}, {2, 2}}, {7, 8, 2}},
      {0, {{0, 0}, {0, 0}}, {3, 4, 2}},
      {{1, 3}, {{1, 1}, {3, 3}}, {5, 10, 2}},
      {{{0, 2}, {1, 0}}, {{0, 2}, {1, 0}}, {5, 5, 2}},
    }
    for _, case in ipairs(cases) do
      local padding, want, out_shape = table.unpack(case)
      local layer = built(L.ZeroPadding2D(padding), {3, 4, 2})
      assert.same(want, layer.padding)
      assert.same(out_shape, layer.output_shape)
      assert.same({2, table.unpack(out_shape)}, layer(lurn.randn{2, 3, 4, 2}):shape())
    end
    assert.same({{1, 2}, {3, 4}}, L.ZeroPadding2D{padding = {{1, 2}, {3, 4}}}.padding)
    assert.same({{1, 1}, {1, 1}}, L.ZeroPadding2D{}.padding)
  end)

  it("places the image inside the zeros, each channel alike", function()
    local layer = built(L.ZeroPadding2D{{1, 0}, {2, 1}}, {2, 2, 2})
    assert.same({3, 5, 2}, layer.output_shape)
    local x = lurn.tensor{{1, 2}, {3, 4}, {5, 6}, {7, 8}}:reshape{1, 2, 2, 2}
    local y = layer(x)
    assert.same({
      {{0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}},
      {{0, 0}, {0, 0}, {1, 2}, {3, 4}, {0, 0}},
      {{0, 0}, {0, 0}, {5, 6}, {7, 8}, {0, 0}},
    }, y:reshape{3, 5, 2}:totable())
    -- two images in a batch: each is padded on its own
    local two = layer(lurn.cat({x, x * 10}, 1))
    assert.equal(0, (two:narrow(1, 1, 1) - y):abs():max())
    assert.equal(0, (two:narrow(1, 2, 1) - y * 10):abs():max())
  end)

  it("crops the gradient back to the image", function()
    local layer = built(L.ZeroPadding2D(1), {1, 2, 1})
    local x = lurn.zeros{1, 1, 2, 1}
    local y = layer._core:forward(x, true)
    local dy = lurn.arange(12):reshape{1, 3, 4, 1}
    assert.same({5, 6}, flat(layer._core:backward(x, y, dy)))
  end)

  local cases = {
    {"a number", 1, {2, 3, 4, 3}},
    {"a pair", {2, 1}, {2, 3, 2, 2}},
    {"top, bottom, left, right", {{0, 2}, {3, 1}}, {1, 2, 3, 3}},
  }
  for _, case in ipairs(cases) do
    local what, padding, shape = table.unpack(case)
    it("passes a finite-difference gradient check: " .. what, function()
      local layer = built(L.ZeroPadding2D(padding), {shape[2], shape[3], shape[4]})
      gradcheck.check_layer(layer, lurn.randn(shape))
    end)
  end

  it("has no weights and a Keras config", function()
    local layer = built(L.ZeroPadding2D({2, 1}, {name = "pad"}), {4, 4, 1})
    assert.same({}, layer:get_weights())
    assert.equal(0, layer:count_params())
    assert.same({name = "pad", trainable = true, padding = {{2, 2}, {1, 1}}, data_format = "channels_last"},
      layer:get_config())
    assert.equal("zero_padding2d", L.ZeroPadding2D().name:gsub("_%d+$", ""))
  end)

  it("rejects bad padding forms and inputs, naming the layer and the shapes", function()
    local Z = L.ZeroPadding2D
    local forms = "padding must be a non%-negative integer, a pair {height, width} or {{top, bottom}, {left, right}}"
    assert.error_matches(function() Z(-1) end, "ZeroPadding2D: " .. forms .. ", got %-1")
    assert.error_matches(function() Z(1.5) end, forms .. ", got 1.5")
    assert.error_matches(function() Z{1, 2, 3} end, forms .. ", got {1, 2, 3}")
    assert.error_matches(function() Z{{1, 2}, 3} end, forms .. ", got {{1, 2}, 3}")
    assert.error_matches(function() Z{{1, 2}, {3}} end, forms .. ", got {{1, 2}, {3}}")
    assert.error_matches(function() Z{{1, -2}, {3, 4}} end, forms)
    assert.error_matches(function() Z("same") end, forms .. ", got same")
    assert.error_matches(function() Z(1, {data_format = "channels_first"}) end,
      "ZeroPadding2D: only data_format 'channels_last' is supported")
    assert.error_matches(function() built(Z(1, {name = "z"}), {4, 4}) end,
      "layer 'z' %(ZeroPadding2D%): ZeroPadding2D: expects input of shape %(height, width, channels%) per sample, got %(4, 4%)")
    assert.error_matches(function() built(Z(1), {0, 4, 1}) end, "ZeroPadding2D: input shape %(0, 4, 1%) has a zero size")
    local layer = built(Z(1), {3, 3, 2})
    assert.error_matches(function() layer._core:forward(lurn.zeros{1, 3, 3, 1}) end,
      "ZeroPadding2D expects a packed batch of its input shape, got %(1, 3, 3, 1%)")
    assert.error_matches(function() lurn.core.zero_padding2d_layer{padding = {{1, 1}, {1, -1}}} end,
      "ZeroPadding2D: padding must be {{top, bottom}, {left, right}} of non%-negative integers")
  end)
end)
