--- scikit-learn's label metrics (sklearn/metrics/_classification.py, 1.2): confusion_matrix,
-- accuracy_score, balanced_accuracy_score, precision_recall_fscore_support, precision_score,
-- recall_score, f1_score. Labels are lurn's class labels (whole numbers from 0) in Lua lists
-- or tensors of shape (N) or (N, 1); the counting is done in C (core.label_sums,
-- core.confusion_matrix), the per-class arithmetic here. Per-class results are Lua lists, entry i for the i-th label
-- (the labels present in y_true or y_pred, ascending, or those of `labels`).
local core = require "lurn.core"
local options = require "lurn.options"
local at_user_line = require "lurn.at_user_line"

local classification = {}

-- zero_division: "warn" (0; scikit-learn also warns, lurn does not print), 0 or 1.
local function check_zero_division(zd, who)
  if zd == nil then return "warn" end
  if zd ~= "warn" and zd ~= 0 and zd ~= 1 then
    error(("%s: zero_division must be \"warn\", 0 or 1, got %s"):format(who, tostring(zd)), 3)
  end
  return zd
end

-- Labels at or past this are refused, as in C (src/nn/label_counts.c) and wherever lurn reads
-- class labels from floats.
local MAX_LABEL = 16777216

--- The `labels` option as a list of class labels (whole numbers from 0), or nil; raises at
-- `level` (from the caller of this function) naming `who` for anything else.
function classification._label_list(who, labels, level)
  if labels == nil then return nil end
  level = (level or 1) + 1
  if core.is_tensor(labels) then labels = labels:reshape(labels:numel()):totable() end
  if type(labels) ~= "table" then error(("%s: labels must be a list of class labels"):format(who), level) end
  local out = {}
  for i = 1, rawlen(labels) do
    local l = rawget(labels, i)
    if type(l) ~= "number" then
      error(("%s: labels[%d] is a %s, not a class label"):format(who, i, type(l)), level)
    end
    if not (l >= 0 and l < MAX_LABEL and l == math.floor(l)) then
      error(("%s: labels[%d] = %s is not a class label (a whole number from 0)"):format(who, i,
        l ~= l and "NaN" or ("%.17g"):format(l)), level)
    end
    out[i] = math.tointeger(l)
  end
  return out
end

local function label_list(who, labels)
  return classification._label_list(who, labels, 3)
end

-- The weighted sums of each label present in y_true or y_pred: tp (true and predicted), pred,
-- truth; and a lookup label -> position among them.
local function sums(who, y_true, y_pred, sample_weight)
  local present, tp, pred, truth = core.label_sums(who, y_true, y_pred, sample_weight)
  local at = {}
  for i, l in ipairs(present) do at[l] = i end
  return {present = present, tp = tp, pred = pred, truth = truth, at = at}
end

-- tp, predicted and true sums of each of labels (0 for a label absent from the data).
local function label_sums(s, labels)
  local tp, pred, truth = {}, {}, {}
  for k, l in ipairs(labels) do
    local i = s.at[l]
    tp[k], pred[k], truth[k] = i and s.tp[i] or 0, i and s.pred[i] or 0, i and s.truth[i] or 0
  end
  return tp, pred, truth
end

local function divide(num, den, zero_division)
  if den == 0 then return zero_division == 1 and 1.0 or 0.0 end
  return num / den
end

local function weighted_mean(values, weights)
  local s, w = 0, 0
  for i, v in ipairs(values) do
    local wi = weights and weights[i] or 1
    s, w = s + wi * v, w + wi
  end
  return s / w
end

local AVERAGES = {binary = true, micro = true, macro = true, weighted = true}

