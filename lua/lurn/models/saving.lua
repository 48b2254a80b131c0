--- Model files (docs/model-format.md): model:save / lurn.models.load_model (architecture,
-- weights, compile settings, optimizer state, random state, fitted preprocessing),
-- model:save_weights / model:load_weights, and model:export_npy (one .npy per weight).
-- The C core writes and checks the container (src/io/model_file.c: magic, version,
-- sections with CRC-32s, tensor lists); this file says what the sections hold. Plain data
-- is JSON (lurn.models.json), read without running anything.
local core = require "lurn.core"
local json = require "lurn.models.json"
local at_user_line = require "lurn.at_user_line"
local losses = require "lurn.losses"
local optimizers = require "lurn.optimizers"
local text = require "lurn.text"
local options = require "lurn.options"

local saving = {}

-- ---- what the sections hold ----------------------------------------------------------------

local function check_built(self, what)
  if not self._core then
    error(("%s: model '%s' is not built yet: give the first layer input_shape, or call model:build(per-sample "
      .. "shape), fit or predict first"):format(what, self.name), 3)
  end
end

-- The weights of the model, in the order its C model (and so the optimizer) keeps them.
local function weights_section(self)
  local params, names = self._core:weights()
  return core.encode_tensors(names, params)
end

-- Where a model's pieces cannot be plain data: a Lambda layer's function.
local function check_savable(self)
  for _, layer in ipairs(self.layers) do
    if layer.class_name == "Lambda" then
      error(("save: layer '%s' is a Lambda layer: its function cannot be saved in a model file (plain data only); "
        .. "save the weights with model:save_weights(path) and rebuild the model in code"):format(layer.name), 3)
    end
  end
end

local function loss_plain(loss)
  return {name = loss.name, kind = loss.kind, from_logits = loss.from_logits, delta = loss.delta}
end

local function loss_from_plain(t)
  if type(t) ~= "table" or type(t.kind) ~= "string" then error("training_config: the loss is not {kind =, ...}", 0) end
  local loss = losses.get(t.kind)
  loss.name = type(t.name) == "string" and t.name or t.kind
  loss.from_logits = t.from_logits == true
  if type(t.delta) == "number" then loss.delta = t.delta end
  return loss
end

-- Metrics as compile got them: names stay names; lurn's metric objects go by their name,
-- which must be one metrics.get knows (an object with other settings cannot be saved).
-- The metrics compile took: names as given, lurn's metric objects as the plain data that
-- made them ({class_name =, config =}); the classes a file may name on loading.
local METRIC_CLASSES = {Precision = true, Recall = true, AUC = true, F1Score = true}
local function metrics_plain(specs)
  local out = {}
  for i, spec in ipairs(specs or {}) do
    if type(spec) == "string" then
      out[i] = spec
    elseif type(spec) == "table" and type(spec._config) == "table" then
      out[i] = spec._config
    else
      error(("save: metric %d (%s) cannot be saved: compile with a metric name or one of lurn.metrics' classes "
        .. "(Precision, Recall, AUC, F1Score)"):format(i, type(spec) == "table" and tostring(spec.name) or type(spec)), 0)
    end
  end
  return out
end

local function metrics_from_plain(list)
  local metrics = require "lurn.metrics"
  local out = {}
  for i, m in ipairs(type(list) == "table" and list or {}) do
    if type(m) == "table" then
      if not METRIC_CLASSES[m.class_name] then
        error(("metric %d: unknown metric class '%s'"):format(i, tostring(m.class_name)), 0)
      end
      out[i] = metrics[m.class_name](m.config)
    else
      out[i] = m
    end
  end
  return out
end

-- A model of several outputs keeps a loss, a weight and a list of metrics per output
-- (lists in output order, as compile takes them: lurn/models/multi_io.lua).
local function training_config(self)
  if self.loss.outputs then
    local loss, weights, metrics = {}, {}, {}
    for k, entry in ipairs(self.loss.outputs) do
      loss[k], weights[k], metrics[k] = loss_plain(entry.loss), entry.weight, metrics_plain(self._output_metric_specs[k])
    end
    return {loss = loss, loss_weights = weights, metrics = metrics, optimizer = optimizers.serialize(self.optimizer)}
  end
  return {loss = loss_plain(self.loss), metrics = metrics_plain(self._metric_specs),
          optimizer = optimizers.serialize(self.optimizer)}
end

-- compile's loss and metrics from a training_config: per output when loss_weights is there.
local function compile_settings(tc)
  if tc.loss_weights == nil then return loss_from_plain(tc.loss), metrics_from_plain(tc.metrics), nil end
  if type(tc.loss) ~= "table" or type(tc.metrics) ~= "table" or type(tc.loss_weights) ~= "table" then
    error("training_config: the losses of several outputs are not lists", 0)
  end
  local loss, metrics, weights = {}, {}, {}
  for k, entry in ipairs(tc.loss) do
    loss[k], metrics[k] = loss_from_plain(entry), metrics_from_plain(tc.metrics[k])
    weights[k] = tc.loss_weights[k]
  end
  return loss, metrics, weights
