--- Lesson 5, lr_sweep: the learning rate, swept and range-tested, for four optimizers.
--
-- "An excessively high learning rate can cause the optimization algorithm to overshoot;
-- a learning rate that is too low can result in slow convergence" - and the right rate
-- depends on the optimizer. One multilayer perceptron (784-128-64-10, ReLU) on a subset
-- of Fashion-MNIST is trained from the same initial weights at learning rates a decade
-- apart with plain SGD, SGD with momentum 0.9, RMSprop and Adam
-- (lurn.experiments.lr_sweep), and each optimizer also gets Leslie Smith's range test
-- (lurn.experiments.lr_range_test: one pass with the rate growing exponentially from
-- 1e-6 to 10). The section tabulates the best validation loss per optimizer and rate,
-- marks the rates that diverged, and sets the range test's suggested rate beside the
-- sweep's best; the conclusion says, from those numbers, how far apart the optimizers'
-- good rates are, how wide each one's usable window is, and whether the one-pass range
-- test pointed near the rate the full sweep found.
--
--   build/lurn scripts/experiments/lr_sweep.lua [--tiny|--quick|--full] [--out DIR]
package.path = "scripts/experiments/?.lua;" .. package.path
local lesson = require "lesson"
local kit = require "kit"
local lurn = require "lurn"
local L = lurn.layers

