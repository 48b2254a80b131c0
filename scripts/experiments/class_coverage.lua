--- Lesson 18, class coverage: a split that misses a class. Many data files are sorted by
-- class (examples/data/wine.csv is: cultivar 0, then 1, then 2), and two common habits
-- cut such a file without shuffling it: a train/test split that takes the first rows for
-- training (train_test_split{shuffle = false}, or a slice by hand), and fit's
-- validation_split, which as in Keras holds out the LAST rows, before any shuffling. The
-- network then never sees a class, or is validated on one class alone, and nothing in
-- training says so. lurn.data.check_splits counts every class in every split before any
-- training and names the classes a split lacks. Three splits of the wine data: the first
-- 70% of the rows against the last 30%; fit's validation_split = 0.2 on the rows as read;
-- and a shuffled split stratified by class. For each: what check_splits says before
-- training, then what training shows: the classes the network predicts, recall per
-- class, and the score training reports. The conclusion is computed from the counts and
-- the scores: which split missed which class, whether check_splits caught it, and what it
-- cost (a class never predicted, a validation score on one class).
--
--   build/lurn scripts/experiments/class_coverage.lua [--tiny|--quick|--full] [--out DIR]
-- lesson.lua and lesson_kit.lua sit beside this file
package.path = (debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. "?.lua;" .. package.path
local lesson = require "lesson"
local kit = require "lesson_kit"
local lurn = require "lurn"
local L = lurn.layers

local CLASSES = {0, 1, 2}

local function build(features, units)
  local model = lurn.Sequential{
    L.Dense(units, {input_shape = {features}, activation = "relu"}),
    L.Dense(3, {activation = "softmax"}),
  }
  return model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.01},
                       loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
end

