--- batch_size_sweep(build, x, y, {sizes =, scale_lr =, base_batch_size = 32}): the same
-- model at each batch size for the same number of epochs, optionally with the learning
-- rate scaled linearly with the batch size (rate x size / base_batch_size, Goyal et al.'s
-- rule); time per epoch (training batches only: wall-clock, so not repeatable bit for bit
-- as the other numbers are) and the validation loss and metric.
local runs = require "lurn.experiments.runs"
local report = require "lurn.experiments.report"
local variants = require "lurn.experiments.variants"

local WHO = "batch_size_sweep"
local DEFAULT_SIZES = {8, 32, 128}

local function conclude(result)
  local out = {}
  local fastest, slowest, best
  for _, r in ipairs(result.runs) do
    -- time by batch size: one run per size (the unscaled one where both ran)
    if r.seconds_per_epoch and (not r.scaled or result.scale_lr == true) then
      if fastest == nil or r.seconds_per_epoch < fastest.seconds_per_epoch then fastest = r end
      if slowest == nil or r.seconds_per_epoch > slowest.seconds_per_epoch then slowest = r end
    end
    if not r.diverged and r.best_val_loss and (best == nil or r.best_val_loss < best.best_val_loss) then best = r end
  end
  if best then
    out[#out + 1] = ("Batch size %s has the lowest validation loss (%s at epoch %d, rate %s)."):format(best.name,
      report.number(best.best_val_loss), best.best_epoch, report.number(best.learning_rate))
  else
    out[#out + 1] = "No run trained to a finite validation loss."
  end
  if fastest and slowest and fastest ~= slowest then
    out[#out + 1] = ("An epoch took %s s at batch size %d and %s s at %d (%.3g x)."):format(
      report.number(fastest.seconds_per_epoch), fastest.batch_size, report.number(slowest.seconds_per_epoch),
      slowest.batch_size, slowest.seconds_per_epoch / fastest.seconds_per_epoch)
  end
  for _, r in ipairs(result.runs) do
    if r.diverged then out[#out + 1] = ("%s diverged (%s)."):format(r.name, r.diverged) end
  end
  -- scaled against unscaled, size by size
  local plain = {}
  for _, r in ipairs(result.runs) do
    if not r.scaled then plain[r.batch_size] = r end
  end
  for _, r in ipairs(result.runs) do
    local p = plain[r.batch_size]
    if r.scaled and p and r.learning_rate ~= p.learning_rate then
      local a = (not r.diverged) and r.best_val_loss or math.huge
      local b = (not p.diverged) and p.best_val_loss or math.huge
      local verb = a < b * 0.98 and "helped" or (a > b * 1.02 and "hurt" or "made no clear difference")
      out[#out + 1] = ("At batch size %d, scaling the rate to %s %s (best validation loss %s against %s at rate %s)."):format(
        r.batch_size, report.number(r.learning_rate), verb, report.number(a), report.number(b),
        report.number(p.learning_rate))
    end
  end
  local small, large
  for _, r in ipairs(result.runs) do
    if not r.scaled then
      if small == nil or r.batch_size < small.batch_size then small = r end
      if large == nil or r.batch_size > large.batch_size then large = r end
    end
  end
  if small and large and small ~= large and small.best_val_loss and large.best_val_loss and not large.diverged then
    if large.best_val_loss > 1.1 * small.best_val_loss then
      out[#out + 1] = ("At the same rate and epochs, batch size %d ends %.3g x higher than %d: it made %d x fewer "
        .. "updates."):format(large.batch_size, large.best_val_loss / small.best_val_loss, small.batch_size,
        math.floor(large.batch_size / small.batch_size + 0.5))
    else
      out[#out + 1] = ("At the same rate and epochs, batch size %d is not worse than %d here (%s against %s)."):format(
        large.batch_size, small.batch_size, report.number(large.best_val_loss), report.number(small.best_val_loss))
    end
  end
  return out
end

local function batch_size_sweep(build, x, y, opts)
  opts = runs.options(WHO, opts, {"sizes", "scale_lr", "base_batch_size", "diverge_factor"})
  local sizes = opts.sizes or DEFAULT_SIZES
  if type(sizes) ~= "table" or #sizes == 0 then error(WHO .. ": sizes must be a non-empty list of batch sizes", 0) end
  for i, s in ipairs(sizes) do runs.count(WHO, ("sizes[%d]"):format(i), s) end
  local scale = opts.scale_lr == nil and false or opts.scale_lr
  if scale ~= true and scale ~= false and scale ~= "both" then
    error(("%s: scale_lr must be true, false or 'both', got %s"):format(WHO, tostring(scale)), 0)
  end
  local base_size = runs.count(WHO, "base_batch_size", opts.base_batch_size or 32)
  local make = runs.maker(WHO, build)
  local train, val = runs.split(WHO, x, y, opts)
  local base_lr = runs.fresh(make, opts.seed).optimizer.learning_rate
  local entries = {}
  for _, size in ipairs(sizes) do
    if scale ~= true then entries[#entries + 1] = {name = tostring(size), batch_size = size} end
    if scale then
      entries[#entries + 1] = {name = ("%d (rate scaled)"):format(size), batch_size = size,
                               learning_rate = base_lr * size / base_size}
    end
  end
  local result = {sizes = sizes, base_learning_rate = base_lr, base_batch_size = base_size, scale_lr = scale}
  result.runs = variants.train(WHO, make, entries, train, val, opts)
  for i, r in ipairs(result.runs) do r.scaled = entries[i].learning_rate ~= nil end
  local rows = {}
  for _, r in ipairs(result.runs) do
    rows[#rows + 1] = {r.name, r.batch_size, r.learning_rate, math.ceil(train.x:size(1) / r.batch_size),
                       r.seconds_per_epoch, r.final_val_loss, r.best_val_loss, r.best_epoch, r.final_val_metric,
                       r.diverged and ("yes: " .. r.diverged) or "no"}
  end
  local key = result.runs[1].val_metric
  local draw
  draw, result.plots = report.plotter(WHO, opts)
  variants.plot(draw, result.runs)
  local labels, times = {}, {}
  for i, r in ipairs(result.runs) do labels[i], times[i] = tostring(r.name), r.seconds_per_epoch or 0 / 0 end
  draw("seconds_per_epoch", "bars", {{labels = labels, values = times, label = "seconds per epoch"}},
       {xlabel = "batch size", ylabel = "seconds", title = "time per epoch (training batches)"})
  result.conclusion = conclude(result)
  result.report = report.section("Batch size",
    ("Batch sizes %s for %d epochs each from the same seed (%d)%s; time per epoch counts the training batches only "
      .. "(wall-clock on this machine, at %d thread(s))."):format(table.concat(labels, ", "), opts.epochs, opts.seed,
      scale and (", the rate scaled as %s x size / %d"):format(report.number(base_lr), base_size) or
      (" at rate %s"):format(report.number(base_lr)), require("lurn.core").get_num_threads()),
    report.table({"run", "batch size", "learning rate", "updates per epoch", "seconds per epoch", "final val loss",
                  "best val loss", "best epoch", key and ("final " .. key) or "val metric", "diverged"}, rows),
    result.conclusion, result.plots)
  return result
end

return batch_size_sweep