end

-- The optimizer's state: its slots, and in plain data its step count and its rate as it
-- stands now, which callbacks change (ReduceLROnPlateau, LearningRateScheduler); a
-- scheduled rate follows from the step count instead.
local function optimizer_section(self)
  local iterations, product, slots = self.optimizer._c:state()
  local names = {}
  for k = 1, #slots do names[k] = ("slot_%d"):format(k) end
  local rate = not self.optimizer._schedule and self.optimizer.learning_rate or nil
  return core.encode_tensors(names, slots), {iterations = iterations, nadam_u_product = product, learning_rate = rate}
end

local function preprocessing_plain(objects)
  if objects == nil then return nil end
  if type(objects) ~= "table" then error("save: preprocessing must be a table {name = fitted object, ...}", 0) end
  local out = {}
  for name, obj in pairs(objects) do
    if type(name) ~= "string" then error("save: preprocessing must be keyed by names (strings)", 0) end
    if type(obj) ~= "table" or type(obj.get_state) ~= "function" then
      error(("save: preprocessing '%s' has no get_state (scalers, encoders, imputers, pipelines have)"):format(name), 0)
    end
    out[name] = obj:get_state()
  end
  return out
end

-- ---- saving ----------------------------------------------------------------------------------

local function encode(value, section)
  local ok, s = pcall(json.encode, value, section)
  if not ok then error("save: " .. text.message(s), 0) end
  return s
end

