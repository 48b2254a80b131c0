--- Lesson 11, overfitting: a large network on a small subset, and what narrows the gap.
--
-- The seeds: "Overfitting occurs when a model learns the training data too well ...
-- common with complex models and small datasets. Techniques like L1 and L2
-- regularization, dropout, and early stopping are commonly used", with their
-- kernel_regularizer=l2(0.01) and Dropout(0.5). A multilayer perceptron with two hidden
-- layers of 256 ReLU units, far more weights than a thousand Fashion-MNIST images need,
-- is trained for many epochs five ways from the same seed: with nothing, with L2 on every
-- kernel, with Dropout(0.5) after each hidden layer, with both, and with nothing but
-- EarlyStopping(val_loss, restore_best_weights). After training each model is measured
-- in inference mode on its training images, on held-out validation images and on the
-- test set, with the cross-entropy computed from its predictions (the L2 penalty, which
-- Keras adds to the reported loss, left out so that the numbers compare). The conclusion
-- reads the train/validation gap of each, by how much each remedy narrowed it against
-- nothing, whether that bought accuracy on the test set, and where EarlyStopping stopped.
--
--   build/lurn scripts/experiments/overfitting.lua [--tiny|--quick|--full] [--out DIR]
package.path = "scripts/experiments/?.lua;" .. package.path
local lesson = require "lesson"
local kit = require "kit"
local lurn = require "lurn"
local L = lurn.layers

local L2 = 0.001

