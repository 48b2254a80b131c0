--- Categorical encoders (sklearn/preprocessing/_label.py and _encoders.py).
--
-- LabelEncoder: labels (a tensor (N,) of numbers, or a Lua list of strings) to 0-based
-- codes over classes_, the sorted distinct labels.
--
-- OneHotEncoder{handle_unknown = "error" | "ignore", categories = "auto"}: one or more
-- categorical columns to a dense (N, sum of category counts) float tensor, one block per
-- column in column order. Columns are given as
--   enc:fit(x)                     a tensor (N, k) of numbers: one column per feature;
--   enc:fit{col1, col2, ...}       a list of columns, each a tensor (N,) of numbers or a
--                                  Lua list of N strings (false where missing), e.g.
--                                  enc:fit{df:column("sex"), df:column("island")};
--   enc:fit(df, {"sex", "island"}) a DataFrame and the names of its columns to encode
--                                  (transform(df) then takes the same names).
-- A missing value (NaN, or false in a text column) is a category of its own, sorted last,
-- as in scikit-learn. categories = "auto" takes each column's sorted distinct values; a
-- list gives them per column (sorted here, as "auto" sorts them). An unknown value at
-- transform is an error naming it and its column, or with "ignore" a block of zeros.
local core = require "lurn.core"
local base = require "lurn.preprocessing.base"
local labels = require "lurn.preprocessing.labels"
local at_user_line = require "lurn.at_user_line"

local encoders = {}

local function kind_of(classes) return core.is_tensor(classes) and "number" or "string" end

local function unique(values, kind)
  if kind == "number" then return (core.unique(values)) end
  return (core.unique_strings(values))
end

local function encode(values, kind, classes, allow_unknown)
  if kind == "number" then return core.encode(values, classes, allow_unknown) end
  return core.encode_strings(values, classes, allow_unknown)
end

-- ---- LabelEncoder -----------------------------------------------------------------------------

--- LabelEncoder(): fit(y), transform(y) -> codes (N,), inverse_transform(codes) -> labels
-- (a tensor, or a list of strings for text labels), fit_transform(y). classes_ is a
-- sorted tensor, or a sorted list of strings.
local LabelEncoder = base.define("LabelEncoder", {}, {"classes_"})
encoders.LabelEncoder = LabelEncoder

function LabelEncoder:is_fitted() return self.classes_ ~= nil end

local function label_values(y, who, level)
  level = level + 1
  if core.is_tensor(y) and y:dim() == 2 and y:size(2) ~= 1 then
    error(("%s: y must be 1-D labels, got shape %s"):format(who, base.shape_text(y:shape())), level)
  end
  return labels.values(y, who, level)
end

