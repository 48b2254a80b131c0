--- Lesson 14, data augmentation: a network trained on a small subset of Fashion-MNIST
-- (the first images of Debian's training file) memorises it: its training accuracy nears
-- 1 while the validation loss turns up. lurn's ImageDataGenerator (lurn.preprocessing.
-- image, Keras 2's, fed to fit through datagen:flow) shows it each image afresh every
-- epoch: rotated (rotation_range degrees), shifted (width/height_shift_range, fractions of
-- the size) and mirrored (horizontal_flip, which keeps a garment's class). Three runs from
-- the same initial weights and for the same epochs: no augmentation, mild augmentation and
-- strong augmentation. The network is dense (Flatten, Dense 256, Dense 10): it has no
-- tolerance of shifts built in, so what augmentation teaches shows; a small CNN, whose
-- pooling already tolerates small shifts, gained less in our trials. Validation images
-- come from the test file. The table gives the accuracy on the clean training images and
-- on the validation images (the gap between them is the memorising), the best and final
-- validation loss and accuracy; the curves show them per epoch; a grid shows what the
-- mild generator makes of a few images. The conclusion says, for each augmented run,
-- whether it helped (lower validation loss, higher accuracy), made no clear difference or
-- hurt (transformations too strong: images unlike the test images), from the numbers.
--
--   build/lurn scripts/experiments/augmentation.lua [--tiny|--quick|--full] [--out DIR]
-- lesson.lua and lesson_kit.lua sit beside this file
package.path = (debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. "?.lua;" .. package.path
local lesson = require "lesson"
local kit = require "lesson_kit"
local lurn = require "lurn"
local L = lurn.layers
local image = lurn.preprocessing.image

local function build(units)
  local model = lurn.Sequential{
    L.Flatten{input_shape = {28, 28, 1}},
    L.Dense(units, {activation = "relu"}),
    L.Dense(10, {activation = "softmax"}),
  }
  return model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.001},
                       loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
end

local MILD = {rotation_range = 5, width_shift_range = 0.05, height_shift_range = 0.05, horizontal_flip = true}
local STRONG = {rotation_range = 15, width_shift_range = 0.15, height_shift_range = 0.15, horizontal_flip = true}

local function describe(g)
  return ("rotation_range = %d, width_shift_range = %g, height_shift_range = %g, horizontal_flip = true"):format(
    g.rotation_range, g.width_shift_range, g.height_shift_range)
end

local function run(ctx)
  -- small dense networks: one thread is as fast as two here, and keeps its pace when other programs are
  -- busy on the cores (lurn's threads spin while they wait); run_all.lua restores the count
  lurn.set_num_threads(1)
  local size = ctx.pick{
    tiny = {train = 200, val = 300, units = 32, epochs = 3, batch = 32},
    quick = {train = 1000, val = 2000, units = 256, epochs = 120, batch = 32},
    full = {train = 2000, val = 10000, units = 256, epochs = 200, batch = 32},
  }
  local d = kit.fashion{train = size.train, test = size.val, flat = false}
  local variants = {
    {name = "none", generator = nil},
    {name = "mild", generator = MILD},
    {name = "strong", generator = STRONG},
  }
  local rows, curves, train_curves, by = {}, {}, {}, {}
  for i, v in ipairs(variants) do
    lurn.manual_seed(ctx.seed)  -- the same initial weights for every run
    local model = build(size.units)
    local fit_opts = {epochs = size.epochs, validation_data = {d.x_test, d.y_test}}
    local r
    if v.generator then
      local gen = image.ImageDataGenerator(v.generator):flow(d.x_train, d.y_train,
        {batch_size = size.batch, seed = ctx.seed})
      r = kit.fit(model, gen, nil, fit_opts)
    else
      fit_opts.batch_size = size.batch
      r = kit.fit(model, d.x_train, d.y_train, fit_opts)
    end
    local clean = model:evaluate(d.x_train, d.y_train, {verbose = 0})
    local h = r.history
    r.name, r.train_accuracy, r.train_loss = v.name, clean.accuracy, clean.loss
    r.val_accuracy, r.val_loss = kit.last(h.val_accuracy), kit.last(h.val_loss)
    r.best_val_loss, r.best_epoch = kit.min(h.val_loss)
    r.best_val_accuracy = kit.max(h.val_accuracy)
    r.gap = r.train_accuracy - r.val_accuracy
    by[i] = r
    ctx.log("%s: validation accuracy %.4f, clean training accuracy %.4f", v.name, r.val_accuracy, r.train_accuracy)
    rows[i] = {v.name, r.train_accuracy, r.val_accuracy, r.gap, r.best_val_accuracy, r.best_val_loss, r.best_epoch,
               r.val_loss, r.seconds_per_epoch}
    curves[i] = {y = h.val_loss, label = v.name}
    train_curves[i] = {y = h.val_accuracy, label = v.name}
  end

  local plots = {}
  kit.plot(ctx, plots, "val_loss", "lines", {curves[1], curves[2], curves[3], xlabel = "epoch",
    ylabel = "validation loss", title = "validation loss with and without augmentation"},
    "Validation loss per epoch.")
  kit.plot(ctx, plots, "val_accuracy", "lines", {train_curves[1], train_curves[2], train_curves[3], xlabel = "epoch",
    ylabel = "validation accuracy", title = "validation accuracy with and without augmentation"},
    "Validation accuracy per epoch.")
  local labels, train_acc, val_acc = {}, {}, {}
  for i, r in ipairs(by) do labels[i], train_acc[i], val_acc[i] = r.name, r.train_accuracy, r.val_accuracy end
  kit.plot(ctx, plots, "gap", "bars", {{labels = labels, values = train_acc, label = "training images (clean)"},
    {values = val_acc, label = "validation images"}, xlabel = "augmentation", ylabel = "accuracy",
    title = "accuracy at the end: the gap is what was memorised"},
    "Final accuracy on the clean training images and on the validation images.")
  -- what the generator makes: 8 training images, then three draws of each
  local shown = math.min(8, size.train)
  local originals = d.x_train:narrow(1, 1, shown):contiguous()
  local gen = image.ImageDataGenerator(variants[2].generator):flow(originals, d.y_train:narrow(1, 1, shown):contiguous(),
    {batch_size = shown, shuffle = false, seed = ctx.seed})
  local grid = {originals}
  for k = 2, 4 do grid[k] = (gen()) end
  local names = {}
  for row = 1, 4 do
    for j = 1, shown do
      names[#names + 1] = row == 1 and kit.fashion_name(d.y_train:get(j)) or ("draw %d"):format(row - 1)
    end
  end
  kit.plot(ctx, plots, "examples", "images", {data = lurn.cat(grid, 1), labels = names, cols = shown,
    title = "the mild generator: " .. describe(MILD)},
    "Eight training images (top row) and three draws of the generator for each.")

  -- the conclusion, from the numbers
  local none = by[1]
  local out = {}
  local rise = none.val_loss / none.best_val_loss
  if none.best_epoch < size.epochs and rise > 1.1 then
    out[#out + 1] = ("Without augmentation the network memorised the %d images: %s accuracy on them against %s on the "
      .. "validation images, its validation loss lowest at epoch %d and %.2f x that at the end."):format(size.train,
      kit.num(none.train_accuracy, "%.3f"), kit.num(none.val_accuracy, "%.3f"), none.best_epoch, rise)
  else
    out[#out + 1] = ("Without augmentation the validation loss did not turn up clearly in %d epochs (final %.2f x its "
      .. "best, at epoch %d): the plain network had not yet overfitted (training accuracy %s, validation %s), so "
      .. "there was little for augmentation to fix."):format(size.epochs, rise, none.best_epoch,
      kit.num(none.train_accuracy, "%.3f"), kit.num(none.val_accuracy, "%.3f"))
  end
  for k = 2, #by do
    local r = by[k]
    local loss_better = r.best_val_loss < none.best_val_loss * 0.98
    local acc_change = r.best_val_accuracy - none.best_val_accuracy
    local verdict
    if loss_better and acc_change >= -0.005 then
      verdict = "helped"
    elseif r.best_val_loss > none.best_val_loss * 1.02 and acc_change < -0.005 then
      verdict = "hurt (transformations this strong may make images unlike any test image)"
    else
      verdict = "made no clear difference"
    end
    out[#out + 1] = ("The %s augmentation %s: lowest validation loss %s against %s, best validation accuracy %s "
      .. "against %s (final %s against %s), gap between training and validation accuracy %s against %s."):format(
      r.name, verdict, kit.num(r.best_val_loss), kit.num(none.best_val_loss), kit.num(r.best_val_accuracy, "%.3f"),
      kit.num(none.best_val_accuracy, "%.3f"), kit.num(r.val_accuracy, "%.3f"), kit.num(none.val_accuracy, "%.3f"),
      kit.num(r.gap, "%.3f"), kit.num(none.gap, "%.3f"))
    if r.best_epoch >= size.epochs - 1 then
      out[#out + 1] = ("It was still improving at the last epoch (best validation loss at epoch %d): augmented "
        .. "training needs more epochs than plain training."):format(r.best_epoch)
    end
  end
  local ratio = by[2].seconds_per_epoch / none.seconds_per_epoch
  out[#out + 1] = ratio > 1.1
    and ("An augmented epoch took %.2f x the time of a plain one (%s s against %s s): the transformations are drawn "
      .. "and applied on every batch."):format(ratio, kit.num(by[2].seconds_per_epoch, "%.3g"),
      kit.num(none.seconds_per_epoch, "%.3g"))
    or ("An augmented epoch took about as long as a plain one (%s s against %s s) at this size."):format(
      kit.num(by[2].seconds_per_epoch, "%.3g"), kit.num(none.seconds_per_epoch, "%.3g"))

  local results = {sizes = size, runs = {}}
  for i, r in ipairs(by) do
    results.runs[i] = {name = r.name, train_accuracy = r.train_accuracy, val_accuracy = r.val_accuracy, gap = r.gap,
                       best_val_loss = r.best_val_loss, best_epoch = r.best_epoch, val_loss = r.history.val_loss,
                       val_accuracy_curve = r.history.val_accuracy, seconds_per_epoch = r.seconds_per_epoch}
  end
  return {
    compared = ("A dense network (Flatten, Dense %d relu, Dense 10 softmax, Adam 0.001, batch %d) on the first %d "
      .. "Fashion-MNIST training images for %d epochs, validated on %d images of the test file, from the same initial "
      .. "weights (seed %d): without augmentation; mild, ImageDataGenerator{%s}; strong, ImageDataGenerator{%s}; fed "
      .. "by datagen:flow (new draws every epoch). Seconds per epoch: training batches, wall-clock (lurn.clock)."):format(
      size.units, size.batch, size.train, size.epochs, size.val, ctx.seed, describe(MILD), describe(STRONG)),
    tables = {{caption = "Accuracy at the end of training; the gap is training minus validation accuracy",
               header = {"augmentation", "training accuracy (clean images)", "validation accuracy", "gap",
                         "best validation accuracy", "best val loss", "best epoch", "final val loss",
                         "seconds per epoch"}, rows = rows}},
    plots = plots,
    conclusion = kit.sentences(out),
    results = results,
  }
end

return lesson.main{name = "augmentation", title = "Data augmentation on a small image subset", run = run}
