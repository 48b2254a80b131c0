--- What every experiment shares: its options checked at the door, the data split once
-- into training and validation parts, models made afresh from the user's builder under a
-- fixed seed, one run of fit recorded as plain numbers, and what "diverged" means.
-- Internal (lurn.experiments is the surface; docs/api.md, "Experiments").
local core = require "lurn.core"
local options = require "lurn.options"
local random = require "lurn.random"
local optimizers = require "lurn.optimizers"
local initializers = require "lurn.initializers"
local regularizers = require "lurn.regularizers"
local model_selection = require "lurn.model_selection"
local distributed = require "lurn.distributed"

local runs = {}

--- The options every training experiment takes (lr_range_test takes a part of them).
runs.COMMON = {"seed", "epochs", "batch_size", "validation_data", "validation_split", "plots", "plot_format",
               "verbose"}

local DEFAULTS = {seed = 0, epochs = 10, batch_size = 32, validation_split = 0.2, plot_format = "png", verbose = 0}

local function fail(fmt, ...) error(fmt:format(...), 0) end

local function finite(v) return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge end
runs.finite = finite

local function describe(v)
  if core.is_tensor(v) then return "a tensor" end
  return type(v)
end

-- A value as a message shows it (epochs = "10" is not 10): lurn.text's rule.
local shown = require("lurn.text").shown
runs.shown = shown

--- A positive whole number, or an error naming the option.
function runs.count(who, key, v)
  if math.type(v) ~= "integer" or v < 1 then
    fail("%s: %s must be a positive integer, got %s", who, key, shown(v))
  end
  return v
end

--- A finite number > 0, or an error naming the option.
function runs.positive(who, key, v)
  if not finite(v) or v <= 0 then fail("%s: %s must be a finite number > 0, got %s", who, key, shown(v)) end
  return v
end