local function build()
  local m = lurn.Sequential{
    L.Dense(128, {activation = "relu", input_shape = {784}}),
    L.Dense(64, {activation = "relu"}),
    L.Dense(10, {activation = "softmax"}),
  }
  return m:compile{optimizer = "sgd", loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
end

local function optimizer_list()
  return {
    {name = "SGD", optimizer = lurn.optimizers.SGD{}},
    {name = "SGD+momentum", optimizer = lurn.optimizers.SGD{momentum = 0.9}},
    {name = "RMSprop", optimizer = lurn.optimizers.RMSprop{}},
    {name = "Adam", optimizer = lurn.optimizers.Adam{}},
  }
end

local function log10(v) return math.log(v, 10) end

-- The runs of one optimizer, in the order of the rates.
local function runs_of(sweep, name)
  local list = {}
  for _, r in ipairs(sweep.runs) do
    if r.optimizer == name then list[#list + 1] = r end
  end
  return list
end

-- The best run of a list (lowest best validation loss, not diverged), or nil.
local function best_of(list)
  local best
  for _, r in ipairs(list) do
    if not r.diverged and kit.finite(r.best_val_loss) and (best == nil or r.best_val_loss < best.best_val_loss) then
      best = r
    end
  end
  return best
end

-- The doctor's cases (lesson.lua): plain SGD far too high, far too low, and at a good rate.
local function doctor(ctx)
  local d = kit.fashion{train = ctx.doctor.train, val = ctx.doctor.val}
  local function at(rate)
    return function()
      local m = build()
      m.optimizer.learning_rate = rate
      return m, d.train.x, d.train.y, {validation_data = {d.val.x, d.val.y}}
    end
  end
  return {
    {name = "SGD at 10", expect = "lr_too_high", build = at(10)},
    {name = "SGD at 1e-4", expect = "lr_too_low", build = at(1e-4)},
    {name = "SGD at 0.1", fixed = true, build = at(0.1)},
  }
end

local function run(ctx)
  kit.one_thread()
  local sizes = ctx.pick{
    tiny = {train = 300, val = 100, epochs = 1, rates = {1e-2, 10}, steps = 20},
    quick = {train = 8000, val = 2000, epochs = 5, rates = {1e-4, 1e-3, 1e-2, 1e-1, 1, 10}, steps = 300},
    full = {train = 50000, val = 10000, epochs = 10,
            rates = {1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1, 3, 10}, steps = 1500},
  }
  local d = kit.fashion{train = sizes.train, val = sizes.val}
  ctx.log("sweep: %d rates x 4 optimizers, %d epochs on %d images", #sizes.rates, sizes.epochs, sizes.train)
  local sweep = lurn.experiments.lr_sweep(build, d.train.x, d.train.y, {
    rates = sizes.rates, optimizers = optimizer_list(), epochs = sizes.epochs, seed = ctx.seed,
    validation_data = {d.val.x, d.val.y}, plots = ctx.out,
  })
  ctx.log("range tests: %d steps each", sizes.steps)
  local ranges = {}
  for i, o in ipairs(optimizer_list()) do
    ranges[i] = lurn.experiments.lr_range_test(build, d.train.x, d.train.y, {
      min_lr = 1e-6, max_lr = 10, steps = sizes.steps, optimizer = o.optimizer, seed = ctx.seed,
    })
    ranges[i].name = o.name
  end

  -- table 1: best validation loss per optimizer and rate
  local header = {"optimizer"}
  for _, rate in ipairs(sizes.rates) do header[#header + 1] = "lr " .. kit.num(rate, "%g") end
  local grid = {}
  for _, name in ipairs(sweep.optimizers) do
    local row = {name}
    for _, r in ipairs(runs_of(sweep, name)) do
      row[#row + 1] = r.diverged and "diverged" or kit.cell(r.best_val_loss)
    end
    grid[#grid + 1] = row
  end

  -- table 2 and the conclusion, optimizer by optimizer
  local per, rows, sentences = {}, {}, {}
  for i, name in ipairs(sweep.optimizers) do
    local list = runs_of(sweep, name)
    local best = best_of(list)
    local range = ranges[i]
    local diverged, window = {}, {}
    for _, r in ipairs(list) do
      if r.diverged then
        diverged[#diverged + 1] = kit.num(r.learning_rate, "%g")
      elseif best and kit.finite(r.best_val_loss) and r.best_val_loss <= 1.1 * best.best_val_loss then
        window[#window + 1] = r.learning_rate
      end
    end
    local p = {optimizer = name, best_lr = best and best.learning_rate, best_val_loss = best and best.best_val_loss,
               best_val_accuracy = best and best.history.val_accuracy and kit.max(best.history.val_accuracy),
               diverged_rates = diverged, window = window, suggested_lr = range.suggested_lr,
               range_diverged_at = range.diverged_at, lowest_loss_lr = range.lowest_loss_lr}
    if best and range.suggested_lr then p.decades_apart = math.abs(log10(range.suggested_lr / best.learning_rate)) end
    per[i] = p
    rows[#rows + 1] = {name, kit.cell(p.best_lr), kit.cell(p.best_val_loss), kit.cell(p.best_val_accuracy),
                       #diverged > 0 and table.concat(diverged, ", ") or "none",
                       #window > 1 and (kit.num(window[1], "%g") .. " to " .. kit.num(window[#window], "%g"))
                         or (#window == 1 and "the best alone" or "-"),
                       kit.cell(range.suggested_lr), kit.cell(range.diverged_at)}
    if best then
      local s = ("%s trained best at rate %s (best validation loss %s, accuracy %s)"):format(name,
        kit.num(best.learning_rate, "%g"), kit.num(best.best_val_loss), kit.pct(p.best_val_accuracy))
      if #diverged > 0 then s = s .. ", and diverged at " .. table.concat(diverged, ", ") end
      if #window == 1 then
        s = s .. "; no other rate of the grid came within 10% of that loss"
      else
        s = s .. ("; rates from %s to %s came within 10%% of it"):format(kit.num(window[1], "%g"),
          kit.num(window[#window], "%g"))
      end
      sentences[#sentences + 1] = s .. "."
      if #sizes.rates > 1 and (best.learning_rate == sizes.rates[1] or best.learning_rate == sizes.rates[#sizes.rates]) then
        sentences[#sentences + 1] = ("Its best rate is at the edge of the grid: the optimum may lie beyond %s."):format(
          kit.num(best.learning_rate, "%g"))
      end
    else
      sentences[#sentences + 1] = ("%s diverged or gave no finite validation loss at every rate tried."):format(name)
    end
  end

  -- how far apart the optimizers' best rates are
  local lo, hi
  for _, p in ipairs(per) do
    if p.best_lr then
      if lo == nil or p.best_lr < lo.best_lr then lo = p end
      if hi == nil or p.best_lr > hi.best_lr then hi = p end
    end
  end
  if lo and hi and lo ~= hi and hi.best_lr > lo.best_lr then
    sentences[#sentences + 1] = ("The best rates span %.0f decades, from %s (%s) to %s (%s): a rate that suits one "
      .. "optimizer is wrong for another, so sweep it again when you change the optimizer."):format(
      log10(hi.best_lr / lo.best_lr), kit.num(lo.best_lr, "%g"), lo.optimizer, kit.num(hi.best_lr, "%g"), hi.optimizer)
  elseif lo then
    sentences[#sentences + 1] = ("Every optimizer had its best at the same rate, %s, in this run: the grid does not "
      .. "separate them."):format(kit.num(lo.best_lr, "%g"))
  end
  local near, far, none = {}, {}, {}
  for _, p in ipairs(per) do
    if p.decades_apart == nil then
      none[#none + 1] = p.optimizer
    elseif p.decades_apart <= 1 then
      near[#near + 1] = ("%s (%s against %s)"):format(p.optimizer, kit.num(p.suggested_lr), kit.num(p.best_lr, "%g"))
    else
      far[#far + 1] = ("%s (%s against %s, %.1f decades)"):format(p.optimizer, kit.num(p.suggested_lr),
        kit.num(p.best_lr, "%g"), p.decades_apart)
    end
  end
  if #near > 0 then
    sentences[#sentences + 1] = ("The one-pass range test suggested a rate within a decade of the sweep's best for %s."):format(
      table.concat(near, ", "))
  end
  if #far > 0 then
    sentences[#sentences + 1] = ("It was more than a decade off for %s: take its suggestion as a starting point, "
      .. "not an answer."):format(table.concat(far, ", "))
  end
  if #none > 0 then
    sentences[#sentences + 1] = ("The range test gave no suggestion for %s (its smoothed loss never fell 5%%, or "
      .. "nothing trained in the sweep)."):format(table.concat(none, ", "))
  end

  local plots = kit.experiment_plots(ctx, sweep.plots, "lr_sweep", {
    best_val_loss = "best validation loss against the learning rate, per optimizer (diverged runs left out)",
    val_loss = "validation loss per epoch, every optimizer and rate",
  })
  local series = {}
  for _, r in ipairs(ranges) do
    local c = r.curve
    local n = #c.smoothed - (r.diverged_at and 1 or 0)
    if n >= 1 then
      series[#series + 1] = {x = table.move(c.learning_rates, 1, n, 1, {}), y = table.move(c.smoothed, 1, n, 1, {}),
                             label = r.name}
    end
  end
  if #series > 0 then
    plots[#plots + 1] = kit.plot(ctx, "lines", "range_test.png", {logx = true, xlabel = "learning rate",
      ylabel = "smoothed batch loss", title = "learning-rate range test, one model per optimizer",
      table.unpack(series)}, "range test: smoothed training loss as the rate grows, until divergence")
  end

  local range_results = {}
  for i, r in ipairs(ranges) do
    range_results[i] = {optimizer = r.name, suggested_lr = r.suggested_lr, lowest_loss_lr = r.lowest_loss_lr,
                        diverged_at = r.diverged_at, curve = r.curve}
  end
  local run_results = {}
  for i, r in ipairs(sweep.runs) do
    run_results[i] = {optimizer = r.optimizer, learning_rate = r.learning_rate, best_val_loss = r.best_val_loss,
                      final_val_loss = r.final_val_loss, diverged = r.diverged or false, history = r.history}
  end
  return {
    compared = ("A multilayer perceptron (784-128-64-10, ReLU, softmax) on %d Fashion-MNIST images (validated on "
      .. "%d others) trained for %d epochs at each learning rate with plain SGD, SGD with momentum 0.9, RMSprop and "
      .. "Adam, every run from the same initial weights (`lurn.experiments.lr_sweep`). A run diverged when its loss "
      .. "became NaN or infinite, or its final training loss exceeded twice the untrained model's. Each optimizer "
      .. "also got a learning-rate range test (`lurn.experiments.lr_range_test`): %d batches with the rate growing "
      .. "exponentially from 1e-6 to 10; the suggested rate is where the smoothed loss fell fastest."):format(
      sizes.train, sizes.val, sizes.epochs, sizes.steps),
    tables = {
      {caption = "best validation loss per optimizer and learning rate", header = header, rows = grid},
      {caption = "per optimizer: the sweep's best rate against the range test's suggestion",
       header = {"optimizer", "best rate", "best val loss", "best val accuracy", "diverged at",
                 "within 10% of best", "range test suggests", "range test diverged at"}, rows = rows},
    },
    plots = plots,
    conclusion = kit.join(sentences),
    results = {rates = sizes.rates, optimizers = per, runs = run_results, range_tests = range_results},
  }
end

return lesson.main{name = "lr_sweep", title = "Learning-rate sweep and range test", run = run, doctor = doctor}
