--- lurn.model_selection: splitting data for training and testing, with scikit-learn's
-- names, arguments and sizes (sklearn/model_selection/_split.py).
--
--   local x_train, x_test, y_train, y_test = lurn.model_selection.train_test_split(x, y,
--       {test_size = 0.25, stratify = y, random_state = 42})
--   for _, fold in ipairs(lurn.model_selection.StratifiedKFold{n_splits = 5}:split(x, y)) do
--     local train, test = fold[1], fold[2]       -- 1-based sample positions (tensors)
--     model:fit(x:index(1, train), y:index(1, train))
--   end
--   local scores = lurn.model_selection.cross_val_score(build_model, x, y, {cv = 5})
--
-- Samples are the first dimension of a tensor, or the entries of a Lua list. The folds and
-- splits are made in C (src/preprocessing/splits.c): without shuffling they are sample for
-- sample scikit-learn's; shuffled ones have its sizes and class proportions but lurn's
-- random numbers. random_state (an integer) seeds a generator of the call's own, so the
-- same random_state gives the same split whatever lurn.manual_seed did; without it the
-- global generator is used.
local core = require "lurn.core"
local class = require "lurn.class"
local options = require "lurn.options"
local labels = require "lurn.preprocessing.labels"
local message = require("lurn.preprocessing.base").message

local model_selection = {}

local function check_random_state(who, v, level)
  if v ~= nil and math.type(v) ~= "integer" then
    error(("%s: random_state must be an integer, got %s"):format(who, tostring(v)), level + 1)
  end
end

-- The rows of a tensor, or the entries of a list, at 1-based positions (a tensor).
local function take(a, positions)
  if core.is_tensor(a) then return a:index(1, positions) end
  return core.take(a, positions - 1)
end

-- Sample positions are float32 tensors, which hold every whole number only up to 2^24.
local MAX_SAMPLES = 1 << 24

local function n_samples(a, who, what, level)
  local n
  if core.is_tensor(a) then
    if a:dim() < 1 then error(("%s: %s has no samples dimension"):format(who, what), level + 1) end
    n = a:size(1)
  elseif type(a) == "table" and type(a.column) == "function" then
    error(("%s: %s is a DataFrame: split df:to_tensor{...} and the label column instead"):format(who, what),
      level + 1)
  elseif type(a) == "table" then
    n = #a
  else
    error(("%s: %s must be a tensor or a list, got %s"):format(who, what, type(a)), level + 1)
  end
  if math.type(n) ~= "integer" or n > MAX_SAMPLES then
    error(("%s: %s has %s samples; sample positions (float32 tensors) are exact only up to 2^24"):format(who,
      what, tostring(n)), level + 1)
  end
  return n
end

-- ---- train_test_split ---------------------------------------------------------------------

local SPLIT_OPTIONS = {test_size = true, train_size = true, shuffle = true, stratify = true, random_state = true}

local function size_text(v) return v == nil and "None" or tostring(v) end

-- sklearn's _validate_shuffle_split: fractions are floats in (0, 1), counts integers in
-- [1, n); test = ceil(test_size * n), train = floor(train_size * n); the other is the rest.
local function split_sizes(n, test_size, train_size, level)
  local who = "train_test_split"
  if test_size == nil and train_size == nil then test_size = 0.25 end
  local function check(name, v)
    if v == nil then return end
    local ok = math.type(v) == "integer" and v > 0 and v < n or math.type(v) == "float" and v > 0 and v < 1
    if not ok then
      error(("%s: %s=%s should be either positive and smaller than the number of samples %d or a float in the "
        .. "(0, 1) range"):format(who, name, tostring(v), n), level + 2)
    end
  end
  check("test_size", test_size)
  check("train_size", train_size)
  if math.type(test_size) == "float" and math.type(train_size) == "float" and test_size + train_size > 1 then
    error(("%s: the sum of test_size and train_size = %g should be in the (0, 1) range: reduce test_size and/or "
      .. "train_size"):format(who, test_size + train_size), level + 1)
  end
  local n_test = math.type(test_size) == "float" and math.ceil(test_size * n) or test_size
  local n_train = math.type(train_size) == "float" and math.floor(train_size * n) or train_size
  if train_size == nil then n_train = n - n_test elseif test_size == nil then n_test = n - n_train end
  if n_train + n_test > n then
    error(("%s: the sum of train_size and test_size = %d should be smaller than the number of samples %d: reduce "
      .. "test_size and/or train_size"):format(who, n_train + n_test, n), level + 1)
  end
  if n_train == 0 then
    error(("%s: with n_samples=%d, test_size=%s and train_size=%s, the resulting train set will be empty"):format(
      who, n, size_text(test_size), size_text(train_size)), level + 1)
  end
  return math.tointeger(n_train), math.tointeger(n_test)
