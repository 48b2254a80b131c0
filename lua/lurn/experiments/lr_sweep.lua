--- lr_sweep(build, x, y, {rates =, optimizers =, epochs =, ...}): the same model trained
-- at each learning rate with each optimizer, from the same initial weights; per run the
-- final and best validation loss, divergence marked (runs.divergence says what counts).
local runs = require "lurn.experiments.runs"
local report = require "lurn.experiments.report"

local WHO = "lr_sweep"
local DEFAULT_RATES = {1e-4, 1e-3, 1e-2, 1e-1, 1}

-- The optimizers to sweep: {label =, spec =} each. nil: the model's own.
local function optimizer_list(list)
  if list == nil then return {{label = nil, spec = nil}} end
  if type(list) ~= "table" or #list == 0 then
    error(WHO .. ": optimizers must be a non-empty list of names ('sgd'), optimizers or {name =, optimizer =}", 0)
  end
  local out, seen = {}, {}
  for i, entry in ipairs(list) do
    local label, spec = nil, entry
    if type(entry) == "table" and entry.optimizer ~= nil then label, spec = entry.name, entry.optimizer end
    runs.optimizer(("%s: optimizers[%d]"):format(WHO, i), spec)  -- checked now, before any training
    if label == nil then label = type(spec) == "string" and spec or spec.class_name or ("optimizer " .. i) end
    label = tostring(label)
    if seen[label] then label = ("%s #%d"):format(label, i) end
    seen[label] = true
    out[i] = {label = label, spec = spec}
  end
  return out
end

local function rate_list(rates)
  if rates == nil then return DEFAULT_RATES end
  if type(rates) ~= "table" or #rates == 0 then error(WHO .. ": rates must be a non-empty list of numbers > 0", 0) end
  for i, r in ipairs(rates) do runs.positive(WHO, ("rates[%d]"):format(i), r) end
  return rates
end

