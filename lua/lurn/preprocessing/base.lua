--- What every preprocessing object shares: options checked at construction, input data
-- checked at the door (with scikit-learn's messages), "not fitted" and width errors,
-- fit_transform, and the state hook for saving (get_state / from_state).
--
-- A class is made with base.define(name, {option = default, ...}, {attribute, ...}):
-- options become fields of the object, fitted attributes end in "_" as in scikit-learn.
local core = require "lurn.core"
local class = require "lurn.class"

local base = {}

local Transformer = class()
base.Transformer = Transformer

local registry = {}
base.registry = registry

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

--- define(name, defaults, attributes) -> a class whose constructor takes an option table:
-- Class{...} or Class.new{...}. validate(self, level) (optional, set on the class) checks
-- the options; `level` is the caller's stack level as seen from validate.
function base.define(name, defaults, attributes)
  local cls = class(Transformer)
  cls.class_name, cls._defaults, cls._attributes = name, defaults, attributes
  registry[name] = cls
  local function construct(opts, level)
    if opts ~= nil and type(opts) ~= "table" then
      error(("%s: options must be a table, got %s"):format(name, type(opts)), level)
    end
    local self = setmetatable({}, cls)
    for k, v in pairs(opts or {}) do
      if defaults[k] == nil then
        error(("%s: unknown option '%s' (options: %s)"):format(name, tostring(k),
          table.concat(sorted_keys(defaults), ", ")), level)
      end
      self[k] = v
    end
    for k, v in pairs(defaults) do
      if self[k] == nil and v ~= base.NONE then self[k] = v end
    end
    if cls.validate then cls.validate(self, level + 1) end
    return self
  end
  -- not tail calls, so that errors point at the caller of either form
  cls.new = function(opts)
    local self = construct(opts, 3)
    return self
  end
  setmetatable(cls, {__index = Transformer, __call = function(_, opts)
    local self = construct(opts, 3)
    return self
  end})
  return cls
end

-- A default of "no value" (nil cannot be stored in the defaults table).
base.NONE = setmetatable({}, {__tostring = function() return "none" end})

-- An option value as Lua source would write it: 'text', {1, 2}, {{'a', 'b'}}.
local function show(v)
  if type(v) == "string" then return "'" .. v .. "'" end
  if type(v) ~= "table" or core.is_tensor(v) then return tostring(v) end
  local items = {}
  for i, x in ipairs(v) do items[i] = show(x) end
  return "{" .. table.concat(items, ", ") .. "}"
end

function Transformer:__tostring()
  local parts = {}
  for _, k in ipairs(sorted_keys(self._defaults)) do
    if self[k] ~= nil then parts[#parts + 1] = k .. " = " .. show(self[k]) end
  end
  return ("%s{%s}%s"):format(self.class_name, table.concat(parts, ", "), self:is_fitted() and "" or " (not fitted)")
end

function Transformer:is_fitted() return self.n_features_in_ ~= nil end

--- Raises "not fitted" from method `what`, at the caller of that method.
function Transformer:_check_fitted(what, level)
  if not self:is_fitted() then
    error(("%s.%s: this %s is not fitted yet: call fit(x) first"):format(self.class_name, what, self.class_name),
      (level or 2) + 1)
  end
end

function Transformer:_check_width(x, what, level)
  local k = x:size(2)
  if k ~= self.n_features_in_ then
    error(("%s.%s: x has %d features, but %s was fitted with %d features"):format(
      self.class_name, what, k, self.class_name, self.n_features_in_), (level or 2) + 1)
  end
end

function Transformer:fit_transform(x, ...)
  return self:fit(x, ...):transform(x)
end

local function shape_text(shape)
  return "(" .. table.concat(shape, ", ") .. (#shape == 1 and ",)" or ")")
end
base.shape_text = shape_text

local function is_dataframe(x)
  return type(x) == "table" and type(x.column) == "function" and type(x.columns) == "table"
end
base.is_dataframe = is_dataframe

--- The (N, k) float tensor a scaler works on: a 2-D tensor, a DataFrame of numbers, or a
-- nested Lua table. min_rows: 1 in fit (scikit-learn needs a sample).
function base.matrix(x, who, level, min_rows)
  level = (level or 2) + 1
  if is_dataframe(x) then
    local ok, t = pcall(x.to_tensor, x)
    if not ok then error(("%s: %s"):format(who, (tostring(t):gsub("^.-to_tensor: ", ""))), level) end
    x = t
  elseif type(x) == "table" and not core.is_tensor(x) then
    local ok, t = pcall(core.tensor, x)
    if not ok then error(("%s: x must be a tensor (samples, features): %s"):format(who, base.message(t)), level) end
    x = t
  end
  if not core.is_tensor(x) then
    error(("%s: x must be a tensor (samples, features), got %s"):format(who, type(x)), level)
  end
  if x:dim() ~= 2 then
    local hint = x:dim() == 1 and ": use x:reshape(-1, 1) for one feature, or x:reshape(1, -1) for one sample" or ""
    error(("%s: expected 2-D data (samples, features), got shape %s%s"):format(who, shape_text(x:shape()), hint), level)
  end
  if x:size(1) < (min_rows or 0) then
    error(("%s: found an array with 0 samples (shape %s) while a minimum of 1 is required"):format(
      who, shape_text(x:shape())), level)
  end
  if x:size(2) < 1 then
    error(("%s: found an array with 0 features (shape %s) while a minimum of 1 is required"):format(
      who, shape_text(x:shape())), level)
  end
  return x
end

--- The text of a caught error without the "file:line: " that error() put in front.
function base.message(err)
  return (tostring(err):gsub("^[^\n]-:%d+: ", "", 1))
end

--- Calls a core function; a failure becomes an error "who: message" at `level`.
function base.call(who, level, fn, ...)
  local results = table.pack(pcall(fn, ...))
  if not results[1] then error(("%s: %s"):format(who, base.message(results[2])), level + 1) end
  return table.unpack(results, 2, results.n)
end

-- Deep copies of tensors and lists, so that a state and the object never share memory.
local function copy(v)
  if core.is_tensor(v) then return v:clone() end
  if type(v) == "table" then
    local out = {}
    for k, x in pairs(v) do out[k] = copy(x) end
    return out
  end
  return v
end
base.copy = copy

--- get_state() -> {class =, params = {options}, attributes = {fitted attributes}}: plain
-- data (numbers, strings, booleans, tensors and lists of them) for saving with a model.
-- Unfitted objects have no attributes.
function Transformer:get_state()
  local params, attributes = {}, {}
  for k in pairs(self._defaults) do params[k] = copy(self[k]) end
  for _, k in ipairs(self._attributes) do attributes[k] = copy(self[k]) end
  return {class = self.class_name, version = 1, params = params, attributes = attributes,
          fitted = self:is_fitted()}
end

--- from_state(state) -> the object get_state described, fitted as it was.
function base.from_state(state)
  if type(state) ~= "table" then error("from_state: expected a table from get_state(), got " .. type(state), 2) end
  local cls = registry[state.class]
  if not cls then
    error(("from_state: unknown class %s (known: %s)"):format(tostring(state.class),
      table.concat(sorted_keys(registry), ", ")), 2)
  end
  if state.version ~= nil and state.version ~= 1 then
    error(("from_state: %s state version %s is newer than this lurn reads (1)"):format(state.class,
      tostring(state.version)), 2)
  end
  local ok, obj = pcall(cls.new, copy(state.params or {}))
  if not ok then error("from_state: " .. base.message(obj), 2) end
  for _, k in ipairs(cls._attributes) do obj[k] = copy((state.attributes or {})[k]) end
  return obj
end

return base
