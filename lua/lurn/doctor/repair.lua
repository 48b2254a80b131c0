--- report:repair(build_or_model, opts): the findings whose fix is mechanical, applied to a
-- new model rebuilt from the model's config (get_config, the layer configs edited,
-- from_config, compiled again as the model was: get_compile_config). The user's model is
-- never changed. docs/doctor.md, "Repair".
--
-- -> repaired, result: repaired is a compiled model (or, given a builder, a builder that
-- returns the repaired model); result = {repaired = {{code =, layer =, what =}, ...},
-- not_repaired = {{code =, layer =, why =}, ...}, transform = function(x) (when the inputs
-- are to be changed: the imputer, then the scaler, each fitted on opts.x as the findings
-- ask; the user's x, training, validation and predicted, must then go through it),
-- imputer =, scaler = (the fitted steps),
-- fit_opts = {class_weight =} (what fit must now be given), notes = {text, ...}}.
-- Findings of severity info are left alone (listed nowhere).
local runs = require "lurn.experiments.runs"
local initializers = require "lurn.initializers"
local losses = require "lurn.losses"
local options = require "lurn.options"
local core = require "lurn.core"
local at_user_line = require "lurn.at_user_line"

local repair = {}

local WHO = "repair"

local LOSS_CLASS = {binary_crossentropy = "BinaryCrossentropy", categorical_crossentropy = "CategoricalCrossentropy",
                    sparse_categorical_crossentropy = "SparseCategoricalCrossentropy"}

local RELU_LIKE = {relu = true, elu = true, selu = true, leaky_relu = true, gelu = true}

local function is_model(v)
  return type(v) == "table" and type(v.get_config) == "function" and type(v.compile) == "function"
end

-- The layer configs of a model's config, by layer name, and in order.
local function layer_configs(config)
  local by_name, list = {}, {}
  for _, layer in ipairs(config.layers) do
    if type(layer.config) == "table" then
      list[#list + 1] = layer
      if layer.config.name then by_name[layer.config.name] = layer end
    end
  end
  return by_name, list
end

-- The layers a finding names: finding.layer, and evidence.layers (a list of names).
local function named_layers(f)
  local names = {}
  if type(f.layer) == "string" then names[#names + 1] = f.layer end
  if type(f.evidence.layers) == "table" then
    for _, n in ipairs(f.evidence.layers) do
      if type(n) == "string" and n ~= f.layer then names[#names + 1] = n end
    end
  end
  return names
end

-- The last layer with an activation (the output layer).
local function output_layer(list)
  for i = #list, 1, -1 do
    if list[i].config.activation ~= nil then return list[i] end
  end
end

local function initializer_class(init)
  if type(init) == "table" then return init.class_name end
  return init
end

local SYMMETRIC = {Zeros = true, zeros = true, Ones = true, ones = true, Constant = true, constant = true}

--- Keras' "balanced" class weights from counts per class (0-based classes): n / (k * n_c).
function repair.balanced_class_weight(counts)
  local n, k = 0, 0
  for _, c in ipairs(counts) do n, k = n + c, k + 1 end
  local w = {}
  for i, c in ipairs(counts) do
    if c > 0 then w[i - 1] = n / (k * c) end
  end
  return w
end

-- The edits of the model (config, compile settings) each finding asks for. Each handler
-- gets (f, state) and returns true and what it did, or false and why not.
local handlers = {}

-- The input steps (missing values imputed, then the features scaled) are fitted after
-- every finding is read (fit_input_steps): the scaler must see the imputed x, whatever the
-- order of the findings.
local function training_inputs(st)
  if not core.is_tensor(st.opts.x) then return nil end
  return st.opts.x
end

handlers.unscaled_features = function(f, st)
  if not training_inputs(st) then
    return false, "give repair the training inputs (opts.x) to fit a StandardScaler on"
  end
  st.scale = true
  return true, "StandardScaler fitted on the training inputs (result.scaler): give fit and predict result.transform(x)"
end

-- Far-out values that set a feature's scale: each named column clipped to its fences, fitted
-- on the training inputs, then every feature standardized again (a scaler, or the first
-- layer, fitted on the inflated std left the bulk near 0; clipped, the std is the bulk's).
handlers.outliers = function(f, st)
  if not training_inputs(st) then
    return false, "give repair the training inputs (opts.x) to fit the fences on"
  end
  local columns = f.evidence.columns
  if type(columns) ~= "table" or #columns == 0 then return false, "the finding names no columns" end
  st.clip = st.clip or {columns = {}, iqr = f.evidence.fence_iqr or 3}
  for _, j in ipairs(columns) do st.clip.columns[#st.clip.columns + 1] = j end
  st.scale = true
  return true, ("columns %s clipped to their far-out fences (Q1 - %g IQR, Q3 + %g IQR of the training inputs), then "
    .. "standardized (result.transform)"):format(table.concat(columns, ", "), st.clip.iqr, st.clip.iqr)
end

-- Whether a missing_values finding is about labels (check_data: split "the labels",
-- evidence.nonfinite_labels; diagnose: data "y" or "validation y").
local function about_labels(f)
  local e = f.evidence
  return e.nonfinite_labels ~= nil or (type(e.split) == "string" and e.split:find("labels", 1, true) ~= nil)
    or e.data == "y" or e.data == "validation y"
end

handlers.missing_values = function(f, st)
  local features, labels = false, false
  for _, g in ipairs(st.report:get("missing_values")) do
    if g.severity ~= "info" then
      if about_labels(g) then labels = true else features = true end
    end
  end
  local labels_why = "labels that are NaN or infinite: drop those rows (no label can be imputed)"
  if not features then return false, labels_why end
  if not training_inputs(st) then
    return false, "give repair the training inputs (opts.x) to fit a SimpleImputer on"
  end
  if labels then
    st.result.not_repaired[#st.result.not_repaired + 1] = {code = "missing_values", why = labels_why}
  end
  st.impute = true
  return true, "SimpleImputer (mean, infinities counted as missing) fitted on the training inputs: give fit and "
    .. "predict result.transform(x)"
end

-- x as rows (N, features), its infinities made NaN (missing, for the imputer).
local function as_rows(x, finite)
  local flat = x:reshape(x:size(1), x:numel() // math.max(x:size(1), 1))
  if finite and flat:abs():eq(math.huge):sum() > 0 then
    local nan = core.full({flat:size(2)}, 0 / 0)
    flat = core.columns_fill(core.columns_fill(flat, math.huge, nan), -math.huge, nan)
  end
  return flat
end

-- Fits the imputer (on opts.x) and the scaler (on the imputed x), as the findings asked,
-- and result.transform, which applies them in that order to any x of the training x's
-- shape (a sample's values read as one row of features).
local function fit_input_steps(st)
  if not (st.impute or st.scale) then return end
  local pp = require "lurn.preprocessing"
  local x = as_rows(training_inputs(st), st.impute)
  local imputer, scaler, clip
  if st.impute then
    imputer = pp.SimpleImputer{strategy = "mean", keep_empty_features = true}
    x = imputer:fit_transform(x)
  end
  if st.clip then
    -- the fences of the named columns; the others unbounded
    local width = x:size(2)
    local q = core.column_quantiles(x, {25, 75}):totable()
    local lo, hi = {}, {}
    for j = 1, width do lo[j], hi[j] = -math.huge, math.huge end
    for _, j in ipairs(st.clip.columns) do
      if j >= 1 and j <= width then
        local iqr = q[2][j] - q[1][j]
        lo[j], hi[j] = q[1][j] - st.clip.iqr * iqr, q[2][j] + st.clip.iqr * iqr
      end
    end
    clip = {lo = core.tensor(lo):reshape(1, width), hi = core.tensor(hi):reshape(1, width)}
    x = x:maximum(clip.lo):minimum(clip.hi)
  end
  if st.scale then
    scaler = pp.StandardScaler()
    scaler:fit(x)
  end
  st.result.imputer, st.result.scaler, st.result.clip = imputer, scaler, clip
  -- a function the user calls: its argument errors at the user's line
  st.result.transform = at_user_line(function(t)
    if not core.is_tensor(t) then error(("transform: x must be a tensor, got %s"):format(type(t)), 0) end
    local shape = t:shape()
    local rows = as_rows(t, imputer ~= nil)
    if imputer then rows = imputer:transform(rows) end
    if clip then rows = rows:maximum(clip.lo):minimum(clip.hi) end
    if scaler then rows = scaler:transform(rows) end
    return rows:reshape(table.unpack(shape))
  end)
  local steps = {}
  if imputer then steps[#steps + 1] = "imputed" end
  if clip then steps[#steps + 1] = "clipped to the fences" end
  if scaler then steps[#steps + 1] = "scaled" end
  st.result.notes[#st.result.notes + 1] = ("the inputs are to be %s: give fit, evaluate and predict "
    .. "result.transform(x) (fitted on the training x)"):format(table.concat(steps, ", then "))
end

local function learning_rate_change(f, st, factor)
  local opt = st.optimizer
  if opt._schedule then
    return false, ("the learning rate is a schedule (%s): change its initial rate by hand"):format(
      opt._schedule.class_name)
  end
  local old = opt.learning_rate
  local new = f.evidence.suggested_lr
  if type(new) ~= "number" or not (new > 0) then new = old * factor end
  st.learning_rate = new
  return true, ("learning_rate %.4g -> %.4g"):format(old, new)
end

handlers.lr_too_high = function(f, st) return learning_rate_change(f, st, 0.1) end
handlers.lr_too_low = function(f, st) return learning_rate_change(f, st, 10) end

-- underfitting with regularized layers named (evidence.layers): their penalties set to
-- l2(1e-4), what the finding's fix says; without such layers capacity is a design choice.
handlers.underfitting = function(f, st)
  local names = type(f.evidence.regularized_layers) == "table" and f.evidence.regularized_layers or {}
  if #names == 0 then return false, "give the model more capacity or train longer (a design choice)" end
  for _, name in ipairs(names) do
    local layer = st.by_name[name]
    if not layer then return false, ("no layer named '%s' in the model"):format(name) end
    layer.config.kernel_regularizer = {class_name = "L1L2", config = {l1 = 0, l2 = 1e-4}}
    layer.config.bias_regularizer = nil
  end
  return true, ("the regularizers of %s -> l2(1e-4)"):format(table.concat(names, ", "))
end

-- overfitting: EarlyStopping on the validation loss, the best weights restored (the first
-- of the finding's fixes; Dropout or L2 change the model's design).
handlers.overfitting = function(_, st)
  local callbacks = require("lurn.training.callbacks")
  st.result.fit_opts.callbacks = {callbacks.EarlyStopping{monitor = "val_loss", patience = 3,
                                                          restore_best_weights = true}}
  st.result.notes[#st.result.notes + 1] = "give fit callbacks = result.fit_opts.callbacks (and validation data)"
  return true, "EarlyStopping{monitor = \"val_loss\", patience = 3, restore_best_weights = true}"
end

-- A bias initializer that starts every unit below zero: a negative Constant.
local function negative_bias(init)
  local value = type(init) == "table" and (init.class_name == "Constant" or init.class_name == "constant")
    and type(init.config) == "table" and init.config.value
  return type(value) == "number" and value < 0 and value or nil
end

-- Whether the report being repaired holds `code` at warning or error.
local function reported(st, code)
  for _, f in ipairs(st.report:get(code)) do
    if f.severity ~= "info" then return true end
  end
  return false
end

-- Whether the inputs get the scaler (unscaled_features reported, the training x given):
-- what the probe measured on the raw inputs then changes with them.
local function inputs_scaled(st)
  return reported(st, "unscaled_features") and training_inputs(st) ~= nil
end

handlers.dead_relu = function(f, st)
  local names = named_layers(f)
  if #names == 0 then return false, "the finding names no layer" end
  -- inputs far from unit scale kill rectifier units (their offsets push pre-activations
  -- below zero, their huge first steps throw units there): with the inputs scaled by
  -- unscaled_features' repair the units' cause is gone, and relu stays (a healthy relu
  -- net on the same data, scaled, keeps its units)
  local by_scale = inputs_scaled(st)
  local done, biases = {}, {}
  for _, name in ipairs(names) do
    local layer = st.by_name[name]
    if not layer then return false, ("no layer named '%s' in the model"):format(name) end
    local act = layer.config.activation
    if act ~= "relu" then return false, ("layer '%s' has activation %s, not relu"):format(name, tostring(act)) end
    if not by_scale then layer.config.activation = "leaky_relu" end
    done[#done + 1] = name
    -- the units' cause of death, when it is the bias they start with
    local value = negative_bias(layer.config.bias_initializer)
    if value then
      layer.config.bias_initializer = initializers.serialize(initializers.get("zeros"))
      biases[#biases + 1] = ("%s (Constant %g)"):format(name, value)
    end
  end
  local what = by_scale
    and ("the inputs scaled (unscaled_features' StandardScaler, result.scaler): %s keep relu"):format(
      table.concat(done, ", "))
    or ("activation relu -> leaky_relu in %s"):format(table.concat(done, ", "))
  if #biases > 0 then what = what .. "; bias_initializer -> zeros in " .. table.concat(biases, ", ") end
  return true, what
end

-- The kernel initializers that keep a layer's signal at its scale under its activation:
-- He's (variance 2 / fan_in) where half the units pass (the relu family), Glorot's or
-- LeCun's (about 1 / fan) where the slope at 0 is at most 1.
local MATCHED = {relu = {HeNormal = true, HeUniform = true},
                 other = {GlorotUniform = true, GlorotNormal = true, LecunNormal = true, LecunUniform = true,
                          Orthogonal = true}}

local function matched_initializer(activation)
  return RELU_LIKE[activation or ""] and "he_normal" or "glorot_uniform"
end

-- The named layers' kernel initializers matched to their activations (matched_initializer)
-- where they are not already -> the changes ("name: he_normal", ...), and the layers left
-- as they were because they already matched (a list of names).
local function match_initializers(st, names)
  local changed, kept = {}, {}
  for _, name in ipairs(names) do
    local layer = st.by_name[name]
    local c = layer and layer.config
    if c and c.kernel_initializer ~= nil then
      local class = initializer_class(c.kernel_initializer)
      local family = RELU_LIKE[c.activation or ""] and MATCHED.relu or MATCHED.other
      if st.reinitialized[name] or family[class] then
        kept[#kept + 1] = name
      else
        local new = matched_initializer(c.activation)
        c.kernel_initializer = initializers.serialize(initializers.get(new))
        st.reinitialized[name] = true
        changed[#changed + 1] = ("%s: %s -> %s"):format(name, tostring(class), new)
      end
    end
  end
  return changed, kept
end

-- A gradient grown or shrunk through depth comes from the per-layer gain, which the kernels'
-- scale sets: the named layers get the initializer of their activation.
handlers.exploding_gradients = function(f, st)
  local changes = {}
  local changed = match_initializers(st, named_layers(f))
  if #changed > 0 then changes[1] = "kernel_initializer " .. table.concat(changed, ", ") end
  -- and the steps bounded whatever the cause: a gradient's norm clipped to 1 (Keras' clipnorm)
  local clip = st.optimizer.clipnorm
  if not (type(clip) == "number" and clip > 0 and clip <= 1) then
    st.clipnorm = 1.0
    changes[#changes + 1] = ("optimizer clipnorm %s -> 1.0"):format(
      (type(clip) == "number" and clip > 0) and ("%g"):format(clip) or "none")
  end
  if #changes == 0 then
    return false, "the named layers' initializers match their activations and the optimizer already clips at 1: "
      .. "lower the learning rate or add BatchNormalization"
  end
  return true, table.concat(changes, "; ")
end

handlers.vanishing_gradients = function(f, st)
  local changed, kept = match_initializers(st, named_layers(f))
  if #changed > 0 then return true, "kernel_initializer " .. table.concat(changed, ", ") end
  if #kept > 0 then
    return false, "the named layers' initializers already match their activations: the activations' slope (sigmoid's "
      .. "is at most 1/4) shrinks the gradient at every layer; relu-family activations, BatchNormalization or fewer "
      .. "layers are a design choice"
  end
  return false, "the finding names no layer with a kernel initializer"
end

handlers.saturation = function(f, st)
  local changes = {}
  local changed = match_initializers(st, named_layers(f))
  if #changed > 0 then changes[1] = "kernel_initializer " .. table.concat(changed, ", ") end
  -- inputs far from unit scale saturate the first layer whatever its initializer: the
  -- scaler unscaled_features' repair fits is this finding's repair too
  if inputs_scaled(st) then
    changes[#changes + 1] = "the inputs scaled (unscaled_features' StandardScaler, result.scaler)"
  end
  if #changes == 0 then
    return false, "the named layer's initializer matches its activation and the inputs are not reported unscaled: "
      .. "relu-family activations or BatchNormalization are a design choice"
  end
  return true, table.concat(changes, "; ")
end

handlers.symmetric_initialization = function(f, st)
  local names = named_layers(f)
  local targets = {}
  if #names > 0 then
    for _, name in ipairs(names) do
      local layer = st.by_name[name]
      if not layer then return false, ("no layer named '%s' in the model"):format(name) end
      targets[#targets + 1] = layer
    end
  else  -- every layer whose kernel starts constant
    for _, layer in ipairs(st.list) do
      if SYMMETRIC[initializer_class(layer.config.kernel_initializer) or ""] then targets[#targets + 1] = layer end
    end
  end
  local done = {}
  for _, layer in ipairs(targets) do
    local c = layer.config
    if c.kernel_initializer == nil then
      return false, ("layer '%s' has no kernel_initializer"):format(tostring(c.name))
    end
    local name = RELU_LIKE[c.activation or ""] and "he_normal" or "glorot_uniform"
    c.kernel_initializer = initializers.serialize(initializers.get(name))
    done[#done + 1] = ("%s: %s"):format(c.name, name)
  end
  if #done == 0 then return false, "no layer's kernel_initializer is zeros, ones or constant" end
  return true, "kernel_initializer -> " .. table.concat(done, ", ")
end

-- no_nonlinearity: the layers of the linear run (evidence.layers, in order) but the last
-- get relu, which breaks the composition into one linear map; the last keeps its own (the
-- output's, or the activation that ended the run).
handlers.no_nonlinearity = function(f, st)
  local names = f.evidence.layers
  if type(names) ~= "table" or #names < 2 then return false, "the finding names no run of layers" end
  local done = {}
  for i = 1, #names - 1 do
    local layer = st.by_name[names[i]]
    if not layer then return false, ("no layer named '%s' in the model"):format(tostring(names[i])) end
    local act = layer.config.activation
    if act ~= nil and act ~= "linear" then
      return false, ("layer '%s' has activation %s, not linear"):format(names[i], tostring(act))
    end
  end
  for i = 1, #names - 1 do
    st.by_name[names[i]].config.activation = "relu"
    done[#done + 1] = names[i]
  end
  return true, "activation linear -> relu in " .. table.concat(done, ", ")
end

-- bottleneck: the named layer widened to evidence.suggested_width (one unit per output
-- value), else the output's units (the rebuilt model's next layer takes the new width).
handlers.bottleneck = function(f, st)
  local layer = type(f.layer) == "string" and st.by_name[f.layer]
  if not layer then return false, ("no layer named '%s' in the model"):format(tostring(f.layer)) end
  local e = f.evidence
  local width = math.tointeger(e.suggested_width or e.output_units)
  local key = layer.config.units ~= nil and "units" or layer.config.filters ~= nil and "filters" or nil
  if not key then return false, ("layer '%s' has no units or filters to widen"):format(f.layer) end
  local old = layer.config[key]
  if not width or width <= old then return false, "the finding gives no width above the layer's" end
  layer.config[key] = width
  return true, ("%s widened from %d to %d %s"):format(f.layer, old, width, key)
end

-- The loss kind and from_logits the model is compiled with.
local function loss_of(st)
  return st.loss_kind, st.from_logits
end

local function set_loss(st, kind, from_logits)
  st.loss_kind, st.from_logits = kind, from_logits
end

-- Whether labels look one-hot: evidence.label_encoding, else opts.y's shape.
local function label_encoding(f, st)
  local enc = f.evidence.label_encoding
  if enc == "one_hot" or enc == "sparse" then return enc end
  local y = st.opts.y
  if core.is_tensor(y) then return (y:dim() == 2 and y:size(2) > 1) and "one_hot" or "sparse" end
end

handlers.label_encoding_mismatch = function(f, st)
  local kind = loss_of(st)
  if type(f.evidence.suggested_loss) == "string" and LOSS_CLASS[f.evidence.suggested_loss] then
    set_loss(st, f.evidence.suggested_loss, st.from_logits)
    return true, ("loss %s -> %s"):format(kind, f.evidence.suggested_loss)
  end
  local enc = label_encoding(f, st)
  if enc == "one_hot" and kind == "sparse_categorical_crossentropy" then
    set_loss(st, "categorical_crossentropy", st.from_logits)
    return true, "loss sparse_categorical_crossentropy -> categorical_crossentropy (the labels are one-hot)"
  elseif enc == "sparse" and kind == "categorical_crossentropy" then
    set_loss(st, "sparse_categorical_crossentropy", st.from_logits)
    return true, "loss categorical_crossentropy -> sparse_categorical_crossentropy (the labels are class numbers)"
  end
  -- class numbers past the output's units: the output widened to one unit a class number
  -- (what check_data's fix says); negative or fractional labels are not mechanical
  local e, y = f.evidence, st.opts.y
  local lo, hi = e.label_min, e.label_max
  if (type(lo) ~= "number" or type(hi) ~= "number") and core.is_tensor(y) and enc == "sparse" then
    local flat = y:reshape(y:numel())
    if (flat - flat:floor()):ne(0):sum() == 0 then lo, hi = flat:min(), flat:max() end
  end
  local out = output_layer(st.list)
  local units = out and out.config.units
  if enc == "sparse" and (kind == "sparse_categorical_crossentropy" or kind == nil) and type(lo) == "number"
    and type(hi) == "number" and lo >= 0 and hi == math.floor(hi) and type(units) == "number" and hi + 1 > units
    and out.config.activation == "softmax" then
    out.config.units = math.tointeger(hi + 1)
    return true, ("output '%s' widened from %d to %d units (labels run to %d; unused class numbers are never "
      .. "predicted)"):format(tostring(out.config.name), units, out.config.units, math.tointeger(hi))
  end
  return false, "labels negative or fractional are not mechanical: relabel them (lurn.preprocessing.LabelEncoder)"
end

handlers.loss_output_mismatch = function(f, st)
  local kind, from_logits = loss_of(st)
  local out = output_layer(st.list)
  local act = out and out.config.activation
  local units = out and out.config.units
  local e = f.evidence
  local changes = {}
  if type(e.suggested_loss) == "string" and LOSS_CLASS[e.suggested_loss] then
    set_loss(st, e.suggested_loss, from_logits)
    changes[#changes + 1] = ("loss %s -> %s"):format(kind, e.suggested_loss)
  elseif kind == "binary_crossentropy" and act == "softmax" and (units or 1) > 1 then
    local new = label_encoding(f, st) == "one_hot" and "categorical_crossentropy" or "sparse_categorical_crossentropy"
    set_loss(st, new, from_logits)
    changes[#changes + 1] = "loss binary_crossentropy -> " .. new .. " (softmax over several classes)"
  elseif (kind == "categorical_crossentropy" or kind == "sparse_categorical_crossentropy") and act == "sigmoid"
    and (units or 1) > 1 then
    out.config.activation = "softmax"
    changes[#changes + 1] = ("output activation sigmoid -> softmax in %s"):format(out.config.name)
  end
  if st.from_logits and act ~= nil and act ~= "linear" then
    st.from_logits = false
    changes[#changes + 1] = ("from_logits = false (the output '%s' already applies %s)"):format(
      tostring(out.config.name), act)
  elseif e.from_logits == true and not st.from_logits and (act == "linear" or act == nil) then
    st.from_logits = true
    changes[#changes + 1] = "from_logits = true (the output is linear)"
  end
  if #changes == 0 then return false, "no mechanical change found for this model's loss and output" end
  return true, table.concat(changes, "; ")
end

handlers.class_imbalance = function(f, st)
  local counts = f.evidence.class_counts
  if type(counts) ~= "table" or #counts < 2 then return false, "the finding has no evidence.class_counts" end
  local w = repair.balanced_class_weight(counts)
  st.result.fit_opts.class_weight = w
  st.result.notes[#st.result.notes + 1] = "give fit class_weight = result.fit_opts.class_weight"
  local parts = {}
  for c = 0, #counts - 1 do parts[#parts + 1] = ("[%d] = %.3g"):format(c, w[c] or 0) end
  return true, "class_weight {" .. table.concat(parts, ", ") .. "} (Keras' balanced rule)"
end

repair.MECHANICAL = {}
for code in pairs(handlers) do repair.MECHANICAL[#repair.MECHANICAL + 1] = code end
table.sort(repair.MECHANICAL)

local WHY_NOT = {
  constant_feature = "drop the constant columns from x",
  split_missing_class = "split again with stratify = y",
  train_test_overlap = "remove the duplicated rows from one of the splits",
  label_noise = "check the suspect labels named in the evidence",
  nan_loss = "find the cause among the other findings (learning rate, data)",
}

-- The edits applied to a new model built from `model`'s config -> a compiled model.
local function rebuild(model, st)
  local copy = getmetatable(model).from_config(st.config)
  local c = model:get_compile_config()
  local opt = runs.optimizer(WHO, st.optimizer, st.learning_rate)
  if st.clipnorm then opt.clipnorm = st.clipnorm end
  local loss = c.loss
  if st.loss_kind ~= st.orig_kind or st.from_logits ~= st.orig_from_logits then
    loss = losses[LOSS_CLASS[st.loss_kind]]{from_logits = st.from_logits}
  end
  return copy:compile{optimizer = opt, loss = loss, metrics = c.metrics, loss_weights = c.loss_weights}
end

local function plan(report, model, opts, inputs_fitted)
  if not model.compiled then error(WHO .. ": the model must be compiled (its repair is compiled the same way)", 3) end
  local config = model:get_config()
  local by_name, list = layer_configs(config)
  local loss = model.loss or {}
  local st = {opts = opts, report = report, reinitialized = {}, config = config, by_name = by_name, list = list,
              optimizer = model.optimizer,
              loss_kind = loss.kind, from_logits = loss.from_logits, orig_kind = loss.kind,
              orig_from_logits = loss.from_logits,
              result = {repaired = {}, not_repaired = {}, fit_opts = {}, notes = {}}}
  local seen = {}
  for _, f in ipairs(report:sorted()) do
    if f.severity ~= "info" then
      local key = f.code .. "\0" .. tostring(f.layer)
      if not seen[key] then
        seen[key] = true
        local handler = handlers[f.code]
        local ok, what
        if handler then
          ok, what = handler(f, st)
        else
          ok, what = false, WHY_NOT[f.code] or "no mechanical fix for this finding"
        end
        local list_ = ok and st.result.repaired or st.result.not_repaired
        list_[#list_ + 1] = {code = f.code, layer = f.layer, [ok and "what" or "why"] = what}
      end
    end
  end
  if not inputs_fitted then fit_input_steps(st) end
  return st
end

--- The repair of a report's findings on a compiled model, or on a builder (a function
-- returning a compiled model): see the top of this file.
-- The model a builder returned, or an error saying what it returned.
local function built(model)
  if not is_model(model) then
    error(("%s: the builder must return a compiled lurn model, got %s"):format(WHO,
      core.is_tensor(model) and "a tensor" or type(model)), 0)
  end
  return model
end

-- opts.x and opts.y: tensors, x of the model's input (as fit takes it); seed an integer.
local function check_opts(model, opts)
  for _, k in ipairs{"x", "y"} do
    if opts[k] ~= nil and not core.is_tensor(opts[k]) then
      error(("%s: %s must be a tensor (the training %s), got %s"):format(WHO, k, k == "x" and "inputs" or "labels",
        type(opts[k])), 0)
    end
  end
  if opts.x ~= nil then
    local ok, err = pcall(model._check_x, model, opts.x, WHO .. ": x")
    if not ok then error((tostring(err):gsub("^[^\n]-:%d+: ", "")), 0) end
  end
  if opts.seed ~= nil and math.type(opts.seed) ~= "integer" then
    error(("%s: seed must be an integer, got %s"):format(WHO, type(opts.seed) == "string"
      and ("the string %q"):format(opts.seed) or tostring(opts.seed)), 0)
  end
end

function repair.repair(report, build_or_model, opts)
  options.check(opts, {"x", "y", "seed"}, WHO, 2)
  opts = opts or {}
  if is_model(build_or_model) then
    check_opts(build_or_model, opts)
    local st = plan(report, build_or_model, opts)
    if opts.seed then require("lurn.random").manual_seed(opts.seed) end
    return rebuild(build_or_model, st), st.result
  end
  if type(build_or_model) ~= "function" and not (getmetatable(build_or_model) or {}).__call then
    error(WHO .. ": give a compiled model or a function that returns one, got " .. type(build_or_model), 2)
  end
  -- a builder: the plan made once on a model it builds, applied to every model it builds
  local first = built(build_or_model())
  check_opts(first, opts)
  local st = plan(report, first, opts)
  local result = st.result
  local builder = at_user_line(function(...)
    local model = built(build_or_model(...))
    local again = plan(report, model, opts, true)  -- the input steps are fitted once, in result
    return rebuild(model, again)
  end)
  return builder, result
end

return repair
