--- Lesson 12, early stopping: how long to train. A large multilayer perceptron learns a
-- small Fashion-MNIST subset (first images of Debian's training file; validation from the
-- images after them; a test part from the test file that no decision ever looks at). Four
-- runs from the same initial weights: too few epochs (the network stops while it is still
-- learning), too many (it goes on after the validation loss has turned up, memorising the
-- training images), and EarlyStopping{monitor = "val_loss", patience =} with and without
-- restore_best_weights, which stops once the validation loss has not improved for
-- `patience` epochs and, with restore_best_weights, goes back to the weights of the best
-- epoch. The table gives the epochs each ran, the best validation epoch, the training and
-- validation loss at the end, and the test loss and accuracy of the weights each run ends
-- with; the conclusion compares the test numbers of the stopped run against the other
-- three, counts the epochs saved, and says so when the validation loss never turned up
-- (nothing to stop) or when restoring did not help.
--
--   build/lurn scripts/experiments/early_stopping.lua [--tiny|--quick|--full] [--out DIR]
-- lesson.lua and lesson_kit.lua sit beside this file
package.path = (debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. "?.lua;" .. package.path
local lesson = require "lesson"
local kit = require "lesson_kit"
local lurn = require "lurn"
local L = lurn.layers

local function build(units)
  local model = lurn.Sequential{
    L.Dense(units, {input_shape = {784}, activation = "relu"}),
    L.Dense(units, {activation = "relu"}),
    L.Dense(10, {activation = "softmax"}),
  }
  return model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.001},
                       loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
end

-- The doctor's cases (lesson.lua): the lesson's network trained for many epochs; its fix,
-- EarlyStopping, is a callback of fit, which diagnose's probe does not run: the doctor can
-- only say that the validation loss rises (overfitting), whose fix is EarlyStopping.
local function doctor(ctx)
  local d = kit.fashion{train = ctx.doctor.train, val = ctx.doctor.val, flat = true}
  -- 50 epochs as the lesson's "too many": the rise shows after about 10 (some 4 s of probe)
  return {{name = "many epochs, no EarlyStopping", expect = "overfitting", epochs = 50, seconds = 7, build = function()
    return build(512), d.x_train, d.y_train, {validation_data = {d.x_val, d.y_val}}
  end}}
end

