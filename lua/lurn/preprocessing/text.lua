--- lurn.preprocessing.text: the steps of Keras 2's TextVectorization on Lua strings
-- (lurn.layers.TextVectorization is built on them): standardize, split, and the
-- vocabulary that adapt learns, ordered as Keras orders it.
--
--   local text = lurn.preprocessing.text
--   text.standardize("Hello, World!")          -- "hello world"
--   text.split("hello  world")                 -- {"hello", "world"}
--   text.vocabulary(text.count({{"b", "a", "b"}}))  -- {"b", "a"}
--
-- Text is UTF-8 (any bytes pass through standardize and "whitespace"). Lowercasing is
-- ASCII's A-Z only, as Keras 2's tf.strings.lower with its default encoding: "ÉCOLE" becomes
-- "École", and non-ASCII punctuation (« », curly quotes) stays.
local text = {}

-- Keras 2's DEFAULT_STRIP_REGEX, [!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\'], is every ASCII
-- punctuation character: the four byte ranges ! to /, : to @, [ to ` and { to ~, which
-- Lua matches several times faster than a set listing the 32 characters.
text.PUNCTUATION = [[!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~]]
local STRIP = "[!-/:-@[-`{-~]"

-- A-Z to a-z by a table: string.lower follows the C locale, which a host may have changed.
local LOWER = {}
for c = ("A"):byte(), ("Z"):byte() do LOWER[string.char(c)] = string.char(c + 32) end

-- tf.strings.split's whitespace (absl's ascii_isspace), not Lua's %s, which follows the locale.
local WORD = "[^ \t\n\v\f\r]+"

local STANDARDIZE = {lower_and_strip_punctuation = true, lower = true, strip_punctuation = true}
local SPLIT = {whitespace = true, character = true}
text.STANDARDIZE_MODES = {"lower_and_strip_punctuation", "lower", "strip_punctuation"}
text.SPLIT_MODES = {"whitespace", "character"}

--- standardize(s [, mode]) -> s lowercased and/or without punctuation, as Keras 2.
-- mode: "lower_and_strip_punctuation" (default), "lower", "strip_punctuation", false
-- (none: Keras' None) or a function(s) -> string.
function text.standardize(s, mode)
  if type(s) ~= "string" then error(("standardize: expected a string, got %s"):format(type(s)), 2) end
  if mode == nil then mode = "lower_and_strip_punctuation" end
  if mode == false then return s end
  if type(mode) == "function" then
    local out = mode(s)
    if type(out) ~= "string" then
      error(("standardize: the standardize function returned a %s, not a string"):format(type(out)), 2)
    end
    return out
  end
  if not STANDARDIZE[mode] then
    error(("standardize: unknown mode %s (known: %s, false, or a function)"):format(tostring(mode),
      table.concat(text.STANDARDIZE_MODES, ", ")), 2)
  end
  if mode ~= "strip_punctuation" then s = s:gsub("[A-Z]", LOWER) end
  if mode ~= "lower" then s = s:gsub(STRIP, "") end
  return s
end

--- split(s [, mode]) -> the list of tokens of s: "whitespace" (default; runs of spaces,
-- tabs and line ends separate, none is empty), "character" (one token per UTF-8
-- character; invalid UTF-8 is an error), false (the whole string is one token: Keras'
-- None) or a function(s) -> list of strings.
function text.split(s, mode)
  if type(s) ~= "string" then error(("split: expected a string, got %s"):format(type(s)), 2) end
  if mode == nil then mode = "whitespace" end
  local tokens = {}
  if mode == false then
    tokens[1] = s
  elseif mode == "whitespace" then
    for w in s:gmatch(WORD) do tokens[#tokens + 1] = w end
  elseif mode == "character" then
    if not utf8.len(s) then
      local _, bad = utf8.len(s)
      error(("split: the text is not valid UTF-8 (byte %d)"):format(bad), 2)
    end
    for _, code in utf8.codes(s) do tokens[#tokens + 1] = utf8.char(code) end
  elseif type(mode) == "function" then
    tokens = mode(s)
    if type(tokens) ~= "table" then
      error(("split: the split function returned a %s, not a list of strings"):format(type(tokens)), 2)
    end
    for i = 1, #tokens do
      if type(tokens[i]) ~= "string" then
        error(("split: the split function returned a %s at position %d, not a string"):format(type(tokens[i]), i), 2)
      end
    end
  else
    local known = table.concat(text.SPLIT_MODES, ", ")
    error(("split: unknown mode %s (known: %s, false, or a function)"):format(tostring(mode), known), 2)
  end
  return tokens
end

--- tokenize(s [, standardize [, split]]) -> split(standardize(s)).
function text.tokenize(s, standardize, split)
  return text.split(text.standardize(s, standardize), split)
end

--- count(token_lists) -> counts, documents: how often each token occurs over all the lists
-- ({token = n}) and in how many lists ({token = n}), what adapt gathers.
function text.count(token_lists)
  if type(token_lists) ~= "table" then
    error(("count: expected a list of token lists, got %s"):format(type(token_lists)), 2)
  end
  local counts, documents = {}, {}
  for i, tokens in ipairs(token_lists) do
    if type(tokens) ~= "table" then error(("count: entry %d is a %s, not a list of tokens"):format(i, type(tokens)), 2) end
    local seen = {}
    for _, t in ipairs(tokens) do
      counts[t] = (counts[t] or 0) + 1
      if not seen[t] then
        seen[t] = true
        documents[t] = (documents[t] or 0) + 1
      end
    end
  end
  return counts, documents
end

-- a < b byte by byte, as numpy compares the bytes Keras sorts (Lua's < follows the locale).
local function bytes_less(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = a:byte(i), b:byte(i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
text._bytes_less = bytes_less

--- vocabulary(counts [, max_size]) -> the tokens of counts ({token = n}) as Keras' adapt
-- orders them: most frequent first, ties in descending byte order ("c", "b", "a"), the
-- way np.lexsort((tokens, counts))[::-1] leaves them; at most max_size of them.
function text.vocabulary(counts, max_size)
  if type(counts) ~= "table" then error(("vocabulary: expected a table {token = count}, got %s"):format(type(counts)), 2) end
  local tokens = {}
  for t, n in pairs(counts) do
    if type(t) ~= "string" or math.type(n) ~= "integer" then
      error(("vocabulary: counts must map tokens (strings) to whole numbers, got %s = %s"):format(tostring(t),
        tostring(n)), 2)
    end
    tokens[#tokens + 1] = t
  end
  table.sort(tokens, function(a, b)
    local ca, cb = counts[a], counts[b]
    if ca ~= cb then return ca > cb end
    return bytes_less(b, a)
  end)
  if max_size and #tokens > max_size then
    for i = #tokens, max_size + 1, -1 do tokens[i] = nil end
  end
  return tokens
end

return text
