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

--- Whether a and b are the same shape: two lists of the same sizes.
function shape.same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" or #a ~= #b then return false end
  for i = 1, #b do if a[i] ~= b[i] then return false end end
  return true
end

return shape