local function counts_text(check, split)
  local parts = {}
  for _, c in ipairs(check.classes) do parts[#parts + 1] = ("%s: %d"):format(kit.num(c), check.counts[split][c]) end
  return table.concat(parts, ", ")
end

local function missing_text(check, split)
  local miss = check.missing[split]
  if not miss then return "none" end
  local parts = {}
  for i, c in ipairs(miss) do parts[i] = kit.num(c) end
  return table.concat(parts, ", ")
end

-- "class 2", "classes 0 and 1", "classes 0, 1 and 2"
local function classes_text(list)
  local parts = {}
  for i, c in ipairs(list) do parts[i] = kit.num(c) end
  if #parts == 1 then return "class " .. parts[1] end
  return "classes " .. table.concat(parts, ", ", 1, #parts - 1) .. " and " .. parts[#parts]
end

-- x scaled by a StandardScaler fitted on the training rows only.
local function scaled(x_train, others)
  local s = lurn.preprocessing.StandardScaler():fit(x_train)
  local out = {}
  for i, x in ipairs(others) do out[i] = s:transform(x) end
  return s:transform(x_train), table.unpack(out)
end

-- The predicted classes of x, with recall per class on y (a list, class c at c + 1) and
-- the classes never predicted.
local function scores(model, x, y)
  local pred = model:predict(x, {verbose = 0}):argmax(2):reshape(x:size(1)) - 1
  local recall = lurn.metrics.recall_score(y, pred, {average = false, labels = CLASSES, zero_division = 0})
  local seen = {}
  for _, v in ipairs(pred:totable()) do seen[math.tointeger(v)] = true end
  local never = {}
  for _, c in ipairs(CLASSES) do
    if not seen[c] then never[#never + 1] = c end
  end
  return {accuracy = lurn.metrics.accuracy_score(y, pred), recall = recall, never = never}
end

-- The three splits of the wine rows x, y (as read, sorted by class): {name =, key =,
-- x_train =, y_train =, x_test =, y_test =, held = "test" | "val", validation_split =}.
local function split_three(x, y, seed)
  local n = x:size(1)
  local splits = {}

  -- 1. the first 70% of the rows for training, the last 30% for testing, as the file is sorted
  do
    local xt, xs, yt, ys = lurn.model_selection.train_test_split(x, y, {test_size = 0.3, shuffle = false})
    splits[#splits + 1] = {name = "first 70% / last 30%, no shuffle", key = "unshuffled", x_train = xt, y_train = yt,
                           x_test = xs, y_test = ys, held = "test"}
  end
  -- 2. fit's validation_split = 0.2: the last 20% of the rows as given, held out before shuffling
  do
    local n_val = n - math.floor(n * (1.0 - 0.2))  -- as fit holds them out (Keras 2's rule: split_tail in models/model.lua)
    splits[#splits + 1] = {name = "fit's validation_split = 0.2", key = "validation_split",
                           x_train = x:narrow(1, 1, n - n_val):contiguous(), y_train = y:narrow(1, 1, n - n_val):contiguous(),
                           x_test = x:narrow(1, n - n_val + 1, n_val):contiguous(),
                           y_test = y:narrow(1, n - n_val + 1, n_val):contiguous(), held = "val", validation_split = 0.2}
  end
  -- 3. shuffled and stratified
  do
    local xt, xs, yt, ys = lurn.model_selection.train_test_split(x, y, {test_size = 0.3, stratify = y,
                                                                       random_state = seed})
    splits[#splits + 1] = {name = "shuffled, stratified 70% / 30%", key = "stratified", x_train = xt, y_train = yt,
                           x_test = xs, y_test = ys, held = "test"}
  end

  return splits
end

-- The doctor's cases (lesson.lua): each split's training rows with its held-out rows as
-- the validation data, scaled on the training rows.
local function doctor(ctx)
  local x, y = kit.csv("wine")
  local list = {}
  for _, s in ipairs(split_three(x, y, ctx.seed)) do
    local broken = s.key ~= "stratified"
    list[#list + 1] = {name = s.name, expect = broken and "split_missing_class" or nil, fixed = not broken,
                       build = function()
      local xt, xs = scaled(s.x_train, {s.x_test})
      return build(x:size(2), 32), xt, s.y_train, {validation_data = {xs, s.y_test}, batch_size = 16}
    end}
  end
  return list
end

local function run(ctx)
  -- small dense networks: one thread is as fast as two here, and keeps its pace when other programs are
  -- busy on the cores (lurn's threads spin while they wait); run_all.lua restores the count
  lurn.set_num_threads(1)
  local size = ctx.pick{
    tiny = {units = 8, epochs = 5},
    quick = {units = 32, epochs = 60},
    full = {units = 64, epochs = 200},
  }
  local x, y = kit.csv("wine")
  local n = x:size(1)
  local splits = split_three(x, y, ctx.seed)

  local check_rows, train_rows, results = {}, {}, {splits = {}}
  local plots = {}
  local recall_series = {}
  for i, s in ipairs(splits) do
    -- before any training: the counts
    s.check = lurn.data.check_splits{train = s.y_train, [s.held] = s.y_test}
    for _, split in ipairs(s.check.splits) do
      check_rows[#check_rows + 1] = {s.name, split, s.check.totals[split], counts_text(s.check, split),
                                     missing_text(s.check, split)}
    end
    ctx.log("%s: check_splits ok = %s", s.name, tostring(s.check.ok))
    -- then training, as the split stands
    lurn.manual_seed(ctx.seed)
    local model = build(x:size(2), size.units)
    local reported
    if s.validation_split then
      -- as the user would call it: fit holds out the tail itself (scaled on all rows, as such code usually is)
      local xs = lurn.preprocessing.StandardScaler():fit_transform(x)
      local r = kit.fit(model, xs, y, {epochs = size.epochs, batch_size = 16, validation_split = s.validation_split})
      reported = kit.last(r.history.val_accuracy)
      s.scores = scores(model, xs:narrow(1, n - s.y_test:size(1) + 1, s.y_test:size(1)):contiguous(), s.y_test)
    else
      local xt, xs = scaled(s.x_train, {s.x_test})
      kit.fit(model, xt, s.y_train, {epochs = size.epochs, batch_size = 16})
      s.scores = scores(model, xs, s.y_test)
      reported = s.scores.accuracy
    end
    s.reported = reported
    local never = {}
    for k, c in ipairs(s.scores.never) do never[k] = kit.num(c) end
    local recall = {}
    for k, c in ipairs(CLASSES) do
      local support = s.check.counts[s.held][c]
      recall[k] = support > 0 and ("%d: %s"):format(c, kit.num(s.scores.recall[k], "%.3f")) or ("%d: no sample"):format(c)
    end
    train_rows[i] = {s.name, s.check.ok and "yes" or "no", s.held == "val" and "val_accuracy" or "test accuracy",
                     reported, table.concat(recall, ", "), #never > 0 and table.concat(never, ", ") or "none"}
    recall_series[i] = s
    results.splits[i] = {name = s.name, key = s.key, ok = s.check.ok, counts = {}, missing = s.check.missing,
                         reported = reported, recall = s.scores.recall, never_predicted = s.scores.never}
    for _, split in ipairs(s.check.splits) do
      local c = {}
      for k, cls in ipairs(CLASSES) do c[k] = s.check.counts[split][cls] end
      results.splits[i].counts[split] = c
    end
  end

  -- the counts as bars: each split's training and held-out part per class
  local labels = {}
  for i, s in ipairs(splits) do
    labels[#labels + 1] = ("%s train"):format(s.key)
    labels[#labels + 1] = ("%s %s"):format(s.key, s.held)
  end
  local series = {}
  for k, c in ipairs(CLASSES) do
    local values = {}
    for _, s in ipairs(splits) do
      values[#values + 1] = s.check.counts.train[c]
      values[#values + 1] = s.check.counts[s.held][c]
    end
    series[k] = {values = values, label = ("class %d"):format(c)}
  end
  series[1].labels = labels
  series.xlabel, series.ylabel, series.title = "split", "samples", "samples per class in each part, before training"
  kit.plot(ctx, plots, "counts", "bars", series, "Samples of each class in each part of each split (check_splits' counts).")

  -- the conclusion, from the counts and the scores
  local out = {}
  for _, s in ipairs(splits) do
    local misses = {}
    for _, split in ipairs(s.check.splits) do
      if s.check.missing[split] then
        misses[#misses + 1] = ("the %s part lacks %s"):format(split, classes_text(s.check.missing[split]))
      end
    end
    if #misses == 0 then
      out[#out + 1] = ("Split \"%s\": check_splits found every class in every part; %s %s, classes never predicted: %s."):format(
        s.name, s.held == "val" and "val_accuracy" or "test accuracy", kit.num(s.reported, "%.3f"),
        #s.scores.never > 0 and table.concat(s.scores.never, ", ") or "none")
    else
      local cost = {}
      local train_missing = s.check.missing.train or {}
      for _, c in ipairs(train_missing) do
        local k = c + 1
        local support = s.check.counts[s.held][c]
        local never = false
        for _, v in ipairs(s.scores.never) do
          if v == c then never = true end
        end
        if support > 0 then
          cost[#cost + 1] = ("the network never saw class %d and %s (recall %s on its %d held-out samples)"):format(c,
            never and "never predicted it" or "still predicted it sometimes", kit.num(s.scores.recall[k], "%.3f"), support)
        end
      end
      if s.check.missing[s.held] then
        local present = {}
        for _, c in ipairs(CLASSES) do
          if s.check.counts[s.held][c] > 0 then present[#present + 1] = c end
        end
        cost[#cost + 1] = ("its %s, %s, measures %s alone"):format(s.held == "val" and "val_accuracy" or "test accuracy",
          kit.num(s.reported, "%.3f"), classes_text(present))
      end
      out[#out + 1] = ("Split \"%s\": check_splits, before training, found that %s; training confirmed it: %s."):format(s.name,
        table.concat(misses, " and "), #cost > 0 and table.concat(cost, "; ") or "no score showed it")
    end
  end
  local strat = splits[3]
  if strat.check.ok then
    out[#out + 1] = ("Shuffling with stratify = y fixes both: every class in every part, in the file's proportions.")
  end
  return {
    compared = ("The wine data (examples/data/wine.csv: %d wines, 13 measurements, cultivars 0, 1, 2 in that order in "
      .. "the file) cut three ways: train_test_split{test_size = 0.3, shuffle = false}; fit's validation_split = 0.2 "
      .. "on the rows as read (the last 20%%, as Keras takes them); train_test_split{test_size = 0.3, stratify = y} "
      .. "(shuffled, seed %d). lurn.data.check_splits counts the classes of each part before training; then a "
      .. "network 13-%d-3 (Adam 0.01, %d epochs, StandardScaler) trains on each as it stands."):format(n, ctx.seed,
      size.units, size.epochs),
    tables = {{caption = "Before training: check_splits' counts (class: samples) and the classes each part lacks",
               header = {"split", "part", "samples", "samples per class", "classes missing"}, rows = check_rows},
              {caption = "After training: the score training reports, recall per class on the held-out part, classes "
                 .. "never predicted there",
               header = {"split", "check_splits ok", "score", "value", "recall per class (held-out part)",
                         "classes never predicted"}, rows = train_rows}},
    plots = plots,
    conclusion = kit.sentences(out),
    results = results,
  }
end

return lesson.main{name = "class_coverage", title = "Class coverage: a split that misses a class", run = run, doctor = doctor}
