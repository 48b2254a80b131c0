-- Merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate): values
-- on real tensors, finite-difference gradients for every input, TensorFlow's tie rule,
-- and the errors of bad calls.
local lurn = require "lurn"
local gradcheck = require "helpers.gradcheck"
local L = lurn.layers
local core = lurn.core

-- n inputs of `shape` whose values differ by at least 0.4 at every position (so that
-- finite differences never cross a Maximum/Minimum tie), in a random order per element.
local function distinct_inputs(n, shape)
  local xs = {}
  for j = 1, n do xs[j] = lurn.zeros(shape) end
  local count = xs[1]:numel()
  for i = 1, count do
    local order = lurn.randperm(n)
    for j = 1, n do
      local level = order:get(j) - 1
      xs[j]:reshape{-1}:set(i, -1 + 0.5 * level + 0.1 * lurn.rand{1}:get(1))
    end
  end
  return xs
end

-- Checks dL/dx_j of L = sum(r * merge(xs)) for every input against finite differences.
local function check_merge(layer, xs)
  layer({table.unpack(xs)})  -- builds it
  local y = core.merge_forward(layer._core, xs)
  local r = lurn.randn(y:shape())
  local dxs = core.merge_backward(layer._core, xs, y, r)
  local rv = gradcheck.flat(r)
  local function objective() return gradcheck.dot(rv, core.merge_forward(layer._core, xs)) end
  for j, x in ipairs(xs) do
    gradcheck.assert_close(dxs[j], gradcheck.numeric(objective, x), nil, ("%s dL/dx%d"):format(layer.class_name, j))
  end
  return dxs
end

