--- lurn.preprocessing.sequence: Keras' pad_sequences, lists of token ids of different
-- lengths made into one (N, maxlen) tensor.
--
--   local x = lurn.preprocessing.sequence.pad_sequences({{1, 2, 3}, {4}}, {maxlen = 3})
--   -- {{1, 2, 3}, {0, 0, 4}}: Keras pads and truncates at the front by default
local core = require "lurn.core"
local shapes = require "lurn.shape"
local option_check = require "lurn.options"
local at_user_line = require "lurn.at_user_line"

local sequence = {}

local OPTIONS = {"maxlen", "dtype", "padding", "truncating", "value"}
-- Keras' dtype is numpy's; lurn tensors are float32, which holds these exactly as long as
-- integers stay within 2^24 (checked below).
local DTYPES = {int32 = "int", int64 = "int", int16 = "int", int8 = "int", uint8 = "int", float32 = "float",
                float64 = "float"}
local EXACT = 2 ^ 24

local function fail(msg, level) error("pad_sequences: " .. msg, level + 1) end

-- The numbers of one sequence: a Lua list or a 1-D tensor.
local function values_of(s, i, level)
  if core.is_tensor(s) then
    if s:dim() ~= 1 then
      fail(("sequence %d is a tensor of shape (%s); expected a 1-D sequence of numbers"):format(i,
        table.concat(s:shape(), ", ")), level + 1)
    end
    return s:totable()
  end
  if type(s) ~= "table" then fail(("sequence %d is a %s, not a list of numbers"):format(i, type(s)), level + 1) end
  for j = 1, #s do
    if type(s[j]) ~= "number" then
      fail(("sequence %d has a %s at position %d; expected numbers (token ids)"):format(i, type(s[j]), j), level + 1)
    end
  end
  return s
end

--- pad_sequences(sequences, {maxlen = nil, dtype = "int32", padding = "pre", truncating =
-- "pre", value = 0}) -> a float32 tensor (N, maxlen), as keras.preprocessing.sequence.
-- pad_sequences: maxlen defaults to the longest sequence; a longer one loses its first
-- values ("pre") or its last ("post"), a shorter one gets `value` in front ("pre") or
-- behind ("post"). An integer dtype truncates fractions toward zero, as numpy's cast does.
sequence.pad_sequences = at_user_line(function(sequences, opts)
  local level = 2
  option_check.check(opts, OPTIONS, "pad_sequences", level)
  opts = opts or {}
  if type(sequences) ~= "table" or core.is_tensor(sequences) then
    fail(("sequences must be a list of lists of numbers, got %s"):format(
      core.is_tensor(sequences) and "a tensor" or type(sequences)), level)
  end
  local dtype = opts.dtype or "int32"
  local kind = DTYPES[dtype]
  if not kind then
    fail(("dtype %s is not supported: lurn stores the result as float32; use int32 (the default) or float32")
      :format(tostring(dtype)), level)
  end
  local padding, truncating = opts.padding or "pre", opts.truncating or "pre"
  if padding ~= "pre" and padding ~= "post" then
    fail(("padding must be \"pre\" or \"post\", got %s"):format(tostring(padding)), level)
  end
  if truncating ~= "pre" and truncating ~= "post" then
    fail(("truncating must be \"pre\" or \"post\", got %s"):format(tostring(truncating)), level)
  end
  local value = opts.value == nil and 0 or opts.value
  if type(value) ~= "number" then fail(("value must be a number, got %s"):format(type(value)), level) end
  local n = #sequences
  local rows, longest = {}, 0
  for i = 1, n do
    rows[i] = values_of(sequences[i], i, level)
    longest = math.max(longest, #rows[i])
  end
  local maxlen = opts.maxlen
  if maxlen == nil then
    if n == 0 then fail("no sequences and no maxlen: the width of the result is unknown", level) end
    maxlen = longest
  elseif math.type(maxlen) ~= "integer" and not (type(maxlen) == "number" and maxlen == math.floor(maxlen)) then
    fail(("maxlen must be a positive integer, got %s"):format(tostring(maxlen)), level)
  elseif maxlen < 1 then
    fail(("maxlen must be a positive integer, got %s"):format(tostring(maxlen)), level)
  end
  maxlen = math.tointeger(maxlen)
  local function cast(v, where)
    if kind == "int" then
      if v ~= v or v == math.huge or v == -math.huge then fail(("%s is %s, not an integer"):format(where, v), level) end
      v = v < 0 and math.ceil(v) or math.floor(v)
      if math.abs(v) > EXACT then
        fail(("%s is %d, beyond 2^24: float32 would not hold it exactly"):format(where, v), level)
      end
    end
    return v
  end
  value = cast(value, "value")
  if maxlen == 0 or n == 0 then return core.zeros{n, maxlen} end
  shapes.check_lua_values(n, maxlen, "pad_sequences", "maxlen", 3)
  local flat = {}
  for k = 1, n * maxlen do flat[k] = value end
  for i = 1, n do
    local s = rows[i]
    local len = #s
    local first = 1  -- of s, the first value kept
    if len > maxlen then
      first = truncating == "pre" and len - maxlen + 1 or 1
      len = maxlen
    end
    local offset = (i - 1) * maxlen + (padding == "pre" and maxlen - len or 0)
    for j = 0, len - 1 do
      flat[offset + j + 1] = cast(s[first + j], ("sequence %d, position %d"):format(i, first + j))
    end
  end
  return core.tensor(flat):reshape{n, maxlen}
end)

return sequence
