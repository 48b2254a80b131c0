--- Keras' F1Score (keras.metrics.F1Score, Keras 2.13) as a training metric: per-class true
-- positives, false positives and false negatives accumulated over the epoch (counted in C,
-- core.metric_f1_counts), F1 from them at the end of each batch. y_true is one-hot (or
-- multi-label) like the output, or, beyond Keras, class labels (sparse targets). A prediction
-- is the row's maximum (threshold = nil) or every output above threshold.
-- With average = nil the result is a list, one F1 per class, and the logs get one entry
-- per class: name .. "_" .. class (f1_score_0, f1_score_1, ..., val_f1_score_0, ...).
local core = require "lurn.core"
local options = require "lurn.options"
local at_user_line = require "lurn.at_user_line"

local F1Score = {}
F1Score.__index = F1Score

local AVERAGES = {micro = true, macro = true, weighted = true}

local function new(_, opts)
  options.check(opts, {"average", "threshold", "name"}, "F1Score", 2, {unsupported = {"dtype"}})
  opts = opts or {}
  if opts.average ~= nil and not AVERAGES[opts.average] then
    error(("F1Score: average must be nil (one F1 per class), \"micro\", \"macro\" or \"weighted\", got %s")
      :format(tostring(opts.average)), 2)
  end
  local t = opts.threshold
  if t ~= nil and (type(t) ~= "number" or not (t > 0 and t <= 1)) then
    error(("F1Score: threshold must be a number in (0, 1], got %s"):format(tostring(t)), 2)
  end
  local name = opts.name or "f1_score"
  if type(name) ~= "string" then error("F1Score: name must be a string", 2) end
  local m = setmetatable({name = name, average = opts.average, threshold = t}, F1Score)
  m._config = {class_name = "F1Score", config = {name = name, average = opts.average, threshold = t}}
  m:reset()
  return m
end

setmetatable(F1Score, {__call = at_user_line(new)})

--- The number of classes, from the model's output size (compile) or the first batch.
function F1Score:set_output_size(n) self.num_classes = n end

function F1Score:reset() self.counts = nil end

function F1Score:update(pred, y, sw)
  local cols = pred:dim() > 1 and pred:size(pred:dim()) or 1
  local sparse = cols > 1 and y:numel() * cols == pred:numel()
  local batch = core.metric_f1_counts(pred, y, sparse, sw, self.threshold)
  self.num_classes = cols
  local c = self.counts
  if not c or #c ~= #batch then
    self.counts = batch
    return
  end
  for i = 1, #batch do c[i] = c[i] + batch[i] end
end

-- tp, fp, fn, support per class (zeros before the first batch: the same length in every process)
function F1Score:_state()
  if self.counts then return table.move(self.counts, 1, #self.counts, 1, {}) end
  local zeros = {}
  for i = 1, 4 * (self.num_classes or 1) do zeros[i] = 0 end
  return zeros
end
function F1Score:_set_state(s) self.counts = s end

local function divide_no_nan(a, b) return b ~= 0 and a / b or 0 end

local function f1(tp, fp, fn)
  local precision, recall = divide_no_nan(tp, tp + fp), divide_no_nan(tp, tp + fn)
  return 2 * divide_no_nan(precision * recall, precision + recall)
end

--- A number, or with average = nil a list (entry c + 1 for class c).
function F1Score:result()
  local n = self.num_classes or 0
  local c = self.counts or {}
  local function at(k, i) return c[4 * (k - 1) + i] or 0 end
  if self.average == "micro" then
    local tp, fp, fn = 0, 0, 0
    for k = 1, n do tp, fp, fn = tp + at(k, 1), fp + at(k, 2), fn + at(k, 3) end
    return f1(tp, fp, fn)
  end
  local scores, support, total = {}, {}, 0
  for k = 1, n do
    scores[k] = f1(at(k, 1), at(k, 2), at(k, 3))
    support[k] = at(k, 4)
    total = total + support[k]
  end
  if self.average == nil then return scores end
  local s = 0
  for k = 1, n do
    s = s + scores[k] * (self.average == "weighted" and divide_no_nan(support[k], total) or 1 / n)
  end
  return s
end

--- The log keys: the name, or without average one per class (name_0, name_1, ...).
function F1Score:log_keys()
  if self.average ~= nil or not self.num_classes then return {self.name} end
  local keys = {}
  for k = 1, self.num_classes do keys[k] = ("%s_%d"):format(self.name, k - 1) end
  return keys
end

return F1Score
