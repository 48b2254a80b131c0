--- The doctor's training findings from numbers a run produced (issue 19; docs/doctor.md):
-- per-layer statistics rows (model:layer_stats, LayerStats' records) and loss curves.
-- Shared by diagnose (its probe) and Monitor (the user's fit). Each function adds its
-- findings to a report; the thresholds are the mechanisms' (docs/doctor.md says why).
-- Internal.
local training = {}

local function finite(v) return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge end
training.finite = finite

--- A number for a message, the non-finite ones as people write them ("NaN", not the C
-- library's "-nan").
function training.shown(v)
  if v ~= v then return "NaN" end
  if v == math.huge then return "infinity" end
  if v == -math.huge then return "-infinity" end
  return tostring(v)
end

-- Rectifiers: a unit whose output is 0 for every sample gets no gradient (relu'(x) = 0 for x < 0).
training.DEAD_SHARE = 0.5        -- half of a layer's units lost: dead_relu (warning); all: error
training.SATURATED_SHARE = 0.5   -- half of a layer's outputs where the slope is below 1/50: saturation
training.DEPTH_GAP = 100         -- first vs last layer's relative gradient, 2 orders: vanishing/exploding
training.GROWTH = 100            -- a layer's gradient norm grown 100x during training: exploding

-- The page's bars (docs/doctor.md, "Plottable evidence"): {layer =, value =} of every row
-- with a finite `key` (value = fn(row) when fn is given).
local function per_layer(rows, key, fn)
  local out = {}
  for _, r in ipairs(rows) do
    local v = fn and fn(r) or r[key]
    if finite(v) then out[#out + 1] = {layer = r.name, value = v} end
  end
  return out
end

-- The kernel layers of the rows (with a weight norm: layers that train), in order.
local function trained_rows(rows)
  local out = {}
  for _, r in ipairs(rows) do
    if finite(r.grad_norm) and finite(r.weight_norm) and r.weight_norm > 0 then out[#out + 1] = r end
  end
  return out
end

--- dead_relu and saturation from rows taken on a batch; `output` is the output layer's
-- name (its softmax/sigmoid saturating is confidence, not a fault). `when` describes the
-- moment (a string for the message).
function training.activations(report, rows, output, when)
  for _, r in ipairs(rows) do
    local dead = r.dead_fraction
    if r.name ~= output and finite(dead) and dead >= training.DEAD_SHARE and not report:has("dead_relu") then
      local all = dead >= 1
      report:add{code = "dead_relu", severity = all and "error" or "warning", layer = r.name,
                 evidence = {dead_fraction = dead, when = when, per_layer = per_layer(rows, "dead_fraction"),
                             per_layer_label = "dead fraction"},
                 message = ("%.0f%% of %s's units output 0 for every sample %s: a unit below zero for all inputs gets "
                   .. "no gradient and never comes back%s"):format(100 * dead, r.name, when,
                   all and "; nothing passes this layer" or ""),
                 fix = ("activation = \"leaky_relu\" (or kernel_initializer = \"he_normal\" and a lower learning_rate) "
                   .. "on %s"):format(r.name)}
    end
    local sat = r.saturated_fraction
    if r.name ~= output and finite(sat) and sat >= training.SATURATED_SHARE and not report:has("saturation") then
      report:add{code = "saturation", severity = "warning", layer = r.name,
                 evidence = {saturated_fraction = sat, act_mean = r.act_mean, act_std = r.act_std, when = when,
                             per_layer = per_layer(rows, "saturated_fraction"), per_layer_label = "saturated fraction"},
                 message = ("%.0f%% of %s's outputs sit within 0.01 of the activation's bounds %s, where its slope is "
                   .. "below 1/50: the gradient through them nearly stops"):format(100 * sat, r.name, when),
                 fix = ("scale the inputs (StandardScaler), kernel_initializer = \"glorot_uniform\", or activation = "
                   .. "\"relu\" on %s"):format(r.name)}
    end
  end
end

-- The root mean square of a row's outputs, from their mean and spread.
local function output_rms(r)
  if not (finite(r.act_mean) and finite(r.act_std)) then return nil end
  return math.sqrt(r.act_mean * r.act_mean + r.act_std * r.act_std)
end

-- The scale of the outputs through a stack of rectifier layers (the rows whose dead share
-- is measured: relu and its family, one after the other), first against last, when it
-- changed by DEPTH_GAP.
-- A rectifier passes a signal with slope 1 where active and 0 elsewhere, forward and
-- backward alike, so the factor by which the outputs grow from layer to layer is the factor
-- by which the gradient grows on its way back (the per-layer gain, fan * Var(w) / 2, which
-- he_normal makes 1). Compared through the kernel gradients instead, a uniform gain cancels
-- (each layer's gradient is its input times the signal coming back, one grown as much as
-- the other shrank), so a stack initialized too large or too small shows only here.
-- -> the code and its evidence, or nil.
local function rectifier_scale(rows, when)
  -- the longest run of rectifier rows; a layer with weights of its own and no rectifier
  -- (a linear or tanh Dense, BatchNormalization) or a squashing activation sets another
  -- scale and ends a run; Flatten, Dropout and pooling pass the scale on
  local chain, run = {}, {}
  for _, r in ipairs(rows) do
    if finite(r.dead_fraction) and output_rms(r) then
      run[#run + 1] = r
      if #run > #chain then chain = run end
    elseif finite(r.weight_norm) or finite(r.saturated_fraction) then
      run = {}
    end
  end
  if #chain < 2 then return nil end
  local first, last = chain[1], chain[#chain]
  local a, b = output_rms(first), output_rms(last)
  if not (a > 0 and b > 0) then return nil end
  local gain = b / a
  local code = gain >= training.DEPTH_GAP and "exploding_gradients" or gain <= 1 / training.DEPTH_GAP
    and "vanishing_gradients" or nil
  if not code then return nil end
  local names, scales = {}, {}
  for i, r in ipairs(chain) do names[i], scales[i] = r.name, output_rms(r) end
  return code, {first_layer = first.name, last_layer = last.name, first_output_rms = a, last_output_rms = b,
                ratio = gain, per_layer_gain = gain ^ (1 / (#chain - 1)), rectifier_layers = #chain,
                layers = names, output_rms = scales, when = when, per_layer = per_layer(chain, nil, output_rms),
                per_layer_label = "output RMS"}
end

--- vanishing_gradients and exploding_gradients across depth, from one step's rows: each
-- kernel layer's relative gradient (grad_norm / weight_norm, how fast it moves for its size)
-- compared between the first and the last layer that train; and the output scale through
-- a stack of rectifiers (rectifier_scale).
function training.depth(report, rows, when)
  local list = trained_rows(rows)
  for _, r in ipairs(rows) do
    if r.grad_norm ~= nil and not finite(r.grad_norm) and not report:has("exploding_gradients") then
      report:add{code = "exploding_gradients", severity = "error", layer = r.name,
                 evidence = {grad_norm = tostring(r.grad_norm), when = when, per_layer = per_layer(rows, "grad_norm"),
                             per_layer_label = "gradient norm (finite ones)"},
                 message = ("%s's gradient is %s %s"):format(r.name, tostring(r.grad_norm), when),
                 fix = "optimizer = lurn.optimizers.Adam{learning_rate = 1e-3, clipnorm = 1.0}, and scaled inputs"}
      return
    end
  end
  if #list < 3 then return end
  local code, ev = rectifier_scale(rows, when)
  if code and not report:has(code) then
    local grows = code == "exploding_gradients"
    report:add{code = code, severity = "warning", layer = ev.first_layer, evidence = ev,
               message = ("through %d rectifier layers the outputs' scale goes from %.3g (%s) to %.3g (%s) %s, "
                 .. "%.3g times per layer: the gradient %s by as much on its way back to the first layers"):format(
                 ev.rectifier_layers, ev.first_output_rms, ev.first_layer, ev.last_output_rms, ev.last_layer, when,
                 ev.per_layer_gain, grows and "grows" or "shrinks"),
               fix = "kernel_initializer = \"he_normal\" in the relu layers (a gain of 1 per layer)"
                 .. (grows and ", or clipnorm = 1.0 in the optimizer" or ", or BatchNormalization")}
  end
  local first, last = list[1], list[#list]
  local rf, rl = first.grad_norm / first.weight_norm, last.grad_norm / last.weight_norm
  if rl <= 0 then return end
  local gap = rf / rl
  local names, norms = {}, {}
  for i, r in ipairs(list) do names[i], norms[i] = r.name, r.grad_norm end
  local evidence = {first_layer = first.name, last_layer = last.name, first_relative_grad = rf,
                    last_relative_grad = rl, ratio = gap, layers = names, trained_layers = #list,
                    when = when}
  evidence.grad_norms = norms
  evidence.per_layer = per_layer(list, nil, function(r) return r.grad_norm / r.weight_norm end)
  evidence.per_layer_label = "gradient norm / weight norm"
  if gap <= 1 / training.DEPTH_GAP and not report:has("vanishing_gradients") then
    report:add{code = "vanishing_gradients", severity = "warning", layer = first.name, evidence = evidence,
               message = ("relative to its weights, %s's gradient is %.2g times %s's %s: the early layers learn %.3g "
                 .. "times slower, as the gradient shrinks through %d layers"):format(first.name, gap,
                 last.name, when, 1 / gap, #list),
               fix = "activation = \"relu\" with kernel_initializer = \"he_normal\" in the hidden layers, "
                 .. "BatchNormalization, or fewer layers"}
  elseif gap >= training.DEPTH_GAP and not report:has("exploding_gradients") then
    report:add{code = "exploding_gradients", severity = "warning", layer = first.name, evidence = evidence,
               message = ("relative to its weights, %s's gradient is %.3g times %s's %s: the gradient grows through "
                 .. "%d layers"):format(first.name, gap, last.name, when, #list),
               fix = "kernel_initializer = \"glorot_uniform\" (or he_normal for relu), BatchNormalization, or "
                 .. "clipnorm = 1.0 in the optimizer"}
  end
end

-- The page's lines: {layer =, values = {one per recording}} of every layer, a stat over
-- the recordings (NaN where a recording lacks it).
local function layer_curves(rows_by_step, key)
  local out, by_name = {}, {}
  for step, rows in ipairs(rows_by_step) do
    for _, r in ipairs(rows) do
      if r[key] ~= nil then
        local c = by_name[r.name]
        if not c then
          c = {layer = r.name, values = {}}
          for i = 1, step - 1 do c.values[i] = 0 / 0 end
          by_name[r.name], out[#out + 1] = c, c
        end
        c.values[step] = r[key]
      end
    end
    for _, c in ipairs(out) do c.values[step] = c.values[step] or 0 / 0 end
  end
  return out
end

--- exploding_gradients over time: a layer's gradient norm grown GROWTH times from the
-- first recorded step (rows_by_step: a list of row lists, in order). The growth counts
-- from the larger of the layer's own first norm and the largest any layer had then: a
-- layer that starts far below the others (a vanishing gradient) and rises to their scale
-- is recovering, not exploding.
function training.growth(report, rows_by_step)
  if #rows_by_step < 2 or report:has("exploding_gradients") then return end
  local start, largest = {}, 0
  for _, r in ipairs(rows_by_step[1]) do
    if finite(r.grad_norm) and r.grad_norm > 0 then
      start[r.name] = r.grad_norm
      largest = math.max(largest, r.grad_norm)
    end
  end
  for step = 2, #rows_by_step do
    for _, r in ipairs(rows_by_step[step]) do
      local g0 = start[r.name]
      if g0 and finite(r.grad_norm) and r.grad_norm >= training.GROWTH * math.max(g0, largest) then
        report:add{code = "exploding_gradients", severity = "warning", layer = r.name,
                   evidence = {grad_norm_start = g0, grad_norm = r.grad_norm, growth = r.grad_norm / g0,
                               largest_start_norm = largest, layer_curves = layer_curves(rows_by_step, "grad_norm"),
                               layer_curves_label = "gradient norm"},
                   message = ("%s's gradient norm grew %.3g times during training (%.3g -> %.3g), past 100 times the "
                     .. "largest any layer had at the start (%.3g)"):format(r.name, r.grad_norm / g0, g0, r.grad_norm,
                     largest),
                   fix = "clipnorm = 1.0 in the optimizer, a lower learning_rate, or BatchNormalization"}
        return
      end
    end
  end
end

--- overfitting from a run's checkpoints {train =, val =} (losses, in order): the
-- validation loss has risen from its lowest point while the training loss kept falling.
-- The rise counts when it takes back more than `tolerance` (a share) of what the
-- validation loss had gained from the first checkpoint to its lowest point, and is above
-- 2% of that lowest loss (the checkpoints' noise) -> added or not.
function training.overfitting(report, points, tolerance)
  tolerance = tolerance or 0.1
  if #points < 3 then return end
  for _, p in ipairs(points) do
    if not (finite(p.val) and finite(p.train)) then return end
  end
  -- a trend, not a wobble: with enough checkpoints (6 or more) each is read as the mean of
  -- a window of 3 (its neighbours), and the last as the mean of the last 3; the rise must
  -- also exceed twice the checkpoints' own noise, from the median step between neighbours
  -- (a class-weighted model's validation loss swings 0.1 to 1.4 between checkpoints)
  local n = #points
  local w = n >= 6 and 3 or 1
  local function mean(key, from, to)
    local s = 0
    for i = from, to do s = s + points[i][key] end
    return s / (to - from + 1)
  end
  local function smooth(key, i)
    local h = (w - 1) // 2
    local from, to = math.max(1, i - h), math.min(n, i + h)
    return mean(key, from, to)
  end
  local best, at
  for i = 1, n - w + 1 do
    local v = smooth("val", i)
    if best == nil or v < best then best, at = v, i end
  end
  local last_val, last_train = mean("val", n - w + 1, n), mean("train", n - w + 1, n)
  if at >= n - w + 1 then return end
  local noise = 0
  if n >= 6 then
    local steps = {}
    for i = 2, n do steps[#steps + 1] = math.abs(points[i].val - points[i - 1].val) end
    table.sort(steps)
    -- a step between neighbours has sqrt(2) times one point's noise; a mean of w points
    -- 1/sqrt(w) of it; two such means differ by sqrt(2/w) of it
    noise = 2 * steps[(#steps + 1) // 2] / math.sqrt(2) * math.sqrt(2 / w)
  end
  local rise, gained = last_val - best, smooth("val", 1) - best
  local last = {val = last_val, train = last_train}
  if rise > tolerance * gained and rise > 0.02 * best and rise > noise and last.train < smooth("train", at) then
    local train, val, steps = {}, {}, {}
    for i, p in ipairs(points) do
      train[i], val[i], steps[i] = p.train or 0 / 0, p.val or 0 / 0, p.epoch or p.step or i
    end
    report:add{code = "overfitting", severity = "warning",
               evidence = {best_val_loss = best, best_at = points[at].step or at, final_val_loss = last.val,
                           train_loss_at_best = smooth("train", at), final_train_loss = last.train, window = w,
                           checkpoint_noise = noise,
                           loss_curve = train, val_loss_curve = val, loss_steps = steps,
                           loss_x_label = points[1].epoch and "epoch" or "step"},
               message = ("the validation loss rose from %.4g to %.4g while the training loss fell from %.4g to %.4g: "
                 .. "the model learns the training samples rather than the task"):format(best, last.val,
                 smooth("train", at), last.train),
               fix = "callbacks = {lurn.callbacks.EarlyStopping{monitor = \"val_loss\", patience = 3, "
                 .. "restore_best_weights = true}}, Dropout(0.3), kernel_regularizer = lurn.regularizers.l2(1e-4), "
                 .. "or more data"}
  end
end

return training