--- model:save(path [, {preprocessing = {name = fitted object, ...}}]): the whole model in
-- one file, written atomically (the old file stays whole if the save fails).
function saving.save(self, path, opts)
  if type(path) ~= "string" then error("save: expected a file path, got " .. type(path), 2) end
  options.check(opts, {"preprocessing"}, "save", 2, {unsupported = {"overwrite", "save_format", "include_optimizer",
                                                                    "signatures", "options", "save_traces"}})
  check_built(self, "save")
  check_savable(self)
  local sections = {
    {"model_config", encode({class_name = self.class_name, config = self:get_config()}, "model_config")},
    {"weights", weights_section(self)},
  }
  if self.compiled then
    sections[#sections + 1] = {"training_config", encode(training_config(self), "training_config")}
    local slots, state = optimizer_section(self)
    sections[#sections + 1] = {"optimizer_state", slots}
    state.rng = core.rng_state()
    sections[#sections + 1] = {"training_state", encode(state, "training_state")}
  end
  local pre = preprocessing_plain(opts and opts.preprocessing)
  if pre then sections[#sections + 1] = {"preprocessing", encode(pre, "preprocessing")} end
  core.model_file_write(path, sections)
end

--- saving.save_backup(model, path, backup): BackupAndRestore's file: the weights, the
-- optimizer's and the random state, and `backup` (plain data) in a section of that name;
-- no architecture, so that a model with a Lambda layer can be backed up too.
function saving.save_backup(self, path, backup)
  local slots, state = optimizer_section(self)
  state.rng = core.rng_state()
  core.model_file_write(path, {{"weights", weights_section(self)}, {"optimizer_state", slots},
                               {"training_state", encode(state, "training_state")},
                               {"backup", encode(backup, "backup")}})
end

--- model:save_weights(path): the weights alone, in a model file with one section.
function saving.save_weights(self, path)
  if type(path) ~= "string" then error("save_weights: expected a file path, got " .. type(path), 2) end
  check_built(self, "save_weights")
  core.model_file_write(path, {{"weights", weights_section(self)}})
end

-- ---- loading ---------------------------------------------------------------------------------

local function read_file(path, what)
  if type(path) ~= "string" then error(what .. ": expected a file path, got " .. type(path), 3) end
  return core.model_file_read(path)
end

local function section(path, sections, name, hint)
  local s = sections[name]
  if s == nil then
    error(("%s: the model file has no '%s' section%s"):format(path, name, hint or ""), 0)
  end
  return s
end

local function decode(path, sections, name)
  local value, err = json.decode(section(path, sections, name))
  if value == nil then error(("%s: section '%s' is not valid plain data: %s"):format(path, name, err), 0) end
  if type(value) ~= "table" then error(("%s: section '%s' is not a table"):format(path, name), 0) end
  return value
end

local function shape_of(t) return "(" .. table.concat(t:shape(), ", ") .. ")" end

-- Copies the file's weights into the model's, in order, after checking them all: a
-- mismatch changes nothing and names the weight.
local function set_weights_from(self, path, sections, what)
  local names, tensors = core.decode_tensors(path, "weights", section(path, sections, "weights"))
  local params, own = self._core:weights()
  if #tensors ~= #params then
    error(("%s: %s: the file holds %d weights, model '%s' has %d"):format(what, path, #tensors, self.name, #params), 0)
  end
  for i, p in ipairs(params) do
    if shape_of(p) ~= shape_of(tensors[i]) then
      error(("%s: %s: weight %d '%s' has shape %s in the file, but the model's '%s' has shape %s"):format(what,
        path, i, names[i], shape_of(tensors[i]), own[i], shape_of(p)), 0)
    end
  end
  for i, p in ipairs(params) do p:copy(tensors[i]) end
end

--- model:load_weights(path): the weights of a file that save or save_weights wrote, for a
-- model with the same architecture (matched by position; each shape checked).
function saving.load_weights(self, path)
  local sections = read_file(path, "load_weights")
  check_built(self, "load_weights")
  set_weights_from(self, path, sections, "load_weights")
  return self
end

local function rebuild(path, cfg)
  if type(cfg.config) ~= "table" then error(path .. ": section 'model_config' has no config table", 0) end
  local class
  if cfg.class_name == "Sequential" then
    class = require "lurn.models.sequential"
  elseif cfg.class_name == "Functional" then
    class = require "lurn.models.functional"
  else
    error(("%s: section 'model_config': unknown model class '%s' (Sequential or Functional)"):format(path,
      tostring(cfg.class_name)), 0)
  end
  local ok, model = pcall(class.from_config, cfg.config)
  if not ok then error(("%s: the architecture cannot be rebuilt: %s"):format(path, text.message(model)), 0) end
  if not model._core then error(path .. ": the architecture has no input shape: the model cannot be built", 0) end
  return model
end

local function compile_from(path, model, sections)
  local tc = decode(path, sections, "training_config")
  local ok, err = pcall(function()
    local loss, metrics, weights = compile_settings(tc)
    model:compile{optimizer = optimizers.deserialize(tc.optimizer), loss = loss, metrics = metrics,
                  loss_weights = weights}
  end)
  if not ok then error(("%s: the compile settings cannot be used: %s"):format(path, text.message(err)), 0) end
end

-- The optimizer's slots and iterations into the model's (compiled) optimizer, after
-- checking them; the random state kept for the model's next fit.
local function restore_training_state(path, model, sections)
  local state = decode(path, sections, "training_state")
  local _, slots = core.decode_tensors(path, "optimizer_state", section(path, sections, "optimizer_state"))
  if math.type(state.iterations) ~= "integer" or type(state.nadam_u_product) ~= "number"
    or type(state.rng) ~= "string" then
    error(path .. ": section 'training_state' lacks iterations, nadam_u_product or rng", 0)
  end
  -- The optimizer steps the trainable kinds of weights (not moving statistics), in the
  -- model's order: each parameter's slots must match the next such weight of its size.
  local params = model._core:weights()
  local per, at = model.optimizer._flags.amsgrad and 3 or 2, 1
  if #slots % per ~= 0 or #slots // per > #params then
    error(("%s: section 'optimizer_state' holds %d slots, which do not fit the model's %d weights"):format(path,
      #slots, #params), 0)
  end
  for k = 1, #slots, per do
    while params[at] and params[at]:numel() ~= slots[k]:numel() do at = at + 1 end
    if not params[at] then
      error(("%s: section 'optimizer_state': slot %d (%d values) fits none of the model's weights"):format(path, k,
        slots[k]:numel()), 0)
    end
    at = at + 1
  end
  local ok, err = pcall(model.optimizer._c.restore, model.optimizer._c, state.iterations, state.nadam_u_product, slots)
  if not ok then error(("%s: section 'optimizer_state': %s"):format(path, text.message(err)), 0) end
  -- learning_rate reads the rate of the latest update, as it did before the save
  if model.optimizer._schedule then model.optimizer:_apply_schedule(math.max(state.iterations - 1, 0)) end
  if state.learning_rate ~= nil and not model.optimizer._schedule then
    local rate = state.learning_rate
    if type(rate) ~= "number" or rate ~= rate or rate < 0 or rate == math.huge then
      error(path .. ": section 'training_state': learning_rate must be a finite number >= 0", 0)
    end
    model.optimizer.learning_rate = rate
  end
  ok, err = pcall(core.set_rng_state, state.rng)  -- checked here, applied at the next fit
  if not ok then error(("%s: section 'training_state': rng: %s"):format(path, text.message(err)), 0) end
  model._saved_rng, model._seeds_at_load = state.rng, require("lurn.random").seeds
end

local function preprocessing_from(path, sections)
  if sections.preprocessing == nil then return nil end
  local states = decode(path, sections, "preprocessing")
  local out = {}
  for name, state in pairs(states) do
    local from_state = type(state) == "table" and state.class == "Pipeline" and require("lurn.pipeline").from_state
                       or require("lurn.preprocessing").from_state
    local ok, obj = pcall(from_state, state)
    if not ok then
      error(("%s: preprocessing '%s' cannot be restored: %s"):format(path, tostring(name), text.message(obj)), 0)
    end
    out[name] = obj
  end
  return out
end

--- lurn.models.load_model(path [, {compile = true}]) -> model [, preprocessing]: the model
-- save wrote, compiled as it was (optimizer state included) when it was saved compiled
-- and compile is not false; the saved random state is applied at its next fit, so that
-- loading only to predict changes nothing.
function saving.load_model(path, opts)
  options.check(opts, {"compile"}, "load_model", 2, {unsupported = {"custom_objects", "safe_mode"}})
  local compile = not (opts and opts.compile == false)
  local rng = core.rng_state()
  local sections = read_file(path, "load_model")
  if sections.model_config == nil and sections.weights ~= nil then
    section(path, sections, "model_config", sections.backup ~= nil
      and " (a BackupAndRestore backup: it holds no architecture; BackupAndRestore reads it back into a model)"
      or " (a file of save_weights: read it into a model of the same layers with model:load_weights)")
  end
  -- the compile settings, the optimizer's state and the training state come together
  local training = {"training_config", "optimizer_state", "training_state"}
  local present = 0
  for _, name in ipairs(training) do present = present + (sections[name] and 1 or 0) end
  if present ~= 0 and present ~= #training then
    for _, name in ipairs(training) do
      section(path, sections, name, " (training_config, optimizer_state and training_state come together)")
    end
  end
  local ok, model, pre = pcall(function()
    local cfg = decode(path, sections, "model_config")
    -- the architecture may create no more weight values than the file holds
    local _, weights = core.decode_tensors(path, "weights", section(path, sections, "weights"))
    local values = 0
    for _, w in ipairs(weights) do values = values + w:numel() end
    local model = core.with_param_budget(values, rebuild, path, cfg)
    set_weights_from(model, path, sections, "load_model")
    if compile and sections.training_config then
      compile_from(path, model, sections)
      restore_training_state(path, model, sections)
    end
    return model, preprocessing_from(path, sections)
  end)
  core.set_rng_state(rng)  -- building drew initial weights: the process's stream is as it was
  if not ok then error(model, 0) end
  return model, pre
end

--- saving.restore_backup(model, path) -> the file's 'backup' section: BackupAndRestore's
-- way back into a run: the weights, and for a compiled model the optimizer's state and
-- the random state (applied at fit's start), into the model itself.
function saving.restore_backup(model, path)
  local sections = read_file(path, "BackupAndRestore")
  set_weights_from(model, path, sections, "BackupAndRestore")
  restore_training_state(path, model, sections)
  return decode(path, sections, "backup")
end

--- model:_resume(initial_epoch) -> the epoch fit starts at: applies the random state a
-- loaded model saved (once, at its first fit or train_on_batch), and the epoch a
-- BackupAndRestore callback restored in on_train_begin.
function saving._resume(self, initial_epoch)
  if self._saved_rng then
    -- a lurn.manual_seed since the load wins over the saved state
    if require("lurn.random").seeds == self._seeds_at_load then core.set_rng_state(self._saved_rng) end
    self._saved_rng = nil
  end
  local epoch = self._resume_epoch
  self._resume_epoch = nil
  return epoch or initial_epoch
end

-- ---- .npy export -----------------------------------------------------------------------------

--- The file-safe form of a weight's name: "dense_1/kernel" -> "dense_1.kernel"; in each
-- part, every byte but A-Z, a-z, 0-9, _ and - becomes _.
function saving.npy_name(name)
  local layer, weight = name:match("^(.*)/([^/]*)$")
  if not layer then layer, weight = name, "" end
  local function safe(s) return (s:gsub("[^%w_%-]", "_")) end
  return safe(layer) .. "." .. safe(weight) .. ".npy"
end

--- model:export_npy(dir): one .npy per weight, <layer>.<weight>.npy, in an existing directory.
function saving.export_npy(self, dir)
  if type(dir) ~= "string" then error("export_npy: expected a directory path, got " .. type(dir), 2) end
  check_built(self, "export_npy")
  local params, names = self._core:weights()
  local files, seen = {}, {}
  for i, name in ipairs(names) do
    local file = saving.npy_name(name)
    if seen[file] then
      error(("export_npy: weights '%s' and '%s' both map to the file name %s: rename a layer"):format(seen[file],
        name, file), 2)
    end
    seen[file], files[i] = name, file
  end
  for i, p in ipairs(params) do p:contiguous():save_npy(dir .. "/" .. files[i]) end
  return files
end

saving.load_model = at_user_line(saving.load_model)

return saving