describe("merge layers", function()
  before_each(function() lurn.manual_seed(61) end)

  it("compute Keras' elementwise merges on tensors", function()
    local a, b, c = lurn.tensor{{1, -2}, {3, 0.5}}, lurn.tensor{{4, 5}, {-6, 2}}, lurn.tensor{{0, 1}, {2, -3}}
    assert.same({{5, 4}, {-1, -0.5}}, L.Add()({a, b, c}):totable())
    assert.same({{-3, -7}, {9, -1.5}}, L.Subtract()({a, b}):totable())
    assert.same({{0, -10}, {-36, -3}}, L.Multiply()({a, b, c}):totable())
    assert.same({{2.5, 1.5}, {-1.5, 1.25}}, L.Average()({a, b}):totable())
    assert.same({{4, 5}, {3, 2}}, L.Maximum()({a, b, c}):totable())
    assert.same({{0, -2}, {-6, -3}}, L.Minimum()({a, b, c}):totable())
    assert.same({{5, 3}, {-3, 2.5}}, L.add({a, b}):totable())
  end)

  it("concatenate along the last axis by default, or along any per-sample axis", function()
    local a, b = lurn.randn{2, 3, 4}, lurn.randn{2, 3, 1}
    assert.same(lurn.cat({a, b}, 3):totable(), L.Concatenate()({a, b}):totable())
    local c = lurn.randn{2, 2, 4}
    assert.same(lurn.cat({a, c, a}, 2):totable(), L.Concatenate{axis = 2}({a, c, a}):totable())
    assert.same(lurn.cat({a, c}, 2):totable(), L.Concatenate(-2)({a, c}):totable())
    assert.same(lurn.cat({a, b}, 3):totable(), L.concatenate({a, b}, {axis = 3}):totable())
  end)

  for _, name in ipairs{"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"} do
    it(name .. " has finite-difference gradients for every input", function()
      local n = name == "Subtract" and 2 or 3
      check_merge(L[name](), distinct_inputs(n, {4, 2, 3}))
    end)
  end

  it("Concatenate has finite-difference gradients for every input, on a middle axis too", function()
    check_merge(L.Concatenate(), {lurn.randn{3, 2, 2}, lurn.randn{3, 2, 5}})
    check_merge(L.Concatenate{axis = 2}, {lurn.randn{3, 1, 2}, lurn.randn{3, 4, 2}, lurn.randn{3, 2, 2}})
  end)

  it("a gradient check fails when a gradient is wrong", function()
    local layer = L.Multiply()
    local xs = distinct_inputs(2, {2, 3})
    layer(xs)
    local y = core.merge_forward(layer._core, xs)
    local dxs = core.merge_backward(layer._core, xs, y, lurn.ones(y:shape()))
    local wrong = dxs[1] * 1.1
    local function objective() return core.merge_forward(layer._core, xs):sum() end
    assert.is_false((gradcheck.compare(wrong, gradcheck.numeric(objective, xs[1]))))
  end)

  it("Maximum and Minimum send a tie's gradient to the first input holding it, as TensorFlow", function()
    local a, b = lurn.tensor{{1, 2}}, lurn.tensor{{1, 3}}
    for _, name in ipairs{"Maximum", "Minimum"} do
      local layer = L[name]()
      local y = layer({a, b})
      local dxs = core.merge_backward(layer._core, {a, b}, y, lurn.ones{1, 2})
      local winner = name == "Maximum" and {{1, 0}, {0, 1}} or {{1, 1}, {0, 0}}
      assert.same({{winner[1][1], winner[1][2]}}, dxs[1]:totable())
      assert.same({{winner[2][1], winner[2][2]}}, dxs[2]:totable())
    end
  end)

  it("name the shapes when they do not match", function()
    local a, b = lurn.Input{shape = {4}}, lurn.Input{shape = {5}}
    assert.error_matches(function() L.Add{name = "sum"}({a, b}) end,
      "layer 'sum' %(Add%): inputs must all have the same shape, got %(None, 4%), %(None, 5%)", nil, false)
    local c, d = lurn.Input{shape = {3, 4}}, lurn.Input{shape = {2, 5}}
    assert.error_matches(function() L.Concatenate()({c, d}) end,
      "inputs must have the same shape except along the concatenation axis, got %(None, 3, 4%), %(None, 2, 5%)")
    assert.error_matches(function() L.Concatenate{axis = 4}({c, c}) end,
      "axis 4 is out of range for inputs of shape %(None, 3, 4%) %(axes 2..3 or %-2..%-1%)")
    assert.error_matches(function() L.Concatenate()({c, lurn.Input{shape = {3}}}) end, "inputs must have the same rank")
  end)

  it("reject calls that are not a list of tensors", function()
    local x = lurn.Input{shape = {4}}
    assert.error_matches(function() L.Add()(x) end, "Add 'add_%d+' takes a list of tensors, e.g. Add%(%)%({a, b}%)")
    assert.error_matches(function() L.Add()({x, 5}) end, "input 2 is a number, not a tensor")
    assert.error_matches(function() L.Add()({x}) end, "takes a list of at least 2 tensors, got 1")
    assert.error_matches(function() L.Subtract()({x, x, x}) end, "takes a list of exactly 2 tensors, got 3")
    assert.error_matches(function() L.Add()({x, lurn.zeros{2, 4}}) end,
      "the inputs must be all symbolic tensors %(from lurn.Input and layer calls%) or all tensors, not a mix")
  end)

  it("cannot be layers of a Sequential", function()
    assert.error_matches(function() lurn.Sequential{L.Dense(2, {input_shape = {3}}), L.Add()}:build() end,
      "a merge layer takes a list of inputs, so it cannot run in a Sequential")
  end)

  it("reject unknown options and the batch axis", function()
    assert.error_matches(function() L.Add{axis = 1} end, "Add: unknown option 'axis' %(known: dtype, name, trainable%)")
    assert.error_matches(function() L.Concatenate{axis = -1, mode = "concat"} end, "unknown option 'mode'")
    assert.error_matches(function() L.Concatenate{axis = 1} end, "axis 1 is the batch dimension")
    assert.error_matches(function() L.Concatenate{axis = 0} end, "axis must be a non%-zero integer")
  end)

  it("have no weights and keep their input shapes", function()
    local a, b = lurn.Input{shape = {2, 3}}, lurn.Input{shape = {2, 1}}
    local layer = L.Concatenate()
    local y = layer({a, b})
    assert.same({2, 4}, y.shape)
    assert.same({{2, 3}, {2, 1}}, layer.input_shape)
    assert.same({}, layer:get_weights())
    assert.equal(0, (layer:count_params()))
  end)
end)
