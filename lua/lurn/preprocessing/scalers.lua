--- Feature scalers with scikit-learn's semantics (sklearn/preprocessing/_data.py):
-- StandardScaler, MinMaxScaler, RobustScaler and Normalizer. Data is a tensor (N, k); the
-- statistics and the per-column maps run in C (src/preprocessing/scalers.c). NaN is
-- skipped in fit and stays NaN in transform; a constant column is scaled by 1.
local core = require "lurn.core"
local base = require "lurn.preprocessing.base"

local scalers = {}

local FLT_EPS = 2.0 ^ -23
local DBL_EPS = 2.0 ^ -52

-- sklearn's _handle_zeros_in_scale: scales below 10 epsilons become 1 (NaN stays NaN).
local function handle_zeros(scale, eps)
  local small = scale:lt(10 * eps)
  return scale * (1 - small) + small
end

local function fit_matrix(self, x, level)
  return base.matrix(x, self.class_name .. ".fit", level + 1, 1)
end

-- The data of a transform: checked, fitted, of the fitted width.
local function transform_matrix(self, x, what, level)
  level = level + 1
  self:_check_fitted(what, level)
  x = base.matrix(x, self.class_name .. "." .. what, level)
  self:_check_width(x, what, level)
  return x
end

local function affine(self, what, x, a, b, op)
  return base.call(self.class_name .. "." .. what, 3, core.columns_affine, x, a, b, op)
end

local function check_boolean(self, name, level)
  if type(self[name]) ~= "boolean" then
    error(("%s: %s must be true or false, got %s"):format(self.class_name, name, tostring(self[name])), level + 1)
  end
end

local function check_pair(self, name, level)
  local r = self[name]
  if type(r) ~= "table" or type(r[1]) ~= "number" or type(r[2]) ~= "number" or #r ~= 2 then
    error(("%s: %s must be a pair of numbers {min, max}, got %s"):format(self.class_name, name, tostring(r)), level + 1)
  end
end

-- ---- StandardScaler ---------------------------------------------------------------------

--- StandardScaler{with_mean = true, with_std = true}: z = (x - mean_) / scale_.
-- mean_ and var_ (population variance) skip NaN; scale_ = sqrt(var_), 1 for a constant
-- column. n_samples_seen_ is a number, or a (k,) tensor of per-column counts when NaN made
-- them differ (as scikit-learn).
local StandardScaler = base.define("StandardScaler", {with_mean = true, with_std = true},
  {"mean_", "var_", "scale_", "n_samples_seen_", "n_features_in_"})
scalers.StandardScaler = StandardScaler

function StandardScaler:validate(level)
  check_boolean(self, "with_mean", level)
  check_boolean(self, "with_std", level)
end

local function samples_seen(count)
  local lo, hi = count:min(), count:max()
  if lo == hi then return math.tointeger(lo) or lo end
  return count
end

function StandardScaler:fit(x)
  x = fit_matrix(self, x, 2)
  local s = base.call("StandardScaler.fit", 2, core.column_stats, x)
  self.n_samples_seen_ = samples_seen(s.count)
  local any = self.with_mean or self.with_std
  self.mean_ = any and s.mean or nil
  self.var_ = self.with_std and s.var or nil
  self.scale_ = self.with_std and s.scale or nil
  self.n_features_in_ = x:size(2)
  return self
end

function StandardScaler:transform(x)
  x = transform_matrix(self, x, "transform", 2)
  return affine(self, "transform", x, self.with_mean and self.mean_ or nil, self.scale_, "sub_div")
end

function StandardScaler:inverse_transform(x)
  x = transform_matrix(self, x, "inverse_transform", 2)
  return affine(self, "inverse_transform", x, self.scale_, self.with_mean and self.mean_ or nil, "mul_add")
end

-- ---- MinMaxScaler --------------------------------------------------------------------------

--- MinMaxScaler{feature_range = {0, 1}, clip = false}: x * scale_ + min_, where
-- scale_ = (max - min of the range) / data_range_ (1 for a constant column).
local MinMaxScaler = base.define("MinMaxScaler", {feature_range = {0, 1}, clip = false},
  {"min_", "scale_", "data_min_", "data_max_", "data_range_", "n_samples_seen_", "n_features_in_"})
scalers.MinMaxScaler = MinMaxScaler

function MinMaxScaler:validate(level)
  check_pair(self, "feature_range", level)
  check_boolean(self, "clip", level)
  local r = self.feature_range
  if r[1] >= r[2] then
    error(("MinMaxScaler: the minimum of the desired feature range must be smaller than the maximum, got {%g, %g}")
      :format(r[1], r[2]), level)
  end
  self.feature_range = {r[1], r[2]}
end

function MinMaxScaler:fit(x)
  x = fit_matrix(self, x, 2)
  local s = base.call("MinMaxScaler.fit", 2, core.column_stats, x)
  local lo, hi = self.feature_range[1], self.feature_range[2]
  self.data_min_, self.data_max_ = s.min, s.max
  self.data_range_ = s.max - s.min
  self.scale_ = (hi - lo) / handle_zeros(self.data_range_, FLT_EPS)
  self.min_ = lo - self.data_min_ * self.scale_
  self.n_samples_seen_ = x:size(1)
  self.n_features_in_ = x:size(2)
  return self
