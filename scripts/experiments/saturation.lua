--- Lesson 10, saturation: deep sigmoid and tanh networks, the gradient per layer, and ReLU.
--
-- The seeds: "Sigmoid and tanh functions can saturate, leading to vanishing gradients,
-- especially in deeper networks." A multilayer perceptron of 10 hidden layers of 64
-- units on a subset of Fashion-MNIST is built with sigmoid, tanh or ReLU in every hidden
-- layer (Keras' glorot_uniform kernels), and once more with tanh and large initial
-- weights (random_normal, stddev 0.5) so that its units start saturated; all train with
-- SGD and momentum from the same seed. Before the first update model:layer_stats gives
-- each layer's gradient norm (compared as the root mean square per weight, since the
-- first layer has 784 inputs and the others 64) and its saturated fraction (outputs
-- within 0.01 of the activation's bounds); a LayerStats callback follows both during
-- training. The conclusion computes, per network, how much smaller the first layer's
-- gradient was than the last hidden layer's, how saturated the units were, and whether
-- the network learned, and says so where the expected vanishing is not there.
--
--   build/lurn scripts/experiments/saturation.lua [--tiny|--quick|--full] [--out DIR]
package.path = "scripts/experiments/?.lua;" .. package.path
local lesson = require "lesson"
local kit = require "kit"
local lurn = require "lurn"
local L = lurn.layers

local VARIANTS = {
  {name = "sigmoid", activation = "sigmoid"},
  {name = "tanh", activation = "tanh"},
  {name = "tanh, large weights", activation = "tanh", stddev = 0.5},
  {name = "relu", activation = "relu"},
}

local function build(v, depth, width)
  local layers = {}
  for i = 1, depth do
    layers[i] = L.Dense(width, {activation = v.activation, input_shape = i == 1 and {784} or nil,
                                kernel_initializer = v.stddev and lurn.initializers.RandomNormal{stddev = v.stddev} or nil})
  end
  layers[#layers + 1] = L.Dense(10, {activation = "softmax"})
  local m = lurn.Sequential(layers)
  return m:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0.01, momentum = 0.9},
                   loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
end

-- Per hidden layer (the Dense layers but the output): the gradient's root mean square per
-- weight and the saturated fraction, from model:layer_stats on the probe.
local function hidden_stats(model, probe)
  local rms, sat = {}, {}
  for _, row in ipairs(model:layer_stats(probe.x, probe.y)) do
    if row.type == "Dense" then
      local n = model:get_layer(row.name):count_params()
      rms[#rms + 1] = row.grad_norm and row.grad_norm / math.sqrt(n)
      sat[#sat + 1] = row.saturated_fraction
    end
  end
  rms[#rms], sat[#sat] = nil, nil  -- the output layer
  return rms, sat
end

local function mean(list)
  local total, n = 0, 0
  for _, v in ipairs(list) do
    if kit.finite(v) then total, n = total + v, n + 1 end
  end
  return n > 0 and total / n or nil
end

-- The doctor's cases (lesson.lua): the lesson's 10-deep stacks.
local function doctor(ctx)
  local d = kit.fashion{train = ctx.doctor.train, val = ctx.doctor.val}
  local expect = {sigmoid = "vanishing_gradients", ["tanh, large weights"] = "saturation"}
  local list = {}
  for _, v in ipairs(VARIANTS) do
    list[#list + 1] = {name = v.name, expect = expect[v.name], fixed = not expect[v.name], build = function()
      return build(v, 10, 64), d.train.x, d.train.y, {validation_data = {d.val.x, d.val.y}}
    end}
  end
  return list
end

local function run(ctx)
  kit.one_thread()
  local sizes = ctx.pick{
    tiny = {train = 300, val = 100, epochs = 2, depth = 4, width = 16, every = 3},
    quick = {train = 12000, val = 3000, epochs = 10, depth = 10, width = 64, every = 75},
    full = {train = 50000, val = 10000, epochs = 20, depth = 10, width = 64, every = 200},
  }
  local d = kit.fashion{train = sizes.train, val = sizes.val}
  local probe = {x = d.train.x:narrow(1, 1, 256):contiguous(), y = d.train.y:narrow(1, 1, 256):contiguous()}
  ctx.log("%d networks of %d hidden layers, %d epochs on %d images", #VARIANTS, sizes.depth, sizes.epochs, sizes.train)
  local per = {}
  for i, v in ipairs(VARIANTS) do
    lurn.manual_seed(ctx.seed)
    local model = build(v, sizes.depth, sizes.width)
    local rms0, sat0 = hidden_stats(model, probe)
    local stats = lurn.callbacks.LayerStats{every = sizes.every}
    local r = kit.fit(model, d.train, d.val, {epochs = sizes.epochs, callbacks = {stats}})
    local rms1, sat1 = hidden_stats(model, probe)
    local records = {}
    for _, row in ipairs(stats.records) do
      if row.name ~= model.layers[#model.layers].name then records[#records + 1] = row end
    end
    per[i] = {name = v.name, rms0 = rms0, sat0 = sat0, rms_end = rms1, sat_end = sat1, records = records,
              final_loss = r.final_loss, final_val_accuracy = r.final_val_accuracy,
              best_val_accuracy = r.best_val_accuracy, history = r.history, nan = r.nan,
              ratio0 = rms0[1] and rms0[#rms0] and rms0[#rms0] > 0 and rms0[1] / rms0[#rms0] or nil,
              ratio_end = rms1[1] and rms1[#rms1] and rms1[#rms1] > 0 and rms1[1] / rms1[#rms1] or nil}
  end

  local depth = sizes.depth
  local rows = {}
  for i, p in ipairs(per) do
    rows[i] = {p.name, kit.cell(p.rms0[1]), kit.cell(p.rms0[depth]), kit.cell(p.ratio0), kit.cell(mean(p.sat0)),
               kit.cell(p.ratio_end), kit.cell(mean(p.sat_end)), kit.cell(p.final_loss), kit.cell(p.final_val_accuracy)}
  end

  -- the conclusion
  local s = {}
  local chance = math.log(10)
  for _, p in ipairs(per) do
    local text
    local ratio = p.ratio0
    if not kit.finite(ratio) then
      text = ("%s: no gradient ratio (a layer had no gradient)"):format(p.name)
    elseif ratio < 0.01 then
      text = ("%s: at step 0 the first hidden layer's gradient (RMS per weight) was %s x smaller than the last hidden "
        .. "layer's: the gradient vanished on its way down"):format(p.name, kit.num(1 / ratio))
    elseif ratio < 0.5 then
      text = ("%s: at step 0 the first hidden layer's gradient was %s x smaller than the last's: some fading, no "
        .. "collapse"):format(p.name, kit.num(1 / ratio))
    elseif ratio <= 2 then
      text = ("%s: at step 0 the first and last hidden layers' gradients were within 2 x of each other (%s): no "
        .. "vanishing"):format(p.name, kit.num(ratio))
    else
      text = ("%s: at step 0 the first hidden layer's gradient was %s x the last's, larger, not vanishing"):format(
        p.name, kit.num(ratio))
    end
    local sat0, sat1 = mean(p.sat0), mean(p.sat_end)
    if kit.finite(sat0) then
      text = text .. ("; %s of the hidden outputs saturated at the start, %s at the end"):format(kit.pct(sat0),
        kit.pct(sat1))
    end
    if p.nan or not kit.finite(p.final_loss) then
      text = text .. "; its loss became NaN or infinite"
    elseif p.final_loss > 0.95 * chance then
      text = text .. ("; its training loss ended at %s, the level of guessing (%s): it did not learn"):format(
        kit.num(p.final_loss), kit.num(chance))
    else
      text = text .. ("; it reached %s validation accuracy"):format(kit.pct(p.final_val_accuracy))
    end
    s[#s + 1] = text .. "."
  end
  local by = {}
  for _, p in ipairs(per) do by[p.name] = p end
  local sig, relu = by.sigmoid, by.relu
  if kit.finite(sig.ratio0) and kit.finite(relu.ratio0) and relu.ratio0 > 0 then
    local factor = relu.ratio0 / sig.ratio0
    if factor >= 10 then
      local text = ("Swapping sigmoid for ReLU made the ratio of the first to the last hidden layer's gradient %s x "
        .. "larger: sigmoid's slope is at most 0.25, so each layer multiplies the gradient by a quarter or less"):format(
        kit.num(factor))
      local sat = mean(sig.sat0)
      if kit.finite(sat) and sat < 0.05 then
        text = text .. (", and with only %s of its outputs saturated the slope alone did it here; saturated units "
          .. "(slope near 0) would make it worse"):format(kit.pct(sat))
      end
      s[#s + 1] = text .. "."
    else
      s[#s + 1] = ("Between sigmoid and ReLU the ratio of the first to the last hidden layer's gradient differed by only "
        .. "%s x here: no clear vanishing at this depth."):format(kit.num(factor))
    end
  end
  local tl = by["tanh, large weights"]
  if kit.finite(mean(tl.sat0)) and kit.finite(mean(by.tanh.sat0)) then
    s[#s + 1] = ("Large initial weights left %s of the tanh outputs saturated at the start against %s with "
      .. "glorot_uniform; it ended at %s validation accuracy against %s."):format(kit.pct(mean(tl.sat0)),
      kit.pct(mean(by.tanh.sat0)), kit.pct(tl.final_val_accuracy), kit.pct(by.tanh.final_val_accuracy))
  end

  -- plots
  local plots = {}
  local g0 = {}
  for _, p in ipairs(per) do g0[#g0 + 1] = {y = p.rms0, label = p.name} end
  plots[#plots + 1] = kit.plot(ctx, "lines", "grad_rms_step0.png", {logy = true, xlabel = "hidden layer (input side first)",
    ylabel = "gradient RMS per weight", title = "gradient per hidden layer at step 0", table.unpack(g0)},
    "step 0: gradient (root mean square per weight) of each hidden layer, log scale")
  local labels = {}
  for k = 1, depth do labels[k] = tostring(k) end
  local bars = {}
  for _, p in ipairs(per) do
    local values = {}
    for k = 1, depth do values[k] = p.sat0[k] or 0 end
    bars[#bars + 1] = {labels = #bars == 0 and labels or nil, values = values, label = p.name}
  end
  plots[#plots + 1] = kit.plot(ctx, "bars", "saturated_step0.png", {xlabel = "hidden layer", ylabel = "saturated share",
    title = "saturated outputs per hidden layer at step 0 (none for relu)", table.unpack(bars)},
    "step 0: share of each hidden layer's outputs within 0.01 of the activation's bounds")
  plots[#plots + 1] = kit.plot_layer_stats(ctx, sig.records, "grad_norm_sigmoid.png",
    {stat = "grad_norm", title = "sigmoid network: gradient norm per layer during training"},
    "sigmoid network: each layer's gradient norm during training (LayerStats, log scale)")
  plots[#plots + 1] = kit.plot_layer_stats(ctx, relu.records, "grad_norm_relu.png",
    {stat = "grad_norm", title = "relu network: gradient norm per layer during training"},
    "relu network: each layer's gradient norm during training (LayerStats, log scale)")
  local curves = {}
  for _, p in ipairs(per) do curves[#curves + 1] = {y = p.history.loss or {}, label = p.name} end
  plots[#plots + 1] = kit.plot(ctx, "lines", "loss.png", {xlabel = "epoch", ylabel = "training loss",
    title = "training loss", table.unpack(curves)}, "training loss per epoch")

  local results = {}
  for i, p in ipairs(per) do
    results[i] = {name = p.name, grad_rms_step0 = p.rms0, saturated_step0 = p.sat0, grad_rms_end = p.rms_end,
                  saturated_end = p.sat_end, first_over_last_step0 = p.ratio0, first_over_last_end = p.ratio_end,
                  final_loss = p.final_loss, final_val_accuracy = p.final_val_accuracy, history = p.history}
  end
  return {
    compared = ("Multilayer perceptrons of %d hidden layers of %d units on %d Fashion-MNIST images (validated on %d), "
      .. "with sigmoid, tanh or relu in every hidden layer (glorot_uniform kernels), and tanh with large initial "
      .. "weights (random_normal, stddev 0.5); %d epochs of SGD (0.01, momentum 0.9) from the same seed. "
      .. "`model:layer_stats` on 256 training images before the first update and after the last: each hidden layer's "
      .. "gradient as its root mean square per weight (the norm over the square root of the layer's parameter count, "
      .. "since the first layer has 784 inputs and the others %d), and the share of outputs within 0.01 of the "
      .. "activation's bounds (saturated); `lurn.callbacks.LayerStats` every %d batches during training."):format(
      depth, sizes.width, sizes.train, sizes.val, sizes.epochs, sizes.width, sizes.every),
    tables = {{caption = "per network: gradients and saturation of the hidden layers",
               header = {"network", "grad RMS layer 1, step 0", ("grad RMS layer %d, step 0"):format(depth),
                         "layer 1 / last, step 0", "saturated, step 0", "layer 1 / last, end", "saturated, end",
                         "final loss", "final val accuracy"}, rows = rows}},
    plots = plots,
    conclusion = kit.join(s),
    results = {depth = depth, width = sizes.width, networks = results},
  }
end

return lesson.main{name = "saturation", title = "Saturation and vanishing gradients", run = run, doctor = doctor}
