--- Learning-rate schedules, Keras 2's lurn.optimizers.schedules: ExponentialDecay,
-- PiecewiseConstantDecay, CosineDecay (with Keras 2.13's warmup) and InverseTimeDecay.
-- A schedule is a function of the optimizer's step count: schedule(step) -> rate. Given
-- as an optimizer's learning_rate, it sets the rate before every update to
-- schedule(optimizer.iterations), the count of the updates before this one, as Keras'
-- optimizers do (optimizers.lua). Rates are computed here in doubles; the optimizer keeps
-- them as float32, as Keras' does. A subclass of LearningRateSchedule with its own
-- __call(step) works as well.
local class = require "lurn.class"
local options = require "lurn.options"
local at_user_line = require "lurn.at_user_line"

local schedules = {}

local LearningRateSchedule = class()
LearningRateSchedule.class_name = "LearningRateSchedule"
schedules.LearningRateSchedule = LearningRateSchedule

-- Whether x is a schedule: an instance of LearningRateSchedule or of a class under it.
function schedules._is_schedule(x)
  if type(x) ~= "table" then return false end
  local cls = getmetatable(x)
  while type(cls) == "table" do
    if cls == LearningRateSchedule then return true end
    local mt = getmetatable(cls)
    cls = type(mt) == "table" and rawget(mt, "__index") or nil
  end
  return false
end

-- The class name of self, or an error when a method is called on something else
-- (ExponentialDecay.__call(0.1) rather than schedule(step)), raised `level` frames up from
-- the method (1: the method's caller).
local function class_name_of(self, method, level)
  if not schedules._is_schedule(self) then
    error(("%s: expected a learning-rate schedule as self, got %s (call schedule(step), schedule:get_config())")
      :format(method, type(self)), (level or 1) + 2)
  end
  return tostring(self.class_name)
end

function LearningRateSchedule:__call()
  error(("learning-rate schedule '%s' must define __call(self, step)"):format(class_name_of(self, "__call")), 2)
end

function LearningRateSchedule:get_config()
  error(("learning-rate schedule '%s' must define get_config() to be serialized"):format(
    class_name_of(self, "get_config")), 2)
end

local function has_string_key(t)
  for k in pairs(t) do
    if type(k) == "string" then return true end
  end
  return false
end

-- The arguments of a constructor called either Keras' way, positionally with an options
-- table for the rest (ExponentialDecay(0.1, 1000, 0.96, {staircase = true})), or with
-- one options table (ExponentialDecay{initial_learning_rate = 0.1, ...}). A table is
-- the options table when it has a string key or comes after every positional argument
-- (PiecewiseConstantDecay's positional arguments are lists). -> a table of the arguments.
local function arguments(class_name, names, ...)
  local args, n = {}, select("#", ...)
  local opts
  for i = 1, n do
    local v = select(i, ...)
    if type(v) == "table" and (i > #names or has_string_key(v)) then
      if i ~= n then error(("%s: the options table must be the last argument"):format(class_name), 3) end
      opts = v
    elseif i > #names then
      error(("%s: too many arguments (it takes %s)"):format(class_name, table.concat(names, ", ")), 3)
    else
      args[names[i]] = v
    end
  end
  options.check(opts, names, class_name, 3)
  for k, v in pairs(opts or {}) do
    if args[k] ~= nil then error(("%s: %s is given twice, by position and by name"):format(class_name, k), 3) end
    args[k] = v
  end
  return args
end

-- Checks of the arguments, raised at the caller of the constructor.
local function number(class_name, args, key, how)
  local v = args[key]
  local ok = type(v) == "number" and v == v and v > -math.huge and v < math.huge
  if ok and how == "positive" then ok = v > 0 end
  if ok and how == ">= 0" then ok = v >= 0 end
  if ok and how == "whole >= 0" then ok = v >= 0 and v == math.floor(v) end
  if not ok then
    local want = ({positive = "a number > 0", [">= 0"] = "a number >= 0", ["whole >= 0"] = "a whole number >= 0"})[how]
      or "a finite number"
    error(("%s: %s must be %s, got %s"):format(class_name, key, want, tostring(v)), 4)
  end
  return v
end

local function boolean(class_name, args, key)
  local v = args[key]
  if v == nil then return false end
  if type(v) ~= "boolean" then
    error(("%s: %s must be true or false, got %s"):format(class_name, key, tostring(v)), 4)
  end
  return v
end

local function name_of(class_name, args)
  local v = args.name
  if v ~= nil and type(v) ~= "string" then
    error(("%s: name must be a string, got %s"):format(class_name, type(v)), 4)
  end
  return v
end

local function check_step(self, step)
  local class_name = class_name_of(self, "__call", 2)
  if type(step) ~= "number" or step ~= step then
    error(("%s: step must be a number (the optimizer's iterations), got %s"):format(class_name, tostring(step)), 3)
  end
end

-- A schedule class: class_name, its argument names in Keras' order, make(args) -> the
-- checked fields, rate(self, step). Instances are made by calling the class, or by
-- Class.from_config(config) from get_config()'s table.
local function schedule_class(class_name, names, make, rate)
  local cls = class(LearningRateSchedule)
  cls.class_name = class_name
  cls.__call = function(self, step)
    check_step(self, step)
    return rate(self, step)
  end
  function cls.new(...)
    local fields = make(arguments(class_name, names, ...))
    return setmetatable(fields, cls)
  end
  function cls.from_config(config)
    if type(config) ~= "table" then
      error(("%s.from_config: expected the table get_config() returns, got %s"):format(class_name, type(config)), 2)
    end
    local copy = {}
    for k, v in pairs(config) do copy[k] = v end
    return cls.new(copy)
  end
  function cls:get_config()
    class_name_of(self, class_name .. ":get_config")
    local config = {}
    for _, k in ipairs(names) do
      local v = self[k]
      if type(v) == "table" then v = table.move(v, 1, #v, 1, {}) end
      config[k] = v
    end
    return config
  end
  cls.__tostring = function(self)
    class_name_of(self, "__tostring")
    local parts = {}
    for _, k in ipairs(names) do
      local v = self[k]
      if type(v) == "table" then v = "{" .. table.concat(v, ", ") .. "}" end
      if v ~= nil then parts[#parts + 1] = ("%s = %s"):format(k, tostring(v)) end
    end
    return ("%s{%s}"):format(class_name, table.concat(parts, ", "))
  end
  cls.new = at_user_line(cls.new)
  cls.from_config = at_user_line(cls.from_config)
  setmetatable(cls, {__index = LearningRateSchedule, __call = function(_, ...) return cls.new(...) end})
  schedules[class_name] = cls
  return cls
end

-- The arguments of the two decays that share them (ExponentialDecay, InverseTimeDecay).
local DECAY_ARGS = {"initial_learning_rate", "decay_steps", "decay_rate", "staircase", "name"}
local function decay_args(c)
  return function(args)
    return {initial_learning_rate = number(c, args, "initial_learning_rate", ">= 0"),
            decay_steps = number(c, args, "decay_steps", "positive"),
            decay_rate = number(c, args, "decay_rate", ">= 0"), staircase = boolean(c, args, "staircase"),
            name = name_of(c, args)}
  end
end

--- ExponentialDecay(initial_learning_rate, decay_steps, decay_rate, staircase = false):
-- initial_learning_rate * decay_rate ^ (step / decay_steps), the exponent floored with
-- staircase.
schedule_class("ExponentialDecay", DECAY_ARGS, decay_args("ExponentialDecay"),
  function(self, step)
    local p = step / self.decay_steps
    if self.staircase then p = math.floor(p) end
    return self.initial_learning_rate * self.decay_rate ^ p
  end)

--- PiecewiseConstantDecay(boundaries, values): values[1] while step <= boundaries[1],
-- values[i + 1] while boundaries[i] < step <= boundaries[i + 1], values[#values] after the
-- last boundary (each boundary belongs to the interval before it, as Keras').
schedule_class("PiecewiseConstantDecay", {"boundaries", "values", "name"},
  function(args)
    local c = "PiecewiseConstantDecay"
    local boundaries, values = args.boundaries, args.values
    if type(boundaries) ~= "table" or #boundaries == 0 then
      error(("%s: boundaries must be a list of at least one step count, got %s"):format(c, tostring(boundaries)), 3)
    end
    if type(values) ~= "table" or #values ~= #boundaries + 1 then
      error(("%s: values must be a list one longer than boundaries (%d), got %s"):format(c, #boundaries + 1,
        type(values) == "table" and ("%d values"):format(#values) or tostring(values)), 3)
    end
    local b, v = {}, {}
    for i = 1, #boundaries do
      b[i] = number(c, {[("boundaries[%d]"):format(i)] = boundaries[i]}, ("boundaries[%d]"):format(i), "whole >= 0")
      if i > 1 and b[i] <= b[i - 1] then
        error(("%s: boundaries must be strictly increasing, got %s after %s"):format(c, b[i], b[i - 1]), 3)
      end
    end
    for i = 1, #values do
      v[i] = number(c, {[("values[%d]"):format(i)] = values[i]}, ("values[%d]"):format(i), ">= 0")
    end
    return {boundaries = b, values = v, name = name_of(c, args)}
  end,
  function(self, step)
    local b = self.boundaries
    for i = 1, #b do
      if step <= b[i] then return self.values[i] end
    end
    return self.values[#b + 1]
  end)

-- Keras' cosine from decay_from down to alpha * decay_from over decay_steps.
local function cosine(step, decay_steps, decay_from, alpha)
  local cosine_decayed = 0.5 * (1 + math.cos(math.pi * step / decay_steps))
  return decay_from * ((1 - alpha) * cosine_decayed + alpha)
end

--- CosineDecay(initial_learning_rate, decay_steps, alpha = 0, name, warmup_target = nil,
-- warmup_steps = 0): without warmup_target, from initial_learning_rate down to alpha times
-- it by a half cosine over decay_steps, then flat; with it, first a straight line from
-- initial_learning_rate to warmup_target over warmup_steps, then the cosine from
-- warmup_target.
schedule_class("CosineDecay",
  {"initial_learning_rate", "decay_steps", "alpha", "name", "warmup_target", "warmup_steps"},
  function(args)
    local c = "CosineDecay"
    if args.alpha == nil then args.alpha = 0.0 end
    if args.warmup_steps == nil then args.warmup_steps = 0 end
    return {initial_learning_rate = number(c, args, "initial_learning_rate", ">= 0"),
            decay_steps = number(c, args, "decay_steps", "positive"), alpha = number(c, args, "alpha"),
            name = name_of(c, args),
            warmup_target = args.warmup_target ~= nil and number(c, args, "warmup_target", ">= 0") or nil,
            warmup_steps = number(c, args, "warmup_steps", "whole >= 0")}
  end,
  function(self, step)
    if self.warmup_target == nil then
      return cosine(math.min(step, self.decay_steps), self.decay_steps, self.initial_learning_rate, self.alpha)
    end
    local warmup = self.warmup_steps
    step = math.min(step, self.decay_steps + warmup)
    if step < warmup then
      return (self.warmup_target - self.initial_learning_rate) * (step / warmup) + self.initial_learning_rate
    end
    return cosine(step - warmup, self.decay_steps, self.warmup_target, self.alpha)
  end)

--- InverseTimeDecay(initial_learning_rate, decay_steps, decay_rate, staircase = false):
-- initial_learning_rate / (1 + decay_rate * step / decay_steps), step / decay_steps
-- floored with staircase.
schedule_class("InverseTimeDecay", DECAY_ARGS, decay_args("InverseTimeDecay"),
  function(self, step)
    local p = step / self.decay_steps
    if self.staircase then p = math.floor(p) end
    return self.initial_learning_rate / (1 + self.decay_rate * p)
  end)

local BUILT_IN = {"CosineDecay", "ExponentialDecay", "InverseTimeDecay", "PiecewiseConstantDecay"}

--- A schedule as plain data, as Keras' serialize: {class_name = "ExponentialDecay",
-- config = schedule:get_config()}.
function schedules.serialize(schedule)
  if not schedules._is_schedule(schedule) then
    error(("schedules.serialize: expected a learning-rate schedule, got %s"):format(type(schedule)), 2)
  end
  return {class_name = schedule.class_name, config = schedule:get_config()}
end

--- The schedule serialize describes ({class_name =, config =}), one of the built-in ones.
function schedules.deserialize(t)
  local cls = type(t) == "table" and type(t.class_name) == "string" and rawget(schedules, t.class_name)
  if not cls or t.class_name == "LearningRateSchedule" then
    error(("schedules.deserialize: expected {class_name =, config =} with class_name one of %s, got %s"):format(
      table.concat(BUILT_IN, ", "), type(t) == "table" and tostring(t.class_name) or type(t)), 2)
  end
  if type(t.config) ~= "table" then
    error(("schedules.deserialize: %s's config must be a table, got %s"):format(t.class_name, type(t.config)), 2)
  end
  local ok, s = pcall(cls.from_config, t.config)
  if not ok then error((tostring(s):gsub("^[^\n]-:%d+: ", "")), 2) end
  return s
end

return schedules
