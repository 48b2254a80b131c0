--- What lurn.plot's functions take, read and checked at the door: lists of numbers (Lua
-- tables or 1-D tensors), matrices (tables of rows or 2-D tensors), lists of labels.
-- Every error names the function (`where`) and the argument (`what`). Internal.
local core = require "lurn.core"

local values = {}

--- Points per series, cells per matrix: past this a plot is unreadable and its script huge.
values.MAX_POINTS = 1000000

--- Raises "where: message" (fmt and its arguments) with no position: lurn.plot wraps each
-- function in at_user_line, which puts the user's line in front. Every plot file uses this one.
function values.fail(where, fmt, ...) error(where .. ": " .. fmt:format(...), 0) end

local fail = values.fail

-- The length of a plain list (rawlen: a __len cannot make it claim more than it holds).
local function list_length(t, where, what)
  local n = rawlen(t)
  if n > values.MAX_POINTS then fail(where, "%s has %d entries, more than %d", what, n, values.MAX_POINTS) end
  return n
end

--- A list of numbers from a Lua table or a 1-D tensor; NaN and infinities are kept (gnuplot skips them).
function values.numbers(x, where, what)
  if core.is_tensor(x) then
    if x:dim() ~= 1 then fail(where, "%s must be a 1-D tensor, got %d dimensions", what, x:dim()) end
    if x:numel() > values.MAX_POINTS then fail(where, "%s has more than %d values", what, values.MAX_POINTS) end
    return x:totable()
  end
  if type(x) ~= "table" then fail(where, "%s must be a list of numbers or a 1-D tensor, got %s", what, type(x)) end
  local out = {}
  for i = 1, list_length(x, where, what) do
    local v = rawget(x, i)
    if type(v) ~= "number" then fail(where, "%s[%d] must be a number, got %s", what, i, type(v)) end
    out[i] = v
  end
  return out
end

--- A matrix (a list of rows) from a table of rows or a 2-D tensor, rows of equal length.
function values.matrix(m, where, what)
  if core.is_tensor(m) then
    if m:dim() ~= 2 then fail(where, "%s must be a 2-D tensor, got %d dimensions", what, m:dim()) end
    if m:numel() > values.MAX_POINTS then fail(where, "%s has more than %d values", what, values.MAX_POINTS) end
    if m:numel() == 0 then fail(where, "%s is empty", what) end
    return m:totable()
  end
  if type(m) ~= "table" then fail(where, "%s must be a table of rows or a 2-D tensor, got %s", what, type(m)) end
  local rows = {}
  local n = list_length(m, where, what)
  if n == 0 then fail(where, "%s is empty", what) end
  for i = 1, n do
    rows[i] = values.numbers(rawget(m, i), where, ("%s[%d]"):format(what, i))
    if #rows[i] ~= #rows[1] or #rows[i] == 0 then
      fail(where, "%s: row %d has %d values, row 1 has %d", what, i, #rows[i], #rows[1])
    end
  end
  return rows
end

--- A list of n labels (strings or numbers, or a 1-D tensor of numbers: class labels), or
-- nil when labels is nil. Whole numbers are written without a decimal point (3, not 3.0).
function values.labels(labels, n, where, what)
  if labels == nil then return nil end
  if core.is_tensor(labels) then labels = values.numbers(labels, where, what) end
  if type(labels) ~= "table" then fail(where, "%s must be a list of strings, got %s", what, type(labels)) end
  local len = list_length(labels, where, what)
  if len ~= n then fail(where, "%s has %d entries for %d values", what, len, n) end
  local out = {}
  for i = 1, n do
    local v = rawget(labels, i)
    if type(v) ~= "string" and type(v) ~= "number" then
      fail(where, "%s[%d] must be a string, got %s", what, i, type(v))
    end
    out[i] = tostring(math.tointeger(v) or v)
  end
  return out
end

--- A text option (title, axis label): nil, a string or a number.
function values.text(v, where, what)
  if v ~= nil and type(v) ~= "string" and type(v) ~= "number" then
    fail(where, "%s must be a string, got %s", what, type(v))
  end
  return v ~= nil and tostring(v) or nil
end

--- An option that must be nil or a boolean.
function values.flag(v, where, what)
  if v ~= nil and type(v) ~= "boolean" then fail(where, "%s must be true or false, got %s", what, type(v)) end
  return v
end

--- A whole number in [lo, hi], or default when nil.
function values.count(v, default, lo, hi, where, what)
  if v == nil then return default end
  if math.type(v) ~= "integer" and not (type(v) == "number" and v == math.floor(v)) or v < lo or v > hi then
    fail(where, "%s must be a whole number from %d to %d, got %s", what, lo, hi, tostring(v))
  end
  return math.tointeger(v)
end

return values
