--- Lesson 9, dying_relu: a learning rate high enough to kill ReLU units, and the
-- activations that keep a gradient where ReLU has none.
--
-- The seeds: "ReLU ... might suffer from the dying ReLU problem, where neurons become
-- inactive for most inputs. Alternatives such as Leaky ReLU can alleviate this issue",
-- written as a Keras Lambda layer computing max(0.01 x, x). A multilayer perceptron of
-- four hidden layers of 256 units on a subset of Fashion-MNIST, each Dense layer followed
-- by its activation layer, is trained with Adam at a rate 10 x the default: with ReLU,
-- with LeakyReLU (Keras' alpha 0.3, and 0.01), with the seeds' Lambda form of leaky ReLU
-- (0.01), and with ELU; ReLU at the default rate is the reference. A LayerStats callback
-- records each activation layer's dead fraction (units exactly 0 on the whole batch)
-- during training, and at each epoch's end every hidden layer's pre-activations are read
-- on a fixed probe of images to count the units that are negative on every one of them:
-- dead for ReLU (no gradient ever reaches them again), parked but alive for the leaky
-- forms and ELU. The conclusion says, from those numbers, how many units the high rate
-- killed, whether they came back, whether the alternatives trained better, and that the
-- Lambda form computes what LeakyReLU{alpha = 0.01} does, at its own cost in time.
--
--   build/lurn scripts/experiments/dying_relu.lua [--tiny|--quick|--full] [--out DIR]
package.path = "scripts/experiments/?.lua;" .. package.path
local lesson = require "lesson"
local kit = require "kit"
local lurn = require "lurn"
local L = lurn.layers

local HIGH, LOW = 0.01, 0.001

local VARIANTS = {
  {name = "ReLU, Adam 0.001 (reference)", lr = LOW, act = function() return L.ReLU() end},
  {name = "ReLU", lr = HIGH, act = function() return L.ReLU() end},
  {name = "LeakyReLU 0.3", lr = HIGH, act = function() return L.LeakyReLU{alpha = 0.3} end},
  {name = "LeakyReLU 0.01", lr = HIGH, act = function() return L.LeakyReLU{alpha = 0.01} end},
  {name = "Lambda leaky 0.01 (seeds)", lr = HIGH,
   act = function() return L.Lambda(function(x) return lurn.maximum(x * 0.01, x) end) end},
  {name = "ELU", lr = HIGH, act = function() return L.ELU{} end},
}

local function build(variant, depth, width)
  local layers = {}
  for i = 1, depth do
    layers[#layers + 1] = L.Dense(width, {input_shape = i == 1 and {784} or nil})
    layers[#layers + 1] = variant.act()
  end
  layers[#layers + 1] = L.Dense(10, {activation = "softmax"})
  local m = lurn.Sequential(layers)
  return m:compile{optimizer = lurn.optimizers.Adam{learning_rate = variant.lr},
                   loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
end

-- Per hidden layer, the share of units whose pre-activation (the Dense output feeding an
-- activation layer) is <= 0 on every image of x: in inference mode, layer by layer.
local function negative_shares(model, x)
  local out, h = {}, x
  local layers = model.layers
  for i, layer in ipairs(layers) do
    h = layer(h)
    local next_layer = layers[i + 1]
    if layer.class_name == "Dense" and next_layer and next_layer.class_name ~= "Dense" then
      out[#out + 1] = h:max(1):le(0):mean()
    end
  end
  return out
end

local function mean(list)
  local total, n = 0, 0
  for _, v in ipairs(list) do
    if kit.finite(v) then total, n = total + v, n + 1 end
  end
  return n > 0 and total / n or nil
end

local function shares_text(list)
  local parts = {}
  for i, v in ipairs(list) do parts[i] = ("%.2f"):format(v) end
  return table.concat(parts, " / ")
end

-- The activation layers' dead fractions from model:layer_stats on the probe, in order.
local function dead_fractions(model, probe)
  local out = {}
  for _, row in ipairs(model:layer_stats(probe.x, probe.y)) do
    if row.type ~= "Dense" and row.dead_fraction ~= nil then out[#out + 1] = row.dead_fraction end
  end
  return out
end

-- The doctor's cases (lesson.lua): ReLU at the high rate; LeakyReLU at that rate, which
-- keeps the units alive but, as the lesson measures, stays below ReLU at the default rate
-- (quick mode: 80.7% against 84.8%): the rate is the fault left, lr_too_high; ReLU at 0.001.
local function doctor(ctx)
  local d = kit.fashion{train = ctx.doctor.train, val = ctx.doctor.val}
  local function case(i, expect)
    local v = VARIANTS[i]
    return {name = v.name .. (v.lr == HIGH and ", Adam 0.01" or ""), expect = expect, fixed = not expect, build = function()
      return build(v, 4, 256), d.train.x, d.train.y, {validation_data = {d.val.x, d.val.y}, batch_size = 64}
    end}
  end
  return {case(2, "dead_relu"), case(3, "lr_too_high"), case(1)}
end

local function run(ctx)
  kit.one_thread()
  local sizes = ctx.pick{
    tiny = {train = 300, val = 100, epochs = 2, depth = 2, width = 32, every = 2},
    quick = {train = 8000, val = 2000, epochs = 6, depth = 4, width = 256, every = 25},
    full = {train = 50000, val = 10000, epochs = 15, depth = 4, width = 256, every = 100},
  }
  local d = kit.fashion{train = sizes.train, val = sizes.val}
  local probe = d.val
  ctx.log("%d variants, %d epochs on %d images", #VARIANTS, sizes.epochs, sizes.train)
  local per, plots = {}, {}
  for i, v in ipairs(VARIANTS) do
    lurn.manual_seed(ctx.seed)
    local model = build(v, sizes.depth, sizes.width)
    local stats = lurn.callbacks.LayerStats{every = sizes.every}
    local by_epoch = {}
    local watch = {on_epoch_end = function(self) by_epoch[#by_epoch + 1] = negative_shares(self.model, probe.x) end}
    local r = kit.fit(model, d.train, d.val, {epochs = sizes.epochs, batch_size = 64, callbacks = {stats, watch}})
    local records = {}
    for _, row in ipairs(stats.records) do
      if row.type ~= "Dense" and row.type ~= "Flatten" then records[#records + 1] = row end
    end
    per[i] = {name = v.name, learning_rate = v.lr, final_loss = r.final_loss, final_val_loss = r.final_val_loss,
              final_val_accuracy = r.final_val_accuracy, best_val_accuracy = r.best_val_accuracy, seconds_per_epoch = r.seconds / math.max(1, r.epochs_run),
              negative_by_epoch = by_epoch, negative_final = by_epoch[#by_epoch] or {},
              dead_final = dead_fractions(model, probe), history = r.history, nan = r.nan,
              layer_stats = records}
  end

  -- tables
  local rows = {}
  for i, p in ipairs(per) do
    rows[i] = {p.name, p.learning_rate, kit.cell(p.final_loss), kit.cell(p.final_val_accuracy), kit.cell(p.best_val_accuracy),
               shares_text(p.dead_final), shares_text(p.negative_final), kit.cell(mean(p.negative_final)),
               kit.cell(p.seconds_per_epoch)}
  end
  local epoch_rows = {}
  for e = 1, sizes.epochs do
    local row = {e}
    for _, p in ipairs(per) do row[#row + 1] = kit.cell(p.negative_by_epoch[e] and mean(p.negative_by_epoch[e])) end
    epoch_rows[e] = row
  end
  local epoch_header = {"epoch"}
  for _, p in ipairs(per) do epoch_header[#epoch_header + 1] = p.name end

  -- the conclusion
  local s = {}
  local ref, relu = per[1], per[2]
  local ref_neg, relu_neg = mean(ref.negative_final), mean(relu.negative_final)
  local relu_first = relu.negative_by_epoch[1] and mean(relu.negative_by_epoch[1])
  if kit.finite(relu_neg) and kit.finite(ref_neg) then
    if relu_neg >= 0.1 and relu_neg >= 2 * math.max(ref_neg, 0.01) then
      s[#s + 1] = ("At Adam %g, ReLU ended with %s of its hidden units dead on every probe image (per layer %s), "
        .. "against %s at %g: the large steps pushed their biases and weights to where no input turns them on, and "
        .. "their gradient is 0 from then on."):format(HIGH, kit.pct(relu_neg), shares_text(relu.negative_final),
        kit.pct(ref_neg), LOW)
    else
      s[#s + 1] = ("At Adam %g, ReLU ended with %s of its hidden units dead against %s at %g: the high rate did not "
        .. "kill clearly more units in this run."):format(HIGH, kit.pct(relu_neg), kit.pct(ref_neg), LOW)
    end
    if kit.finite(relu_first) then
      if relu_neg >= relu_first - 0.02 then
        s[#s + 1] = ("They did not come back: %s after the first epoch, %s at the end."):format(kit.pct(relu_first),
          kit.pct(relu_neg))
      else
        s[#s + 1] = ("Some came back as the other layers moved: %s after the first epoch, %s at the end."):format(
          kit.pct(relu_first), kit.pct(relu_neg))
      end
    end
  end
  for i = 3, #per do
    local p = per[i]
    local neg, first = mean(p.negative_final), p.negative_by_epoch[1] and mean(p.negative_by_epoch[1])
    local text = ("%s: %s of units negative on every image at the end%s"):format(p.name, kit.pct(neg),
      kit.finite(first) and (" (%s after epoch 1)"):format(kit.pct(first)) or "")
    if p.nan or not kit.finite(p.final_loss) then
      text = text .. "; its loss became NaN or infinite"
    elseif kit.finite(relu.best_val_accuracy) and kit.finite(p.best_val_accuracy) then
      local diff = p.best_val_accuracy - relu.best_val_accuracy
      text = text .. ("; best validation accuracy %s, %s ReLU's %s at the same rate"):format(kit.pct(p.best_val_accuracy),
        math.abs(diff) < 0.01 and "within a point of" or (("%.1f points %s"):format(100 * math.abs(diff),
        diff > 0 and "above" or "below")), kit.pct(relu.best_val_accuracy))
    end
    s[#s + 1] = text .. "."
  end
  local better = {}
  for i = 3, #per do
    local p = per[i]
    if kit.finite(p.best_val_accuracy) and kit.finite(relu.best_val_accuracy)
      and p.best_val_accuracy >= relu.best_val_accuracy + 0.01 then better[#better + 1] = p.name end
  end
  if #better == 0 then
    s[#s + 1] = ("None of the alternatives beat ReLU's best validation accuracy by a point at this rate: with %s of "
      .. "its units dead, ReLU's live units were enough for this task."):format(kit.pct(relu_neg))
  else
    s[#s + 1] = ("%s beat ReLU by a point or more at this rate."):format(table.concat(better, ", "))
  end
  if kit.finite(ref.best_val_accuracy) and kit.finite(relu.best_val_accuracy) then
    local diff = ref.best_val_accuracy - relu.best_val_accuracy
    if diff >= 0.01 then
      local top = true
      for i = 3, #per do
        if kit.finite(per[i].best_val_accuracy) and per[i].best_val_accuracy > ref.best_val_accuracy then top = false end
      end
      s[#s + 1] = ("ReLU at the default rate %g reached %s, %.1f points above the high rate: lowering the rate is %s."):format(
        LOW, kit.pct(ref.best_val_accuracy), 100 * diff, top and "the fix that paid most here" or "a fix too")
    else
      s[#s + 1] = ("ReLU at the default rate %g reached %s, within a point of the high rate's %s: the dead units cost "
        .. "no measurable accuracy here, only units the model no longer uses."):format(LOW,
        kit.pct(ref.best_val_accuracy), kit.pct(relu.best_val_accuracy))
    end
  end
  local leaky, lambda = per[4], per[5]
  if kit.finite(leaky.final_loss) and kit.finite(lambda.final_loss) then
    local same = math.abs(leaky.final_loss - lambda.final_loss) <= 1e-4 * math.max(1, math.abs(leaky.final_loss))
    s[#s + 1] = ("The seeds' Lambda form %s LeakyReLU{alpha = 0.01} (final loss %s against %s) at %s x its time per "
      .. "epoch: the layer runs in C, the Lambda in Lua through lurn.autograd."):format(
      same and "trained exactly as" or "did not train exactly as", kit.num(lambda.final_loss, "%.6g"),
      kit.num(leaky.final_loss, "%.6g"), kit.num(lambda.seconds_per_epoch / leaky.seconds_per_epoch))
  end

  -- plots
  plots[#plots + 1] = kit.plot_layer_stats(ctx, relu.layer_stats, "dead_relu_high_lr.png",
    {stat = "dead_fraction", logy = false, title = ("ReLU at Adam %g: dead fraction per layer (LayerStats)"):format(HIGH)},
    ("ReLU at Adam %g: each layer's dead fraction on the training batch during training"):format(HIGH))
  plots[#plots + 1] = kit.plot_layer_stats(ctx, ref.layer_stats, "dead_relu_reference.png",
    {stat = "dead_fraction", logy = false, title = ("ReLU at Adam %g: dead fraction per layer (LayerStats)"):format(LOW)},
    ("ReLU at Adam %g (reference): dead fraction per layer during training"):format(LOW))
  local series = {}
  for _, p in ipairs(per) do
    local ys = {}
    for e, shares in ipairs(p.negative_by_epoch) do ys[e] = mean(shares) or 0 / 0 end
    series[#series + 1] = {y = ys, label = p.name}
  end
  plots[#plots + 1] = kit.plot(ctx, "lines", "negative_share.png", {xlabel = "epoch",
    ylabel = "share of hidden units", title = "hidden units negative on every probe image", table.unpack(series)},
    "share of hidden units whose input is negative on every probe image, per epoch (dead for ReLU)")
  local labels = {}
  for k = 1, sizes.depth do labels[k] = "layer " .. k end
  local bars = {}
  for _, p in ipairs(per) do
    local values = {}
    for k = 1, sizes.depth do values[k] = p.negative_final[k] or 0 / 0 end
    bars[#bars + 1] = {labels = #bars == 0 and labels or nil, values = values, label = p.name}
  end
  plots[#plots + 1] = kit.plot(ctx, "bars", "negative_share_per_layer.png", {xlabel = "hidden layer",
    ylabel = "share of units", title = "units negative on every probe image, after training", table.unpack(bars)},
    "after training: per layer, the share of units negative on every probe image")
  local acc = {}
  for _, p in ipairs(per) do acc[#acc + 1] = {y = p.history.val_accuracy or {}, label = p.name} end
  plots[#plots + 1] = kit.plot(ctx, "lines", "val_accuracy.png", {xlabel = "epoch", ylabel = "validation accuracy",
    title = "validation accuracy", table.unpack(acc)}, "validation accuracy per epoch")

  local results = {}
  for i, p in ipairs(per) do
    results[i] = {name = p.name, learning_rate = p.learning_rate, final_loss = p.final_loss,
                  final_val_accuracy = p.final_val_accuracy, seconds_per_epoch = p.seconds_per_epoch,
                  dead_final = p.dead_final, negative_final = p.negative_final, negative_by_epoch = p.negative_by_epoch,
                  history = p.history}
  end
  return {
    compared = ("A multilayer perceptron with %d hidden layers of %d units (each Dense layer followed by its "
      .. "activation layer) on %d Fashion-MNIST images, trained %d epochs (batch 64) from the same seed with Adam at "
      .. "%g, 10 x the default, using ReLU, LeakyReLU (alpha 0.3, Keras' default, and 0.01), the seeds' Lambda layer "
      .. "computing `lurn.maximum(x * 0.01, x)`, and ELU; ReLU at Adam's default %g is the reference. "
      .. "`lurn.callbacks.LayerStats` recorded each activation layer's dead fraction every %d batches; at each epoch's "
      .. "end the hidden layers' pre-activations were computed on %d held-out probe images, counting the units "
      .. "negative on all of them (a dead unit for ReLU; for the leaky forms and ELU a unit that still gets a "
      .. "gradient)."):format(sizes.depth, sizes.width, sizes.train, sizes.epochs, HIGH, LOW, sizes.every, sizes.val),
    tables = {
      {caption = "after training (per hidden layer, input side first)",
       header = {"variant", "learning rate", "final loss", "final val accuracy", "best val accuracy",
                 "dead fraction (layer_stats)",
                 "negative on every probe image", "mean negative share", "seconds per epoch"}, rows = rows},
      {caption = "mean share of hidden units negative on every probe image, per epoch", header = epoch_header,
       rows = epoch_rows},
    },
    plots = plots,
    conclusion = kit.join(s),
    results = {variants = results},
  }
end

return lesson.main{name = "dying_relu", title = "Dying ReLU", run = run, doctor = doctor}
