--- lr_range_test(build, x, y, {min_lr = 1e-7, max_lr = 10, steps =}): Leslie Smith's
-- range test. One model trains batch after batch while its learning rate grows
-- exponentially from min_lr to max_lr; the loss of each batch is recorded and smoothed,
-- the test stops when the loss diverges, and the suggested rate is where the smoothed
-- loss fell fastest (the rule is written at `suggest`).
local core = require "lurn.core"
local runs = require "lurn.experiments.runs"
local report = require "lurn.experiments.report"

local WHO = "lr_range_test"
local KNOWN = {"seed", "batch_size", "plots", "plot_format", "verbose", "min_lr", "max_lr", "steps", "smoothing",
               "diverge_factor", "optimizer", "skip_start"}

local function log10(v) return math.log(v, 10) end

-- The suggested rate: the steepest descent of the smoothed loss against log10(rate),
-- taken by central differences at the points between the first and the lowest smoothed
-- loss (after the lowest point the loss is on its way up, before divergence), leaving out
-- the first skip_start points: there the bias-corrected average still rests on a few
-- batches, and its noise divided by the small step in log10(rate) makes false steep
-- slopes (fastai's lr_find skips 10 as well). -> the rate, its position, the slope (loss
-- per decade); nil when the loss never fell, that is when its lowest smoothed value is not
-- at least 5% below the first (batch noise alone makes small dips).
local function suggest(rates, smoothed, lowest_at, skip_start)
  if not (smoothed[lowest_at] <= 0.95 * smoothed[1]) then return nil end
  local best, at
  for k = math.max(2, skip_start + 1), lowest_at - 1 do
    local slope = (smoothed[k + 1] - smoothed[k - 1]) / (log10(rates[k + 1]) - log10(rates[k - 1]))
    if slope < 0 and (best == nil or slope < best) then best, at = slope, k end
  end
  if at == nil then return nil end
  return rates[at], at, best
end

