--- lurn.preprocessing.timeseries: Keras' timeseries_dataset_from_array, the windows of a
-- series as batches fit can train on.
--
--   -- predict the value 10 steps after each window of 10 (Keras' own example)
--   local ds = lurn.preprocessing.timeseries_dataset_from_array(
--     series:narrow(1, 1, n - 10), series:narrow(1, 11, n - 10), 10, {batch_size = 32})
--   model:fit(ds, {epochs = 5})          -- ds:len() batches an epoch
--   local x, y = ds:tensors()            -- every window, in time order, for evaluate/predict
local core = require "lurn.core"
local class = require "lurn.class"
local option_check = require "lurn.options"
local at_user_line = require "lurn.at_user_line"
local shape_text = require("lurn.text").shape

local timeseries = {}

local OPTIONS = {"sequence_stride", "sampling_rate", "batch_size", "shuffle", "seed", "start_index", "end_index"}
local NAME = "timeseries_dataset_from_array"

local function fail(msg, level) error(NAME .. ": " .. msg, level + 1) end

local function is_dataframe(v)
  return type(v) == "table" and type(v.to_tensor) == "function" and type(v.columns) == "table"
end

-- data or targets as a tensor with the time steps along dimension 1.
local function series_of(v, what, level)
  if is_dataframe(v) then
    local ok, t = pcall(v.to_tensor, v)
    if not ok then fail(("%s: %s"):format(what, tostring(t):gsub("^[^\n]-:%d+: ", "")), level + 1) end
    v = t
  elseif type(v) == "table" and not core.is_tensor(v) then
    local ok, t = pcall(core.tensor, v)
    if not ok then fail(("%s must be a tensor (time steps first)"):format(what), level + 1) end
    v = t
  end
  if not core.is_tensor(v) then fail(("%s must be a tensor (time steps first), got %s"):format(what, type(v)), level + 1) end
  if v:dim() < 1 or v:size(1) < 1 then fail(("%s is empty (shape %s)"):format(what, shape_text(v:shape())), level + 1) end
  return v:contiguous()
end

local function check_integer(v, what, lo, level)
  if math.type(v) ~= "integer" or v < lo then
    fail(("%s must be an integer of at least %d, got %s"):format(what, lo, tostring(v)), level + 1)
  end
end

--- The windows of a series, in batches: TimeseriesDataset, made by
-- timeseries_dataset_from_array. Call it (or ds:next()) for the next batch, xb (batch,
-- sequence_length, features...) and yb (batch, ...) when there are targets; after ds:len()
-- batches the next epoch begins (reshuffled when shuffle). fit takes it as a generator.
local TimeseriesDataset = class()
TimeseriesDataset.class_name = "TimeseriesDataset"
timeseries.TimeseriesDataset = TimeseriesDataset

--- timeseries_dataset_from_array(data, targets, sequence_length, {sequence_stride = 1,
-- sampling_rate = 1, batch_size = 128, shuffle = false, seed =, start_index =,
-- end_index =}) -> a TimeseriesDataset, as Keras 2: window i holds the rows p_i, p_i +
-- sampling_rate, ..., p_i + (sequence_length - 1) * sampling_rate, and its target is
-- targets[p_i], for p_i = start_index, start_index + sequence_stride, ... Rows are
-- 1-based and end_index is the last row used (Keras' data[start_index:end_index] is
-- start_index = Keras' + 1, end_index = Keras').
timeseries.timeseries_dataset_from_array = at_user_line(function(data, targets, sequence_length, opts)
  local level = 2
  option_check.check(opts, OPTIONS, NAME, level)
  opts = opts or {}
  data = series_of(data, "data", level)
  if targets ~= nil then targets = series_of(targets, "targets", level) end
  local n = data:size(1)
  check_integer(sequence_length, "sequence_length", 1, level)
  local stride, rate = opts.sequence_stride or 1, opts.sampling_rate or 1
  check_integer(stride, "sequence_stride", 1, level)
  check_integer(rate, "sampling_rate", 1, level)
  -- as Keras: strides and rates reach past the data only when they are at least its length
  if rate >= n then fail(("sampling_rate must be lower than the length of the data (%d), got %d"):format(n, rate), level) end
  if stride >= n then
    fail(("sequence_stride must be lower than the length of the data (%d), got %d"):format(n, stride), level)
  end
  local batch_size = opts.batch_size == nil and 128 or opts.batch_size
  check_integer(batch_size, "batch_size", 1, level)
  local shuffle = opts.shuffle or false
  if type(shuffle) ~= "boolean" then fail(("shuffle must be true or false, got %s"):format(tostring(shuffle)), level) end
  if opts.seed ~= nil and math.type(opts.seed) ~= "integer" then
    fail(("seed must be an integer, got %s"):format(tostring(opts.seed)), level)
  end
  local first, last = opts.start_index or 1, opts.end_index or n
  check_integer(first, "start_index", 1, level)
  check_integer(last, "end_index", 1, level)
  if first > n then fail(("start_index (%d) is past the last row of the data (%d)"):format(first, n), level) end
  if last > n then fail(("end_index (%d) is past the last row of the data (%d)"):format(last, n), level) end
  if last <= first then
    fail(("end_index (%d) must be greater than start_index (%d)"):format(last, first), level)
  end
  -- rows one window covers, (sequence_length - 1) * rate + 1, nil past 2^63 (no window fits)
  local span = sequence_length - 1 <= (math.maxinteger - 1) // rate and (sequence_length - 1) * rate + 1 or nil
  local windows = span and (last - first + 1) - span + 1 or 0
  -- Keras takes min(windows, len(targets)); counted from start_index here, so that no
  -- window's target is past the end of targets
  if targets then windows = math.min(windows, targets:size(1) - first + 1) end
  if windows < 1 then
    fail(("rows %d to %d are too few for one window of sequence_length %d at sampling_rate %d (%s rows)%s"):format(
      first, last, sequence_length, rate, span and tostring(span) or "over 2^63", targets and " with targets of " .. targets:size(1) .. " rows" or ""),
      level)
  end
  local self = setmetatable({}, TimeseriesDataset)
  self.data, self.targets = data, targets
  self.sequence_length, self.sampling_rate, self.batch_size = sequence_length, rate, batch_size
  self.shuffle, self.seed = shuffle, opts.seed
  self.starts = {}  -- the first row of each window, 1-based, in time order
  for p = 0, windows - 1, stride do self.starts[#self.starts + 1] = first + p end
  self.n = #self.starts
  self.batch_index, self.epoch = 0, 0
  return self
end)

--- ds:len() -> batches in an epoch, ceil(n / batch_size) (also #ds).
function TimeseriesDataset:len() return self.n == 0 and 0 or (self.n - 1) // self.batch_size + 1 end
TimeseriesDataset.__len = TimeseriesDataset.len

--- ds:reset(): the next batch starts an epoch (reshuffled when shuffle).
function TimeseriesDataset:reset() self.batch_index = 0 end
TimeseriesDataset.on_epoch_end = TimeseriesDataset.reset

-- x, y of the windows starting at rows starts[order[i]] for i in from..to.
function TimeseriesDataset:_windows(order, from, to)
  local rows, target_rows = {}, {}
  local length, rate = self.sequence_length, self.sampling_rate
  for i = from, to do
    local start = self.starts[order and order[i] or i]
    for k = 0, length - 1 do rows[#rows + 1] = start + k * rate end
    target_rows[#target_rows + 1] = start
  end
  local count = to - from + 1
  local shape = self.data:shape()
  shape[1] = length
  table.insert(shape, 1, count)
  local x = self.data:index(1, rows):reshape(shape)
  if not self.targets then return x end
  return x, self.targets:index(1, target_rows)
end

--- ds:next() (or ds()) -> xb, yb: the next batch of windows (xb alone without targets).
-- Each epoch goes once through the windows, in time order, or in a new random order
-- when shuffle (drawn from a generator seeded by seed and the epoch, else from
-- lurn.manual_seed's); the last batch holds what is left.
function TimeseriesDataset:next()
  if self.batch_index == 0 then
    self.epoch = self.epoch + 1
    if self.shuffle then
      local seed = self.seed and (self.seed + self.epoch - 1) or nil
      self._order = core.permutation(self.n, seed):totable()
    else
      self._order = nil
    end
  end
  local from = self.batch_index * self.batch_size + 1
  local to = math.min(from + self.batch_size - 1, self.n)
  self.batch_index = to >= self.n and 0 or self.batch_index + 1
  return self:_windows(self._order, from, to)
end
TimeseriesDataset.__call = TimeseriesDataset.next

--- ds:tensors() -> x (n, sequence_length, features...), y (n, ...): every window and its
-- target in time order (unshuffled), for evaluate and predict, which take tensors.
function TimeseriesDataset:tensors()
  return self:_windows(nil, 1, self.n)
end

function TimeseriesDataset:__tostring()
  return ("TimeseriesDataset(%d windows of %d rows, %d batches of %d%s)"):format(self.n, self.sequence_length,
    self:len(), self.batch_size, self.shuffle and ", shuffled" or "")
end

return timeseries
