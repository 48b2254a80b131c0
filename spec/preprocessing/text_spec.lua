-- lurn.preprocessing.text: the steps TextVectorization is made of, on their own:
-- Keras 2's standardization, whitespace and character splits, token counts, and the
-- vocabulary order of adapt (count, then descending bytes, whatever the locale says).
local lurn = require "lurn"
local text = lurn.preprocessing.text

describe("lurn.preprocessing.text", function()
  it("strips exactly the ASCII punctuation of Keras' DEFAULT_STRIP_REGEX, and no other byte", function()
    local all = {}
    for c = 0, 255 do all[#all + 1] = string.char(c) end
    local kept = text.standardize(table.concat(all), "strip_punctuation")
    assert.equal(256 - 32, #kept)
    for c in text.PUNCTUATION:gmatch(".") do assert.is_nil(kept:find(c, 1, true), c) end
    assert.equal("abc xyz", text.standardize("ABC XYZ"))
    assert.equal("It's", text.standardize("It's", false))
  end)

  it("splits as tf.strings.split and unicode_split", function()
    assert.same({"a", "b", "c"}, text.split("\t a \n\vb\f\rc "))
    assert.same({}, text.split("   "))
    assert.same({"é", "t", "é"}, text.split("été", "character"))
    assert.same({"a b"}, text.split("a b", false))
    assert.same({"hello", "world"}, text.tokenize("Hello, world!"))
  end)

  it("counts tokens and documents, and orders the vocabulary as Keras' adapt", function()
    local counts, documents = text.count{{"a", "b", "a"}, {"b"}}
    assert.same({a = 2, b = 2}, counts)
    assert.same({a = 1, b = 2}, documents)
    assert.same({"b", "a"}, text.vocabulary(counts))
    -- bytes, not the locale's collation: "Z" (0x5A) < "a" (0x61) < "é" (0xC3 0xA9)
    assert.same({"é", "a", "Z"}, text.vocabulary{a = 1, Z = 1, ["é"] = 1})
    assert.same({"x", "é"}, text.vocabulary({x = 3, ["é"] = 2, a = 1}, 2))
  end)

  it("refuses unknown modes", function()
    assert.error_matches(function() text.standardize("a", "upper") end, "standardize: unknown mode upper")
    assert.error_matches(function() text.split("a", "comma") end, "split: unknown mode comma")
  end)
end)

describe("lurn.preprocessing.text's functions and bad arguments", function()
  it("name what they expected, at the caller's line", function()
    local text = require("lurn").preprocessing.text
    local ok, err = pcall(function() text.standardize(nil) end)
    assert.is_false(ok)
    assert.matches("text_spec.lua:%d+: standardize: expected a string, got nil", err)
    ok, err = pcall(function() text.split(12) end)
    assert.matches("text_spec.lua:%d+: split: expected a string, got number", err)
    assert.error_matches(function() text.vocabulary({a = "x", b = 1}) end, "counts must map tokens")
    assert.error_matches(function() text.count({{"a"}, "b"}) end, "count: entry 2 is a string")
  end)
end)