-- The sentences of the conclusion, from the runs of each optimizer.
local function conclude(result)
  local out = {}
  for _, name in ipairs(result.optimizers) do
    local list, best, diverged = {}, nil, {}
    for _, run in ipairs(result.runs) do
      if run.optimizer == name then list[#list + 1] = run end
    end
    local lo, hi = math.huge, -math.huge
    for _, run in ipairs(list) do
      if run.diverged then
        diverged[#diverged + 1] = report.number(run.learning_rate)
      elseif run.best_val_loss then
        if best == nil or run.best_val_loss < best.best_val_loss then best = run end
        lo, hi = math.min(lo, run.best_val_loss), math.max(hi, run.best_val_loss)
      end
    end
    local who = #result.optimizers > 1 and (" for " .. name) or ""
    if best == nil then
      out[#out + 1] = ("Every rate%s diverged or gave no finite validation loss: try rates below %s."):format(
        who, report.number(result.rates[1]))
    else
      local text = ("The best rate%s is %s (best validation loss %s at epoch %d)"):format(who,
        report.number(best.learning_rate), report.number(best.best_val_loss), best.best_epoch)
      if #diverged > 0 then text = text .. "; diverged at " .. table.concat(diverged, ", ") end
      out[#out + 1] = text .. "."
      if best.learning_rate == result.rates[1] and #result.rates > 1 then
        out[#out + 1] = "The best rate is the smallest tried: the optimum may be lower still; extend the rates downwards."
      elseif best.learning_rate == result.rates[#result.rates] and #result.rates > 1 then
        out[#out + 1] = "The best rate is the largest tried: the optimum may be higher still; extend the rates upwards."
      end
      if best.final_val_loss and best.final_val_loss > 2 * best.best_val_loss then
        out[#out + 1] = ("At that rate the validation loss ended at %s, %.3g x its best: the rate is at the edge of "
          .. "stability; a slightly lower one, or a decaying schedule, keeps the gain."):format(
          report.number(best.final_val_loss), best.final_val_loss / best.best_val_loss)
      end
      if hi > lo and (hi - lo) / math.abs(lo) < 0.05 then
        out[#out + 1] = ("The rates that trained differ by under 5%% in best validation loss (%s to %s): the "
          .. "learning rate is not what limits this model."):format(report.number(lo), report.number(hi))
      end
    end
  end
  if result.best and #result.optimizers > 1 then
    out[#out + 1] = ("Overall best: %s at rate %s (best validation loss %s)."):format(result.best.optimizer,
      report.number(result.best.learning_rate), report.number(result.best.best_val_loss))
  end
  return out
end

local function lr_sweep(build, x, y, opts)
  opts = runs.options(WHO, opts, {"rates", "optimizers", "diverge_factor"})
  local rates, opt_list = rate_list(opts.rates), optimizer_list(opts.optimizers)
  local factor = opts.diverge_factor == nil and 2 or runs.positive(WHO, "diverge_factor", opts.diverge_factor)
  local make = runs.maker(WHO, build)
  local train, val = runs.split(WHO, x, y, opts)
  local result = {rates = rates, optimizers = {}, diverge_factor = factor}
  local points = {}
  for _, o in ipairs(opt_list) do
    for i, rate in ipairs(rates) do points[#points + 1] = {o = o, first = i == 1, rate = rate} end
  end
  result.runs = runs.each(points, function(p)
    local model = runs.fresh(make, opts.seed)
    model = runs.recompile(WHO, model, p.o.spec or model.optimizer, p.rate)
    local record = runs.fit(model, train, val, opts)
    record.optimizer, record.learning_rate = p.o.label or model.optimizer.class_name, p.rate
    record.diverged = runs.divergence(record, factor)
    runs.say(opts, "%s: %s at %s: best val_loss %s%s", WHO, record.optimizer, report.number(p.rate),
      report.number(record.best_val_loss), record.diverged and (" (diverged: " .. record.diverged .. ")") or "")
    return record
  end)
  for k, record in ipairs(result.runs) do
    if points[k].first then result.optimizers[#result.optimizers + 1] = record.optimizer end
    if not record.diverged and record.best_val_loss
      and (result.best == nil or record.best_val_loss < result.best.best_val_loss) then
      result.best = record
    end
  end

  local rows = {}
  for _, run in ipairs(result.runs) do
    rows[#rows + 1] = {run.optimizer, run.learning_rate, run.final_loss, run.final_val_loss, run.best_val_loss,
                       run.best_epoch, run.diverged and ("yes: " .. run.diverged) or "no"}
  end
  local draw
  draw, result.plots = report.plotter(WHO, opts)
  local series = {}
  for _, name in ipairs(result.optimizers) do
    local xs, ys = {}, {}
    for _, run in ipairs(result.runs) do
      if run.optimizer == name then
        xs[#xs + 1], ys[#ys + 1] = run.learning_rate, (run.diverged or not run.best_val_loss) and 0 / 0 or run.best_val_loss
      end
    end
    series[#series + 1] = {x = xs, y = ys, label = name}
  end
  draw("best_val_loss", "lines", series, {logx = true, xlabel = "learning rate", ylabel = "best validation loss",
                                          title = "best validation loss per learning rate (diverged runs left out)"})
  local curves = {}
  for _, run in ipairs(result.runs) do
    curves[#curves + 1] = {y = run.history.val_loss or {}, label = ("%s %s"):format(run.optimizer,
      report.number(run.learning_rate))}
  end
  draw("val_loss", "lines", curves, {xlabel = "epoch", ylabel = "validation loss", title = "validation loss"})
  result.conclusion = conclude(result)
  result.report = report.section("Learning-rate sweep",
    ("%d rates x %d optimizer(s), %d epochs each from the same initial weights (seed %d). A run diverged when its "
      .. "loss became NaN or infinite, or its final training loss exceeded %g x the untrained model's."):format(
      #rates, #result.optimizers, opts.epochs, opts.seed, factor),
    report.table({"optimizer", "learning rate", "final loss", "final val loss", "best val loss", "best epoch",
                  "diverged"}, rows),
    result.conclusion, result.plots)
  return result
end

return lr_sweep
