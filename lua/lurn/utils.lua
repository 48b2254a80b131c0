--- lurn.utils: helpers with Keras' names (keras.utils.to_categorical) and
-- scikit-learn's (sklearn.utils.class_weight.compute_class_weight).
local core = require "lurn.core"

-- A caught error's text without the "file:line: " in front.
local message = require("lurn.text").message

local utils = {}

--- to_categorical(y, num_classes) -> one-hot float tensor, as keras.utils.to_categorical:
-- y holds 0-based class numbers (a tensor of any shape, or a Lua list); the result has
-- y's shape plus a last dimension of num_classes (a trailing dimension of 1 in y is
-- dropped: (N, 1) gives (N, num_classes)). num_classes defaults to max(y) + 1. A label
-- that is not a whole number in 0..num_classes-1 is an error naming it and its position.
function utils.to_categorical(y, num_classes)
  if type(y) == "table" and not core.is_tensor(y) then
    local ok, t = pcall(core.tensor, y)
    if not ok then error("to_categorical: y must be a tensor or a list of numbers: " .. message(t), 2) end
    y = t
  end
  if not core.is_tensor(y) then error("to_categorical: y must be a tensor or a list of numbers, got " .. type(y), 2) end
  local shape = y:shape()
  if #shape > 1 and shape[#shape] == 1 then shape[#shape] = nil end
  local flat = y:reshape(y:numel())
  if num_classes == nil then
    if y:numel() == 0 then error("to_categorical: y is empty: give num_classes", 2) end
    -- a NaN, negative or fractional label is reported before its maximum is used
    local ok, err = pcall(core.check_codes, flat, math.maxinteger, false)
    if not ok then error("to_categorical: " .. message(err), 2) end
    num_classes = math.tointeger(flat:max()) + 1
  elseif math.type(num_classes) ~= "integer" or num_classes < 1 then
    error("to_categorical: num_classes must be a positive integer, got " .. tostring(num_classes), 2)
  end
  local ok, out = pcall(core.one_hot, flat, num_classes, false)
  if not ok then error("to_categorical: " .. message(out), 2) end
  shape[#shape + 1] = num_classes
  return out:reshape(shape)
end

-- The sorted distinct classes of a label list or tensor, as a tensor.
local function classes_of(v, what)
  if type(v) == "table" and not core.is_tensor(v) then
    local ok, t = pcall(core.tensor, v)
    if not ok then error(("compute_class_weight: %s must be numbers: %s"):format(what, message(t)), 3) end
    v = t
  end
  if not core.is_tensor(v) then
    error(("compute_class_weight: %s must be a tensor or a list of numbers, got %s"):format(what, type(v)), 3)
  end
  return v:reshape(v:numel())
end

--- compute_class_weight(class_weight, y | {classes =, y =}) -> {[class] = weight}, as
-- sklearn.utils.class_weight.compute_class_weight, ready for fit's class_weight:
-- "balanced" gives n_samples / (n_classes * count of the class); nil gives ones; a table
-- {[class] = w} gives w where set and 1 elsewhere. classes defaults to those in y; y may
-- be a tensor (N,) or (N, 1), or a Lua list of class numbers.
function utils.compute_class_weight(class_weight, opts)
  local y, given
  if type(opts) == "table" and not core.is_tensor(opts) and opts.y ~= nil then
    y, given = opts.y, opts.classes
  else
    y = opts
  end
  if y == nil then error("compute_class_weight: y is required", 2) end
  y = classes_of(y, "y")
  local present, counts = core.unique(y)
  local classes = given ~= nil and core.unique(classes_of(given, "classes")) or present
  if core.encode(present, classes, true):min() < 0 then
    error("compute_class_weight: classes should include all valid labels that can be in y", 2)
  end
  local class_list, weights = classes:totable(), {}
  local function key(c) return math.tointeger(c) or c end
  if class_weight == nil or (type(class_weight) == "table" and next(class_weight) == nil) then
    for _, c in ipairs(class_list) do weights[key(c)] = 1.0 end
  elseif class_weight == "balanced" then
    if core.encode(classes, present, true):min() < 0 then
      error("compute_class_weight: classes should have valid labels that are in y", 2)
    end
    local n, k, count_list = y:numel(), present:size(1), counts:totable()
    local count_of = {}
    for i, c in ipairs(present:totable()) do count_of[key(c)] = count_list[i] end
    for _, c in ipairs(class_list) do weights[key(c)] = n / (k * count_of[key(c)]) end
  elseif type(class_weight) == "table" then
    local unweighted, n_given = {}, 0
    for _ in pairs(class_weight) do n_given = n_given + 1 end
    for _, c in ipairs(class_list) do
      local w = class_weight[key(c)]
      weights[key(c)] = w or 1.0
      if w == nil then unweighted[#unweighted + 1] = tostring(key(c)) end
    end
    if #unweighted > 0 and #class_list - #unweighted ~= n_given then
      error(("compute_class_weight: the classes, [%s], are not in class_weight"):format(table.concat(unweighted, ", ")), 2)
    end
  else
    error(("compute_class_weight: class_weight must be a table, 'balanced', or nil, got %s"):format(
      tostring(class_weight)), 2)
  end
  return weights
end

return utils
