--- lurn.preprocessing: scikit-learn's scalers, imputer and encoders over lurn tensors.
--
--   local P = lurn.preprocessing
--   local scaler = P.StandardScaler():fit(x_train)     -- mean_, var_, scale_, ...
--   x_train, x_test = scaler:transform(x_train), scaler:transform(x_test)
--   local state = scaler:get_state()                   -- plain data, for saving
--   local again = P.from_state(state)                  -- the same fitted scaler
--
-- get_state / from_state is the hook model files use (docs/api.md, "Saving fitted
-- preprocessing"): a state holds only numbers, strings, booleans and tables, tensors
-- written as {type = "tensor", dtype =, shape =, data =}. from_state also rebuilds an
-- ImageDataGenerator and the samplers of lurn.sampling.
--
-- StandardScaler, MinMaxScaler, RobustScaler, Normalizer (scalers.lua), SimpleImputer
-- (imputer.lua), LabelEncoder, OneHotEncoder (encoders.lua), timeseries_dataset_from_array
-- (timeseries.lua). Submodules beside this file (lurn.preprocessing.image, .sequence,
-- .text, ...) load on first use as fields of this table.
local base = require "lurn.preprocessing.base"

local preprocessing = {}

for _, module in ipairs {"lurn.preprocessing.scalers", "lurn.preprocessing.imputer", "lurn.preprocessing.encoders"} do
  for name, cls in pairs(require(module)) do
    if name:sub(1, 1) ~= "_" then preprocessing[name] = cls end
  end
end

--- from_state(state [, options]) -> the object that obj:get_state() described.
preprocessing.from_state = base.from_state

-- Keras' keras.preprocessing.timeseries_dataset_from_array (timeseries.lua).
preprocessing.timeseries_dataset_from_array = require("lurn.preprocessing.timeseries").timeseries_dataset_from_array

-- Submodules in this folder (lurn/preprocessing/NAME.lua) are required on first access.
return setmetatable(preprocessing, {
  __index = function(t, name)
    if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then return nil end
    local module = "lurn.preprocessing." .. name
    if package.loaded[module] == nil and not package.searchpath(module, package.path) then return nil end
    local m = require(module)
    rawset(t, name, m)
    return m
  end,
})
