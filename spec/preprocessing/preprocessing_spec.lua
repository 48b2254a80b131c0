-- lurn.preprocessing and lurn.utils.to_categorical against scikit-learn / Keras: fitted
-- attributes, transforms and inverses, NaN handling, the errors (not fitted, widths,
-- unknown categories, bad options), and the get_state / from_state round trip.
--
-- Reference numbers: scikit-learn 1.2.1 and numpy 1.24.2 (Debian's python3-sklearn),
-- printed by /usr/bin/python3 for the same float32 data, e.g.
--   X = np.array([[1, -2, .5], [2, 0, .5], [4, 2, .5], [nan, 8, .5], [3, -4, .5], [6, nan, .5]],
--                dtype=np.float32)
--   s = StandardScaler().fit(X); print(s.mean_, s.var_, s.scale_, s.n_samples_seen_, s.transform(X))
--   MinMaxScaler(feature_range=(-1, 1), clip=True).fit(X).transform([[0, 10, .5], [7, -8, 1]])
--   RobustScaler(quantile_range=(10, 90)).fit(X).scale_
--   SimpleImputer(strategy=s).fit(X).statistics_ for s in mean, median, most_frequent
--   OneHotEncoder(handle_unknown="ignore").fit(...).get_feature_names_out()
-- and for examples/data/breast_cancer.csv loaded as float32 with np.loadtxt.
local lurn = require "lurn"
local P = lurn.preprocessing

local ROOT = os.getenv("LURN_SOURCE_DIR") or "."
local nan = 0 / 0

local function X()
  return lurn.tensor{{1, -2, 0.5}, {2, 0, 0.5}, {4, 2, 0.5}, {nan, 8, 0.5}, {3, -4, 0.5}, {6, nan, 0.5}}
end

local function error_of(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return tostring(err)
end

-- Element by element, NaN matching NaN, within tol (relative above 1).
local function assert_close(want, got, tol)
  tol = tol or 1e-6
  if lurn.is_tensor(got) then got = got:totable() end
  if lurn.is_tensor(want) then want = want:totable() end
  if type(want) == "table" then
    assert.equal(#want, #got, "lengths differ")
    for i = 1, #want do assert_close(want[i], got[i], tol) end
    return
  end
  if want ~= want then
    assert(got ~= got, ("expected NaN, got %s"):format(tostring(got)))
    return
  end
  assert(math.abs(want - got) <= tol * math.max(1, math.abs(want)), ("expected %.9g, got %.9g"):format(want, got))
end

describe("StandardScaler", function()
  it("matches scikit-learn's mean_, var_, scale_ and transform, skipping NaN", function()
    local s = P.StandardScaler():fit(X())
    assert_close({3.2, 0.8, 0.5}, s.mean_)
    assert_close({2.96, 16.96, 0.0}, s.var_)
    assert_close({1.7204650534085253, 4.1182520563948, 1.0}, s.scale_) -- constant column: 1
    assert_close({5, 5, 6}, s.n_samples_seen_) -- per column when NaN made the counts differ
    assert.equal(3, s.n_features_in_)
    assert_close({{-1.2787240743637085, -0.6799001097679138, 0.0}, {-0.6974858641624451, -0.19425716996192932, 0.0},
                  {0.4649905562400818, 0.2913857698440552, 0.0}, {nan, 1.7483144998550415, 0.0},
                  {-0.11624763906002045, -1.1655430793762207, 0.0}, {1.6274669170379639, nan, 0.0}},
      s:transform(X()))
  end)

  it("gives n_samples_seen_ as a number when every column has all its values", function()
    local s = P.StandardScaler():fit(lurn.tensor{{1, 2}, {3, 4}, {5, 7}, {6, 1}})
    assert.equal(4, s.n_samples_seen_)
    assert.equal("integer", math.type(s.n_samples_seen_))
  end)

  it("only scales with with_mean = false and does nothing with both off", function()
    local s = P.StandardScaler{with_mean = false}:fit(X())
    assert_close({0.5812382102012634, -0.4856429398059845, 0.5}, s:transform(X()):select(1, 1))
    assert.is_not_nil(s.mean_) -- scikit-learn still computes it
    local none = P.StandardScaler{with_mean = false, with_std = false}:fit(X())
    assert.is_nil(none.mean_)
    assert.is_nil(none.scale_)
    assert_close(X(), none:transform(X()))
    local center = P.StandardScaler{with_std = false}:fit(X())
    assert.is_nil(center.var_)
    assert_close({-2.2, -2.8, 0}, center:transform(X()):select(1, 1), 1e-6)
  end)

  it("inverts its transform", function()
    local s = P.StandardScaler():fit(X())
    assert_close(X(), s:inverse_transform(s:transform(X())), 1e-6)
    assert_close(s:transform(X()), P.StandardScaler():fit_transform(X()))
  end)

  it("agrees with scikit-learn on the breast cancer data", function()
    local df = lurn.data.read_csv(ROOT .. "/examples/data/breast_cancer.csv")
    local x = df:to_tensor{columns = table.move(df.columns, 1, 30, 1, {})}
    local s = P.StandardScaler():fit(x)
    assert_close({14.127291743072348, 19.289648528677297, 0.08394581713895387}, s.mean_:index(1, {1, 2, 30}), 1e-6)
    assert_close({3.5209507474778245, 4.297254661177669, 0.018045389236518636}, s.scale_:index(1, {1, 2, 30}), 1e-6)
    assert_close({1.0970638990402222, -2.0733349323272705, 1.9370145797729492},
      s:transform(x):select(1, 1):index(1, {1, 2, 30}), 1e-5)
    local r = P.RobustScaler():fit(x)
    assert_close({13.369999885559082, 18.84000015258789, 0.08004000037908554}, r.center_:index(1, {1, 2, 30}))
    assert_close({4.079999923706055, 5.629999160766602, 0.020619995892047882}, r.scale_:index(1, {1, 2, 30}), 1e-6)
  end)

  it("rejects data of another width, naming both, and use before fit", function()
    local s = P.StandardScaler()
    assert.matches("StandardScaler.transform: this StandardScaler is not fitted yet: call fit%(x%) first",
      error_of(s.transform, s, X()))
    s:fit(X())
    assert.matches("StandardScaler.transform: x has 2 features, but StandardScaler was fitted with 3 features",
      error_of(s.transform, s, lurn.zeros{4, 2}))
    assert.matches("StandardScaler.inverse_transform: x has 4 features, but StandardScaler was fitted with 3",
      error_of(s.inverse_transform, s, lurn.zeros{4, 4}))
  end)

  it("rejects 1-D data, empty data and unknown options", function()
    local s = P.StandardScaler()
    assert.matches("expected 2%-D data %(samples, features%), got shape %(5,%): use x:reshape%(%-1, 1%)",
      error_of(s.fit, s, lurn.zeros{5}))
    assert.matches("0 samples", error_of(s.fit, s, lurn.zeros{0, 3}))
    assert.matches("x must be a tensor", error_of(s.fit, s, "data"))
    assert.matches("StandardScaler: unknown option 'with_means' %(known: with_mean, with_std%)",
      error_of(P.StandardScaler, {with_means = false}))
    assert.matches("with_std must be true or false", error_of(P.StandardScaler, {with_std = 1}))
  end)

  it("reports errors at the caller's line", function()
    local s = P.StandardScaler():fit(X())
    local line = debug.getinfo(1, "l").currentline + 1
    local err = error_of(function() s:transform(lurn.zeros{1, 2}) end)
    assert.matches("preprocessing_spec.lua:" .. line .. ": StandardScaler.transform", err)
    line = debug.getinfo(1, "l").currentline + 1
    err = error_of(function() P.OneHotEncoder():fit{{"a"}}:transform{{"b"}} end)
    assert.matches("preprocessing_spec.lua:" .. line .. ": OneHotEncoder.transform: column 1: unknown value 'b'", err)
    line = debug.getinfo(1, "l").currentline + 1
    err = error_of(function() P.MinMaxScaler{feature_range = {1, 1}} end)
    assert.matches("preprocessing_spec.lua:" .. line .. ": MinMaxScaler: the minimum", err)
  end)
end)

describe("MinMaxScaler", function()
  it("matches scikit-learn's attributes and transform, NaN kept", function()
    local m = P.MinMaxScaler():fit(X())
    assert_close({1, -4, 0.5}, m.data_min_)
    assert_close({6, 8, 0.5}, m.data_max_)
    assert_close({5, 12, 0}, m.data_range_)
    assert_close({0.20000000298023224, 0.0833333358168602, 1.0}, m.scale_)
    assert_close({-0.20000000298023224, 0.3333333432674408, -0.5}, m.min_)
    assert.equal(6, m.n_samples_seen_)
    assert_close({{0.0, 0.1666666716337204, 0.0}, {0.2, 0.3333333432674408, 0.0}, {0.6000000238418579, 0.5, 0.0},
                  {nan, 1.0, 0.0}, {0.40000003576278687, 0.0, 0.0}, {1.0, nan, 0.0}}, m:transform(X()))
    local new = lurn.tensor{{0, 10, 0.5}, {7, -8, 1}}
    assert_close({{-0.2, 1.1666667461395264, 0.0}, {1.1999999284744263, -0.3333333432674408, 0.5}}, m:transform(new))
    assert_close(new, m:inverse_transform(m:transform(new)), 1e-6)
  end)

  it("clips to feature_range when asked", function()
    local m = P.MinMaxScaler{feature_range = {-1, 1}, clip = true}:fit(X())
    assert_close({{-1.0, 1.0, -1.0}, {1.0, -1.0, 0.0}}, m:transform(lurn.tensor{{0, 10, 0.5}, {7, -8, 1}}))
  end)

  it("rejects an empty feature range", function()
    assert.matches("minimum of the desired feature range must be smaller than the maximum, got {2, 1}",
      error_of(P.MinMaxScaler, {feature_range = {2, 1}}))
    assert.matches("feature_range must be a pair", error_of(P.MinMaxScaler, {feature_range = 1}))
  end)
end)

describe("RobustScaler", function()
  it("centres on the median and scales by the interquartile range, as scikit-learn", function()
    local r = P.RobustScaler():fit(X())
    assert_close({3, 0, 0.5}, r.center_)
    assert_close({2, 4, 1}, r.scale_)
    assert_close({{-1, -0.5, 0}, {-0.5, 0, 0}, {0.5, 0.5, 0}, {nan, 2, 0}, {0, -1, 0}, {1.5, nan, 0}}, r:transform(X()))
    assert_close(X(), r:inverse_transform(r:transform(X())))
  end)

  it("interpolates other quantile ranges as numpy", function()
    assert_close({3.8000000000000003, 8.8, 1.0}, P.RobustScaler{quantile_range = {10, 90}}:fit(X()).scale_, 1e-6)
    -- unit_variance divides by norm.ppf(0.75) - norm.ppf(0.25) = 1.3489795003921634
    assert_close({2 / 1.3489795003921634, 4 / 1.3489795003921634, 1 / 1.3489795003921634},
      P.RobustScaler{unit_variance = true}:fit(X()).scale_, 1e-6)
  end)

  it("leaves out centring or scaling when asked", function()
    local r = P.RobustScaler{with_centering = false}:fit(X())
    assert.is_nil(r.center_)
    assert_close({0.5, -0.5, 0.5}, r:transform(X()):select(1, 1))
    assert.is_nil(P.RobustScaler{with_scaling = false}:fit(X()).scale_)
  end)

  it("rejects an invalid quantile range", function()
    assert.matches("invalid quantile range {75, 25}", error_of(P.RobustScaler, {quantile_range = {75, 25}}))
    assert.matches("invalid quantile range {%-1, 50}", error_of(P.RobustScaler, {quantile_range = {-1, 50}}))
  end)
end)

describe("Normalizer", function()
  local Z = lurn.tensor{{3, -4, 0}, {0, 0, 0}, {1, 2, -2}}

  it("divides each row by its l2, l1 or max norm and leaves zero rows", function()
    assert_close({{0.6, -0.8, 0}, {0, 0, 0}, {0.3333333432674408, 0.6666666865348816, -0.6666666865348816}},
      P.Normalizer():fit_transform(Z))
    assert_close({{0.4285714328289032, -0.5714285969734192, 0}, {0, 0, 0}, {0.2, 0.4, -0.4}},
      P.Normalizer{norm = "l1"}:fit_transform(Z))
    assert_close({{0.75, -1, 0}, {0, 0, 0}, {0.5, 1, -1}}, P.Normalizer{norm = "max"}:fit_transform(Z))
  end)

  it("is stateless as in scikit-learn, but checks the width once fitted", function()
    assert_close({{0.6, -0.8}}, P.Normalizer():transform(lurn.tensor{{3, -4}}))
    local n = P.Normalizer():fit(Z)
    assert.matches("x has 2 features, but Normalizer was fitted with 3", error_of(n.transform, n, lurn.zeros{1, 2}))
  end)

  it("rejects NaN and unknown norms", function()
    assert.matches("row 2 holds NaN at column 1",
      error_of(P.Normalizer().transform, P.Normalizer(), lurn.tensor{{1, 2}, {nan, 1}}))
    assert.matches("norm must be 'l1', 'l2' or 'max', got l3", error_of(P.Normalizer, {norm = "l3"}))
  end)
end)

describe("SimpleImputer", function()
  it("shows its NaN missing_values as scikit-learn does, nan (not the C library's -nan)", function()
    assert.equal("SimpleImputer{keep_empty_features = false, missing_values = nan, strategy = 'mean'} (not fitted)",
                 tostring(P.SimpleImputer()))
  end)

  it("fills with the mean, the median or the most frequent value, as scikit-learn", function()
    local mean = P.SimpleImputer():fit(X())
    assert_close({3.2, 0.8, 0.5}, mean.statistics_)
    assert_close({{3.2, 8, 0.5}, {6, 0.8, 0.5}}, mean:transform(X()):index(1, {4, 6}))
    local median = P.SimpleImputer{strategy = "median"}:fit(X())
    assert_close({3, 0, 0.5}, median.statistics_)
    assert_close({{3, 8, 0.5}, {6, 0, 0.5}}, median:transform(X()):index(1, {4, 6}))
    local mode = P.SimpleImputer{strategy = "most_frequent"}:fit(X())
    assert_close({1, -4, 0.5}, mode.statistics_) -- all values once: the smallest
    assert_close({1, 3}, P.SimpleImputer{strategy = "most_frequent"}:fit(
      lurn.tensor{{2, 7}, {1, 7}, {2, 3}, {1, 3}, {5, 9}}).statistics_)
    local const = P.SimpleImputer{strategy = "constant", fill_value = -7}:fit(X())
    assert_close({-7, -7, -7}, const.statistics_)
    assert_close({0, 0, 0}, P.SimpleImputer{strategy = "constant"}:fit(X()).statistics_)
  end)

  it("treats a number as the missing marker", function()
    local y = lurn.tensor{{1, 2}, {-1, 2}, {3, -1}, {3, 5}, {1, -1}}
    local imp = P.SimpleImputer{missing_values = -1}:fit(y)
    assert_close({2, 3}, imp.statistics_)
    assert_close({{1, 2}, {2, 2}, {3, 3}, {3, 5}, {1, 3}}, imp:transform(y))
    assert.matches("x holds NaN, but missing_values is %-1", error_of(imp.transform, imp, lurn.tensor{{nan, 1}}))
  end)

  it("raises on a column without observed values, or fills it with 0 when asked", function()
    local x = lurn.tensor{{1, nan, nan}, {2, nan, 4}}
    local imp = P.SimpleImputer()
    assert.matches("SimpleImputer.fit: column 2 has no observed value: strategy 'mean' cannot fill it",
      error_of(imp.fit, imp, x))
    local keep = P.SimpleImputer{keep_empty_features = true}:fit(x)
    assert_close({1.5, 0, 4}, keep.statistics_)
    assert_close({{1, 0, 4}, {2, 0, 4}}, keep:transform(x))
    assert_close({{1, 9, 9}, {2, 9, 4}}, P.SimpleImputer{strategy = "constant", fill_value = 9}:fit_transform(x))
  end)

  it("rejects unknown strategies, other widths and use before fit", function()
    assert.matches("strategy must be 'mean', 'median', 'most_frequent' or 'constant', got mode",
      error_of(P.SimpleImputer, {strategy = "mode"}))
    local imp = P.SimpleImputer()
    assert.matches("not fitted yet", error_of(imp.transform, imp, X()))
    imp:fit(X())
    assert.matches("x has 1 features, but SimpleImputer was fitted with 3", error_of(imp.transform, imp, lurn.zeros{2, 1}))
  end)
end)

describe("LabelEncoder", function()
  it("encodes numbers over sorted classes_ and back", function()
    local le = P.LabelEncoder():fit(lurn.tensor{3, 1, 3, 7})
    assert.same({1, 3, 7}, le.classes_:totable())
    assert.same({2, 0, 1}, le:transform(lurn.tensor{7, 1, 3}):totable())
    assert.same({7, 1}, le:inverse_transform(lurn.tensor{2, 0}):totable())
    assert.same({0, 2, 0, 1}, P.LabelEncoder():fit_transform(lurn.tensor{{3}, {7}, {3}, {5}}):totable())
  end)

  it("encodes lists of strings", function()
    local le = P.LabelEncoder():fit{"b", "a", "c", "a"}
    assert.same({"a", "b", "c"}, le.classes_)
    assert.same({2, 0}, le:transform{"c", "a"}:totable())
    assert.same({"c", "a", "b"}, le:inverse_transform{2, 0, 1})
  end)

  it("names an unseen label and rejects codes out of range", function()
    local le = P.LabelEncoder():fit{"b", "a"}
    assert.matches("LabelEncoder.transform: unknown value 'z' at position 2", error_of(le.transform, le, {"a", "z"}))
    assert.matches("label 5 at position 1 is out of range 0..1", error_of(le.inverse_transform, le, {5}))
    local num = P.LabelEncoder():fit(lurn.tensor{0, 1})
    assert.matches("unknown value 4 at position 3", error_of(num.transform, num, lurn.tensor{0, 1, 4}))
    assert.matches("unknown value nan at position 2", error_of(num.transform, num, lurn.tensor{0, nan}))
    assert.matches("fitted on string labels, got numbers", error_of(le.transform, le, lurn.tensor{1}))
    assert.matches("y holds missing values", error_of(le.fit, le, {"a", false}))
  end)
end)

describe("OneHotEncoder", function()
  local sex = {"m", "f", "m", "f"}
  local island = {"Biscoe", "Dream", "Torgersen", "Biscoe"}

  it("encodes lists of strings as scikit-learn, unknown values ignored when asked", function()
    local enc = P.OneHotEncoder{handle_unknown = "ignore"}:fit{sex, island}
    assert.same({{"f", "m"}, {"Biscoe", "Dream", "Torgersen"}}, enc.categories_)
    assert.same({{1, 0, 0, 0, 1}, {0, 0, 0, 1, 0}}, enc:transform{{"f", "x"}, {"Torgersen", "Dream"}}:totable())
    assert.same({"x0_f", "x0_m", "x1_Biscoe", "x1_Dream", "x1_Torgersen"}, enc:get_feature_names_out())
    assert.same({"sex_f", "sex_m", "island_Biscoe", "island_Dream", "island_Torgersen"},
      enc:get_feature_names_out{"sex", "island"})
  end)

  it("names the unknown value and its column", function()
    local enc = P.OneHotEncoder():fit{sex, island}
    assert.matches("OneHotEncoder.transform: column 2: unknown value 'Gibraltar' at position 2",
      error_of(enc.transform, enc, {{"m", "f"}, {"Dream", "Gibraltar"}}))
    assert.matches("x has 1 features, but OneHotEncoder was fitted with 2", error_of(enc.transform, enc, {sex}))
    assert.matches("column 1 was fitted on strings, got numbers",
      error_of(enc.transform, enc, {lurn.tensor{1, 2, 3, 4}, island}))
  end)

  it("encodes numeric columns of a tensor and inverts the encoding", function()
    local x = lurn.tensor{{1, 10}, {3, 20}, {1, 30}}
    local enc = P.OneHotEncoder():fit(x)
    assert.same({"x0_1", "x0_3", "x1_10", "x1_20", "x1_30"}, enc:get_feature_names_out())
    assert.same({{0, 1, 0, 0, 1}}, enc:transform(lurn.tensor{{3, 30}}):totable())
    assert.same(x:totable(), enc:inverse_transform(enc:transform(x)):totable())
    assert.matches("row 1 has no category for column 2", error_of(enc.inverse_transform, enc, lurn.tensor{{1, 0, 0, 0, 0}}))
    local ignore = P.OneHotEncoder{handle_unknown = "ignore"}:fit(x)
    assert_close({{1, nan}}, ignore:inverse_transform(ignore:transform(lurn.tensor{{1, 99}})))
  end)

  it("reads DataFrame columns by name, with missing values as a category of their own", function()
    local df = lurn.data.read_csv(ROOT .. "/examples/data/penguins.csv")
    local enc = P.OneHotEncoder():fit(df, {"sex", "island"})
    -- scikit-learn names the missing category sex_None (None) or sex_nan (NaN)
    assert.same({"sex_female", "sex_male", "sex_nan", "island_Biscoe", "island_Dream", "island_Torgersen"},
      enc:get_feature_names_out())
    local y = enc:transform(df)
    assert.same({344, 6}, y:shape())
    assert.same({165, 168, 11, 168, 124, 52}, y:sum(1):totable())
    assert.same({{0, 1, 0, 0, 0, 1}, {0, 0, 1, 0, 0, 1}}, y:index(1, {1, 4}):totable())
    local back = enc:inverse_transform(y)
    assert.same(df:column("sex"), back[1])
    assert.same(df:column("island"), back[2])
  end)

  it("takes explicit categories, sorted, and checks the data against them", function()
    local enc = P.OneHotEncoder{categories = {{"m", "f", "x"}}}:fit{sex}
    assert.same({{"f", "m", "x"}}, enc.categories_)
    assert.same({3, 3}, {enc:transform{{"x", "f", "m"}}:size(1), enc:transform{{"x", "f", "m"}}:size(2)})
    local strict = P.OneHotEncoder{categories = {{"m"}}}
    assert.matches("OneHotEncoder.fit: column 1: unknown value 'f' at position 2 %(not among the categories given%)",
      error_of(strict.fit, strict, {sex}))
    local df = lurn.data.read_csv(ROOT .. "/examples/data/penguins.csv")
    strict = P.OneHotEncoder():fit{{"female", "male"}}
    assert.matches("OneHotEncoder.transform: column 1: unknown value %(missing%) at position 4 %(not seen in fit%)",
      error_of(strict.transform, strict, {df:column("sex")}))
  end)

  it("rejects bad input and options", function()
    assert.matches("handle_unknown must be 'error' or 'ignore'", error_of(P.OneHotEncoder, {handle_unknown = "warn"}))
    local enc = P.OneHotEncoder()
    assert.matches("column 2 has 3 values, but column 1 has 4", error_of(enc.fit, enc, {sex, {"a", "b", "c"}}))
    assert.matches("give the names of the columns", error_of(enc.fit, enc,
      lurn.data.read_csv(ROOT .. "/examples/data/penguins.csv")))
    assert.matches("expected 2%-D data", error_of(enc.fit, enc, lurn.tensor{1, 2}))
  end)
end)

describe("lurn.utils.to_categorical", function()
  it("one-hot encodes 0-based labels as Keras", function()
    local to_categorical = lurn.utils.to_categorical
    assert.same({{1, 0, 0}, {0, 0, 1}, {0, 1, 0}}, to_categorical({0, 2, 1}):totable())
    assert.same({3, 5}, to_categorical(lurn.tensor{{0}, {2}, {1}}, 5):shape()) -- (N, 1): the 1 is dropped
    assert.same({2, 2, 4}, to_categorical(lurn.tensor{{0, 3}, {1, 2}}):shape())
  end)

  it("names a label that is out of range or not a whole number", function()
    local to_categorical = lurn.utils.to_categorical
    assert.matches("to_categorical: label 3 at position 2 is out of range 0..2",
      error_of(to_categorical, lurn.tensor{0, 3}, 3))
    assert.matches("to_categorical: label 1.5 at position 3 is not a whole number",
      error_of(to_categorical, lurn.tensor{0, 1, 1.5}))
    assert.matches("to_categorical: label %-1 at position 1", error_of(to_categorical, {-1, 0}))
    assert.matches("to_categorical: label nan at position 2 is missing: not a class number",
      error_of(to_categorical, lurn.tensor{0, nan}, 3))
    assert.matches("to_categorical: label nan at position 2 is missing", error_of(to_categorical, lurn.tensor{0, nan}))
    assert.matches("num_classes must be a positive integer", error_of(to_categorical, {0}, 0))
  end)
end)

describe("get_state / from_state (the hook model files use)", function()
  local state_check = require "helpers.state_check"
  local same = state_check.assert_same_bits
  local df = lurn.data.read_csv(ROOT .. "/examples/data/penguins.csv")

  -- {name, make a fitted (or unfitted) object, data, more checks(obj, again)}
  local cases = {
    {"StandardScaler", function() return P.StandardScaler():fit(X()) end, X()},
    {"StandardScaler", function() return P.StandardScaler{with_mean = false}:fit(X()) end, X()},
    {"MinMaxScaler", function() return P.MinMaxScaler{feature_range = {-1, 1}, clip = true}:fit(X()) end, X()},
    {"RobustScaler", function() return P.RobustScaler{quantile_range = {10, 90}}:fit(X()) end, X()},
    {"RobustScaler", function() return P.RobustScaler{with_centering = false, unit_variance = true}:fit(X()) end, X()},
    {"Normalizer", function() return P.Normalizer{norm = "max"}:fit(lurn.ones{2, 3}) end, lurn.tensor{{1, -3, 2}}},
    {"Normalizer", function() return P.Normalizer{norm = "l1"} end, lurn.tensor{{1, -3, 2}}},
    {"SimpleImputer", function() return P.SimpleImputer{strategy = "median"}:fit(X()) end, X()},
    {"SimpleImputer", function() return P.SimpleImputer{strategy = "most_frequent", missing_values = -4}:fit(
      lurn.tensor{{1, -4}, {1, 2}, {-4, 2}, {3, 5}}) end, lurn.tensor{{-4, -4}, {7, 1}}},
    {"SimpleImputer", function() return P.SimpleImputer{strategy = "constant", fill_value = -7}:fit(X()) end, X()},
    {"LabelEncoder", function() return P.LabelEncoder():fit{"b", "a", "c"} end, {"c", "a"}},
    {"LabelEncoder", function() return P.LabelEncoder():fit(lurn.tensor{7, 3, 3, 5}) end, lurn.tensor{5, 7, 3}},
    {"OneHotEncoder", function()
      return P.OneHotEncoder{handle_unknown = "ignore"}:fit{{"a", "b"}, lurn.tensor{1, 2}}
    end, {{"b", "z"}, lurn.tensor{2, 2}}},
    {"OneHotEncoder", function() return P.OneHotEncoder{handle_unknown = "ignore",
      categories = {{"male", "female"}, lurn.tensor{2009, 2008, 2007}}}:fit(df, {"sex", "year"}) end, df},
  }

  for i, case in ipairs(cases) do
    local name, make, data = case[1], case[2], case[3]
    it(("rebuilds %s (case %d) as plain data that transforms bit for bit the same"):format(name, i), function()
      local obj = make()
      local state = obj:get_state()
      assert.equal(name, state.class)
      assert.equal(1, state.version)
      assert.equal(obj:is_fitted(), state.fitted)
      local ok, where = state_check.plain(state)
      assert(ok, "the state must be plain data: " .. tostring(where))
      -- through text, as a model file would keep it
      local again = P.from_state((state_check.through_text(state)))
      assert.equal(name, again.class_name)
      assert.equal(getmetatable(obj), getmetatable(again))
      assert.equal(obj:is_fitted(), again:is_fitted())
      for k in pairs(obj._defaults) do same(obj[k], again[k]) end
      for _, k in ipairs(obj._attributes) do same(obj[k], again[k]) end
      local out = obj:transform(data)
      same(out, again:transform(data))
      if obj.inverse_transform and name ~= "OneHotEncoder" then
        same(obj:inverse_transform(out), again:inverse_transform(out))
      end
      if name == "OneHotEncoder" then same(obj:get_feature_names_out(), again:get_feature_names_out()) end
      -- the state and the object share nothing
      same(out, P.from_state(state):transform(data))
      state.attributes = {}
      same(out, again:transform(data))
    end)
  end

  it("keeps the options of an unfitted object", function()
    local state = P.MinMaxScaler{feature_range = {2, 5}}:get_state()
    assert.is_false(state.fitted)
    assert.same({}, state.attributes)
    local m = P.from_state(state)
    assert.same({2, 5}, m.feature_range)
    assert.is_false(m:is_fitted())
    assert.matches("not fitted yet", error_of(m.transform, m, X()))
  end)

  it("stores a tensor as {type = 'tensor', dtype, shape, data}", function()
    local s = P.StandardScaler():fit(lurn.tensor{{1, 10}, {3, 30}}):get_state()
    assert.same({type = "tensor", dtype = "float32", shape = {2}, data = {2, 20}}, s.attributes.mean_)
    assert.equal(2, s.attributes.n_samples_seen_)
  end)

  it("rejects states it cannot read, naming what is wrong", function()
    assert.matches("from_state: unknown class Scaler %(known: .*StandardScaler",
      error_of(P.from_state, {class = "Scaler"}))
    assert.matches("from_state: expected a table", error_of(P.from_state, 3))
    assert.matches("StandardScaler state version 2 is newer than this lurn reads %(1%)",
      error_of(P.from_state, {class = "StandardScaler", version = 2}))
    local state = P.StandardScaler():fit(X()):get_state()
    state.attributes.mean_.data[4] = 1
    assert.matches("from_state: attributes.mean_ has 4 values for shape {3}", error_of(P.from_state, state))
    state = P.StandardScaler():fit(X()):get_state()
    state.attributes.scale_.data[2] = "x"
    assert.matches("attributes.scale_.data%[2%] is a string, not a number", error_of(P.from_state, state))
    state.attributes.scale_ = print
    assert.matches("attributes.scale_ is a function: a state holds plain data only", error_of(P.from_state, state))
    assert.matches("from_state: StandardScaler: unknown option 'with_means'",
      error_of(P.from_state, {class = "StandardScaler", params = {with_means = true}}))
  end)
end)

describe("fit_transform", function()
  it("points fit's errors at the line that called fit_transform", function()
    local P = lurn.preprocessing
    for _, case in ipairs{
      {P.StandardScaler(), "StandardScaler.fit: x must be"},
      {P.LabelEncoder(), "LabelEncoder.fit"},
      {P.OneHotEncoder(), "OneHotEncoder.fit"},
    } do
      local ok, err = pcall(function() local r = case[1]:fit_transform(function() end); return r end)
      local line = debug.getinfo(1, "l").currentline - 1
      assert.is_false(ok)
      assert.truthy(err:find("^[^\n]*preprocessing_spec%.lua:" .. line .. ": " .. case[2]:gsub("%.", "%%.")), err)
    end
  end)
end)