function LabelEncoder:fit(y)
  local values, kind = label_values(y, "LabelEncoder.fit", 2)
  if labels.count(values) == 0 then error("LabelEncoder.fit: y is empty", 2) end
  local classes = base.call("LabelEncoder.fit", 2, unique, values, kind)
  if kind == "string" and classes[#classes] == false then
    error("LabelEncoder.fit: y holds missing values (false): impute them or leave those samples out", 2)
  end
  self.classes_ = classes
  return self
end

function LabelEncoder:transform(y)
  self:_check_fitted("transform", 2)
  local values, kind = label_values(y, "LabelEncoder.transform", 2)
  if kind ~= kind_of(self.classes_) then
    error(("LabelEncoder.transform: fitted on %s labels, got %s"):format(kind_of(self.classes_), kind .. "s"), 2)
  end
  return base.call("LabelEncoder.transform", 2, encode, values, kind, self.classes_, false)
end

LabelEncoder.fit_transform = at_user_line(function(self, y) return self:fit(y):transform(y) end)

function LabelEncoder:inverse_transform(codes)
  self:_check_fitted("inverse_transform", 2)
  if type(codes) == "table" and not core.is_tensor(codes) then codes = core.tensor(codes) end
  if not core.is_tensor(codes) then
    error("LabelEncoder.inverse_transform: codes must be a tensor, got " .. type(codes), 2)
  end
  codes = codes:reshape(codes:numel())
  local k = kind_of(self.classes_) == "number" and self.classes_:size(1) or #self.classes_
  base.call("LabelEncoder.inverse_transform", 2, core.check_codes, codes, k, false)
  if kind_of(self.classes_) == "number" then return self.classes_:index(1, codes + 1) end
  return core.take(self.classes_, codes)
end

-- ---- OneHotEncoder ----------------------------------------------------------------------------

local OneHotEncoder = base.define("OneHotEncoder", {handle_unknown = "error", categories = "auto"},
  {"categories_", "n_features_in_", "feature_names_in_"})
encoders.OneHotEncoder = OneHotEncoder

function OneHotEncoder:validate(level)
  if self.handle_unknown ~= "error" and self.handle_unknown ~= "ignore" then
    error(("OneHotEncoder: handle_unknown must be 'error' or 'ignore', got %s"):format(tostring(self.handle_unknown)),
      level)
  end
  if self.categories ~= "auto" and type(self.categories) ~= "table" then
    error("OneHotEncoder: categories must be 'auto' or a list with the categories of each column", level)
  end
end

local function column_label(self, j)
  local name = self.feature_names_in_ and self.feature_names_in_[j]
  return name and ("column %d ('%s')"):format(j, name) or ("column %d"):format(j)
end

-- The columns of x as {values, kind} (a tensor (N,) or a list of strings), their names
-- (for a DataFrame) and N.
local function columns_of(x, names, who, level)
  level = level + 1
  local cols, out_names = {}, nil
  if core.is_tensor(x) then
    if x:dim() ~= 2 then
      error(("%s: expected 2-D data (samples, features), got shape %s: use x:reshape(-1, 1) for one column")
        :format(who, base.shape_text(x:shape())), level)
    end
    for j = 1, x:size(2) do cols[j] = x:select(2, j) end
  elseif base.is_dataframe(x) then
    if type(names) ~= "table" or #names == 0 then
      error(("%s: give the names of the columns to encode: enc:fit(df, {\"a\", \"b\"})"):format(who), level)
    end
    out_names = {}
    for j, name in ipairs(names) do
      local ok, col = pcall(x.column, x, name)
      if not ok then error(("%s: %s"):format(who, (base.message(col):gsub("^DataFrame: ", ""))), level) end
      cols[j], out_names[j] = col, tostring(name)
    end
  elseif type(x) == "table" then
    if #x == 0 then error(("%s: expected a tensor (N, k) or a list of columns, got an empty table"):format(who), level) end
    for j, col in ipairs(x) do
      if type(col) ~= "table" and not core.is_tensor(col) then
        error(("%s: column %d is a %s: expected a tensor (N,) or a list of strings (a list of columns, "
          .. "e.g. {df:column(\"sex\")})"):format(who, j, type(col)), level)
      end
      cols[j] = col
    end
  else
    error(("%s: expected a tensor (N, k) or a list of columns, got %s"):format(who, type(x)), level)
  end
  local out, n = {}, nil
  for j, col in ipairs(cols) do
    if core.is_tensor(col) and not (col:dim() == 1 or (col:dim() == 2 and col:size(2) == 1)) then
      error(("%s: column %d must be a tensor (N,) or a list, got shape %s"):format(who, j,
        base.shape_text(col:shape())), level)
    end
    local values, kind = labels.values(col, who, level)
    local size = labels.count(values)
    if n and size ~= n then
      error(("%s: column %d has %d values, but column 1 has %d"):format(who, j, size, n), level)
    end
    n = size
    out[j] = {values = values, kind = kind}
  end
  return out, out_names, n
end

function OneHotEncoder:fit(x, names)
  local who = "OneHotEncoder.fit"
  local cols, col_names, n = columns_of(x, names, who, 2)
  if n == 0 then error(who .. ": found 0 samples while a minimum of 1 is required", 2) end
  if self.categories ~= "auto" and #self.categories ~= #cols then
    error(("%s: categories has %d entries, but x has %d columns"):format(who, #self.categories, #cols), 2)
  end
  self.feature_names_in_ = col_names
  local cats = {}
  for j, col in ipairs(cols) do
    if self.categories == "auto" then
      cats[j] = base.call(who, 2, unique, col.values, col.kind)
    else
      local given, kind = labels.values(self.categories[j], who, 2)
      if kind ~= col.kind then
        error(("%s: the categories of %s are %ss, but its values are %ss"):format(who, column_label(self, j), kind,
          col.kind), 2)
      end
      cats[j] = base.call(who, 2, unique, given, kind)
      if self.handle_unknown == "error" then
        local ok, err = pcall(encode, col.values, col.kind, cats[j], false)
        if not ok then
          error(("%s: %s: %s"):format(who, column_label(self, j),
            (base.message(err):gsub(" %(not seen in fit%)$", " (not among the categories given)"))), 2)
        end
      end
    end
  end
  self.categories_, self.n_features_in_ = cats, #cols
  return self
end

OneHotEncoder.fit_transform = at_user_line(function(self, x, names)
  return self:fit(x, names):transform(x, names)
end)

local function check_columns(self, cols, who, level)
  if #cols ~= self.n_features_in_ then
    error(("%s: x has %d features, but OneHotEncoder was fitted with %d features"):format(who, #cols,
      self.n_features_in_), level + 1)
  end
  for j, col in ipairs(cols) do
    local want = kind_of(self.categories_[j])
    if col.kind ~= want then
      error(("%s: %s was fitted on %ss, got %ss"):format(who, column_label(self, j), want, col.kind), level + 1)
    end
  end
end

local function category_count(cats) return core.is_tensor(cats) and cats:size(1) or #cats end

--- transform(x [, names]) -> (N, sum of category counts) tensor of 0/1.
function OneHotEncoder:transform(x, names)
  local who = "OneHotEncoder.transform"
  self:_check_fitted("transform", 2)
  local cols = columns_of(x, names or self.feature_names_in_, who, 2)
  check_columns(self, cols, who, 2)
  local ignore = self.handle_unknown == "ignore"
  local blocks = {}
  for j, col in ipairs(cols) do
    local cats = self.categories_[j]
    local ok, codes = pcall(encode, col.values, col.kind, cats, ignore)
    if not ok then error(("%s: %s: %s"):format(who, column_label(self, j), base.message(codes)), 2) end
    blocks[j] = base.call(who, 2, core.one_hot, codes, category_count(cats), ignore)
  end
  return #blocks == 1 and blocks[1] or core.cat(blocks, 2)
end

--- inverse_transform(onehot) -> the categories: a tensor (N, k) when every column holds
-- numbers, else a list of columns (tensors and lists of strings). An all-zero block (an
-- unknown value under "ignore") gives NaN or false.
function OneHotEncoder:inverse_transform(y)
  local who = "OneHotEncoder.inverse_transform"
  self:_check_fitted("inverse_transform", 2)
  y = base.matrix(y, who, 2)
  local total = 0
  for _, cats in ipairs(self.categories_) do total = total + category_count(cats) end
  if y:size(2) ~= total then
    error(("%s: x has %d columns, but the encoding has %d (one per category)"):format(who, y:size(2), total), 2)
  end
  local out, all_numbers, at = {}, true, 1
  for j, cats in ipairs(self.categories_) do
    local k = category_count(cats)
    local block = y:narrow(2, at, k)
    local hot = block:sum(2)
    local empty = hot:eq(0)
    if self.handle_unknown == "error" and empty:max() > 0 then
      error(("%s: row %d has no category for %s (all zeros), which only handle_unknown = 'ignore' allows"):format(
        who, empty:argmax(), column_label(self, j)), 2)
    end
    local codes = (block:argmax(2) - 1) * (1 - empty) - empty -- -1 where the block is all zeros
    if core.is_tensor(cats) then
      out[j] = core.cat({core.tensor{0 / 0}, cats}, 1):index(1, codes + 2)
    else
      out[j], all_numbers = core.take(cats, codes), false
    end
    at = at + k
  end
  if all_numbers then return core.stack(out, 2) end
  return out
end

-- The shortest text that reads back as the float32 v: "1", "0.1", "2.5".
local function number_text(v)
  if v ~= v then return "nan" end
  if math.tointeger(v) then return tostring(math.tointeger(v)) end
  for digits = 6, 17 do
    local s = ("%." .. digits .. "g"):format(v)
    if core.tensor{tonumber(s)}:get(1) == v then return s end
  end
  return tostring(v)
end

--- get_feature_names_out([input_features]) -> {"x0_f", "x0_m", "x1_Biscoe", ...}: as
-- scikit-learn, input names default to the DataFrame's column names, else x0, x1, ...
function OneHotEncoder:get_feature_names_out(input_features)
  self:_check_fitted("get_feature_names_out", 2)
  local names = input_features or self.feature_names_in_
  if names and #names ~= self.n_features_in_ then
    error(("OneHotEncoder.get_feature_names_out: %d input names for %d features"):format(#names,
      self.n_features_in_), 2)
  end
  local out = {}
  for j, cats in ipairs(self.categories_) do
    local prefix = names and tostring(names[j]) or ("x" .. (j - 1))
    if core.is_tensor(cats) then
      for _, v in ipairs(cats:totable()) do out[#out + 1] = prefix .. "_" .. number_text(v) end
    else
      for _, v in ipairs(cats) do out[#out + 1] = prefix .. "_" .. (v == false and "nan" or v) end
    end
  end
  return out
end

return encoders
