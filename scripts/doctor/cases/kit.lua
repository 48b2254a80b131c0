--- What the corpus's cases share (scripts/doctor/cases/*.lua): the shipped data sets as
-- tensors, a stratified split, a scaler, a small MLP, and `on`, which makes a data set and
-- a model into a case's build function. corpus.lua sets kit.ROOT before the cases load.
local lurn = rawget(_G, "lurn") or require "lurn"

local kit = {SEED = 7}
local L = lurn.layers
kit.L = L

--- examples/data/NAME.csv -> x (N, float features), y (N) class labels (the `target` column).
function kit.csv(name)
  local df = lurn.data.read_csv(("%s/examples/data/%s.csv"):format(kit.ROOT or ".", name))
  local features = {}
  for _, c in ipairs(df.columns) do
    if c ~= "target" and df.dtypes[c] == "float" then features[#features + 1] = c end
  end
  return df:to_tensor{columns = features}, df:column("target")
end

--- A stratified split, a quarter held out: xt, yt, xv, yv.
function kit.split(x, y)
  local xt, xv, yt, yv = lurn.model_selection.train_test_split(x, y, {test_size = 0.25, random_state = kit.SEED,
                                                                      stratify = y})
  return xt, yt, xv, yv
end

--- Scaled with a StandardScaler fitted on the training part.
function kit.scale(xt, xv)
  local s = lurn.preprocessing.StandardScaler()
  s:fit(xt)
  return s:transform(xt), s:transform(xv)
end

--- A prepare step that only scales.
function kit.scaled(xt, yt, xv, yv)
  local a, b = kit.scale(xt, xv)
  return a, yt, b, yv
end

--- An MLP classifier for `features` inputs and `classes` classes, compiled. opts: units,
-- init (kernel_initializer of the hidden layer), activation (hidden), lr, optimizer, loss,
-- output (activation), layers (a list replacing the hidden layer: built by the caller).
function kit.mlp(features, classes, opts)
  opts = opts or {}
  lurn.manual_seed(kit.SEED)
  local layers = {}
  if opts.hidden then
    for i, l in ipairs(opts.hidden(features)) do layers[i] = l end
  else
    layers[1] = L.Dense(opts.units or 16, {activation = opts.activation or "relu", input_shape = {features},
                                           kernel_initializer = opts.init or "he_normal"})
  end
  layers[#layers + 1] = L.Dense(opts.out_units or classes, {activation = opts.output or "softmax"})
  local m = lurn.Sequential(layers)
  return m:compile{optimizer = opts.optimizer or lurn.optimizers.Adam{learning_rate = opts.lr or 0.01},
                   loss = opts.loss or "sparse_categorical_crossentropy", metrics = {"accuracy"}}
end

function kit.classes_of(y) return math.tointeger(y:max()) + 1 end

--- Counts per class (a list, class c at c + 1).
function kit.class_counts(y, classes)
  local counts = {}
  for c = 1, classes do counts[c] = 0 end
  for i = 1, y:size(1) do
    local c = math.tointeger(y:get(i)) + 1
    counts[c] = counts[c] + 1
  end
  return counts
end

--- A data set made into a case's build function: function(epochs) -> model, x, y, opts.
-- prepare(xt, yt, xv, yv) -> the same four, changed (nil: as read); model_opts go to
-- kit.mlp (or model_opts.build(features, classes) builds the model); fit_opts: balanced
-- (class_weight by Keras' balanced rule on the training labels), batch_size.
function kit.on(name, prepare, model_opts, fit_opts)
  fit_opts = fit_opts or {}
  return function(epochs)
    local x, y = kit.csv(name)
    local classes = kit.classes_of(y)
    local xt, yt, xv, yv = kit.split(x, y)
    if prepare then xt, yt, xv, yv = prepare(xt, yt, xv, yv) end
    local m = model_opts and model_opts.build and model_opts.build(xt:size(2), classes)
      or kit.mlp(xt:size(2), classes, model_opts)
    local opts = {validation_data = {xv, yv}, epochs = epochs, batch_size = fit_opts.batch_size or 16}
    if fit_opts.balanced then
      opts.class_weight = require("lurn.doctor.repair").balanced_class_weight(kit.class_counts(yt, classes))
    end
    return m, xt, yt, opts
  end
end

-- ---- data cases' helpers (scripts/doctor/cases/data.lua) -------------------------------

--- Penguins (examples/data/penguins.csv): the four measurements, NaN where the file says
-- NA (two birds were not measured), and the species as 0 Adelie, 1 Chinstrap, 2 Gentoo.
function kit.penguins()
  local df = lurn.data.read_csv(("%s/examples/data/penguins.csv"):format(kit.ROOT or "."))
  local x = df:to_tensor{columns = {"bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"}}
  return x, lurn.preprocessing.LabelEncoder():fit_transform(df:column("species"))
end

local fashion_cache
--- The first n Fashion-MNIST training images, flattened to 784 grey levels 0..255 (as
-- stored), and their labels 0..9; read once.
function kit.fashion(n)
  fashion_cache = fashion_cache or {lurn.datasets.fashion_mnist.load_data()}
  local x, y = fashion_cache[1], fashion_cache[2]
  return x:narrow(1, 1, n):reshape(n, 784):contiguous(), y:narrow(1, 1, n):contiguous()
end

-- ---- prepare steps and loaders the case files share ------------------------------------

--- Missing values filled with the training columns' means (SimpleImputer's default
-- strategy), then scaled: what the repair of missing_values does, and the usual fix
-- (penguins' two unmeasured birds).
function kit.imputed(xt, yt, xv, yv)
  local imp = lurn.preprocessing.SimpleImputer{strategy = "mean"}
  imp:fit(xt)
  local a, b = kit.scale(imp:transform(xt), imp:transform(xv))
  return a, yt, b, yv
end

--- Grey levels 0..255 divided by 255 (Fashion-MNIST as the seeds scale it).
function kit.pixels(xt, yt, xv, yv) return xt / 255, yt, xv / 255, yv end

--- The labels one-hot for `classes` classes (both splits), after scaling: what
-- binary_crossentropy on a softmax and categorical_crossentropy read.
function kit.one_hot(classes)
  return function(xt, yt, xv, yv)
    xt, xv = kit.scale(xt, xv)
    return xt, lurn.utils.to_categorical(yt, classes), xv, lurn.utils.to_categorical(yv, classes)
  end
end

--- A loader of the first n Fashion-MNIST training images, for kit.from.
function kit.fashion_rows(n) return function() return kit.fashion(n) end end

--- As kit.on, for any data: load() -> x, y (every row). fit_opts may also hold split
-- (function(x, y) -> xt, yt, xv, yv, in place of the stratified split).
function kit.from(load, prepare, model_opts, fit_opts)
  fit_opts = fit_opts or {}
  return function(epochs)
    local x, y = load()
    local classes = kit.classes_of(y)
    local xt, yt, xv, yv = (fit_opts.split or kit.split)(x, y)
    if prepare then xt, yt, xv, yv = prepare(xt, yt, xv, yv) end
    local m = model_opts and model_opts.build and model_opts.build(xt:size(2), classes)
      or kit.mlp(xt:size(2), classes, model_opts)
    local opts = {validation_data = {xv, yv}, epochs = epochs, batch_size = fit_opts.batch_size or 16}
    if fit_opts.balanced then
      opts.class_weight = require("lurn.doctor.repair").balanced_class_weight(kit.class_counts(yt, classes))
    end
    return m, xt, yt, opts
  end
end

--- Hidden layers for kit.mlp's `hidden`: widths {w1, w2, ...} under one activation.
function kit.stack(widths, activation, init)
  return function(features)
    local layers = {}
    for i, w in ipairs(widths) do
      layers[i] = L.Dense(w, {activation = activation or "relu", input_shape = i == 1 and {features} or nil,
                              kernel_initializer = init or (activation == "tanh" and "glorot_uniform" or "he_normal")})
    end
    return layers
  end
end

--- A stack of `depth` Dense layers of `width` units for kit.mlp's `hidden` (gradient cases): every layer
-- with `activation`, `kernel_initializer` and `bias_initializer` (nil: Dense's defaults).
function kit.deep(depth, width, activation, kernel_initializer, bias_initializer)
  return function(features)
    local layers = {}
    for i = 1, depth do
      layers[i] = L.Dense(width, {activation = activation, input_shape = i == 1 and {features} or nil,
                                  kernel_initializer = kernel_initializer, bias_initializer = bias_initializer})
    end
    return layers
  end
end

return kit
