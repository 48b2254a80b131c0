--- Metrics accumulated over an epoch, as Keras' stateful metrics: reset(), update(pred,
-- y, sample_weight) once per batch (counting done in C), result(). "accuracy" picks
-- binary, categorical or sparse accuracy from the loss and output shape, as Keras does.
-- Beside them, scikit-learn's metric functions on whole label and score lists
-- (confusion_matrix, classification_report, f1_score, roc_curve, ...: the files of this
-- folder); compile's metric names resolve only to the Keras metrics.
local core = require "lurn.core"
local options = require "lurn.options"
local lurn_tensor = core.tensor

local metrics = {}

local Metric = {}
Metric.__index = Metric

local function mean_metric(name, kind)
  local m = setmetatable({name = name, kind = kind}, Metric)
  m:reset()
  return m
end

function Metric:reset() self.num, self.den = 0, 0 end
function Metric:update(pred, y, sw)
  local num, den = core.metric_batch(self.kind, pred, y, sw)
  self.num, self.den = self.num + num, self.den + den
end
function Metric:result() return self.den > 0 and self.num / self.den or 0 end
function Metric:_state() return {self.num, self.den} end
function Metric:_set_state(s) self.num, self.den = s[1], s[2] end

-- Precision, recall and AUC from confusion counts at thresholds.
local Confusion = setmetatable({}, {__index = Metric})
Confusion.__index = Confusion

local function confusion_metric(name, thresholds, result)
  local m = setmetatable({name = name, thresholds = lurn_tensor(thresholds), compute = result}, Confusion)
  m:reset()
  return m
end

