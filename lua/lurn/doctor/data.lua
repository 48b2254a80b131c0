--- lurn.doctor.check_data(x, y, opts) (issue 19): the data checks, no training. Each check
-- reads the data as the first layer will see it and reports a finding with its evidence
-- and the Keras-style line that fixes it; docs/doctor.md says what triggers each code.
--
--   opts: validation_data = {x_val, y_val}, test_data = {x_test, y_test},
--         categorical_columns = {1-based feature positions holding category codes},
--         class_weight = {[class] = weight}, sample_weight = (N,) tensor,
--         loss = a loss name or object, num_classes = the output width,
--         model = a compiled model (its loss and output width when loss / num_classes
--         are not given)
--
-- Data that fit would refuse (NaN, infinities, labels out of range) become findings, not
-- errors. The heavy counting is lurn's tensor operations and C helpers (column statistics
-- that skip NaN, column quantiles, k nearest neighbours through BLAS).
local core = require "lurn.core"
local options = require "lurn.options"
local at_user_line = require "lurn.at_user_line"
local Report = require "lurn.doctor.report"
local check_splits = require "lurn.check_splits"
local losses = require "lurn.losses"

local data = {}

local OPTIONS = {"validation_data", "test_data", "categorical_columns", "class_weight", "sample_weight", "loss",
                 "num_classes", "model"}

-- The mechanism's constants (docs/doctor.md says why each is what it is).
local SCALE_RATIO = 100      -- unscaled: largest / median feature RMS, two orders of magnitude
local SCALE_HIGH = 10        -- unscaled: the input's RMS an order of magnitude above unit scale
local SCALE_LOW = 0.01       -- ... or two orders below it
local FAR_OUT = 3            -- outliers: Tukey's far-out fences, Q1 - 3 IQR and Q3 + 3 IQR
local STD_INFLATION = 3      -- outliers: the std with the far-out values over the std without them
local UNTRAINED_SHARE = 0.01 -- constant_feature: untrained weights adding 1% of the variance elsewhere
local RARE_SHARE = 0.01      -- outliers: far-out values are rare, at most 1 in 100 samples
local IMBALANCE_RATIO = 10   -- class_imbalance: largest / smallest class
local OVERLAP_SHARE = 0.01   -- train_test_overlap: a warning from 1 point of the evaluated split
local KNN_K = 10             -- label_noise: neighbours asked
local KNN_WIDE = 50          -- label_noise: the wider neighbourhood that tells overlap from noise (at most)
local KNN_QUERIES = 1000     -- label_noise: samples checked at most (a fixed, seed-free sample)
local NOISE_SHARE = 0.02     -- label_noise: a warning from 2 points of the labels
local NOISE_TEST = 20        -- label_noise: an own label above the background at 1 in 20 is overlap

local SPARSE = {sparse_categorical_crossentropy = true}
local CATEGORICAL = {categorical_crossentropy = true}
local REGRESSION = {mean_squared_error = true, mean_absolute_error = true, huber = true}

local function fail(msg) error(msg, 0) end

