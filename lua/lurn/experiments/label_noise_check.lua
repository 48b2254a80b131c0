--- label_noise_check(build, x, y, {top = 20, cv =}): after training, each sample's own
-- loss; the samples with the highest loss are the suspects to inspect (a mislabelled
-- sample is one the model, having learned the rest, disagrees with confidently). With
-- cv = k, each sample's loss comes from a model that did not train on it (k folds): a
-- model that memorized the noise no longer gives it away.
local core = require "lurn.core"
local runs = require "lurn.experiments.runs"
local report = require "lurn.experiments.report"
local model_selection = require "lurn.model_selection"
local utils = require "lurn.utils"

local WHO = "label_noise_check"
local KNOWN = {"seed", "epochs", "batch_size", "validation_data", "plots", "plot_format", "verbose", "top", "cv"}
local EPS = 1e-7  -- Keras' clip of probabilities in its cross-entropies

-- Log-probabilities of a model's outputs: from logits (log-softmax) or probabilities.
local function log_probs(p, from_logits)
  if from_logits then
    local shifted = p - p:max(2, true)
    return shifted - shifted:exp():sum(2, true):log()
  end
  return p:clamp(EPS, 1 - EPS):log()
end

--- Each sample's loss (a 1-D tensor) under model's loss, from its predictions; with the
-- predicted class and its probability for classifiers (nil otherwise).
local function sample_losses(model, x, y, batch_size)
  local loss = model.loss
  local p = model:predict(x, {verbose = 0, batch_size = batch_size})
  local n = p:size(1)
  p = p:reshape(n, -1)
  local kind = loss.kind
  if kind == "sparse_categorical_crossentropy" or kind == "categorical_crossentropy" then
    local logp = log_probs(p, loss.from_logits)
    local target = kind == "categorical_crossentropy" and y:reshape(n, -1)
      or utils.to_categorical(y:reshape(n), p:size(2))
    local predicted = p:argmax(2):reshape(n) - 1
    local confidence = (logp:exp() * utils.to_categorical(predicted, p:size(2))):sum(2):reshape(n)
    return -(logp * target):sum(2):reshape(n), predicted, confidence
  end
  if kind == "binary_crossentropy" then
    local prob = loss.from_logits and p:sigmoid() or p
    prob = prob:clamp(EPS, 1 - EPS)
    local t = y:reshape(n, -1)
    local losses = -(t * prob:log() + (1 - t) * (1 - prob):log()):mean(2):reshape(n)
    if p:size(2) ~= 1 then return losses end
    local q = prob:reshape(n)
    local predicted = q:ge(0.5)
    return losses, predicted, predicted * q + (1 - predicted) * (1 - q)
  end
  if kind == "mean_squared_error" then return (p - y:reshape(n, -1)):square():mean(2):reshape(n) end
  if kind == "mean_absolute_error" then return (p - y:reshape(n, -1)):abs():mean(2):reshape(n) end
  -- any other loss: one call of the loss per sample
  local out = core.zeros{n}
  for i = 1, n do out:set(i, loss(y:narrow(1, i, 1), p:narrow(1, i, 1))) end
  return out
end

local function fit(make, opts, train, val)
  local model = runs.fresh(make, opts.seed)
  return model, runs.fit(model, train, val, opts)
end

