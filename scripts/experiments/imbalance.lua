--- Lesson 13, class imbalance: when one class is rare, accuracy says little. From
-- Fashion-MNIST, a two-class task: "shirt" (class 6) against the three tops it is most
-- often confused with (T-shirt/top, pullover, coat), with shirts a few percent of the
-- images, in training and in validation alike (the validation images come from Debian's
-- test file, at the same rate). lurn.experiments.imbalance_check trains the same small
-- network four ways: nothing done, class_weight "balanced", random oversampling of the
-- shirts, and SMOTE; only the training split is resampled, the validation split keeps
-- the real balance. The table sets accuracy beside what it hides: the shirts' precision,
-- recall and F1, balanced accuracy, macro F1 and ROC AUC (which does not depend on the
-- 0.5 threshold). The conclusion compares the doing-nothing accuracy with the share of
-- the majority (what always answering "not a shirt" would score), names the strategies
-- that raised the minority recall, and what they cost in precision and accuracy; where no
-- strategy helped, it says so.
--
--   build/lurn scripts/experiments/imbalance.lua [--tiny|--quick|--full] [--out DIR]
-- lesson.lua and lesson_kit.lua sit beside this file
package.path = (debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. "?.lua;" .. package.path
local lesson = require "lesson"
local kit = require "lesson_kit"
local lurn = require "lurn"
local L = lurn.layers

local MINORITY = 6                         -- shirt
local MAJORITY = {[0] = true, [2] = true, [4] = true}  -- T-shirt/top, pullover, coat

-- Images of the majority classes (`per_class` of each) and `shirts` shirts from x, y:
-- x (n, 784) and y (n) with 1 for a shirt, 0 otherwise, in file order.
local function task(x, y, per_class, shirts)
  local limit = {[0] = per_class, [2] = per_class, [4] = per_class, [MINORITY] = shirts}
  local classes = {[MINORITY] = true}
  for c in pairs(MAJORITY) do classes[c] = true end
  local pos = kit.positions_of(y, classes, limit)
  local xs = kit.rows(x, pos)
  local ys = kit.rows(y, pos):eq(MINORITY)
  return xs, ys
end

local function build(units)
  return function()
    local model = lurn.Sequential{
      L.Dense(units, {input_shape = {784}, activation = "relu"}),
      L.Dense(1, {activation = "sigmoid"}),
    }
    return model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.001}, loss = "binary_crossentropy",
                         metrics = {"accuracy"}}
  end
end

-- The doctor's cases (lesson.lua): the lesson's task at its share of shirts (about 2%),
-- trained plainly and with Keras' balanced class weights, n / (2 n_c).
local function doctor(ctx)
  local per_class = math.floor(ctx.doctor.train / 4)
  local d = kit.fashion{train = ctx.doctor.train * 2, test = ctx.doctor.val * 4, flat = true}
  local x, y = task(d.x_train, d.y_train, per_class, math.max(2, math.floor(per_class * 3 * 0.02 + 0.5)))
  local xv, yv = task(d.x_test, d.y_test, math.floor(ctx.doctor.val / 3), math.max(2, math.floor(ctx.doctor.val * 0.02 + 0.5)))
  local n, shirts = y:size(1), y:sum()
  local weights = {[0] = n / (2 * (n - shirts)), [1] = n / (2 * shirts)}
  return {
    {name = "plain", expect = "class_imbalance", build = function()
      return build(128)(), x, y, {validation_data = {xv, yv}}
    end},
    {name = "class weights (balanced)", fixed = true, build = function()
      return build(128)(), x, y, {validation_data = {xv, yv}, class_weight = weights}
    end},
  }
end

