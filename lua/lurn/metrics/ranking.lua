--- scikit-learn's score metrics (sklearn/metrics/_ranking.py, 1.2): roc_curve,
-- precision_recall_curve and roc_auc_score (binary, and multiclass one-vs-rest). y_true holds
-- class labels, y_score the scores (probabilities or any real numbers) as Lua lists or tensors;
-- sorting and counting run in C (src/nn/score_curves.c). Rates come back as 1-D float32
-- tensors; thresholds as a Lua list of the scores themselves (doubles, as scikit-learn's
-- float64), so that `score >= thresholds[i]` picks exactly the samples of point i.
local core = require "lurn.core"
local options = require "lurn.options"
local at_user_line = require "lurn.at_user_line"

local ranking = {}

--- roc_curve(y_true, y_score, {pos_label=, sample_weight=, drop_intermediate=true}) -> fpr,
-- tpr (tensors), thresholds (a list; the first is the highest score + 1, as scikit-learn 1.2).
ranking.roc_curve = at_user_line(function(y_true, y_score, opts)
  local who = "roc_curve"
  options.check(opts, {"pos_label", "sample_weight", "drop_intermediate"}, who, 2)
  opts = opts or {}
  return core.roc_curve(who, y_true, y_score, opts.sample_weight, opts.pos_label, opts.drop_intermediate ~= false)
end)

--- precision_recall_curve(y_true, probas_pred, {pos_label=, sample_weight=}) -> precision,
-- recall (tensors, one more entry than thresholds: the point recall 0, precision 1),
-- thresholds (a list, ascending).
ranking.precision_recall_curve = at_user_line(function(y_true, probas_pred, opts)
  local who = "precision_recall_curve"
  options.check(opts, {"pos_label", "sample_weight"}, who, 2)
  opts = opts or {}
  return core.precision_recall_curve(who, y_true, probas_pred, opts.sample_weight, opts.pos_label)
end)

-- y_score as a 2-D tensor (N, C), or nil if it is a list or a tensor of one column.
local function score_matrix(y_score)
  if core.is_tensor(y_score) then
    if y_score:dim() == 2 and y_score:size(2) > 1 then return y_score end
    return nil
  end
  if type(y_score) == "table" and type(y_score[1]) == "table" then return core.tensor(y_score) end
  return nil
end

local function binary_auc(who, y_true, y_score, sample_weight)
  local classes = core.labels_present(who, y_true)
  if #classes ~= 2 then
    error(("%s: only one class (%d) is present in y_true: ROC AUC is not defined then"):format(who, classes[1]), 3)
  end
  -- the larger label is the positive class, as scikit-learn's label_binarize
  return core.roc_auc(who, y_true, y_score, sample_weight, classes[2])
end

-- One-vs-rest: each class's column against the rest, averaged ("macro"; "weighted" by each
-- class's weighted support) or a list (average = false).
local function ovr_auc(who, y_true, scores, average, sample_weight)
  local classes = core.labels_present(who, y_true)
  local c = scores:size(2)
  if #classes ~= c then
    error(("%s: y_true has %d classes but y_score has %d columns"):format(who, #classes, c), 3)
  end
  -- numpy's allclose(1, row sums), over the tensor; the rows are read only to name a bad one
  local sums = scores:sum(2):reshape(scores:size(1))
  if ((sums - 1):abs() - sums:abs() * 1e-5):max() > 1e-8 then
    for i, s in ipairs(sums:totable()) do
      if math.abs(1 - s) > 1e-8 + 1e-5 * math.abs(s) then
        error(("%s: row %d of y_score sums to %g: multiclass ROC AUC needs probabilities that sum to 1 over the "
          .. "classes (apply softmax)"):format(who, i, s), 3)
      end
    end
  end
  local per_class, weights = {}, {}
  local support = average == "weighted" and select(4, core.label_sums(who, y_true, y_true, sample_weight)) or nil
  for k = 1, c do
    per_class[k] = core.roc_auc(who, y_true, scores:select(2, k), sample_weight, classes[k])
    if support then weights[k] = support[k] end
  end
  if average == false then return per_class end
  local s, w = 0, 0
  for k = 1, c do
    local wk = support and weights[k] or 1
    if wk ~= 0 then s, w = s + wk * per_class[k], w + wk end
  end
  return s / w
end

--- roc_auc_score(y_true, y_score, {average="macro", sample_weight=, multi_class="raise"}): the
-- area under the ROC curve. Binary y_true: y_score holds the scores of the larger label (a list
-- or a tensor (N) or (N, 1)). Multiclass: y_score (N, C) probabilities and multi_class = "ovr";
-- average "macro", "weighted" or false (a list, one per class).
ranking.roc_auc_score = at_user_line(function(y_true, y_score, opts)
  local who = "roc_auc_score"
  options.check(opts, {"average", "sample_weight", "multi_class"}, who, 2, {unsupported = {"max_fpr", "labels"}})
  opts = opts or {}
  local multi_class = opts.multi_class or "raise"
  if multi_class ~= "raise" and multi_class ~= "ovr" then
    error(("%s: multi_class must be \"ovr\" or \"raise\"%s, got %s"):format(who,
      multi_class == "ovo" and " (\"ovo\" is not supported by lurn)" or "", tostring(multi_class)), 2)
  end
  local average = opts.average
  if average == nil then average = "macro" end
  local scores = score_matrix(y_score)
  local classes = core.labels_present(who, y_true)
  if #classes > 2 or (scores and scores:size(2) > 2) then
    if multi_class == "raise" then
      error(("%s: y_true has %d classes: pass multi_class = \"ovr\" (one class against the rest) with y_score of "
        .. "shape (N, C) holding probabilities"):format(who, #classes), 2)
    end
    if average ~= "macro" and average ~= "weighted" and average ~= false then
      error(("%s: with multi_class = \"ovr\", average must be \"macro\", \"weighted\" or false, got %s"):format(who,
        tostring(average)), 2)
    end
    if not scores then error(who .. ": multiclass y_true needs y_score of shape (N, C), one column per class", 2) end
    return ovr_auc(who, y_true, scores, average, opts.sample_weight)
  end
  if scores then
    error(("%s: y_true is binary but y_score has %d columns: pass the scores of the positive class (the larger "
      .. "label), e.g. y_score:select(2, 2)"):format(who, scores:size(2)), 2)
  end
  return binary_auc(who, y_true, y_score, opts.sample_weight)
end)

return ranking
