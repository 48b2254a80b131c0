--- imbalance_check(build, x, y, {strategies =}): an imbalanced classification trained with
-- nothing done, with class weights ("balanced"), with random oversampling and with SMOTE
-- (lurn.sampling). Only the training split is resampled: the validation split is held
-- out first (stratified, so that the minority is in it) and stays as it is, so that every
-- strategy is judged on the same real class balance. Judged by accuracy and by what
-- accuracy hides: per-class recall and F1, balanced accuracy and ROC AUC (lurn.metrics,
-- scikit-learn's functions).
local core = require "lurn.core"
local runs = require "lurn.experiments.runs"
local report = require "lurn.experiments.report"
local sampling = require "lurn.sampling"
local metrics = require "lurn.metrics"
local utils = require "lurn.utils"

local WHO = "imbalance_check"
local STRATEGIES = {none = true, class_weight = true, oversample = true, smote = true}
local DEFAULT_STRATEGIES = {"none", "class_weight", "oversample", "smote"}

-- Samples per class (0-based classes 0..classes-1) of a label tensor.
local function counts(labels, classes)
  local out = {}
  local list = labels:totable()
  for c = 0, classes - 1 do out[c] = 0 end
  for _, v in ipairs(list) do out[v] = (out[v] or 0) + 1 end
  return out
end

local function counts_text(c, classes)
  local parts = {}
  for k = 0, classes - 1 do parts[#parts + 1] = ("%d: %d"):format(k, c[k] or 0) end
  return table.concat(parts, ", ")
end

-- A table keyed by class 0..classes-1 as a list (1-based), and back.
local function by_position(t, classes)
  local list = {}
  for c = 0, classes - 1 do list[c + 1] = t[c] end
  return list
end

local function by_class(list)
  local t = {}
  for i, v in ipairs(list) do t[i - 1] = v end
  return t
end

-- y rebuilt from resampled labels, in the form the model was given (one-hot rows, (N, 1)
-- or (N)).
local function as_targets(labels, like, classes)
  if like:dim() == 2 and like:size(2) > 1 then return utils.to_categorical(labels, classes) end
  if like:dim() == 2 then return labels:reshape(labels:size(1), 1) end
  return labels:reshape(labels:size(1))
end

-- The training split for a strategy -> {x =, y =}, fit's class_weight or nil.
local function resampled(strategy, train, labels, classes, opts)
  if strategy == "none" then return train, nil end
  if strategy == "class_weight" then return train, utils.compute_class_weight("balanced", labels) end
  local sampler
  if strategy == "oversample" then
    sampler = sampling.RandomOverSampler{random_state = opts.seed}
  else
    sampler = sampling.SMOTE{random_state = opts.seed, k_neighbors = opts.k_neighbors or 5}
  end
  local shape = train.x:shape()
  local ok, xr, lr = pcall(sampler.fit_resample, sampler, train.x:reshape(shape[1], -1), labels)
  if not ok then error(("%s: %s on the training split: %s"):format(WHO, strategy, (tostring(xr):gsub("^[^\n]-:%d+: ", ""))), 0) end
  shape[1] = xr:size(1)
  return {x = xr:reshape(table.unpack(shape)):contiguous(), y = as_targets(lr, train.y, classes)}, nil
end

-- Predicted labels and scores from a model's outputs: a single column is a probability
-- of class 1 (threshold 0.5); rows of C columns are class probabilities (argmax). Logits
-- (a loss with from_logits) pass through the sigmoid or a softmax first.
local function predictions(model, x, batch_size)
  local p = model:predict(x, {verbose = 0, batch_size = batch_size})
  p = p:reshape(p:size(1), -1)
  if p:size(2) == 1 then
    if model.loss.from_logits then p = p:sigmoid() end
    local score = p:reshape(p:size(1))
    return score:ge(0.5), score, 2
  end
  if model.loss.from_logits then
    local e = (p - p:max(2, true)):exp()
    p = e / e:sum(2, true)
  end
  local pred = p:argmax(2):reshape(p:size(1)) - 1
  if p:size(2) == 2 then return pred, p:select(2, 2):contiguous(), 2 end
  return pred, p:contiguous(), p:size(2)
end

local function scores(model, val, val_labels, classes, batch_size)
  local pred, score, width = predictions(model, val.x, batch_size)
  local labels = {}
  for c = 0, classes - 1 do labels[c + 1] = c end
  local precision, recall, f1 = metrics.precision_recall_fscore_support(val_labels, pred,
    {labels = labels, zero_division = 0})
  local out = {accuracy = metrics.accuracy_score(val_labels, pred),
               balanced_accuracy = metrics.balanced_accuracy_score(val_labels, pred),
               precision = precision, recall = recall, f1 = f1}
  local sum = 0
  for _, v in ipairs(f1) do sum = sum + v end
  out.macro_f1 = sum / #f1
  local ok, auc = pcall(function()
    if width == 2 then return metrics.roc_auc_score(val_labels, score) end
    return metrics.roc_auc_score(val_labels, score, {multi_class = "ovr"})
  end)
  if ok then out.auc = auc else out.auc_error = (tostring(auc):gsub("^[^\n]-:%d+: ", "")) end
  return out
end

local function conclude(result)
  local out = {}
  local m = result.minority
  local by = {}
  for _, r in ipairs(result.runs) do by[r.name] = r end
  local none = by.none
  if none then
    out[#out + 1] = ("With nothing done, accuracy is %s (the majority class alone would score %s) while the minority "
      .. "class %d has recall %s and F1 %s."):format(report.number(none.accuracy), report.number(result.majority_share),
      m, report.number(none.recall[m + 1]), report.number(none.f1[m + 1]))
  end
  local best_recall, best_f1
  for _, r in ipairs(result.runs) do
    if best_recall == nil or r.recall[m + 1] > best_recall.recall[m + 1] then best_recall = r end
    if best_f1 == nil or r.macro_f1 > best_f1.macro_f1 then best_f1 = r end
  end
  out[#out + 1] = ("The highest minority recall is %s's (%s); the highest macro F1 %s's (%s)."):format(best_recall.name,
    report.number(best_recall.recall[m + 1]), best_f1.name, report.number(best_f1.macro_f1))
  if none then
    local better = {}
    for _, r in ipairs(result.runs) do
      if r ~= none and r.recall[m + 1] > none.recall[m + 1] + 0.05 then better[#better + 1] = r.name end
    end
    if #better > 0 then
      out[#out + 1] = ("Minority recall rose by more than 0.05 over doing nothing with %s."):format(table.concat(better, ", "))
    else
      out[#out + 1] = "No strategy raised the minority recall by more than 0.05 over doing nothing: the expected "
        .. "effect is not shown here (the classes may already be separable, or the validation minority too small "
        .. ("to tell: %d samples)."):format(result.validation_counts[m] or 0)
    end
    local drops = {}
    for _, r in ipairs(result.runs) do
      if r ~= none and r.accuracy < none.accuracy - 0.02 then drops[#drops + 1] = ("%s %s"):format(r.name,
        report.number(r.accuracy)) end
    end
    if #drops > 0 then
      out[#out + 1] = ("Accuracy fell with %s (compare the minority's recall and the majority's in the table)."):format(
        table.concat(drops, ", "))
    end
  end
  return out
end

local function imbalance_check(build, x, y, opts)
  opts = runs.options(WHO, opts, {"strategies", "k_neighbors"})
  local strategies = opts.strategies or DEFAULT_STRATEGIES
  if type(strategies) ~= "table" or #strategies == 0 then
    error(WHO .. ": strategies must be a non-empty list of 'none', 'class_weight', 'oversample', 'smote'", 0)
  end
  for i, s in ipairs(strategies) do
    if not STRATEGIES[s] then
      error(("%s: strategies[%d] is %s: known are 'none', 'class_weight', 'oversample', 'smote'"):format(
        WHO, i, tostring(s)), 0)
    end
  end
  if opts.k_neighbors ~= nil then runs.count(WHO, "k_neighbors", opts.k_neighbors) end
  runs.check_data(WHO, x, y)
  local make = runs.maker(WHO, build)
  local all_labels = runs.labels(y)
  local lo, hi = all_labels:min(), all_labels:max()
  if lo < 0 or all_labels:ne(all_labels:floor()):max() > 0 then
    error(WHO .. ": y must hold class labels (whole numbers from 0) or one-hot rows", 0)
  end
  local classes = math.tointeger(hi) + 1
  if y:dim() == 2 and y:size(2) > 1 then classes = y:size(2) end
  if classes < 2 then error(WHO .. ": y has one class only: nothing to balance", 0) end
  local train, val = runs.split(WHO, x, y, opts, all_labels)
  local train_labels, val_labels = runs.labels(train.y), runs.labels(val.y)
  local result = {classes = classes, training_counts = counts(train_labels, classes),
                  validation_counts = counts(val_labels, classes), runs = {}}
  local minority, majority
  for c = 0, classes - 1 do
    local n = result.training_counts[c]
    if n > 0 and (minority == nil or n < result.training_counts[minority]) then minority = c end
    if majority == nil or n > result.training_counts[majority] then majority = c end
  end
  result.minority, result.majority = minority, majority
  result.majority_share = (result.validation_counts[majority] or 0) / val.x:size(1)
  -- the strategies' runs, spread over the ranks under mpirun: their tables keyed by class
  -- (from 0) travel as lists (plain data) and are keyed by class again here
  result.runs = runs.each(strategies, function(strategy)
    local part, class_weight = resampled(strategy, train, train_labels, classes, opts)
    local record, model = runs.train_variant(WHO, make, {name = strategy, class_weight = class_weight}, part, val, opts)
    local s = scores(model, val, val_labels, classes, opts.batch_size)
    for k, v in pairs(s) do record[k] = v end
    record.train_counts = by_position(counts(runs.labels(part.y), classes), classes)
    record.class_weight = class_weight and by_position(class_weight, classes)
    runs.say(opts, "%s: %s: minority recall %s, macro F1 %s", WHO, strategy, report.number(s.recall[minority + 1]),
      report.number(s.macro_f1))
    return record
  end)
  for _, record in ipairs(result.runs) do
    record.train_counts = by_class(record.train_counts)
    record.class_weight = record.class_weight and by_class(record.class_weight)
  end
  local rows = {}
  for _, r in ipairs(result.runs) do
    local recalls = {}
    for c = 0, classes - 1 do recalls[#recalls + 1] = ("%d: %s"):format(c, report.number(r.recall[c + 1], "%.3f")) end
    rows[#rows + 1] = {r.name, counts_text(r.train_counts, classes), r.accuracy, r.balanced_accuracy,
                       table.concat(recalls, ", "), r.f1[minority + 1], r.macro_f1, r.auc or "-", r.best_val_loss}
  end
  local draw
  draw, result.plots = report.plotter(WHO, opts)
  local labels, recall_m, f1_m, acc = {}, {}, {}, {}
  for i, r in ipairs(result.runs) do
    labels[i], recall_m[i], f1_m[i], acc[i] = r.name, r.recall[minority + 1], r.macro_f1, r.accuracy
  end
  draw("scores", "bars", {{labels = labels, values = acc, label = "accuracy"},
                          {values = recall_m, label = ("recall of class %d"):format(minority)},
                          {values = f1_m, label = "macro F1"}},
       {xlabel = "strategy", ylabel = "score", title = "validation scores per strategy"})
  result.conclusion = conclude(result)
  result.report = report.section("Class imbalance",
    ("%d classes; training split %s (minority: class %d), validation split %s, never resampled. %s, %d epochs each "
      .. "from the same seed (%d)."):format(classes, counts_text(result.training_counts, classes), minority,
      counts_text(result.validation_counts, classes), table.concat(labels, " / "), opts.epochs, opts.seed),
    report.table({"strategy", "training samples per class", "accuracy", "balanced accuracy", "recall per class",
                  ("F1 of class %d"):format(minority), "macro F1", "ROC AUC", "best val loss"}, rows),
    result.conclusion, result.plots)
  return result
end

return imbalance_check
