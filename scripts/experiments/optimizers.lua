--- Lesson 6, optimizers: plain SGD at 0.01 against SGD with momentum, RMSprop and Adam at
-- 0.001, each at its usual default.
--
-- The seeds' story: "experimenting with different optimizers and learning rates revealed
-- that Adam with a learning rate of 0.001 yielded superior results compared to the
-- initially used SGD with a fixed learning rate". The seeds' small convolutional network
-- (two Conv2D + MaxPooling2D blocks and a softmax) on a subset of Fashion-MNIST is trained
-- from the same initial weights and the same shuffling with each optimizer
-- (lurn.experiments.compare); nothing else changes. The section gives the learning curves,
-- the final and best validation numbers, and how many epochs each optimizer needed to
-- come within 95% of the best accuracy any of them reached. The conclusion ranks them and
-- says, from the numbers, how much momentum added to plain SGD, whether the adaptive
-- optimizers (RMSprop, Adam) were ahead, and when the difference is too small to matter.
--
--   build/lurn scripts/experiments/optimizers.lua [--tiny|--quick|--full] [--out DIR]
package.path = "scripts/experiments/?.lua;" .. package.path
local lesson = require "lesson"
local kit = require "kit"
local lurn = require "lurn"
local L = lurn.layers

local function build()
  local m = lurn.Sequential{
    L.Conv2D(16, 3, {activation = "relu", input_shape = {28, 28, 1}}),
    L.MaxPooling2D(2),
    L.Conv2D(32, 3, {activation = "relu"}),
    L.MaxPooling2D(2),
    L.Flatten(),
    L.Dense(10, {activation = "softmax"}),
  }
  return m:compile{optimizer = "sgd", loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
end

local function variants()
  local O = lurn.optimizers
  return {
    {name = "SGD 0.01", optimizer = O.SGD{learning_rate = 0.01}},
    {name = "SGD+momentum 0.01", optimizer = O.SGD{learning_rate = 0.01, momentum = 0.9}},
    {name = "RMSprop 0.001", optimizer = O.RMSprop{learning_rate = 0.001}},
    {name = "Adam 0.001", optimizer = O.Adam{learning_rate = 0.001}},
  }
end

-- The first epoch (1-based) whose validation accuracy reached `target`, or nil.
local function epoch_reaching(list, target)
  for e, v in ipairs(list or {}) do
    if kit.finite(v) and v >= target then return e end
  end
  return nil
end

-- The doctor's cases (lesson.lua): the CNN under plain SGD at 0.01, whose steps are too
-- small for it, and under the optimizers that learn at their default rates.
local function doctor(ctx)
  local d = kit.fashion({train = ctx.doctor.train, val = ctx.doctor.val}, "images")
  local list = {}
  for i, v in ipairs(variants()) do
    if v.name:find("RMSprop", 1, true) then goto next end  -- Adam stands for the adaptive ones (time)
    list[#list + 1] = {name = v.name, expect = i == 1 and "lr_too_low" or nil, fixed = i > 1, build = function()
      local m = build()
      m:compile{optimizer = variants()[i].optimizer, loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
      return m, d.train.x, d.train.y, {validation_data = {d.val.x, d.val.y}}
    end}
    ::next::
  end
  return list
end

local function run(ctx)
  kit.one_thread()
  local sizes = ctx.pick{
    tiny = {train = 300, val = 100, epochs = 2},
    quick = {train = 6000, val = 2000, epochs = 8},
    full = {train = 50000, val = 10000, epochs = 20},
  }
  local d = kit.fashion({train = sizes.train, val = sizes.val}, "images")
  ctx.log("4 optimizers, %d epochs on %d images", sizes.epochs, sizes.train)
  local plot_dir = ctx.out
  local result = lurn.experiments.compare(variants(), d.train.x, d.train.y, {
    build = build, epochs = sizes.epochs, seed = ctx.seed, validation_data = {d.val.x, d.val.y}, plots = plot_dir,
    title = "Optimizers",
  })

  local top_acc = 0
  for _, r in ipairs(result.runs) do
    local best = kit.max(r.history.val_accuracy)
    if best and best > top_acc then top_acc = best end
  end
  local target = 0.95 * top_acc
  local rows, per = {}, {}
  for i, r in ipairs(result.runs) do
    local reached = epoch_reaching(r.history.val_accuracy, target)
    per[i] = {name = r.name, final_loss = r.final_loss, final_val_loss = r.final_val_loss,
              best_val_loss = r.best_val_loss, best_epoch = r.best_epoch, final_val_accuracy = r.final_val_metric,
              best_val_accuracy = kit.max(r.history.val_accuracy), epochs_to_target = reached,
              seconds_per_epoch = r.seconds_per_epoch, diverged = r.diverged or false, history = r.history}
    rows[i] = {r.name, kit.cell(r.final_loss), kit.cell(r.final_val_loss), kit.cell(r.best_val_loss),
               kit.cell(r.best_epoch), kit.cell(r.final_val_metric), reached or "not reached",
               kit.cell(r.seconds_per_epoch), r.diverged and "yes" or "no"}
  end

  -- the conclusion
  local s = {}
  local ranked = {}
  for _, p in ipairs(per) do
    if not p.diverged and kit.finite(p.final_val_accuracy) then ranked[#ranked + 1] = p end
  end
  table.sort(ranked, function(a, b) return a.final_val_accuracy > b.final_val_accuracy end)
  for _, p in ipairs(per) do
    if p.diverged then s[#s + 1] = ("%s diverged."):format(p.name) end
  end
  if #ranked == 0 then
    s[#s + 1] = "No optimizer trained to a finite validation accuracy: nothing to compare."
  else
    local order = {}
    for i, p in ipairs(ranked) do order[i] = ("%s %s"):format(p.name, kit.pct(p.final_val_accuracy)) end
    s[#s + 1] = ("Final validation accuracy after %d epochs, best first: %s."):format(sizes.epochs,
      table.concat(order, ", "))
    local first, last = ranked[1], ranked[#ranked]
    local spread = first.final_val_accuracy - last.final_val_accuracy
    if spread < 0.01 then
      s[#s + 1] = ("All are within %.1f points of each other: in this run the optimizer barely mattered."):format(
        100 * spread)
    end
    local by = {}
    for _, p in ipairs(per) do by[p.name] = p end
    local sgd, mom, rms, adam = by["SGD 0.01"], by["SGD+momentum 0.01"], by["RMSprop 0.001"], by["Adam 0.001"]
    if kit.finite(sgd.final_val_accuracy) and kit.finite(adam.final_val_accuracy) then
      local gap = adam.final_val_accuracy - sgd.final_val_accuracy
      if gap >= 0.01 then
        s[#s + 1] = ("Adam at 0.001 ended %.1f points above plain SGD at 0.01 (validation loss %s against %s), as "
          .. "the seeds found."):format(100 * gap, kit.num(adam.final_val_loss), kit.num(sgd.final_val_loss))
      elseif gap <= -0.01 then
        s[#s + 1] = ("Unlike the seeds' story, plain SGD at 0.01 ended %.1f points above Adam at 0.001 here."):format(
          -100 * gap)
      else
        s[#s + 1] = ("Adam at 0.001 and plain SGD at 0.01 ended within a point of each other (%s and %s): no clear "
          .. "win for Adam in this run."):format(kit.pct(adam.final_val_accuracy), kit.pct(sgd.final_val_accuracy))
      end
    end
    if kit.finite(sgd.final_val_accuracy) and kit.finite(mom.final_val_accuracy) then
      local gain = mom.final_val_accuracy - sgd.final_val_accuracy
      local deficit = kit.finite(adam.final_val_accuracy) and adam.final_val_accuracy - sgd.final_val_accuracy
      if math.abs(gain) >= 0.01 then
        local text = ("Momentum 0.9 %s plain SGD by %.1f points at the same rate"):format(
          gain > 0 and "lifted" or "lowered", 100 * math.abs(gain))
        if gain > 0 and deficit and deficit >= 0.01 then
          local closed = gain / deficit
          text = text .. (", %s of its gap to Adam"):format(closed >= 1 and "more than all" or
            ("%.0f%%"):format(100 * closed))
          if closed >= 0.5 then
            text = text .. ": here plain SGD mostly lacked step size (momentum 0.9 makes the steady step about 10 x "
              .. "larger), not Adam's per-weight scaling"
          end
        end
        s[#s + 1] = text .. "."
      else
        s[#s + 1] = "Momentum 0.9 changed plain SGD's final accuracy by under a point."
      end
    end
    local fast = {}
    for _, p in ipairs(per) do
      fast[#fast + 1] = ("%s %s"):format(p.name, p.epochs_to_target and ("in " .. p.epochs_to_target) or "never")
    end
    s[#s + 1] = ("Epochs to reach %s validation accuracy (95%% of the best any reached): %s."):format(kit.pct(target),
      table.concat(fast, ", "))
    if rms and kit.finite(rms.final_val_accuracy) and adam and kit.finite(adam.final_val_accuracy)
      and math.abs(rms.final_val_accuracy - adam.final_val_accuracy) < 0.01 then
      s[#s + 1] = "RMSprop and Adam ended within a point of each other."
    end
    local rising = {}
    for _, p in ipairs(ranked) do
      if p.final_val_loss and p.best_val_loss and p.final_val_loss > 1.1 * p.best_val_loss then
        rising[#rising + 1] = ("%s (best %s at epoch %d, final %s)"):format(p.name, kit.num(p.best_val_loss),
          p.best_epoch, kit.num(p.final_val_loss))
      end
    end
    if #rising > 0 then
      s[#s + 1] = ("The validation loss rose 10%% or more above its best for %s: the faster optimizers start to "
        .. "overfit this small subset, where EarlyStopping helps."):format(table.concat(rising, ", "))
    end
  end

  local plots = kit.experiment_plots(ctx, result.plots, "compare", {
    val_loss = "validation loss per epoch", loss = "training loss per epoch",
  })
  local acc = {}
  for _, r in ipairs(result.runs) do acc[#acc + 1] = {y = r.history.val_accuracy or {}, label = r.name} end
  plots[#plots + 1] = kit.plot(ctx, "lines", "val_accuracy.png", {xlabel = "epoch", ylabel = "validation accuracy",
    title = "validation accuracy", table.unpack(acc)}, "validation accuracy per epoch")

  return {
    compared = ("The seeds' convolutional network (Conv2D 16 and 32 filters, each with 2x2 max pooling, softmax) on "
      .. "%d Fashion-MNIST images, validated on %d others, trained %d epochs (batch 32) from the same initial weights "
      .. "and shuffling with plain SGD at 0.01, SGD with momentum 0.9 at 0.01, RMSprop at 0.001 and Adam at 0.001 "
      .. "(`lurn.experiments.compare`): each optimizer at the rate people use by default."):format(sizes.train,
      sizes.val, sizes.epochs),
    tables = {{caption = "per optimizer", header = {"optimizer", "final loss", "final val loss", "best val loss",
                                                    "best epoch", "final val accuracy",
                                                    ("epochs to %s val accuracy"):format(kit.pct(target)),
                                                    "seconds per epoch", "diverged"}, rows = rows}},
    plots = plots,
    conclusion = kit.join(s),
    results = {target_accuracy = target, optimizers = per},
  }
end

return lesson.main{name = "optimizers", title = "Optimizers: SGD, momentum, RMSprop, Adam", run = run, doctor = doctor}