--- opts checked against COMMON plus `extra` (names), with the common ones' types; ->
-- a copy with the defaults filled in.
function runs.options(who, opts, extra, known)
  local names = {}
  for _, k in ipairs(known or runs.COMMON) do names[#names + 1] = k end
  for _, k in ipairs(extra or {}) do names[#names + 1] = k end
  options.check(opts, names, who, 1)
  local out = {}
  for k, v in pairs(DEFAULTS) do out[k] = v end
  for k, v in pairs(opts or {}) do out[k] = v end
  if math.type(out.seed) ~= "integer" then fail("%s: seed must be an integer, got %s", who, tostring(out.seed)) end
  runs.count(who, "epochs", out.epochs)
  runs.count(who, "batch_size", out.batch_size)
  local split = out.validation_split
  if type(split) ~= "number" or not (split > 0 and split < 1) then
    fail("%s: validation_split must be a number in (0, 1), got %s", who, tostring(split))
  end
  local vd = out.validation_data
  if vd ~= nil and (type(vd) ~= "table" or not core.is_tensor(vd[1]) or not core.is_tensor(vd[2])) then
    fail("%s: validation_data must be {x_val, y_val} (two tensors), got %s", who, describe(vd))
  end
  if out.plots ~= nil and (type(out.plots) ~= "string" or out.plots == "") then
    fail("%s: plots must be the path of a folder to write the plots into, got %s", who, describe(out.plots))
  end
  -- made now, not found missing when the plots are written after every run has trained
  if out.plots ~= nil and runs.writes() then
    local ok, err = pcall(require("lurn.paths").make_directories, out.plots)
    if not ok then fail("%s: plots: cannot make the folder %s: %s", who, out.plots, require("lurn.text").message(err)) end
  end
  if out.plot_format ~= "png" and out.plot_format ~= "svg" and out.plot_format ~= "gp" then
    fail("%s: plot_format must be 'png', 'svg' or 'gp', got %s", who, tostring(out.plot_format))
  end
  if type(out.verbose) ~= "number" then fail("%s: verbose must be a number, got %s", who, describe(out.verbose)) end
  return out
end

--- x and y checked: tensors with the same number of samples, at least `min` of them.
function runs.check_data(who, x, y, min)
  if not core.is_tensor(x) then fail("%s: x must be a tensor, got %s", who, describe(x)) end
  if not core.is_tensor(y) then fail("%s: y must be a tensor, got %s", who, describe(y)) end
  if x:dim() == 0 or y:dim() == 0 or x:size(1) ~= y:size(1) then
    fail("%s: x and y must have the same number of samples (first dimension), got shapes {%s} and {%s}", who,
      table.concat(x:shape(), ", "), table.concat(y:shape(), ", "))
  end
  if x:size(1) < (min or 2) then
    fail("%s: needs at least %d samples, got %d", who, min or 2, x:size(1))
  end
end

--- The training and validation parts: {x =, y =} each. validation_data is taken as it
-- is; otherwise a shuffled validation_split of the samples is held out, the same for a
-- given seed (stratified by `labels` when given, so that every class is in both parts).
function runs.split(who, x, y, opts, labels)
  runs.check_data(who, x, y)
  if opts.validation_data then
    local vx, vy = opts.validation_data[1], opts.validation_data[2]
    runs.check_data(who .. ": validation_data", vx, vy, 1)
    return {x = x:contiguous(), y = y:contiguous()}, {x = vx:contiguous(), y = vy:contiguous()}
  end
  local ok, xt, xv, yt, yv = pcall(model_selection.train_test_split, x, y,
    {test_size = opts.validation_split, random_state = opts.seed, stratify = labels})
  if not ok then fail("%s: cannot hold out validation_split = %s: %s", who, tostring(opts.validation_split),
    (tostring(xt):gsub("^[^\n]-:%d+: ", ""))) end
  return {x = xt, y = yt}, {x = xv, y = yv}
end

-- A copy of a model's compile settings, with a new optimizer object (fresh state).
local function compile_settings(model)
  local c = model:get_compile_config()
  return {optimizer = optimizers.deserialize(optimizers.serialize(model.optimizer)), loss = c.loss,
          metrics = c.metrics, loss_weights = c.loss_weights}
end

local function is_model(v)
  return type(v) == "table" and type(v.get_config) == "function" and type(v.compile) == "function"
end

--- A function(...) -> a new compiled model from `build`: a function returning a compiled
-- model (called with the arguments), or a compiled model whose config is rebuilt with
-- fresh weights. Either way the model is compiled with the same loss and metrics and a
-- new optimizer of the same settings (its state fresh).
function runs.maker(who, build)
  if is_model(build) then
    if not build.compiled then
      fail("%s: the model must be compiled (its clones train with its optimizer, loss and metrics): call "
        .. "model:compile{...} first, or give a function that returns a compiled model", who)
    end
    local cls, config = getmetatable(build), build:get_config()
    local settings = compile_settings(build)
    return function()
      local model = cls.from_config(config)
      return model:compile{optimizer = optimizers.deserialize(optimizers.serialize(settings.optimizer)),
                           loss = settings.loss, metrics = settings.metrics, loss_weights = settings.loss_weights}
    end
  end
  if type(build) ~= "function" and not (getmetatable(build) or {}).__call then
    fail("%s: build must be a function returning a compiled model, or a compiled model, got %s", who, describe(build))
  end
  return function(...)
    local model = build(...)
    if not is_model(model) then
      fail("%s: build() must return a compiled model, got %s", who, describe(model))
    end
    if not model.compiled then fail("%s: build() returned a model that is not compiled: call model:compile{...} in it", who) end
    -- a fresh optimizer of the same settings: a builder that hands every model one
    -- optimizer object would otherwise share its state between runs (and C refuses it)
    return model:compile(compile_settings(model))
  end
end

--- Seeds lurn's generator (lurn.manual_seed), then makes a model: every run of an
-- experiment starts from the same seed, so its variants share their initial weights
-- (where their shapes agree) and their shuffling, and a run repeats bit for bit.
function runs.fresh(make, seed, ...)
  random.manual_seed(seed)
  return make(...)
end

--- An optimizer from a name, an optimizer (its class and settings, new state) or its
-- serialized form, with learning_rate set when given.
function runs.optimizer(who, spec, learning_rate)
  local ok, opt = pcall(function()
    if optimizers.is_optimizer(spec) then return optimizers.deserialize(optimizers.serialize(spec)) end
    return optimizers.get(spec)
  end)
  if not ok then fail("%s: %s", who, (tostring(opt):gsub("^[^\n]-:%d+: ", ""))) end
  if learning_rate ~= nil then
    if opt._schedule then
      fail("%s: the optimizer's learning_rate is a schedule (%s); give an optimizer with a number as learning_rate",
        who, opt._schedule.class_name)
    end
    opt.learning_rate = learning_rate
  end
  return opt
end

--- The model compiled again with another optimizer (and/or learning rate); its loss and
-- metrics stay.
function runs.recompile(who, model, optimizer, learning_rate)
  if optimizer == nil and learning_rate == nil then return model end
  local opt = runs.optimizer(who, optimizer or model.optimizer, learning_rate)
  local c = model:get_compile_config()
  return model:compile{optimizer = opt, loss = c.loss, metrics = c.metrics, loss_weights = c.loss_weights}
end

-- The layers of a config that take an activation, and which of them comes last (taken
-- as the output layer, whose activation stays).
local function activation_layers(config)
  local list = {}
  for _, layer in ipairs(config.layers) do
    if type(layer.config) == "table" and layer.config.activation ~= nil then list[#list + 1] = layer.config end
  end
  return list
end

--- A variant of model: its config with every layer's kernel_initializer, the hidden
-- layers' activation (every layer with an activation but the last one), or every
-- kernel_regularizer replaced, rebuilt (fresh weights) and compiled as model was.
-- Changes that leave the config alone return model itself. With seed, the generator is
-- seeded again first, so that layers the changes leave alone start as in model.
function runs.variant(who, model, changes, seed)
  if changes.kernel_initializer == nil and changes.activation == nil and changes.kernel_regularizer == nil then
    return model
  end
  local config = model:get_config()
  local init, reg
  if changes.kernel_initializer ~= nil then
    local ok, i = pcall(initializers.get, changes.kernel_initializer)
    if not ok then fail("%s: kernel_initializer: %s", who, (tostring(i):gsub("^[^\n]-:%d+: ", ""))) end
    init = initializers.serialize(i)
  end
  if changes.kernel_regularizer ~= nil then
    local ok, r = pcall(regularizers.serialize, changes.kernel_regularizer)
    if not ok then fail("%s: kernel_regularizer must be a regularizer (lurn.regularizers.l2(1e-4)), got %s",
      who, describe(changes.kernel_regularizer)) end
    reg = r
  end
  local touched = 0
  for _, layer in ipairs(config.layers) do
    local c = layer.config
    if type(c) == "table" and c.kernel_initializer ~= nil then
      if init then c.kernel_initializer = init end
      if reg then c.kernel_regularizer = reg end
      touched = touched + 1
    end
  end
  if (init or reg) and touched == 0 then
    fail("%s: the model has no layer with a kernel (kernel_initializer) to change", who)
  end
  if changes.activation ~= nil then
    if type(changes.activation) ~= "string" then
      fail("%s: activation must be the name of an activation ('relu'), got %s", who, describe(changes.activation))
    end
    local list = activation_layers(config)
    if #list < 2 then fail("%s: the model has no hidden layer with an activation to change", who) end
    for i = 1, #list - 1 do list[i].activation = changes.activation end
  end
  if seed then random.manual_seed(seed) end  -- the weights the unchanged layers would have had
  local copy = getmetatable(model).from_config(config)
  return copy:compile(compile_settings(model))
end

--- A tensor's rows at 1-based positions (a tensor or list), contiguous.
function runs.rows(t, positions)
  if type(positions) == "table" then positions = core.tensor(positions) end
  return t:index(1, positions):contiguous()
end

--- Class labels (N) of y: sparse labels (N) or (N, 1) as they are, one-hot rows (N, C)
-- as their argmax - 1.
function runs.labels(y)
  if y:dim() == 2 and y:size(2) > 1 then return y:argmax(2):reshape(y:size(1)) - 1 end
  return y:reshape(y:size(1))
end

local function last_finite_min(list)
  local best, at
  for i, v in ipairs(list or {}) do
    if finite(v) and (best == nil or v < best) then best, at = v, i end
  end
  return best, at
end

local function has_nonfinite(list)
  for _, v in ipairs(list or {}) do
    if not finite(v) then return true end
  end
  return false
end

--- Divergence, as the experiments report it: a run diverged when its training or
-- validation loss became NaN or infinite (fit stops there), or when its last epoch's
-- training loss is above `factor` times the loss of the untrained model on the training
-- data. -> false or a reason.
function runs.divergence(record, factor)
  local h = record.history
  if record.nan or has_nonfinite(h.loss) or has_nonfinite(h.val_loss) then
    return "loss NaN or infinite"
  end
  if finite(record.initial_loss) and finite(record.final_loss) and record.final_loss > factor * record.initial_loss then
    return ("final loss %.4g > %g x the initial %.4g"):format(record.final_loss, factor, record.initial_loss)
  end
  return false
end

--- The first metric's key of a model's validation logs (val_accuracy), or nil.
function runs.val_metric(history)
  local keys = {}
  for k in pairs(history) do
    if k:sub(1, 4) == "val_" and k ~= "val_loss" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  return keys[1]
end

--- One run of fit on train (validation on val) -> a record of plain numbers: history (the
-- History's lists), epochs_run, initial_loss (the untrained model on the training data),
-- final_loss, final_val_loss, best_val_loss and best_epoch (1-based), the first
-- validation metric's name and final value, seconds per epoch (training batches only),
-- nan (fit's report of a NaN loss, if any).
function runs.fit(model, train, val, fit_opts)
  local initial = model:evaluate(train.x, train.y, {batch_size = fit_opts.batch_size, verbose = 0,
                                                    allow_nonfinite = true})
  -- time from an epoch's start to the end of its last training batch (validation excluded)
  local clock, epoch_start, last, epoch_seconds = core.clock, nil, nil, {}
  local timer = {
    on_epoch_begin = function() epoch_start, last = clock(), nil end,
    on_train_batch_end = function() last = clock() end,
    on_epoch_end = function() epoch_seconds[#epoch_seconds + 1] = (last or clock()) - epoch_start end,
  }
  local cbs = {timer}
  for _, cb in ipairs(fit_opts.callbacks or {}) do cbs[#cbs + 1] = cb end
  local h = model:fit(train.x, train.y, {
    epochs = fit_opts.epochs, batch_size = fit_opts.batch_size, verbose = 0, shuffle = true,
    validation_data = val and {val.x, val.y} or nil, class_weight = fit_opts.class_weight, callbacks = cbs,
  })
  local history = h.history
  local record = {history = history, epochs_run = #(history.loss or {}), initial_loss = initial.loss,
                  nan = h.nan and h.nan.message or nil, epoch_seconds = epoch_seconds}
  local n = record.epochs_run
  record.final_loss = history.loss and history.loss[n]
  record.final_val_loss = history.val_loss and history.val_loss[#history.val_loss]
  record.best_val_loss, record.best_epoch = last_finite_min(history.val_loss)
  record.val_metric = runs.val_metric(history)
  if record.val_metric then
    local list = history[record.val_metric]
    record.final_val_metric = list[#list]
  end
  local total = 0
  for _, s in ipairs(epoch_seconds) do total = total + s end
  record.seconds_per_epoch = #epoch_seconds > 0 and total / #epoch_seconds or nil
  return record
end

--- A new, unfitted scaler from a scaler class (lurn.preprocessing.StandardScaler), an
-- instance (refitted), or a function returning one.
function runs.scaler(who, spec)
  local s = spec
  if type(spec) == "function" or (type(spec) == "table" and rawget(spec, "class_name")) then s = spec() end
  if type(s) ~= "table" or type(s.fit) ~= "function" or type(s.transform) ~= "function" then
    fail("%s: scaler must be a scaler (lurn.preprocessing.StandardScaler or an instance of one), got %s", who,
      describe(spec))
  end
  return s
end

-- x as (N, features) for a scaler, and back to its shape.
local function flat(x) return x:reshape(x:size(1), -1) end

--- train and val with x scaled by `scaler` fitted on train.x only (never on validation
-- data, whose statistics would leak into training) -> new train, val tables.
function runs.scale(who, scaler, train, val)
  local s = runs.scaler(who, scaler)
  local ok, err = pcall(s.fit, s, flat(train.x))
  if not ok then fail("%s: scaler: %s", who, (tostring(err):gsub("^[^\n]-:%d+: ", ""))) end
  local function apply(part)
    return {x = s:transform(flat(part.x)):reshape(table.unpack(part.x:shape())):contiguous(), y = part.y}
  end
  return apply(train), apply(val), s
end

--- The keys a variant of compare (and the experiments built on it) may change.
runs.VARIANT_KEYS = {"name", "build", "optimizer", "learning_rate", "kernel_initializer", "activation",
                     "kernel_regularizer", "batch_size", "epochs", "scaler", "class_weight", "initializer",
                     "regularizer"}

--- One named variant trained: entry = {name =, build =, optimizer =, learning_rate =,
-- kernel_initializer =, activation =, kernel_regularizer =, batch_size =, epochs =,
-- scaler =, class_weight =} (initializer and regularizer: short names of the kernel_
-- ones), every key but name optional; make builds the base model
-- when entry.build is not given. -> the record of runs.fit, with name, and the model.
function runs.train_variant(who, make, entry, train, val, opts)
  local where = ("%s: variant '%s'"):format(who, tostring(entry.name))
  options.check(entry, runs.VARIANT_KEYS, where, 1)
  for short, long in pairs{initializer = "kernel_initializer", regularizer = "kernel_regularizer"} do
    if entry[short] ~= nil and entry[long] ~= nil then fail("%s: give %s or %s, not both", where, short, long) end
  end
  local changes = {kernel_initializer = entry.kernel_initializer or entry.initializer, activation = entry.activation,
                   kernel_regularizer = entry.kernel_regularizer or entry.regularizer}
  local fit_opts = {epochs = entry.epochs or opts.epochs, batch_size = entry.batch_size or opts.batch_size,
                    class_weight = entry.class_weight}
  runs.count(where, "epochs", fit_opts.epochs)
  runs.count(where, "batch_size", fit_opts.batch_size)
  if entry.learning_rate ~= nil then runs.positive(where, "learning_rate", entry.learning_rate) end
  local variant_make = entry.build ~= nil and runs.maker(where, entry.build) or make
  random.manual_seed(opts.seed)
  local model = variant_make()
  model = runs.variant(where, model, changes, opts.seed)
  model = runs.recompile(where, model, entry.optimizer, entry.learning_rate)
  local t, v = train, val
  if entry.scaler ~= nil then t, v = runs.scale(where, entry.scaler, train, val) end
  local record = runs.fit(model, t, v, fit_opts)
  record.name, record.batch_size, record.learning_rate = entry.name, fit_opts.batch_size, model.optimizer.learning_rate
  record.optimizer = model.optimizer.class_name
  return record, model
end

--- Whether the experiment runs on this rank by itself: in one process, or inside
-- lurn.distributed.run_alone or map's fn (a lesson of run_all on its rank, one config of
-- the user's own sweep): then its runs stay here, and this rank prints and plots.
function runs.alone() return distributed.size() == 1 or distributed._alone() end

-- Runs of runs.each now in progress on this rank as its share of a spread experiment.
local spreading = 0

--- Whether this process prints and writes the experiment's plots: rank 0 of the job, or
-- any rank that runs the experiment by itself (not as its share of runs.each's runs).
function runs.writes() return distributed.is_main() or (distributed._alone() and spreading == 0) end

--- Prints a line when verbose > 0 (on rank 0 only, under mpirun).
function runs.say(opts, fmt, ...)
  if opts.verbose and opts.verbose > 0 and runs.writes() then print(fmt:format(...)) end
end

--- The experiment's independent runs: fn(item, i) for every item of list -> their records,
-- in the list's order. One after the other in one process (or on a rank running the
-- experiment alone); under mpirun spread over the ranks (lurn.distributed.map_all), every
-- rank getting every record as plain data, so that the experiment goes on the same way
-- everywhere (rank 0 alone prints and plots). A list of one item is a run that cannot be
-- split: rank 0 runs it and sends its record to the others.
function runs.each(list, fn)
  if not runs.alone() then
    return distributed.map_all(list, function(item, i)
      spreading = spreading + 1
      local ok, record = pcall(fn, item, i)
      spreading = spreading - 1
      if not ok then error(record, 0) end
      return record
    end)
  end
  local out = {}
  for i, item in ipairs(list) do out[i] = fn(item, i) end
  return out
end

return runs