local function run(ctx)
  -- small dense networks: one thread is as fast as two here, and keeps its pace when other programs are
  -- busy on the cores (lurn's threads spin while they wait); run_all.lua restores the count
  lurn.set_num_threads(1)
  local size = ctx.pick{
    tiny = {pool = 3000, test = 3000, per_class = 100, shirts = 10, val_per_class = 100, val_shirts = 10, units = 16,
            epochs = 3},
    quick = {pool = 40000, test = 10000, per_class = 3500, shirts = 210, val_per_class = 1000, val_shirts = 60,
             units = 128, epochs = 20},
    full = {pool = 60000, test = 10000, per_class = 6000, shirts = 360, val_per_class = 1000, val_shirts = 60,
            units = 128, epochs = 30},
  }
  local d = kit.fashion{train = size.pool, test = size.test, flat = true}
  local x, y = task(d.x_train, d.y_train, size.per_class, size.shirts)
  local xv, yv = task(d.x_test, d.y_test, size.val_per_class, size.val_shirts)
  ctx.log("%d training images (%d shirts), %d validation images (%d shirts)", x:size(1), y:sum(), xv:size(1), yv:sum())
  local r = lurn.experiments.imbalance_check(build(size.units), x, y, {validation_data = {xv, yv},
    epochs = size.epochs, batch_size = 32, seed = ctx.seed, plots = ctx.out})
  local m = r.minority
  local rows, labels, precision, recall, f1 = {}, {}, {}, {}, {}
  local results = {minority = "shirt", training_counts = {}, validation_counts = {}, runs = {}}
  for c = 0, 1 do
    results.training_counts[c + 1], results.validation_counts[c + 1] = r.training_counts[c], r.validation_counts[c]
  end
  for i, run_ in ipairs(r.runs) do
    rows[i] = {run_.name, ("%d / %d"):format(run_.train_counts[0], run_.train_counts[1]), run_.accuracy,
               run_.balanced_accuracy, run_.precision[m + 1], run_.recall[m + 1], run_.f1[m + 1], run_.recall[2 - m],
               run_.macro_f1, run_.auc or "-"}
    labels[i], precision[i], recall[i], f1[i] = run_.name, run_.precision[m + 1], run_.recall[m + 1], run_.f1[m + 1]
    results.runs[i] = {name = run_.name, accuracy = run_.accuracy, balanced_accuracy = run_.balanced_accuracy,
                       precision = run_.precision[m + 1], recall = run_.recall[m + 1], f1 = run_.f1[m + 1],
                       majority_recall = run_.recall[2 - m], macro_f1 = run_.macro_f1, auc = run_.auc,
                       train_counts = {run_.train_counts[0], run_.train_counts[1]}, val_loss = run_.history.val_loss}
  end
  local plots = {}
  for _, file in ipairs(r.plots) do
    plots[#plots + 1] = {file = file:match("[^/]+$"),
                         caption = "Accuracy, the shirts' recall and macro F1 per strategy (lurn.experiments.imbalance_check)"}
  end
  kit.plot(ctx, plots, "shirt_scores", "bars", {{labels = labels, values = precision, label = "precision"},
    {values = recall, label = "recall"}, {values = f1, label = "F1"}, xlabel = "strategy", ylabel = "shirt (minority)",
    title = "the rare class: precision, recall and F1"},
    "The shirts' precision, recall and F1 on the validation images, per strategy.")

  -- the conclusion: imbalance_check's sentences, then what the precision paid
  local out = {}
  for _, s in ipairs(r.conclusion) do out[#out + 1] = s end
  local by = {}
  for _, run_ in ipairs(r.runs) do by[run_.name] = run_ end
  local none = by.none
  if none and none.accuracy >= r.majority_share - 0.01 and none.recall[m + 1] < 0.5 then
    out[#out + 1] = ("Doing nothing scores about what always answering \"not a shirt\" would (%s against %s) while "
      .. "finding %s of the shirts: the accuracy hides the failure."):format(kit.pct(none.accuracy),
      kit.pct(r.majority_share), kit.pct(none.recall[m + 1]))
  end
  -- the price: other tops called shirts (false positives), from the majority's recall
  local others = r.validation_counts[1 - m]
  local function false_shirts(run_) return math.floor((1 - run_.recall[2 - m]) * others + 0.5) end
  local costs = {}
  for _, run_ in ipairs(r.runs) do
    if run_ ~= none and none and run_.recall[m + 1] > none.recall[m + 1] + 0.05 then
      costs[#costs + 1] = ("%s %d"):format(run_.name, false_shirts(run_))
    end
  end
  if #costs > 0 then
    out[#out + 1] = ("The price of finding more shirts: of the %d other tops, %s are called shirts (%d with "
      .. "nothing done)."):format(others, table.concat(costs, ", "), false_shirts(none))
  end
  local auc_lo, auc_hi
  for _, run_ in ipairs(r.runs) do
    if run_.auc then
      auc_lo, auc_hi = math.min(auc_lo or run_.auc, run_.auc), math.max(auc_hi or run_.auc, run_.auc)
    end
  end
  if auc_lo then
    if auc_hi - auc_lo < 0.05 then
      out[#out + 1] = ("ROC AUC stays within %s to %s for all four: the ranking the network learns barely changes; "
        .. "what the strategies move is mostly where the 0.5 threshold falls."):format(kit.num(auc_lo, "%.3f"),
        kit.num(auc_hi, "%.3f"))
    else
      out[#out + 1] = ("ROC AUC ranges from %s to %s: the strategies changed the ranking itself, not only the "
        .. "threshold."):format(kit.num(auc_lo, "%.3f"), kit.num(auc_hi, "%.3f"))
    end
  end
  results.majority_share = r.majority_share
  return {
    compared = ("A two-class task from Fashion-MNIST: shirts (class 6) against T-shirts/tops, pullovers and coats, "
      .. "with shirts %s of the %d training images and %s of the %d validation images (from the test file). A "
      .. "network 784-%d-1 (sigmoid, Adam 0.001, %d epochs) trained four ways by lurn.experiments.imbalance_check "
      .. "from the same seed (%d): nothing, class_weight \"balanced\", RandomOverSampler and SMOTE, on the training "
      .. "split only."):format(kit.pct(r.training_counts[1] / x:size(1)), x:size(1),
      kit.pct(r.validation_counts[1] / xv:size(1)), xv:size(1), size.units, size.epochs, ctx.seed),
    tables = {{caption = "Validation scores per strategy (class 1 = shirt; threshold 0.5)",
               header = {"strategy", "training images (other / shirt)", "accuracy", "balanced accuracy",
                         "shirt precision", "shirt recall", "shirt F1", "other recall", "macro F1", "ROC AUC"},
               rows = rows}},
    plots = plots,
    conclusion = kit.sentences(out),
    results = results,
  }
end

return lesson.main{name = "imbalance", title = "Class imbalance: accuracy against the rare class's recall", run = run, doctor = doctor}
