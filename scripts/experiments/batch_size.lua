--- Lesson 15, batch size: at a fixed budget of epochs, the batch size sets how many
-- updates the network gets (samples / batch size per epoch) and how long an epoch takes
-- (large batches use the cores better). A multilayer perceptron on a Fashion-MNIST subset
-- with plain SGD is trained by lurn.experiments.batch_size_sweep at batch sizes from 8 to
-- 1024, each twice: at the same learning rate, and with the rate scaled linearly with the
-- batch size (rate x size / 32, Goyal et al.'s rule), from the same initial weights. The
-- time per epoch is wall-clock time of the training batches (lurn.clock, a monotonic
-- clock: os.clock would count CPU time summed over every thread), so it depends on the
-- machine and on what else runs; the rest repeats bit for bit. The table gives updates
-- and seconds per epoch, samples per second, and the validation accuracy and loss; the
-- plots show both against the batch size. The conclusion says how much faster an epoch
-- got, how much accuracy large batches lost at the same rate, and whether the scaled
-- rate won it back, from the numbers (also when it did not).
--
--   build/lurn scripts/experiments/batch_size.lua [--tiny|--quick|--full] [--out DIR]
-- lesson.lua and lesson_kit.lua sit beside this file
package.path = (debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. "?.lua;" .. package.path
local lesson = require "lesson"
local kit = require "lesson_kit"
local lurn = require "lurn"
local L = lurn.layers

local BASE_RATE, BASE_SIZE = 0.01, 32

local function build(units)
  return function()
    local model = lurn.Sequential{
      L.Dense(units, {input_shape = {784}, activation = "relu"}),
      L.Dense(10, {activation = "softmax"}),
    }
    return model:compile{optimizer = lurn.optimizers.SGD{learning_rate = BASE_RATE},
                         loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
  end
end

local function run(ctx)
  -- small dense networks: one thread is as fast as two here, and keeps its pace when other programs are
  -- busy on the cores (lurn's threads spin while they wait); run_all.lua restores the count
  lurn.set_num_threads(1)
  local size = ctx.pick{
    tiny = {train = 512, val = 256, units = 32, epochs = 2, sizes = {8, 64, 512}},
    quick = {train = 16384, val = 2000, units = 128, epochs = 10, sizes = {8, 16, 32, 64, 128, 256, 512, 1024}},
    full = {train = 30000, val = 10000, units = 256, epochs = 20, sizes = {8, 16, 32, 64, 128, 256, 512, 1024}},
  }
  local d = kit.fashion{train = size.train, val = size.val, flat = true}
  local r = lurn.experiments.batch_size_sweep(build(size.units), d.x_train, d.y_train, {
    sizes = size.sizes, scale_lr = "both", base_batch_size = BASE_SIZE, epochs = size.epochs, seed = ctx.seed,
    validation_data = {d.x_val, d.y_val}, plots = ctx.out})
  local plain, scaled = {}, {}
  for _, run_ in ipairs(r.runs) do
    local t = run_.scaled and scaled or plain
    t[run_.batch_size] = run_
  end
  local rows, results = {}, {sizes = size.sizes, epochs = size.epochs, train = size.train, runs = {}}
  for _, run_ in ipairs(r.runs) do
    local updates = math.ceil(size.train / run_.batch_size)
    local per_second = run_.seconds_per_epoch and size.train / run_.seconds_per_epoch or nil
    rows[#rows + 1] = {run_.name, run_.learning_rate, updates, updates * size.epochs, run_.seconds_per_epoch,
                       per_second and math.floor(per_second + 0.5) or "-", run_.final_val_metric, run_.best_val_loss,
                       run_.diverged and "yes" or "no"}
    results.runs[#results.runs + 1] = {batch_size = run_.batch_size, scaled = run_.scaled,
                                       learning_rate = run_.learning_rate, seconds_per_epoch = run_.seconds_per_epoch,
                                       val_accuracy = run_.final_val_metric, best_val_loss = run_.best_val_loss,
                                       diverged = run_.diverged or false, val_loss = run_.history.val_loss}
    ctx.log("%s: %.3g s per epoch, validation accuracy %s", run_.name, run_.seconds_per_epoch or 0 / 0,
      kit.num(run_.final_val_metric))
  end

  local plots = {}
  for _, file in ipairs(r.plots) do
    local name = file:match("[^/]+$")
    local caption = ({["batch_size_sweep_val_loss.png"] = "Validation loss per epoch, every run",
                      ["batch_size_sweep_loss.png"] = "Training loss per epoch, every run",
                      ["batch_size_sweep_seconds_per_epoch.png"] = "Seconds per epoch (training batches), every run"})[name]
    plots[#plots + 1] = {file = name, caption = caption or name}
  end
  local xs, acc_plain, acc_scaled, secs = {}, {}, {}, {}
  for i, s in ipairs(size.sizes) do
    xs[i] = s
    acc_plain[i] = plain[s] and plain[s].final_val_metric or 0 / 0
    acc_scaled[i] = scaled[s] and scaled[s].final_val_metric or 0 / 0
    secs[i] = plain[s] and plain[s].seconds_per_epoch or 0 / 0
  end
  kit.plot(ctx, plots, "accuracy_by_size", "lines", {{x = xs, y = acc_plain, label = ("rate %g"):format(BASE_RATE)},
    {x = xs, y = acc_scaled, label = ("rate %g x size / %d"):format(BASE_RATE, BASE_SIZE)}, logx = true,
    xlabel = "batch size", ylabel = "final validation accuracy",
    title = ("validation accuracy after %d epochs"):format(size.epochs)},
    "Final validation accuracy against the batch size, at the same rate and at the scaled rate.")
  kit.plot(ctx, plots, "time_by_size", "lines", {{x = xs, y = secs, label = "seconds per epoch"}, logx = true,
    logy = true, xlabel = "batch size", ylabel = "seconds per epoch (training batches)",
    title = "time per epoch against batch size"}, "Wall-clock seconds per epoch against the batch size (same rate).")

  -- the conclusion: batch_size_sweep's sentences, then the lesson's comparisons
  local out = {}
  for _, s in ipairs(r.conclusion) do out[#out + 1] = s end
  local small, large = size.sizes[1], size.sizes[#size.sizes]
  local ps, pl = plain[small], plain[large]
  if ps.seconds_per_epoch and pl.seconds_per_epoch then
    local speed = ps.seconds_per_epoch / pl.seconds_per_epoch
    out[#out + 1] = speed > 1.2
      and ("From batch %d to %d an epoch became %.3g x faster (%d against %d updates per epoch)."):format(small, large, speed,
        math.ceil(size.train / small), math.ceil(size.train / large))
      or ("An epoch at batch %d was not clearly faster than at %d here (%.3g x)."):format(large, small, speed)
  end
  local best_plain, best_size
  for _, s in ipairs(size.sizes) do
    local v = plain[s].final_val_metric
    if v and (best_plain == nil or v > best_plain) then best_plain, best_size = v, s end
  end
  if best_plain and pl.final_val_metric then
    local drop = best_plain - pl.final_val_metric
    if drop > 0.02 then
      out[#out + 1] = ("At rate %g, batch %d reached validation accuracy %s after %d epochs, %.1f points below batch "
        .. "%d's %s: it made only %d updates in all."):format(BASE_RATE, large, kit.num(pl.final_val_metric, "%.3f"),
        size.epochs, 100 * drop, best_size, kit.num(best_plain, "%.3f"), math.ceil(size.train / large) * size.epochs)
    else
      out[#out + 1] = ("At rate %g, batch %d lost no more than 2 points of validation accuracy against the best size "
        .. "(%s against %s at %d): the fixed budget of epochs did not starve it here."):format(BASE_RATE, large,
        kit.num(pl.final_val_metric, "%.3f"), kit.num(best_plain, "%.3f"), best_size)
    end
  end
  local sl = scaled[large]
  if sl and sl.final_val_metric and pl.final_val_metric then
    local gain = sl.final_val_metric - pl.final_val_metric
    if sl.diverged then
      out[#out + 1] = ("With the rate scaled to %s, batch %d diverged: the linear rule has a limit."):format(
        kit.num(sl.learning_rate), large)
    elseif gain > 0.01 then
      out[#out + 1] = ("Scaling the rate to %s won back %.1f points at batch %d (%s)%s."):format(
        kit.num(sl.learning_rate), 100 * gain, large, kit.num(sl.final_val_metric, "%.3f"),
        best_plain and sl.final_val_metric >= best_plain - 0.01 and ", as good as the best size at the same rate"
          or (", still below the best size's %s"):format(kit.num(best_plain, "%.3f")))
    else
      out[#out + 1] = ("Scaling the rate to %s did not win accuracy back at batch %d (%s against %s)."):format(
        kit.num(sl.learning_rate), large, kit.num(sl.final_val_metric, "%.3f"), kit.num(pl.final_val_metric, "%.3f"))
    end
  end
  local ss = scaled[small]
  if ss and ss.final_val_metric and ps.final_val_metric and ss.final_val_metric < ps.final_val_metric - 0.01 then
    out[#out + 1] = ("The other way, batch %d at the scaled-down rate %s trained slower (%s against %s at %g): the "
      .. "rule cuts small batches' rate too."):format(small, kit.num(ss.learning_rate), kit.num(ss.final_val_metric,
      "%.3f"), kit.num(ps.final_val_metric, "%.3f"), BASE_RATE)
  end
  return {
    compared = ("A multilayer perceptron (784-%d-10, SGD) on %d Fashion-MNIST training images for %d epochs at every "
      .. "batch size, validated on %d other training-file images, from the same initial weights (seed %d), through "
      .. "lurn.experiments.batch_size_sweep: at the rate %g, and at %g x size / %d. Seconds per epoch: wall-clock "
      .. "time of the training batches by lurn.clock (CLOCK_MONOTONIC; os.clock would sum CPU time over threads), at "
      .. "%d thread(s) on this machine."):format(size.units, size.train, size.epochs, size.val, ctx.seed, BASE_RATE,
      BASE_RATE, BASE_SIZE, lurn.get_num_threads()),
    tables = {{caption = "Every run: speed and validation scores after the same number of epochs",
               header = {"run", "learning rate", "updates per epoch", "updates in all", "seconds per epoch",
                         "samples per second", "final val accuracy", "best val loss", "diverged"}, rows = rows}},
    plots = plots,
    conclusion = kit.sentences(out),
    results = results,
  }
end

return lesson.main{name = "batch_size", title = "Batch size: speed against updates, and the scaled learning rate",
                   run = run}
