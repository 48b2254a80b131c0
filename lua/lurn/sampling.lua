--- lurn.sampling: resampling for imbalanced classes, with imbalanced-learn's names,
-- defaults and semantics.
--
--   local sm = lurn.sampling.SMOTE{k_neighbors = 5, random_state = 42}
--   local x_res, y_res = sm:fit_resample(x, y)    -- x (N, features), y (N) or (N, 1)
--   lurn.sampling.RandomOverSampler{random_state = 0}:fit_resample(x, y)
--   lurn.sampling.RandomUnderSampler{replacement = false}:fit_resample(x, y)
--   lurn.sampling.kneighbors(x, k [, query])      -- exact Euclidean k-NN (C, threaded)
--
-- Labels are 0-based class numbers. sampling_strategy is one of
--   "auto"        over-samplers: every class but the majority; under-samplers: every class
--                 but the minority (as imbalanced-learn)
--   "minority", "majority", "not minority", "not majority", "all"
--   a number r in (0, 1] (two classes only): over-sampling grows the minority to
--                 r * majority; under-sampling shrinks the majority to minority / r
--   a table {[class] = n}: the number of samples each named class has afterwards
--   a function(y) returning such a table.
-- Ties for majority and minority go to the smaller class number. fit_resample returns new
-- tensors: over-samplers give the original samples first, in their order, then the new
-- ones grouped by class in class order; RandomUnderSampler gives the kept samples class by
-- class. With random_state, a generator seeded by it makes each call repeatable (at any
-- thread count); without, lurn's global generator (lurn.manual_seed) is used.
local core = require "lurn.core"
local class = require "lurn.class"
local base = require "lurn.preprocessing.base"
local option_check = require "lurn.options"

local sampling = {}

-- An error without a position: the public methods raise it again at their caller.
local function fail(fmt, ...) error(fmt:format(...), 0) end

-- x and y as tensors (Lua lists are converted), checked to have as many samples.
local function check_xy(x, y, who)
  if type(x) == "table" and not core.is_tensor(x) then x = core.tensor(x) end
  if type(y) == "table" and not core.is_tensor(y) then y = core.tensor(y) end
  if not core.is_tensor(x) then fail("%s: x must be a tensor, got %s", who, type(x)) end
  if not core.is_tensor(y) then fail("%s: y must be a tensor of class labels, got %s", who, type(y)) end
  local nx, ny = x:dim() > 0 and x:size(1) or 0, y:dim() > 0 and y:size(1) or 0
  if nx ~= ny then fail("%s: x has %d samples but y has %d", who, nx, ny) end
  if not (y:dim() == 1 or (y:dim() == 2 and y:size(2) == 1)) then
    local s = y:shape()
    fail("%s: y must hold class labels, of shape (N) or (N, 1); got (%s)", who, table.concat(s, ", "))
  end
  return x, y
end

