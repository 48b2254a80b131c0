--- Lesson 8, initialization: zeros, a small normal, Glorot and He in a deep ReLU network.
--
-- The seeds: "improper initialization, such as setting all weights to zero, can hinder
-- learning. Common strategies include Glorot/Xavier initialization and He
-- initialization, which are designed to prevent vanishing or exploding gradients." A
-- multilayer perceptron of 8 hidden ReLU layers (128 units each) on a subset of
-- Fashion-MNIST is built four times, every kernel drawn from zeros, random_normal(0.05),
-- glorot_uniform (Keras' default) or he_normal, and trained with SGD and momentum from the
-- same seed (lurn.experiments.compare). Before the first update, model:layer_stats on a
-- batch gives each layer's activation spread and gradient norm: zeros leave every
-- hidden unit at 0 with no gradient, a small normal shrinks the signal layer after layer,
-- Glorot halves its variance at each ReLU, He keeps it. The section tabulates those
-- numbers and the learning curves, and the conclusion says, from them, how far each
-- initializer's signal fell by the last hidden layer and which ones learned.
--
--   build/lurn scripts/experiments/initialization.lua [--tiny|--quick|--full] [--out DIR]
package.path = "scripts/experiments/?.lua;" .. package.path
local lesson = require "lesson"
local kit = require "kit"
local lurn = require "lurn"
local L = lurn.layers

local INITIALIZERS = {
  {name = "zeros", make = function() return lurn.initializers.Zeros() end},
  {name = "random_normal(0.05)", make = function() return lurn.initializers.RandomNormal{stddev = 0.05} end},
  {name = "glorot_uniform", make = function() return lurn.initializers.GlorotUniform() end},
  {name = "he_normal", make = function() return lurn.initializers.HeNormal() end},
}

local function builder(depth, width, init)
  return function()
    local layers = {}
    for i = 1, depth do
      layers[i] = L.Dense(width, {activation = "relu", kernel_initializer = init(),
                                  input_shape = i == 1 and {784} or nil})
    end
    layers[#layers + 1] = L.Dense(10, {activation = "softmax", kernel_initializer = init()})
    local m = lurn.Sequential(layers)
    return m:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0.01, momentum = 0.9},
                     loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
  end
end

-- The hidden layers' rows of layer_stats (the Dense layers but the last), each with
-- grad_rms: the gradient norm over the square root of the layer's parameter count (the
-- first layer has 784 inputs, the others `width`: root mean squares compare).
local function hidden_rows(model, x, y)
  local rows = {}
  for _, row in ipairs(model:layer_stats(x, y)) do
    if row.type == "Dense" then
      row.grad_rms = row.grad_norm and row.grad_norm / math.sqrt(model:get_layer(row.name):count_params())
      rows[#rows + 1] = row
    end
  end
  rows[#rows] = nil  -- the output layer
  return rows
end

-- The doctor's cases (lesson.lua): the lesson's 8-deep ReLU stack under each initializer.
local function doctor(ctx)
  local d = kit.fashion{train = ctx.doctor.train, val = ctx.doctor.val}
  local expect = {zeros = "symmetric_initialization", ["random_normal(0.05)"] = "vanishing_gradients"}
  local list = {}
  for _, init in ipairs(INITIALIZERS) do
    list[#list + 1] = {name = init.name, expect = expect[init.name], fixed = not expect[init.name], build = function()
      return builder(8, 128, init.make)(), d.train.x, d.train.y, {validation_data = {d.val.x, d.val.y}}
    end}
  end
  return list
end

local function run(ctx)
  kit.one_thread()
  local sizes = ctx.pick{
    tiny = {train = 300, val = 100, epochs = 2, depth = 4},
    quick = {train = 12000, val = 3000, epochs = 10, depth = 8},
    full = {train = 50000, val = 10000, epochs = 20, depth = 8},
  }
  local width = 128
  local d = kit.fashion{train = sizes.train, val = sizes.val}
  local probe = {x = d.train.x:narrow(1, 1, 256):contiguous(), y = d.train.y:narrow(1, 1, 256):contiguous()}

  -- step 0: the same weights compare will start from (it seeds before each build)
  local step0 = {}
  for i, init in ipairs(INITIALIZERS) do
    lurn.manual_seed(ctx.seed)
    local rows = hidden_rows(builder(sizes.depth, width, init.make)(), probe.x, probe.y)
    local act, grad, dead = {}, {}, {}
    for k, row in ipairs(rows) do act[k], grad[k], dead[k] = row.act_std, row.grad_rms, row.dead_fraction end
    step0[i] = {name = init.name, act_std = act, grad_rms = grad, dead_fraction = dead}
  end
  ctx.log("4 initializers, %d hidden layers, %d epochs on %d images", sizes.depth, sizes.epochs, sizes.train)
  local configs = {}
  for i, init in ipairs(INITIALIZERS) do configs[i] = {name = init.name, build = builder(sizes.depth, width, init.make)} end
  local result = lurn.experiments.compare(configs, d.train.x, d.train.y, {
    epochs = sizes.epochs, seed = ctx.seed, validation_data = {d.val.x, d.val.y}, plots = ctx.out,
    title = "Initialization",
  })

  local depth, mid = sizes.depth, sizes.depth // 2
  local rows, per = {}, {}
  for i, r in ipairs(result.runs) do
    local z = step0[i]
    local first_loss = r.history.loss and r.history.loss[1]
    per[i] = {name = r.name, step0 = z, final_loss = r.final_loss, best_val_loss = r.best_val_loss,
              final_val_accuracy = r.final_val_metric, first_epoch_loss = first_loss, history = r.history,
              diverged = r.diverged or false}
    rows[i] = {r.name, kit.cell(z.act_std[1]), kit.cell(z.act_std[mid]), kit.cell(z.act_std[depth]),
               kit.cell(z.grad_rms[1]), kit.cell(z.grad_rms[depth]), kit.cell(z.dead_fraction[depth]),
               kit.cell(first_loss), kit.cell(r.final_loss), kit.cell(r.best_val_loss), kit.cell(r.final_val_metric)}
  end

  -- the conclusion
  local s = {}
  local chance = math.log(10)
  for _, p in ipairs(per) do
    local a1, an = p.step0.act_std[1], p.step0.act_std[depth]
    local text
    if not kit.finite(a1) or a1 == 0 then
      text = ("With %s the hidden activations were exactly 0 at step 0 (std %s in the first layer, gradient %s "
        .. "in the first and %s in the last hidden layer)"):format(p.name, kit.num(a1), kit.num(p.step0.grad_rms[1]),
        kit.num(p.step0.grad_rms[depth]))
    else
      local ratio = an / a1
      text = ("With %s the activation std went from %s in the first hidden layer to %s in layer %d (%s)"):format(
        p.name, kit.num(a1), kit.num(an), depth,
        ratio < 0.1 and ("%.2g x: the signal fades layer after layer"):format(ratio)
        or (ratio > 10 and ("%.3g x: the signal explodes"):format(ratio)
        or ("%.2g x: the signal keeps its scale"):format(ratio)))
      local g1, gn = p.step0.grad_rms[1], p.step0.grad_rms[depth]
      if kit.finite(g1) and kit.finite(gn) and gn > 0 then
        text = text .. (", and the first layer's gradient (RMS per weight) was %s x the last hidden layer's"):format(
          kit.num(g1 / gn))
      end
    end
    local learned
    if p.diverged then
      learned = "; the run diverged"
    elseif kit.finite(p.final_loss) and p.final_loss > 0.95 * chance then
      learned = ("; its training loss ended at %s, near the %s of guessing among 10 classes: it did not learn"):format(
        kit.num(p.final_loss), kit.num(chance))
    else
      local stuck = 0  -- epochs at the loss of guessing before it started to learn
      for _, v in ipairs(p.history.loss or {}) do
        if not (kit.finite(v) and v > 0.95 * chance) then break end
        stuck = stuck + 1
      end
      learned = stuck > 0 and ("; its training loss stayed at the level of guessing for %d epoch%s, then it reached %s "
        .. "validation accuracy"):format(stuck, stuck == 1 and "" or "s", kit.pct(p.final_val_accuracy))
        or ("; it reached %s validation accuracy (training loss %s after the first epoch)"):format(
        kit.pct(p.final_val_accuracy), kit.num(p.first_epoch_loss))
    end
    s[#s + 1] = text .. learned .. "."
  end
  local best
  for _, p in ipairs(per) do
    if not p.diverged and kit.finite(p.final_val_accuracy) and (best == nil or p.final_val_accuracy > best.final_val_accuracy) then
      best = p
    end
  end
  if best then
    local by = {}
    for _, p in ipairs(per) do by[p.name] = p end
    local he, gl = by.he_normal, by.glorot_uniform
    s[#s + 1] = ("%s ended best (%s)."):format(best.name, kit.pct(best.final_val_accuracy))
    if kit.finite(he.final_val_accuracy) and kit.finite(gl.final_val_accuracy) then
      local diff = he.final_val_accuracy - gl.final_val_accuracy
      if math.abs(diff) < 0.01 then
        s[#s + 1] = ("he_normal and glorot_uniform ended within a point (%s and %s): at this depth Glorot's fading "
          .. "is mild enough for SGD with momentum to recover."):format(kit.pct(he.final_val_accuracy),
          kit.pct(gl.final_val_accuracy))
      else
        s[#s + 1] = ("he_normal ended %.1f points %s glorot_uniform."):format(100 * math.abs(diff),
          diff > 0 and "above" or "below")
      end
    end
  end

  local plots = kit.experiment_plots(ctx, result.plots, "compare", {
    val_loss = "validation loss per epoch", loss = "training loss per epoch",
  })
  local act_series, grad_series = {}, {}
  for _, z in ipairs(step0) do
    act_series[#act_series + 1] = {y = z.act_std, label = z.name}
    grad_series[#grad_series + 1] = {y = z.grad_rms, label = z.name}
  end
  plots[#plots + 1] = kit.plot(ctx, "lines", "act_std_step0.png", {logy = true, xlabel = "hidden layer",
    ylabel = "activation std", title = "activation std per hidden layer at step 0", table.unpack(act_series)},
    "step 0: activation std per hidden layer (log scale; zeros cannot be drawn on it)")
  plots[#plots + 1] = kit.plot(ctx, "lines", "grad_rms_step0.png", {logy = true, xlabel = "hidden layer",
    ylabel = "gradient RMS per weight", title = "gradient per hidden layer at step 0", table.unpack(grad_series)},
    "step 0: gradient (root mean square per weight) per hidden layer (log scale; zeros cannot be drawn on it)")
  local acc = {}
  for _, r in ipairs(result.runs) do acc[#acc + 1] = {y = r.history.val_accuracy or {}, label = r.name} end
  plots[#plots + 1] = kit.plot(ctx, "lines", "val_accuracy.png", {xlabel = "epoch", ylabel = "validation accuracy",
    title = "validation accuracy", table.unpack(acc)}, "validation accuracy per epoch")

  return {
    compared = ("A multilayer perceptron of %d hidden ReLU layers of %d units on %d Fashion-MNIST images (validated on "
      .. "%d), every kernel drawn from one initializer: zeros, random_normal(stddev 0.05), glorot_uniform (Keras' "
      .. "default) or he_normal; biases zero. Step 0: `model:layer_stats` on 256 training images before any update "
      .. "(activation std over the layer's outputs; the gradient of its weights as a root mean square per weight, its "
      .. "norm over the square root of its parameter count, since the first layer has 784 inputs and the others %d; "
      .. "the share of units dead on every image). Then %d epochs of SGD (0.01, momentum 0.9) from those weights (`lurn.experiments.compare`)."):format(
      sizes.depth, width, sizes.train, sizes.val, width, sizes.epochs),
    tables = {{caption = "per initializer: step 0 and after training",
               header = {"initializer", "act std layer 1", ("act std layer %d"):format(mid),
                         ("act std layer %d"):format(depth), "grad RMS layer 1", ("grad RMS layer %d"):format(depth),
                         ("dead share layer %d"):format(depth), "loss after epoch 1", "final loss", "best val loss", "final val accuracy"},
               rows = rows}},
    plots = plots,
    conclusion = kit.join(s),
    results = {depth = depth, width = width, initializers = per},
  }
end

return lesson.main{name = "initialization", title = "Weight initialization in a deep ReLU network", run = run, doctor = doctor}
