--- Model (lurn.Model): what every lurn model does, as Keras' Model: compile, fit, evaluate,
-- predict, the training step and its two halves, weights, parameter counts, get_layer. Its
-- containers say what the layers are and how they connect: Sequential (a stack,
-- sequential.lua) and Functional (a graph of layers called on symbolic tensors,
-- functional.lua). The layers run in C (one C model, core.model(), in self._core); this file
-- orchestrates batches, metrics, callbacks and progress, calling C once per batch.
local class = require "lurn.class"
local core = require "lurn.core"
local optimizers = require "lurn.optimizers"
local losses = require "lurn.losses"
local metrics_lib = require "lurn.metrics"
local callbacks_lib = require "lurn.training.callbacks"
local Progbar = require "lurn.training.progbar"
local at_user_line = require "lurn.at_user_line"
local layer_stats = require "lurn.training.layer_stats"
local loop = require "lurn.training.epoch"
local data_parallel = require "lurn.training.data_parallel"
local symbolic = require "lurn.symbolic"
local options = require "lurn.options"
local shapes = require "lurn.shape"
local text = require "lurn.text"
local summary = require "lurn.models.summary"
local multi_io = require "lurn.models.multi_io"
local shape_text, batch_shape_text = text.shape, text.batch_shape

local Model = class()
Model.class_name = "Model"

-- Keras' default model names: sequential, sequential_1, ... (one count per prefix).
local name_counts = {}
function Model._default_name(prefix)
  local count = name_counts[prefix] or 0
  name_counts[prefix] = count + 1
  return count == 0 and prefix or (prefix .. "_" .. count)
end

--- A new model of class cls (Sequential, Functional) over `layers`, with the fields every
-- model starts with; the container adds its own. name: the user's, or Keras' default made
-- from prefix ("sequential", "model").
function Model._new(cls, layers, name, prefix)
  return setmetatable({layers = layers, name = name or Model._default_name(prefix), stop_training = false,
                       trainable = true}, cls)
end

--- A built model keeps its per-sample input shape: build with another one is an error
-- ("<who>: built for inputs of shape (None, 3), not (None, 4)").
function Model:_check_build_shape(input_shape, who)
  if input_shape ~= nil and not shapes.same(input_shape, self.input_shape) then
    error(("%s: built for inputs of shape %s, not %s"):format(who, batch_shape_text(self.input_shape),
      type(input_shape) == "table" and batch_shape_text(input_shape) or tostring(input_shape)), 3)
  end
end

--- Passes each layer's trainable flag (and the model's own) to C: called when the model
-- is built and at compile, so that toggling trainable takes effect at the next compile.
function Model:_sync_trainable()
  local frozen = self.trainable == false
  for _, layer in ipairs(self.layers) do layer:_sync_trainable(frozen) end
end

