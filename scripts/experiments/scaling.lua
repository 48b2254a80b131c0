--- Lesson 1, scaling: features of disparate magnitudes, raw against StandardScaler and
-- MinMaxScaler.
--
-- The wine recognition data (examples/data/wine.csv: 178 wines, 13 chemical measurements,
-- 3 cultivars) mixes magnitudes: proline is in the hundreds to over a thousand, hue and
-- the phenols under 5. The same small network (13-32-3, ReLU, plain SGD at 0.01) is
-- trained from the same initial weights on the raw features and on features scaled by a
-- StandardScaler or a MinMaxScaler fitted on the training split only
-- (lurn.experiments.scaling_check). The section shows the raw features' spread (the
-- mechanism: the gradient of a weight grows with its input's magnitude, so one rate is
-- too large for proline's weights and too small for hue's), the runs side by side and
-- their learning curves; the conclusion is scaling_check's, computed from the numbers.
--
--   build/lurn scripts/experiments/scaling.lua [--tiny|--quick|--full] [--out DIR]
package.path = "scripts/experiments/?.lua;" .. package.path
local lesson = require "lesson"
local lurn = require "lurn"

local function build()
  local m = lurn.Sequential{
    lurn.layers.Dense(32, {input_shape = {13}, activation = "relu"}),
    lurn.layers.Dense(3, {activation = "softmax"}),
  }
  return m:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0.01}, loss = "sparse_categorical_crossentropy",
                   metrics = {"accuracy"}}
end

local CAPTIONS = {
  scaling_check_val_loss = "Validation loss per epoch: raw features against the two scalers",
  scaling_check_loss = "Training loss per epoch",
}

local function wine()
  local df = lurn.data.read_csv("examples/data/wine.csv")
  local features = table.move(df.columns, 1, 13, 1, {})
  return df:to_tensor{columns = features}, df:column("target"), features
end

-- The doctor's cases (lesson.lua): the raw features and the standardized ones, same network.
local function doctor()
  local x, y = wine()
  return {
    {name = "raw features", expect = "unscaled_features", build = function() return build(), x, y, {batch_size = 16} end},
    {name = "StandardScaler", fixed = true, build = function()
      return build(), lurn.preprocessing.StandardScaler():fit_transform(x), y, {batch_size = 16}
    end},
  }
end

local function run(ctx)
  local epochs = ctx.pick{tiny = 3, quick = 60, full = 200}
  local x, y, features = wine()
  ctx.log("%d wines, %d features, %d epochs per run", x:size(1), #features, epochs)

  local r = lurn.experiments.scaling_check(build, x, y, {epochs = epochs, batch_size = 16, seed = ctx.seed,
                                                          validation_split = 0.2, plots = ctx.out})

  -- the spread of the raw features, largest standard deviation first
  local mean, std = x:mean(1):totable(), x:std(1):totable()
  local lo, hi = x:min(1):totable(), x:max(1):totable()
  local order = {}
  for i = 1, #features do order[i] = i end
  table.sort(order, function(a, b) return std[a] > std[b] end)
  local spread_rows = {}
  for _, i in ipairs(order) do spread_rows[#spread_rows + 1] = {features[i], mean[i], std[i], lo[i], hi[i]} end

  local run_rows, runs = {}, {}
  for _, rec in ipairs(r.runs) do
    run_rows[#run_rows + 1] = {rec.name, rec.initial_loss, rec.final_loss, rec.final_val_loss, rec.best_val_loss,
                               rec.best_epoch, rec.final_val_metric, rec.diverged or "no"}
    runs[#runs + 1] = {name = rec.name, final_loss = rec.final_loss, final_val_loss = rec.final_val_loss,
                       best_val_loss = rec.best_val_loss, best_epoch = rec.best_epoch,
                       final_val_accuracy = rec.final_val_metric, diverged = rec.diverged or false,
                       loss = rec.history.loss, val_loss = rec.history.val_loss}
  end

  local plots = {}
  for _, path in ipairs(r.plots) do
    local key = path:match("([^/]+)%.%w+$")
    plots[#plots + 1] = {file = path, caption = CAPTIONS[key] or key}
  end
  local s = r.feature_spread
  return {
    compared = ("The wine recognition data (%d wines, %d measurements, 3 cultivars; `examples/data/wine.csv`). "
      .. "One network (13-32-3, ReLU, softmax; SGD at 0.01, batches of 16) trained for %d epochs from the same "
      .. "initial weights (seed %d) on the **raw** features, on features scaled by a **StandardScaler** (mean 0, "
      .. "variance 1) and by a **MinMaxScaler** (to [0, 1]); each scaler fitted on the training split (80%%) only "
      .. "and applied to both splits (`lurn.experiments.scaling_check`). The raw features' standard deviations "
      .. "span %.3g x: with one learning rate for all weights, the weights of the large features take steps far "
      .. "too large while those of the small ones barely move."):format(x:size(1), #features, epochs, ctx.seed,
      s.ratio or 0),
    tables = {
      {caption = "The runs (loss: sparse categorical cross-entropy; initial: the untrained model on the training split)",
       header = {"features", "initial loss", "final loss", "final val loss", "best val loss", "best epoch",
                 "final val accuracy", "diverged"}, rows = run_rows},
      {caption = "The raw features, largest standard deviation first", header = {"feature", "mean", "std", "min", "max"},
       rows = spread_rows},
    },
    plots = plots,
    conclusion = table.concat(r.conclusion, " "),
    results = {epochs = epochs, feature_spread = s, runs = runs},
  }
end

return lesson.main{name = "scaling", title = "Feature scaling: raw, StandardScaler, MinMaxScaler", run = run,
                   doctor = doctor}
