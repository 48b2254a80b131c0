--- TextVectorization{max_tokens =, standardize = "lower_and_strip_punctuation", split =
-- "whitespace", output_mode = "int", output_sequence_length =, pad_to_max_tokens = false,
-- vocabulary =, idf_weights =}: Keras 2's text layer, strings in, token ids out.
--
--   local vectorize = L.TextVectorization{max_tokens = 10000, output_sequence_length = 50}
--   vectorize:adapt(train_texts)              -- the vocabulary, most frequent words first
--   local x_train = vectorize(train_texts)    -- (N, 50) ids: 0 padding, 1 unknown word
--   local x_test = vectorize(test_texts)      -- the same word, the same id
--
-- It runs in Lua on strings, before the model: lurn models compute on float tensors in C,
-- so this layer is not added to a model (doing so is an error saying this); call it on the
-- texts and give its output to fit, evaluate and predict. Its vocabulary is saved with the
-- model through get_state (model:save(path, {preprocessing = {vectorizer = v}})) or in its
-- config. Ids are float32, exact up to 2^24.
local core = require "lurn.core"
local shapes = require "lurn.shape"
local Layer = require "lurn.layers.layer"
local at_user_line = require "lurn.at_user_line"
local option_check = require "lurn.options"
local text = require "lurn.preprocessing.text"
local base = require "lurn.preprocessing.base"
local symbolic = require "lurn.symbolic"

local TextVectorization = Layer._define("TextVectorization")
local NAME = "TextVectorization"

local OPTIONS = {"max_tokens", "standardize", "split", "ngrams", "output_mode", "output_sequence_length",
                 "pad_to_max_tokens", "vocabulary", "idf_weights", "sparse", "ragged", "encoding", "vocabulary_size",
                 "name", "trainable", "dtype"}
local MODES = {int = "int", multi_hot = "multi_hot", count = "count", tf_idf = "tf_idf",
               binary = "multi_hot", ["tf-idf"] = "tf_idf"}  -- the last two: Keras' deprecated names
local MASK, OOV = "", "[UNK]"

local function fail(msg, level) error(NAME .. ": " .. msg, level + 1) end

