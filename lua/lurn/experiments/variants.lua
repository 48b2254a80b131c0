--- Named variants trained side by side and summed up: what compare shows, and the
-- experiments that are comparisons of a kind (scaling_check, imbalance_check's training).
-- Internal (lurn.experiments is the surface).
local runs = require "lurn.experiments.runs"
local report = require "lurn.experiments.report"

local variants = {}

--- Trains each entry (runs.train_variant; spread over the ranks under mpirun, runs.each)
-- -> the records in order, with the models' parameter counts (params).
function variants.train(who, make, entries, train, val, opts)
  return runs.each(entries, function(entry)
    local record, model = runs.train_variant(who, make, entry, train, val, opts)
    record.params = model:count_params()
    record.diverged = runs.divergence(record, opts.diverge_factor or 2)
    runs.say(opts, "%s: %s: best val_loss %s%s", who, tostring(entry.name), report.number(record.best_val_loss),
      record.diverged and (" (diverged: " .. record.diverged .. ")") or "")
    return record
  end)
end

local function sorted_by_best(records)
  local list = {}
  for _, r in ipairs(records) do
    if not r.diverged and r.best_val_loss then list[#list + 1] = r end
  end
  table.sort(list, function(a, b) return a.best_val_loss < b.best_val_loss end)
  return list
end

--- The sentences comparing the records, from their numbers. `similar` is the relative
-- spread of best validation losses under which the variants count as the same (0.02).
function variants.conclude(records, similar)
  similar = similar or 0.02
  local out, ranked = {}, sorted_by_best(records)
  for _, r in ipairs(records) do
    if r.diverged then out[#out + 1] = ("%s diverged (%s)."):format(r.name, r.diverged) end
  end
  if #ranked == 0 then
    out[#out + 1] = "No variant trained to a finite validation loss: nothing to compare."
    return out, nil
  end
  local best, worst = ranked[1], ranked[#ranked]
  out[#out + 1] = ("%s has the lowest validation loss (%s at epoch %d)."):format(best.name,
    report.number(best.best_val_loss), best.best_epoch)
  if #ranked > 1 then
    local spread = (worst.best_val_loss - best.best_val_loss) / math.abs(best.best_val_loss)
    if spread < similar then
      out[#out + 1] = ("All that trained are within %s of each other (%s to %s): on this evidence the difference "
        .. "between them does not matter here."):format(report.percent(similar), report.number(best.best_val_loss),
        report.number(worst.best_val_loss))
    else
      out[#out + 1] = ("The highest, %s, is %.3g x that (%s)."):format(worst.name,
        worst.best_val_loss / best.best_val_loss, report.number(worst.best_val_loss))
    end
  end
  local key = best.val_metric
  if key then
    local top
    for _, r in ipairs(ranked) do
      if r.final_val_metric and (top == nil or (r.final_val_metric > top.final_val_metric)) then top = r end
    end
    if top and top ~= best and not key:find("loss") and not key:find("error") then
      out[#out + 1] = ("By final %s, %s leads (%s against %s's %s)."):format(key, top.name,
        report.number(top.final_val_metric), best.name, report.number(best.final_val_metric))
    end
  end
  if best.final_val_loss and best.final_val_loss > 1.1 * best.best_val_loss then
    out[#out + 1] = ("%s's validation loss rose after epoch %d to %s at the end (overfitting or instability: "
      .. "stop earlier, or regularize)."):format(best.name, best.best_epoch, report.number(best.final_val_loss))
  end
  return out, best
end

--- The table of the records: name, optimizer and rate, batch size, final training and
-- validation loss, best validation loss and its epoch, the validation metric, divergence.
function variants.table(records)
  local key = records[1] and records[1].val_metric
  local rows = {}
  for _, r in ipairs(records) do
    rows[#rows + 1] = {r.name, ("%s %s"):format(r.optimizer, report.number(r.learning_rate)), r.batch_size,
                       r.final_loss, r.final_val_loss, r.best_val_loss, r.best_epoch, r.final_val_metric,
                       r.diverged and ("yes: " .. r.diverged) or "no"}
  end
  return report.table({"variant", "optimizer", "batch size", "final loss", "final val loss", "best val loss",
                       "best epoch", key and ("final " .. key) or "val metric", "diverged"}, rows)
end

--- The learning curves: validation loss and training loss per variant.
function variants.plot(draw, records)
  local val, train = {}, {}
  for _, r in ipairs(records) do
    val[#val + 1] = {y = r.history.val_loss or {}, label = tostring(r.name)}
    train[#train + 1] = {y = r.history.loss or {}, label = tostring(r.name)}
  end
  draw("val_loss", "lines", val, {xlabel = "epoch", ylabel = "validation loss", title = "validation loss"})
  draw("loss", "lines", train, {xlabel = "epoch", ylabel = "training loss", title = "training loss"})
end

return variants