--- model:get_layer(name or position): a layer by its name, or by its 1-based position in
-- model.layers (Keras: by name or 0-based index).
function Model:get_layer(key)
  if math.type(key) == "integer" then
    local layer = self.layers[key]
    if not layer then
      error(("get_layer: position %d is out of range: the model has %d layers"):format(key, #self.layers), 2)
    end
    return layer
  end
  if type(key) ~= "string" then error("get_layer: expected a layer name or a position, got " .. type(key), 2) end
  local names = {}
  for i, layer in ipairs(self.layers) do
    if layer.name == key then return layer end
    names[i] = layer.name
  end
  error(("get_layer: no layer named '%s' (layers: %s)"):format(key, table.concat(names, ", ")), 2)
end

local function sample_shape(x)
  local s = x:shape()
  return table.move(s, 2, #s, 1, {})
end

local function check_x(self, x, what)
  if not core.is_tensor(x) then error(("%s: x must be a tensor, got %s"):format(what, symbolic.describe(x)), 3) end
  if x:dim() < 2 then
    error(("%s: x must have a batch dimension, got shape %s"):format(what, shape_text(x:shape())), 3)
  end
  -- a declared input shape wins over the data's, so that a mismatch is reported below
  if not self._core then self:build(self.input_shape or sample_shape(x)) end
  local want, got = self._packed_input_shape or self.input_shape, sample_shape(x)
  if not shapes.same(want, got) then
    error(("%s: input of shape %s does not match the model's input shape %s"):format(
      what, shape_text(x:shape()), batch_shape_text(want)), 3)
  end
end

-- Where t has its first NaN or infinity, in words ("NaN at sample 3, feature 17"), or nil.
-- One C pass over the data (core.first_nonfinite).
local function nonfinite_where(t)
  local pos, v = core.first_nonfinite(t:contiguous())
  if not pos then return nil end
  local kind = v ~= v and "NaN" or (v > 0 and "inf" or "-inf")
  local shape = t:shape()
  local per = 1
  for i = 2, #shape do per = per * shape[i] end
  local sample, within = (pos - 1) // per + 1, (pos - 1) % per
  if #shape == 1 then return ("%s at sample %d"):format(kind, sample) end
  if #shape == 2 then return ("%s at sample %d, feature %d"):format(kind, sample, within + 1) end
  local at = {}
  for i = #shape, 2, -1 do
    at[i - 1] = within % shape[i] + 1
    within = within // shape[i]
  end
  return ("%s at sample %d, position (%s)"):format(kind, sample, table.concat(at, ", "))
end

-- Data with a NaN or an infinity is refused (a NaN input trains the weights into NaN
-- behind a normal-looking loss), unless opts.allow_nonfinite. name: "x", "y", ...
local function check_finite(opts, what, name, t)
  if t == nil or opts.allow_nonfinite or not core.is_tensor(t) then return end
  local where = nonfinite_where(t)
  if where then
    error(("%s: %s has %s (fix or drop it, or pass allow_nonfinite = true)"):format(what, name, where), 3)
  end
end

--- compile{optimizer = "adam" | lurn.optimizers.Adam{...}, loss = name | loss, metrics = {...},
--   loss_weights = {...} (several outputs)}: for a model of several outputs, loss and
-- metrics may also be given per output (lists in output order, or tables by output name).
-- Each method's options, and Keras' options lurn does not implement (an error that says so).
local OPTIONS = {
  compile = {"optimizer", "loss", "metrics", "loss_weights"},
  fit = {"epochs", "batch_size", "verbose", "callbacks", "validation_split", "validation_data", "shuffle",
         "class_weight", "sample_weight", "initial_epoch", "steps_per_epoch", "validation_batch_size",
         "allow_nonfinite"},
  evaluate = {"batch_size", "verbose", "sample_weight", "return_dict", "allow_nonfinite"},
  predict = {"batch_size", "verbose", "allow_nonfinite"},
}
local UNSUPPORTED = {
  compile = {"weighted_metrics", "run_eagerly", "steps_per_execution", "jit_compile",
             "sample_weight_mode", "target_tensors", "pss_evaluation_shards"},
  fit = {"validation_steps", "validation_freq", "max_queue_size", "workers", "use_multiprocessing"},
  evaluate = {"steps", "callbacks", "max_queue_size", "workers", "use_multiprocessing"},
  predict = {"steps", "callbacks", "max_queue_size", "workers", "use_multiprocessing"},
}
local function check_options(method, opts)
  options.check(opts, OPTIONS[method], method, 3, {unsupported = UNSUPPORTED[method]})
end

function Model:compile(opts)
  check_options("compile", opts)
  opts = opts or {}
  self._compile_config = {optimizer = opts.optimizer, loss = opts.loss, metrics = opts.metrics,
                          loss_weights = opts.loss_weights}
  self.optimizer = optimizers.get(opts.optimizer or "rmsprop")
  if opts.loss == nil then error("compile: a loss is required (e.g. loss = \"sparse_categorical_crossentropy\")", 2) end
  if self._io then  -- several outputs: a loss, weights and metrics per output
    multi_io.compile(self, opts, 2)
    self:_sync_trainable()
    self.compiled = true
    return self
  end
  if opts.loss_weights ~= nil then
    error("compile: loss_weights weigh the losses of several outputs; this model has one", 2)
  end
  self.loss = losses.get(opts.loss)
  self._metric_specs = opts.metrics or {}
  if type(self._metric_specs) ~= "table" then error("compile: metrics must be a list", 2) end
  -- Resolve names now so that unknown metrics fail at compile time.
  for _, spec in ipairs(self._metric_specs) do metrics_lib.get(spec, self.loss.kind) end
  if self._core then self:_sync_trainable() end
  self.compiled = true
  return self
end

--- model:get_compile_config() -> what compile was given ({optimizer =, loss =, metrics =,
-- loss_weights =}, as given: names, objects, per-output lists or tables), or nil before
-- compile (Keras 2.13's get_compile_config, as plain Lua values: compile it again with
-- model:compile(config), giving a new optimizer object to start a fresh state).
function Model:get_compile_config()
  local c = self._compile_config
  if not c then return nil end
  return {optimizer = c.optimizer, loss = c.loss, metrics = c.metrics, loss_weights = c.loss_weights}
end

function Model:_new_metrics()
  if self._io then return multi_io.new_metrics(self) end
  local out_size = self.output_shape and self.output_shape[#self.output_shape]
  local list = {}
  for i, spec in ipairs(self._metric_specs) do
    local m = metrics_lib.get(spec, self.loss.kind, out_size)
    if type(spec) == "table" then m:reset() end
    list[i] = m
  end
  return list
end

local function metric_keys(metric_list, prefix)
  local keys = {(prefix or "") .. "loss"}
  for _, m in ipairs(metric_list) do
    for _, key in ipairs(metrics_lib._log_keys(m)) do keys[#keys + 1] = (prefix or "") .. key end
  end
  return keys
end

-- Per-sample weights from class_weight {[label] = w} and/or sample_weight (a tensor):
-- a lookup table of class weights gathered by label, in C. Targets with one label per
-- step (a sequence output, (N, steps) labels or (N, steps, classes)) have no one class per
-- sample: refused, as Keras 2's "class_weight not supported for 3+ dimensional targets"
-- (for (N, steps) labels Keras 2 would take the argmax over the steps).
local function sample_weights(self, y, class_weight, sample_weight, n, what)
  what = what or "fit"
  if class_weight == nil then return sample_weight end
  if type(class_weight) ~= "table" then error(what .. ": class_weight must be a table {[class] = weight}", 3) end
  if y:dim() > 2 or (self.output_shape and #self.output_shape > 1) then
    error(("%s: class_weight is not supported for targets with a label per step (y of shape %s), as in Keras 2; "
      .. "give each sample a weight with sample_weight instead"):format(what, shape_text(y:shape())), 3)
  end
  local labels
  if y:dim() == 1 or (y:dim() == 2 and y:size(2) == 1) then
    labels = y:reshape(n)
  else
    labels = y:argmax(2) - 1  -- one-hot rows: class = position - 1
  end
  local top = n > 0 and labels:max() or 0
  for k, v in pairs(class_weight) do
    if math.type(k) ~= "integer" or k < 0 or type(v) ~= "number" then
      error(what .. ": class_weight must map 0-based class numbers to numbers", 3)
    end
    if v ~= v or v == math.huge or v == -math.huge then
      error(("%s: class_weight of class %d is %s; weights must be finite numbers"):format(what, k, tostring(v)), 3)
    end
    top = math.max(top, k)
  end
  local lookup = {}
  for c = 0, math.tointeger(top) or top do lookup[c + 1] = class_weight[c] or 1 end
  local w = core.tensor(lookup):index(1, labels + 1)
  if sample_weight then w = w * sample_weight end
  return w
end

-- Preallocated batch buffers, reused across batches.
local function call_callbacks(cbs, method, ...)
  for _, cb in ipairs(cbs) do
    local fn = cb[method]
    if fn then fn(cb, ...) end
  end
end

-- Splits x, y into the first (1 - fraction) and the last fraction, as Keras 2 does
-- (data_adapter.train_validation_split): the first floor(n * (1 - fraction)) samples
-- train, the rest validate (178 samples at 0.2: 142 and 36, not 143 and 35), and a split
-- that leaves either part empty is an error.
local function split_tail(fraction, x, y, w)
  if type(fraction) ~= "number" or fraction < 0 or fraction >= 1 then
    error("fit: validation_split must be a number in [0, 1)", 3)
  end
  if fraction == 0 then return x, y, w, nil end
  local n = x:size(1)
  local n_train = math.floor(n * (1.0 - fraction))
  if n_train == 0 or n_train == n then
    error(("fit: %d samples are not enough to split into training and validation parts with validation_split "
      .. "= %g (as Keras): give more data or another validation_split"):format(n, fraction), 3)
  end
  local n_val = n - n_train
  local val = {x:narrow(1, n_train + 1, n_val):contiguous(), y:narrow(1, n_train + 1, n_val):contiguous(),
               w and w:narrow(1, n_train + 1, n_val):contiguous()}
  return x:narrow(1, 1, n_train):contiguous(), y:narrow(1, 1, n_train):contiguous(),
    w and w:narrow(1, 1, n_train):contiguous(), val
end

local function check_number_positive(v, name, what)
  if math.type(v) ~= "integer" or v < 1 then
    error(("%s: %s must be a positive integer, got %s"):format(what, name, text.shown(v)), 3)
  end
end

-- Ctrl-C while fit/evaluate/predict run (core.watch_interrupt) only sets a flag; the
-- outermost loop stops here, at the end of a batch, as Keras stops on KeyboardInterrupt:
-- with an error, the model keeping the weights of the last finished batch.
local function check_interrupt(guard, what, epoch, batch)
  if not core.interrupted(guard) then return end
  if what == "fit" then
    error(("interrupted (Ctrl-C): training stopped after epoch %d, batch %d; the model keeps the weights of "
      .. "the last finished batch"):format(epoch + 1, batch), 0)
  end
  error(("interrupted (Ctrl-C): %s stopped after batch %d"):format(what, batch), 0)
end

local evaluate_packed  -- evaluate on data already packed (fit's validation)

local function nan_error(epoch, batch)
  return ("loss became NaN or infinite at epoch %d, batch %d: training stopped. Try a lower learning rate, "
    .. "scaled inputs, or gradient clipping (clipnorm)"):format(epoch, batch)
end

--- fit(x, y, {epochs = 1, batch_size = 32, validation_data = {xv, yv}, validation_split = 0,
--   shuffle = true, verbose = 1, callbacks = {}, class_weight = {}, sample_weight = t,
--   initial_epoch = 0, steps_per_epoch = n (generators), allow_nonfinite = false}) -> History
-- Data with a NaN or an infinity is refused unless allow_nonfinite (also in evaluate/predict).
-- x may also be a generator: a function (or callable) returning xb, yb[, wb] per call.
function Model:fit(x, y, opts)
  local generator = not core.is_tensor(x) and (type(x) == "function" or (getmetatable(x) or {}).__call)
  if generator and type(y) == "table" and not core.is_tensor(y) and opts == nil then opts, y = y, nil end
  check_options("fit", opts)
  opts = opts or {}
  if not self.compiled then error("fit: the model must be compiled first: call model:compile{...}", 2) end
  local epochs = opts.epochs or 1
  local batch_size = opts.batch_size or 32
  check_number_positive(epochs, "epochs", "fit")
  check_number_positive(batch_size, "batch_size", "fit")
  local verbose = opts.verbose == nil and 1 or opts.verbose
  if self._io and opts.class_weight ~= nil and #self._io.outputs > 1 then
    error("fit: class_weight is only supported for models with a single output (as Keras): give sample_weight", 2)
  end
  -- several processes (mpirun): each trains on its shard of every global batch (of tensors)
  -- or on the batches of its own generator
  local job = data_parallel.job()
  self._job = job

  local w, val
  if not generator then
    x, y = self:_x(x, "fit"), self:_y(y, "fit")
    check_x(self, x, "fit")
    if not core.is_tensor(y) then error("fit: y must be a tensor, got " .. symbolic.describe(y), 2) end
    if x:size(1) ~= y:size(1) then
      error(("fit: x and y have different numbers of samples: %s and %s"):format(
        shape_text(x:shape()), shape_text(y:shape())), 2)
    end
    x, y = x:contiguous(), y:contiguous()
    check_finite(opts, "fit", "x", x)
    check_finite(opts, "fit", "y", y)
    self:_check_labels(y, "fit")
    w = opts.sample_weight
    if w ~= nil and (not core.is_tensor(w) or w:dim() ~= 1 or w:size(1) ~= x:size(1)) then
      error(("fit: sample_weight must be a 1-D tensor with one weight per sample (%d)"):format(x:size(1)), 2)
    end
    check_finite(opts, "fit", "sample_weight", w)
    -- As Keras: split off the validation tail first (sample weights with it), then turn
    -- class_weight into per-sample weights of the training part only.
    if opts.validation_split and opts.validation_split > 0 then
      x, y, w, val = split_tail(opts.validation_split, x, y, w)
    end
    w = sample_weights(self, y, opts.class_weight, w, x:size(1))
  elseif (opts.validation_split or 0) > 0 then  -- as Keras: a generator has no tail to split off
    error("fit: validation_split needs x and y tensors, not a generator: give validation_data = {x_val, y_val}", 2)
  end
  if opts.validation_data then
    local vd = opts.validation_data
    if type(vd) == "table" and self._io then
      vd = {self:_x(vd[1], "fit: validation_data"), self:_y(vd[2], "fit: validation_data"), vd[3]}
    end
    if type(vd) ~= "table" or not core.is_tensor(vd[1]) or not core.is_tensor(vd[2]) then
      error("fit: validation_data must be {x_val, y_val}", 2)
    end
    check_finite(opts, "fit", "validation_data x", vd[1])
    check_finite(opts, "fit", "validation_data y", vd[2])
    check_finite(opts, "fit", "validation_data sample_weight", vd[3])
    -- checked now, as Keras does, not after a first epoch of training
    check_x(self, vd[1], "fit: validation_data")
    if vd[1]:size(1) ~= vd[2]:size(1) then
      error(("fit: validation_data x and y have different numbers of samples: %s and %s"):format(
        shape_text(vd[1]:shape()), shape_text(vd[2]:shape())), 2)
    end
    self:_check_labels(vd[2], "fit: validation_data")
    val = vd
  end

  local history = callbacks_lib.History.new()
  local cbs, progbar = {}, nil
  if opts.callbacks ~= nil and type(opts.callbacks) ~= "table" then
    error(("fit: callbacks must be a list of callbacks, got %s"):format(type(opts.callbacks)), 2)
  end
  for i, cb in ipairs(opts.callbacks or {}) do
    if type(cb) ~= "table" then
      error(("fit: callbacks[%d] must be a callback (a table with methods such as on_epoch_end), got %s"):format(
        i, type(cb)), 2)
    end
    cbs[#cbs + 1] = cb
    if cb._is_progbar_logger then progbar = cb end
  end
  -- As Keras: the progress bar is a ProgbarLogger counting steps, first, unless one is given
  if progbar == nil and verbose ~= 0 then
    table.insert(cbs, 1, callbacks_lib.ProgbarLogger.new{count_mode = "steps"})
  end
  cbs[#cbs + 1] = history  -- last, as Keras: it records the keys other callbacks add to the logs
  -- in a data-parallel fit, the callbacks that only print or write run on rank 0 alone
  local run_cbs = cbs
  if job and job.rank ~= 0 then
    run_cbs = {}
    for _, cb in ipairs(cbs) do
      if not cb._main_only then run_cbs[#run_cbs + 1] = cb end
    end
  end
  local metric_list = self:_new_metrics()
  local all_keys = metric_keys(metric_list)
  if val then
    for _, k in ipairs(metric_keys(metric_list, "val_")) do all_keys[#all_keys + 1] = k end
  end
  -- Keras 2's callback.params; steps: batches per epoch (a generator's, as it was told);
  -- samples: training samples (nil for a generator); metrics: the keys of the epoch's logs
  local steps_per_epoch
  if generator then
    steps_per_epoch = opts.steps_per_epoch or (type(x) == "table" and x.len and x:len() or nil)
    check_number_positive(steps_per_epoch, "steps_per_epoch", "fit (with a generator)")
  else
    steps_per_epoch = math.ceil(x:size(1) / batch_size)
  end
  for _, cb in ipairs(cbs) do
    cb.model = self
    cb.params = {epochs = epochs, steps = steps_per_epoch, verbose = verbose, batch_size = batch_size,
                 samples = not generator and x:size(1) or nil, do_validation = val ~= nil,
                 metrics = table.move(all_keys, 1, #all_keys, 1, {})}
  end
  self.history = history
  self._callbacks = cbs  -- BackupAndRestore keeps the others' states
  self.stop_training = false
  local loss, opt = self.loss, self.optimizer._c

  -- a fit that ended in an error may have left a LayerStats recording: start without
  if self._core then self._core:record_stats(false) end
  -- every process starts from rank 0's weights (a generator's first batch may build the
  -- model: then) and random generator
  local weights_shared = false
  local function share_weights()
    if job and not weights_shared and self._core then
      self._core:broadcast_weights(0)
      weights_shared = true
    end
  end
  if job then
    data_parallel.check_same(job, "fit", {samples = not generator and x:size(1) or nil,
                                          steps_per_epoch = generator and steps_per_epoch or nil,
                                          validation_samples = val and val[1]:size(1) or 0, batch_size = batch_size,
                                          epochs = epochs, initial_epoch = opts.initial_epoch or 0})
    share_weights()
    data_parallel.share_random_state()
  end
  call_callbacks(run_cbs, "on_train_begin", {})
  -- a loaded model's saved random state; the epoch a BackupAndRestore callback restored
  local first_epoch = self:_resume(opts.initial_epoch or 0)
  local interrupt <close> = core.watch_interrupt()
  for epoch = first_epoch, epochs - 1 do
    for _, m in ipairs(metric_list) do m:reset() end
    call_callbacks(run_cbs, "on_epoch_begin", epoch, {})
    local nan_at
    local function step(xb, yb, wb, b)
      call_callbacks(run_cbs, "on_train_batch_begin", b - 1, {})
      self.optimizer:_apply_schedule()
      -- self._core, not a local: a generator's first batch may build the model
      local value, pred
      if job then
        -- this process's shard; value: the global batch's loss, the same everywhere (the
        -- running loss sums it times each shard's size: one process's, whatever the masks);
        -- a generator's global batch is the sum of the processes' batches (0: unknown here)
        local global = generator and 0 or data_parallel.global_size(x:size(1), batch_size, b)
        pred, value = select(2, self._core:data_parallel_step(loss, opt, xb, yb, wb, global))
      else
        value, pred = self._core:train_step(loss, opt, xb, yb, wb)
      end
      if value ~= value or value == math.huge or value == -math.huge then nan_at = b end
      return value, pred, pred and self._core:output_mask()
    end
    -- the epoch ends after a batch with a NaN loss, or when a callback sets stop_training
    -- (Keras 2 checks it after every batch)
    local function stop() return nan_at ~= nil or self.stop_training end
    local logs, steps
    if generator then
      -- as Keras for a Sequence: one epoch is len() batches unless told otherwise
      local n_steps = opts.steps_per_epoch or (type(x) == "table" and x.len and x:len() or nil)
      check_number_positive(n_steps, "steps_per_epoch", "fit (with a generator)")
      local function next_batch(b)
        local xb, yb, wb = x()
        -- under several processes, an epoch ends for all when one's generator ends
        if job and not data_parallel.all_have(job, xb ~= nil) then return nil end
        if xb == nil then return nil end
        xb, yb = self:_x(xb, "fit (a generator's batch)"), self:_y(yb, "fit (a generator's batch)")
        check_x(self, xb, "fit")
        share_weights()
        local what = ("fit (batch %d from the generator)"):format(b)
        check_finite(opts, what, "x", xb)
        check_finite(opts, what, "y", yb)
        check_finite(opts, what, "sample_weight", wb)
        if opts.class_weight ~= nil then wb = sample_weights(self, yb:contiguous(), opts.class_weight, wb, xb:size(1)) end
        return xb:contiguous(), yb:contiguous(), wb
      end
      local function on_batch(b, l)
        call_callbacks(run_cbs, "on_train_batch_end", b - 1, l)
        check_interrupt(interrupt, "fit", epoch, b)
      end
      if job then  -- each process its own generator's batches, its own Dropout stream
        logs, steps = data_parallel.with_rank_stream(job, loop.run, next_batch, n_steps, step, metric_list,
                                                     on_batch, stop, data_parallel.reduce_logs)
        if self._core then self._core:average_statistics() end
      else
        logs, steps = loop.run(next_batch, n_steps, step, metric_list, on_batch, stop)
      end
    else
      local n = x:size(1)
      -- a list of integers: a float32 tensor would repeat positions past 2^24 samples
      local order = opts.shuffle ~= false and core.randperm(n, "list") or nil
      local function on_batch(b, l)
        call_callbacks(run_cbs, "on_train_batch_end", b - 1, l)
        check_interrupt(interrupt, "fit", epoch, b)
      end
      if job then  -- the same order everywhere, this process's shards, its own Dropout stream
        local next_batch, n_batches = data_parallel.shard_batches(job, x, y, w, batch_size, order)
        logs, steps = data_parallel.with_rank_stream(job, loop.run, next_batch, n_batches, step, metric_list,
                                                     on_batch, stop, data_parallel.reduce_logs)
        self._core:average_statistics()  -- BatchNormalization's moving statistics, the same everywhere
      else
        local next_batch, n_batches = loop.tensor_batches(x, y, w, batch_size, order)
        logs, steps = loop.run(next_batch, n_batches, step, metric_list, on_batch, stop)
      end
    end
    if nan_at then
      local msg = nan_error(epoch + 1, nan_at)
      if not job or job.rank == 0 then io.stderr:write("lurn: ", msg, "\n") end
      history.nan = {epoch = epoch, batch = nan_at - 1, message = msg}
      self.stop_training = true
    end
    if val and not nan_at then
      local scores = evaluate_packed(self, val[1], val[2], {batch_size = opts.validation_batch_size or batch_size, verbose = 0,
                                                    sample_weight = val[3], allow_nonfinite = true,  -- checked above
                                                    _job = job})
      for k, v in pairs(scores) do logs["val_" .. k] = v end
    end
    call_callbacks(run_cbs, "on_epoch_end", epoch, logs)
    call_callbacks(run_cbs, "_after_epoch_end", epoch, logs)  -- once all have seen the epoch end (BackupAndRestore)
    check_interrupt(interrupt, "fit", epoch, steps or 0)  -- Ctrl-C during validation
    if self.stop_training then break end
  end
  call_callbacks(run_cbs, "on_train_end", {})
  return history
end

--- Class labels for a sparse loss must be whole numbers in 0..classes-1: checked once
-- over the whole set, so that the error names the sample's position in the data.
local function check_label_values(y, classes, what)
  if y:numel() == 0 then return end
  local flat = y:reshape(y:numel())
  local lo, hi = flat:min(), flat:max()
  local bad
  if lo ~= lo or hi ~= hi then
    bad = flat:isnan():argmax()
  elseif lo < 0 then
    bad = flat:argmin()
  elseif hi > classes - 1 then
    bad = flat:argmax()
  else
    local fractional = (flat - flat:floor()):ne(0)
    if fractional:max() > 0 then bad = fractional:argmax() end
  end
  if bad then
    error(("%s: label %g at sample %d is not a class in 0..%d (labels are 0-based class numbers)"):format(
      what, flat:get(bad), (bad - 1) // (flat:numel() // y:size(1)) + 1, classes - 1), 4)
  end
end

-- Internal: the check of x's sample shape against the model's input (the doctor checks
-- data before it trains a copy). Errors at the caller's caller.
function Model:_check_x(x, what) check_x(self, x, what) end

-- y's values per sample against the output's, for the losses that take one target per
-- output value: checked on the data before training, so that the message names the data's
-- shape (the loss itself sees a batch: "targets of shape (32,)").
local function check_target_shape(self, y, what)
  local per_y, per_out = 1, 1
  for i = 2, y:dim() do per_y = per_y * y:size(i) end
  for _, s in ipairs(self.output_shape or {}) do
    if math.type(s) ~= "integer" or s < 1 then return end  -- a size known only per batch
    per_out = per_out * s
  end
  if per_y == per_out then return end
  local hint = ""
  if self.loss.kind == "binary_crossentropy" and per_y == 1 then
    hint = ("; binary_crossentropy wants one output (Dense(1, {activation = \"sigmoid\"})), or keep the %d "
      .. "units with sparse_categorical_crossentropy and y of class numbers"):format(per_out)
  elseif self.loss.kind == "categorical_crossentropy" and per_y == 1 then
    hint = "; for y of class numbers use sparse_categorical_crossentropy, or one-hot encode y with to_categorical"
  end
  error(("%s: y of shape %s does not fit the model's output %s under %s (one target per output value)%s"):format(
    what, shape_text(y:shape()), batch_shape_text(self.output_shape), self.loss.kind, hint), 3)
end

function Model:_check_labels(y, what)
  if self._io then return multi_io.check_labels(self, y, what, check_label_values) end
  if self.loss.kind ~= "sparse_categorical_crossentropy" then return check_target_shape(self, y, what) end
  check_label_values(y, self.output_shape[#self.output_shape], what)
end

--- The data of a model with several inputs or outputs packed as the C model takes it
-- (lists or tables by name; lurn/models/multi_io.lua); other models' as given.
function Model:_x(x, what)
  if not self._io or x == nil then return x end
  return multi_io.pack_inputs(self, x, what, 3)
end
function Model:_y(y, what)
  if not self._io or y == nil then return y end
  return multi_io.pack_targets(self, y, what, 3)
end

--- evaluate(x, y, {batch_size = 32, verbose = 1, sample_weight = nil}) -> {loss =, <metric> =}
function Model:evaluate(x, y, opts)
  check_options("evaluate", opts)
  if opts and opts.return_dict == false then
    error("evaluate: lurn returns a table of named scores (return_dict = true), not a list", 2)
  end
  opts = opts or {}
  if not self.compiled then error("evaluate: the model must be compiled first: call model:compile{...}", 2) end
  return evaluate_packed(self, self:_x(x, "evaluate"), self:_y(y, "evaluate"), opts)
end

function evaluate_packed(self, x, y, opts)
  check_x(self, x, "evaluate")
  if not core.is_tensor(y) then error("evaluate: y must be a tensor, got " .. symbolic.describe(y), 2) end
  if x:size(1) ~= y:size(1) then
    error(("evaluate: x and y have different numbers of samples: %s and %s"):format(
      shape_text(x:shape()), shape_text(y:shape())), 2)
  end
  local batch_size = opts.batch_size or 32
  check_number_positive(batch_size, "batch_size", "evaluate")
  x, y = x:contiguous(), y:contiguous()
  check_finite(opts, "evaluate", "x", x)
  check_finite(opts, "evaluate", "y", y)
  self:_check_labels(y, "evaluate")
  local w = opts.sample_weight
  check_finite(opts, "evaluate", "sample_weight", w)
  local metric_list = self:_new_metrics()
  local c, loss = self._core, self.loss
  local n = x:size(1)
  local verbose = opts.verbose == nil and 1 or opts.verbose
  local bar = Progbar.new(math.ceil(n / batch_size), verbose)
  local keys = metric_keys(metric_list)
  local interrupt <close> = core.watch_interrupt()
  -- fit's validation in a data-parallel fit (opts._job): each process its shards, the
  -- logs summed over the processes
  local job = opts._job
  local next_batch, steps
  if job then
    next_batch, steps = data_parallel.shard_batches(job, x, y, w, batch_size)
  else
    next_batch, steps = loop.tensor_batches(x, y, w, batch_size)
  end
  local logs = loop.run(next_batch, steps, function(xb, yb, wb)
    if job and xb:size(1) == 0 then return 0, nil, nil end
    local value, pred = c:test_step(loss, xb:contiguous(), yb:contiguous(), wb and wb:contiguous())
    return value, pred, c:output_mask()
  end, metric_list, function(b, l)
    bar:update(b, keys, l)
    check_interrupt(interrupt, "evaluate", nil, b)
  end, nil, job and data_parallel.reduce_logs)
  bar:finish(steps, keys, logs)
  return logs
end

--- predict(x, {batch_size = 32}) -> a tensor of outputs (inference mode, in batches).
function Model:predict(x, opts)
  check_options("predict", opts)
  opts = opts or {}
  x = self:_x(x, "predict")
  check_x(self, x, "predict")
  local batch_size = opts.batch_size or 32
  check_number_positive(batch_size, "batch_size", "predict")
  x = x:contiguous()
  check_finite(opts, "predict", "x", x)
  local n = x:size(1)
  if n <= batch_size and n > 0 then  -- one batch, as model(x): no copy, no interrupt to watch between batches
    local out = self._core:forward(x):clone()
    if self._io then return multi_io.unpack_outputs(self, out) end
    return out
  end
  local out_shape = {n}
  for _, s in ipairs(self._packed_output_shape or self.output_shape) do out_shape[#out_shape + 1] = s end
  local out = core.zeros(out_shape)
  local interrupt <close> = core.watch_interrupt()
  for start = 1, n, batch_size do
    local size = math.min(batch_size, n - start + 1)
    local y = self._core:forward(x:narrow(1, start, size))
    out:narrow(1, start, size):copy(y)
    check_interrupt(interrupt, "predict", nil, (start - 1) // batch_size + 1)
  end
  if self._io then return multi_io.unpack_outputs(self, out) end
  return out
end

--- The model's output for x in inference mode (no batching): model(x).
function Model:__call(x, training)
  x = self:_x(x, "call")
  check_x(self, x, "call")
  local y = self._core:forward(x:contiguous(), training):clone()
  if self._io then return multi_io.unpack_outputs(self, y) end
  return y
end

-- ---- The training step in two halves ------------------------------------------------
-- fit runs both halves in one C call per batch (core train_step); train_on_batch does the
-- same, and compute_gradients + apply_gradients give the same weights bit for bit, with
-- the raw gradients readable in between (statistics, an all-reduce across machines).

-- The checked batch of train_on_batch and compute_gradients: packed x, y and per-sample
-- weights (or nil), the model built on the way if it was not.
local function training_batch(self, what, x, y, sample_weight, class_weight, allow_nonfinite)
  if not self.compiled then error(what .. ": the model must be compiled first: call model:compile{...}", 3) end
  x, y = self:_x(x, what), self:_y(y, what)
  if self._io and class_weight ~= nil and #self._io.outputs > 1 then
    error(what .. ": class_weight is only supported for models with a single output (as Keras)", 3)
  end
  check_x(self, x, what)
  if not core.is_tensor(y) then error(what .. ": y must be a tensor, got " .. symbolic.describe(y), 3) end
  if x:size(1) ~= y:size(1) then
    error(("%s: x and y have different numbers of samples: %s and %s"):format(what, shape_text(x:shape()),
      shape_text(y:shape())), 3)
  end
  x, y = x:contiguous(), y:contiguous()
  local opts = {allow_nonfinite = allow_nonfinite}
  check_finite(opts, what, "x", x)
  check_finite(opts, what, "y", y)
  self:_check_labels(y, what)
  if sample_weight ~= nil and (not core.is_tensor(sample_weight) or sample_weight:dim() ~= 1
      or sample_weight:size(1) ~= x:size(1)) then
    error(("%s: sample_weight must be a 1-D tensor with one weight per sample (%d)"):format(what, x:size(1)), 3)
  end
  check_finite(opts, what, "sample_weight", sample_weight)
  local w = sample_weights(self, y, class_weight, sample_weight and sample_weight:contiguous(), x:size(1), what)
  return x, y, w and w:contiguous()
end

--- model:train_on_batch(x, y[, sample_weight | {sample_weight =, class_weight =, reset_metrics = true,
-- return_dict = false}]): one training step on one batch, as fit runs it. Returns the loss
-- (penalties included); with metrics, {loss, metric, ...} in compile's order, or with
-- return_dict {loss =, <metric> =}. reset_metrics = false accumulates the loss (a mean over
-- the samples) and the metrics over calls; a call with reset_metrics = true reports them,
-- then resets them, as Keras.
function Model:train_on_batch(x, y, opts)
  if core.is_tensor(opts) then opts = {sample_weight = opts} end
  options.check(opts, {"sample_weight", "class_weight", "reset_metrics", "return_dict", "allow_nonfinite"},
                "train_on_batch", 2)
  opts = opts or {}
  local xb, yb, wb = training_batch(self, "train_on_batch", x, y, opts.sample_weight, opts.class_weight,
                                    opts.allow_nonfinite)
  self:_resume(0)  -- a loaded model's saved random state
  self.optimizer:_apply_schedule()
  local value, pred = self._core:train_step(self.loss, self.optimizer._c, xb, yb, wb)
  if self._batch_metric_specs ~= self._metric_specs then
    self._batch_metrics, self._batch_metric_specs = nil, nil
  end
  local metric_list = self._batch_metrics or self:_new_metrics()
  metrics_lib._update(metric_list, pred, yb, wb, self._core:output_mask())
  -- the loss accumulates with the metrics, as Keras' loss tracker: a mean over the samples
  local seen = self._batch_metrics and self._batch_loss or {sum = 0, n = 0}
  seen.sum, seen.n = seen.sum + value * xb:size(1), seen.n + xb:size(1)
  if seen.n > 0 then value = seen.sum / seen.n end
  local logs, list = {loss = value}, {value}
  for _, m in ipairs(metric_list) do metrics_lib._write_log(m, logs, list) end
  if opts.reset_metrics == false then
    self._batch_metrics, self._batch_metric_specs, self._batch_loss = metric_list, self._metric_specs, seen
  else
    self._batch_metrics, self._batch_loss = nil, nil
  end
  if opts.return_dict then return logs end
  return #metric_list == 0 and value or list
end

--- model:compute_gradients(x, y[, sample_weight | {sample_weight =, allow_nonfinite =}]) -> loss: the first half of a training
-- step (forward, loss, backward) on one batch, in training mode. The loss is fit's
-- (regularization penalties included); the raw gradients stay in the model: gradients().
function Model:compute_gradients(x, y, sample_weight)
  local allow_nonfinite
  if type(sample_weight) == "table" and not core.is_tensor(sample_weight) then
    options.check(sample_weight, {"sample_weight", "allow_nonfinite"}, "compute_gradients", 2)
    sample_weight, allow_nonfinite = sample_weight.sample_weight, sample_weight.allow_nonfinite
  end
  local xb, yb, wb = training_batch(self, "compute_gradients", x, y, sample_weight, nil, allow_nonfinite)
  return (self._core:compute_gradients(self.loss, xb, yb, wb))
end

--- model:layer_stats(x, y[, {sample_weight =}]) -> one row per layer (containers expanded)
-- of {name =, type =, act_mean =, act_std =, dead_fraction =, saturated_fraction =,
-- grad_norm =, weight_norm =, update_ratio =}: one forward and backward on the batch in
-- training mode, as compute_gradients (no update), with each layer's statistics computed
-- in C from its output and raw gradients (lua/lurn/training/layer_stats.lua).
function Model:layer_stats(x, y, opts)
  options.check(opts, {"sample_weight", "allow_nonfinite"}, "layer_stats", 2)
  opts = opts or {}
  local xb, yb, wb = training_batch(self, "layer_stats", x, y, opts.sample_weight, nil, opts.allow_nonfinite)
  local c = self._core
  -- a probe leaves the model as it was: the training forward moves BatchNormalization's
  -- statistics (non-trainable weights), which are put back
  local kept = {}
  for i, w in ipairs(self.non_trainable_weights) do kept[i] = w:clone() end
  c:record_stats(true)
  local ok, err = pcall(c.compute_gradients, c, self.loss, xb, yb, wb)
  c:record_stats(false)
  for i, w in ipairs(self.non_trainable_weights) do w:copy(kept[i]) end
  if not ok then error(err, 0) end
  return layer_stats.rows(self)
end

-- The model's weights split by whether training updates them (as of the last build or
-- compile, which pass the trainable flags to C): views, names.
local function split_weights(self, trainable)
  if not self._core then return {}, {} end
  local params, names, flags = self._core:weights()
  local out, out_names = {}, {}
  for i, p in ipairs(params) do
    if flags[i] == trainable then
      out[#out + 1], out_names[#out_names + 1] = p, names[i]
    end
  end
  return out, out_names
end

--- model:gradients() -> a copy of each raw gradient of the last compute_gradients or
-- training step (before clipping), in trainable_weights order.
function Model:gradients()
  if not self._core then return {} end
  local grads, _, flags = self._core:weights(true)
  local out = {}
  for i, g in ipairs(grads) do
    if flags[i] then out[#out + 1] = g:clone() end
  end
  return out
end

--- model:apply_gradients([grads]): the second half of a training step: the optimizer's
-- clipping (on its own copy) and update, with grads (one tensor per trainable weight, in
-- trainable_weights order) or, without, the model's own raw gradients.
function Model:apply_gradients(grads)
  if not self.compiled then error("apply_gradients: the model must be compiled first: call model:compile{...}", 2) end
  if not self._core then error("apply_gradients: the model is not built yet", 2) end
  if grads ~= nil and (type(grads) ~= "table" or core.is_tensor(grads)) then
    error("apply_gradients: grads must be a list of tensors, one per trainable weight, got "
      .. symbolic.describe(grads), 2)
  end
  self.optimizer:_apply_schedule()
  self._core:apply_gradients(self.optimizer._c, grads)
end

-- model.trainable_weights, model.non_trainable_weights: live views of the weights (Keras'
-- properties), trainable ones in the order gradients() and apply_gradients use.
local PROPERTIES = {
  trainable_weights = function(self) return (split_weights(self, true)) end,
  non_trainable_weights = function(self) return (split_weights(self, false)) end,
}

--- The __index of a class under Model: its methods, and the properties above.
function Model._index_for(cls)
  return function(_, key)
    local property = PROPERTIES[key]
    if property then return property(_) end
    return cls[key]
  end
end
Model.__index = Model._index_for(Model)

--- All weights, layer by layer in Keras order (copies).
function Model:get_weights()
  local out = {}
  for _, layer in ipairs(self.layers) do
    for _, w in ipairs(layer:get_weights()) do out[#out + 1] = w end
  end
  return out
end

function Model:set_weights(weights)
  if not self._core then error("set_weights: the model is not built yet", 2) end
  local at = 1
  for _, layer in ipairs(self.layers) do
    local k = #layer:parameters()
    if k > 0 then
      layer:set_weights(table.move(weights, at, at + k - 1, 1, {}))
      at = at + k
    end
  end
  if at - 1 ~= #weights then
    error(("set_weights: the model has %d weight tensors, got %d"):format(at - 1, #weights), 2)
  end
end

--- The number of parameters (one number, as Keras; summary() shows the trainable part).
function Model:count_params()
  if not self._core then
    error(("count_params: model '%s' is not built yet: give the first layer input_shape, or call "
      .. "model:build(per-sample shape), fit or predict first"):format(self.name), 2)
  end
  return (self:_param_counts())
end

-- Total and trainable parameter counts.
function Model:_param_counts()
  local total, trainable = 0, 0
  for _, layer in ipairs(self.layers) do
    local n, t = layer:_param_counts()
    total, trainable = total + n, trainable + (self.trainable == false and 0 or t)
  end
  return total, trainable
end

--- model:get_config(): plain data that the class's from_config builds an equal model from
-- (new weights): {name =, trainable =, layers = {lurn.layers.serialize(layer), ...}} in
-- model.layers' order, and what the container adds (model:_add_config): Sequential its
-- build_input_shape, Functional what each layer reads and the input and output layers.
function Model:get_config()
  local serialize = require("lurn.layers").serialize
  local cfg = {name = self.name, layers = {}, trainable = self.trainable ~= false}
  for i, layer in ipairs(self.layers) do cfg.layers[i] = serialize(layer) end
  self:_add_config(cfg)
  return cfg
end

--- model:summary([print_fn]): prints a Keras-style summary through print_fn (print by
-- default): the rows the container gives (model:_summary_table: Sequential's layers,
-- Functional's nodes with what each reads), laid out by summary.lua, then the totals.
function Model:summary(print_fn)
  print_fn = print_fn or print
  local columns, rows = self:_summary_table()
  local total, trainable = self:_param_counts()
  summary.print(print_fn, self.name, columns, rows, total, trainable)
end

-- Model files (lurn/models/saving.lua, loaded at first use): save, save_weights,
-- load_weights, export_npy, and _resume, which fit and train_on_batch call.
for _, method in ipairs{"save", "save_weights", "load_weights", "export_npy", "_resume"} do
  Model[method] = function(...) return require("lurn.models.saving")[method](...) end
end

-- Errors from these point at the user's line, wherever inside lurn they are raised.
for _, method in ipairs{"save", "save_weights", "load_weights", "export_npy", "compile", "fit", "evaluate", "predict",
                        "__call", "set_weights", "summary", "get_config", "train_on_batch", "compute_gradients",
                        "apply_gradients", "layer_stats"} do
  Model[method] = at_user_line(Model[method])
end

-- lurn.Model is this base, as keras.Model: Sequential and Functional inherit from it, and
-- called with inputs and outputs it makes a functional model (functional.lua), as
-- Model.from_config rebuilds one from its config.
local function functional() return require "lurn.models.functional" end
function Model.new(...) return functional().new(...) end
Model.from_config = at_user_line(function(config) return functional().from_config(config) end)
setmetatable(Model, {__call = at_user_line(function(_, ...) return functional().new(...) end)})

return Model