-- x rounded to float32. Keras keeps idf weights in float32; so does this layer, and it
-- rounds them again where it uses them, so that a state written with fewer digits than a
-- double has (a model file's text) gives the same outputs bit for bit.
local function f32(x) return (string.unpack("f", string.pack("f", x))) end

local function positive_integer(v) return math.type(v) == "integer" and v >= 1 end

-- Whether a mode option (standardize, split) is one of the names, false (None) or a function.
local function check_mode(v, key, names, level)
  if v == false or type(v) == "function" then return end
  for _, name in ipairs(names) do if v == name then return end end
  fail(("%s must be %s, false (none) or a function, got %s"):format(key,
    '"' .. table.concat(names, '", "') .. '"', type(v) == "string" and ('"' .. v .. '"') or tostring(v)), level + 1)
end

function TextVectorization._new(opts)
  local level = 2
  if opts ~= nil and type(opts) ~= "table" then
    fail(("expected an options table {max_tokens = ..., ...}, got %s"):format(type(opts)), level)
  end
  option_check.check(opts, OPTIONS, NAME, level)
  opts = opts or {}
  local self = setmetatable({}, TextVectorization)
  -- a string layer: Keras' dtype is "string", and it has no input_shape of its own
  if opts.dtype ~= nil and opts.dtype ~= "string" then
    fail(("dtype must be \"string\" (it takes text), got %s"):format(tostring(opts.dtype)), level)
  end
  Layer.setup(self, {name = opts.name, trainable = opts.trainable})
  local max_tokens = opts.max_tokens
  if max_tokens ~= nil and not (math.type(max_tokens) == "integer" and max_tokens > 1) then
    fail(("max_tokens must be an integer greater than 1 (it counts the padding and OOV tokens), got %s")
      :format(tostring(max_tokens)), level)
  end
  local standardize = opts.standardize == nil and "lower_and_strip_punctuation" or opts.standardize
  check_mode(standardize, "standardize", text.STANDARDIZE_MODES, level)
  local split = opts.split == nil and "whitespace" or opts.split
  check_mode(split, "split", text.SPLIT_MODES, level)
  if opts.ngrams ~= nil then
    fail("ngrams is not supported by lurn: tokens are single words (leave ngrams unset)", level)
  end
  local mode = MODES[opts.output_mode or "int"]
  if not mode then
    fail(("output_mode must be \"int\", \"multi_hot\", \"count\" or \"tf_idf\", got %s"):format(
      tostring(opts.output_mode)), level)
  end
  local length = opts.output_sequence_length
  if length ~= nil then
    if mode ~= "int" then
      fail(("output_sequence_length must not be set if output_mode is not \"int\" (it is \"%s\")"):format(mode), level)
    end
    if not positive_integer(length) then
      fail(("output_sequence_length must be a positive integer, got %s"):format(tostring(length)), level)
    end
  end
  local pad = opts.pad_to_max_tokens or false
  if type(pad) ~= "boolean" then
    fail(("pad_to_max_tokens must be true or false, got %s"):format(tostring(pad)), level)
  end
  if pad and max_tokens == nil then fail("pad_to_max_tokens = true needs max_tokens", level) end
  -- Keras configs carry these: vocabulary_size, which Keras drops when it reads a config,
  -- and encoding, which here can only be UTF-8
  if opts.encoding ~= nil and opts.encoding ~= "utf-8" then
    fail(("encoding must be \"utf-8\" (lurn reads text as UTF-8 bytes), got %s"):format(tostring(opts.encoding)), level)
  end
  for _, key in ipairs{"sparse", "ragged"} do
    if opts[key] ~= nil and opts[key] ~= false then
      fail(("%s = %s is not supported by lurn: outputs are dense tensors"):format(key, tostring(opts[key])), level)
    end
  end
  if opts.idf_weights ~= nil and mode ~= "tf_idf" then
    fail(("idf_weights should only be set if output_mode is \"tf_idf\" (it is \"%s\")"):format(mode), level)
  end
  self.max_tokens, self.standardize, self.split, self.output_mode = max_tokens, standardize, split, mode
  self.output_sequence_length, self.pad_to_max_tokens = length, pad
  self.built = true  -- nothing to build: no weights, no C layer
  -- As Keras: a layer given its vocabulary is not adapted (adapt would replace it).
  self._has_input_vocabulary = opts.vocabulary ~= nil
  if opts.vocabulary ~= nil then
    local ok, err = pcall(self.set_vocabulary, self, opts.vocabulary, opts.idf_weights)
    if not ok then error(base.message(err), level) end
  elseif mode == "tf_idf" and opts.idf_weights ~= nil then
    fail("idf_weights needs vocabulary: give both, or adapt the layer", level)
  end
  return self
end

-- lurn.preprocessing.from_state builds the layer from its options, then sets these.
TextVectorization.new = TextVectorization._new
TextVectorization._attributes = {"vocabulary_", "idf_weights_"}
base.registry[NAME] = TextVectorization

-- Padding and OOV come first in "int" mode; other modes have no padding token.
function TextVectorization:_specials()
  return self.output_mode == "int" and {MASK, OOV} or {OOV}
end

local function is_list_of_strings(v)
  if type(v) ~= "table" or core.is_tensor(v) then return false end
  for i = 1, #v do if type(v[i]) ~= "string" then return false, i end end
  return true
end

-- The lookup table {token = id} of vocabulary_ (with the special tokens first), made
-- again when vocabulary_ was replaced (adapt, set_vocabulary, from_state), and checked then,
-- since a state is data someone may have edited.
function TextVectorization:_lookup(what, level)
  level = level + 1
  local vocab = self.vocabulary_
  if vocab == nil then
    fail(("%s: this layer has no vocabulary yet: call adapt(texts) or give vocabulary = {...}"):format(what), level)
  end
  if self._index_of == vocab then return self._index end
  local ok, bad = is_list_of_strings(vocab)
  if not ok then
    fail(("%s: vocabulary_ must be a list of strings%s"):format(what, bad and (", not a " .. type(vocab[bad])
      .. " at " .. bad) or ""), level)
  end
  local specials = self:_specials()
  for i, s in ipairs(specials) do
    if vocab[i] ~= s then
      fail(("%s: vocabulary_ must start with %s, as get_vocabulary() gives it"):format(what,
        #specials == 2 and '"" (padding) and "[UNK]"' or '"[UNK]"'), level)
    end
  end
  local index = {}
  for i = #specials + 1, #vocab do
    local token = vocab[i]
    if index[token] or token == MASK then
      fail(("%s: the vocabulary has \"%s\" twice"):format(what, token), level)
    end
    index[token] = i - 1  -- 0-based ids, as Keras
  end
  if self.output_mode == "tf_idf" then
    local idf = self.idf_weights_
    if type(idf) ~= "table" or #idf ~= #vocab then
      fail(("%s: idf_weights_ must hold one number per vocabulary entry (%d)"):format(what, #vocab), level)
    end
  end
  self._index, self._index_of = index, vocab
  return index
end

-- The texts of a call or of adapt: a list of strings ({{"a"}, {"b"}}, Keras' (N, 1), works
-- too); a missing value (false, from read_csv) or a number is an error naming it.
local function texts_of(data, what, level)
  level = level + 1
  if type(data) == "string" then
    fail(("%s: expected a list of texts, got one string: wrap it, {text}"):format(what), level)
  end
  if type(data) ~= "table" or core.is_tensor(data) then
    fail(("%s: expected a list of texts (strings), got %s"):format(what,
      core.is_tensor(data) and "a tensor" or type(data)), level)
  end
  local out = {}
  for i = 1, #data do
    local s = data[i]
    if type(s) == "table" and #s == 1 and type(s[1]) == "string" then s = s[1] end
    if s == false then
      fail(("%s: text %d is missing (false, as read_csv marks it): fill or drop it first"):format(what, i), level)
    end
    if type(s) ~= "string" then fail(("%s: text %d is a %s, not a string"):format(what, i, type(s)), level) end
    out[i] = s
  end
  return out
end

function TextVectorization:_tokens(texts, what, level)
  local lists = {}
  for i, s in ipairs(texts) do
    local ok, tokens = pcall(text.tokenize, s, self.standardize, self.split)
    if not ok then fail(("%s: text %d: %s"):format(what, i, base.message(tokens)), level + 1) end
    lists[i] = tokens
  end
  return lists
end

--- adapt(texts): learns the vocabulary from a list of strings, as Keras' adapt: every
-- token counted, the max_tokens - 2 ("int"; - 1 otherwise) most frequent kept, most
-- frequent first, ties in descending byte order; in "tf_idf" mode, the inverse document
-- frequencies log(1 + N / (1 + documents with the token)), the OOV's their mean. A second
-- adapt starts again.
TextVectorization.adapt = at_user_line(function(self, data, opts)
  self:_check_instance()
  option_check.check(opts, {"batch_size"}, NAME .. ":adapt", 2, {unsupported = {"steps"}})
  if self._has_input_vocabulary then
    fail(("adapt: layer '%s' was given its vocabulary, so it cannot be adapted (as Keras): make a new "
      .. "TextVectorization without vocabulary to adapt"):format(self.name), 2)
  end
  local lists = self:_tokens(texts_of(data, "adapt", 2), "adapt", 2)
  local counts, documents = text.count(lists)
  counts[MASK], counts[OOV] = nil, nil
  local specials = self:_specials()
  local tokens = text.vocabulary(counts, self.max_tokens and self.max_tokens - #specials)
  local vocab = table.move(tokens, 1, #tokens, #specials + 1, table.move(specials, 1, #specials, 1, {}))
  local idf
  if self.output_mode == "tf_idf" then
    idf = {}
    local sum = 0
    for i, t in ipairs(tokens) do
      idf[#specials + i] = f32(math.log(1 + #lists / (1 + documents[t])))
      sum = sum + idf[#specials + i]
    end
    idf[1] = #tokens > 0 and f32(sum / #tokens) or 0  -- the OOV's: Keras pads with the mean
  end
  self.vocabulary_, self.idf_weights_ = vocab, idf
  return self
end)

--- set_vocabulary(vocabulary [, idf_weights]): as Keras: the tokens (with or without ""
-- and "[UNK]" in front), no repeats, at most max_tokens in all; in "tf_idf" mode
-- idf_weights, one per entry given (the OOV's is their mean when the special tokens are
-- not given).
TextVectorization.set_vocabulary = at_user_line(function(self, vocabulary, idf_weights)
  self:_check_instance()
  local ok, bad = is_list_of_strings(vocabulary)
  if not ok then
    fail(("set_vocabulary: vocabulary must be a list of strings%s"):format(bad and
      (", got a " .. type(vocabulary[bad]) .. " at position " .. bad) or (", got " .. type(vocabulary))), 2)
  end
  if #vocabulary == 0 then fail("set_vocabulary: cannot set an empty vocabulary", 2) end
  local specials = self:_specials()
  local found = true
  for i, s in ipairs(specials) do found = found and vocabulary[i] == s end
  local first = found and #specials + 1 or 1
  local seen, repeated = {}, {}
  for i = first, #vocabulary do
    local token = vocabulary[i]
    if token == MASK then
      fail(("set_vocabulary: found the padding token \"\" at position %d; it may only come first, followed by "
        .. "\"[UNK]\" (or leave both out)"):format(i), 2)
    end
    if seen[token] and not repeated[token] then repeated[#repeated + 1], repeated[token] = token, true end
    seen[token] = true
  end
  if #repeated > 0 then
    fail(("set_vocabulary: the vocabulary has repeated terms: %s"):format(table.concat(repeated, ", ")), 2)
  end
  local size = #specials + #vocabulary - first + 1
  if self.max_tokens and size > self.max_tokens then
    fail(("set_vocabulary: the vocabulary has %d entries with the special tokens; max_tokens is %d"):format(size,
      self.max_tokens), 2)
  end
  local idf
  if self.output_mode == "tf_idf" then
    if idf_weights == nil then fail("set_vocabulary: idf_weights must be set if output_mode is \"tf_idf\"", 2) end
    if core.is_tensor(idf_weights) then idf_weights = idf_weights:totable() end
    if type(idf_weights) ~= "table" or #idf_weights ~= #vocabulary then
      fail(("set_vocabulary: idf_weights must hold %d numbers, one per vocabulary entry, got %s"):format(#vocabulary,
        type(idf_weights) == "table" and #idf_weights or type(idf_weights)), 2)
    end
    idf = {}
    local sum = 0
    for i = 1, #idf_weights do
      if type(idf_weights[i]) ~= "number" then
        fail(("set_vocabulary: idf_weights[%d] is a %s, not a number"):format(i, type(idf_weights[i])), 2)
      end
      sum = sum + idf_weights[i]
    end
    if found then
      idf = table.move(idf_weights, 1, #idf_weights, 1, {})
    else
      idf = table.move(idf_weights, 1, #idf_weights, 2, {sum / #idf_weights})
    end
    for i = 1, #idf do idf[i] = f32(idf[i]) end
  elseif idf_weights ~= nil then
    fail(("set_vocabulary: idf_weights should only be set if output_mode is \"tf_idf\" (it is \"%s\")"):format(
      self.output_mode), 2)
  end
  self.vocabulary_ = table.move(vocabulary, first, #vocabulary, #specials + 1,
    table.move(specials, 1, #specials, 1, {}))
  self.idf_weights_ = idf
  return self
end)

--- get_vocabulary([include_special_tokens = true]) -> a copy of the vocabulary: in "int"
-- mode {"", "[UNK]", tokens...} (the position of a token, from 0, is its id), else
-- {"[UNK]", tokens...}; {} before adapt.
function TextVectorization:get_vocabulary(include_special_tokens)
  self:_check_instance()
  local vocab = self.vocabulary_ or {}
  local first = include_special_tokens == false and #self:_specials() + 1 or 1
  if #vocab == 0 then first = 1 end
  return table.move(vocab, first, #vocab, 1, {})
end

--- vocabulary_size() -> the number of ids, special tokens included.
function TextVectorization:vocabulary_size()
  self:_check_instance()
  return self.vocabulary_ and #self.vocabulary_ or #self:_specials()
end

--- is_adapted() -> whether the layer has a vocabulary (adapted, or given one).
function TextVectorization:is_adapted() return self.vocabulary_ ~= nil end

-- The ids of each text: (N, length) with 0 after the last token (or cut at length).
function TextVectorization:_int_output(lists, index)
  local n, length = #lists, self.output_sequence_length
  if not length then
    length = 0
    for _, tokens in ipairs(lists) do length = math.max(length, #tokens) end
  end
  if n == 0 or length == 0 then return core.zeros{n, length} end
  shapes.check_lua_values(n, length, "TextVectorization", "output_sequence_length", 3)
  local flat = {}
  for i, tokens in ipairs(lists) do
    local row = (i - 1) * length
    for j = 1, length do
      local t = tokens[j]
      flat[row + j] = t == nil and 0 or (index[t] or (t == MASK and 0 or 1))
    end
  end
  return core.tensor(flat):reshape{n, length}
end

-- One row per text over the vocabulary (or max_tokens): counts, 0/1, or counts * idf.
function TextVectorization:_bag_output(lists, index)
  local n = #lists
  local depth = self.pad_to_max_tokens and self.max_tokens or #self.vocabulary_
  if n == 0 then return core.zeros{n, depth} end
  shapes.check_lua_values(n, depth, "TextVectorization", "max_tokens", 3)
  -- a row holds few tokens: count them in a table, then write only those into zeros
  local out = core.zeros{n, depth}
  local idf, mode = self.idf_weights_, self.output_mode
  for i, tokens in ipairs(lists) do
    local counts = {}
    for _, t in ipairs(tokens) do
      if t ~= MASK then  -- padding is dropped in these modes, as Keras
        local k = (index[t] or 0) + 1
        counts[k] = mode == "multi_hot" and 1 or (counts[k] or 0) + 1
      end
    end
    for k, c in pairs(counts) do
      out:set(i, k, mode == "tf_idf" and c * f32(idf[k]) or c)
    end
  end
  return out
end

--- vectorize(texts) -> a float32 tensor: (N, length) token ids in "int" mode (padded with
-- 0 to the longest text or to output_sequence_length, cut at the end), else (N,
-- vocabulary_size()) (or max_tokens with pad_to_max_tokens).
TextVectorization.__call = at_user_line(function(self, data)
  self:_check_instance()
  if symbolic.is(data) then
    fail(("layer '%s' takes a list of strings, not a symbolic tensor: it runs before the model, "
      .. "x = vectorizer(texts), then model:fit(x, y)"):format(self.name), 2)
  end
  local texts = texts_of(data, self.name, 2)
  local index = self:_lookup("call", 2)
  local lists = self:_tokens(texts, "call", 2)
  if self.output_mode == "int" then return self:_int_output(lists, index) end
  return self:_bag_output(lists, index)
end)

-- Not a layer of a model: the model's layers compute on float tensors in C.
local function not_in_model(self)
  error(("layer '%s' (TextVectorization) runs on strings in Lua and cannot be a layer of a model: "
    .. "call it before the model, x = vectorizer(texts), and give x to fit/evaluate/predict"):format(self.name), 0)
end
TextVectorization.build, TextVectorization._create, TextVectorization.cores = not_in_model, not_in_model, not_in_model
function TextVectorization:get_weights() return {} end
function TextVectorization:count_params() return 0 end
function TextVectorization:_param_counts() return 0, 0 end

function TextVectorization:set_weights(weights)
  if type(weights) ~= "table" or #weights ~= 0 then
    error(("layer '%s' (TextVectorization) has no weights: its vocabulary is set by adapt or set_vocabulary")
      :format(self.name), 2)
  end
end

-- The options as Keras names them, without those left at nil (a Lua table cannot hold nil).
function TextVectorization:_keras_options()
  return {max_tokens = self.max_tokens, standardize = self.standardize, split = self.split,
          output_mode = self.output_mode, output_sequence_length = self.output_sequence_length,
          pad_to_max_tokens = self.pad_to_max_tokens}
end

--- get_config() -> Keras' options, name and trainable, and the vocabulary (the special
-- tokens first, as get_vocabulary) with idf_weights in "tf_idf" mode. from_config builds a
-- layer with that vocabulary (so, as in Keras, it is not adapted again).
function TextVectorization:get_config()
  local cfg = Layer.get_config(self)
  for _, key in ipairs{"standardize", "split"} do
    if type(self[key]) == "function" then self:_not_data("its " .. key) end
  end
  for k, v in pairs(self:_keras_options()) do cfg[k] = v end
  if self.vocabulary_ then
    self:_lookup("get_config", 2)
    cfg.vocabulary = self:get_vocabulary()
    if self.idf_weights_ then cfg.idf_weights = table.move(self.idf_weights_, 1, #self.idf_weights_, 1, {}) end
  end
  return cfg
end

--- get_state() -> plain data for model files (see lurn.preprocessing): the options, and
-- vocabulary_ (with idf_weights_) once adapted; lurn.preprocessing.from_state(state)
-- makes the layer again, adapted, and still adaptable. A standardize or split function is
-- left out and named in `unsaved`.
function TextVectorization:get_state()
  self:_check_instance()
  local params = self:_keras_options()
  params.name, params.trainable = self.name, self.trainable
  local attributes = {}
  if self.vocabulary_ then
    self:_lookup("get_state", 2)
    attributes.vocabulary_ = self:get_vocabulary()
    if self.idf_weights_ then attributes.idf_weights_ = table.move(self.idf_weights_, 1, #self.idf_weights_, 1, {}) end
  end
  return base.make_state(self, params, attributes, self.vocabulary_ ~= nil)
end

return {TextVectorization = TextVectorization}
