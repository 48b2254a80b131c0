-- ModelCheckpoint and BackupAndRestore (lua/lurn/training/checkpoints.lua), as Keras 2's:
-- the file path's placeholders, every option on a stub model (mode, save_best_only with
-- ties and thresholds, save_weights_only, save_freq in batches), real files that load, a
-- run killed mid-way that resumes from its last finished epoch bit for bit with
-- EarlyStopping's counters, and the get_state/set_state hook.
local lurn = require "lurn"
local cp = require "lurn.training.checkpoints"
local L = lurn.layers
local checkpoints_format = require("lurn.training.checkpoints").format_path
local C = lurn.callbacks

local dir
local function path_of(name)
  if not dir then
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p '" .. dir .. "'"))
  end
  return dir .. "/" .. name
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return tostring(err)
end

-- A model that records what would be saved.
local function stub()
  local saved = {}
  return {save = function(_, p) saved[#saved + 1] = "model " .. p end,
          save_weights = function(_, p) saved[#saved + 1] = "weights " .. p end}, saved
end

-- Drives a callback through epochs with these logs, as fit would.
local function run(cb, logs_per_epoch)
  local model, saved = stub()
  cb.model = model
  cb:on_train_begin({})
  for e, logs in ipairs(logs_per_epoch) do
    cb:on_epoch_begin(e - 1, {})
    cb:on_epoch_end(e - 1, logs)
  end
  return saved
end

describe("ModelCheckpoint's file path", function()
  it("formats Keras' placeholders: {epoch} counts from 1", function()
    assert.equal("m-03-0.1235.lurn", cp.format_path("m-{epoch:02d}-{val_loss:.4f}.lurn", 2, {val_loss = 0.123456}))
    assert.equal("m-1-0.1-7.lurn", cp.format_path("m-{epoch}-{loss}-{n}.lurn", 0, {loss = 0.1, n = 7}))
    assert.equal("a-12.5%", cp.format_path("a-{acc:.1%}", 0, {acc = 0.125}))
    assert.equal("plain.lurn", cp.format_path("plain.lurn", 4, {}))
  end)

  it("names a placeholder the logs do not have, and a format it cannot give", function()
    assert.matches("names {val_acc}, which the logs do not have (they have: epoch, loss)",
      error_of(cp.format_path, "m-{val_acc}.lurn", 0, {loss = 1}), 1, true)
    assert.matches("the placeholder {loss:>10x} in 'm-{loss:>10x}' has a format lurn does not know",
      error_of(cp.format_path, "m-{loss:>10x}", 0, {loss = 1}), 1, true)
    assert.matches("asks for an integer, but loss is 0.5", error_of(cp.format_path, "{loss:d}", 0, {loss = 0.5}), 1, true)
  end)
end)

describe("ModelCheckpoint's options", function()
  it("saves every epoch by default, the whole model, at the formatted path", function()
    local saved = run(C.ModelCheckpoint("m{epoch}.lurn"), {{val_loss = 3}, {val_loss = 4}})
    assert.same({"model m1.lurn", "model m2.lurn"}, saved)
  end)

  it("save_weights_only saves the weights", function()
    local saved = run(C.ModelCheckpoint("w.lurn", {save_weights_only = true}), {{val_loss = 3}})
    assert.same({"weights w.lurn"}, saved)
  end)

  it("save_best_only, mode auto for a loss: strictly lower only (a tie does not save)", function()
    local cb = C.ModelCheckpoint("b{epoch}", {save_best_only = true})
    assert.equal("min", cb.mode)
    local saved = run(cb, {{val_loss = 3}, {val_loss = 2}, {val_loss = 2}, {val_loss = 2.5}, {val_loss = 1}})
    assert.same({"model b1", "model b2", "model b5"}, saved)
    assert.equal(1, cb.best)
  end)

  it("save_best_only, mode auto for an accuracy: higher is better", function()
    local cb = C.ModelCheckpoint("b{epoch}", {save_best_only = true, monitor = "val_accuracy"})
    assert.equal("max", cb.mode)
    local saved = run(cb, {{val_accuracy = 0.5}, {val_accuracy = 0.4}, {val_accuracy = 0.5}, {val_accuracy = 0.6}})
    assert.same({"model b1", "model b4"}, saved)
  end)

  it("mode = 'max' and 'min' override auto; a bad mode is an error", function()
    local saved = run(C.ModelCheckpoint("b{epoch}", {save_best_only = true, monitor = "loss", mode = "max"}),
      {{loss = 1}, {loss = 2}, {loss = 0}})
    assert.same({"model b1", "model b2"}, saved)
    saved = run(C.ModelCheckpoint("b{epoch}", {save_best_only = true, monitor = "acc", mode = "min"}),
      {{acc = 1}, {acc = 2}, {acc = 0}})
    assert.same({"model b1", "model b3"}, saved)
    assert.matches("ModelCheckpoint: mode must be 'auto', 'min' or 'max'",
      error_of(C.ModelCheckpoint, "x", {mode = "up"}), 1, true)
  end)

  it("initial_value_threshold: only a value better than it saves", function()
    local saved = run(C.ModelCheckpoint("b{epoch}", {save_best_only = true, initial_value_threshold = 2}),
      {{val_loss = 3}, {val_loss = 2}, {val_loss = 1.5}})
    assert.same({"model b3"}, saved)
  end)

  it("skips, with a warning, when the monitored value is not logged", function()
    local saved = run(C.ModelCheckpoint("b", {save_best_only = true}), {{loss = 1}})
    assert.same({}, saved)
  end)

  it("save_freq = n saves every n batches, counted across epochs", function()
    local cb = C.ModelCheckpoint("f{epoch}", {save_freq = 3})
    local model, saved = stub()
    cb.model = model
    cb:on_train_begin({})
    for e = 0, 1 do
      cb:on_epoch_begin(e, {})
      for b = 0, 3 do cb:on_train_batch_end(b, {loss = 1}) end
      cb:on_epoch_end(e, {loss = 1})
    end
    assert.same({"model f1", "model f2"}, saved)  -- after batches 3 and 6 of 8
    assert.matches("save_freq must be 'epoch' or a positive number of batches, got 0",
      error_of(C.ModelCheckpoint, "x", {save_freq = 0}), 1, true)
  end)

  it("refuses a path that is not a string", function()
    assert.matches("ModelCheckpoint: filepath must be a path", error_of(C.ModelCheckpoint, 3), 1, true)
  end)

  it("fills {batch} (batch + 1, as Keras) when it saves every so many batches", function()
    local root = os.tmpname()
    os.remove(root)
    lurn.manual_seed(3)
    local m = lurn.Sequential{L.Dense(1, {input_shape = {2}})}
    m:compile{loss = "mse", optimizer = "sgd"}
    local cb = C.ModelCheckpoint(root .. "/m-{epoch}-{batch:02d}.lurn", {save_freq = 2, save_weights_only = true})
    m:fit(lurn.randn{40, 2}, lurn.randn{40, 1}, {epochs = 1, batch_size = 10, verbose = 0, callbacks = {cb}})
    assert.equal(root .. "/m-1-04.lurn", cb.last_path)  -- batches 2 and 4 of the epoch
    assert.matches("names {batch}, which the logs do not have", error_of(checkpoints_format, "m-{batch}", 0, {}), 1,
      true)  -- saved at an epoch's end, there is no batch
    os.execute("rm -rf '" .. root .. "'")
  end)
end)

describe("ModelCheckpoint in fit", function()
  it("writes files that load, each with the weights of its epoch", function()
    lurn.manual_seed(2)
    local model = lurn.Sequential{L.Dense(4, {input_shape = {3}, activation = "relu"}), L.Dense(1)}
    model:compile{optimizer = "adam", loss = "mse"}
    local x, y = lurn.randn{20, 3}, lurn.randn{20, 1}
    local weights = {}
    local record = C.LambdaCallback{on_epoch_end = function(e) weights[e + 1] = model:get_weights() end}
    model:fit(x, y, {epochs = 3, verbose = 0, validation_split = 0.25,
                     callbacks = {C.ModelCheckpoint(path_of("ck-{epoch:02d}-{val_loss:.4f}.lurn")), record}})
    local files = {}
    for name in io.popen("ls '" .. dir .. "'"):lines() do
      if name:match("^ck%-") then files[#files + 1] = name end
    end
    table.sort(files)
    assert.equal(3, #files)
    for e, name in ipairs(files) do
      assert.matches(("^ck%%-0%d%%-%%d%%.%%d%%d%%d%%d%%.lurn$"):format(e), name)
      local loaded = lurn.models.load_model(path_of(name))
      assert.same(weights[e][1]:totable(), loaded:get_weights()[1]:totable())
    end
  end)
end)

describe("a ModelCheckpoint file resumes training exactly", function()
  it("the epoch-2 file, loaded and fitted 2 more epochs, equals 4 epochs in one go", function()
    local function make()
      lurn.manual_seed(6)
      local m = lurn.Sequential{L.Dense(5, {input_shape = {3}, activation = "relu"}), L.Dropout(0.3), L.Dense(1)}
      m:compile{optimizer = "adam", loss = "mse"}
      return m
    end
    lurn.manual_seed(1)
    local x, y = lurn.randn{24, 3}, lurn.randn{24, 1}
    local whole = make()
    whole:fit(x, y, {epochs = 4, batch_size = 5, verbose = 0,
                     callbacks = {C.ModelCheckpoint(path_of("resume-{epoch}.lurn"))}})
    local resumed = lurn.models.load_model(path_of("resume-2.lurn"))
    resumed:fit(x, y, {epochs = 4, initial_epoch = 2, batch_size = 5, verbose = 0})
    local a, b = whole:get_weights(), resumed:get_weights()
    for i = 1, #a do assert.same(a[i]:totable(), b[i]:totable()) end
  end)
end)

describe("checkpoint options", function()
  it("are checked when the callback is made, at the caller's line", function()
    local C = lurn.callbacks
    for _, case in ipairs{
      {function() C.ModelCheckpoint("m.lurn", {save_best_only = 1}) end, "save_best_only must be true or false"},
      {function() C.ModelCheckpoint("m.lurn", {save_weights_only = "yes"}) end, "save_weights_only must be"},
      {function() C.ModelCheckpoint("m.lurn", {verbose = true}) end, "verbose must be 0 or 1"},
      {function() C.ModelCheckpoint("m.lurn", {save_best_only = true, initial_value_threshold = "x"}) end,
       "initial_value_threshold must be a number"},
      {function() C.BackupAndRestore("dir", {delete_checkpoint = "no"}) end, "delete_checkpoint must be true or false"},
    } do
      local ok, err = pcall(case[1])
      assert.is_false(ok)
      assert.matches("checkpoints_spec.lua:%d+: .*" .. case[2], err)
    end
    assert.equal("max", C.ModelCheckpoint("m.lurn", {monitor = "val_f1_score_0"}).mode)  -- as EarlyStopping's
  end)

  it("make the folders a path needs, as Keras", function()
    local root = os.tmpname()
    os.remove(root)
    local m = lurn.Sequential{L.Dense(1, {input_shape = {2}})}
    m:compile{loss = "mse", optimizer = "sgd"}
    m:fit(lurn.randn{8, 2}, lurn.randn{8, 1}, {epochs = 1, verbose = 0, callbacks = {
      lurn.callbacks.ModelCheckpoint(root .. "/a/b/m-{epoch:02d}.lurn"),
      lurn.callbacks.BackupAndRestore(root .. "/x/y", {delete_checkpoint = false})}})
    for _, path in ipairs{root .. "/a/b/m-01.lurn", root .. "/x/y/backup.lurn"} do
      local f = io.open(path, "rb")
      assert.is_truthy(f, path)
      f:close()
    end
    os.execute("rm -rf '" .. root .. "'")
  end)
end)

describe("BackupAndRestore", function()
  local x, y
  before_each(function()
    lurn.manual_seed(4)
    x, y = lurn.randn{32, 3}, (lurn.rand(32) * 2):floor()
  end)

  local function make()
    lurn.manual_seed(21)
    local m = lurn.Sequential{L.Dense(6, {input_shape = {3}, activation = "relu"}), L.Dropout(0.3),
                              L.Dense(2, {activation = "softmax"})}
    m:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.05}, loss = "sparse_categorical_crossentropy"}
    return m
  end

  local function fit(model, cbs)
    return model:fit(x, y, {epochs = 5, batch_size = 8, verbose = 0, callbacks = cbs})
  end

  it("resumes a killed run from its last finished epoch, bit for bit, with EarlyStopping's counters", function()
    local whole = make()
    local es_whole = C.EarlyStopping{monitor = "loss", patience = 10, min_delta = 0.5}
    fit(whole, {es_whole, C.BackupAndRestore(path_of("backup_whole"))})
    assert.is_false(exists(path_of("backup_whole/backup.lurn")))  -- removed at the end

    local backup = path_of("backup_killed")
    local killed = make()
    local es_killed = C.EarlyStopping{monitor = "loss", patience = 10, min_delta = 0.5}
    local kill = C.LambdaCallback{on_epoch_begin = function(e) if e == 3 then error("killed", 0) end end}
    assert.matches("killed$", error_of(fit, killed, {es_killed, C.BackupAndRestore(backup), kill}))
    assert.is_true(exists(backup .. "/backup.lurn"))
    local wait_at_kill = es_killed.wait

    local again = make()  -- a new process: new objects, the same script
    local es_again = C.EarlyStopping{monitor = "loss", patience = 10, min_delta = 0.5}
    local epochs, wait_seen = {}, nil
    local watch = C.LambdaCallback{on_epoch_begin = function(e)
      epochs[#epochs + 1] = e
      wait_seen = wait_seen or es_again.wait
    end}
    local history = fit(again, {es_again, C.BackupAndRestore(backup), watch})
    assert.same({3, 4}, epochs)
    assert.same({3, 4}, history.epoch)
    assert.equal(wait_at_kill, wait_seen)
    assert.equal(es_whole.wait, es_again.wait)
    assert.equal(es_whole.best, es_again.best)
    local a, b = whole:get_weights(), again:get_weights()
    for i = 1, #a do assert.same(a[i]:totable(), b[i]:totable()) end
    assert.equal(whole.optimizer.iterations, again.optimizer.iterations)
  end)

  it("resumes a run whose learning rate ReduceLROnPlateau lowered, at that rate, bit for bit", function()
    local function plateau() return C.ReduceLROnPlateau{monitor = "loss", patience = 0, factor = 0.5, min_delta = 10} end
    local whole = make()
    fit(whole, {plateau(), C.BackupAndRestore(path_of("backup_lr_whole"))})
    local backup = path_of("backup_lr")
    local kill = C.LambdaCallback{on_epoch_begin = function(e) if e == 3 then error("killed", 0) end end}
    error_of(fit, make(), {plateau(), C.BackupAndRestore(backup), kill})
    local again = make()
    fit(again, {plateau(), C.BackupAndRestore(backup)})
    assert.equal(whole.optimizer.learning_rate, again.optimizer.learning_rate)
    local a, b = whole:get_weights(), again:get_weights()
    for i = 1, #a do assert.same(a[i]:totable(), b[i]:totable()) end
  end)

  it("resumes bit for bit with the callbacks after it in the list, as Keras' examples put them", function()
    local function stopper() return C.EarlyStopping{monitor = "loss", patience = 10, min_delta = 0.5} end
    local es_whole = stopper()
    local whole = make()
    fit(whole, {C.BackupAndRestore(path_of("backup_first_whole")), es_whole})
    local backup = path_of("backup_first")
    local kill = C.LambdaCallback{on_epoch_begin = function(e) if e == 3 then error("killed", 0) end end}
    local es_killed = stopper()
    error_of(fit, make(), {C.BackupAndRestore(backup), es_killed, kill})
    local es_again, wait_seen = stopper(), nil
    local watch = C.LambdaCallback{on_epoch_begin = function() wait_seen = wait_seen or es_again.wait end}
    local again = make()
    fit(again, {C.BackupAndRestore(backup), es_again, watch})
    assert.equal(es_killed.wait, wait_seen)  -- the state after its own epoch-2 end
    assert.equal(es_whole.wait, es_again.wait)
    local a, b = whole:get_weights(), again:get_weights()
    for i = 1, #a do assert.same(a[i]:totable(), b[i]:totable()) end
  end)

  it("gives a state back only to a callback of the class that left it", function()
    local backup = path_of("backup_kinds")
    local kill = C.LambdaCallback{on_epoch_begin = function(e) if e == 2 then error("killed", 0) end end}
    error_of(fit, make(), {C.ReduceLROnPlateau{monitor = "loss", patience = 2}, C.BackupAndRestore(backup), kill})
    local es = C.EarlyStopping{monitor = "loss", patience = 7}
    local seen
    local watch = C.LambdaCallback{on_epoch_begin = function() seen = seen or {patience = es.patience, wait = es.wait} end}
    fit(make(), {es, C.BackupAndRestore(backup), watch})
    assert.same({patience = 7, wait = 0}, seen)  -- not ReduceLROnPlateau's counters or settings
  end)

  it("starts EarlyStopping afresh when it restores best weights, which a backup does not keep", function()
    local backup = path_of("backup_best")
    local kill = C.LambdaCallback{on_epoch_begin = function(e) if e == 3 then error("killed", 0) end end}
    local function stopper() return C.EarlyStopping{monitor = "loss", patience = 10, restore_best_weights = true} end
    error_of(fit, make(), {stopper(), C.BackupAndRestore(backup), kill})
    local es, best_seen = stopper(), nil
    local watch = C.LambdaCallback{on_epoch_begin = function() if best_seen == nil then best_seen = es.best ~= nil end end}
    fit(make(), {es, C.BackupAndRestore(backup), watch})
    assert.is_false(best_seen)  -- no best (nor best epoch) without the weights that went with it
    assert.is_number(es.best)
  end)

  it("refuses to resume with another optimizer", function()
    local backup = path_of("backup_optimizer")
    local kill = C.LambdaCallback{on_epoch_begin = function(e) if e == 2 then error("killed", 0) end end}
    error_of(fit, make(), {C.BackupAndRestore(backup), kill})
    local other = make()
    other:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0.01, momentum = 0.9},
                  loss = "sparse_categorical_crossentropy"}
    assert.matches("was made training with Adam, but the model is compiled with SGD",
                   error_of(fit, other, {C.BackupAndRestore(backup)}))
  end)

  it("gives each callback its own state back when a progress bar joins the list", function()
    local backup = path_of("backup_bar")
    local es = C.EarlyStopping{monitor = "loss", patience = 10, min_delta = 0.5}
    local kill = C.LambdaCallback{on_epoch_begin = function(e) if e == 3 then error("killed", 0) end end}
    error_of(fit, make(), {es, C.BackupAndRestore(backup), kill})
    local es_again = C.EarlyStopping{monitor = "loss", patience = 10, min_delta = 0.5}
    local wait_seen
    local watch = C.LambdaCallback{on_epoch_begin = function() wait_seen = wait_seen or es_again.wait end}
    fit(make(), {C.ProgbarLogger{count_mode = "steps"}, es_again, C.BackupAndRestore(backup), watch})
    assert.equal(es.wait, wait_seen)
  end)

  it("uses a callback's own get_state/set_state when it has them", function()
    local backup = path_of("backup_hook")
    local counter = C.Callback.new{n = 0, on_epoch_end = function(self) self.n = self.n + 1 end,
                                   get_state = function(self) return {count = self.n * 10} end,
                                   set_state = function(self, s) self.restored = s.count end}
    local kill = C.LambdaCallback{on_epoch_begin = function(e) if e == 2 then error("killed", 0) end end}
    error_of(fit, make(), {counter, C.BackupAndRestore(backup), kill})
    local again = C.Callback.new{n = 0, get_state = counter.get_state, set_state = counter.set_state}
    fit(make(), {again, C.BackupAndRestore(backup)})
    assert.equal(20, again.restored)
  end)

  it("backs up a model with a Lambda layer (no architecture in the backup)", function()
    local backup = path_of("backup_lambda")
    local function make_lambda()
      lurn.manual_seed(3)
      local m = lurn.Sequential{L.Dense(4, {input_shape = {3}}), L.Lambda(function(t) return t * 0.5 end),
                                L.Dense(2, {activation = "softmax"})}
      m:compile{optimizer = "adam", loss = "sparse_categorical_crossentropy"}
      return m
    end
    local whole = make_lambda()
    fit(whole, {})
    local kill = C.LambdaCallback{on_epoch_begin = function(e) if e == 2 then error("killed", 0) end end}
    error_of(fit, make_lambda(), {C.BackupAndRestore(backup), kill})
    local again = make_lambda()
    fit(again, {C.BackupAndRestore(backup)})
    assert.same(whole:get_weights()[1]:totable(), again:get_weights()[1]:totable())
  end)

  it("keeps the backup when delete_checkpoint = false; makes its directory", function()
    local backup = path_of("backup_kept")
    fit(make(), {C.BackupAndRestore(backup, {delete_checkpoint = false})})
    assert.is_true(exists(backup .. "/backup.lurn"))
    -- a finished run's backup: starting again trains no more epochs
    local epochs = 0
    fit(make(), {C.BackupAndRestore(backup, {delete_checkpoint = false}),
                 C.LambdaCallback{on_epoch_begin = function() epochs = epochs + 1 end}})
    assert.equal(0, epochs)
  end)

  it("refuses a bad directory or a save_freq in batches", function()
    assert.matches("backup_dir must be a directory path", error_of(C.BackupAndRestore), 1, true)
    assert.matches("save_freq must be 'epoch'", error_of(C.BackupAndRestore, "d", {save_freq = 10}), 1, true)
    local file = path_of("a_file")
    io.open(file, "w"):close()
    assert.matches("a_file: cannot make a directory: a file of that name is there",
      error_of(fit, make(), {C.BackupAndRestore(file)}), 1, true)
  end)
end)