-- {[class] = count} of y and its classes in order; fails on a single class.
local function target_stats(y, who)
  local ok, stats = pcall(core.class_counts, y)
  if not ok then error((tostring(stats):gsub("^class_counts", who)), 0) end
  local classes = {}
  for c in pairs(stats) do classes[#classes + 1] = c end
  table.sort(classes)
  if #classes <= 1 then
    fail("%s: y needs more than 1 class; got %d class%s", who, #classes, #classes == 1 and "" or "es")
  end
  return stats, classes
end

-- The class with the most (most = true) or fewest samples; ties to the smaller class.
local function extreme(stats, classes, most)
  local best = classes[1]
  for _, c in ipairs(classes) do
    if (most and stats[c] > stats[best]) or (not most and stats[c] < stats[best]) then best = c end
  end
  return best
end

local function trunc(v) return math.tointeger(v >= 0 and math.floor(v) or math.ceil(v)) end

-- For the named strategies: which classes are resampled.
local TARGETS = {
  ["all"] = function() return true end,
  ["majority"] = function(c, major) return c == major end,
  ["minority"] = function(c, _, minor) return c == minor end,
  ["not majority"] = function(c, major) return c ~= major end,
  ["not minority"] = function(c, _, minor) return c ~= minor end,
}

local function strategy_names()
  local names = {"auto"}
  for k in pairs(TARGETS) do names[#names + 1] = k end
  table.sort(names)
  return table.concat(names, ", ")
end

local function from_table(strategy, stats, over, who)
  local out = {}
  for c, n in pairs(strategy) do
    -- nil for fractions, infinities and floats past the integers, which a cast would garble
    local class_number = type(c) == "number" and math.tointeger(c)
    if not class_number then fail("%s: sampling_strategy keys must be class numbers, got %s", who, tostring(c)) end
    c = class_number
    if not stats[c] then fail("%s: class %d of sampling_strategy is not present in y", who, c) end
    local count = type(n) == "number" and math.tointeger(n)
    if not count then
      fail("%s: sampling_strategy[%d] must be a whole number of samples, got %s", who, c, tostring(n))
    end
    n = count
    if n < 0 then fail("%s: sampling_strategy[%d] = %d: a count cannot be negative", who, c, n) end
    if over and n < stats[c] then
      fail("%s: with over-sampling, class %d must keep at least its %d samples; %d asked", who, c,
        stats[c], n)
    elseif not over and n > stats[c] then
      fail("%s: with under-sampling, class %d can keep at most its %d samples; %d asked", who, c, stats[c], n)
    end
    out[c] = over and n - stats[c] or n
  end
  return out
end

-- imbalanced-learn's check_sampling_strategy: {[class] = n}, n the samples to add
-- (over-sampling) or to keep (under-sampling), for the classes resampled.
local function resolve_strategy(strategy, y, stats, classes, over, who)
  local major, minor = extreme(stats, classes, true), extreme(stats, classes, false)
  local out = {}
  if type(strategy) == "function" then strategy = strategy(y) end
  if type(strategy) == "string" then
    local name = strategy
    if name == "auto" then name = over and "not majority" or "not minority" end
    local target = TARGETS[name]
    if not target then
      fail("%s: unknown sampling_strategy '%s' (one of: %s)", who, strategy, strategy_names())
    end
    if over and name == "majority" then fail("%s: sampling_strategy 'majority' cannot over-sample", who) end
    if not over and name == "minority" then
      fail("%s: sampling_strategy 'minority' cannot under-sample", who)
    end
    for _, c in ipairs(classes) do
      if target(c, major, minor) then out[c] = over and stats[major] - stats[c] or stats[minor] end
    end
  elseif type(strategy) == "number" then
    if #classes ~= 2 then
      error(("%s: a number as sampling_strategy needs two classes (y has %d); use a table {[class] = n}"):format(
        who, #classes), 0)
    end
    if not (strategy > 0 and strategy <= 1) then
      fail("%s: sampling_strategy as a number must be in (0, 1], got %s", who, tostring(strategy))
    end
    for _, c in ipairs(classes) do
      if over and c ~= major then
        out[c] = trunc(stats[major] * strategy - stats[c])
        if out[c] <= 0 then
          error(("%s: sampling_strategy %g would remove samples from class %d, which over-sampling cannot; "
            .. "increase it"):format(who, strategy, c), 0)
        end
      elseif not over and c ~= minor then
        out[c] = trunc(stats[minor] / strategy)
        if out[c] > stats[c] then
          error(("%s: sampling_strategy %g would add samples to class %d, which under-sampling cannot; "
            .. "increase it"):format(who, strategy, c), 0)
        end
      end
    end
  elseif type(strategy) == "table" then
    out = from_table(strategy, stats, over, who)
  else
    error(("%s: sampling_strategy must be a name, a number, a table or a function, got %s"):format(who,
      type(strategy)), 0)
  end
  return out
end

-- Options checked against the sampler's defaults.
local function options(cls, opts, defaults)
  if opts ~= nil and type(opts) ~= "table" then
    error(("%s: options must be a table, got %s"):format(cls.class_name, type(opts)), 3)
  end
  local known = {random_state = true}
  for name in pairs(defaults) do known[name] = true end
  option_check.check(opts, known, cls.class_name, 3)
  local self = setmetatable({}, cls)
  for k, v in pairs(opts or {}) do self[k] = v end
  for k, v in pairs(defaults) do
    if self[k] == nil then self[k] = v end
  end
  if self.random_state ~= nil and math.type(self.random_state) ~= "integer" then
    error(("%s: random_state must be an integer or nil, got %s"):format(cls.class_name,
      tostring(self.random_state)), 3)
  end
  return self
end

-- The shared part of every sampler: fit computes sampling_strategy_.
local Sampler = class()
Sampler.class_name = "Sampler"

-- Checks x and y and sets sampling_strategy_; errors carry no position (see below).
local function prepare(self, x, y)
  local who = self.class_name
  x, y = check_xy(x, y, who)
  local stats, classes = target_stats(y, who)
  self.sampling_strategy_ = resolve_strategy(self.sampling_strategy, y, stats, classes, self.over, who)
  return x, y
end

-- prepare, with its error raised at the caller of the method that calls this.
local function prepared(self, x, y)
  local ok, xs, ys = pcall(prepare, self, x, y)
  if not ok then error(xs, 3) end
  return xs, ys
end

--- sampler:fit(x, y) -> sampler, with sampling_strategy_ = {[class] = n}: the samples to
-- add (over-samplers) or to keep (under-samplers) per class resampled.
function Sampler:fit(x, y)
  prepared(self, x, y)
  return self
end

function Sampler:__tostring()
  local parts = {}
  for _, k in ipairs(self.option_names) do
    local v = self[k]
    if v ~= nil then
      parts[#parts + 1] = ("%s = %s"):format(k, type(v) == "string" and ("%q"):format(v) or tostring(v))
    end
  end
  return ("%s{%s}"):format(self.class_name, table.concat(parts, ", "))
end

-- A Lua error raised by the C core, renamed for the sampler.
local function call(who, fn, ...)
  local res = table.pack(pcall(fn, ...))
  if not res[1] then
    local msg = tostring(res[2])
    if msg:sub(1, #who + 1) ~= who .. ":" then msg = who .. ": " .. msg end
    error(msg, 3)
  end
  return table.unpack(res, 2, res.n)
end

--- SMOTE{sampling_strategy = "auto", k_neighbors = 5, random_state = nil}
local SMOTE = class(Sampler)
SMOTE.class_name = "SMOTE"
SMOTE.over = true
SMOTE.option_names = {"sampling_strategy", "k_neighbors", "random_state"}
sampling.SMOTE = SMOTE

function SMOTE.new(opts)
  local self = options(SMOTE, opts, {sampling_strategy = "auto", k_neighbors = 5})
  if math.type(self.k_neighbors) ~= "integer" or self.k_neighbors < 1 then
    error(("SMOTE: k_neighbors must be a whole number >= 1, got %s"):format(tostring(self.k_neighbors)), 2)
  end
  return self
end

--- smote:fit_resample(x, y) -> x_res, y_res: x followed by the synthetic samples.
function SMOTE:fit_resample(x, y)
  x, y = prepared(self, x, y)
  local xr, yr = call("SMOTE", core.smote, x, y, self.sampling_strategy_, self.k_neighbors, self.random_state)
  return xr, yr
end

--- RandomOverSampler{sampling_strategy = "auto", random_state = nil}: repeats samples of
-- the classes resampled, drawn with replacement. sample_indices_ holds the rows taken
-- (a tensor of 1-based positions, for x:index(1, positions)).
local RandomOverSampler = class(Sampler)
RandomOverSampler.class_name = "RandomOverSampler"
RandomOverSampler.over = true
RandomOverSampler.option_names = {"sampling_strategy", "random_state"}
sampling.RandomOverSampler = RandomOverSampler

function RandomOverSampler.new(opts)
  return options(RandomOverSampler, opts, {sampling_strategy = "auto"})
end

function RandomOverSampler:fit_resample(x, y)
  x, y = prepared(self, x, y)
  local xr, yr, idx = call("RandomOverSampler", core.random_oversample, x, y, self.sampling_strategy_,
                           self.random_state)
  self.sample_indices_ = idx
  return xr, yr
end

--- RandomUnderSampler{sampling_strategy = "auto", random_state = nil, replacement = false}:
-- keeps a random subset of each class resampled. sample_indices_ holds the rows kept
-- (1-based positions).
local RandomUnderSampler = class(Sampler)
RandomUnderSampler.class_name = "RandomUnderSampler"
RandomUnderSampler.over = false
RandomUnderSampler.option_names = {"sampling_strategy", "random_state", "replacement"}
sampling.RandomUnderSampler = RandomUnderSampler

function RandomUnderSampler.new(opts)
  local self = options(RandomUnderSampler, opts, {sampling_strategy = "auto", replacement = false})
  if type(self.replacement) ~= "boolean" then
    error(("RandomUnderSampler: replacement must be a boolean, got %s"):format(tostring(self.replacement)), 2)
  end
  return self
end

function RandomUnderSampler:fit_resample(x, y)
  x, y = prepared(self, x, y)
  local xr, yr, idx = call("RandomUnderSampler", core.random_undersample, x, y, self.sampling_strategy_,
                           self.replacement, self.random_state)
  self.sample_indices_ = idx
  return xr, yr
end

--- sampler:get_state() -> plain data for saving (lurn.preprocessing.from_state rebuilds
-- the sampler): its options and, after fit or fit_resample, sampling_strategy_ and
-- sample_indices_. A sampling_strategy that is a function is named in `unsaved` instead.
function Sampler:get_state()
  local params, attributes = {}, {}
  for _, k in ipairs(self.option_names) do params[k] = self[k] end
  for _, k in ipairs(self._attributes) do attributes[k] = self[k] end
  return base.make_state(self, params, attributes, self.sampling_strategy_ ~= nil)
end

-- SMOTE{...} and SMOTE(...) both construct; from_state finds them by name.
for _, cls in ipairs {SMOTE, RandomOverSampler, RandomUnderSampler} do
  cls._attributes = {"sampling_strategy_", "sample_indices_"}
  base.registry[cls.class_name] = cls
  setmetatable(cls, {__index = Sampler, __call = function(c, opts) return c.new(opts) end})
end

--- from_state(state [, options]) -> the sampler get_state described (the same function as
-- lurn.preprocessing.from_state).
sampling.from_state = base.from_state

--- kneighbors(x, k [, query]) -> positions, distances: the k nearest rows of x (N, d) by
-- Euclidean distance to each row of query (M, d), nearest first, as (M, k) tensors of
-- 1-based positions and of distances. Without query, each row of x among the other rows.
-- Exact (brute force through BLAS, parallel over the queries).
function sampling.kneighbors(x, k, query)
  return call("kneighbors", core.kneighbors, x, k, query)
end

return sampling