local function run(ctx)
  -- small dense networks: one thread is as fast as two here, and keeps its pace when other programs are
  -- busy on the cores (lurn's threads spin while they wait); run_all.lua restores the count
  lurn.set_num_threads(1)
  local size = ctx.pick{
    tiny = {train = 300, val = 300, test = 300, units = 64, few = 2, many = 12, patience = 2, batch = 32},
    quick = {train = 5000, val = 2000, test = 10000, units = 512, few = 2, many = 50, patience = 5, batch = 32},
    full = {train = 10000, val = 5000, test = 10000, units = 512, few = 2, many = 150, patience = 10, batch = 32},
  }
  local d = kit.fashion{train = size.train, val = size.val, test = size.test, flat = true}
  local variants = {
    {name = ("too few (%d epochs)"):format(size.few), key = "few", epochs = size.few},
    {name = ("too many (%d epochs)"):format(size.many), key = "many", epochs = size.many},
    {name = ("EarlyStopping, patience %d"):format(size.patience), key = "es", epochs = size.many,
     stop = {monitor = "val_loss", patience = size.patience}},
    {name = ("EarlyStopping, patience %d, restore_best_weights"):format(size.patience), key = "restore",
     epochs = size.many, stop = {monitor = "val_loss", patience = size.patience, restore_best_weights = true}},
  }
  local by, rows, val_curves, train_curves = {}, {}, {}, {}
  for _, v in ipairs(variants) do
    lurn.manual_seed(ctx.seed)  -- the same initial weights and shuffling for every run
    local model = build(size.units)
    local cbs, stopper = {}, nil
    if v.stop then
      stopper = lurn.callbacks.EarlyStopping(v.stop)
      cbs[1] = stopper
    end
    local r = kit.fit(model, d.x_train, d.y_train, {epochs = v.epochs, batch_size = size.batch,
                                                   validation_data = {d.x_val, d.y_val}, callbacks = cbs})
    local test = model:evaluate(d.x_test, d.y_test, {verbose = 0})
    local val = model:evaluate(d.x_val, d.y_val, {verbose = 0})
    r.name, r.test_loss, r.test_accuracy, r.val_loss_kept = v.name, test.loss, test.accuracy, val.loss
    r.best_val_loss, r.best_epoch = kit.min(r.history.val_loss)
    r.stopped_epoch = stopper and stopper.stopped_epoch > 0 and stopper.stopped_epoch + 1 or nil
    r.restored_epoch = v.stop and v.stop.restore_best_weights and r.stopped_epoch and stopper.best_epoch + 1 or nil
    by[v.key] = r
    ctx.log("%s: %d epochs, test loss %.4f, accuracy %.4f", v.name, r.epochs_run, test.loss, test.accuracy)
    rows[#rows + 1] = {v.name, r.epochs_run, r.best_epoch, r.restored_epoch or "-", kit.last(r.history.loss),
                       r.val_loss_kept, r.test_loss, r.test_accuracy}
    val_curves[#val_curves + 1] = {y = r.history.val_loss, label = v.name}
    train_curves[#train_curves + 1] = {y = r.history.loss, label = v.name}
  end

  local plots = {}
  local many = by.many
  kit.plot(ctx, plots, "curves_long_run", "history", {data = many.history, metrics = {"loss", "accuracy"},
    title = ("the %d-epoch run: training and validation"):format(size.many)},
    ("Training and validation curves of the %d-epoch run: the validation loss is lowest at epoch %d."):format(
      size.many, many.best_epoch))
  kit.plot(ctx, plots, "val_loss", "lines", {val_curves[1], val_curves[2], val_curves[3], val_curves[4],
    xlabel = "epoch", ylabel = "validation loss", title = "validation loss: where each run stops"},
    "Validation loss per epoch; each line ends where its run stopped.")
  local labels, test_losses, test_accs = {}, {}, {}
  for i, v in ipairs(variants) do
    labels[i], test_losses[i], test_accs[i] = v.key, by[v.key].test_loss, by[v.key].test_accuracy
  end
  kit.plot(ctx, plots, "test_scores", "bars", {{labels = labels, values = test_losses, label = "test loss"},
    {values = test_accs, label = "test accuracy"}, xlabel = "run", ylabel = "value",
    title = "the weights each run ends with, on the test part"},
    "Test loss and accuracy of the weights each run ends with (few, many, es: EarlyStopping, restore: with "
      .. "restore_best_weights).")

  -- the conclusion, from the numbers
  local out = {}
  local few, es, restore = by.few, by.es, by.restore
  local rise = many.val_loss_kept / many.best_val_loss
  if many.best_epoch >= size.many - 1 then
    out[#out + 1] = ("In %d epochs the validation loss was still falling (lowest at epoch %d): this network did "
      .. "not overfit in that time, so there was nothing to stop early and the lesson's effect is not shown."):format(
      size.many, many.best_epoch)
  else
    out[#out + 1] = ("Trained for %d epochs, the validation loss was lowest at epoch %d (%s) and ended at %s, "
      .. "%.2f x its best: the network went on memorising the training images (training loss %s at the end)."):format(
      size.many, many.best_epoch, kit.num(many.best_val_loss), kit.num(many.val_loss_kept), rise,
      kit.num(kit.last(many.history.loss)))
  end
  out[#out + 1] = ("After %d epochs the network had test accuracy %s (test loss %s) against %s (%s) after %d: "
    .. "%s."):format(size.few, kit.num(few.test_accuracy), kit.num(few.test_loss), kit.num(many.test_accuracy),
    kit.num(many.test_loss), size.many, few.test_accuracy < many.test_accuracy - 0.01
      and "stopping that early leaves it underfitted"
      or "stopping that early cost no accuracy here")
  if restore.stopped_epoch then
    out[#out + 1] = ("EarlyStopping with restore_best_weights stopped after epoch %d of %d (%d epochs saved) and "
      .. "went back to epoch %d: test loss %s and accuracy %s, against %s and %s for the full %d epochs."):format(
      restore.stopped_epoch, size.many, size.many - restore.epochs_run, restore.restored_epoch,
      kit.num(restore.test_loss), kit.num(restore.test_accuracy), kit.num(many.test_loss),
      kit.num(many.test_accuracy), size.many)
  else
    out[#out + 1] = ("EarlyStopping (patience %d) never stopped in %d epochs: the validation loss kept finding new "
      .. "lows, so it gave the same weights as the long run."):format(size.patience, size.many)
  end
  if not restore.stopped_epoch then
    -- nothing to compare: the stopped run is the long run
  elseif restore.test_loss < many.test_loss * 0.98 then
    out[#out + 1] = ("Its test loss is %.0f%% below the long run's"):format(100 * (1 - restore.test_loss / many.test_loss))
      .. (restore.test_accuracy >= many.test_accuracy - 0.002 and ", with no loss of accuracy." or
        (", though its accuracy is %s lower."):format(kit.num(many.test_accuracy - restore.test_accuracy)))
  else
    out[#out + 1] = ("Its test loss is not clearly below the long run's (%s against %s): here stopping early did "
      .. "not pay on the test part."):format(kit.num(restore.test_loss), kit.num(many.test_loss))
  end
  if es.stopped_epoch and restore.stopped_epoch then
    if es.test_loss > restore.test_loss * 1.02 then
      out[#out + 1] = ("Without restore_best_weights the run keeps the weights of its last epoch, %d epochs past the "
        .. "best: test loss %s against %s restored."):format(es.epochs_run - es.best_epoch, kit.num(es.test_loss),
        kit.num(restore.test_loss))
    else
      out[#out + 1] = ("Without restore_best_weights the last epoch's weights did as well on the test part (test loss "
        .. "%s against %s restored): the %d epochs of patience did little harm here."):format(kit.num(es.test_loss),
        kit.num(restore.test_loss), es.epochs_run - es.best_epoch)
    end
  end

  local results = {}
  for _, v in ipairs(variants) do
    local r = by[v.key]
    results[v.key] = {name = v.name, epochs_run = r.epochs_run, best_epoch = r.best_epoch, best_val_loss = r.best_val_loss,
                      stopped_epoch = r.stopped_epoch, restored_epoch = r.restored_epoch,
                      final_loss = kit.last(r.history.loss), val_loss = r.val_loss_kept, test_loss = r.test_loss,
                      test_accuracy = r.test_accuracy, loss = r.history.loss, val_loss_curve = r.history.val_loss}
  end
  results.sizes = size
  return {
    compared = ("A multilayer perceptron (784-%d-%d-10, Adam 0.001, batch %d) on %d Fashion-MNIST training images, "
      .. "validated on %d others after each epoch; the weights each run ends with are tested on %d images of the test "
      .. "file. Runs: %d epochs, %d epochs, and EarlyStopping on val_loss (patience %d, at most %d epochs) with and "
      .. "without restore_best_weights, all from the same initial weights (seed %d)."):format(size.units, size.units,
      size.batch, size.train, size.val, size.test, size.few, size.many, size.patience, size.many, ctx.seed),
    tables = {{caption = "Each run's length and the weights it ends with",
               header = {"run", "epochs run", "best val epoch", "restored to epoch", "final training loss",
                         "val loss (weights kept)", "test loss", "test accuracy"}, rows = rows}},
    plots = plots,
    conclusion = kit.sentences(out),
    results = results,
  }
end

return lesson.main{name = "early_stopping", title = "Early stopping: too few epochs, too many, and EarlyStopping",
                   run = run, doctor = doctor}
