-- TextVectorization: Keras 2's results on its own docstring examples, the vocabulary order
-- adapt learns (count, then descending bytes), every output mode on hand-computed values,
-- set_vocabulary's rules, configs and states that keep the vocabulary, and the errors
-- (including the layer put inside a model, which lurn does not run on strings).
local lurn = require "lurn"
local L = lurn.layers
local TextVectorization = L.TextVectorization
local state_check = require "helpers.state_check"

local function rows(t) return t:totable() end

local function assert_close(expected, actual)
  assert.same(#expected, #actual)
  for i, row in ipairs(expected) do
    for j, v in ipairs(row) do
      assert(math.abs(v - actual[i][j]) < 1e-6, ("[%d][%d]: expected %s, got %s"):format(i, j, v, actual[i][j]))
    end
  end
end

describe("TextVectorization", function()
  it("gives Keras' docstring results: ids from 0 = padding, 1 = OOV, ties in descending order", function()
    local v = TextVectorization{max_tokens = 5000, output_mode = "int", output_sequence_length = 4}
    v:adapt{"foo", "bar", "baz"}
    assert.same({"", "[UNK]", "foo", "baz", "bar"}, v:get_vocabulary())
    assert.same({{2, 1, 4, 0}, {1, 3, 0, 0}}, rows(v{"foo qux bar", "qux baz"}))
    -- Keras' (N, 1) input shape works the same
    assert.same({{2, 1, 4, 0}, {1, 3, 0, 0}}, rows(v{{"foo qux bar"}, {"qux baz"}}))
    local given = TextVectorization{vocabulary = {"earth", "wind", "and", "fire"}, output_sequence_length = 4}
    assert.same({"", "[UNK]", "earth", "wind", "and", "fire"}, given:get_vocabulary())
  end)

  it("orders the vocabulary by count, ties by descending bytes, and keeps the max_tokens - 2 most frequent", function()
    local v = TextVectorization()
    v:adapt{"b a c a", "c a d B"}
    -- a: 3, b: 2 (after lowercasing), c: 2, d: 1; b and c tie: "c" > "b"
    assert.same({"", "[UNK]", "a", "c", "b", "d"}, v:get_vocabulary())
    assert.same({"a", "c", "b", "d"}, v:get_vocabulary(false))
    assert.equal(6, v:vocabulary_size())
    local capped = TextVectorization{max_tokens = 4}
    capped:adapt{"b a c a", "c a d B"}
    assert.same({"", "[UNK]", "a", "c"}, capped:get_vocabulary())
    assert.same({{2, 1, 3, 1}}, rows(capped{"a b c d"}))
    -- a second adapt starts again
    capped:adapt{"z"}
    assert.same({"", "[UNK]", "z"}, capped:get_vocabulary())
  end)

  it("maps the same word to the same id in every call, an unseen word to 1, and pads to the longest text", function()
    local v = TextVectorization()
    v:adapt{"the cat sat on the mat", "the dog ate"}
    local a = v{"the cat", "a dog sat on the mat today"}
    local b = v{"mat cat the"}
    local id = {}
    for i, word in ipairs(v:get_vocabulary()) do id[word] = i - 1 end
    assert.same({{id.the, id.cat, 0, 0, 0, 0, 0}, {1, id.dog, id.sat, id.on, id.the, id.mat, 1}}, rows(a))
    assert.same({{id.mat, id.cat, id.the}}, rows(b))
    assert.same({2, 0}, v{"", "   "}:shape())
    -- cut at the end to output_sequence_length
    local short = TextVectorization{vocabulary = v:get_vocabulary(), output_sequence_length = 2}
    assert.same({{id.the, id.cat}}, rows(short{"the cat sat"}))
  end)

  it("standardizes as Keras 2: ASCII lowercase, every ASCII punctuation mark stripped, other bytes kept", function()
    local v = TextVectorization{split = false}
    v:adapt{[[Hello, World! It's "fine" (really?) a-b_c/d \ [x] {y} ~`^|@#$%&*+=<>:;.]]}
    assert.same({"", "[UNK]", "hello world its fine really abcd  x y "}, v:get_vocabulary())
    -- non-ASCII letters are not lowercased and non-ASCII punctuation stays, as tf.strings.lower
    -- with its default encoding and Keras' ASCII strip pattern
    local u = TextVectorization()
    u:adapt{"ÉCOLE «Été» naïve Straße"}
    assert.same({"", "[UNK]", "École", "«Été»", "straße", "naïve"}, u:get_vocabulary())
    local lower = TextVectorization{standardize = "lower"}
    lower:adapt{"Hi, YOU"}
    assert.same({"", "[UNK]", "you", "hi,"}, lower:get_vocabulary())
    local strip = TextVectorization{standardize = "strip_punctuation"}
    strip:adapt{"Hi, YOU"}
    assert.same({"", "[UNK]", "YOU", "Hi"}, strip:get_vocabulary())
    local none = TextVectorization{standardize = false}
    none:adapt{"Hi, YOU"}
    assert.same({"", "[UNK]", "YOU", "Hi,"}, none:get_vocabulary())
  end)

  it("splits on whitespace runs, on UTF-8 characters, not at all, or with a function", function()
    local v = TextVectorization()
    v:adapt{" a\tb\n\nc  \r\va\f"}
    assert.same({"", "[UNK]", "a", "c", "b"}, v:get_vocabulary())
    local chars = TextVectorization{split = "character", standardize = false}
    chars:adapt{"añb"}
    assert.same({"", "[UNK]", "ñ", "b", "a"}, chars:get_vocabulary())
    assert.same({{4, 2, 3, 1}}, rows(chars{"añbz"}))
    local fn = TextVectorization{split = function(s)
      local out = {}
      for w in s:gmatch("[^,]+") do out[#out + 1] = w end
      return out
    end, standardize = function(s) return s:upper() end}
    fn:adapt{"x,y,x"}
    assert.same({"", "[UNK]", "X", "Y"}, fn:get_vocabulary())
    assert.error_matches(function() chars:adapt{"a\255b"} end, "adapt: text 1: split: the text is not valid UTF%-8")
  end)

  it("counts, marks and weighs tokens in the multi_hot, count and tf_idf modes", function()
    local count = TextVectorization{output_mode = "count"}
    count:adapt{"a b b", "b c"}
    assert.same({"[UNK]", "b", "c", "a"}, count:get_vocabulary())
    assert.same({{0, 2, 0, 1}, {2, 1, 0, 0}}, rows(count{"a b b", "z y b"}))
    local multi = TextVectorization{output_mode = "multi_hot", max_tokens = 6, pad_to_max_tokens = true}
    multi:adapt{"a b b", "b c"}
    assert.same({{0, 1, 0, 1, 0, 0}, {1, 1, 0, 0, 0, 0}}, rows(multi{"a b b", "z y b"}))
    local binary = TextVectorization{output_mode = "binary"}  -- Keras' old name of multi_hot
    assert.equal("multi_hot", binary.output_mode)
    local tfidf = TextVectorization{output_mode = "tf_idf"}
    tfidf:adapt{"a b b", "b c"}
    -- idf = log(1 + documents / (1 + documents with the token)); the OOV's is their mean
    local idf_b, idf_c, idf_a = math.log(1 + 2 / 3), math.log(1 + 2 / 2), math.log(1 + 2 / 2)
    local idf_oov = (idf_a + idf_b + idf_c) / 3
    assert_close({{0, 2 * idf_b, 0, idf_a}, {2 * idf_oov, idf_b, 0, 0}}, rows(tfidf{"a b b", "z y b"}))
  end)

  it("sets a vocabulary as Keras' set_vocabulary, with or without the special tokens", function()
    local v = TextVectorization{max_tokens = 5}
    v:set_vocabulary{"", "[UNK]", "x", "y"}
    assert.same({"", "[UNK]", "x", "y"}, v:get_vocabulary())
    v:set_vocabulary{"y", "x", "w"}
    assert.same({{2, 4, 1}}, rows(v{"y w v"}))
    assert.error_matches(function() v:set_vocabulary{"a", "b", "a"} end, "repeated terms: a")
    assert.error_matches(function() v:set_vocabulary{"a", "", "b"} end, 'found the padding token "" at position 2')
    assert.error_matches(function() v:set_vocabulary{"a", "b", "c", "d"} end, "6 entries with the special tokens; max_tokens is 5")
    assert.error_matches(function() v:set_vocabulary{} end, "cannot set an empty vocabulary")
    assert.error_matches(function() v:set_vocabulary{"a", 2} end, "got a number at position 2")
    local tfidf = TextVectorization{output_mode = "tf_idf", vocabulary = {"a", "b"}, idf_weights = {0.5, 1.5}}
    assert.same({"[UNK]", "a", "b"}, tfidf:get_vocabulary())
    assert_close({{1.0, 0.5, 1.5}}, rows(tfidf{"zz a b"}))  -- the OOV's idf: the mean, 1.0
    assert.error_matches(function() TextVectorization{output_mode = "tf_idf", vocabulary = {"a"}} end,
      'idf_weights must be set if output_mode is "tf_idf"')
    -- as Keras: a layer given its vocabulary is not adapted
    assert.error_matches(function() tfidf:adapt{"a"} end, "was given its vocabulary, so it cannot be adapted")
  end)

  it("keeps its vocabulary in its config, and from_config maps the same", function()
    local v = TextVectorization{max_tokens = 10, output_sequence_length = 3, name = "tv_cfg"}
    v:adapt{"one two two three three three"}
    local cfg = v:get_config()
    assert.same({"", "[UNK]", "three", "two", "one"}, cfg.vocabulary)
    assert.same({name = "tv_cfg", trainable = true, max_tokens = 10, standardize = "lower_and_strip_punctuation",
                 split = "whitespace", output_mode = "int", output_sequence_length = 3, pad_to_max_tokens = false,
                 vocabulary = {"", "[UNK]", "three", "two", "one"}}, cfg)
    for _, copy in ipairs{TextVectorization.from_config(cfg), L.deserialize(L.serialize(v))} do
      assert.same(rows(v{"two one four", "three"}), rows(copy{"two one four", "three"}))
      assert.same(cfg, copy:get_config())
    end
    local tfidf = TextVectorization{output_mode = "tf_idf", max_tokens = 8, pad_to_max_tokens = true}
    tfidf:adapt{"a b", "b"}
    local copy = TextVectorization.from_config(tfidf:get_config())
    assert.same(rows(tfidf{"a b z"}), rows(copy{"a b z"}))
    local fn = TextVectorization{standardize = function(s) return s end}
    assert.error_matches(function() fn:get_config() end, "its standardize is a Lua function, which is not data")
    -- a config as Keras 2 writes one (dtype, sparse, ragged, encoding, vocabulary_size) is read
    local keras = TextVectorization.from_config{name = "k", trainable = true, dtype = "string", max_tokens = 10,
      standardize = "lower_and_strip_punctuation", split = "whitespace", output_mode = "int",
      output_sequence_length = 2, pad_to_max_tokens = false, sparse = false, ragged = false, encoding = "utf-8",
      vocabulary = {"", "[UNK]", "b", "a"}, vocabulary_size = 4}
    assert.same({{3, 2}}, rows(keras{"a b c"}))
    assert.error_matches(function() TextVectorization{encoding = "latin-1"} end, 'encoding must be "utf%-8"')
  end)

  it("saves its state as plain data; from_state gives a layer that maps the same and can adapt again", function()
    local v = TextVectorization{max_tokens = 20, output_sequence_length = 5}
    v:adapt{"good film", "bad film, bad acting"}
    local state = v:get_state()
    assert.equal("TextVectorization", state.class)
    assert.is_true(state.fitted)
    assert.same({"", "[UNK]", "film", "bad", "good", "acting"}, state.attributes.vocabulary_)
    assert.is_true(state_check.plain(state))
    local copy = lurn.preprocessing.from_state((state_check.through_text(state)))
    assert.equal(TextVectorization, getmetatable(copy))
    assert.same(rows(v{"good acting, bad plot"}), rows(copy{"good acting, bad plot"}))
    copy:adapt{"x"}
    assert.same({"", "[UNK]", "x"}, copy:get_vocabulary())
    assert.same({"", "[UNK]", "film", "bad", "good", "acting"}, v:get_vocabulary())  -- shares nothing
    -- tf_idf weights come back bit for bit
    local tfidf = TextVectorization{output_mode = "tf_idf"}
    tfidf:adapt{"good film", "bad film, bad acting"}
    local again = lurn.preprocessing.from_state((state_check.through_text(tfidf:get_state())))
    state_check.assert_same_bits(tfidf{"bad good zz"}, again{"bad good zz"})
    -- float32 weights, as Keras keeps them: written with 14 digits (as %.14g does), the same outputs
    local rounded = tfidf:get_state()
    for i, w in ipairs(rounded.attributes.idf_weights_) do
      assert.equal(w, string.unpack("f", string.pack("f", w)))
      rounded.attributes.idf_weights_[i] = tonumber(("%.14g"):format(w))
    end
    state_check.assert_same_bits(tfidf{"bad bad good zz zz zz"},
      lurn.preprocessing.from_state(rounded){"bad bad good zz zz zz"})
    local unfitted = TextVectorization():get_state()
    assert.is_false(unfitted.fitted)
    assert.is_false(lurn.preprocessing.from_state(unfitted):is_adapted())
    -- a function is named as unsaved and must be given again
    local fn = TextVectorization{split = function(s) return {s} end}
    fn:adapt{"a b"}
    local fs = fn:get_state()
    assert.same({"split"}, fs.unsaved)
    assert.error_matches(function() lurn.preprocessing.from_state(fs) end, "had a function as split")
    local again = lurn.preprocessing.from_state(fs, {split = function(s) return {s} end})
    assert.same({{2}}, rows(again{"a b"}))
    -- an edited state is checked when the layer is used
    state.attributes.vocabulary_ = {"", "[UNK]", "a", "a"}
    assert.error_matches(function() lurn.preprocessing.from_state(state){"a"} end, 'the vocabulary has "a" twice')
  end)

  it("is not a layer of a model, and says how to use it instead", function()
    local v = TextVectorization()
    v:adapt{"a"}
    assert.error_matches(function() lurn.Sequential{lurn.Input{shape = {1}}, v} end,
      "runs on strings in Lua and cannot be a layer of a model: call it before the model")
    assert.error_matches(function() v(lurn.Input{shape = {1}}) end, "takes a list of strings, not a symbolic tensor")
    assert.same({}, v:get_weights())
    assert.equal(0, v:count_params())
  end)

  it("refuses bad options and inputs, naming them", function()
    local E = assert.error_matches
    E(function() TextVectorization{ngrams = 2} end, "ngrams is not supported by lurn")
    E(function() TextVectorization{max_tokens = 1} end, "max_tokens must be an integer greater than 1")
    E(function() TextVectorization{output_mode = "one_hot"} end, 'output_mode must be "int", "multi_hot"')
    E(function() TextVectorization{output_mode = "count", output_sequence_length = 3} end,
      'output_sequence_length must not be set if output_mode is not "int"')
    E(function() TextVectorization{output_sequence_length = 0} end, "output_sequence_length must be a positive integer")
    E(function() TextVectorization{pad_to_max_tokens = true} end, "pad_to_max_tokens = true needs max_tokens")
    E(function() TextVectorization{standardize = "upper"} end, 'standardize must be "lower_and_strip_punctuation"')
    E(function() TextVectorization{split = "comma"} end, 'split must be "whitespace", "character"')
    E(function() TextVectorization{sparse = true} end, "sparse = true is not supported by lurn")
    E(function() TextVectorization{idf_weights = {1}} end, 'idf_weights should only be set if output_mode is "tf_idf"')
    E(function() TextVectorization{max_token = 3} end, "unknown option 'max_token'")
    E(function() TextVectorization{dtype = "float32"} end, 'dtype must be "string"')
    local v = TextVectorization()
    E(function() v{"a"} end, "call: this layer has no vocabulary yet: call adapt%(texts%)")
    E(function() v:adapt("one text") end, "adapt: expected a list of texts, got one string: wrap it, {text}")
    E(function() v:adapt{"a", false} end, "adapt: text 2 is missing %(false, as read_csv marks it%)")
    E(function() v:adapt{"a", 3} end, "adapt: text 2 is a number, not a string")
    E(function() v:adapt(lurn.zeros{2}) end, "expected a list of texts %(strings%), got a tensor")
    E(function() v:adapt({"a"}, {steps = 2}) end, "option 'steps' is not supported by lurn")
    -- errors point at the caller's line
    local ok, err = pcall(function() v:adapt("x") end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("text_vectorization_spec.lua:%d+:"), err)
  end)
end)

describe("TextVectorization's output size", function()
  it("is checked before anything is built: a huge width is an error, not a machine out of memory", function()
    local L = require("lurn").layers
    local v = L.TextVectorization{max_tokens = 1 << 40, output_mode = "multi_hot", pad_to_max_tokens = true}
    v:adapt{"a"}
    assert.error_matches(function() v{"a"} end, "TextVectorization: 1 rows x max_tokens 1099511627776")
    local w = L.TextVectorization{output_sequence_length = 1 << 40}
    w:adapt{"a"}
    assert.error_matches(function() w{"a"} end, "output_sequence_length 1099511627776 = ")
    -- a wide multi_hot row of a few tokens is written sparsely: the same numbers as before
    local m = L.TextVectorization{max_tokens = 5000, output_mode = "count", pad_to_max_tokens = true}
    m:adapt{"b a b c"}
    local out = m{"b b x", ""}
    assert.same({2, 5000}, out:shape())
    local column = {}
    for k, token in ipairs(m:get_vocabulary()) do column[token] = k end  -- id k - 1 is column k
    assert.equal(2, out:get(1, column.b))
    assert.equal(1, out:get(1, column["[UNK]"]))  -- x: out of vocabulary
    assert.equal(0, out:narrow(1, 2, 1):sum())  -- an empty text: nothing counted
  end)
end)