end

--- train_test_split(x [, y], {test_size = 0.25, train_size =, shuffle = true, stratify =,
-- random_state =}) -> x_train, x_test [, y_train, y_test]
-- x and y: tensors (split along the first dimension) or Lua lists; stratify: the class
-- labels to keep in proportion (usually y), which needs shuffle.
function model_selection.train_test_split(x, y, opts)
  local who = "train_test_split"
  if opts == nil and type(y) == "table" and not core.is_tensor(y) and #y == 0 and next(y) ~= nil then
    y, opts = nil, y -- train_test_split(x, {options})
  end
  opts = opts or {}
  if type(opts) ~= "table" then error(who .. ": options must be a table, got " .. type(opts), 2) end
  options.check(opts, SPLIT_OPTIONS, who, 2)
  local n = n_samples(x, who, "x", 2)
  if y ~= nil and n_samples(y, who, "y", 2) ~= n then
    error(("%s: found input variables with inconsistent numbers of samples: [%d, %d]"):format(who, n,
      n_samples(y, who, "y", 2)), 2)
  end
  check_random_state(who, opts.random_state, 2)
  local n_train, n_test = split_sizes(n, opts.test_size, opts.train_size, 2)
  local shuffle = opts.shuffle ~= false
  local train, test
  if opts.stratify ~= nil then
    if not shuffle then error(who .. ": a stratified split needs shuffle = true (as scikit-learn)", 2) end
    if n_samples(opts.stratify, who, "stratify", 2) ~= n then
      error(("%s: stratify has %d labels for %d samples"):format(who, n_samples(opts.stratify, who, "stratify", 2), n), 2)
    end
    local lab = labels.of(opts.stratify, who, 2)
    local ok, a, b = pcall(core.stratified_split, lab.codes, lab.k, n_train, n_test, opts.random_state)
    if not ok then error(who .. ": " .. message(a), 2) end
    train, test = a, b
  elseif shuffle then
    local perm = core.permutation(n, opts.random_state)
    test, train = perm:narrow(1, 1, n_test), perm:narrow(1, n_test + 1, n_train)
  else
    train, test = core.arange(1, n_train + 1), core.arange(n_train + 1, n_train + n_test + 1)
  end
  if y == nil then return take(x, train), take(x, test) end
  return take(x, train), take(x, test), take(y, train), take(y, test)
end

-- ---- KFold, StratifiedKFold ---------------------------------------------------------------------

