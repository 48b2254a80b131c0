--[[ Fuzzer of lurn's Lua entry points: every public function of the lurn tables and every
method of the objects it can make, called with random argument lists of every type and size
(extreme integers, NaN and infinities, odd and huge strings, tables with metamethods,
functions, tensors of odd shapes and non-contiguous views, objects of the wrong kind) under
pcall. Run in the sanitizer build, a crash is an AddressSanitizer or UBSan report; a call
that runs past its budget in Lua is stopped and reported, one that never returns from C is
caught by the caller's time limit (spec/fuzz/lua_entry_points.sh names the call).

  lua5.4 spec/fuzz/lua_entry_points.lua [--seed N] [--calls N] [--seconds S]
                                         [--last-call FILE] [--report FILE] [--trace] [--no-skip]

--seconds counts wall-clock time; --last-call FILE holds the call being made (what a crash
or a hang interrupted); the report goes to --report FILE, else to stderr; --no-skip makes
the calls KNOWN_BUGS below would skip (to check that its bugs are fixed).

It writes files only into the current folder (run it in a temporary one): every string it
passes is a relative name without '/'. The same seed gives the same calls: rerun with
--seed and --trace to see them. Errors are recorded, never failures: an error that is not
a string, or whose message names one of lurn's own files, is listed in the report. ]]

local lurn = require "lurn"
local clock = lurn.core.clock -- wall-clock seconds, kept before any call can change lurn

-- ---- command line ----------------------------------------------------------------------
local opts = {seed = 1, calls = math.maxinteger, seconds = 20, last_call = nil, report = nil, trace = false,
              no_skip = false}
do
  local i = 1
  while i <= #arg do
    local a = arg[i]
    if a == "--trace" or a == "--no-skip" then
      opts[a:sub(3):gsub("-", "_")] = true
    elseif a == "--seed" or a == "--calls" or a == "--seconds" then
      opts[a:sub(3)] = assert(math.tointeger(tonumber(arg[i + 1])), a .. " needs an integer")
      i = i + 1
    elseif a == "--last-call" or a == "--report" then
      opts[a:sub(3):gsub("-", "_")] = assert(arg[i + 1], a .. " needs a file")
      i = i + 1
    else
      error("unknown argument " .. a)
    end
    i = i + 1
  end
end

-- ---- known bugs ------------------------------------------------------------------------
-- Calls that hit a known bug not fixed yet, so that the suite stays green while its fix is
-- under way; each entry names its bug and says which calls it skips, and goes once the fix
-- is in (run with --no-skip to check). `call` has target (its name, e.g. "tensor:reshape"
-- or "lurn.randperm") and kinds (the set of argument kinds in the call; see `value` below).
local KNOWN_BUGS = {
  -- none: the bugs listed here while issue 13 was being fixed (closed objects, huge __len,
  -- zero-size huge shapes, positions at the integer edges, layers built for huge inputs)
  -- are fixed, and the fuzzer calls everything again.
}

-- ---- random values ---------------------------------------------------------------------
math.randomseed(opts.seed)
local random = math.random
local function pick(list) return list[random(#list)] end
local function chance(p) return random() < p end

local description = setmetatable({}, {__mode = "k"}) -- value -> how it was made, for the report
local kinds -- the kinds of the call being built

local SMALL_INTS = {0, 1, 1, 2, 2, 3, 4, 5, 7, 16, -1, 10}
local HUGE_INTS = {math.mininteger, math.maxinteger, 1 << 31, (1 << 31) - 1, -(1 << 31), 1 << 32, 1 << 40, 1 << 53,
                   -(1 << 40), 1 << 62}
local FLOATS = {0.5, 1.5, -0.0, 0.0, 0 / 0, 1 / 0, -1 / 0, 1e308, -1e308, 5e-324, 1e-7, 2.0, 3.0, 0.1, -2.5, 2 ^ 53,
                2 ^ 63, 0.999}
local NAMES = {"relu", "softmax", "sigmoid", "tanh", "linear", "elu", "selu", "gelu", "leaky_relu", "softplus",
               "adam", "sgd", "rmsprop", "adagrad", "adamw", "mse", "mae", "mean_squared_error", "huber",
               "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy", "accuracy",
               "auc", "precision", "recall", "same", "valid", "glorot_uniform", "he_normal", "zeros", "ones", "l1",
               "l2", "l1_l2", "channels_last", "mean", "median", "most_frequent", "constant", "auto", "minority",
               "not majority", "all", "ignore", "error", "loss", "val_loss", "val_accuracy", "min", "max", "nearest",
               "reflect", "wrap", "string", "float", "balanced", "first", "if_binary", "a", "b", "x", "y",
               "no_such_name", "Dense", "Conv2D", "fit", "predict", "%s%d%n", "\xff\xfe", "a\0b"}
local PATHS = {"data.csv", "x.npy", "images.idx", "images.idx.gz", "missing.csv", "missing.npy", "out.npy",
               "out.csv", "", ".", "..", "data"}
local KEYS = {"units", "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
              "bias_regularizer", "activity_regularizer", "input_shape", "filters", "kernel_size", "strides",
              "padding", "dilation_rate", "depth_multiplier", "pool_size", "rate", "seed", "target_shape", "size",
              "interpolation", "axis", "momentum", "epsilon", "center", "scale", "alpha", "name", "trainable",
              "optimizer", "loss", "metrics", "epochs", "batch_size", "verbose", "validation_split",
              "validation_data", "shuffle", "callbacks", "class_weight", "sample_weight", "initial_epoch",
              "steps_per_epoch", "learning_rate", "lr", "beta_1", "beta_2", "amsgrad", "nesterov", "rho",
              "weight_decay", "clipnorm", "clipvalue", "from_logits", "delta", "monitor", "patience", "min_delta",
              "mode", "baseline", "restore_best_weights", "start_from_epoch", "n_splits", "random_state",
              "test_size", "train_size", "stratify", "cv", "scoring", "header", "delimiter", "quote", "na_values",
              "columns", "dtype", "path", "with_mean", "with_std", "feature_range", "quantile_range", "norm",
              "strategy", "fill_value", "missing_values", "handle_unknown", "categories", "drop", "sparse_output",
              "sampling_strategy", "k_neighbors", "rotation_range", "width_shift_range", "height_shift_range",
              "shear_range", "zoom_range", "channel_shift_range", "fill_mode", "cval", "horizontal_flip",
              "vertical_flip", "rescale", "preprocessing_function", "featurewise_center", "samplewise_center",
              "featurewise_std_normalization", "zca_whitening", "brightness_range", "num_thresholds",
              "thresholds", "inputs", "outputs", "num_classes", "classes", "y", "keepdims", "ddof", "dim",
              "data_format", "subset", "theta", "tx", "ty", "zx", "zy", "shear", "order"}

local value -- value(depth): a random argument

local function note(v, text, kind)
  if kind then kinds[kind] = true end
  if type(v) == "table" or type(v) == "userdata" or type(v) == "function" then description[v] = text end
  return v
end

local function integer()
  if chance(0.15) then
    kinds.huge_int = true
    return pick(HUGE_INTS)
  end
  local n = pick(SMALL_INTS)
  if n == 0 then kinds.zero_int = true end
  return n
end

local function odd_string()
  local r = random(6)
  if r == 1 then return ("A"):rep(pick {100, 4096, 100000}) end
  if r == 2 then return ("%d"):format(integer()) end
  if r == 3 then return tostring(pick(FLOATS)) end
  if r == 4 then return pick {"a\0", "\0", "\n", "\r\n", " relu", "RELU", "nan", "inf", "-inf", "1e999", "0x10"} end
  local bytes = {} -- random bytes, never a '/', so that a file name stays in this folder
  for i = 1, random(0, 12) do
    local b = random(0, 255)
    bytes[i] = string.char(b == 47 and 95 or b)
  end
  return table.concat(bytes)
end

-- Tensors: odd shapes, odd values, views.
local SHAPES = {{}, {0}, {1}, {3}, {5}, {2, 3}, {4, 1}, {1, 4}, {0, 3}, {3, 0}, {4, 2}, {8, 3}, {2, 3, 4},
                {1, 2, 1, 2, 1}, {2, 4, 4, 1}, {2, 5, 5, 2}, {1, 6, 6, 3}, {4, 4}, {16}}

local function tensor()
  local shape = pick(SHAPES)
  local t
  local r = random(8)
  if #shape == 0 then
    t = lurn.tensor(pick {0, 1.5, 0 / 0})
  elseif r == 1 then
    t = lurn.zeros(table.unpack(shape))
  elseif r == 2 then
    t = lurn.full(shape, pick(FLOATS))
  elseif r == 3 then -- class labels 0..2
    t = lurn.rand(table.unpack(shape)):mul(3):floor()
  else
    t = lurn.randn(table.unpack(shape))
  end
  local text = ("tensor{%s}"):format(table.concat(shape, ","))
  if #shape >= 2 and shape[1] > 0 and shape[2] > 0 and chance(0.25) then
    t, text = t:transpose(1, 2), text .. ":transpose(1,2)"
    kinds.view = true
  elseif #shape >= 1 and shape[1] > 1 and chance(0.15) then
    t, text = t:narrow(1, 2, shape[1] - 1), text .. (":narrow(1,2,%d)"):format(shape[1] - 1)
    kinds.view = true
  end
  return note(t, text, "tensor")
end

local function list_of(make, n, text)
  local t = {}
  for i = 1, n do t[i] = make() end
  return note(t, text)
end

-- Objects are made by the zoo below; filled in after the makers are defined.
local object, closed_object

local function options(depth)
  local t = {}
  for _ = 1, random(1, 4) do t[pick(KEYS)] = value(depth + 1) end
  return note(t, "{options}", "options")
end

local function meta_table(depth)
  local r = random(5)
  if r == 1 then
    return note(setmetatable({}, {__index = function(_, k) error("fuzz: __index of " .. tostring(k)) end}),
                "setmetatable({}, {__index = error})", "meta")
  elseif r == 2 then
    local n = 0
    return note(setmetatable({}, {__index = function(_, k) n = n + 1; return tostring(k) .. n end}),
                "setmetatable({}, {__index = fresh strings})", "meta")
  elseif r == 3 then
    return note(setmetatable({1, 2}, {__len = function() return "two" end}), "{1, 2} with __len = 'two'", "meta")
  elseif r == 4 then
    kinds.huge_len = true
    return note(setmetatable({2, 3}, {__len = function() return 1 << 40 end}), "{2, 3} with __len = 2^40", "meta")
  end
  -- The values are drawn now, so that the call's kinds (and KNOWN_BUGS) see them all.
  local values, n = {value(depth + 1), value(depth + 1), value(depth + 1)}, 0
  return note(setmetatable(options(depth), {__index = function() n = n % 3 + 1; return values[n] end}),
              "{options} with __index = random values", "meta")
end

local function fn(depth)
  local r = random(5)
  if r == 1 then return note(function() end, "function() end", "function") end
  if r == 2 then return note(function() error("fuzz: callback error") end, "function() error() end", "function") end
  if r == 3 then return note(function() error({}) end, "function() error({}) end", "function") end
  if r == 4 then return note(function(x) return x end, "function(x) return x end", "function") end
  local v = value(depth + 1)
  return note(function() return v end, "function() return <value> end", "function")
end

function value(depth)
  depth = depth or 0
  local r = random(depth < 2 and 100 or 60)
  if r <= 4 then return nil end
  if r <= 8 then return chance(0.5) end
  if r <= 22 then return integer() end
  if r <= 28 then kinds.float = true; return pick(FLOATS) end
  if r <= 36 then return pick(NAMES) end
  if r <= 39 then return pick(PATHS) end
  if r <= 43 then return odd_string() end
  if r <= 55 then return tensor() end
  if r <= 60 then -- shape-like tables
    local t = {}
    for i = 1, random(0, 5) do t[i] = integer() end
    return note(t, "{shape}", "shape")
  end
  if r <= 70 then return options(depth) end
  if r <= 76 then return object() end
  if r <= 80 then return list_of(tensor, random(0, 4), "{tensors}") end
  if r <= 84 then return list_of(function() return value(depth + 1) end, random(0, 4), "{values}") end
  if r <= 88 then return fn(depth) end
  if r <= 91 then return meta_table(depth) end
  if r <= 94 then return closed_object() end
  if r <= 96 then return note(coroutine.create(function() end), "coroutine", "thread") end
  if r <= 98 then return note({}, "{}") end
  return note(list_of(function() return list_of(function() return pick(FLOATS) end, 2, "{x, y}") end, 2,
                      "{{x, y}, {x, y}}"), "{{x, y}, {x, y}}")
end

-- ---- files the readers can find --------------------------------------------------------
-- The zoo reads zoo.csv, a name no call is given (calls may overwrite data.csv).
do
  local csv = "a,b,c\n1,2,x\n3,NA,y\n5,6,x\n7,8,\"z,w\"\n"
  for _, name in ipairs {"data.csv", "zoo.csv"} do
    local f = assert(io.open(name, "wb"))
    f:write(csv)
    f:close()
  end
  lurn.rand(3, 2):save_npy("x.npy")
  local idx = string.pack(">BBBBI4I4I4", 0, 0, 8, 3, 2, 2, 2) .. ("\1\2\3\4\5\6\7\8")
  local f = assert(io.open("images.idx", "wb"))
  f:write(idx)
  f:close()
end

-- ---- the zoo: objects lurn makes -------------------------------------------------------
local L = lurn.layers
local function x_y(n, classes) -- every class present: samples i is of class i % classes
  local y = {}
  for i = 1, n do y[i] = (i - 1) % classes end
  return lurn.randn(n, 3), lurn.tensor(y)
end
local MAKERS = {
  tensor = function() return lurn.randn(3, 4) end,
  tensor_view = function() return lurn.randn(4, 3):transpose(1, 2) end,
  dense = function() return L.Dense(4, {activation = "relu"}) end,
  conv2d = function() return L.Conv2D(2, 3, {padding = "same"}) end,
  depthwise_conv2d = function() return L.DepthwiseConv2D(3) end,
  pooling = function() return L.MaxPooling2D(2) end,
  batchnorm = function() return L.BatchNormalization() end,
  dropout = function() return L.Dropout(0.5) end,
  reshape = function() return L.Reshape({3, 1}) end,
  lambda = function() return L.Lambda(function(x) return lurn.mul(x, 2) end) end,
  residual = function() return L.Residual({L.Dense(3)}) end,
  sequential = function() return lurn.Sequential() end,
  compiled_model = function()
    local m = lurn.Sequential {L.Dense(4, {activation = "relu", input_shape = {3}}), L.Dense(3, {activation = "softmax"})}
    m:compile {optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
    return m
  end,
  fitted_model = function()
    local m = lurn.Sequential {L.Dense(2, {input_shape = {3}})}
    m:compile {optimizer = "sgd", loss = "mse"}
    m:fit(lurn.randn(8, 3), lurn.randn(8, 2), {epochs = 1, batch_size = 4, verbose = 0})
    return m
  end,
  conv_model = function()
    local m = lurn.Sequential {L.Conv2D(2, 3, {input_shape = {6, 6, 1}}), L.MaxPooling2D(2), L.Flatten(), L.Dense(2)}
    m:compile {optimizer = "rmsprop", loss = "mse"}
    return m
  end,
  functional_model = function()
    local input = lurn.Input {shape = {3}}
    local a = L.Dense(4)(input)
    local b = L.Dense(4)(input)
    return lurn.Model {inputs = input, outputs = L.Dense(2)(L.add {a, b})}
  end,
  symbolic = function() return L.Dense(2)(lurn.Input {shape = {3}}) end,
  optimizer = function() return lurn.optimizers[pick {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad"}]() end,
  loss = function() return lurn.losses[pick {"Huber", "MeanSquaredError", "SparseCategoricalCrossentropy"}]() end,
  metric = function() return lurn.metrics[pick {"AUC", "Precision", "Recall"}]() end,
  scaler = function()
    return lurn.preprocessing[pick {"StandardScaler", "MinMaxScaler", "RobustScaler", "Normalizer", "SimpleImputer"}]()
  end,
  fitted_scaler = function() return lurn.preprocessing.StandardScaler():fit(lurn.randn(5, 3)) end,
  encoder = function() return lurn.preprocessing[pick {"OneHotEncoder", "LabelEncoder"}]() end,
  fitted_encoder = function() return lurn.preprocessing.LabelEncoder():fit({"a", "b", "a"}) end,
  sampler = function() return lurn.sampling[pick {"SMOTE", "RandomOverSampler", "RandomUnderSampler"}]() end,
  fitted_sampler = function()
    local s = lurn.sampling.RandomOverSampler()
    s:fit_resample(x_y(8, 2))
    return s
  end,
  kfold = function() return lurn.model_selection[pick {"KFold", "StratifiedKFold"}] {n_splits = 2} end,
  callback = function()
    local r = random(3)
    if r == 1 then return lurn.callbacks.History.new() end
    return (r == 2 and lurn.callbacks.EarlyStopping or lurn.callbacks.LambdaCallback) {}
  end,
  keras_callback = function()
    local C = lurn.callbacks
    return pick {C.ReduceLROnPlateau, C.TerminateOnNaN, C.ProgbarLogger,
                 function() return C.CSVLogger("zoo_log.csv") end}()
  end,
  schedule = function()
    local S = lurn.optimizers.schedules
    return pick {S.ExponentialDecay(0.1, 10, 0.5), S.PiecewiseConstantDecay({2, 5}, {0.1, 0.01, 0.001}),
                 S.CosineDecay(0.1, 10, {warmup_target = 0.2, warmup_steps = 2}), S.InverseTimeDecay(0.1, 10, 0.5)}
  end,
  scheduler = function() return lurn.callbacks.LearningRateScheduler(function(_, lr) return lr end) end,
  image_generator = function() return lurn.preprocessing.image.ImageDataGenerator {rotation_range = 10} end,
  dataframe = function() return lurn.data.read_csv("zoo.csv") end,
  variable = function() return lurn.autograd.variable(lurn.randn(2, 2)) end,
  initializer = function() return lurn.initializers.get(pick {"glorot_uniform", "zeros", "he_normal"}) end,
  regularizer = function() return lurn.regularizers.L1L2() end,
}
local KINDS = {}
for k in pairs(MAKERS) do KINDS[#KINDS + 1] = k end
table.sort(KINDS)

local pool, uses = {}, {} -- one live object of each kind, remade after some uses
local function make(kind)
  local ok, o = pcall(MAKERS[kind])
  if not ok then error(("fuzz: the zoo cannot make a %s: %s"):format(kind, tostring(o)), 0) end
  return o
end
local function get(kind)
  uses[kind] = (uses[kind] or 0) + 1
  if pool[kind] == nil or uses[kind] > 20 then
    pool[kind], uses[kind] = make(kind), 0
  end
  return pool[kind]
end

function object()
  local kind = pick(KINDS)
  kinds[kind] = true
  local o = get(kind)
  return note(o, "<" .. kind .. ">", "object")
end

-- An object whose userdata (a tensor, or the C half of a layer, model, optimizer...) went
-- through its __gc, as at the end of a program, while the object is still reachable.
local CLOSABLE = {"tensor", "tensor_view", "dense", "conv2d", "batchnorm", "residual", "lambda", "compiled_model",
                  "fitted_model", "functional_model", "optimizer", "fitted_scaler", "fitted_sampler",
                  "image_generator", "dataframe", "variable"}
local function close_userdata(v, depth)
  if type(v) == "userdata" then
    local mt = getmetatable(v)
    if type(mt) == "table" and mt.__gc then mt.__gc(v) end
  elseif type(v) == "table" and depth < 3 then
    for _, x in pairs(v) do close_userdata(x, depth + 1) end
  end
end
function closed_object()
  kinds.closed = true
  local kind = pick(CLOSABLE)
  local o = make(kind)
  close_userdata(o, 0)
  return note(o, "<closed " .. kind .. ">", "closed")
end

-- ---- the targets -----------------------------------------------------------------------
-- Every public function reachable from lurn's tables (classes included: their methods are
-- then called with a random self), and every public method of every zoo object called on
-- it. Names with one leading underscore are private and left out; metamethods are kept.
local targets = {}
local function public(name) return name:sub(1, 1) ~= "_" or name:sub(1, 2) == "__" end
do
  local seen = {}
  local function walk(t, name, depth)
    if seen[t] or depth > 3 then return end
    seen[t] = true
    -- A class (its own __index, or a constructor): its functions are methods, which
    -- here get a random self; their errors are counted apart.
    local class = rawget(t, "__index") == t or type(rawget(t, "new")) == "function"
    local keys = {}
    for k in pairs(t) do if type(k) == "string" and public(k) then keys[#keys + 1] = k end end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local v = rawget(t, k)
      local full = name .. "." .. k
      if type(v) == "function" then
        targets[#targets + 1] = {name = full, fn = v, random_self = class and k ~= "new" and k ~= "__call"}
      elseif type(v) == "table" then
        local mt = getmetatable(v)
        if mt and mt.__call then targets[#targets + 1] = {name = full, fn = function(...) return v(...) end} end
        walk(v, full, depth + 1)
      end
    end
    local mt = getmetatable(t)
    if mt and type(mt.__index) == "table" then walk(mt.__index, name, depth + 1) end
  end
  walk(lurn, "lurn", 0)

  for _, kind in ipairs(KINDS) do
    local o = make(kind)
    local names, seen_m = {}, {}
    local idx = getmetatable(o) and getmetatable(o).__index
    if type(o) == "table" then idx = o end
    for _ = 1, 8 do -- the class chain
      if type(idx) ~= "table" then break end
      for k, v in pairs(idx) do
        if type(k) == "string" and public(k) and type(v) == "function" and not seen_m[k] then
          seen_m[k] = true
          names[#names + 1] = k
        end
      end
      local mt = getmetatable(idx)
      idx = mt and mt.__index
    end
    table.sort(names)
    for _, m in ipairs(names) do targets[#targets + 1] = {name = kind .. ":" .. m, kind = kind, method = m} end
  end
end

-- ---- running calls ---------------------------------------------------------------------
local function describe(v, depth)
  depth = depth or 0
  local t = type(v)
  if t == "string" then
    if #v > 40 then return ("(%q):rep(...) [%d bytes]"):format(v:sub(1, 1), #v) end
    return (("%q"):format(v):gsub("\\\n", "\\n"))
  elseif t == "number" then
    if v ~= v then return "0/0" end
    if v == math.huge then return "1/0" end
    if v == -math.huge then return "-1/0" end
    if v == math.mininteger then return "math.mininteger" end
    if v == math.maxinteger then return "math.maxinteger" end
    return math.type(v) == "integer" and ("%d"):format(v) or ("%.17g"):format(v)
  elseif t == "table" and depth < 3 and (description[v] == nil or description[v]:match "^{[%a ,]+}$") then
    -- a table made without a label, or with a generic one ({options}, {shape}...): its contents
    local parts, n = {}, 0
    for k, x in pairs(v) do
      n = n + 1
      if n > 6 then parts[#parts + 1] = "..."; break end
      local key = math.type(k) == "integer" and "" or ("%s = "):format(type(k) == "string" and k or "[?]")
      parts[#parts + 1] = key .. describe(x, depth + 1)
    end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return description[v] or tostring(v)
end

local function describe_call(target, self_text, args, n)
  local parts = {}
  for i = 1, n do parts[i] = describe(args[i]) end
  local text = table.concat(parts, ", ")
  if target.method then return ("%s:%s(%s)"):format(self_text, target.method, text) end
  return ("%s(%s)"):format(target.name, text)
end

local BUDGET_SECONDS = 2 -- a call still in Lua after this long is stopped and reported
local deadline
local function budget_hook()
  if clock() > deadline then error("fuzz: call stopped after " .. BUDGET_SECONDS .. " s", 2) end
end

local threads = lurn.get_num_threads()
local stats = {calls = 0, ok = 0, errors = 0, skipped = {}, slow = {}, not_string = {}, internal = {},
               internal_count = 0, internal_wrong_self = 0}
local start = clock()
local cpu_start = os.clock()
local last_call_file = opts.last_call

local function build_call(target)
  kinds = {}
  local call = {target = target.name, kinds = kinds}
  local self, self_text
  if target.method then
    if chance(0.08) then -- a method on the wrong kind of value
      self = value(1)
      call.wrong_self = true
      self_text = describe(self)
    else
      self = get(target.kind)
      self_text = "<" .. target.kind .. ">"
      kinds[target.kind] = true
    end
  end
  local n = random(0, 5)
  local args = {}
  for i = 1, n do args[i] = value(0) end
  call.self, call.self_text, call.args, call.n = self, self_text, args, n
  return call
end

local function skip_reason(call)
  if opts.no_skip then return nil end
  for _, k in ipairs(KNOWN_BUGS) do if k.skip(call) then return k.bug end end
end

local function run(target, call)
  local f
  if target.method then
    local self = call.self
    local ok, m = pcall(function() return self[target.method] end)
    if not ok or type(m) ~= "function" then
      f = function() error("fuzz: no such method") end
    else
      f = function(...) return m(self, ...) end
    end
  else
    f = target.fn
  end
  local t0 = clock()
  deadline = t0 + BUDGET_SECONDS
  debug.sethook(budget_hook, "", 1000)
  local ok, err = pcall(f, table.unpack(call.args, 1, call.n))
  debug.sethook()
  return ok, err, clock() - t0
end

while stats.calls < opts.calls and clock() - start < opts.seconds do
  local target = pick(targets)
  local call, reason
  for _ = 1, 5 do
    call = build_call(target)
    reason = skip_reason(call)
    if not reason then break end
  end
  if reason then
    stats.skipped[reason] = (stats.skipped[reason] or 0) + 1
  else
    stats.calls = stats.calls + 1
    local text = describe_call(target, call.self_text, call.args, call.n)
    if opts.trace then io.stderr:write(("[%d] %s\n"):format(stats.calls, text)) end
    if last_call_file then
      local f = assert(io.open(last_call_file, "w"))
      f:write(("seed %d, call %d: %s\n"):format(opts.seed, stats.calls, text))
      f:close()
    end
    local ok, err, seconds = run(target, call)
    if target.name:match "set_num_threads$" then lurn.set_num_threads(threads) end
    if ok then
      stats.ok = stats.ok + 1
    else
      stats.errors = stats.errors + 1
      if type(err) ~= "string" then
        if #stats.not_string < 20 then stats.not_string[#stats.not_string + 1] = text .. " -> " .. describe(err) end
      elseif err:match "^fuzz: call stopped" then
        stats.slow[#stats.slow + 1] = ("%s (call %d)"):format(text, stats.calls)
      elseif err:match "lurn/[%w_/]+%.lua:%d+:" and (target.random_self or call.wrong_self) then
        stats.internal_wrong_self = stats.internal_wrong_self + 1
      elseif err:match "lurn/[%w_/]+%.lua:%d+:" then
        stats.internal_count = stats.internal_count + 1
        local where = err:match "lurn/[%w_/]+%.lua:%d+:"
        if not stats.internal[where] then stats.internal[where] = text .. "\n      -> " .. err:sub(1, 200) end
      end
    end
    if seconds > BUDGET_SECONDS then
      stats.slow[#stats.slow + 1] = ("%s (call %d, %.1f s)"):format(text, stats.calls, seconds)
    end
    if stats.calls % 50 == 0 then collectgarbage() end
  end
end
pool = nil
collectgarbage()
collectgarbage()

-- ---- report ----------------------------------------------------------------------------
local out = opts.report and assert(io.open(opts.report, "w")) or io.stderr
out:write(("lua entry-point fuzzer: seed %d, %d targets, %d calls in %.1f s (%.1f s CPU): %d returned, %d raised\n")
  :format(opts.seed, #targets, stats.calls, clock() - start, os.clock() - cpu_start, stats.ok, stats.errors))
for bug, n in pairs(stats.skipped) do out:write(("  skipped %d calls for a known bug: %s\n"):format(n, bug)) end
if #stats.slow > 0 then
  out:write(("calls stopped or slow (over %d s):\n"):format(BUDGET_SECONDS))
  for i = 1, math.min(#stats.slow, 20) do out:write("  ", stats.slow[i], "\n") end
end
if #stats.not_string > 0 then
  out:write("errors that are not strings:\n")
  for _, s in ipairs(stats.not_string) do out:write("  ", s, "\n") end
end
if stats.internal_count > 0 then
  out:write(("%d errors name lurn's own files instead of the caller's line; one call per place:\n")
    :format(stats.internal_count))
  local places = {}
  for where in pairs(stats.internal) do places[#places + 1] = where end
  table.sort(places)
  for _, where in ipairs(places) do out:write("  ", stats.internal[where], "\n") end
end
out:write(("%d more name lurn's own files after a method was given a self of the wrong kind\n")
  :format(stats.internal_wrong_self))
if out ~= io.stderr then out:close() end
