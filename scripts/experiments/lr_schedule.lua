--- Lesson 16, learning-rate schedules: a rate large enough to learn fast at the start is
-- too large at the end, where the updates keep bouncing around the minimum instead of
-- settling in it. A multilayer perceptron on a Fashion-MNIST subset, plain SGD at a high
-- rate, from the same initial weights, four ways: the rate held constant;
-- ReduceLROnPlateau (lurn.callbacks: the rate cut by `factor` whenever the validation
-- loss has not improved for `patience` epochs); ExponentialDecay and CosineDecay
-- (lurn.optimizers.schedules, given to the optimizer as its learning_rate: a new rate
-- before every update), both ending near a twentieth of the starting rate. The rate each
-- run used is recorded at the end of every epoch. The table gives the final rate, the
-- final training and validation loss, the best validation loss, how much the validation
-- loss still jumps from epoch to epoch over the last third of the run (the bouncing), and
-- the test accuracy of the final weights; the plots show the validation loss and the rate
-- per epoch. The conclusion ranks the runs by final validation loss, compares each
-- schedule with the constant rate, says when a schedule did not help, and tells when
-- ReduceLROnPlateau cut the rate.
--
--   build/lurn scripts/experiments/lr_schedule.lua [--tiny|--quick|--full] [--out DIR]
-- lesson.lua and lesson_kit.lua sit beside this file
package.path = (debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. "?.lua;" .. package.path
local lesson = require "lesson"
local kit = require "lesson_kit"
local lurn = require "lurn"
local L = lurn.layers
local schedules = lurn.optimizers.schedules

local RATE, FINAL_SHARE = 0.1, 0.05  -- the decays end near RATE * FINAL_SHARE

local function build(units, learning_rate)
  local model = lurn.Sequential{
    L.Dense(units, {input_shape = {784}, activation = "relu"}),
    L.Dense(units, {activation = "relu"}),
    L.Dense(10, {activation = "softmax"}),
  }
  return model:compile{optimizer = lurn.optimizers.SGD{learning_rate = learning_rate, momentum = 0.9},
                       loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
end

-- The mean absolute change of a curve from one epoch to the next over its last third.
local function jumpiness(list)
  local n = #list
  local from = math.max(2, n - math.floor(n / 3) + 1)
  local sum, count = 0, 0
  for i = from, n do
    sum, count = sum + math.abs(list[i] - list[i - 1]), count + 1
  end
  return count > 0 and sum / count or 0 / 0
end

local function run(ctx)
  -- small dense networks: one thread is as fast as two here, and keeps its pace when other programs are
  -- busy on the cores (lurn's threads spin while they wait); run_all.lua restores the count
  lurn.set_num_threads(1)
  local size = ctx.pick{
    tiny = {train = 512, val = 256, test = 256, units = 32, epochs = 4, batch = 32, patience = 1},
    quick = {train = 20000, val = 2000, test = 10000, units = 128, epochs = 30, batch = 64, patience = 2},
    full = {train = 50000, val = 10000, test = 10000, units = 256, epochs = 60, batch = 64, patience = 3},
  }
  local d = kit.fashion{train = size.train, val = size.val, test = size.test, flat = true}
  local steps = math.ceil(size.train / size.batch)
  local total = steps * size.epochs
  -- decay_rate per epoch such that the rate after all epochs is RATE * FINAL_SHARE
  local per_epoch = FINAL_SHARE ^ (1 / size.epochs)
  local variants = {
    {name = "constant", rate = RATE},
    {name = "ReduceLROnPlateau", rate = RATE, plateau = {monitor = "val_loss", factor = 0.2, patience = size.patience,
                                                         min_lr = 1e-5}},
    {name = "ExponentialDecay", rate = schedules.ExponentialDecay(RATE, steps, per_epoch)},
    {name = "CosineDecay", rate = schedules.CosineDecay(RATE, total, {alpha = FINAL_SHARE})},
  }
  local by, rows, val_curves, rate_curves = {}, {}, {}, {}
  for i, v in ipairs(variants) do
    lurn.manual_seed(ctx.seed)  -- the same initial weights and shuffling for every run
    local model = build(size.units, v.rate)
    local rates = {}
    -- the rate of the epoch's last update (a schedule's, or the one ReduceLROnPlateau set at the end of an
    -- earlier epoch): read before ReduceLROnPlateau sets the next epoch's
    local cbs = {{on_epoch_end = function() rates[#rates + 1] = model.optimizer.learning_rate end}}
    if v.plateau then cbs[#cbs + 1] = lurn.callbacks.ReduceLROnPlateau(v.plateau) end
    local r = kit.fit(model, d.x_train, d.y_train, {epochs = size.epochs, batch_size = size.batch,
                                                   validation_data = {d.x_val, d.y_val}, callbacks = cbs})
    local test = model:evaluate(d.x_test, d.y_test, {verbose = 0})
    local h = r.history
    r.name, r.rates, r.test_accuracy, r.test_loss = v.name, rates, test.accuracy, test.loss
    r.final_val_loss, r.final_val_accuracy = kit.last(h.val_loss), kit.last(h.val_accuracy)
    r.best_val_loss, r.best_epoch = kit.min(h.val_loss)
    r.jumps = jumpiness(h.val_loss)
    by[i] = r
    ctx.log("%s: final val loss %.4f, test accuracy %.4f", v.name, r.final_val_loss, test.accuracy)
    rows[i] = {v.name, kit.last(rates), kit.last(h.loss), r.final_val_loss, r.best_val_loss, r.best_epoch, r.jumps,
               r.final_val_accuracy, r.test_accuracy}
    val_curves[i] = {y = h.val_loss, label = v.name}
    rate_curves[i] = {y = rates, label = v.name}
  end

  local plots = {}
  kit.plot(ctx, plots, "val_loss", "lines", {val_curves[1], val_curves[2], val_curves[3], val_curves[4],
    xlabel = "epoch", ylabel = "validation loss", title = "validation loss per schedule"},
    "Validation loss per epoch for each schedule.")
  kit.plot(ctx, plots, "rates", "lines", {rate_curves[1], rate_curves[2], rate_curves[3], rate_curves[4], logy = true,
    xlabel = "epoch", ylabel = "learning rate (last update of the epoch)", title = "the rate each run used"},
    "The learning rate at the end of each epoch (log scale).")
  local labels, finals, tests = {}, {}, {}
  for i, r in ipairs(by) do labels[i], finals[i], tests[i] = r.name, r.final_val_loss, r.test_accuracy end
  kit.plot(ctx, plots, "final", "bars", {{labels = labels, values = finals, label = "final validation loss"},
    {values = tests, label = "test accuracy"}, xlabel = "schedule", ylabel = "value",
    title = "where each run ends"}, "Final validation loss and test accuracy per schedule.")

  -- the conclusion, from the numbers
  local out = {}
  local ranked = {}
  for i, r in ipairs(by) do ranked[i] = r end
  table.sort(ranked, function(a, b) return a.final_val_loss < b.final_val_loss end)
  local names = {}
  for i, r in ipairs(ranked) do names[i] = ("%s %s"):format(r.name, kit.num(r.final_val_loss)) end
  out[#out + 1] = ("By final validation loss: %s."):format(table.concat(names, ", "))
  local constant = by[1]
  local helped, not_helped = {}, {}
  for k = 2, #by do
    local r = by[k]
    if r.final_val_loss < constant.final_val_loss * 0.97 then
      helped[#helped + 1] = ("%s (%.0f%% lower, test accuracy %s against %s)"):format(r.name,
        100 * (1 - r.final_val_loss / constant.final_val_loss), kit.num(r.test_accuracy, "%.3f"),
        kit.num(constant.test_accuracy, "%.3f"))
    else
      not_helped[#not_helped + 1] = r.name
    end
  end
  if #helped > 0 then
    out[#out + 1] = ("Against the constant rate %g, the final validation loss fell with %s."):format(RATE,
      table.concat(helped, ", "))
  end
  if #not_helped > 0 then
    out[#out + 1] = ("%s did not end clearly (3%%) below the constant rate's %s: here that schedule did not help."):format(
      table.concat(not_helped, ", "), kit.num(constant.final_val_loss))
  end
  local calmer = 0
  for k = 2, #by do
    if by[k].jumps < constant.jumps * 0.7 then calmer = calmer + 1 end
  end
  out[#out + 1] = ("Over the last third of the epochs the constant rate's validation loss moved %s per epoch on "
    .. "average; %d of the 3 schedules moved under 70%% of that: %s."):format(kit.num(constant.jumps), calmer,
    calmer > 0 and "a smaller rate lets the weights settle instead of bouncing"
      or "the bouncing the schedules should calm is not seen here")
  local plateau = by[2]
  local cuts = {}
  for e = 2, #plateau.rates do
    if plateau.rates[e] < plateau.rates[e - 1] then cuts[#cuts + 1] = e end
  end
  if #cuts > 0 then
    out[#out + 1] = ("ReduceLROnPlateau cut the rate %d time(s), from epoch(s) %s on, to %s in the last epoch."):format(
      #cuts, table.concat(cuts, ", "), kit.num(kit.last(plateau.rates)))
  else
    out[#out + 1] = ("ReduceLROnPlateau did not cut the rate before the last epoch (patience %d epoch(s)), so it ran "
      .. "as the constant rate did."):format(size.patience)
  end
  if constant.best_epoch < size.epochs and constant.final_val_loss > constant.best_val_loss * 1.1 then
    out[#out + 1] = ("The constant rate's validation loss ended %.2f x its best (epoch %d)."):format(
      constant.final_val_loss / constant.best_val_loss, constant.best_epoch)
  end

  local results = {sizes = size, rate = RATE, runs = {}}
  for i, r in ipairs(by) do
    results.runs[i] = {name = r.name, rates = r.rates, final_val_loss = r.final_val_loss, best_val_loss = r.best_val_loss,
                       best_epoch = r.best_epoch, jumps = r.jumps, final_val_accuracy = r.final_val_accuracy,
                       test_accuracy = r.test_accuracy, val_loss = r.history.val_loss, loss = r.history.loss}
  end
  return {
    compared = ("A multilayer perceptron (784-%d-%d-10, SGD with momentum 0.9, batch %d) on %d Fashion-MNIST training "
      .. "images for %d epochs, validated on %d other training-file images and tested on %d test images, from the "
      .. "same initial weights (seed %d). Rates: constant %g; ReduceLROnPlateau{monitor = \"val_loss\", factor = 0.2, "
      .. "patience = %d} from %g; ExponentialDecay(%g, %d, %.4g) (x %.4g per epoch of %d updates); "
      .. "CosineDecay(%g, %d, alpha = %g) over all %d updates. \"Jumps\": the mean absolute change of the validation "
      .. "loss from one epoch to the next over the last third of the epochs."):format(size.units, size.units,
      size.batch, size.train, size.epochs, size.val, size.test, ctx.seed, RATE, size.patience, RATE, RATE, steps,
      per_epoch, per_epoch, steps, RATE, total, FINAL_SHARE, total),
    tables = {{caption = "Each schedule at the end of training",
               header = {"schedule", "final rate", "final training loss", "final val loss", "best val loss",
                         "best epoch", "val loss jumps", "final val accuracy", "test accuracy"}, rows = rows}},
    plots = plots,
    conclusion = kit.sentences(out),
    results = results,
  }
end

return lesson.main{name = "lr_schedule", title = "Learning-rate schedules: constant, on plateau, exponential, cosine",
                   run = run}