local function conclude(result)
  local out = {}
  local c = result.curve
  if result.suggested_lr then
    out[#out + 1] = ("The smoothed loss fell fastest at rate %s (%s per decade of rate): suggested learning rate %s."):format(
      report.number(result.suggested_lr), report.number(result.slope), report.number(result.suggested_lr))
    out[#out + 1] = ("It was lowest (%s) at rate %s, %.2g decades higher."):format(report.number(result.lowest_loss),
      report.number(result.lowest_loss_lr), log10(result.lowest_loss_lr / result.suggested_lr))
  elseif result.lowest_loss and result.lowest_loss <= 0.95 * c.smoothed[1] then
    out[#out + 1] = ("The smoothed loss was lowest within the first %d steps, which the suggestion leaves out (their "
      .. "average rests on a few batches): no rate is suggested. Start lower (min_lr) or give more steps."):format(
      result.skip_start + 1)
  else
    out[#out + 1] = ("The smoothed loss never fell (by 5%% or more) between %s and %s: no rate is suggested. Widen the range (a lower "
      .. "min_lr, more steps), or look elsewhere: the data, the labels, the loss."):format(
      report.number(c.learning_rates[1]), report.number(c.learning_rates[#c.learning_rates]))
  end
  if result.diverged_at then
    out[#out + 1] = ("The loss diverged at rate %s (%s), where the test stopped."):format(
      report.number(result.diverged_at), result.divergence)
  else
    out[#out + 1] = ("The loss did not diverge up to rate %s: rates above it are untested."):format(
      report.number(c.learning_rates[#c.learning_rates]))
  end
  return out
end

-- The test's run: one model from `seed`, a batch per step at a growing rate, stopped at
-- divergence; t = {min_lr =, max_lr =, steps =, smoothing =, factor =} -> plain data
-- {rates =, losses =, smoothed =, lowest =, lowest_at =, diverged_at =, divergence =, optimizer =}.
local function range_run(make, x, y, opts, t)
  local model = runs.fresh(make, opts.seed)
  local min_lr, max_lr, smoothing, factor = t.min_lr, t.max_lr, t.smoothing, t.factor
  model = runs.recompile(WHO, model, opts.optimizer or model.optimizer, min_lr)
  local n, batch_size = x:size(1), opts.batch_size
  local rates, losses, smoothed = {}, {}, {}
  local order, at = core.randperm(n, "list"), 0
  local avg, lowest, lowest_at = 0, math.huge, nil
  local result = {}
  for i = 1, t.steps do
    local rate = min_lr * (max_lr / min_lr) ^ ((i - 1) / (t.steps - 1))
    model.optimizer.learning_rate = rate
    -- the next batch of the shuffled order; a new order when the data runs out
    if at + batch_size > n and at > 0 then order, at = core.randperm(n, "list"), 0 end
    local positions = table.move(order, at + 1, math.min(at + batch_size, n), 1, {})
    at = at + #positions
    local loss = model:train_on_batch(runs.rows(x, positions), runs.rows(y, positions),
                                      {return_dict = true, allow_nonfinite = true}).loss
    avg = smoothing * avg + (1 - smoothing) * loss
    local s = avg / (1 - smoothing ^ i)  -- bias-corrected, as the first steps average few losses
    rates[i], losses[i], smoothed[i] = rate, loss, s
    if not runs.finite(loss) or not runs.finite(s) then
      result.diverged_at, result.divergence = rate, "loss NaN or infinite"
      break
    end
    if s > factor * lowest then
      result.diverged_at = rate
      result.divergence = ("smoothed loss %s > %g x the lowest %s"):format(report.number(s), factor,
        report.number(lowest))
      break
    end
    if s < lowest then lowest, lowest_at = s, i end
  end
  return {rates = rates, losses = losses, smoothed = smoothed, lowest = lowest, lowest_at = lowest_at,
          diverged_at = result.diverged_at, divergence = result.divergence, optimizer = model.optimizer.class_name}
end

local function lr_range_test(build, x, y, opts)
  opts = runs.options(WHO, opts, nil, KNOWN)
  local min_lr = runs.positive(WHO, "min_lr", opts.min_lr or 1e-7)
  local max_lr = runs.positive(WHO, "max_lr", opts.max_lr or 10)
  if max_lr <= min_lr then
    error(("%s: max_lr (%s) must be above min_lr (%s)"):format(WHO, report.number(max_lr), report.number(min_lr)), 0)
  end
  local smoothing = opts.smoothing == nil and 0.98 or opts.smoothing
  if not runs.finite(smoothing) or smoothing < 0 or smoothing >= 1 then
    error(("%s: smoothing must be a number in [0, 1), got %s"):format(WHO, tostring(smoothing)), 0)
  end
  local factor = runs.positive(WHO, "diverge_factor", opts.diverge_factor or 4)
  local skip_start = opts.skip_start == nil and 10 or opts.skip_start
  if math.type(skip_start) ~= "integer" or skip_start < 0 then
    error(("%s: skip_start must be a whole number >= 0, got %s"):format(WHO, tostring(skip_start)), 0)
  end
  runs.check_data(WHO, x, y)
  x, y = x:contiguous(), y:contiguous()
  local batch_size = opts.batch_size
  local steps = opts.steps or math.ceil(x:size(1) / batch_size)
  runs.count(WHO, "steps", steps)
  if steps < 3 then
    error(("%s: needs at least 3 steps (batches) to find a slope, got %d: give steps = or a smaller batch_size"):format(
      WHO, steps), 0)
  end
  local make = runs.maker(WHO, build)
  -- one sequential run: under mpirun rank 0 trains (runs.each of one item) and every rank
  -- gets its plain numbers
  local run = runs.each({{min_lr = min_lr, max_lr = max_lr, steps = steps, smoothing = smoothing, factor = factor}},
    function(t) return range_run(make, x, y, opts, t) end)[1]
  local rates, losses, smoothed = run.rates, run.losses, run.smoothed
  local lowest, lowest_at = run.lowest, run.lowest_at
  local result = {diverged_at = run.diverged_at, divergence = run.divergence}
  runs.say(opts, "%s: %d steps from %s to %s", WHO, #rates, report.number(min_lr), report.number(rates[#rates]))
  result.curve = {learning_rates = rates, losses = losses, smoothed = smoothed}
  result.lowest_loss, result.lowest_loss_lr = lowest_at and lowest, lowest_at and rates[lowest_at]
  if lowest_at then
    result.suggested_lr, result.suggested_step, result.slope = suggest(rates, smoothed, lowest_at, skip_start)
  end
  result.optimizer = run.optimizer
  result.skip_start = skip_start

  local rows = {{"start", rates[1], smoothed[1]}}
  if result.suggested_lr then rows[#rows + 1] = {"suggested (steepest descent)", result.suggested_lr,
                                                 smoothed[result.suggested_step]} end
  if lowest_at then rows[#rows + 1] = {"lowest smoothed loss", rates[lowest_at], lowest} end
  rows[#rows + 1] = {result.diverged_at and "diverged (test stopped)" or "end", rates[#rates], smoothed[#smoothed]}
  local draw
  draw, result.plots = report.plotter(WHO, opts)
  local kept = {}  -- the smoothed line without its last, diverging point, which would flatten the rest
  for i = 1, #smoothed - (result.diverged_at and 1 or 0) do kept[i] = smoothed[i] end
  draw("loss", "lines", {{x = rates, y = losses, label = "batch loss"},
                         {x = table.move(rates, 1, #kept, 1, {}), y = kept, label = "smoothed"}},
       {logx = true, xlabel = "learning rate", ylabel = "loss", title = "learning-rate range test"})
  result.conclusion = conclude(result)
  result.report = report.section("Learning-rate range test",
    ("%s, one batch of %d per step, the rate growing exponentially from %s to %s over %d steps (seed %d); the loss "
      .. "smoothed by an exponential moving average (%g, bias-corrected); divergence: a NaN or infinite loss, or a "
      .. "smoothed loss above %g x the lowest so far."):format(result.optimizer, batch_size, report.number(min_lr),
      report.number(max_lr), steps, opts.seed, smoothing, factor),
    report.table({"point", "learning rate", "smoothed loss"}, rows), result.conclusion, result.plots)
  return result
end

return lr_range_test
