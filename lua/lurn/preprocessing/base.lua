--- What every preprocessing object shares: options checked at construction, input data
-- checked at the door (with scikit-learn's messages), "not fitted" and width errors,
-- fit_transform, and the state hook for saving (get_state / from_state).
--
-- A class is made with base.define(name, {option = default, ...}, {attribute, ...}):
-- options become fields of the object, fitted attributes end in "_" as in scikit-learn.
local core = require "lurn.core"
local class = require "lurn.class"
local option_check = require "lurn.options"
local at_user_line = require "lurn.at_user_line"

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
    option_check.check(opts, defaults, name, level)
    local self = setmetatable({}, cls)
    for k, v in pairs(opts or {}) do self[k] = v end
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

-- An option value as Lua source would write it: 'text', {1, 2}, {{'a', 'b'}}; NaN as nan.
local function show(v)
  if type(v) == "string" then return "'" .. v .. "'" end
  if v ~= v then return "nan" end  -- as scikit-learn shows it; the C library may print "-nan"
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

-- fit's and transform's errors point at the line that called fit_transform
Transformer.fit_transform = at_user_line(function(self, x, ...)
  return self:fit(x, ...):transform(x)
end)

local shape_text = require("lurn.text").shape
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
base.message = require("lurn.text").message

--- Calls a core function; a failure becomes an error "who: message" at `level`.
function base.call(who, level, fn, ...)
  local results = table.pack(pcall(fn, ...))
  if not results[1] then error(("%s: %s"):format(who, base.message(results[2])), level + 1) end
  return table.unpack(results, 2, results.n)
end

-- ---- the state hook: plain data for model files -------------------------------------------
--
-- A state holds numbers (NaN and infinities included), strings, booleans and tables of
-- them: no functions, no userdata, no metatables, so that a model file can store it and
-- loading it runs no code. A tensor becomes {type = "tensor", dtype = "float32",
-- shape = {...}, data = {values, row-major}}; float32 values are exact as Lua numbers, so
-- the round trip gives the same bits. An option that is a function (an
-- ImageDataGenerator's preprocessing_function, a sampler's sampling_strategy) cannot be
-- stored: the state leaves it out and names it in `unsaved`, and from_state asks for it.

local function is_tensor_state(v)
  return type(v) == "table" and v.type == "tensor" and type(v.shape) == "table" and type(v.data) == "table"
end

local function to_plain(v, path)
  if core.is_tensor(v) then
    return {type = "tensor", dtype = "float32", shape = v:shape(), data = v:contiguous():reshape(v:numel()):totable()}
  end
  local t = type(v)
  if t == "table" then
    local out = {}
    for k, x in pairs(v) do
      if type(k) ~= "string" and type(k) ~= "number" then
        error(("get_state: %s has a %s key, which a state cannot hold"):format(path, type(k)), 0)
      end
      out[k] = to_plain(x, path .. "." .. tostring(k))
    end
    return out
  end
  if t == "number" or t == "string" or t == "boolean" or t == "nil" then return v end
  error(("get_state: %s is a %s, which a state cannot hold"):format(path, t), 0)
end

local function from_plain(v, path)
  if is_tensor_state(v) then
    if v.dtype ~= nil and v.dtype ~= "float32" then
      error(("from_state: %s has dtype %s; lurn tensors are float32"):format(path, tostring(v.dtype)), 0)
    end
    local n = 1
    for i, d in ipairs(v.shape) do
      if type(d) ~= "number" or d ~= math.floor(d) or d < 0 then
        error(("from_state: %s.shape[%d] is not a size: %s"):format(path, i, tostring(d)), 0)
      end
      n = n * d
    end
    if #v.data ~= n then
      error(("from_state: %s has %d values for shape {%s}"):format(path, #v.data, table.concat(v.shape, ", ")), 0)
    end
    for i = 1, n do
      if type(v.data[i]) ~= "number" then
        error(("from_state: %s.data[%d] is a %s, not a number"):format(path, i, type(v.data[i])), 0)
      end
    end
    if n == 0 then return core.zeros(v.shape) end
    return core.tensor(v.data):reshape(v.shape)
  end
  if type(v) == "table" then
    local out = {}
    for k, x in pairs(v) do out[k] = from_plain(x, path .. "." .. tostring(k)) end
    return out
  end
  local t = type(v)
  if t == "number" or t == "string" or t == "boolean" or t == "nil" then return v end
  error(("from_state: %s is a %s: a state holds plain data only"):format(path, t), 0)
end

local function is_code(v)
  return type(v) == "function" or (type(v) == "table" and not core.is_tensor(v) and getmetatable(v) ~= nil
    and getmetatable(v).__call ~= nil)
end

--- make_state(obj, params, attributes, fitted) -> the plain state of obj (see above):
-- {class =, version = 1, params = {options}, attributes = {fitted attributes},
--  fitted = boolean [, unsaved = {names of options left out}]}.
function base.make_state(obj, params, attributes, fitted)
  local who = obj.class_name
  local state = {class = who, version = 1, params = {}, attributes = {}, fitted = fitted}
  local unsaved = {}
  for k, v in pairs(params) do
    if is_code(v) then
      unsaved[#unsaved + 1] = k
    else
      local ok, plain = pcall(to_plain, v, "params." .. k)
      if not ok then error(who .. "." .. plain, 3) end
      state.params[k] = plain
    end
  end
  for k, v in pairs(attributes) do
    local ok, plain = pcall(to_plain, v, "attributes." .. k)
    if not ok then error(who .. "." .. plain, 3) end
    state.attributes[k] = plain
  end
  if #unsaved > 0 then
    table.sort(unsaved)
    state.unsaved = unsaved
  end
  return state
end

--- get_state() -> plain data (make_state) with the options and fitted attributes; an
-- unfitted object has no attributes.
function Transformer:get_state()
  local params, attributes = {}, {}
  for k in pairs(self._defaults) do params[k] = self[k] end
  for _, k in ipairs(self._attributes) do attributes[k] = self[k] end
  return base.make_state(self, params, attributes, self:is_fitted())
end

-- Classes defined outside this folder's eager modules, loaded when a state names them.
local LAZY = {ImageDataGenerator = "lurn.preprocessing.image", SMOTE = "lurn.sampling",
              RandomOverSampler = "lurn.sampling", RandomUnderSampler = "lurn.sampling",
              TextVectorization = "lurn.layers"}

--- from_state(state [, options]) -> the object get_state described, fitted as it was.
-- A class registers itself in base.registry with a constructor new(options) and the list
-- _attributes of what fit sets. `options` sets options again, and must give those the
-- state lists as unsaved (functions).
function base.from_state(state, options)
  if type(state) ~= "table" then error("from_state: expected a table from get_state(), got " .. type(state), 2) end
  if options ~= nil and type(options) ~= "table" then
    error("from_state: options must be a table, got " .. type(options), 2)
  end
  if registry[state.class] == nil and LAZY[state.class] then require(LAZY[state.class]) end
  local cls = registry[state.class]
  if not cls then
    local known = sorted_keys(registry)
    for name in pairs(LAZY) do if not registry[name] then known[#known + 1] = name end end
    table.sort(known)
    error(("from_state: unknown class %s (known: %s)"):format(tostring(state.class), table.concat(known, ", ")), 2)
  end
  if state.version ~= nil and state.version ~= 1 then
    error(("from_state: %s state version %s is newer than this lurn reads (1)"):format(state.class,
      tostring(state.version)), 2)
  end
  for _, name in ipairs(state.unsaved or {}) do
    if options == nil or options[name] == nil then
      error(("from_state: this %s had a function as %s, which a state cannot hold: give it again, "
        .. "from_state(state, {%s = ...})"):format(state.class, name, name), 2)
    end
  end
  local ok, params = pcall(from_plain, state.params or {}, "params")
  if not ok then error(params, 2) end
  for k, v in pairs(options or {}) do params[k] = v end
  local attributes
  ok, attributes = pcall(from_plain, state.attributes or {}, "attributes")
  if not ok then error(attributes, 2) end
  local obj
  ok, obj = pcall(cls.new, params)
  if not ok then error("from_state: " .. base.message(obj), 2) end
  for _, k in ipairs(cls._attributes) do obj[k] = attributes[k] end
  return obj
end

return base
