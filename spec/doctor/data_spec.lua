-- lurn.doctor.check_data (issue 19): for each data code, broken cases (different data) that
-- get it and their fixed twins that get no warning or error; healthy shipped data sets
-- with no warning or error; bad arguments as errors at the caller's line.
local lurn = require "lurn"

local check = lurn.doctor.check_data
local SPARSE = "sparse_categorical_crossentropy"

local function csv(name, target)
  local df = lurn.data.read_csv("examples/data/" .. name .. ".csv")
  local cols = {}
  for _, c in ipairs(df.columns) do if c ~= target then cols[#cols + 1] = c end end
  return df:to_tensor{columns = cols}, df:column(target)
end

local function scaled(x) return lurn.preprocessing.StandardScaler():fit_transform(x) end

-- k well separated Gaussian blobs in d dimensions (seeded), labels 0..k-1 in turn.
local function blobs(n, d, k, seed, sep)
  lurn.manual_seed(seed)
  local x = lurn.randn{n, d}
  local y = lurn.zeros{n}
  local centres = lurn.randn{k, d} * (sep or 6)
  for i = 1, n do
    local c = (i - 1) % k
    y:set(i, c)
    x:select(1, i):add_(centres:select(1, c + 1))
  end
  return x, y
end

-- The warnings and errors of a report (codes), for a readable failure.
local function serious(report)
  local out = {}
  for _, f in ipairs(report.findings) do
    if f.severity ~= "info" then out[#out + 1] = f.code end
  end
  return out
end

local function assert_broken(report, code)
  assert(report:has(code), ("expected %s in:\n%s"):format(code, tostring(report)))
end

local function assert_clean(report)
  assert(#serious(report) == 0, "expected no warning or error in:\n" .. tostring(report))
end

local function copy_flip(y, share, k, seed)
  lurn.manual_seed(seed)
  local out = y:clone()
  local n = y:size(1)
  local r = lurn.rand{n}
  for i = 1, n do
    if r:get(i) < share then out:set(i, (out:get(i) + 1 + (i % (k - 1))) % k) end
  end
  return out
end

describe("lurn.doctor.check_data", function()
  describe("unscaled_features", function()
    it("finds wine's raw features and passes them standardized", function()
      local x, y = csv("wine", "target")
      local r = check(x, y, {loss = SPARSE})
      assert_broken(r, "unscaled_features")
      -- proline (column 13) is the one over 100 times the median, of the 13 measured
      local e = r:get("unscaled_features")[1].evidence
      assert.are.same({13}, e.columns)
      assert.are.equal(1, e.column_count)
      assert.are.equal(13, e.continuous_count)
      assert.truthy(r:get("unscaled_features")[1].message:find("(column(s) 13)", 1, true))
      assert_clean(check(scaled(x), y, {loss = SPARSE}))
    end)
    it("finds breast cancer's raw features and passes them standardized", function()
      local x, y = csv("breast_cancer", "target")
      local r = check(x, y, {loss = SPARSE})
      assert_broken(r, "unscaled_features")
      assert.are.equal("warning", r:get("unscaled_features")[1].severity)
      assert_clean(check(scaled(x), y, {loss = SPARSE}))
    end)
    it("finds inputs far above unit scale (raw pixels) and passes them divided by 255", function()
      local x, y = blobs(400, 16, 3, 1)
      local raw = (x + 10) * 20
      assert_broken(check(raw, y), "unscaled_features")
      assert_clean(check(scaled(raw), y))
    end)
  end)

  describe("missing_values", function()
    it("reports NaN as an error with the imputer as the fix, and passes the imputed twin", function()
      local x, y = blobs(300, 5, 3, 2)
      x:set(3, 2, 0 / 0); x:set(40, 4, 0 / 0)
      local r = check(x, y, {loss = SPARSE})
      assert_broken(r, "missing_values")
      local f = r:get("missing_values")[1]
      assert.are.equal("error", f.severity)
      assert.are.equal(2, f.evidence.nan)
      -- the columns by their 1-based positions, and how many
      assert.are.same({2, 4}, f.evidence.columns)
      assert.are.equal(2, f.evidence.column_count)
      assert.truthy(f.fix:find("SimpleImputer", 1, true))
      assert_clean(check(lurn.preprocessing.SimpleImputer{strategy = "median"}:fit_transform(x), y, {loss = SPARSE}))
    end)
    it("reports infinities in iris and NaN labels, and passes the clean twin", function()
      local x, y = csv("iris", "target")
      local bad = x:clone()
      bad:set(10, 1, math.huge)
      assert_broken(check(bad, y), "missing_values")
      local ybad = y:clone()
      ybad:set(5, 0 / 0)
      assert_broken(check(x, ybad, {loss = SPARSE}), "missing_values")
      assert_clean(check(x, y, {loss = SPARSE}))
    end)
    it("checks the validation data too", function()
      local x, y = blobs(200, 4, 2, 3)
      local xv = x:narrow(1, 1, 50):clone()
      xv:set(1, 1, 0 / 0)
      local r = check(x, y, {validation_data = {xv, y:narrow(1, 1, 50)}})
      assert_broken(r, "missing_values")
      assert.are.equal("validation x", r:get("missing_values")[1].evidence.split)
    end)
  end)

  describe("constant_feature", function()
    it("notes a constant column of iris; the twin without it is clean", function()
      local x, y = csv("iris", "target")
      local bad = x:clone()
      bad:select(2, 2):fill(3)
      assert_broken(check(bad, y), "constant_feature")
      assert.is_false(check(x, y):has("constant_feature"))
    end)
    it("warns when a feature constant in training varies in the validation data", function()
      local x, y = blobs(300, 4, 3, 4)
      local xt, xv = x:narrow(1, 1, 200):clone(), x:narrow(1, 201, 100):clone()
      local yt, yv = y:narrow(1, 1, 200), y:narrow(1, 201, 100)
      xt:select(2, 3):fill(1)
      local r = check(xt, yt, {validation_data = {xv, yv}})
      assert_broken(r, "constant_feature")
      assert.are.equal("warning", r:get("constant_feature")[1].severity)
      local e = r:get("constant_feature")[1].evidence
      assert.are.same({3}, e.varying_elsewhere)
      assert.are.same({3}, e.columns)
      assert.are.equal(1, e.column_count)
      assert.are.equal(4, e.feature_count)
      local keep = lurn.tensor{1, 2, 4}
      assert_clean(check(xt:index(2, keep), yt, {validation_data = {xv:index(2, keep), yv}}))
    end)
    it("only notes a constant feature whose variation elsewhere adds too little to matter", function()
      -- a blank border pixel, faint in two validation images: its untrained weight adds a
      -- millionth of the pre-activations' variance there
      local x, y = blobs(300, 50, 3, 4)
      local xt, xv = x:narrow(1, 1, 200):clone(), x:narrow(1, 201, 100):clone()
      local yt, yv = y:narrow(1, 1, 200), y:narrow(1, 201, 100)
      xt:select(2, 7):fill(0)
      xv:select(2, 7):fill(0)
      xv:set(3, 7, 0.05); xv:set(9, 7, 0.02)
      local f = check(xt, yt, {validation_data = {xv, yv}}):get("constant_feature")[1]
      assert.are.equal("info", f.severity)
      assert.are.same({7}, f.evidence.varying_elsewhere)
      assert.is_true(f.evidence.added_variance_share < 1e-4)
      -- the same column varying as much as the others: a warning
      xv:select(2, 7):copy(x:narrow(1, 201, 100):select(2, 8))
      assert.are.equal("warning", check(xt, yt, {validation_data = {xv, yv}}):get("constant_feature")[1].severity)
    end)
  end)

  describe("outliers", function()
    it("finds a few extreme rows in standardized blobs; the twin without them is clean", function()
      local x, y = blobs(500, 6, 2, 5)
      local bad = x:clone()
      for i = 1, 4 do bad:set(i * 7, 2, 1e4) end
      assert_broken(check(bad, y), "outliers")
      assert_clean(check(x, y))
    end)
    it("finds a mis-keyed value in breast cancer's standardized features", function()
      local x, y = csv("breast_cancer", "target")
      local xs = scaled(x)
      local bad = xs:clone()
      bad:set(100, 5, 500); bad:set(200, 5, 480)
      local r = check(bad, y)
      assert_broken(r, "outliers")
      assert.are.same({5}, r:get("outliers")[1].evidence.columns)
      assert_clean(check(xs, y))
    end)
  end)

  describe("class_imbalance", function()
    local function imbalanced()
      local x, y = blobs(1000, 4, 2, 6, 3)
      local keep = {}
      local seen1 = 0
      for i = 1, 1000 do
        if y:get(i) == 0 then keep[#keep + 1] = i elseif seen1 < 40 then seen1 = seen1 + 1; keep[#keep + 1] = i end
      end
      local idx = lurn.tensor(keep)
      return x:index(1, idx), y:index(1, idx)
    end
    it("warns on 500 to 40 and notes it when class_weight compensates", function()
      local x, y = imbalanced()
      local r = check(x, y)
      assert_broken(r, "class_imbalance")
      assert.are.equal("warning", r:get("class_imbalance")[1].severity)
      local fixed = check(x, y, {class_weight = lurn.utils.compute_class_weight("balanced", y)})
      assert_broken(fixed, "class_imbalance")
      assert.are.equal("info", fixed:get("class_imbalance")[1].severity)
      assert_clean(fixed)
    end)
    it("warns on a rare third class and notes it when sample_weight compensates", function()
      local x, y = blobs(630, 3, 3, 7)
      local keep, rare = {}, 0
      for i = 1, 630 do
        if y:get(i) ~= 2 then keep[#keep + 1] = i elseif rare < 15 then rare = rare + 1; keep[#keep + 1] = i end
      end
      local idx = lurn.tensor(keep)
      x, y = x:index(1, idx), y:index(1, idx)
      assert_broken(check(x, y), "class_imbalance")
      local w = y:eq(2) * 13 + 1
      assert_clean(check(x, y, {sample_weight = w}))
    end)
  end)

  describe("split_missing_class", function()
    it("finds a test split of iris without virginica; the stratified split is clean", function()
      local x, y = csv("iris", "target")
      local r = check(x:narrow(1, 1, 100), y:narrow(1, 1, 100),
        {test_data = {x:narrow(1, 101, 50), y:narrow(1, 101, 50)}})
      assert_broken(r, "split_missing_class")
      local xtr, xte, ytr, yte = lurn.model_selection.train_test_split(x, y, {stratify = y, test_size = 0.3,
        random_state = 1})
      assert_clean(check(xtr, ytr, {test_data = {xte, yte}}))
    end)
    it("finds a validation class the training data lacks", function()
      local x, y = blobs(400, 4, 4, 8)
      local tr, va = {}, {}
      for i = 1, 400 do
        if i <= 300 then if y:get(i) ~= 3 then tr[#tr + 1] = i end else va[#va + 1] = i end
      end
      local r = check(x:index(1, lurn.tensor(tr)), y:index(1, lurn.tensor(tr)),
        {validation_data = {x:index(1, lurn.tensor(va)), y:index(1, lurn.tensor(va))}})
      assert_broken(r, "split_missing_class")
      assert.are.same({3}, r:get("split_missing_class")[1].evidence.classes)
      assert_clean(check(x:narrow(1, 1, 300), y:narrow(1, 1, 300),
        {validation_data = {x:narrow(1, 301, 100), y:narrow(1, 301, 100)}}))
    end)
  end)

  describe("train_test_overlap", function()
    it("finds test rows copied from training blobs", function()
      local x, y = blobs(600, 8, 3, 9)
      local xt, yt = x:narrow(1, 1, 500), y:narrow(1, 1, 500)
      local xte = lurn.cat({x:narrow(1, 501, 60), xt:narrow(1, 1, 40)}, 1)
      local yte = lurn.cat({y:narrow(1, 501, 60), yt:narrow(1, 1, 40)}, 1)
      local r = check(xt, yt, {test_data = {xte, yte}})
      assert_broken(r, "train_test_overlap")
      assert.are.equal(40, r:get("train_test_overlap")[1].evidence.rows)
      assert_clean(check(xt, yt, {test_data = {x:narrow(1, 501, 100), y:narrow(1, 501, 100)}}))
    end)
    it("finds wine's first rows in its validation data", function()
      local x, y = csv("wine", "target")
      local xs = scaled(x)
      local r = check(xs:narrow(1, 1, 150), y:narrow(1, 1, 150), {validation_data = {xs:narrow(1, 1, 30),
        y:narrow(1, 1, 30)}})
      assert_broken(r, "train_test_overlap")
      assert.are.equal(30, r:get("train_test_overlap")[1].evidence.rows)
      local xtr, xte, ytr, yte = lurn.model_selection.train_test_split(xs, y, {stratify = y, test_size = 0.2,
        random_state = 0})
      assert_clean(check(xtr, ytr, {validation_data = {xte, yte}}))
    end)
    it("takes twins the data holds of its own as chance, and 5 copied rows of 20 as a leak", function()
      -- 100 distinct rows, then 12 rows repeating rows 1..12: training holds rows 1..80 and
      -- the repeats of 1..10 (20 of its 90 rows have a twin in training), validation rows
      -- 81..100 and the repeats of 11 and 12 (2 of 22 with a twin in training, where
      -- 22 * 20 / 90 = 4.9 come by chance)
      local x, y = blobs(100, 6, 2, 4)
      local xt = lurn.cat({x:narrow(1, 1, 80), x:narrow(1, 1, 10)}, 1):contiguous()
      local yt = lurn.cat({y:narrow(1, 1, 80), y:narrow(1, 1, 10)}, 1):contiguous()
      local xv = lurn.cat({x:narrow(1, 81, 20), x:narrow(1, 11, 2)}, 1):contiguous()
      local yv = lurn.cat({y:narrow(1, 81, 20), y:narrow(1, 11, 2)}, 1):contiguous()
      local r = check(xt, yt, {validation_data = {xv, yv}})
      local f = r:get("train_test_overlap")[1]
      assert.are.equal(2, f.evidence.rows)
      assert.are.equal("info", f.severity)
      assert.near(22 * 20 / 90, f.evidence.expected_by_chance, 1e-9)
      -- without twins of its own in training, 5 validation rows copied from it are a leak
      local leak = check(x:narrow(1, 1, 80):contiguous(), y:narrow(1, 1, 80):contiguous(), {validation_data = {
        lurn.cat({x:narrow(1, 81, 15), x:narrow(1, 1, 5)}, 1):contiguous(),
        lurn.cat({y:narrow(1, 81, 15), y:narrow(1, 1, 5)}, 1):contiguous()}})
      assert.are.equal("warning", leak:get("train_test_overlap")[1].severity)
    end)
  end)

  describe("label_noise", function()
    it("finds 20% flipped labels of separated blobs; the clean labels pass", function()
      local x, y = blobs(1200, 10, 4, 10)
      local r = check(x, copy_flip(y, 0.2, 4, 1))
      assert_broken(r, "label_noise")
      assert.are.equal("warning", r:get("label_noise")[1].severity)
      assert_clean(check(x, y))
    end)
    it("finds flipped labels of breast cancer; its own labels pass", function()
      local x, y = csv("breast_cancer", "target")
      local xs = scaled(x)
      assert_broken(check(xs, copy_flip(y, 0.15, 2, 2), {loss = SPARSE}), "label_noise")
      assert_clean(check(xs, y, {loss = SPARSE}))
    end)
    -- the estimate must not depend on the number of classes: with few classes the flipped
    -- labels are a large part of every neighbourhood's foreign labels (docs/doctor.md)
    it("estimates the flipped share with two and three classes; clean labels stay below 2%", function()
      for _, set in ipairs{{"breast_cancer", 2}, {"wine", 3}, {"iris", 3}} do
        local x, y = csv(set[1], "target")
        local xs = scaled(x)
        local clean = check(xs, y, {loss = SPARSE}):get("label_noise")[1]
        assert(not clean or clean.evidence.estimated_share < 0.02, set[1] .. " clean")
        for _, share in ipairs{0.05, 0.1, 0.2} do
          local noisy = copy_flip(y, share, set[2], 5)
          local flipped = noisy:ne(y):sum() / y:size(1)
          local f = check(xs, noisy, {loss = SPARSE}):get("label_noise")[1]
          assert(f and f.severity == "warning", ("%s, %g flipped: no warning"):format(set[1], share))
          local est = f.evidence.estimated_share
          assert(math.abs(est - flipped) <= math.max(0.02, flipped / 3),
            ("%s: %.3f flipped, estimated %.3f"):format(set[1], flipped, est))
        end
      end
    end)
  end)

  describe("label_noise, where neighbours cannot tell flips from what x lacks", function()
    it("leaves out samples whose features a sample of another label has exactly (penguins' islands)", function()
      -- species from the island and the sex alone, one-hot: six distinct rows, and islands
      -- that hold two species each; the labels are right, x does not determine them
      local df = lurn.data.read_csv("examples/data/penguins.csv")
      local island, sex, species = df:column("island"), df:column("sex"), df:column("species")
      local keep_i, keep_s, keep_y = {}, {}, {}
      for i = 1, #species do
        if island[i] and sex[i] and species[i] then
          keep_i[#keep_i + 1], keep_s[#keep_s + 1], keep_y[#keep_y + 1] = island[i], sex[i], species[i]
        end
      end
      local x = lurn.preprocessing.OneHotEncoder():fit_transform{keep_i, keep_s}
      local y = lurn.preprocessing.LabelEncoder():fit_transform(keep_y)
      local f = check(x, y, {loss = SPARSE}):get("label_noise")[1]
      assert(not f or f.severity == "info", "label_noise on exact ties: " .. tostring(f and f.message))
    end)

    it("does not read a rare class that a larger one overlaps as flipped labels", function()
      -- 30 of 1000 samples, shifted 0.7 standard deviations in 5 dimensions: inside the large
      -- class's cloud, as shirts are among T-shirts, pullovers and coats; every label right
      lurn.manual_seed(3)
      local x, y = lurn.randn{1000, 5}, lurn.zeros{1000}
      for i = 33, 1000, 33 do
        y:set(i, 1)
        x:select(1, i):add_(0.7)
      end
      local r = check(x, y)
      assert(not r:has("label_noise", "warning"), tostring(r))
      -- flipped labels of the large classes are still found beside such a class
      local x2, y2 = blobs(1200, 10, 4, 10)
      local noisy = copy_flip(y2, 0.1, 4, 1)
      assert.truthy(check(x2, noisy):has("label_noise", "warning"))
    end)
  end)

  describe("label_encoding_mismatch", function()
    it("finds one-hot labels with a sparse loss; class numbers pass", function()
      local x, y = csv("iris", "target")
      local onehot = lurn.utils.to_categorical(y)
      local r = check(x, onehot, {loss = SPARSE})
      assert_broken(r, "label_encoding_mismatch")
      assert.truthy(r:get("label_encoding_mismatch")[1].fix:find("categorical_crossentropy", 1, true))
      -- what report:repair reads: the labels' encoding and the loss that takes them
      assert.are.equal("one_hot", r:get("label_encoding_mismatch")[1].evidence.label_encoding)
      assert.are.equal("categorical_crossentropy", r:get("label_encoding_mismatch")[1].evidence.suggested_loss)
      assert_clean(check(x, y, {loss = SPARSE}))
      assert_clean(check(x, onehot, {loss = "categorical_crossentropy"}))
    end)
    it("finds class numbers with categorical_crossentropy from a compiled model", function()
      local x, y = blobs(200, 4, 3, 11)
      local m = lurn.Sequential{lurn.layers.Dense(3, {input_shape = {4}, activation = "softmax"})}
      m:compile{optimizer = "adam", loss = "categorical_crossentropy"}
      assert_broken(check(x, y, {model = m}), "label_encoding_mismatch")
      assert_clean(check(x, lurn.utils.to_categorical(y), {model = m}))
    end)
    it("reaches diagnose, which reports the labels (not the NaN loss they cause) and skips the probe", function()
      local x, y = csv("iris", "target")
      x = scaled(x)
      local function mlp(loss)
        lurn.manual_seed(1)
        local m = lurn.Sequential{lurn.layers.Dense(8, {input_shape = {4}, activation = "relu"}),
                                  lurn.layers.Dense(3, {activation = "softmax"})}
        return m:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.01}, loss = loss}
      end
      for _, case in ipairs{{SPARSE, lurn.utils.to_categorical(y), "sparse_categorical_crossentropy"},
                            {"categorical_crossentropy", y, "sparse_categorical_crossentropy"}} do
        local r = lurn.doctor.diagnose(mlp(case[1]), x, case[2], {epochs = 2})
        assert_broken(r, "label_encoding_mismatch")
        assert.is_false(r:has("nan_loss"))
        assert.truthy(r.probe.skipped)
      end
      -- the twins: the loss that takes the labels
      assert_clean(lurn.doctor.diagnose(mlp("categorical_crossentropy"), x, lurn.utils.to_categorical(y), {epochs = 20}))
    end)

    it("finds labels outside the output range and multi-class labels with binary_crossentropy", function()
      local x, y = blobs(300, 4, 3, 12)
      local r = check(x, y, {loss = SPARSE, num_classes = 2})
      assert_broken(r, "label_encoding_mismatch")
      assert.are.equal(2, r:get("label_encoding_mismatch")[1].evidence.output_width)
      assert_clean(check(x, y, {loss = SPARSE, num_classes = 3}))
      assert_broken(check(x, y, {loss = "binary_crossentropy"}), "label_encoding_mismatch")
      local shifted = y + 1
      assert_broken(check(x, shifted, {loss = SPARSE, num_classes = 3}), "label_encoding_mismatch")
      -- labels numbered 1..C: the fix is the labels, not another layer on top of the output
      local fix = check(x, shifted, {loss = SPARSE, num_classes = 3}):get("label_encoding_mismatch")[1].fix
      assert.matches("^y = y %- 1", fix)
      assert.is_nil(fix:find("model:add", 1, true))
    end)
    it("refuses class weights fit would refuse, naming the entry", function()
      local x, y = csv("iris", "target")
      local ok, err = pcall(check, x, y, {class_weight = {[0] = "big"}})
      assert.is_false(ok)
      assert.matches('got %[0%] = the string "big"', err)
      assert.is_false((pcall(check, x, y, {class_weight = {[0] = 0 / 0}})))
      assert.is_false((pcall(check, x, y, {class_weight = {[-1] = 2}})))
    end)
  end)

  describe("healthy shipped data sets", function()
    it("iris (raw), wine and breast cancer (standardized) have no warning or error", function()
      local x, y = csv("iris", "target")
      assert_clean(check(x, y, {loss = SPARSE, num_classes = 3}))
      for _, name in ipairs{"wine", "breast_cancer"} do
        x, y = csv(name, "target")
        local xtr, xte, ytr, yte = lurn.model_selection.train_test_split(x, y, {stratify = y, test_size = 0.25,
          random_state = 0})
        local scaler = lurn.preprocessing.StandardScaler()
        assert_clean(check(scaler:fit_transform(xtr), ytr, {loss = SPARSE, test_data = {scaler:transform(xte), yte}}))
      end
    end)
    it("penguins (imputed, standardized) and the Seattle weather (standardized) have no warning or error", function()
      local df = lurn.data.read_csv("examples/data/penguins.csv")
      local x = df:to_tensor{columns = {"bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"}}
      local y = lurn.preprocessing.LabelEncoder():fit_transform(df:column("species"))
      local raw = check(x, y)
      assert_broken(raw, "missing_values")
      x = scaled(lurn.preprocessing.SimpleImputer{strategy = "median"}:fit_transform(x))
      assert_clean(check(x, y, {loss = SPARSE}))
      local w = lurn.data.read_csv("examples/data/seattle_weather_hourly.csv")
      local xw = scaled(w:to_tensor{columns = {"pressure", "temperature", "wind"}})
      assert_clean(check(xw:narrow(1, 1, 8000), xw:narrow(1, 2, 8000):select(2, 2), {loss = "mse"}))
    end)
    it("a Fashion-MNIST subset divided by 255 has no warning or error", function()
      local ok, xtr, ytr, xte, yte = pcall(lurn.datasets.fashion_mnist.load_data)
      if not ok then return pending("Fashion-MNIST is not installed") end
      local x = xtr:narrow(1, 1, 6000):reshape(6000, 784) / 255
      local xt = xte:narrow(1, 1, 2000):reshape(2000, 784) / 255
      local r = check(x, ytr:narrow(1, 1, 6000), {loss = SPARSE, num_classes = 10,
        test_data = {xt, yte:narrow(1, 1, 2000)}})
      assert_clean(r)
      -- and its broken twins: raw pixels, 25% flipped labels
      assert_broken(check(x * 255, ytr:narrow(1, 1, 6000)), "unscaled_features")
      assert_broken(check(x, copy_flip(ytr:narrow(1, 1, 6000), 0.25, 10, 3)), "label_noise")
      -- one class cut to 1 in 20 (an imbalanced set): its few samples do not narrow the
      -- other classes' neighbourhoods, and the labels still pass
      local keep, seen = {}, 0
      for i = 1, 3000 do
        if ytr:get(i) == 7 then seen = seen + 1 end
        if ytr:get(i) ~= 7 or seen % 20 == 0 then keep[#keep + 1] = i end
      end
      local rows = lurn.tensor(keep)
      local noise = check(x:index(1, rows), ytr:index(1, rows), {loss = SPARSE}):get("label_noise")[1]
      assert(not noise or noise.severity == "info", noise and noise.message)
    end)
  end)

  describe("bad arguments", function()
    it("are errors at the caller's line", function()
      local x, y = blobs(50, 3, 2, 13)
      local line = debug.getinfo(1, "l").currentline + 1
      local ok, err = pcall(function() check(x, y, {validaton_data = {x, y}}) end)
      assert.is_false(ok)
      assert.truthy(err:find("data_spec.lua:" .. line .. ":", 1, true), err)
      assert.truthy(err:find("unknown option 'validaton_data'", 1, true), err)
      ok, err = pcall(function() check("x", y) end)
      assert.is_false(ok)
      assert.truthy(err:find("x must be a tensor", 1, true), err)
      ok, err = pcall(function() check(x, y:narrow(1, 1, 10)) end)
      assert.truthy(err:find("x has 50 samples but y has 10", 1, true), err)
      ok, err = pcall(function() check(x, y, {validation_data = x}) end)
      assert.truthy(err:find("validation_data must be {x, y}", 1, true), err)
      ok, err = pcall(function() check(x, y, {categorical_columns = {7}}) end)
      assert.truthy(err:find("not a feature position in 1..3", 1, true), err)
      ok, err = pcall(function() check(x, y, {loss = "nope"}) end)
      assert.truthy(err:find("unknown loss 'nope'", 1, true), err)
    end)
  end)
end)