local function conclude(result)
  local out = {}
  local s = result.suspects
  if #s == 0 then return {"No sample to rank."} end
  local median = result.median_loss
  local lowest_suspect = s[#s].loss
  out[#out + 1] = ("The %d highest-loss samples have losses %s to %s; the median sample's is %s."):format(#s,
    report.number(lowest_suspect), report.number(s[1].loss), report.number(median))
  if median > 0 and lowest_suspect < 3 * median then
    out[#out + 1] = ("Even the top suspect is not far above the median (%.3g x at the cut): no sample stands out, and "
      .. "this evidence shows no sign of mislabelled samples."):format(lowest_suspect / median)
    return out
  end
  if result.classifier then
    local confident, wrong, pairs_seen, order = 0, 0, {}, {}
    for _, v in ipairs(s) do
      if v.predicted ~= v.label then
        wrong = wrong + 1
        if v.confidence >= 0.9 then confident = confident + 1 end
        local key = ("%s -> %s"):format(report.number(v.label), report.number(v.predicted))
        if not pairs_seen[key] then order[#order + 1] = key end
        pairs_seen[key] = (pairs_seen[key] or 0) + 1
      end
    end
    out[#out + 1] = ("%d of them are predicted as another class with a probability of 0.9 or more: check their labels "
      .. "first."):format(confident)
    table.sort(order, function(a, b) return pairs_seen[a] > pairs_seen[b] or (pairs_seen[a] == pairs_seen[b] and a < b) end)
    -- one (label, predicted) pair behind 70% or more of the disagreements (3 at least)
    if order[1] and pairs_seen[order[1]] >= math.max(3, 0.7 * wrong) then
      out[#out + 1] = ("Most disagreements are one pair (labelled -> predicted %s: %d of %d): two classes swapped, or "
        .. "classes that look alike."):format(order[1], pairs_seen[order[1]], wrong)
    end
  end
  if not result.cv then
    out[#out + 1] = "These losses come from the model that trained on the samples: give cv = 5 to score each sample "
      .. "with a model that did not see it, if a long training memorized the noise."
  end
  return out
end

local function label_noise_check(build, x, y, opts)
  opts = runs.options(WHO, opts, nil, KNOWN)
  local top = opts.top == nil and 20 or runs.count(WHO, "top", opts.top)
  if opts.cv ~= nil then
    runs.count(WHO, "cv", opts.cv)
    if opts.cv < 2 then error(WHO .. ": cv must be 2 or more folds", 0) end
  end
  runs.check_data(WHO, x, y)
  x, y = x:contiguous(), y:contiguous()
  local n = x:size(1)
  local make = runs.maker(WHO, build)
  local val
  if opts.validation_data then
    runs.check_data(WHO .. ": validation_data", opts.validation_data[1], opts.validation_data[2], 1)
    val = {x = opts.validation_data[1]:contiguous(), y = opts.validation_data[2]:contiguous()}
  end
  local result = {cv = opts.cv, runs = {}}
  -- the folds' runs (one run without cv) spread over the ranks under mpirun: each gives
  -- its record and the losses of the samples it scored, as lists (plain data)
  local parts = {{}}
  if opts.cv then
    parts = {}
    for k, fold in ipairs(model_selection.KFold{n_splits = opts.cv, shuffle = true, random_state = opts.seed}:split(x)) do
      parts[k] = {train = fold[1]:totable(), scored = fold[2]:totable()}
    end
  end
  local scored = runs.each(parts, function(part, k)
    local tr, te = {x = x, y = y}, {x = x, y = y}
    if part.train then
      tr = {x = runs.rows(x, part.train), y = runs.rows(y, part.train)}
      te = {x = runs.rows(x, part.scored), y = runs.rows(y, part.scored)}
    end
    local model, record = fit(make, opts, tr, val)
    local l, p, c = sample_losses(model, te.x, te.y, opts.batch_size)
    if opts.cv then runs.say(opts, "%s: fold %d of %d", WHO, k, opts.cv) end
    return {record = record, losses = l:totable(), predicted = p and p:totable(), confidence = c and c:totable()}
  end)
  local losses, predicted, confidence = core.zeros{n}, nil, nil
  for k, part in ipairs(parts) do
    local got = scored[k]
    result.runs[k] = got.record
    if got.predicted and not predicted then predicted, confidence = core.zeros{n}, core.zeros{n} end
    for i, v in ipairs(got.losses) do
      local pos = part.scored and part.scored[i] or i
      losses:set(pos, v)
      if got.predicted then predicted:set(pos, got.predicted[i]); confidence:set(pos, got.confidence[i]) end
    end
  end
  result.history = result.runs[1].history
  result.classifier = predicted ~= nil
  result.losses = losses:totable()
  local order = {}
  for i = 1, n do order[i] = i end
  local lt = result.losses
  -- highest loss first; NaN (a model that diverged) first of all, ties by position
  local function key(v) return v ~= v and math.huge or v end
  table.sort(order, function(a, b)
    local ka, kb = key(lt[a]), key(lt[b])
    if ka ~= kb then return ka > kb end
    return a < b
  end)
  result.ranking = order
  local sorted = {}
  for i, pos in ipairs(order) do sorted[i] = lt[pos] end
  result.median_loss = sorted[math.floor((n + 1) / 2)]
  local labels = result.classifier and runs.labels(y):totable()
  local pt, ct = predicted and predicted:totable(), confidence and confidence:totable()
  result.suspects = {}
  for i = 1, math.min(top, n) do
    local pos = order[i]
    result.suspects[i] = {index = pos, loss = lt[pos], label = labels and labels[pos],
                          predicted = pt and pt[pos], confidence = ct and ct[pos]}
  end
  local rows = {}
  for i, s in ipairs(result.suspects) do
    rows[i] = {i, s.index, s.loss, s.label, s.predicted, s.confidence}
  end
  local draw
  draw, result.plots = report.plotter(WHO, opts)
  draw("history", "history", result.history, {title = "training"})
  draw("losses", "lines", {{y = sorted, label = "per-sample loss, highest first"}},
       {xlabel = "rank", ylabel = "loss", title = "per-sample losses, sorted"})
  result.conclusion = conclude(result)
  result.report = report.section("Label noise",
    ("Each of the %d samples' own loss after %d epochs%s (seed %d); the %d highest are listed (sample = its 1-based "
      .. "position in x)."):format(n, opts.epochs, opts.cv and (", out of fold (%d folds)"):format(opts.cv) or
      " of training on all of them", opts.seed, #result.suspects),
    report.table({"rank", "sample", "loss", "label", "predicted", "probability of predicted"}, rows),
    result.conclusion, result.plots)
  return result
end

return label_noise_check
