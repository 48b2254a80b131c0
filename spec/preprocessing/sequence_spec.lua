-- lurn.preprocessing.sequence.pad_sequences: Keras' results on Keras' own examples (pre
-- padding and truncating by default), the options, and the errors.
local lurn = require "lurn"
local pad_sequences = lurn.preprocessing.sequence.pad_sequences

local function rows(t) return t:totable() end

describe("pad_sequences", function()
  local a = {{1}, {1, 2}, {1, 2, 3}}

  it("pads and truncates at the front by default, to the longest sequence, as Keras", function()
    local x = pad_sequences(a)
    assert.same({3, 3}, x:shape())
    assert.same({{0, 0, 1}, {0, 1, 2}, {1, 2, 3}}, rows(x))
    assert.same({{0, 1}, {1, 2}, {2, 3}}, rows(pad_sequences(a, {maxlen = 2})))
    -- keras.preprocessing.sequence.pad_sequences' docstring
    assert.same({{0, 1}, {2, 3}, {5, 6}}, rows(pad_sequences({{1}, {2, 3}, {4, 5, 6}}, {maxlen = 2})))
  end)

  it("takes padding, truncating, value and a maxlen longer than every sequence", function()
    assert.same({{1, 0, 0}, {1, 2, 0}, {1, 2, 3}}, rows(pad_sequences(a, {padding = "post"})))
    assert.same({{0, 1}, {1, 2}, {1, 2}}, rows(pad_sequences(a, {maxlen = 2, truncating = "post"})))
    assert.same({{1, 1, 1}, {1, 1, 2}, {1, 2, 3}}, rows(pad_sequences(a, {value = 1})))
    assert.same({{-1, -1, -1, 1}, {-1, -1, 1, 2}, {-1, 1, 2, 3}}, rows(pad_sequences(a, {maxlen = 4, value = -1})))
    assert.same({{2, 3, 4}}, rows(pad_sequences({{1, 2, 3, 4}}, {maxlen = 3, padding = "post"})))
  end)

  it("keeps an empty sequence as a row of padding, and takes 1-D tensors", function()
    assert.same({{0, 0}, {7, 8}}, rows(pad_sequences({{}, lurn.tensor{7, 8}})))
    assert.same({0, 4}, pad_sequences({}, {maxlen = 4}):shape())
  end)

  it("casts to an integer dtype toward zero, as numpy, and keeps fractions in float32", function()
    assert.same({{1, -2}}, rows(pad_sequences({{1.7, -2.7}})))
    assert.same({{1.5, -2.5}}, rows(pad_sequences({{1.5, -2.5}}, {dtype = "float32"})))
  end)

  it("refuses what it cannot do, naming the problem", function()
    assert.error_matches(function() pad_sequences({{1}}, {padding = "middle"}) end,
      'pad_sequences: padding must be "pre" or "post", got middle', nil, true)
    assert.error_matches(function() pad_sequences({{1}}, {truncating = "x"}) end, "truncating must be")
    assert.error_matches(function() pad_sequences({{1}}, {maxlen = 0}) end, "maxlen must be a positive integer")
    assert.error_matches(function() pad_sequences({{1}}, {maxlen = 1.5}) end, "maxlen must be a positive integer")
    assert.error_matches(function() pad_sequences({{1}, {"a"}}) end, "sequence 2 has a string at position 1")
    assert.error_matches(function() pad_sequences({{1}, 5}) end, "sequence 2 is a number")
    assert.error_matches(function() pad_sequences(lurn.zeros{2, 2}) end, "sequences must be a list of lists")
    assert.error_matches(function() pad_sequences({{1}}, {dtype = "str"}) end, "dtype str is not supported")
    assert.error_matches(function() pad_sequences({{2 ^ 25}}) end, "beyond 2%^24")
    assert.error_matches(function() pad_sequences({}) end, "no sequences and no maxlen")
    assert.error_matches(function() pad_sequences({{1}}, {max_len = 3}) end, "unknown option 'max_len'")
  end)
end)

describe("pad_sequences' output size", function()
  it("is checked before anything is built", function()
    local lurn = require "lurn"
    assert.error_matches(function() lurn.preprocessing.sequence.pad_sequences({{1}}, {maxlen = 1 << 40}) end,
      "pad_sequences: 1 rows x maxlen 1099511627776")
  end)
end)