-- x as (N, D) float rows (a view where possible).
local function matrix(x, what)
  if not core.is_tensor(x) then fail(("check_data: %s must be a tensor, got %s"):format(what, type(x))) end
  if x:dim() < 1 or x:size(1) == 0 then fail(("check_data: %s has no samples"):format(what)) end
  local n = x:size(1)
  if x:dim() == 1 then return x:reshape(n, 1) end
  if x:dim() == 2 then return x:contiguous() end
  return x:contiguous():reshape(n, x:numel() // n)
end

local function list_text(list, max)
  max = max or 8
  local out = {}
  for i = 1, math.min(#list, max) do out[i] = tostring(list[i]) end
  if #list > max then out[#out + 1] = ("... (%d in all)"):format(#list) end
  return table.concat(out, ", ")
end

local function ints(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = math.tointeger(v) or v end
  return out
end

-- The page's bars (docs/doctor.md, "Plottable evidence"): {feature =, value =} for the
-- positions `cols` (1..#values when nil) and their values.
local function per_feature(values, cols)
  local out = {}
  for i, v in ipairs(values) do out[i] = {feature = cols and cols[i] or i, value = v} end
  return out
end

-- The loss kind and the output width from the options, or a compiled model's.
local function loss_and_width(opts)
  local kind, width
  if opts.loss ~= nil then
    local ok, l = pcall(losses.get, opts.loss)
    if not ok then fail("check_data: loss: " .. tostring(l):gsub("^[^\n]-:%d+: ", "")) end
    kind = l.kind
  end
  if opts.num_classes ~= nil then
    if math.type(opts.num_classes) ~= "integer" or opts.num_classes < 1 then
      fail("check_data: num_classes must be a whole number from 1")
    end
    width = opts.num_classes
  end
  local m = opts.model
  if m ~= nil then
    if type(m) ~= "table" or m.layers == nil then fail("check_data: model must be a lurn model") end
    if not kind and m.loss then kind = m.loss.kind end
    if not width and m.output_shape and not m._io then width = m.output_shape[#m.output_shape] end
  end
  return kind, width
end

-- ---- the features ------------------------------------------------------------------

-- Non-finite values of x (N, D): counts, and x with infinities turned into NaN (the column
-- statistics skip NaN).
local function non_finite(x)
  local nan = x:isnan()
  local n_nan = nan:sum()
  local inf = x:abs():eq(math.huge)
  local n_inf = inf:sum()
  local clean = x
  if n_inf > 0 then
    clean = core.columns_fill(core.columns_fill(x, math.huge, core.full({x:size(2)}, 0 / 0)), -math.huge,
      core.full({x:size(2)}, 0 / 0))
  end
  local per_col, rows = nil, 0
  if n_nan + n_inf > 0 then
    local bad = nan + inf
    per_col = bad:sum(1):totable()
    rows = bad:max(2):sum()
  end
  return {nan = math.tointeger(n_nan) or n_nan, inf = math.tointeger(n_inf) or n_inf, per_col = per_col,
          rows = math.tointeger(rows) or rows, clean = clean}
end

local function check_missing(report, nf, what, var)
  if nf.nan + nf.inf == 0 then return end
  local cols = {}
  for j, c in ipairs(nf.per_col) do if c > 0 then cols[#cols + 1] = j end end
  local fix
  if nf.inf > 0 then
    fix = ("%s = lurn.preprocessing.SimpleImputer{strategy = \"median\"}:fit_transform(%s:clamp(-3e38, 3e38))"
      .. "  -- and find where the infinities come from (a log of 0, a division by 0)"):format(var, var)
  else
    fix = ("%s = lurn.preprocessing.SimpleImputer{strategy = \"median\"}:fit_transform(%s)"):format(var, var)
  end
  report:add{code = "missing_values", severity = "error",
    evidence = {split = what, nan = nf.nan, inf = nf.inf, rows = nf.rows, columns = ints(cols), column_count = #cols,
                per_feature = per_feature(nf.per_col), per_feature_label = "missing (NaN or infinite) values"},
    message = ("%s holds %d NaN and %d infinite value(s) in %d row(s), column(s) %s: fit refuses them, and one "
      .. "of them makes the loss NaN"):format(what, nf.nan, nf.inf, nf.rows, list_text(cols)),
    fix = fix}
end

-- The features the scale checks read: not categorical, not constant, with values.
local function continuous(stats, categorical, d)
  local out = {}
  for j = 1, d do
    if not categorical[j] and stats.count[j] > 0 and stats.max[j] > stats.min[j] then out[#out + 1] = j end
  end
  return out
end

-- The line that keeps the features not in `drop` (listed when few).
local function keep_fix(drop, d)
  local dropped, keep = {}, {}
  for _, j in ipairs(drop) do dropped[j] = true end
  for j = 1, d do if not dropped[j] then keep[#keep + 1] = j end end
  if #keep == 0 then return "collect features that vary between samples: a constant input cannot be learned from" end
  if #keep > 20 then
    return ("x = x:index(2, keep)  -- keep: the %d positions 1..%d other than %s (the same columns of every split)")
      :format(#keep, d, list_text(drop))
  end
  return ("x = x:index(2, lurn.tensor{%s})  -- the same columns of every split"):format(table.concat(keep, ", "))
end

local function check_constant(report, stats, categorical, d, others)
  local cols = {}
  for j = 1, d do
    if stats.count[j] > 0 and stats.max[j] == stats.min[j] then cols[#cols + 1] = j end
  end
  if #cols == 0 then return end
  -- a feature constant in training but varying in validation or test data: its weight never
  -- learned, yet it moves the predictions there
  local varying = {}
  for _, o in ipairs(others) do
    for _, j in ipairs(cols) do
      if o.stats.count[j] > 0 and (o.stats.max[j] ~= stats.min[j] or o.stats.min[j] ~= stats.min[j]) then
        varying[j] = true
      end
    end
  end
  local vary_list = {}
  for _, j in ipairs(cols) do if varying[j] then vary_list[#vary_list + 1] = j end end
  -- how much that moves them: a unit's pre-activation sums w_k x_k over the features with
  -- weights drawn alike, so its variance over the samples is about sigma_w^2 times the sum
  -- of the features' variances; an untrained weight adds sigma_w^2 times the mean square of
  -- (x_j - the training value) in the other split. Their ratio is the share of variance the
  -- untrained weights add there; from UNTRAINED_SHARE (1%: a tenth of the spread) it
  -- matters. A border pixel faint in a few validation images adds far less.
  local total_var = 0
  for j = 1, d do total_var = total_var + stats.var[j] end
  local added = 0
  for _, o in ipairs(others) do
    local sum = 0
    for _, j in ipairs(vary_list) do
      if o.stats.count[j] > 0 then sum = sum + o.stats.var[j] + (o.stats.mean[j] - stats.min[j]) ^ 2 end
    end
    added = math.max(added, total_var > 0 and sum / total_var or math.huge)
  end
  local all = #cols == d
  local severity = (all or added >= UNTRAINED_SHARE) and "warning" or "info"
  local msg = ("%d of %d feature(s) hold one value in every training sample (column(s) %s): they carry no "
    .. "information"):format(
    #cols, d, list_text(cols))
  if all then msg = msg .. "; every feature is constant, so nothing can be learned from x" end
  if #vary_list > 0 then
    msg = msg .. ("; column(s) %s vary in the validation or test data, where their untrained weights move the "
      .. "pre-activations (adding %.2g%% to their variance%s)"):format(list_text(vary_list), 100 * added,
      added >= UNTRAINED_SHARE and "" or ": too little to matter")
  end
  local std = {}
  for j = 1, d do std[j] = math.sqrt(stats.var[j]) end
  report:add{code = "constant_feature", severity = severity,
    evidence = {columns = ints(cols), column_count = #cols, feature_count = d, varying_elsewhere = ints(vary_list),
                added_variance_share = #vary_list > 0 and added or nil,
                per_feature = per_feature(std), per_feature_label = "std"},
    message = msg,
    fix = keep_fix(cols, d)}
end

-- unscaled_features: the default initializers (glorot_uniform, he_normal) keep a unit's
-- pre-activation at the scale of its inputs when the inputs have unit second moment. A
-- feature's RMS sqrt(mean^2 + var) is its weight in every pre-activation.
local function check_scale(report, stats, cols, d)
  if #cols == 0 then return end
  local rms, power = {}, 0
  for i, j in ipairs(cols) do
    rms[i] = math.sqrt(stats.mean[j] ^ 2 + stats.var[j])
    power = power + rms[i] ^ 2
  end
  local overall = math.sqrt(power / #cols)
  local sorted = table.move(rms, 1, #rms, 1, {})
  table.sort(sorted)
  local median = sorted[(#sorted + 1) // 2]
  local largest = sorted[#sorted]
  local ratio = median > 0 and largest / median or math.huge
  local big, small = {}, {}
  for i, j in ipairs(cols) do
    if median > 0 and rms[i] > median * SCALE_RATIO then big[#big + 1] = j end
  end
  local reasons = {}
  if ratio > SCALE_RATIO then
    reasons[#reasons + 1] = ("the largest feature's RMS is %.3g times the median feature's (column(s) %s): they "
      .. "drown the others in every unit's sum"):format(ratio, list_text(big))
  end
  if overall > SCALE_HIGH then
    reasons[#reasons + 1] = ("the inputs' RMS is %.3g, where the default initializers assume about 1: "
      .. "pre-activations start %.3g times too large (saturated units, huge gradients)"):format(overall, overall)
  elseif overall < SCALE_LOW then
    reasons[#reasons + 1] = ("the inputs' RMS is %.3g, where the default initializers assume about 1: the "
      .. "signal starts %.3g times too small"):format(overall, 1 / overall)
  end
  if #reasons == 0 then return end
  local smallest = sorted[1]
  report:add{code = "unscaled_features", severity = "warning",
    evidence = {rms = overall, largest_rms = largest, median_rms = median, smallest_rms = smallest,
                ratio_largest_median = ratio, continuous_count = #cols, columns = ints(big), column_count = #big,
                per_feature = per_feature(rms, cols), per_feature_label = "RMS"},
    message = table.concat(reasons, "; "),
    fix = "scaler = lurn.preprocessing.StandardScaler(); x = scaler:fit_transform(x); x_val = scaler:transform(x_val)"}
  return true
end

-- outliers: values beyond Tukey's far-out fences that carry most of a feature's variance,
-- so that a standard scaler (or the first layer) sees them instead of the bulk.
local function check_outliers(report, x, stats, cols)
  if #cols == 0 or x:size(1) < 8 then return end
  local sub = #cols == x:size(2) and x or x:index(2, core.tensor(cols))
  local q = core.column_quantiles(sub, {25, 75})
  local q1, q3 = q:select(1, 1), q:select(1, 2)
  local iqr = q3 - q1
  local lo, hi = q1 - iqr * FAR_OUT, q3 + iqr * FAR_OUT
  local w = sub:maximum(lo:reshape(1, #cols)):minimum(hi:reshape(1, #cols))
  local wstats = core.column_stats(w)
  local out_count = (sub:lt(lo:reshape(1, #cols)) + sub:gt(hi:reshape(1, #cols))):sum(1):totable()
  local iqr_t, wvar = iqr:totable(), wstats.var:totable()
  local flagged, worst, rows, inflations = {}, 0, 0, {}
  for i, j in ipairs(cols) do
    inflations[i] = wvar[i] > 0 and math.sqrt(stats.var[j] / wvar[i]) or math.huge
    -- a feature without spread in its middle half (sparse, binary) has no fences: skipped
    -- and far-out values that are not rare (over RARE_SHARE of the samples) are a mode of
    -- the feature the quartiles do not describe, not outliers
    if iqr_t[i] > 0 and out_count[i] > 0 and out_count[i] <= RARE_SHARE * x:size(1) then
      local inflation = wvar[i] > 0 and math.sqrt(stats.var[j] / wvar[i]) or math.huge
      if inflation > STD_INFLATION then
        flagged[#flagged + 1] = j
        rows = rows + out_count[i]
        if inflation > worst then worst = inflation end
      end
    end
  end
  if #flagged == 0 then return end
  report:add{code = "outliers", severity = "warning",
    evidence = {columns = ints(flagged), column_count = #flagged, values = math.tointeger(rows) or rows,
                std_inflation = worst, fence_iqr = FAR_OUT, per_feature = per_feature(inflations, cols),
                per_feature_label = "std / std clipped to the fences"},
    message = ("%d feature(s) (column(s) %s) hold %d value(s) beyond Tukey's far-out fences (3 IQR past the quartiles) "
      .. "that make the feature's std up to %.3g times what the rest gives: scaled by that std, the bulk of "
      .. "the values collapses near 0"):format(#flagged, list_text(flagged), rows, worst),
    fix = "x = x:maximum(q1 - 3 * iqr):minimum(q3 + 3 * iqr)  -- clip each feature to its fences (q1, q3, iqr: "
      .. "x's quartiles, lurn.preprocessing.RobustScaler's center_ and scale_ tell them), or drop the rows "
      .. "if the values are mistakes"}
end

-- ---- the labels --------------------------------------------------------------------

-- y read as labels: {kind = "onehot" | "sparse" | "values" | "strings", n =, width =,
-- codes = (N,) tensor of class numbers or nil, finite = bool, whole = bool, min, max}
local function read_labels(y, what)
  if type(y) == "table" and not core.is_tensor(y) then
    return {kind = "strings", n = #y, list = y}
  end
  if not core.is_tensor(y) then fail(("check_data: %s must be a tensor or a list, got %s"):format(what, type(y))) end
  local n = y:dim() == 0 and 0 or y:size(1)
  local info = {n = n}
  if y:dim() == 2 and y:size(2) > 1 then
    info.kind, info.width = "onehot", y:size(2)
  elseif y:dim() <= 2 then
    info.kind = "sparse"
  else
    info.kind = "values"
  end
  local flat = y:reshape(y:numel())
  local bad = flat:isnan():sum() + flat:abs():eq(math.huge):sum()
  info.nonfinite = math.tointeger(bad) or bad
  info.finite = bad == 0
  if info.finite and y:numel() > 0 then
    info.min, info.max = flat:min(), flat:max()
    info.whole = (flat - flat:floor()):ne(0):sum() == 0
  end
  if info.kind == "onehot" and info.finite then
    -- one-hot (or probability) rows: each sums to 1, values in [0, 1]
    local sums = y:sum(2)
    info.rows_sum_one = (sums - 1):abs():max() < 1e-3 and info.min >= 0 and info.max <= 1
    info.codes = y:argmax(2) - 1
  elseif info.kind == "sparse" and info.finite and info.whole then
    info.codes = y:reshape(n)
  end
  return info
end

local LOSS_LINE = {
  sparse = "model:compile{loss = \"sparse_categorical_crossentropy\", optimizer = ..., metrics = {\"accuracy\"}}",
  categorical = "model:compile{loss = \"categorical_crossentropy\", optimizer = ..., metrics = {\"accuracy\"}}",
}

local function check_encoding(report, lab, kind, width, what)
  if lab.kind == "strings" then
    report:add{code = "label_encoding_mismatch", severity = "error", evidence = {split = what},
      message = ("%s are strings: a network needs class numbers"):format(what),
      fix = "y = lurn.preprocessing.LabelEncoder():fit_transform(y)"}
    return
  end
  if not lab.finite then
    report:add{code = "missing_values", severity = "error",
      evidence = {split = what, nonfinite_labels = lab.nonfinite},
      message = ("%s hold %d NaN or infinite label(s): fit refuses them"):format(what, lab.nonfinite),
      fix = "keep = y:isnan():eq(0):reshape(y:size(1)); -- then x, y = the rows where keep is 1"}
    return
  end
  if lab.n == 0 or kind == nil or REGRESSION[kind] then
    if width and lab.kind == "onehot" and lab.width ~= width and not REGRESSION[kind] then
      report:add{code = "label_encoding_mismatch", severity = "error",
        evidence = {split = what, label_width = lab.width, output_width = width},
        message = ("%s are one-hot rows of %d columns but the model's output has %d"):format(what, lab.width, width),
        fix = ("lurn.layers.Dense(%d, {activation = \"softmax\"})  -- as the model's last layer, in place of the one "
        .. "there: one unit a class"):format(lab.width)}
    end
    if not (kind == nil and width and lab.kind == "sparse") then return end
  end
  if SPARSE[kind] and lab.kind == "onehot" then
    report:add{code = "label_encoding_mismatch", severity = "error",
      evidence = {split = what, label_width = lab.width, loss = kind, label_encoding = "one_hot",
                  suggested_loss = "categorical_crossentropy"},
      message = ("%s are one-hot rows (%d columns) but the loss is sparse_categorical_crossentropy, which takes "
        .. "class numbers"):format(what, lab.width),
      fix = LOSS_LINE.categorical .. "  -- or y = y:argmax(2) - 1"}
    return
  end
  if CATEGORICAL[kind] and lab.kind == "sparse" then
    report:add{code = "label_encoding_mismatch", severity = "error",
      evidence = {split = what, loss = kind, label_min = lab.min, label_max = lab.max, label_encoding = "sparse",
                  suggested_loss = "sparse_categorical_crossentropy"},
      message = ("%s are class numbers (one per sample) but the loss is categorical_crossentropy, which takes "
        .. "one-hot rows"):format(what),
      fix = LOSS_LINE.sparse .. "  -- or y = lurn.utils.to_categorical(y)"}
    return
  end
  if kind == "binary_crossentropy" and (lab.min < 0 or lab.max > 1) then
    report:add{code = "label_encoding_mismatch", severity = "error",
      evidence = {split = what, loss = kind, label_min = lab.min, label_max = lab.max},
      message = ("%s run from %g to %g but binary_crossentropy takes targets in [0, 1]"):format(what, lab.min,
        lab.max),
      fix = LOSS_LINE.sparse .. "  -- several classes: a softmax output of one unit a class"}
    return
  end
  if lab.kind == "onehot" and not lab.rows_sum_one then
    report:add{code = "label_encoding_mismatch", severity = "error",
      evidence = {split = what, label_min = lab.min, label_max = lab.max},
      message = ("%s have %d columns but their rows are not one-hot (values in [0, 1] summing to 1)"):format(what,
        lab.width),
      fix = "y = lurn.utils.to_categorical(class_numbers)"}
    return
  end
  if lab.kind == "onehot" and width and lab.width ~= width then
    report:add{code = "label_encoding_mismatch", severity = "error",
      evidence = {split = what, label_width = lab.width, output_width = width},
      message = ("%s are one-hot rows of %d columns but the model's output has %d"):format(what, lab.width, width),
      fix = ("lurn.layers.Dense(%d, {activation = \"softmax\"})  -- as the model's last layer, in place of the one "
        .. "there: one unit a class"):format(lab.width)}
    return
  end
  if lab.kind == "sparse" and (SPARSE[kind] or kind == nil) then
    local hi = width and width - 1
    if lab.min < 0 or not lab.whole or (hi and lab.max > hi) then
      report:add{code = "label_encoding_mismatch", severity = "error",
        evidence = {split = what, label_min = lab.min, label_max = lab.max, output_width = width or -1},
        message = ("%s run from %g to %g%s: sparse labels are whole class numbers 0..%s"):format(what, lab.min,
          lab.max, lab.whole and "" or " with fractions", hi and tostring(hi) or "C-1"),
        fix = (hi and lab.min == 1 and lab.whole and lab.max == hi + 1)
          and "y = y - 1  -- labels numbered from 1 (as R and UCI number classes): lurn's are 0..C-1 (the same for "
            .. "the validation and test labels)"
          or (hi and lab.max > hi and lab.min >= 0 and lab.whole)
          and ("lurn.layers.Dense(%d, {activation = \"softmax\"})  -- as the model's last layer, in place of the one "
            .. "there: one unit a class number"):format(math.tointeger(lab.max + 1))
          or "y = lurn.preprocessing.LabelEncoder():fit_transform(y)  -- class numbers 0..C-1"}
    end
  end
end

-- Whether labels look like classes (so that the class checks apply).
local function is_classification(lab, kind)
  if lab.kind == "strings" then return true end
  if REGRESSION[kind] then return false end
  if not lab.codes then return false end
  if lab.kind == "onehot" then return lab.rows_sum_one end
  return lab.min >= 0 and (kind ~= nil or lab.max < 1024)
end

-- {[class] = count} of a codes tensor.
local function class_counts(codes)
  local values, counts = core.unique(codes)
  local out, list = {}, {}
  local v, c = values:totable(), counts:totable()
  for i = 1, #v do
    local k = math.tointeger(v[i]) or v[i]
    out[k] = math.tointeger(c[i]) or c[i]
    list[#list + 1] = k
  end
  return out, list
end

-- The page's bars: {class =, value =} for each class of `classes`.
local function per_class_values(classes, values)
  local out = {}
  for i, c in ipairs(classes) do out[i] = {class = c, value = values[c] or 0} end
  return out
end

local function check_imbalance(report, codes, opts)
  local counts, classes = class_counts(codes)
  if #classes < 2 then return end
  local lo, hi, lo_c, hi_c = math.huge, 0, nil, nil
  for _, c in ipairs(classes) do
    if counts[c] < lo then lo, lo_c = counts[c], c end
    if counts[c] > hi then hi, hi_c = counts[c], c end
  end
  local ratio = hi / lo
  if ratio < IMBALANCE_RATIO then return end
  -- compensated: the weighted class totals (class_weight, sample_weight) within the ratio
  local weighted, wratio = nil, ratio
  if opts.class_weight ~= nil or opts.sample_weight ~= nil then
    weighted = {}
    local sw = opts.sample_weight and opts.sample_weight:reshape(codes:size(1))
    for _, c in ipairs(classes) do
      local mask = codes:eq(c)
      local total = sw and (sw * mask):sum() or counts[c]
      local cw = opts.class_weight and opts.class_weight[c]
      if opts.class_weight and cw == nil then cw = 1 end
      weighted[c] = total * (cw or 1)
    end
    local wlo, whi = math.huge, 0
    for _, c in ipairs(classes) do
      wlo, whi = math.min(wlo, weighted[c]), math.max(whi, weighted[c])
    end
    wratio = wlo > 0 and whi / wlo or math.huge
  end
  local compensated = weighted ~= nil and wratio < IMBALANCE_RATIO
  -- samples per class 0, 1, ... (what report:repair's balanced class weights read), when
  -- the classes are the whole numbers 0..K-1
  local per_class = {}
  for i, c in ipairs(classes) do
    if c ~= i - 1 then per_class = nil break end
    per_class[i] = counts[c]
  end
  report:add{code = "class_imbalance", severity = compensated and "info" or "warning",
    evidence = {ratio = ratio, weighted_ratio = wratio, largest_class = hi_c, largest = hi, smallest_class = lo_c,
                smallest = lo, classes = #classes, class_counts = per_class,
                per_class = per_class_values(classes, counts), per_class_label = "samples"},
    message = ("class %s has %d samples, class %s only %d (%.3g to 1)%s"):format(tostring(hi_c), hi,
      tostring(lo_c), lo, ratio, compensated
        and ("; the weights given compensate (weighted %.3g to 1)"):format(wratio)
        or ": the loss is dominated by the large classes, and predicting them alone already scores well"),
    fix = "model:fit(x, y, {class_weight = lurn.utils.compute_class_weight(\"balanced\", y)})"}
end

-- ---- across splits -----------------------------------------------------------------

-- The page's grouped bars (docs/doctor.md, "Plottable evidence"): samples per class in
-- each split of {train =, val =, test =} (codes tensors), over every class seen.
local function split_class_counts(splits)
  local counted, seen, classes = {}, {}, {}
  for _, name in ipairs{"train", "val", "test"} do
    if splits[name] then
      local counts, list = class_counts(splits[name])
      counted[#counted + 1] = {split = name, counts = counts}
      for _, c in ipairs(list) do if not seen[c] then seen[c], classes[#classes + 1] = true, c end end
    end
  end
  table.sort(classes, function(a, b)
    if type(a) == type(b) then return a < b end
    return type(a) == "number"
  end)
  local out = {classes = classes}
  for i, e in ipairs(counted) do
    local values = {}
    for k, c in ipairs(classes) do values[k] = e.counts[c] or 0 end
    out[i] = {split = e.split, counts = values}
  end
  return out
end

local function check_split_classes(report, y, others)
  local splits = {train = y}
  local n = 1
  for _, o in ipairs(others) do
    if o.lab and o.lab.codes then splits[o.name] = o.lab.codes; n = n + 1 end
  end
  if n < 2 then return end
  local ok, result = pcall(check_splits, splits)
  if not ok or result.ok then return end
  local split_counts = split_class_counts(splits)
  for _, name in ipairs(result.splits) do
    local miss = result.missing[name]
    if miss then
      local absent = {}
      for i, c in ipairs(miss) do absent[i] = c end
      local in_train = name ~= "train"
      report:add{code = "split_missing_class", severity = "warning",
        evidence = {split = name, classes = absent, count = #absent, split_class_counts = split_counts},
        message = in_train
          and ("class(es) %s of the other splits are absent from %s: its metrics say nothing about them"):format(
            list_text(absent), name == "val" and "the validation data" or "the test data")
          or ("class(es) %s are absent from the training data but present in another split: the model cannot "
            .. "learn them"):format(list_text(absent)),
        fix = "x, x_test, y, y_test = lurn.model_selection.train_test_split(x_all, y_all, {stratify = y_all, test_size = 0.2})"}
    end
  end
end

-- A fixed pseudo-random vector (a linear congruential generator: the user's generator is
-- not touched) for projecting rows.
local function projection(d, seed)
  local v, s = {}, seed
  for i = 1, d do
    s = (s * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff
    v[i] = ((s >> 11) % 2000003) / 1000001.5 - 1
  end
  return core.tensor(v):reshape(d, 1)
end

-- Rows of b identical to a row of a: each row hashed by two random projections, candidates
-- within a relative 1e-4 of both compared exactly.
local function overlap_count(a, b, self_compare)
  local d = a:size(2)
  local p1, p2 = projection(d, 12345), projection(d, 67890)
  local ha = core.cat({core.matmul(a, p1), core.matmul(a, p2)}, 2):totable()
  local hb = core.cat({core.matmul(b, p1), core.matmul(b, p2)}, 2):totable()
  local order = {}
  for i = 1, #ha do order[i] = i end
  table.sort(order, function(i, j) return ha[i][1] < ha[j][1] end)
  local keys = {}
  for i, o in ipairs(order) do keys[i] = ha[o][1] end
  local function tol(v) return 1e-4 * (math.abs(v) + 1e-6) + 1e-6 end
  local count = 0
  for j = 1, #hb do
    local v, w = hb[j][1], hb[j][2]
    if v == v then
      local t = tol(v)
      local lo, hi = 1, #keys + 1
      while lo < hi do
        local mid = (lo + hi) // 2
        if keys[mid] < v - t then lo = mid + 1 else hi = mid end
      end
      local tried = 0
      local i = lo
      while i <= #keys and keys[i] <= v + t and tried < 64 do
        local r = order[i]
        if (not self_compare or r ~= j) and math.abs(ha[r][2] - w) <= tol(w) then
          tried = tried + 1
          if a:select(1, r):ne(b:select(1, j)):sum() == 0 then count = count + 1; break end
        end
        i = i + 1
      end
    end
  end
  return count
end

-- A split's rows identical to training rows are leakage when there are more than chance
-- puts there: a data set that holds duplicate rows of its own (iris' flowers measured to
-- the millimetre) sends some twins to both sides of any random split. The training rows'
-- own duplicates measure that rate: under a random split a row of the split has a twin in
-- training about as often as a training row has one among the other training rows, so
-- about n_split * (duplicated training rows / training rows) overlaps come by chance
-- (copying training rows into the split adds none of those). A warning needs clearly more:
-- beyond 3 standard deviations of that count plus one, and 1% of the split.
local function check_overlap(report, x, others)
  local own_dup  -- training rows equal to another training row, counted once
  for _, o in ipairs(others) do
    if o.x and o.x:size(2) == x:size(2) then
      local n = overlap_count(x, o.x)
      if n > 0 then
        local share = n / o.x:size(1)
        own_dup = own_dup or overlap_count(x, x, true)
        local expected = o.x:size(1) * own_dup / x:size(1)
        local leak = share >= OVERLAP_SHARE and n > expected + 3 * math.sqrt(expected) + 1
        report:add{code = "train_test_overlap", severity = leak and "warning" or "info",
          evidence = {split = o.name, rows = n, share = share, duplicated_training_rows = own_dup,
                      expected_by_chance = expected},
          message = ("%d row(s) of the %s data (%.2f%%) are identical to training rows: its score counts them as "
            .. "seen, up to %.2f points too high"):format(n, o.label, 100 * share, 100 * share)
            .. (leak and "" or ("; %d training rows duplicate other training rows, so about %.2g such rows come by "
              .. "chance: not more than that"):format(own_dup, expected)),
          fix = "x, x_test, y, y_test = lurn.model_selection.train_test_split(x_unique, y_unique, {test_size = 0.2})"
            .. "  -- split after removing duplicate rows"}
      end
    end
  end
end

-- P(X >= s) for X ~ Binomial(k, p).
local function binomial_tail(k, p, s)
  if s <= 0 then return 1 end
  if p <= 0 then return 0 end
  local total, term = 0, (1 - p) ^ k  -- term: P(X = j), from j = 0
  for j = 0, k do
    if j >= s then total = total + term end
    if j < k then term = term * (k - j) / (j + 1) * p / (1 - p) end
  end
  return math.min(total, 1)
end

-- label_noise: labels flipped at random (a share r, each to one of the K - 1 other classes)
-- put a background share b = r / (K - 1) of every foreign class into every neighbourhood;
-- class overlap puts a few classes, in quantity, where they meet. A sample is contradicted
-- when another label is more common than its own among its KNN_K nearest neighbours, and a
-- suspect when its own label is, in its class's wide neighbourhood (a third of the class,
-- KNN_K..KNN_WIDE), no more common than the background gives a class (a binomial test of
-- size 1 in NOISE_TEST, the edge count weighted); otherwise overlap explains it. Only
-- flips to a class absent from the neighbourhood can be seen (reach: the mean share of
-- such classes), so r = suspects / checked / reach. The background is read from the data:
-- r is the largest fixed point of r -> that estimate under b = r / (K - 1), reached from
-- above (the contradicted share bounds it); docs/doctor.md says more.
local function check_label_noise(report, x, codes, scaled, stats, cols)
  local n = x:size(1)
  if n < KNN_K + 2 or #cols == 0 then return end
  local lab = codes:totable()
  local per_class, classes = {}, 0
  for _, c in ipairs(lab) do
    if not per_class[c] then classes = classes + 1 end
    per_class[c] = (per_class[c] or 0) + 1
  end
  if classes < 2 then return end
  -- each class's wide neighbourhood: half the class, within KNN_K..KNN_WIDE, so that the
  -- class's own region can fill it (a flip to class c is judged by c's)
  local width, widest = {}, KNN_K
  for c, count in pairs(per_class) do
    width[c] = math.min(n - 1, math.max(KNN_K, math.min(KNN_WIDE, count // 3)))
    widest = math.max(widest, width[c])
  end
  widest = math.min(widest, n - 1)
  local sub = #cols == x:size(2) and x or x:index(2, core.tensor(cols))
  if not scaled then
    local mean, sd = {}, {}
    for i, j in ipairs(cols) do mean[i], sd[i] = stats.mean[j], math.sqrt(stats.var[j]) end
    sub = (sub - core.tensor(mean):reshape(1, #cols)) / core.tensor(sd):reshape(1, #cols)
  end
  sub = sub:contiguous()
  local m = math.min(n, KNN_QUERIES)
  local picks = {}
  if m == n then
    for i = 1, n do picks[i] = i end
  else
    local step = n / m
    for i = 1, m do picks[i] = math.floor((i - 1) * step) + 1 end
  end
  local queries = sub:index(1, core.tensor(picks))
  local pos = core.kneighbors(sub, widest + 1, queries):totable()
  -- each sample's count of every class c among its width[c] nearest; contradicted ones noted.
  -- A contradicted sample whose features another sample of another label has exactly is left
  -- out (ambiguous): x does not tell its label apart (categories alone, as islands do not
  -- tell penguin species), and a flip cannot be told from what x lacks
  local rows, contradicted, ambiguous = {}, 0, 0
  local function same_x(i, p) return sub:select(1, i):ne(sub:select(1, p)):sum() == 0 end
  for qi, i in ipairs(picks) do
    local own, near, counts, seen, nearest = lab[i], {}, {}, 0, {}
    for _, p in ipairs(pos[qi]) do
      p = math.tointeger(p)
      if p ~= i and seen < widest then
        seen = seen + 1
        local c = lab[p]
        if seen <= KNN_K then near[c], nearest[seen] = (near[c] or 0) + 1, p end
        if seen <= width[c] then counts[c] = (counts[c] or 0) + 1 end
      end
    end
    local top, major = 0, own
    for c, count in pairs(near) do if count > top or (count == top and c == own) then top, major = count, c end end
    local tied = false
    if major ~= own then
      for _, p in ipairs(nearest) do
        if lab[p] ~= own and same_x(i, p) then tied = true; break end
      end
    end
    if tied then
      ambiguous = ambiguous + 1
    else
      rows[#rows + 1] = {own = own, counts = counts, major = major, contradicted = major ~= own}
      if major ~= own then contradicted = contradicted + 1 end
    end
  end
  -- r, suspects, b, reach and the suspects by class of the rows: the largest fixed point
  -- of r -> the estimate under b = r / (K - 1), from the contradicted share down
  local function estimate(rows_, contradicted_)
    local m_ = #rows_
    local share, suspects, background, reach = math.min(contradicted_ / m_, (classes - 1) / classes), 0, 0, 1
    local by_class = {}  -- the suspects' weights by their class
    for _ = 1, 100 do
      background = share / (classes - 1)
      -- the test of a class's count among w places against the background, of size exactly
      -- 1 in NOISE_TEST (the count at the edge counted in part, so that the estimate moves
      -- smoothly with the background): -> the weight of a count as "no more than background"
      local tests, within = {}, {}
      for c, w in pairs(width) do
        if not tests[w] then
          local alpha, l = 1 / NOISE_TEST, 0
          while binomial_tail(w, background, l + 1) >= alpha do l = l + 1 end
          local above = binomial_tail(w, background, l + 1)
          local at = binomial_tail(w, background, l) - above
          tests[w] = {limit = l, edge = at > 0 and 1 - (alpha - above) / at or 1}
        end
        within[c] = tests[w]
      end
      local function weight(c, k)
        local t = within[c]
        if k < t.limit then return 1 end
        return k == t.limit and t.edge or 0
      end
      -- suspects; and reach: the mean share of the foreign classes a flip could land on that
      -- are absent (within the background) around a sample: a flip to a class present there
      -- cannot be told from overlap (every class absent, corrected for the few present
      -- around a sample: many classes cost no more than few)
      local all_absent = 0
      for c in pairs(per_class) do all_absent = all_absent + weight(c, 0) end
      local count, absent = 0, 0
      by_class = {}
      for _, row in ipairs(rows_) do
        if row.contradicted then
          local w = weight(row.own, row.counts[row.own] or 0)
          count, by_class[row.own] = count + w, (by_class[row.own] or 0) + w
        end
        local a = all_absent - weight(row.major, 0)
        for c, k in pairs(row.counts) do
          if c ~= row.major then a = a + weight(c, k) - weight(c, 0) end
        end
        absent = absent + a / (classes - 1)
      end
      suspects, reach = count, absent / m_
      local next_share = reach > 0 and math.min(count / m_ / reach, (classes - 1) / classes) or 0
      if next_share >= share then break end
      share = next_share
    end
    return share, suspects, background, reach, by_class
  end
  if contradicted == 0 then return end
  local share, suspects, background, reach, by_class = estimate(rows, contradicted)
  -- a class most of whose samples read as flips: a class smaller than the flips random noise
  -- would send into it, or one that x does not separate from a larger one it overlaps (a
  -- rare class among similar ones: shirts among 39 times as many tops). Neighbours cannot
  -- tell the two apart, so such a class is left out and the rest estimated again.
  local checked_in = {}
  for _, row in ipairs(rows) do checked_in[row.own] = (checked_in[row.own] or 0) + 1 end
  local unresolved, left_out = {}, {}
  for c, w in pairs(by_class) do
    if w > 0.5 * checked_in[c] then unresolved[c] = true; left_out[#left_out + 1] = c end
  end
  if #left_out > 0 then
    table.sort(left_out)
    local kept, again = {}, 0
    for _, row in ipairs(rows) do
      if not unresolved[row.own] then
        kept[#kept + 1] = row
        if row.contradicted then again = again + 1 end
      end
    end
    rows, contradicted = kept, again
    if contradicted == 0 or #rows == 0 then return end
    share, suspects, background, reach, by_class = estimate(rows, contradicted)
  end
  m = #rows
  if suspects == 0 then return end
  -- with clean labels a contradicted sample sits where classes overlap, and passes the test
  -- (its own class no more common than the background) with probability at most its size:
  -- the suspects are then at most Binomial(contradicted, 1 / NOISE_TEST). Fewer than that
  -- makes likely (a few samples: one suspect among 4 contradicted) is no evidence of noise.
  local chance = binomial_tail(contradicted, 1 / NOISE_TEST, math.ceil(suspects - 1e-9))
  local significant = chance < 1 / NOISE_TEST
  report:add{code = "label_noise", severity = share >= NOISE_SHARE and significant and "warning" or "info",
    evidence = {estimated_share = share, suspects = suspects, checked = m, contradicted = contradicted,
                explained_by_overlap = contradicted - suspects, background_share = background, reach = reach,
                classes = classes, k = KNN_K, k_wide = widest, chance = chance, ambiguous = ambiguous,
                unresolved_classes = left_out,
                per_class = per_class_values(select(2, class_counts(codes)), by_class),
                per_class_label = "suspect labels"},
    message = ("about %.1f%% of the labels look wrong: %.0f of %d samples checked carry a label that another "
      .. "outnumbers among their %d nearest neighbours and that is no more common among their nearest (up to %d: "
      .. "a third of the class) than "
      .. "labels flipped at that rate put everywhere (%.2g%% of each foreign class), and such flips can be seen "
      .. "for %.0f%% of them (the rest land on a class present nearby); %.0f more contradicted samples sit where "
      .. "classes overlap"):format(100 * share, suspects, m, KNN_K, widest, 100 * background, 100 * reach,
      contradicted - suspects) .. (ambiguous > 0 and ("; %d more share their features exactly with a sample of "
      .. "another label, which x cannot tell apart: left out"):format(ambiguous) or "") .. (#left_out > 0
      and ("; class(es) %s left out: most of their samples read as flips, which neighbours cannot tell from a class "
      .. "that x does not separate from a larger one"):format(list_text(left_out)) or "") .. (significant and "" or ("; with clean labels as many suspects come by chance "
      .. "%.0f%% of the time, so this is no evidence yet"):format(100 * chance)),
    fix = "lurn.experiments.label_noise_check(build, x, y)  -- lists the suspects to relabel or drop"}
end

-- ---- the entry point ---------------------------------------------------------------

local function split_pair(v, name)
  if v == nil then return nil end
  if type(v) ~= "table" or core.is_tensor(v) or v[1] == nil or v[2] == nil then
    fail(("check_data: %s must be {x, y}"):format(name))
  end
  return v[1], v[2]
end

local function check_data(x, y, opts)
  options.check(opts, OPTIONS, "check_data", 3)
  opts = opts or {}
  local report = Report.new()
  x = matrix(x, "x")
  local n, d = x:size(1), x:size(2)
  if y ~= nil then
    local ny = core.is_tensor(y) and (y:dim() == 0 and 0 or y:size(1)) or (type(y) == "table" and #y)
    if ny ~= n then fail(("check_data: x has %d samples but y has %s"):format(n, tostring(ny))) end
  end
  local categorical = {}
  if opts.categorical_columns ~= nil then
    if type(opts.categorical_columns) ~= "table" then fail("check_data: categorical_columns must be a list") end
    for _, j in ipairs(opts.categorical_columns) do
      if math.type(j) ~= "integer" or j < 1 or j > d then
        fail(("check_data: categorical_columns holds %s, not a feature position in 1..%d"):format(tostring(j), d))
      end
      categorical[j] = true
    end
  end
  if opts.sample_weight ~= nil and not (core.is_tensor(opts.sample_weight) and opts.sample_weight:numel() == n) then
    fail(("check_data: sample_weight must be a tensor of %d weights"):format(n))
  end
  if opts.class_weight ~= nil then
    if type(opts.class_weight) ~= "table" then fail("check_data: class_weight must be a table {[class] = weight}") end
    -- as fit reads it (lua/lurn/models/model.lua): 0-based class numbers to finite numbers
    for k, v in pairs(opts.class_weight) do
      if math.type(k) ~= "integer" or k < 0 or type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge then
        fail(("check_data: class_weight must map 0-based class numbers to finite numbers, got [%s] = %s"):format(
          tostring(k), type(v) == "string" and ("the string %q"):format(v) or tostring(v)))
      end
    end
  end
  local kind, width = loss_and_width(opts)

  -- the other splits
  local others = {}
  for _, s in ipairs{{"validation_data", "val", "validation"}, {"test_data", "test", "test"}} do
    local ox, oy = split_pair(opts[s[1]], s[1])
    if ox then
      local entry = {name = s[2], label = s[3], x = matrix(ox, s[1] .. "[1]")}
      if entry.x:size(2) ~= d then
        fail(("check_data: %s has %d features a sample, x has %d"):format(s[1], entry.x:size(2), d))
      end
      local nf = non_finite(entry.x)
      check_missing(report, nf, s[3] .. " x", "x_" .. s[2])
      entry.stats = core.column_stats(nf.clean)
      for k, t in pairs(entry.stats) do entry.stats[k] = t:totable() end
      if oy ~= nil then entry.lab = read_labels(oy, s[1] .. "[2]") end
      others[#others + 1] = entry
    end
  end

  -- the features
  local nf = non_finite(x)
  check_missing(report, nf, "x", "x")
  local st = core.column_stats(nf.clean)
  local stats = {}
  for k, t in pairs(st) do stats[k] = t:totable() end
  check_constant(report, stats, categorical, d, others)
  local cols = continuous(stats, categorical, d)
  local unscaled = check_scale(report, stats, cols, d)
  check_outliers(report, nf.clean, stats, cols)

  -- the labels
  if y == nil then return report end
  local lab = read_labels(y, "y")
  check_encoding(report, lab, kind, width, "the labels")
  for _, o in ipairs(others) do
    if o.lab then check_encoding(report, o.lab, kind, width, ("the %s labels"):format(o.label)) end
  end
  if lab.kind == "strings" or not is_classification(lab, kind) then
    check_overlap(report, x, others)
    return report
  end
  check_imbalance(report, lab.codes, opts)
  check_split_classes(report, lab.codes, others)
  check_overlap(report, x, others)
  if nf.rows == 0 then check_label_noise(report, x, lab.codes, not unscaled, stats, cols) end
  return report
end

data.check_data = at_user_line(check_data)

return data