local function define_splitter(name)
  local cls = class()
  cls.class_name = name
  local function construct(opts)
    opts = opts or {}
    if type(opts) ~= "table" then error(("%s: options must be a table, got %s"):format(name, type(opts)), 3) end
    options.check(opts, {"n_splits", "shuffle", "random_state"}, name, 3)
    local self = setmetatable({n_splits = opts.n_splits or 5, shuffle = opts.shuffle or false,
                               random_state = opts.random_state}, cls)
    if math.type(self.n_splits) ~= "integer" or self.n_splits < 2 then
      error(("%s: k-fold cross-validation requires at least one train/test split by setting n_splits=2 or more, "
        .. "got n_splits=%s"):format(name, tostring(self.n_splits)), 3)
    end
    if type(self.shuffle) ~= "boolean" then error(name .. ": shuffle must be true or false", 3) end
    check_random_state(name, self.random_state, 3)
    if not self.shuffle and self.random_state ~= nil then
      error(("%s: setting a random_state has no effect since shuffle is false: leave random_state out, or set "
        .. "shuffle = true"):format(name), 3)
    end
    return self
  end
  -- not tail calls, so that errors point at the caller of either form
  cls.new = function(opts)
    local self = construct(opts)
    return self
  end
  setmetatable(cls, {__call = function(_, opts)
    local self = construct(opts)
    return self
  end})
  cls.get_n_splits = function(self) return self.n_splits end
  cls.__tostring = function(self)
    return ("%s{n_splits = %d, shuffle = %s%s}"):format(name, self.n_splits, tostring(self.shuffle),
      self.random_state and (", random_state = " .. self.random_state) or "")
  end
  return cls
end

--- KFold{n_splits = 5, shuffle = false, random_state =}: kf:split(x) -> {{train, test}, ...}
-- with 1-based positions in ascending order; the first n % n_splits folds have one sample
-- more. x may also be the number of samples.
local KFold = define_splitter("KFold")
model_selection.KFold = KFold

function KFold:split(x)
  local n = type(x) == "number" and x or n_samples(x, "KFold.split", "x", 2)
  local ok, folds = pcall(core.kfold, n, self.n_splits, self.shuffle, self.random_state)
  if not ok then error("KFold.split: " .. message(folds), 2) end
  return folds
end

--- StratifiedKFold{n_splits = 5, shuffle = false, random_state =}: skf:split(x, y) -> folds
-- that keep y's class proportions (scikit-learn's allocation: classes by first appearance,
-- dealt round-robin). Warns, as scikit-learn, when a class has fewer members than folds.
local StratifiedKFold = define_splitter("StratifiedKFold")
model_selection.StratifiedKFold = StratifiedKFold

function StratifiedKFold:split(x, y)
  local who = "StratifiedKFold.split"
  if y == nil then error(who .. ": the class labels y are needed: skf:split(x, y)", 2) end
  local n = type(x) == "number" and x or n_samples(x, who, "x", 2)
  if n_samples(y, who, "y", 2) ~= n then
    error(("%s: x has %d samples but y has %d labels"):format(who, n, n_samples(y, who, "y", 2)), 2)
  end
  local lab = labels.of(y, who, 2)
  local ok, folds = pcall(core.stratified_kfold, lab.codes, lab.k, self.n_splits, self.shuffle, self.random_state)
  if not ok then error(who .. ": " .. message(folds), 2) end
  local least = math.tointeger(lab.counts:min())
  if least < self.n_splits then
    io.stderr:write(("lurn: StratifiedKFold: the least populated class in y has only %d members, which is less "
      .. "than n_splits=%d\n"):format(least, self.n_splits))
  end
  return folds
end

-- ---- cross_val_score -----------------------------------------------------------------------------

local CLASSIFICATION = {binary_crossentropy = true, categorical_crossentropy = true,
                        sparse_categorical_crossentropy = true}

local function with_defaults(opts, defaults)
  local out = {}
  for k, v in pairs(defaults) do out[k] = v end
  for k, v in pairs(opts or {}) do out[k] = v end
  return out
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  return table.concat(keys, ", ")
end

-- The model that a build_fn's result ends in: itself, or a Pipeline's last step.
local function final_model(model)
  if type(model) == "table" and type(model.final_estimator) == "function" and type(model.named_steps) == "table" then
    return model:final_estimator()
  end
  return model
end

local function build(build_fn, level)
  local model = build_fn()
  local last = final_model(model)
  if type(last) ~= "table" or not last.compiled then
    error("cross_val_score: build_fn must return a compiled model (call model:compile{...} in it), or a "
      .. "lurn.pipeline.Pipeline ending in one", level + 1)
  end
  return model
