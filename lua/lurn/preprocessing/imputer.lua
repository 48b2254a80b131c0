--- SimpleImputer{strategy = "mean", fill_value =, missing_values = NaN,
-- keep_empty_features = false}: fills missing values of each column of a tensor (N, k)
-- with a statistic of that column (sklearn/impute/_base.py).
--   "mean", "median" (numpy's), "most_frequent" (the smallest on ties),
--   "constant" (fill_value, default 0).
-- missing_values is a number (e.g. -1), or NaN (0/0) by default; with a number, NaN in the
-- data is an error, as in scikit-learn. A column with no observed value has no mean,
-- median or mode: where scikit-learn drops such a column with a warning (changing the
-- width), lurn raises an error naming it, unless keep_empty_features = true fills it
-- with 0 (scikit-learn's option of the same name). statistics_ is a (k,) tensor.
local core = require "lurn.core"
local base = require "lurn.preprocessing.base"

local STRATEGIES = {mean = true, median = true, most_frequent = true, constant = true}

local SimpleImputer = base.define("SimpleImputer",
  {strategy = "mean", fill_value = base.NONE, missing_values = 0 / 0, keep_empty_features = false},
  {"statistics_", "n_features_in_"})

function SimpleImputer:validate(level)
  if not STRATEGIES[self.strategy] then
    error(("SimpleImputer: strategy must be 'mean', 'median', 'most_frequent' or 'constant', got %s")
      :format(tostring(self.strategy)), level)
  end
  if type(self.missing_values) ~= "number" then
    error(("SimpleImputer: missing_values must be a number (or NaN, the default), got %s")
      :format(type(self.missing_values)), level)
  end
  if self.fill_value ~= nil and type(self.fill_value) ~= "number" then
    error(("SimpleImputer: fill_value must be a number, got %s"):format(type(self.fill_value)), level)
  end
  if type(self.keep_empty_features) ~= "boolean" then
    error("SimpleImputer: keep_empty_features must be true or false", level)
  end
end

local function is_nan(v) return v ~= v end

-- A number marker must not be mixed with NaN in the data (scikit-learn's rule).
local function check_no_nan(self, x, who, level)
  if not is_nan(self.missing_values) and x:numel() > 0 and x:isnan():max() > 0 then
    error(("%s: x holds NaN, but missing_values is %g: NaN is only allowed when it marks the missing values")
      :format(who, self.missing_values), level + 1)
  end
end

-- x with the missing marker turned into NaN, which the column statistics skip.
local function as_nan_missing(self, x, who, level)
  if is_nan(self.missing_values) then return x end
  check_no_nan(self, x, who, level + 1)
  return base.call(who, level + 1, core.columns_fill, x, self.missing_values, core.full({x:size(2)}, 0 / 0))
end

function SimpleImputer:fit(x)
  x = base.matrix(x, "SimpleImputer.fit", 2, 1)
  local k = x:size(2)
  local strategy = self.strategy
  if strategy == "constant" then
    self.statistics_ = core.full({k}, self.fill_value or 0)
    self.n_features_in_ = k
    return self
  end
  local xn = as_nan_missing(self, x, "SimpleImputer.fit", 2)
  local s = base.call("SimpleImputer.fit", 2, core.column_stats, xn)
  local stats
  if strategy == "mean" then
    stats = s.mean
  elseif strategy == "median" then
    stats = base.call("SimpleImputer.fit", 2, core.column_quantiles, xn, {50}):reshape(k)
  else
    stats = base.call("SimpleImputer.fit", 2, core.column_mode, xn)
  end
  if s.count:min() == 0 then
    if not self.keep_empty_features then
      local empty = {}
      for j, c in ipairs(s.count:totable()) do
        if c == 0 then empty[#empty + 1] = tostring(j) end
      end
      error(("SimpleImputer.fit: column%s %s %s no observed value: strategy '%s' cannot fill %s; use "
        .. "strategy = 'constant', drop the column, or keep_empty_features = true to fill it with 0"):format(
        #empty > 1 and "s" or "", table.concat(empty, ", "), #empty > 1 and "have" or "has", strategy,
        #empty > 1 and "them" or "it"), 2)
    end
    stats = core.columns_fill(stats:reshape(1, k), 0 / 0, core.zeros{k}):reshape(k)
  end
  self.statistics_ = stats
  self.n_features_in_ = k
  return self
end

function SimpleImputer:transform(x)
  self:_check_fitted("transform", 2)
  x = base.matrix(x, "SimpleImputer.transform", 2)
  self:_check_width(x, "transform", 2)
  check_no_nan(self, x, "SimpleImputer.transform", 2)
  return base.call("SimpleImputer.transform", 2, core.columns_fill, x, self.missing_values, self.statistics_)
end

return {SimpleImputer = SimpleImputer}