-- scikit-learn's _check_set_wise_labels: the labels scored, and whether y is binary.
local function scored_labels(who, present, average, labels, pos_label)
  if average == "binary" then
    if #present > 2 then
      error(("%s: the target is multiclass (%d classes) but average = \"binary\": choose average = \"micro\", "
        .. "\"macro\", \"weighted\" or false (per class)"):format(who, #present), 3)
    end
    local found = false
    for _, l in ipairs(present) do found = found or l == pos_label end
    if not found and #present >= 2 then
      error(("%s: pos_label = %s is not a label of the data (present: %s)"):format(who, tostring(pos_label),
        table.concat(present, ", ")), 3)
    end
    return {pos_label}
  end
  return labels or present
end

--- precision_recall_fscore_support(y_true, y_pred, {labels=, pos_label=1, average=false,
-- sample_weight=, zero_division="warn"}) -> precision, recall, fscore, support (lists per label
-- with average = false, scikit-learn's None; numbers and a nil support otherwise).
local PRF_OPTIONS = {"labels", "pos_label", "average", "sample_weight", "zero_division"}
local function prf(who, y_true, y_pred, opts, default_average)
  options.check(opts, PRF_OPTIONS, who, 3, {unsupported = {"beta", "warn_for"}})
  opts = opts or {}
  local average = opts.average
  if average == nil then average = default_average end
  if average ~= false and not AVERAGES[average] then
    error(("%s: average must be \"binary\", \"micro\", \"macro\", \"weighted\" or false (per class, "
      .. "scikit-learn's None), got %s"):format(who, tostring(average)), 3)
  end
  if average == "samples" then error(who .. ": average = \"samples\" is for multilabel targets, not supported by lurn", 3) end
  local zd = check_zero_division(opts.zero_division, who)
  local pos_label = opts.pos_label == nil and 1 or opts.pos_label
  local s = sums(who, y_true, y_pred, opts.sample_weight)
  local labels = scored_labels(who, s.present, average, label_list(who, opts.labels), pos_label)
  local tp, pred, truth = label_sums(s, labels)
  if average == "micro" then
    local a, b, c = 0, 0, 0
    for k = 1, #labels do a, b, c = a + tp[k], b + pred[k], c + truth[k] end
    tp, pred, truth = {a}, {b}, {c}
  end
  local precision, recall, f = {}, {}, {}
  for k = 1, #tp do
    precision[k] = divide(tp[k], pred[k], zd)
    recall[k] = divide(tp[k], truth[k], zd)
    local den = precision[k] + recall[k]
    f[k] = den == 0 and 0.0 or 2 * precision[k] * recall[k] / den
  end
  if average == false then return precision, recall, f, truth end
  local weights
  if average == "weighted" then
    weights = truth
    local total, predicted = 0, 0
    for k = 1, #truth do total, predicted = total + truth[k], predicted + pred[k] end
    if total == 0 then
      local z = zd == 1 and 1.0 or 0.0
      if predicted == 0 then return z, z, z, nil end
      return 0.0, z, 0.0, nil
    end
  end
  return weighted_mean(precision, weights), weighted_mean(recall, weights), weighted_mean(f, weights), nil
end

classification.precision_recall_fscore_support = at_user_line(function(y_true, y_pred, opts)
  return prf("precision_recall_fscore_support", y_true, y_pred, opts, false)
end)

--- precision_score, recall_score, f1_score(y_true, y_pred, {labels=, pos_label=1,
-- average="binary", sample_weight=, zero_division="warn"}): a number, or with average =
-- false a list (one per label).
classification.precision_score = at_user_line(function(y_true, y_pred, opts)
  return (prf("precision_score", y_true, y_pred, opts, "binary"))
end)

classification.recall_score = at_user_line(function(y_true, y_pred, opts)
  local _, r = prf("recall_score", y_true, y_pred, opts, "binary")
  return r
end)

classification.f1_score = at_user_line(function(y_true, y_pred, opts)
  local _, _, f = prf("f1_score", y_true, y_pred, opts, "binary")
  return f
end)

--- accuracy_score(y_true, y_pred, {normalize=true, sample_weight=}): the (weighted) share of
-- samples predicted right, or with normalize = false their (weighted) count.
classification.accuracy_score = at_user_line(function(y_true, y_pred, opts)
  local who = "accuracy_score"
  options.check(opts, {"normalize", "sample_weight"}, who, 2)
  opts = opts or {}
  local s = sums(who, y_true, y_pred, opts.sample_weight)
  local right, total = 0, 0
  for i = 1, #s.present do right, total = right + s.tp[i], total + s.truth[i] end
  if opts.normalize == false then return right end
  -- scikit-learn's np.average: "Weights sum to zero, can't be normalized" (ZeroDivisionError)
  if total == 0 then error(who .. ": sample_weight sums to zero: the share of samples right is not defined "
    .. "(normalize = false gives the weighted count)", 2) end
  return right / total
end)

--- balanced_accuracy_score(y_true, y_pred, {sample_weight=, adjusted=false}): the mean of the
-- recalls of the classes present in y_true (a class only predicted is left out); adjusted:
-- rescaled so that chance scores 0.
classification.balanced_accuracy_score = at_user_line(function(y_true, y_pred, opts)
  local who = "balanced_accuracy_score"
  options.check(opts, {"sample_weight", "adjusted"}, who, 2)
  opts = opts or {}
  local s = sums(who, y_true, y_pred, opts.sample_weight)
  local recalls = {}
  for i = 1, #s.present do
    if s.truth[i] ~= 0 then recalls[#recalls + 1] = s.tp[i] / s.truth[i] end
  end
  -- scikit-learn returns NaN here (the mean of no recall, with two warnings): lurn prints no
  -- warning, so it refuses, as accuracy_score does.
  if #recalls == 0 then
    error(who .. ": sample_weight sums to zero in every class of y_true: no recall is defined", 2)
  end
  local score = weighted_mean(recalls)
  if opts.adjusted then
    local chance = 1 / #recalls
    score = (score - chance) / (1 - chance)
  end
  return score
end)

local NORMALIZE = {["true"] = true, pred = true, all = true}

--- confusion_matrix(y_true, y_pred, {labels=, sample_weight=, normalize=nil}) -> a tensor
-- (C, C): entry (i, j) counts the samples of label i predicted as label j (positions 1-based:
-- row i is the i-th label). normalize = "true" (rows), "pred" (columns) or "all".
classification.confusion_matrix = at_user_line(function(y_true, y_pred, opts)
  local who = "confusion_matrix"
  options.check(opts, {"labels", "sample_weight", "normalize"}, who, 2)
  opts = opts or {}
  if opts.normalize ~= nil and NORMALIZE[opts.normalize] == nil then
    error(("%s: normalize must be \"true\", \"pred\", \"all\" or nil, got %s"):format(who, tostring(opts.normalize)), 2)
  end
  local labels = label_list(who, opts.labels)
  local cm = core.confusion_matrix(who, y_true, y_pred, opts.sample_weight, labels, opts.normalize or "none")
  if labels then
    local present = core.labels_present(who, y_true)
    local listed = {}
    for _, l in ipairs(labels) do listed[l] = true end
    local any = false
    for _, l in ipairs(present) do any = any or listed[l] end
    if not any then error(who .. ": at least one label of `labels` must be in y_true", 2) end
  end
  return cm
end)

return classification