local function build(width, opts, steps)
  local reg = opts.l2 and lurn.regularizers.l2(L2) or nil
  local layers = {L.Dense(width, {activation = "relu", input_shape = {784}, kernel_regularizer = reg})}
  if opts.dropout then layers[#layers + 1] = L.Dropout(0.5) end
  layers[#layers + 1] = L.Dense(width, {activation = "relu", kernel_regularizer = reg})
  if opts.dropout then layers[#layers + 1] = L.Dropout(0.5) end
  layers[#layers + 1] = L.Dense(10, {activation = "softmax", kernel_regularizer = reg})
  local m = lurn.Sequential(layers)
  -- the rate decays to 0 over the run, so that the final weights are not wherever the last
  -- noisy steps of a small training set happened to leave them
  local rate = lurn.optimizers.schedules.CosineDecay(0.001, steps)
  return m:compile{optimizer = lurn.optimizers.Adam{learning_rate = rate}, loss = "sparse_categorical_crossentropy",
                   metrics = {"accuracy"}}
end

-- Cross-entropy and accuracy of the model's predictions on part, in inference mode,
-- without any weight penalty.
local function measure(model, part)
  local p = model:predict(part.x, {batch_size = 256})
  local n = part.x:size(1)
  local onehot = part.y:reshape(n, 1):eq(lurn.arange(10):reshape(1, 10))
  local ce = -((p * onehot):sum(2):clamp(1e-7, 1):log():mean())
  local predicted = p:argmax(2):reshape(n) - 1
  local acc = predicted:eq(part.y):mean()
  return ce, acc
end

-- The doctor's cases (lesson.lua): the lesson's 1000 training images, the network with
-- nothing against it and with L2 and Dropout; the probe as long as the lesson's quick run.
local function doctor(ctx)
  local train = ctx.mode == "tiny" and 200 or 1000
  local d = kit.fashion{train = train, val = ctx.doctor.val}
  local epochs = 50  -- the lesson's quick run: the rise shows after about 15 epochs
  local function case(name, opts, expect)
    return {name = name, expect = expect, fixed = not expect, epochs = epochs, seconds = 4, build = function()
      return build(256, opts, math.ceil(train / 32) * epochs), d.train.x, d.train.y,
        {validation_data = {d.val.x, d.val.y}}
    end}
  end
  return {case("nothing", {}, "overfitting"), case(("L2 %g + Dropout 0.5"):format(L2), {l2 = true, dropout = true})}
end

local function run(ctx)
  kit.one_thread()
  local sizes = ctx.pick{
    tiny = {train = 200, val = 200, test = 200, epochs = 4, patience = 1, width = 64},
    quick = {train = 1000, val = 2000, test = 2000, epochs = 50, patience = 5, width = 256},
    full = {train = 2000, val = 10000, test = 10000, epochs = 150, patience = 10, width = 512},
  }
  local d = kit.fashion{train = sizes.train, val = sizes.val, test = sizes.test}
  local variants = {
    {name = "nothing", opts = {}},
    {name = ("L2 %g"):format(L2), opts = {l2 = true}},
    {name = "Dropout 0.5", opts = {dropout = true}},
    {name = ("L2 %g + Dropout 0.5"):format(L2), opts = {l2 = true, dropout = true}},
    {name = "EarlyStopping", opts = {early = true}},
  }
  ctx.log("%d variants, up to %d epochs on %d images", #variants, sizes.epochs, sizes.train)
  local per = {}
  for i, v in ipairs(variants) do
    lurn.manual_seed(ctx.seed)
    local model = build(sizes.width, v.opts, math.ceil(sizes.train / 32) * sizes.epochs)
    local callbacks
    if v.opts.early then
      callbacks = {lurn.callbacks.EarlyStopping{monitor = "val_loss", patience = sizes.patience,
                                                restore_best_weights = true}}
    end
    local r = kit.fit(model, d.train, d.val, {epochs = sizes.epochs, batch_size = 32, callbacks = callbacks})
    local train_ce, train_acc = measure(model, d.train)
    local val_ce, val_acc = measure(model, d.val)
    local test_ce, test_acc = measure(model, d.test)
    per[i] = {name = v.name, epochs_run = r.epochs_run, best_epoch = r.best_epoch, train_ce = train_ce,
              train_accuracy = train_acc, val_ce = val_ce, val_accuracy = val_acc, test_ce = test_ce,
              test_accuracy = test_acc, gap = val_ce - train_ce, accuracy_gap = train_acc - val_acc,
              history = r.history, seconds = r.seconds}
  end

  local rows = {}
  for i, p in ipairs(per) do
    rows[i] = {p.name, p.epochs_run, kit.cell(p.best_epoch), kit.cell(p.train_ce), kit.cell(p.val_ce), kit.cell(p.gap),
               kit.cell(p.train_accuracy), kit.cell(p.val_accuracy), kit.cell(p.accuracy_gap), kit.cell(p.test_accuracy)}
  end

  -- the conclusion
  local s = {}
  local none = per[1]
  local h = none.history.val_loss or {}
  local best_val, best_at = kit.min(h)
  local text = ("With nothing, the network ended at %s training accuracy against %s on validation (cross-entropy "
    .. "%s against %s, a gap of %s)"):format(kit.pct(none.train_accuracy), kit.pct(none.val_accuracy),
    kit.num(none.train_ce), kit.num(none.val_ce), kit.num(none.gap))
  if best_val and h[#h] and h[#h] > 1.1 * best_val then
    text = text .. ("; its validation loss was lowest at epoch %d (%s) and rose to %s by epoch %d: it memorised the "
      .. "training images"):format(best_at, kit.num(best_val), kit.num(h[#h]), #h)
  elseif none.gap < 0.1 and none.accuracy_gap < 0.02 then
    text = text .. "; no clear overfitting in this run"
  end
  s[#s + 1] = text .. "."
  for i = 2, #per do
    local p = per[i]
    local narrowed = none.gap > 0 and 1 - p.gap / none.gap
    local t = ("%s: gap %s"):format(p.name, kit.num(p.gap))
    if narrowed and narrowed >= 0.1 then
      t = t .. (", %.0f%% narrower than with nothing"):format(100 * narrowed)
    elseif narrowed and narrowed <= -0.1 then
      t = t .. (", %.0f%% wider than with nothing"):format(-100 * narrowed)
    else
      t = t .. ", about as wide as with nothing"
    end
    local diff = p.test_accuracy - none.test_accuracy
    t = t .. ("; test accuracy %s (%s)"):format(kit.pct(p.test_accuracy),
      math.abs(diff) < 0.005 and "the same as with nothing" or ("%+.1f points"):format(100 * diff))
    if p.name == "EarlyStopping" then
      if p.epochs_run < sizes.epochs then
        t = t .. ("; it stopped after epoch %d of %d and went back to the weights of epoch %d"):format(p.epochs_run,
          sizes.epochs, p.best_epoch or 0)
      else
        t = t .. ("; it never stopped (the validation loss kept improving within %d epochs)"):format(sizes.patience)
      end
    end
    s[#s + 1] = t .. "."
  end
  local best
  for _, p in ipairs(per) do
    if kit.finite(p.test_accuracy) and (best == nil or p.test_accuracy > best.test_accuracy) then best = p end
  end
  if best then
    if best == none then
      s[#s + 1] = ("No remedy beat nothing on the test set in this run (%s): the gap narrowed without buying "
        .. "accuracy."):format(kit.pct(none.test_accuracy))
    else
      local gain = best.test_accuracy - none.test_accuracy
      if gain < 0.005 then
        local calm
        for i = 2, #per do
          if kit.finite(per[i].test_ce) and (calm == nil or per[i].test_ce < calm.test_ce) then calm = per[i] end
        end
        local text = ("On the test set no remedy gained half a point over nothing (the best, %s, %.2f%% against "
          .. "%.2f%%): here narrowing the gap bought no accuracy"):format(best.name, 100 * best.test_accuracy,
          100 * none.test_accuracy)
        if calm and calm.test_ce < 0.9 * none.test_ce then
          text = text .. (", only a model less overconfident on unseen images (test cross-entropy %s with %s against "
            .. "%s with nothing)"):format(kit.num(calm.test_ce), calm.name, kit.num(none.test_ce))
        end
        s[#s + 1] = text .. "."
      else
        s[#s + 1] = ("Best on the test set: %s (%s, %+.1f points over nothing)."):format(best.name,
          kit.pct(best.test_accuracy), 100 * gain)
      end
    end
  end

  -- plots
  local plots = {}
  local acc_series = {}
  for _, p in ipairs(per) do
    acc_series[#acc_series + 1] = {y = p.history.val_accuracy or {}, label = p.name}
  end
  plots[#plots + 1] = kit.plot(ctx, "lines", "val_accuracy.png", {xlabel = "epoch", ylabel = "validation accuracy",
    title = "validation accuracy per epoch", table.unpack(acc_series)}, "validation accuracy per epoch")
  plots[#plots + 1] = kit.plot(ctx, "history", "history_nothing.png", {history = {
    loss = none.history.loss, val_loss = none.history.val_loss, accuracy = none.history.accuracy,
    val_accuracy = none.history.val_accuracy}, title = "with nothing"},
    "with nothing: training and validation loss and accuracy per epoch")
  local labels, train_ce, val_ce = {}, {}, {}
  for i, p in ipairs(per) do labels[i], train_ce[i], val_ce[i] = p.name, p.train_ce, p.val_ce end
  plots[#plots + 1] = kit.plot(ctx, "bars", "train_val_loss.png", {xlabel = "variant", ylabel = "cross-entropy",
    title = "after training: training and validation cross-entropy (no penalty)",
    {labels = labels, values = train_ce, label = "training"}, {values = val_ce, label = "validation"}},
    "after training: training and validation cross-entropy per variant (the gap is the overfitting)")

  local results = {}
  for i, p in ipairs(per) do
    results[i] = {name = p.name, epochs_run = p.epochs_run, best_epoch = p.best_epoch, train_ce = p.train_ce,
                  val_ce = p.val_ce, test_ce = p.test_ce, gap = p.gap, train_accuracy = p.train_accuracy,
                  val_accuracy = p.val_accuracy, test_accuracy = p.test_accuracy, accuracy_gap = p.accuracy_gap,
                  history = p.history}
  end
  return {
    compared = ("A multilayer perceptron with two hidden layers of %d ReLU units (%d weights) trained on only %d "
      .. "Fashion-MNIST images for up to %d epochs (Adam, its rate decaying from 0.001 to 0 along a cosine over the run, "
      .. "batch 32), validated on %d other training-set images, "
      .. "from the same seed: with nothing; with L2 (%g) on every kernel; with Dropout(0.5) after each hidden layer; "
      .. "with both; and with nothing but `EarlyStopping{monitor = \"val_loss\", patience = %d, "
      .. "restore_best_weights = true}`. After training, each model's cross-entropy and accuracy were computed from "
      .. "its predictions (inference mode, no weight penalty) on its training images, the validation images and %d "
      .. "test-set images; the gap is validation minus training cross-entropy."):format(sizes.width,
      784 * sizes.width + sizes.width * sizes.width + sizes.width * 10 + 2 * sizes.width + 10, sizes.train,
      sizes.epochs, sizes.val, L2, sizes.patience, sizes.test),
    tables = {{caption = "after training (cross-entropy without the L2 penalty)",
               header = {"variant", "epochs run", "best val epoch", "train loss", "val loss", "gap (val - train)",
                         "train accuracy", "val accuracy", "accuracy gap", "test accuracy"}, rows = rows}},
    plots = plots,
    conclusion = kit.join(s),
    results = {variants = results},
  }
end

return lesson.main{name = "overfitting", title = "Overfitting and regularization", run = run, doctor = doctor}
