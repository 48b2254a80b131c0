-- Sizes, positions and list lengths from a hostile caller (issue 13): each is refused with
-- an error that names it, before any arithmetic on it overflows and before anything is
-- allocated or copied for it. None of these cases allocates more than a few bytes.
local lurn = require "lurn"

-- A table whose __len claims `n` entries, each of which reads as `value`.
local function claiming(n, value)
  return setmetatable({}, {__len = function() return n end, __index = function() return value end})
end

describe("tensor sizes", function()
  it("refuse a zero-size shape whose other sizes overflow the strides", function()
    assert.error_matches(function() lurn.zeros{0, 2 ^ 40, 2 ^ 40} end,
      "tensor of shape %(0, 1099511627776, 1099511627776%) is too large")
    assert.error_matches(function() lurn.ones{2 ^ 40, 0, 2 ^ 40} end, "too large")
    assert.equal(0, lurn.zeros{0, 2 ^ 20, 2 ^ 20}:numel())
  end)

  it("refuse a reshape or view of an empty tensor to sizes that overflow", function()
    local empty = lurn.zeros{0}
    assert.error_matches(function() empty:reshape{2 ^ 32, 2 ^ 32} end, "too large")
    assert.error_matches(function() empty:view(0, 2 ^ 40, 2 ^ 40) end, "too large")
    assert.error_matches(function() empty:reshape{2 ^ 62, 4, 0} end, "too large")
    assert.same({0, 3}, empty:reshape{0, 3}:shape())
  end)

  it("refuse cat of zero-size tensors whose sizes add up past int64", function()
    local part = lurn.zeros{2 ^ 60, 0}
    local parts = {}
    for i = 1, 8 do parts[i] = part end
    assert.error_matches(function() lurn.cat(parts, 1) end, "cat: the sizes along dimension 1 add up past 2%^63")
    assert.error_matches(function() lurn.cat({part, part, part}, 1) end, "too large")
    local half = lurn.zeros{2 ^ 59, 0}
    assert.same({2 ^ 60, 0}, lurn.cat({half, half}, 1):shape())
  end)

  it("refuse an arange with more elements than a tensor can have", function()
    assert.error_matches(function() lurn.arange(0, 1e30) end, "arange: 0 to 1e%+30 by 1 gives too many elements")
    assert.error_matches(function() lurn.arange(0, math.huge) end, "finite")
    assert.error_matches(function() lurn.arange(-1e308, 1e308, 1e-300) end, "too many elements")
  end)
end)

describe("positions at the edges of the integers", function()
  local t = lurn.arange(1, 5)

  it("narrow refuses math.mininteger and math.maxinteger starts and lengths", function()
    assert.error_matches(function() t:narrow(1, math.mininteger, 2) end,
      "narrow: start %-9223372036854775808 and length 2 out of range for dimension 1 of shape %(4,%)")
    assert.error_matches(function() t:narrow(1, 2, math.maxinteger) end, "length 9223372036854775807 out of range")
    assert.error_matches(function() t:narrow(1, math.maxinteger, 1) end, "out of range")
    assert.error_matches(function() t:narrow(1, 0, 1) end, "out of range")
    assert.equal(0, t:narrow(1, 5, 0):numel())
  end)

  it("select refuses math.mininteger and math.maxinteger", function()
    assert.error_matches(function() t:select(1, math.mininteger) end,
      "select: position %-9223372036854775808 out of range 1..4")
    assert.error_matches(function() t:select(1, math.maxinteger) end, "out of range 1..4")
  end)

  it("index refuses infinite, huge and NaN positions before converting them", function()
    assert.error_matches(function() t:index(1, {math.huge}) end, "index: position inf out of range 1..4")
    assert.error_matches(function() t:index(1, {-math.huge}) end, "position %-inf out of range")
    assert.error_matches(function() t:index(1, {2 ^ 63}) end, "out of range 1..4")
    assert.error_matches(function() t:index(1, {math.mininteger}) end, "out of range 1..4")
    assert.error_matches(function() t:index(1, lurn.tensor{0 / 0}) end, "is not an integer")
    assert.error_matches(function() t:index(1, lurn.tensor{1e30}) end, "out of range 1..4")
  end)

  it("index into an output that shares the input's storage gathers from a copy", function()
    local x = lurn.tensor{{1, 1}, {2, 2}, {3, 3}}
    x:index(1, {3, 2, 1}, x)
    assert.same({{3, 3}, {2, 2}, {1, 1}}, x:totable())
    local v = lurn.tensor{1, 2, 3, 4}
    v:index(1, {4, 3, 2, 1}, v)
    assert.same({4, 3, 2, 1}, v:totable())
  end)
end)

describe("list lengths claimed by __len", function()
  it("are checked against the shape limit before a shape is read", function()
    assert.error_matches(function() lurn.zeros(claiming(2 ^ 40, 1)) end, "shape must have 1 to 8 sizes")
    assert.error_matches(function() lurn.zeros(claiming(2 ^ 32 + 2, 1)) end, "shape must have 1 to 8 sizes")
    assert.error_matches(function() lurn.zeros{4}:reshape(claiming(2 ^ 32 + 1, 4)) end, "shape must have 1 to 8")
    assert.error_matches(function() lurn.zeros{4}:permute(claiming(2 ^ 32 + 1, 1)) end, "expected 1 dimensions")
  end)

  it("are checked before positions, tensors or nested rows are copied", function()
    local t = lurn.zeros{4}
    assert.error_matches(function() t:index(1, claiming(2 ^ 40, 1)) end,
      "the list of positions has 1099511627776 entries, expected at most 2147483647")
    assert.error_matches(function() lurn.cat(claiming(2 ^ 32 + 1, t)) end, "the list of tensors has")
    assert.error_matches(function() lurn.stack(claiming(2 ^ 40, t)) end, "the list of tensors has")
    assert.error_matches(function() lurn.tensor(claiming(2 ^ 30, claiming(2 ^ 30, {}))) end,
      "tensor: the nested table has more than 2147483647 rows")
    assert.error_matches(function() lurn.tensor(claiming(2 ^ 40, {})) end,
      "tensor: a row of the nested table has 1099511627776 entries")
  end)
end)

describe("randperm", function()
  it("refuses a tensor of more positions than float32 holds exactly, and offers a list", function()
    assert.error_matches(function() lurn.randperm(2 ^ 24 + 1) end,
      "n = 16777217 is past 2%^24, beyond which a float32 tensor cannot hold every position")
    assert.error_matches(function() lurn.randperm(2 ^ 62, "list") end, "past the longest list")
    assert.error_matches(function() lurn.randperm(math.maxinteger) end, "past 2%^24")
  end)

  it("gives the same order as a tensor and as a list of integers", function()
    lurn.manual_seed(7)
    local p = lurn.randperm(50)
    lurn.manual_seed(7)
    local l = lurn.randperm(50, "list")
    assert.same(p:totable(), l)
    local seen = {}
    for _, v in ipairs(l) do
      assert.equal("integer", math.type(v))
      seen[v] = true
    end
    for i = 1, 50 do assert.is_true(seen[i]) end
  end)
end)