function Confusion:reset() self.counts = core.zeros{#self.thresholds, 4} end
function Confusion:update(pred, y, sw)
  core.metric_confusion(pred, y, self.thresholds, self.counts, sw)
end
function Confusion:result() return self.compute(self.counts:totable()) end
function Confusion:_state() return self.counts:reshape{self.counts:numel()}:totable() end
function Confusion:_set_state(s) self.counts = lurn_tensor(s):reshape{#self.thresholds, 4} end

local function ratio(a, b) return b > 0 and a / b or 0 end

-- Keras' options of Precision and Recall, and of AUC, that lurn does not implement.
local CONFUSION_UNSUPPORTED = {"top_k", "class_id", "dtype"}
local AUC_UNSUPPORTED = {"curve", "summation_method", "dtype", "thresholds", "multi_label", "num_labels",
                         "label_weights", "from_logits"}

-- The one threshold of Precision or Recall (Keras also takes a list, and then returns one
-- value per threshold: lurn gives one value, so a list is refused rather than cut to its first).
local function one_threshold(opts, where)
  local t = (opts or {}).thresholds
  if t == nil then return 0.5 end
  if type(t) ~= "number" or not (t >= 0 and t <= 1) then
    error(("%s: thresholds must be one number in [0, 1] (a list of thresholds is not supported by lurn), got %s")
      :format(where, type(t) == "number" and tostring(t) or type(t)), 3)
  end
  return t
end

-- What made metric m, as plain data ({class_name =, config =}): a model file keeps it.
local function made_by(m, class_name, config)
  m._config = {class_name = class_name, config = config}
  return m
end

function metrics.Precision(opts)
  options.check(opts, {"thresholds", "name"}, "Precision", 2, {unsupported = CONFUSION_UNSUPPORTED})
  local name, threshold = (opts or {}).name or "precision", one_threshold(opts, "Precision")
  return made_by(confusion_metric(name, {threshold}, function(c) return ratio(c[1][1], c[1][1] + c[1][2]) end),
                 "Precision", {name = name, thresholds = threshold})
end

function metrics.Recall(opts)
  options.check(opts, {"thresholds", "name"}, "Recall", 2, {unsupported = CONFUSION_UNSUPPORTED})
  local name, threshold = (opts or {}).name or "recall", one_threshold(opts, "Recall")
  return made_by(confusion_metric(name, {threshold}, function(c) return ratio(c[1][1], c[1][1] + c[1][4]) end),
                 "Recall", {name = name, thresholds = threshold})
end

--- ROC AUC with Keras' defaults: 200 thresholds and trapezoidal interpolation.
function metrics.AUC(opts)
  options.check(opts, {"num_thresholds", "name"}, "AUC", 2, {unsupported = AUC_UNSUPPORTED})
  opts = opts or {}
  local n = opts.num_thresholds or 200
  local eps = 1e-7
  local th = {-eps}
  for i = 1, n - 2 do th[#th + 1] = i / (n - 1) end
  th[#th + 1] = 1 + eps
  local m = confusion_metric(opts.name or "auc", th, function(c)
    local area = 0
    for i = 1, #c - 1 do
      local tpr1, fpr1 = ratio(c[i][1], c[i][1] + c[i][4]), ratio(c[i][2], c[i][2] + c[i][3])
      local tpr2, fpr2 = ratio(c[i + 1][1], c[i + 1][1] + c[i + 1][4]), ratio(c[i + 1][2], c[i + 1][2] + c[i + 1][3])
      area = area + (fpr1 - fpr2) * (tpr1 + tpr2) / 2
    end
    return area
  end)
  return made_by(m, "AUC", {name = opts.name or "auc", num_thresholds = n})
end

metrics.F1Score = require "lurn.metrics.f1_score"

local simple = {
  binary_accuracy = "binary_accuracy", categorical_accuracy = "categorical_accuracy",
  sparse_categorical_accuracy = "sparse_categorical_accuracy",
  mse = "mse", mean_squared_error = "mse", mae = "mae", mean_absolute_error = "mae",
}

--- A metric object from a name or an object; `loss_kind` and `output_size` resolve "accuracy".
function metrics.get(x, loss_kind, output_size)
  if type(x) == "table" and x.update then
    if x.set_output_size and output_size then x:set_output_size(output_size) end
    return x
  end
  if x == "accuracy" or x == "acc" then
    local kind
    if loss_kind == "sparse_categorical_crossentropy" then kind = "sparse_categorical_accuracy"
    elseif loss_kind == "binary_crossentropy" or output_size == 1 then kind = "binary_accuracy"
    else kind = "categorical_accuracy" end
    return mean_metric(x, kind)
  end
  if simple[x] then return mean_metric(x, simple[x]) end
  if x == "precision" then return metrics.Precision() end
  if x == "recall" then return metrics.Recall() end
  if x == "auc" or x == "AUC" then return metrics.AUC{name = x} end
  -- Keras resolves a metric class's own name to the class with its defaults ("F1Score"), but
  -- has no "f1_score" string.
  if x == "F1Score" then
    local m = metrics.F1Score()
    if output_size then m:set_output_size(output_size) end
    return m
  end
  error(("unknown metric %s (known: accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, "
    .. "precision, recall, auc, F1Score, mse, mae)"):format(type(x) == "string" and ("'" .. x .. "'") or type(x)), 2)
end

--- Updates every metric of list with one batch: predictions, targets, per-sample weights
-- (or nil) and the mask (N, steps) the model's output carried (or nil). Over a masked
-- output the metrics weigh each step by the mask, as Keras 2.13-2.15 (compile_utils'
-- MetricsContainer passes the mask as the metrics' sample weight), times the sample
-- weights (lurn's metrics weigh by them, as Keras' weighted_metrics): each step becomes
-- a row (N * steps, ...) with its own weight, so a padded step counts nowhere.
function metrics._update(list, pred, y, sw, mask)
  if mask then
    local rows = mask:numel()
    sw = sw and mask * sw:reshape{sw:numel(), 1} or mask
    pred, y, sw = pred:reshape{rows, -1}, y:reshape{rows, -1}, sw:reshape{rows}
  end
  for _, m in ipairs(list) do m:update(pred, y, sw) end
end

--- A metric's state as a list of numbers that add up over batches (and over the processes
-- of a data-parallel fit, which sums them), and the state back from such a list.
function metrics._state(m)
  if not m._state then
    error(("fit under several processes: the metric '%s' has no state to sum over them (_state)"):format(
      tostring(m.name)), 0)
  end
  return m:_state()
end
function metrics._set_state(m, s) m:_set_state(s) end

--- The log keys of a metric: its name, or one key per entry for a metric whose result is a
-- list (F1Score without average: f1_score_0, f1_score_1, ...).
function metrics._log_keys(m)
  if m.log_keys then return m:log_keys() end
  return {m.name}
end

--- Writes a metric's current result into logs under its log keys; appends the values to
-- list if given (train_on_batch's list).
function metrics._write_log(m, logs, list)
  local result = m:result()
  if type(result) ~= "table" then
    logs[m.name] = result
    if list then list[#list + 1] = result end
    return
  end
  for i, key in ipairs(metrics._log_keys(m)) do
    logs[key] = result[i]
    if list then list[#list + 1] = result[i] end
  end
end

-- scikit-learn's functions on whole lists of labels and scores.
for _, module in ipairs {"lurn.metrics.classification", "lurn.metrics.report", "lurn.metrics.ranking"} do
  -- (names starting with _ are shared between those files, not part of lurn.metrics)
  for name, fn in pairs(require(module)) do
    if name:sub(1, 1) ~= "_" then metrics[name] = fn end
  end
end

return metrics
