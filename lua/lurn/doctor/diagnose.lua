--- lurn.doctor.diagnose(model, x, y, {validation_data =, epochs =, batch_size =,
-- budget_seconds =, seed =}) -> a report (issue 19; docs/doctor.md). The data checks
-- (lurn.doctor.data, when there), the static checks of the compiled model
-- (model_checks.lua), then a short instrumented training probe on a copy of the model
-- (the user's model is never changed): the run at the user's rate with per-layer
-- statistics, and two short runs at a tenth and ten times the rate to place it.
local core = require "lurn.core"
local options = require "lurn.options"
local at_user_line = require "lurn.at_user_line"
local random = require "lurn.random"
local runs = require "lurn.experiments.runs"
local layer_stats = require "lurn.training.layer_stats"
local Report = require "lurn.doctor.report"
local model_checks = require "lurn.doctor.model_checks"
local training = require "lurn.doctor.training_checks"

local WHO = "diagnose"
-- class_weight weighs the probe's training as fit's does; sample_weight reaches the data
-- checks (imbalance compensated) only: the probe trains on its own subsets of the rows
local KNOWN = {"validation_data", "epochs", "batch_size", "budget_seconds", "seed", "class_weight", "sample_weight"}
local finite = training.finite

local EVAL_ROWS = 1024     -- rows the probe's losses and statistics are measured on
local SHORT_STEPS = 200    -- steps of the three runs that place the learning rate
local RATE_NOISE = 0.05    -- share of the initial loss two short runs must differ by to count
local UNDERFIT_SHARE = 0.9 -- training loss at 90% of the constant-prediction loss: under a tenth learned

local function fail(fmt, ...) error(fmt:format(...), 0) end

local function describe(v)
  if core.is_tensor(v) then return "a tensor" end
  return type(v)
end

local function check_args(model, x, y, opts)
  if type(model) ~= "table" or type(model.get_config) ~= "function" then
    fail("%s: model must be a lurn model, got %s", WHO, describe(model))
  end
  if not model.compiled then fail("%s: the model must be compiled: call model:compile{...} first", WHO) end
  if model._io then fail("%s: models with several inputs or outputs are not supported yet", WHO) end
  if not core.is_tensor(x) then fail("%s: x must be a tensor, got %s", WHO, describe(x)) end
  if not core.is_tensor(y) then fail("%s: y must be a tensor, got %s", WHO, describe(y)) end
  if x:dim() == 0 or y:dim() == 0 or x:size(1) ~= y:size(1) then
    fail("%s: x and y must have the same number of samples, got shapes {%s} and {%s}", WHO,
      table.concat(x:shape(), ", "), table.concat(y:shape(), ", "))
  end
  if x:size(1) < 4 then fail("%s: needs at least 4 samples, got %d", WHO, x:size(1)) end
  opts = opts or {}
  local vd = opts.validation_data
  if vd ~= nil and (type(vd) ~= "table" or not core.is_tensor(vd[1]) or not core.is_tensor(vd[2])) then
    fail("%s: validation_data must be {x_val, y_val} (two tensors), got %s", WHO, describe(vd))
  end
  -- inputs the model cannot take are the caller's mistake, as in fit, not a finding
  for _, part in ipairs{{x, WHO}, {vd and vd[1], WHO .. ": validation_data"}} do
    if part[1] then
      local ok, err = pcall(model._check_x, model, part[1], part[2])
      if not ok then fail("%s", (tostring(err):gsub("^[^\n]-:%d+: ", ""))) end
    end
  end
  if opts.epochs ~= nil then runs.count(WHO, "epochs", opts.epochs) end
  if opts.batch_size ~= nil then runs.count(WHO, "batch_size", opts.batch_size) end
  if opts.budget_seconds ~= nil then runs.positive(WHO, "budget_seconds", opts.budget_seconds) end
  if opts.seed ~= nil and math.type(opts.seed) ~= "integer" then
    fail("%s: seed must be an integer, got %s", WHO, runs.shown(opts.seed))
  end
end

-- The data checks of lurn.doctor.data, when that part is there; given the model, they read
-- the labels against its loss and output width (label_encoding_mismatch).
local function data_findings(report, model, x, y, opts)
  local ok, data = pcall(require, "lurn.doctor.data")
  if not ok or type(data) ~= "table" or type(data.check_data) ~= "function" then return end
  local done, found = pcall(data.check_data, x, y, {validation_data = opts.validation_data, model = model,
                                                    class_weight = opts.class_weight, sample_weight = opts.sample_weight})
  if done and type(found) == "table" and found.findings then report:merge(found) end
end

-- What fit would refuse, as findings: non-finite values, labels outside the output.
-- -> true when the probe can run.
local function fit_refusals(report, model, x, y, vd)
  local clean = true
  for _, part in ipairs{{"x", x}, {"y", y}, {"validation x", vd and vd[1]}, {"validation y", vd and vd[2]}} do
    local t = part[2]
    if t then
      local pos, v = core.first_nonfinite(t:contiguous())
      if pos then
        clean = false
        if not report:has("missing_values") then
          report:add{code = "missing_values", severity = "error",
                     evidence = {data = part[1], first_position = pos, value = training.shown(v)},
                     message = ("%s holds %s (first at flat position %d): fit refuses it, and a NaN input turns the "
                       .. "weights into NaN"):format(part[1], training.shown(v), pos),
                     fix = "drop or impute the rows (lurn.preprocessing.SimpleImputer{strategy = \"mean\"})"}
        end
      end
    end
  end
  if not clean then return false end
  for _, part in ipairs{{"fit", y}, {"fit: validation_data", vd and vd[2]}} do
    if part[2] then
      local ok, err = pcall(model._check_labels, model, part[2]:contiguous(), part[1])
      if not ok then
        clean = false
        if not report:has("label_encoding_mismatch") then
          report:add{code = "label_encoding_mismatch", severity = "error",
                     evidence = {output_units = model.output_shape[#model.output_shape], loss = model.loss.kind},
                     message = (tostring(err):gsub("^[^\n]-:%d+: ", "")),
                     fix = "labels must be 0-based class numbers below the output's units: relabel them "
                       .. "(lurn.preprocessing.LabelEncoder) or widen the output Dense"}
        end
      end
    end
  end
  return clean
end

-- The loss of always predicting the training labels' frequencies (or mean): what a model
-- that learned nothing from x reaches; nil for losses it is not defined for here.
-- Under class_weight (w_c per class) both sides are weighted as fit weighs the loss (a
-- sample's loss times its class's weight, averaged over the samples): the best constant
-- then predicts p_c in proportion to w_c n_c, and its loss is sum_c w_c n_c (-log p_c) / n.
-- Unweighted, a model trained under balanced weights predicts the rare classes more often,
-- as it should, and its loss sits above the unweighted baseline.
local function constant_loss(loss, y, class_weight)
  local kind = loss.kind
  local function weight(c) return class_weight and class_weight[math.tointeger(c) or c] or 1 end
  if kind == "sparse_categorical_crossentropy" or kind == "categorical_crossentropy"
    or kind == "binary_crossentropy" then
    local labels = kind == "binary_crossentropy" and y:reshape(y:numel()) or runs.labels(y)
    local counts, n = {}, labels:size(1)
    for i = 1, n do
      local c = labels:get(i)
      counts[c] = (counts[c] or 0) + 1
    end
    if kind == "binary_crossentropy" then
      -- y may hold soft targets: p is their (weighted) mean
      local w0, w1 = weight(0), weight(1)
      local ones = y:sum()
      local mass1, mass0 = w1 * ones, w0 * (n - ones)
      if mass1 <= 0 or mass0 <= 0 then return 0 end
      local p = mass1 / (mass0 + mass1)
      return -(mass1 * math.log(p) + mass0 * math.log(1 - p)) / n
    end
    local total = 0
    for c, k in pairs(counts) do total = total + weight(c) * k end
    local h = 0
    for c, k in pairs(counts) do
      local wk = weight(c) * k
      if wk > 0 then h = h - wk / n * math.log(wk / total) end
    end
    return h
  elseif kind == "mean_squared_error" then
    local m = y:mean()
    return ((y - m) * (y - m)):mean()
  end
  return nil
end

-- The probe's data: rows to train on, a fixed training subset and a validation subset to
-- measure on.
local function probe_data(x, y, opts)
  local n = x:size(1)
  local train, val
  if opts.validation_data then
    train = {x = x:contiguous(), y = y:contiguous()}
    val = {x = opts.validation_data[1]:contiguous(), y = opts.validation_data[2]:contiguous()}
  else
    local order = core.randperm(n, "list")
    local held = math.max(1, math.floor(n * 0.2))
    train = {x = runs.rows(x, table.move(order, held + 1, n, 1, {})), y = runs.rows(y, table.move(order, held + 1, n, 1, {}))}
    val = {x = runs.rows(x, table.move(order, 1, held, 1, {})), y = runs.rows(y, table.move(order, 1, held, 1, {}))}
  end
  -- the measured subsets; the training one weighted as the probe trains under class_weight
  -- (loss_on), the validation one not (Keras weighs validation losses only by weights given
  -- with the validation data)
  local function subset(part, cw)
    local m = part.x:size(1)
    local out = part
    if m > EVAL_ROWS then
      local pos = table.move(core.randperm(m, "list"), 1, EVAL_ROWS, 1, {})
      out = {x = runs.rows(part.x, pos), y = runs.rows(part.y, pos)}
    end
    if cw then
      local labels, w = runs.labels(out.y), {}
      for i = 1, labels:size(1) do
        local c = math.tointeger(labels:get(i))
        w[i] = cw[c] or 1
      end
      out = {x = out.x, y = out.y, w = core.tensor(w)}
    end
    return out
  end
  return train, subset(train, opts.class_weight), subset(val)
end

local function loss_on(model, part, batch_size)
  local ok, s = pcall(model.evaluate, model, part.x, part.y, {batch_size = math.max(batch_size, 256), verbose = 0,
                                                             allow_nonfinite = true, sample_weight = part.w})
  if not ok then return 0 / 0 end
  return s.loss
end

-- A copy of the user's model (same weights, fresh optimizer state) at rate `lr`.
local function copy(make, weights, lr)
  local m = make()
  m:set_weights(weights)
  if lr then m.optimizer.learning_rate = lr end
  return m
end

-- A run: `steps` training steps of model on shuffled batches of train, from a seeded
-- order; checkpoints every `every` steps (losses on the subsets, statistics); stops at a
-- non-finite loss or at the deadline. -> {steps =, points = {{step, train, val}}, stats =
-- {rows per checkpoint}, nan_step =}
local function run(model, train, eval_train, eval_val, o)
  local n, b = train.x:size(1), o.batch_size
  local order, at = core.randperm(n, "list"), 0
  local out = {points = {}, stats = {}, steps = 0, batch_losses = {}}
  for step = 1, o.steps do
    if at + b > n and at > 0 then order, at = core.randperm(n, "list"), 0 end
    local pos = table.move(order, at + 1, math.min(at + b, n), 1, {})
    at = at + #pos
    local record = o.every and (step == 1 or step % o.every == 0 or step == o.steps) and true or false
    if record then model._core:record_stats(true) end
    local ok, logs = pcall(model.train_on_batch, model, runs.rows(train.x, pos), runs.rows(train.y, pos),
                           {return_dict = true, allow_nonfinite = true, class_weight = o.class_weight})
    if record then
      model._core:record_stats(false)
      if ok then out.stats[#out.stats + 1] = layer_stats.rows(model) end
    end
    out.steps = step
    out.batch_losses[step] = ok and logs.loss or 0 / 0
    if not ok or not finite(logs.loss) then
      out.nan_step = step
      return out
    end
    if step == o.mark then out.mark_loss = loss_on(model, eval_train, b) end
    if record and o.every then
      out.points[#out.points + 1] = {step = step, train = loss_on(model, eval_train, b),
                                     val = eval_val and loss_on(model, eval_val, b) or nil}
    end
    if core.clock() > o.deadline then break end
  end
  return out
end

-- The training loss over the second half of a run's checkpoints (the last half of its
-- steps): its mean (the level the run holds, SGD's bouncing averaged out) and the drop of
-- the least-squares line through it from the half's first step to its last (how much the
-- loss was still falling) -> {level =, drop =, from =, to =, count =} or nil.
local function second_half(points)
  local last = points[#points]
  if not last then return nil end
  local xs, ys = {}, {}
  for _, p in ipairs(points) do
    if p.step >= last.step / 2 and finite(p.train) then xs[#xs + 1], ys[#ys + 1] = p.step, p.train end
  end
  local n = #xs
  if n < 2 then return nil end
  local mx, my = 0, 0
  for i = 1, n do mx, my = mx + xs[i] / n, my + ys[i] / n end
  local sxy, sxx = 0, 0
  for i = 1, n do sxy, sxx = sxy + (xs[i] - mx) * (ys[i] - my), sxx + (xs[i] - mx) ^ 2 end
  local slope = sxx > 0 and sxy / sxx or 0
  return {level = my, drop = -slope * (xs[n] - xs[1]), from = xs[1], to = xs[n], count = n}
end

-- Whether the user's rate left the training loss above the constant-prediction loss
-- (`floor`) by more than the noise, while a lower one (rates[2]) did better: a model with an output
-- bias reaches the floor by learning the biases alone, so a loss held above it is the steps
-- throwing the weights past the minimum, whatever the loss started at. The user's loss is
-- the larger of its value after the short runs' steps and its level over the second half of
-- the probe (after at least as many steps as the tenth had: the comparison favours the
-- user's rate). -> that loss, or nil.
local function above_floor(floor, l1, half, l_low)
  if not (floor and floor > 0 and finite(l1) and finite(l_low)) then return nil end
  local worst = half and math.max(l1, half.level) or l1
  local tol = RATE_NOISE * floor
  if worst > floor + tol and l_low < worst - tol then return worst end
  return nil
end

local function lr_findings(report, base, rates, loss0, losses)
  local lr, low = rates[1], rates[2]
  local l1, l_low = losses[1], losses[2]
  local tol = RATE_NOISE * loss0
  local d1 = finite(l1) and loss0 - l1 or -math.huge
  local d_low = finite(l_low) and loss0 - l_low or nil
  local evidence = {learning_rate = lr, initial_loss = loss0, loss = l1, lower_rate = low, loss_at_lower_rate = l_low,
                    loss_at_10x = losses[3], steps = base.short_steps}
  local half = base.half
  local worst = above_floor(base.floor, l1, half, l_low)
  if worst then
    evidence.constant_prediction_loss = base.floor
    evidence.level_second_half, evidence.second_half = half and half.level, half and {half.from, half.to}
    evidence.suggested_lr = low  -- what report:repair sets
    report:add{code = "lr_too_high", severity = "error", evidence = evidence,
               message = ("at learning_rate %g the training loss is %.4g after %d steps%s, above %.4g, the loss of "
                 .. "predicting the labels' frequencies without looking at x, while learning_rate %g brought it "
                 .. "to %.4g: the steps overshoot"):format(lr, l1, base.short_steps,
                 half and (" (%.4g on average over steps %d to %d)"):format(half.level, half.from, half.to) or "",
                 base.floor, low, l_low),
               fix = ("learning_rate = %g (lurn.experiments.lr_range_test suggests one)"):format(low)}
    return
  end
  -- oscillating: the lower rate ended below the user's loss at the same step, or below its
  -- level over the probe's second half (its mean, after at least as many steps: a single
  -- point of a bouncing curve can fall low by chance)
  local d_level = (half and finite(half.level)) and loss0 - half.level or d1
  if (not finite(l1) or d1 < -tol or (d_low and d_low > math.min(d1, d_level) + tol)) and d_low and d_low > 0 then
    local diverged = not finite(l1) or d1 < -tol
    if not diverged and d_low <= d1 + tol then evidence.level_second_half = half.level end
    report:add{code = "lr_too_high", severity = diverged and "error" or "warning", evidence = evidence,
               message = (diverged and "at learning_rate %g the loss went from %.4g to %.4g in %d steps, while "
                 .. "learning_rate %g brought it to %.4g: the steps overshoot" or "at learning_rate %g the loss went from "
                 .. "%.4g to %.4g in %d steps, but learning_rate %g brought it lower, to %.4g: the steps oscillate"):format(
                 lr, loss0, l1, base.short_steps, low, l_low),
               fix = ("learning_rate = %g (lurn.experiments.lr_range_test suggests one)"):format(low)}
    evidence.suggested_lr = low  -- what report:repair sets
    return
  end
  for i = 3, #rates do
    local k, l_high = rates[i] / lr, losses[i]
    local d_high = finite(l_high) and loss0 - l_high or nil
    if finite(l1) and d_high and d_high > 0 and l_high < l1 - tol and d_high > math.sqrt(k) * math.max(d1, 0) then
      evidence.higher_rate, evidence.loss_at_higher_rate = rates[i], l_high
      evidence.suggested_lr = rates[i]  -- what report:repair sets
      report:add{code = "lr_too_low", severity = "warning", evidence = evidence,
                 message = ("at learning_rate %g the loss went from %.4g to %.4g in %d steps; %g times the rate "
                   .. "brought it to %.4g: progress grows nearly in proportion to the rate, the steps are too small"):format(
                   lr, loss0, l1, base.short_steps, k, l_high),
                 fix = ("learning_rate = %g"):format(rates[i])}
      return
    end
  end
end

-- The hidden layers that carry a kernel or bias regularizer (names), from the model's config.
local function regularized_layers(model)
  local ok, config = pcall(model.get_config, model)
  local names = {}
  if not ok or type(config) ~= "table" then return names end
  for _, l in ipairs(config.layers or {}) do
    local c = l.config or {}
    if c.kernel_regularizer ~= nil or c.bias_regularizer ~= nil then names[#names + 1] = c.name end
  end
  return names
end

-- underfitting: the training loss held, over the second half of the probe, at UNDERFIT_SHARE
-- or more of the constant-prediction loss `floor`, and had levelled off there: the line
-- through the second half's checkpoints falls by no more than RATE_NOISE of the floor, over
-- an epoch or SHORT_STEPS at least. A loss still falling has not shown where it ends: the
-- probe was too short to tell.
local function underfitting(report, model, points, floor, half, steps_per_epoch)
  local last = points[#points]
  if not (floor and floor > 0 and half and last and finite(last.train)) then return end
  if report:has("lr_too_low") or report:has("lr_too_high") then return end
  if half.level < UNDERFIT_SHARE * floor or half.drop > RATE_NOISE * floor then return end
  -- flat over enough steps for the loss to move: an epoch (every sample seen), or the
  -- short runs' SHORT_STEPS, by which the rate findings judge movement, if fewer
  if half.to - half.from < math.min(steps_per_epoch, SHORT_STEPS) then return end
  local regularized = regularized_layers(model)
  local evidence = {train_loss = last.train, level = half.level, constant_prediction_loss = floor,
                    share = half.level / floor, drop = half.drop, second_half = {half.from, half.to},
                    steps = last.step, epochs = last.step / steps_per_epoch}
  if #regularized > 0 then evidence.layers, evidence.regularized_layers = regularized, regularized end
  -- the curves the page plots
  local train, val, steps = {}, {}, {}
  for i, p in ipairs(points) do train[i], val[i], steps[i] = p.train, p.val or 0 / 0, p.step end
  evidence.loss_curve, evidence.val_loss_curve, evidence.loss_steps = train, val, steps
  evidence.baseline_loss, evidence.baseline_label = floor, "predicting the label frequencies"
  report:add{code = "underfitting", severity = "warning", evidence = evidence,
             message = ("over steps %d to %d of the probe (%.3g epochs in all) the training loss held at %.4g on "
               .. "average, %.0f%% of %.4g, the loss of predicting the labels' frequencies without looking at x, "
               .. "and it had levelled off (it fell by %.3g over those steps): the model learns next to nothing "
               .. "from x"):format(half.from, half.to, evidence.epochs, half.level, 100 * evidence.share, floor,
               half.drop),
             fix = (#regularized > 0 and ("weaker regularization on %s (kernel_regularizer = "
               .. "lurn.regularizers.l2(1e-4) or none), "):format(table.concat(regularized, ", ")) or "")
               .. "more capacity (wider or more hidden layers with activation = \"relu\"), or scaled inputs"}
end

local function diagnose(model, x, y, opts)
  options.check(opts, KNOWN, WHO, 3)
  check_args(model, x, y, opts)
  opts = opts or {}
  local started = core.clock()
  local budget = opts.budget_seconds or 20
  local deadline = started + budget
  local report = Report.new()
  data_findings(report, model, x, y, opts)
  report:merge(model_checks.check(model))
  -- labels the loss reads otherwise than they are meant (one-hot rows with a sparse loss,
  -- class numbers with categorical_crossentropy): fit may take them, but its loss is
  -- meaningless (NaN or garbage), so the probe would only report consequences
  if report:has("label_encoding_mismatch", "error") then
    report.probe = {skipped = "the labels do not match the loss (label_encoding_mismatch)"}
    return report
  end
  if not fit_refusals(report, model, x, y, opts.validation_data) then
    report.probe = {skipped = "the data holds values fit refuses"}
    return report
  end

  local user_weights = model:get_weights()
  -- one thread: the probe's batches are small, and a second thread mostly waits (and
  -- competes with whatever else runs); the user's setting comes back at the end
  local threads, mode = core.get_num_threads()
  core.set_num_threads(1)
  local ok, err = pcall(function()
  local seed = opts.seed or 0
  random.manual_seed(seed)
  local make = runs.maker(WHO, model)
  local batch_size = opts.batch_size or 32
  local train, eval_train, eval_val = probe_data(x, y, opts)
  local steps_per_epoch = math.ceil(train.x:size(1) / batch_size)
  local total = (opts.epochs or 10) * steps_per_epoch
  local short = math.min(total, SHORT_STEPS)
  local lr = model.optimizer.learning_rate
  local scheduled = model.optimizer._schedule ~= nil or not finite(lr)
  local probe = {batch_size = batch_size}
  report.probe = probe

  local main = copy(make, user_weights)
  local loss0 = loss_on(main, eval_train, batch_size)
  probe.initial_loss = loss0
  if not finite(loss0) then
    report:add{code = "nan_loss", severity = "error", evidence = {initial_loss = training.shown(loss0)},
               message = ("the untrained model's loss is already %s: the output or the loss produce it before any "
                 .. "step"):format(training.shown(loss0)),
               fix = "check the output activation and the loss (from_logits), and the weights' initializers"}
    return report
  end
  local start_rows = main:layer_stats(eval_train.x, eval_train.y)
  local out_name = start_rows[#start_rows] and start_rows[#start_rows].name
  training.activations(report, start_rows, out_name, "at initialization")
  training.depth(report, start_rows, "at initialization")
  local exploding_at_start = report:has("exploding_gradients")

  -- 1. the user's rate for the probe's epochs (or its share of the budget), with statistics
  -- and validation checkpoints, and its training loss after the first `short` steps
  local every = math.max(1, math.ceil(total / 20))
  local rest = run(main, train, eval_train, eval_val, {steps = total, batch_size = batch_size, every = every,
                                                       class_weight = opts.class_weight,
                                                       mark = short, deadline = started + 0.6 * budget})
  local nan_step = rest.nan_step
  -- a loss that became non-finite stays so: the user's rate is compared over `short` steps
  -- however early that happened; unless the gradients were exploding at initialization:
  -- then the weights, not the rate, make the first steps huge (exploding_gradients' fix)
  local marked = (rest.mark_loss or (nan_step and not exploding_at_start)) and short or rest.steps
  probe.short_steps = marked
  local base = {short_steps = marked}
  -- the loss of predicting the labels' frequencies: the level a model that learned nothing from x reaches
  local floor = constant_loss(main.loss, eval_train.y, opts.class_weight)
  local half = not nan_step and second_half(rest.points) or nil
  base.floor, base.half = floor, half
  local losses, rates = {rest.mark_loss or (nan_step and 0 / 0) or rest.points[#rest.points].train}, {lr}
  -- 2. a tenth of the rate (lower again while that diverged too), and ten times it (again while
  -- that made no progress), for as many steps
  if not scheduled and marked >= 10 then
    local curves = {table.move(rest.batch_losses, 1, marked, 1, {})}  -- each rate's loss per step (the page)
    local function try(i, rate)
      random.manual_seed(seed + i)
      local m = copy(make, user_weights, rate)
      local r = run(m, train, eval_train, nil, {steps = marked, batch_size = batch_size, deadline = math.huge,
                                                class_weight = opts.class_weight})
      rates[i], losses[i] = rate, r.nan_step and 0 / 0 or loss_on(m, eval_train, batch_size)
      curves[i] = r.batch_losses
    end
    try(2, lr / 10)
    local tol = RATE_NOISE * loss0
    -- the tenth diverged too (non-finite, or the loss went up): a decade lower again, up to
    -- a thousandth, so that the rate the finding suggests is one that trains
    for k = 2, 3 do
      local l = losses[2]
      if (finite(l) and l <= loss0 + tol) or core.clock() > deadline - 0.2 * budget then break end
      try(2, lr / 10 ^ k)
    end
    for k = 1, 3 do
      try(2 + k, lr * 10 ^ k)
      local l = losses[2 + k]
      if not finite(l) or l > loss0 + tol or l < loss0 - tol or core.clock() > deadline - 0.2 * budget then break end
    end
    probe.rates, probe.rate_losses = rates, losses
    lr_findings(report, base, rates, loss0, losses)
    -- a rate off by more than a decade: the range test's suggestion (steepest descent of
    -- the smoothed loss, lurn.experiments.lr_range_test) on a copy, when the budget allows
    -- The suggestion is taken within the decades the short runs placed the rate in: from a
    -- tenth of the lower rate that trained up to the user's (too high), or from the user's
    -- up to ten times the higher rate that trained (too low); outside them the runs measured
    -- the loss already (a rate ten times below one that trains is in the regime where
    -- progress shrinks with the rate, lr_too_low's own reading; rates above the user's
    -- diverge), and the rate that trained in the short runs stands.
    local f = report:get("lr_too_high")[1] or report:get("lr_too_low")[1]
    if f then
      f.evidence.lr_curve = {lr = table.move(rates, 1, #rates, 1, {}), loss = table.move(losses, 1, #losses, 1, {})}
      f.evidence.rate_curves = {}
      for i, c in ipairs(curves) do f.evidence.rate_curves[i] = {learning_rate = rates[i], loss = c} end
    end
    if f and core.clock() < deadline - 0.3 * budget then
      local trained = f.evidence.suggested_lr
      local min_lr, max_lr = trained / 1000, lr
      if f.code == "lr_too_low" then min_lr, max_lr = lr, trained * 1000 end
      local ok, test = pcall(require("lurn.experiments").lr_range_test, function()
        return copy(make, user_weights, lr)
      end, train.x, train.y, {steps = math.min(200, math.max(50, marked)), batch_size = batch_size, seed = seed})
      if ok and test.suggested_lr then f.evidence.range_test_lr = test.suggested_lr end
      if ok and test.suggested_lr and test.suggested_lr >= min_lr and test.suggested_lr <= max_lr then
        f.evidence.suggested_lr = test.suggested_lr
        f.fix = ("learning_rate = %.3g (the range test's steepest descent of the loss)"):format(test.suggested_lr)
      end
    end
  end
  probe.points, probe.steps = rest.points, rest.steps
  if nan_step then
    -- one rate in the report: lr_too_high's (the range test's, else a tenth), which repair sets
    local high = report:get("lr_too_high")[1]
    local suggested = high and high.evidence.suggested_lr or nil
    report:add{code = "nan_loss", severity = "error",
               evidence = {step = nan_step, learning_rate = lr, suggested_lr = suggested, loss_curve = rest.batch_losses,
                           loss_x_label = "step"},
               message = ("the training loss became NaN or infinite at step %d of the probe"):format(nan_step),
               fix = suggested and ("learning_rate = %.3g (as lr_too_high says)"):format(suggested)
                 or "a lower learning_rate, clipnorm = 1.0 in the optimizer, and scaled inputs"}
  end
  for _, rows in ipairs(rest.stats) do training.depth(report, rows, "during the probe") end
  training.growth(report, rest.stats)
  if not nan_step then
    local ok, end_rows = pcall(main.layer_stats, main, eval_train.x, eval_train.y)
    if ok then
      training.activations(report, end_rows, out_name, ("after %d steps"):format(probe.steps))
      training.depth(report, end_rows, ("after %d steps"):format(probe.steps))
    end
    local pts = {}
    for _, p in ipairs(rest.points) do if p.val then pts[#pts + 1] = p end end
    training.overfitting(report, pts)
    underfitting(report, main, rest.points, floor, half, steps_per_epoch)
  end
  end)
  core.set_num_threads(mode == "auto" and "auto" or threads)
  if not ok then error(err, 0) end
  report.probe.seconds = core.clock() - started
  return report
end

return {diagnose = at_user_line(diagnose)}
