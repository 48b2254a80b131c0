--- Class labels in the forms lurn accepts, turned into 0-based codes over sorted classes:
-- a tensor (N,) or (N, 1) of numbers, one-hot or probability rows (N, C) (the class is
-- the position of the largest, 0-based), or a Lua list of strings (false: missing) or of
-- numbers. Used by the encoders, the stratified splits and check_splits.
local core = require "lurn.core"
local base = require "lurn.preprocessing.base"

local labels = {}

--- The number of samples of a tensor or a list.
function labels.count(y)
  if core.is_tensor(y) then return y:dim() == 0 and 0 or y:size(1) end
  return #y
end

--- A 1-D tensor or a list of strings: what the category functions take.
-- Returns values, kind ("number" | "string").
function labels.values(y, who, level)
  level = (level or 2) + 1
  if core.is_tensor(y) then
    if y:dim() == 1 then return y, "number" end
    if y:dim() == 2 and y:size(2) == 1 then return y:reshape(y:size(1)), "number" end
    if y:dim() == 2 then return y:argmax(2) - 1, "number" end
    error(("%s: labels must be (N,), (N, 1) or one-hot (N, C), got %d dimensions"):format(who, y:dim()), level)
  end
  if type(y) ~= "table" then
    error(("%s: labels must be a tensor or a list, got %s"):format(who, type(y)), level)
  end
  local first = y[1]
  if type(first) == "number" then
    local ok, t = pcall(core.tensor, y)
    if not ok then error(("%s: labels: %s"):format(who, base.message(t)), level) end
    return t, "number"
  end
  return y, "string"
end

--- labels.of(y) -> {codes = (N,) tensor of 0-based codes, classes = sorted tensor or list
-- of strings, counts = tensor, k = number of classes, kind =}.
function labels.of(y, who, level)
  level = (level or 2) + 1
  local v, kind = labels.values(y, who, level)
  local unique, encode = core.unique, core.encode
  if kind == "string" then unique, encode = core.unique_strings, core.encode_strings end
  local ok, classes, counts = pcall(unique, v)
  local codes
  if ok then ok, codes = pcall(encode, v, classes, false) else codes = classes end
  if not ok then error(("%s: labels: %s"):format(who, base.message(codes)), level) end
  local k = kind == "number" and classes:size(1) or #classes
  return {codes = codes, classes = classes, counts = counts, k = k, kind = kind}
end

--- The i-th class (1-based) as a Lua value: a number (integer when whole) or a string.
function labels.class_value(classes, i)
  if core.is_tensor(classes) then
    local v = classes:get(i)
    return math.tointeger(v) or v
  end
  return classes[i]
end

return labels
