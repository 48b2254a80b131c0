--- lurn.utils: helpers with Keras' names (keras.utils.to_categorical) and
-- scikit-learn's (sklearn.utils.class_weight.compute_class_weight).
local core = require "lurn.core"

-- A caught error's text without the "file:line: " in front.
local function message(err) return (tostring(err):gsub("^[^\n]-:%d+: ", "", 1)) end

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

-- {[label] = count} and the number of labels of y: a tensor of 0-based class numbers
-- ((N) or (N, 1), counted in C) or a Lua list of labels of any kind.
local function label_counts(y, who)
  local counts, n = {}, 0
  if core.is_tensor(y) then
    local ok, c = pcall(core.class_counts, y)
    if not ok then error(who .. ": " .. message(c):gsub("^class_counts: ", ""), 3) end
    counts = c
    for _, k in pairs(counts) do n = n + k end
  elseif type(y) == "table" then
    for i, label in ipairs(y) do
      if label ~= label then error(("%s: y[%d] is NaN"):format(who, i), 3) end
      counts[label] = (counts[label] or 0) + 1
      n = n + 1
    end
  else
    error(("%s: y must be a tensor or a list of labels, got %s"):format(who, type(y)), 3)
  end
  return counts, n
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if type(a) == type(b) then return a < b end
    return type(a) < type(b)
  end)
  return keys
end

local function list_str(list)
  local parts = {}
  for i, v in ipairs(list) do parts[i] = tostring(v) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

--- compute_class_weight(class_weight, {classes =, y =}) or compute_class_weight(class_weight, y)
-- -> {[class] = weight}, as sklearn.utils.class_weight.compute_class_weight:
--   "balanced"   n_samples / (n_classes * count(class)), n_classes the classes present in y
--   nil or {}    1 for every class
--   a table      {[class] = weight}, 1 for the classes it leaves out (it must name only
--                classes of `classes`, or cover them all)
-- classes defaults to the classes present in y, in order. The result can be passed as
-- model:fit's class_weight.
function utils.compute_class_weight(class_weight, args)
  local who = "compute_class_weight"
  local y, classes
  if type(args) == "table" and not core.is_tensor(args) and args.y ~= nil then
    y, classes = args.y, args.classes
  else
    y = args
  end
  local counts, n = label_counts(y, who)
  if classes == nil then
    classes = sorted_keys(counts)
  elseif core.is_tensor(classes) then
    classes = classes:reshape(-1):totable()
  elseif type(classes) ~= "table" then
    error(("%s: classes must be a list or a tensor, got %s"):format(who, type(classes)), 2)
  end
  local whole = {}  -- 0.0 read from a tensor is the class 0
  for i, c in ipairs(classes) do whole[i] = type(c) == "number" and math.tointeger(c) or c end
  classes = whole
  local known = {}
  for _, c in ipairs(classes) do known[c] = true end
  local missing = {}
  for _, label in ipairs(sorted_keys(counts)) do
    if not known[label] then missing[#missing + 1] = label end
  end
  if #missing > 0 then
    error(("%s: classes should include all valid labels that can be in y; missing %s"):format(who,
      list_str(missing)), 2)
  end

  local weight = {}
  if class_weight == nil or (type(class_weight) == "table" and next(class_weight) == nil) then
    for _, c in ipairs(classes) do weight[c] = 1.0 end
  elseif class_weight == "balanced" then
    local present = #sorted_keys(counts)
    for _, c in ipairs(classes) do
      if not counts[c] then
        error(("%s: classes should have valid labels that are in y; %s is not"):format(who, tostring(c)), 2)
      end
      weight[c] = n / (present * counts[c])
    end
  elseif type(class_weight) == "table" then
    local unweighted, nweights = {}, 0
    for _ in pairs(class_weight) do nweights = nweights + 1 end
    for _, c in ipairs(classes) do
      if class_weight[c] ~= nil then
        weight[c] = class_weight[c]
      else
        weight[c] = 1.0
        unweighted[#unweighted + 1] = c
      end
    end
    if #unweighted > 0 and #classes - #unweighted ~= nweights then
      error(("%s: the classes %s are not in class_weight"):format(who, list_str(unweighted)), 2)
    end
  else
    error(("%s: class_weight must be \"balanced\", nil or a table, got %s"):format(who, tostring(class_weight)), 2)
  end
  return weight
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
