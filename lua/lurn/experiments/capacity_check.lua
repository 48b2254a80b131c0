--- capacity_check(build, x, y, {sizes =}): models of increasing size trained alike, each
-- judged from its training and validation losses: underfitting (it cannot fit the
-- training data as well as a larger one), overfitting (its validation loss rose well
-- above its best while the training loss kept below it), or neither. The rules are at
-- `verdict`.
local runs = require "lurn.experiments.runs"
local report = require "lurn.experiments.report"
local variants = require "lurn.experiments.variants"

local WHO = "capacity_check"
local DEFAULT_FACTORS = {0.25, 1, 4}

-- A model made from `model`'s config with the units of every Dense layer but the last
-- (and the filters of every convolution) multiplied by factor, at least 1.
local function widened(model, factor)
  local config = model:get_config()
  local dense = {}
  for _, layer in ipairs(config.layers) do
    local c = layer.config
    if type(c) == "table" then
      if math.type(c.units) == "integer" and layer.class_name == "Dense" then dense[#dense + 1] = c end
      if math.type(c.filters) == "integer" then c.filters = math.max(1, math.floor(c.filters * factor + 0.5)) end
    end
  end
  for i = 1, #dense - 1 do dense[i].units = math.max(1, math.floor(dense[i].units * factor + 0.5)) end
  local c = model:get_compile_config()
  return getmetatable(model).from_config(config):compile{optimizer = runs.optimizer(WHO, model.optimizer),
                                                       loss = c.loss, metrics = c.metrics, loss_weights = c.loss_weights}
end

-- The verdict of each record, against the others: overfitting when the final validation
-- loss is at least 10% above the record's best and above its final training loss;
-- underfitting when (not overfitting) its final training loss is above 1.5 x the lowest
-- final training loss of all sizes and its best validation loss more than 10% above the
-- lowest of all sizes; else "fits".
local function verdicts(records)
  local lowest, lowest_val
  for _, r in ipairs(records) do
    if not r.diverged and runs.finite(r.final_loss) then lowest = math.min(lowest or r.final_loss, r.final_loss) end
    if not r.diverged and r.best_val_loss then lowest_val = math.min(lowest_val or r.best_val_loss, r.best_val_loss) end
  end
  for _, r in ipairs(records) do
    if r.diverged or not r.best_val_loss then
      r.verdict = "diverged"
    elseif r.final_val_loss >= 1.1 * r.best_val_loss and r.final_val_loss > r.final_loss then
      r.verdict = "overfitting"
    elseif lowest and r.final_loss > 1.5 * lowest and r.best_val_loss > 1.1 * lowest_val then
      r.verdict = "underfitting"
    else
      r.verdict = "fits"
    end
  end
end

local function conclude(result)
  local out = {}
  local by = {underfitting = {}, overfitting = {}, fits = {}, diverged = {}}
  local best
  for _, r in ipairs(result.runs) do
    local list = by[r.verdict]
    list[#list + 1] = tostring(r.name)
    if r.verdict ~= "diverged" and (best == nil or r.best_val_loss < best.best_val_loss) then best = r end
  end
  if best then
    out[#out + 1] = ("Size %s has the lowest validation loss (%s at epoch %d, %d parameters)."):format(best.name,
      report.number(best.best_val_loss), best.best_epoch, best.params)
    if best.best_epoch < best.epochs_run then
      out[#out + 1] = ("Its best came at epoch %d of %d: EarlyStopping (restore_best_weights) would keep it."):format(
        best.best_epoch, best.epochs_run)
    end
  end
  if #by.underfitting > 0 then
    out[#out + 1] = ("Underfitting (training loss above 1.5 x, and best validation loss 10%% above, the lowest of all "
      .. "sizes): %s: too little capacity for this data, or too few epochs."):format(table.concat(by.underfitting, ", "))
  end
  if #by.overfitting > 0 then
    out[#out + 1] = ("Overfitting (validation loss rose 10%% or more above its best, above the training loss): %s: "
      .. "regularize, stop earlier, or get more data."):format(table.concat(by.overfitting, ", "))
  end
  if #by.diverged > 0 then out[#out + 1] = ("Diverged: %s."):format(table.concat(by.diverged, ", ")) end
  if #by.underfitting == 0 and #by.overfitting == 0 then
    out[#out + 1] = "No size shows under- or overfitting by these rules at this budget: widen the range of sizes or "
      .. "train longer to see where capacity starts to matter."
  end
  return out
end

local function capacity_check(build, x, y, opts)
  opts = runs.options(WHO, opts, {"sizes", "diverge_factor"})
  local sizes = opts.sizes
  local is_model = type(build) == "table" and type(build.get_config) == "function"
  if sizes == nil then
    if not is_model then
      error(WHO .. ": give sizes = {...}: build(size) is called with each (or give a compiled model, whose hidden "
        .. "layers are then scaled by 0.25, 1 and 4)", 0)
    end
    sizes = DEFAULT_FACTORS
  end
  if type(sizes) ~= "table" or #sizes == 0 then error(WHO .. ": sizes must be a non-empty list", 0) end
  local make
  if is_model then
    for i, f in ipairs(sizes) do runs.positive(WHO, ("sizes[%d] (a factor of the hidden units)"):format(i), f) end
    local base = runs.maker(WHO, build)
    make = function(factor) return widened(base(), factor) end
  else
    make = runs.maker(WHO, build)
  end
  local train, val = runs.split(WHO, x, y, opts)
  local entries = {}
  for i, size in ipairs(sizes) do
    local s = size
    entries[i] = {name = tostring(size), build = function() return make(s) end}
  end
  local result = {sizes = sizes}
  result.runs = variants.train(WHO, nil, entries, train, val, opts)
  for i, r in ipairs(result.runs) do
    r.size = sizes[i]
    r.gap = r.final_val_loss and r.final_loss and r.final_val_loss - r.final_loss
  end
  verdicts(result.runs)
  local rows = {}
  for _, r in ipairs(result.runs) do
    rows[#rows + 1] = {r.name, r.params, r.final_loss, r.final_val_loss, r.best_val_loss, r.best_epoch, r.gap, r.verdict}
  end
  local draw
  draw, result.plots = report.plotter(WHO, opts)
  variants.plot(draw, result.runs)
  local labels, train_l, val_l = {}, {}, {}
  for i, r in ipairs(result.runs) do
    labels[i], train_l[i], val_l[i] = tostring(r.name), r.final_loss or 0 / 0, r.final_val_loss or 0 / 0
  end
  draw("final_loss", "bars", {{labels = labels, values = train_l, label = "training"},
                              {values = val_l, label = "validation"}},
       {xlabel = "size", ylabel = "final loss", title = "final training and validation loss per size"})
  result.conclusion = conclude(result)
  result.report = report.section("Capacity",
    ("%d model sizes (%s%s), %d epochs each from the same seed (%d), %d training and %d validation samples."):format(
      #sizes, is_model and "factors of the hidden layers' units: " or "", table.concat(labels, ", "), opts.epochs,
      opts.seed, train.x:size(1), val.x:size(1)),
    report.table({"size", "parameters", "final loss", "final val loss", "best val loss", "best epoch",
                  "gap (val - train)", "verdict"}, rows), result.conclusion, result.plots)
  return result
end

return capacity_check