end

function MinMaxScaler:transform(x)
  x = transform_matrix(self, x, "transform", 2)
  local y = affine(self, "transform", x, self.scale_, self.min_, "mul_add")
  if self.clip then y = y:clamp(self.feature_range[1], self.feature_range[2]) end
  return y
end

function MinMaxScaler:inverse_transform(x)
  x = transform_matrix(self, x, "inverse_transform", 2)
  return affine(self, "inverse_transform", x, self.min_, self.scale_, "sub_div")
end

-- ---- RobustScaler --------------------------------------------------------------------------

-- The standard normal's quantile function (Acklam's rational approximation, relative
-- error below 1.2e-9), for unit_variance.
local function norm_ppf(p)
  if p <= 0 then return -math.huge elseif p >= 1 then return math.huge end
  local a = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
             -3.066479806614716e+01, 2.506628277459239e+00}
  local b = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
             -1.328068155288572e+01}
  local c = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
             4.374664141464968e+00, 2.938163982698783e+00}
  local d = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00}
  local function tail(q)
    return (((((c[1] * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) * q + c[6]) /
      ((((d[1] * q + d[2]) * q + d[3]) * q + d[4]) * q + 1)
  end
  if p < 0.02425 then return tail(math.sqrt(-2 * math.log(p))) end
  if p > 1 - 0.02425 then return -tail(math.sqrt(-2 * math.log(1 - p))) end
  local q = p - 0.5
  local r = q * q
  return (((((a[1] * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * r + a[6]) * q /
    (((((b[1] * r + b[2]) * r + b[3]) * r + b[4]) * r + b[5]) * r + 1)
end
scalers._norm_ppf = norm_ppf

--- RobustScaler{with_centering = true, with_scaling = true, quantile_range = {25, 75},
-- unit_variance = false}: (x - center_) / scale_ with the median as center_ and the
-- interquantile range as scale_ (numpy's linear interpolation, NaN skipped).
local RobustScaler = base.define("RobustScaler",
  {with_centering = true, with_scaling = true, quantile_range = {25, 75}, unit_variance = false},
  {"center_", "scale_", "n_features_in_"})
scalers.RobustScaler = RobustScaler

function RobustScaler:validate(level)
  check_boolean(self, "with_centering", level)
  check_boolean(self, "with_scaling", level)
  check_boolean(self, "unit_variance", level)
  check_pair(self, "quantile_range", level)
  local q = self.quantile_range
  if not (0 <= q[1] and q[1] <= q[2] and q[2] <= 100) then
    error(("RobustScaler: invalid quantile range {%g, %g}: need 0 <= min <= max <= 100"):format(q[1], q[2]), level)
  end
  self.quantile_range = {q[1], q[2]}
end

function RobustScaler:fit(x)
  x = fit_matrix(self, x, 2)
  local qmin, qmax = self.quantile_range[1], self.quantile_range[2]
  local q = base.call("RobustScaler.fit", 2, core.column_quantiles, x, {qmin, 50, qmax})
  self.center_ = self.with_centering and q:select(1, 2):clone() or nil
  if self.with_scaling then
    local scale = handle_zeros(q:select(1, 3) - q:select(1, 1), DBL_EPS)
    if self.unit_variance then scale = scale / (norm_ppf(qmax / 100) - norm_ppf(qmin / 100)) end
    self.scale_ = scale
  else
    self.scale_ = nil
  end
  self.n_features_in_ = x:size(2)
  return self
end

function RobustScaler:transform(x)
  x = transform_matrix(self, x, "transform", 2)
  return affine(self, "transform", x, self.center_, self.scale_, "sub_div")
end

function RobustScaler:inverse_transform(x)
  x = transform_matrix(self, x, "inverse_transform", 2)
  return affine(self, "inverse_transform", x, self.scale_, self.center_, "mul_add")
end

-- ---- Normalizer ------------------------------------------------------------------------------

--- Normalizer{norm = "l2"}: each row divided by its "l1", "l2" or "max" norm (a zero row
-- stays zero). Stateless as in scikit-learn: fit only records n_features_in_, and
-- transform works without it. NaN is an error. No inverse_transform.
local Normalizer = base.define("Normalizer", {norm = "l2"}, {"n_features_in_"})
scalers.Normalizer = Normalizer

function Normalizer:validate(level)
  local n = self.norm
  if n ~= "l1" and n ~= "l2" and n ~= "max" then
    error(("Normalizer: norm must be 'l1', 'l2' or 'max', got %s"):format(tostring(n)), level)
  end
end

function Normalizer:fit(x)
  x = fit_matrix(self, x, 2)
  self.n_features_in_ = x:size(2)
  return self
end

function Normalizer:transform(x)
  x = base.matrix(x, "Normalizer.transform", 2)
  if self.n_features_in_ then self:_check_width(x, "transform", 2) end
  return (base.call("Normalizer.transform", 2, core.normalize_rows, x, self.norm))
end

return scalers