end

--- cross_val_score(build_fn, x, y, {cv = 5, scoring = "accuracy", fit = {...},
-- evaluate = {...}}) -> {score of fold 1, ...}
-- build_fn() returns a new compiled model, or a new lurn.pipeline.Pipeline ending in one
-- (then each fold fits its preprocessing on the fold's training samples only, and
-- transforms the held-out ones with it); each fold trains a fresh one with
-- model:fit(x_train, y_train, fit) (verbose = 0 unless given) and scores it on the held-out
-- fold: scoring names a key of model:evaluate's result ("accuracy", "loss", a metric
-- name) or is a function(model, x_test, y_test) -> number. cv is a number of folds
-- (StratifiedKFold when the model's loss is a cross-entropy, as scikit-learn does for
-- classifiers, else KFold; neither shuffles), a KFold/StratifiedKFold, or a list of
-- {train, test} position tensors.
local CV_OPTIONS = {cv = true, scoring = true, fit = true, evaluate = true}

function model_selection.cross_val_score(build_fn, x, y, opts)
  local who = "cross_val_score"
  opts = opts or {}
  if type(opts) ~= "table" then error(who .. ": options must be a table, got " .. type(opts), 2) end
  options.check(opts, CV_OPTIONS, who, 2, {hint = "fit's options such as epochs go in fit = {...}"})
  for _, k in ipairs {"fit", "evaluate"} do
    if opts[k] ~= nil and type(opts[k]) ~= "table" then
      error(("%s: %s must be a table of model:%s options, got %s"):format(who, k, k, type(opts[k])), 2)
    end
  end
  if type(build_fn) ~= "function" and not (getmetatable(build_fn) or {}).__call then
    error(who .. ": build_fn must be a function returning a compiled model", 2)
  end
  if not core.is_tensor(x) or not core.is_tensor(y) then error(who .. ": x and y must be tensors", 2) end
  if x:size(1) ~= y:size(1) then
    error(("%s: x has %d samples but y has %d"):format(who, x:size(1), y:size(1)), 2)
  end
  local scoring = opts.scoring or "accuracy"
  if type(scoring) ~= "string" and type(scoring) ~= "function" then
    error(who .. ": scoring must be a metric name or a function(model, x, y)", 2)
  end
  local first = build(build_fn, 2)
  local cv = opts.cv or 5
  local folds
  if math.type(cv) == "integer" then
    local classifier = CLASSIFICATION[final_model(first).loss.kind]
    local splitter = classifier and StratifiedKFold{n_splits = cv} or KFold{n_splits = cv}
    folds = splitter:split(x, y)
  elseif type(cv) == "table" and cv.split then
    folds = cv:split(x, y)
  elseif type(cv) == "table" and type(cv[1]) == "table" then
    folds = cv
  else
    error(who .. ": cv must be a number of folds, a KFold/StratifiedKFold, or a list of {train, test}", 2)
  end
  local fit_opts = with_defaults(opts.fit, {verbose = 0})
  local eval_opts = with_defaults(opts.evaluate, {verbose = 0})
  local scores = {}
  for i, fold in ipairs(folds) do
    local model = i == 1 and first or build(build_fn, 2)
    local train, test = fold[1] or fold.train, fold[2] or fold.test
    local x_test, y_test = x:index(1, test), y:index(1, test)
    model:fit(x:index(1, train), y:index(1, train), fit_opts)
    if type(scoring) == "function" then
      scores[i] = scoring(model, x_test, y_test)
    else
      local logs = model:evaluate(x_test, y_test, eval_opts)
      if logs[scoring] == nil then
        error(("%s: the model's evaluate() gives %s, not '%s': pass scoring = one of them, or compile the model "
          .. "with that metric"):format(who, sorted_keys(logs), scoring), 2)
      end
      scores[i] = logs[scoring]
    end
  end
  return scores
end

return model_selection
