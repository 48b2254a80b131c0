--- Shapes and short lists given by users (input_shape, Input{shape}, Reshape's target,
-- build's argument, a merge's inputs), read once into a plain Lua list. A table's length
-- and elements are read through at most `max` metamethod calls: a __len that claims 2^40
-- entries, or an __index that never returns nil, is refused instead of copied for minutes
-- or iterated forever. Internal: not part of the lurn table.
local shape = {}

-- Most dimensions of a sample: a tensor has at most 8, one of them the batch.
shape.MAX_DIMS = 7

--- A plain copy of list `t` of 1..max entries (max: shape.MAX_DIMS), or an error
-- "WHERE: WHAT must be a table of 1 to MAX sizes, ..." raised at `level` (1: the caller's
-- caller). Entries are not checked: callers say what their sizes may be.
function shape.list(t, where, what, level, max)
  max = max or shape.MAX_DIMS
  local n = type(t) == "table" and #t or nil
  if math.type(n) ~= "integer" or n < 1 or n > max then
    error(("%s: %s must be a table of 1 to %d entries, got %s"):format(where, what, max,
      type(t) == "table" and ("one whose length is " .. tostring(n)) or type(t)), (level or 1) + 1)
  end
  local out = {}
  for i = 1, n do out[i] = t[i] end
  return out
end

--- The number of values of a per-sample shape (the product of its sizes).
function shape.numel(list)
  local n = 1
  for _, v in ipairs(list) do n = n * v end
  return n
end

--- Whether a and b are the same shape: two lists of the same sizes.
function shape.same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" or #a ~= #b then return false end
  for i = 1, #b do if a[i] ~= b[i] then return false end end
  return true
end

--- The most values a function that builds its output in Lua (TextVectorization's outputs,
-- pad_sequences) makes in one call: 2^26 (a 256 MB tensor, a Lua list of 1 GB on the way).
shape.MAX_LUA_VALUES = 1 << 26

--- Raises "WHERE: ..." at `level` unless rows x width values stay within MAX_LUA_VALUES:
-- checked before anything is built, so that a huge width is an error, not a machine
-- brought to its knees. `width_name` names the option that gave the width.
function shape.check_lua_values(rows, width, where, width_name, level)
  if width > 0 and rows > shape.MAX_LUA_VALUES // width then
    error(("%s: %d rows x %s %d = %.0f values, more than the %d one call makes; call it on fewer at a time or "
      .. "lower %s"):format(where, rows, width_name, width, rows * width, shape.MAX_LUA_VALUES, width_name),
      level + 1)
  end
end

return shape
