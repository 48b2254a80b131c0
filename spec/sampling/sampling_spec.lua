-- lurn.sampling (SMOTE, RandomOverSampler, RandomUnderSampler, kneighbors) and
-- lurn.utils.compute_class_weight: the counts each sampling_strategy gives, where SMOTE's
-- synthetic samples lie (checked by brute force), the order of the results, repeatability
-- with random_state at any thread count, the errors, scikit-learn's class weights, and
-- imbalanced-learn's own counts and neighbour sets when python3-imblearn is installed.
local lurn = require "lurn"

local S = lurn.sampling

-- The error message of f(...), which must fail.
local function error_of(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return tostring(err)
end

local function counts_of(y)
  local c = {}
  for _, v in ipairs(y:reshape(-1):totable()) do
    v = math.tointeger(v)
    c[v] = (c[v] or 0) + 1
  end
  return c
end

-- n samples of `features` normal values, with labels from a list of class sizes, the
-- classes interleaved (so that class rows are not contiguous).
local function dataset(sizes, features, seed)
  lurn.manual_seed(seed or 1)
  local labels, left, total = {}, {}, 0
  for c, n in ipairs(sizes) do
    left[c - 1] = n
    total = total + n
  end
  while #labels < total do
    for c = 0, #sizes - 1 do
      if left[c] > 0 then
        labels[#labels + 1] = c
        left[c] = left[c] - 1
      end
    end
  end
  return lurn.randn {total, features}, lurn.tensor(labels)
end

local function rows(t)
  return t:totable()
end

local function dist2(a, b)
  local s = 0
  for i = 1, #a do s = s + (a[i] - b[i]) ^ 2 end
  return s
end

-- The k nearest rows (1-based positions) of each row of pts among the others, by brute
-- force: a full sort of the distances, ties to the lower position.
local function brute_knn(pts, k)
  local out = {}
  for i, p in ipairs(pts) do
    local order = {}
    for j, q in ipairs(pts) do
      if j ~= i then order[#order + 1] = {d = dist2(p, q), j = j} end
    end
    table.sort(order, function(a, b) return a.d < b.d or (a.d == b.d and a.j < b.j) end)
    out[i] = {}
    for c = 1, k do out[i][c] = order[c].j end
  end
  return out
end

-- Whether s = a + u (b - a) for some u in [0, 1] (to float precision).
local function on_segment(s, a, b)
  local u, best = nil, 0
  for t = 1, #a do
    local span = b[t] - a[t]
    if math.abs(span) > best then best, u = math.abs(span), (s[t] - a[t]) / span end
  end
  if not u then return dist2(s, a) < 1e-10 end
  if u < -1e-5 or u > 1 + 1e-5 then return false end
  for t = 1, #a do
    if math.abs(a[t] + u * (b[t] - a[t]) - s[t]) > 1e-5 * (1 + math.abs(s[t])) then return false end
  end
  return true
end

describe("lurn.sampling.SMOTE", function()
  it("grows every class but the majority to the majority's size by default", function()
    local x, y = dataset({30, 10, 6}, 4)
    local sm = S.SMOTE {random_state = 0}
    local xr, yr = sm:fit_resample(x, y)
    assert.same({90, 4}, xr:shape())
    assert.same({90}, yr:shape())
    assert.same({[0] = 30, [1] = 30, [2] = 30}, counts_of(yr))
    assert.same({[1] = 20, [2] = 24}, sm.sampling_strategy_)
  end)

  it("takes a ratio minority / majority for two classes, as imbalanced-learn", function()
    local x, y = dataset({40, 10}, 3)
    local xr, yr = S.SMOTE {sampling_strategy = 0.5, random_state = 1}:fit_resample(x, y)
    assert.same({[0] = 40, [1] = 20}, counts_of(yr))
    assert.equal(60, xr:size(1))
    -- int(40 * 0.55 - 10) = 12 new samples
    local _, y2 = S.SMOTE {sampling_strategy = 0.55, random_state = 1}:fit_resample(x, y)
    assert.same({[0] = 40, [1] = 22}, counts_of(y2))
  end)

  it("takes a table {[class] = samples wanted}", function()
    local x, y = dataset({30, 10, 8}, 3)
    local sm = S.SMOTE {sampling_strategy = {[1] = 25, [2] = 8}, random_state = 1}
    local _, yr = sm:fit_resample(x, y)
    assert.same({[0] = 30, [1] = 25, [2] = 8}, counts_of(yr))
    assert.same({[1] = 15, [2] = 0}, sm.sampling_strategy_)
  end)

  it("keeps the original samples first, in order, then the new ones grouped by class", function()
    local x, y = dataset({20, 7, 9}, 2)
    local xr, yr = S.SMOTE {k_neighbors = 3, random_state = 5}:fit_resample(x, y)
    assert.same(rows(x), rows(xr:narrow(1, 1, 36)))
    assert.same(y:totable(), yr:narrow(1, 1, 36):totable())
    local tail = yr:narrow(1, 37, 24):totable()
    for i = 1, 13 do assert.equal(1, tail[i]) end
    for i = 14, 24 do assert.equal(2, tail[i]) end
  end)

  it("keeps the shape of y: (N, 1) in, (M, 1) out", function()
    local x, y = dataset({12, 6}, 2)
    local _, yr = S.SMOTE {k_neighbors = 2, random_state = 0}:fit_resample(x, y:reshape(18, 1))
    assert.same({24, 1}, yr:shape())
  end)

  it("puts every synthetic sample on the segment from a sample to one of its k nearest same-class neighbours",
    function()
      local k = 3
      local x, y = dataset({25, 9, 7}, 3, 7)
      local xr, yr = S.SMOTE {k_neighbors = k, random_state = 3}:fit_resample(x, y)
      local xs, labels = rows(x), y:totable()
      for c = 1, 2 do
        local members = {}
        for i, l in ipairs(labels) do
          if l == c then members[#members + 1] = xs[i] end
        end
        local nn = brute_knn(members, k)
        local new, new_labels = rows(xr:narrow(1, 42, xr:size(1) - 41)), yr:narrow(1, 42, xr:size(1) - 41):totable()
        for s, p in ipairs(new) do
          if new_labels[s] == c then
            local found = false
            for i, a in ipairs(members) do
              for _, j in ipairs(nn[i]) do
                if on_segment(p, a, members[j]) then found = true end
              end
            end
            assert.is_true(found, ("synthetic sample %d of class %d is on no neighbour segment"):format(s, c))
          end
        end
      end
    end)

  it("repeats itself with the same random_state, at any thread count", function()
    local x, y = dataset({300, 40}, 6)
    local before = lurn.get_num_threads()
    lurn.set_num_threads(1)
    local a = S.SMOTE {random_state = 42}:fit_resample(x, y)
    lurn.set_num_threads(3)
    local b = S.SMOTE {random_state = 42}:fit_resample(x, y)
    local c = S.SMOTE {random_state = 43}:fit_resample(x, y)
    lurn.set_num_threads(before)
    assert.same(rows(a), rows(b))
    assert.are_not.same(rows(a), rows(c))
  end)

  it("draws from lurn's generator without random_state", function()
    local x, y = dataset({30, 10}, 2)
    lurn.manual_seed(9)
    local a = S.SMOTE():fit_resample(x, y)
    local b = S.SMOTE():fit_resample(x, y)
    lurn.manual_seed(9)
    local c = S.SMOTE():fit_resample(x, y)
    assert.same(rows(a), rows(c))
    assert.are_not.same(rows(a), rows(b))
  end)

  it("names a class too small for k_neighbors", function()
    local x, y = dataset({20, 3}, 2)
    local err = error_of(S.SMOTE().fit_resample, S.SMOTE(), x, y)
    assert.truthy(err:find("class 1 has 3 samples; SMOTE needs at least k_neighbors + 1 = 6", 1, true), err)
  end)

  it("refuses one class, x and y of different lengths, NaN, and labels that are not classes", function()
    local x, y = dataset({20, 10}, 2)
    local sm = S.SMOTE()
    local err = error_of(sm.fit_resample, sm, x, lurn.zeros {30})
    assert.truthy(err:find("y needs more than 1 class; got 1 class", 1, true), err)
    err = error_of(sm.fit_resample, sm, x, lurn.zeros {29})
    assert.truthy(err:find("x has 30 samples but y has 29", 1, true), err)
    local bad = x:clone()
    bad:set(4, 2, 0 / 0)
    err = error_of(sm.fit_resample, sm, bad, y)
    assert.truthy(err:find("x holds NaN at sample 4, feature 2", 1, true), err)
    local yb = y:clone()
    yb:set(3, 0.5)
    err = error_of(sm.fit_resample, sm, x, yb)
    assert.truthy(err:find("y[3] = 0.5 is not a class label", 1, true), err)
    err = error_of(sm.fit_resample, sm, x:reshape(30, 2, 1), y)
    assert.truthy(err:find("x must be (samples, features)", 1, true), err)
  end)

  it("checks its options and strategies as imbalanced-learn does", function()
    assert.truthy(error_of(S.SMOTE, {k = 3}):find("unknown option 'k'", 1, true))
    assert.truthy(error_of(S.SMOTE, {k_neighbors = 0}):find("k_neighbors must be a whole number >= 1", 1, true))
    assert.truthy(error_of(S.SMOTE, {random_state = 1.5}):find("random_state must be an integer", 1, true))
    local x, y = dataset({20, 10, 8}, 2)
    local function fails(opts, text)
      local sm = S.SMOTE(opts)
      local err = error_of(sm.fit_resample, sm, x, y)
      assert.truthy(err:find(text, 1, true), err)
    end
    fails({sampling_strategy = "most"}, "unknown sampling_strategy 'most'")
    fails({sampling_strategy = "majority"}, "'majority' cannot over-sample")
    fails({sampling_strategy = 0.5}, "needs two classes (y has 3)")
    fails({sampling_strategy = {[1] = 5}}, "must keep at least its 10 samples; 5 asked")
    fails({sampling_strategy = {[4] = 50}}, "class 4 of sampling_strategy is not present in y")
    local x2, y2 = dataset({20, 10}, 2)
    local sm = S.SMOTE {sampling_strategy = 0.4}
    local err = error_of(sm.fit_resample, sm, x2, y2)
    assert.truthy(err:find("would remove samples from class 1", 1, true), err)
    sm = S.SMOTE {sampling_strategy = 1.5}
    err = error_of(sm.fit_resample, sm, x2, y2)
    assert.truthy(err:find("must be in (0, 1]", 1, true), err)
  end)

  it("accepts the other named strategies and a function", function()
    local x, y = dataset({30, 10, 8}, 2)
    local _, yr = S.SMOTE {sampling_strategy = "minority", random_state = 0}:fit_resample(x, y)
    assert.same({[0] = 30, [1] = 10, [2] = 30}, counts_of(yr))
    _, yr = S.SMOTE {sampling_strategy = function() return {[2] = 12} end, random_state = 0}:fit_resample(x, y)
    assert.same({[0] = 30, [1] = 10, [2] = 12}, counts_of(yr))
  end)
end)

describe("lurn.sampling.kneighbors", function()
  it("finds the same neighbours as a brute-force search, in the same order", function()
    lurn.manual_seed(11)
    local x = lurn.randn {80, 5}
    local pos, dist = S.kneighbors(x, 4)
    local want = brute_knn(rows(x), 4)
    local xs = rows(x)
    for i, row in ipairs(pos:totable()) do
      assert.same(want[i], row)
      for c, j in ipairs(row) do
        assert.near(math.sqrt(dist2(xs[i], xs[j])), dist:get(i, c), 1e-5)
      end
    end
  end)

  it("searches another set of queries", function()
    lurn.manual_seed(12)
    local ref, q = lurn.randn {50, 3}, lurn.randn {7, 3}
    local pos = S.kneighbors(ref, 2, q)
    local r = rows(ref)
    for i, p in ipairs(rows(q)) do
      local order = {}
      for j = 1, #r do order[j] = j end
      table.sort(order, function(a, b) return dist2(p, r[a]) < dist2(p, r[b]) end)
      assert.same({order[1], order[2]}, pos:select(1, i):totable())
    end
  end)

  it("refuses more neighbours than there are other rows", function()
    local err = error_of(S.kneighbors, lurn.zeros {3, 2}, 3)
    assert.truthy(err:find("3 neighbours asked of 3 reference rows", 1, true), err)
  end)
end)

describe("lurn.sampling.RandomOverSampler", function()
  it("repeats drawn samples of each class after the originals", function()
    local x, y = dataset({20, 5, 8}, 2)
    local ros = S.RandomOverSampler {random_state = 0}
    local xr, yr = ros:fit_resample(x, y)
    assert.same({[0] = 20, [1] = 20, [2] = 20}, counts_of(yr))
    assert.same(rows(x), rows(xr:narrow(1, 1, 33)))
    assert.same({60}, ros.sample_indices_:shape())
    assert.same(rows(xr), rows(x:index(1, ros.sample_indices_)))
    local xs, ys, out, labels = rows(x), y:totable(), rows(xr), yr:totable()
    for i, src in ipairs(ros.sample_indices_:totable()) do
      assert.same(xs[src], out[i])
      assert.equal(ys[src], labels[i])
      if i > 33 then assert.equal(i <= 48 and 1 or 2, labels[i]) end
    end
  end)

  it("repeats itself with random_state and accepts any sample shape", function()
    local y = lurn.tensor {0, 0, 0, 0, 1, 1}
    local x = lurn.arange(24):reshape(6, 2, 2)
    local a = S.RandomOverSampler {random_state = 4}:fit_resample(x, y)
    local b = S.RandomOverSampler {random_state = 4}:fit_resample(x, y)
    assert.same({8, 2, 2}, a:shape())
    assert.same(a:totable(), b:totable())
  end)
end)

describe("lurn.sampling.RandomUnderSampler", function()
  it("shrinks every class but the minority to the minority's size, class by class", function()
    local x, y = dataset({20, 5, 8}, 2)
    local rus = S.RandomUnderSampler {random_state = 0}
    local xr, yr = rus:fit_resample(x, y)
    assert.same({[0] = 5, [1] = 5, [2] = 5}, counts_of(yr))
    local labels = yr:totable()
    for i = 1, 15 do assert.equal((i - 1) // 5, labels[i]) end
    local seen, xs, out = {}, rows(x), rows(xr)
    local kept = rus.sample_indices_:totable()
    for i, src in ipairs(kept) do
      assert.is_nil(seen[src])
      seen[src] = true
      assert.same(xs[src], out[i])
    end
    -- the minority is kept whole, in order: rows 2, 5, 8, 11, 14 (interleaved labels)
    assert.same({2, 5, 8, 11, 14}, {table.unpack(kept, 6, 10)})
  end)

  it("takes a ratio, a table and replacement", function()
    local x, y = dataset({40, 10}, 2)
    local _, yr = S.RandomUnderSampler {sampling_strategy = 0.5, random_state = 0}:fit_resample(x, y)
    assert.same({[0] = 20, [1] = 10}, counts_of(yr))
    _, yr = S.RandomUnderSampler {sampling_strategy = {[0] = 12}, random_state = 0}:fit_resample(x, y)
    assert.same({[0] = 12, [1] = 10}, counts_of(yr))
    _, yr = S.RandomUnderSampler {replacement = true, random_state = 0}:fit_resample(x, y)
    assert.same({[0] = 10, [1] = 10}, counts_of(yr))
    local rus = S.RandomUnderSampler {sampling_strategy = {[0] = 50}}
    local err = error_of(rus.fit_resample, rus, x, y)
    assert.truthy(err:find("can keep at most its 40 samples; 50 asked", 1, true), err)
    rus = S.RandomUnderSampler {sampling_strategy = 0.1}
    err = error_of(rus.fit_resample, rus, x, y)
    assert.truthy(err:find("would add samples to class 0", 1, true), err)
  end)
end)

describe("lurn.utils.compute_class_weight", function()
  local W = lurn.utils.compute_class_weight

  local function near_table(want, got)
    for c, w in pairs(want) do assert.near(w, got[c], 1e-8, "class " .. c) end
    for c in pairs(got) do assert.not_nil(want[c], "unexpected class " .. tostring(c)) end
  end

  it("gives scikit-learn's balanced weights n_samples / (n_classes * count)", function()
    -- sklearn.utils.class_weight.compute_class_weight("balanced", classes=[0, 1, 2],
    --   y=[0, 0, 0, 0, 1, 1, 2, 0, 1, 0]) = [0.55555556, 1.11111111, 3.33333333]
    local y = {0, 0, 0, 0, 1, 1, 2, 0, 1, 0}
    near_table({[0] = 0.55555556, [1] = 1.11111111, [2] = 3.33333333}, W("balanced", {classes = {0, 1, 2}, y = y}))
    near_table({[0] = 0.55555556, [1] = 1.11111111, [2] = 3.33333333}, W("balanced", lurn.tensor(y)))
    near_table({[0] = 0.55555556, [1] = 1.11111111, [2] = 3.33333333},
      W("balanced", {classes = lurn.tensor {0, 1, 2}, y = lurn.tensor(y):reshape(10, 1)}))
    -- 90 / 10: [0.55555556, 5.0]
    local y2 = {}
    for i = 1, 100 do y2[i] = i <= 90 and 0 or 1 end
    near_table({[0] = 0.55555556, [1] = 5.0}, W("balanced", y2))
  end)

  it("gives ones for nil and fills a partial table with ones, as scikit-learn", function()
    near_table({[0] = 1, [1] = 1}, W(nil, {0, 1, 1}))
    -- compute_class_weight({0: 1.0, 1: 2.5}, classes=[0, 1, 2], y=[0, 1, 2]) = [1, 2.5, 1]
    near_table({[0] = 1, [1] = 2.5, [2] = 1}, W({[0] = 1.0, [1] = 2.5}, {classes = {0, 1, 2}, y = {0, 1, 2}}))
  end)

  it("refuses classes that do not cover y, or that y lacks", function()
    local err = error_of(W, "balanced", {classes = {0, 1}, y = {0, 1, 2}})
    assert.truthy(err:find("classes should include all valid labels that can be in y", 1, true), err)
    err = error_of(W, "balanced", {classes = {0, 1, 2}, y = {0, 1, 1}})
    assert.truthy(err:find("classes should have valid labels that are in y", 1, true), err)
  end)

  it("is usable as fit's class_weight", function()
    local x, y = dataset({30, 6}, 3)
    local model = lurn.Sequential {lurn.layers.Dense(2, {activation = "softmax", input_shape = {3}})}
    model:compile {optimizer = "sgd", loss = "sparse_categorical_crossentropy"}
    local h = model:fit(x, y, {epochs = 1, verbose = 0, class_weight = W("balanced", y)})
    assert.equal(1, #h.history.loss)
  end)
end)

describe("reference values from scikit-learn and imbalanced-learn (hard-coded)", function()
  local ROOT = os.getenv("LURN_SOURCE_DIR") or "."
  -- examples/data/wine.csv, the 13 features standardized (StandardScaler), class 2 (48 wines).
  -- With numpy/scikit-learn 1.2.1 and imbalanced-learn 0.10 (Debian), float32 data:
  --   d = np.loadtxt("wine.csv", delimiter=",", skiprows=1, dtype=np.float32)
  --   X = StandardScaler().fit_transform(d[:, :13]).astype(np.float32); y = d[:, 13].astype(int)
  --   NearestNeighbors(n_neighbors=6).fit(X[y == 2]).kneighbors(X[y == 2])   # self first
  --   np.bincount(SMOTE(random_state=0).fit_resample(X, y)[1])              # [71 71 71]
  local df = lurn.data.read_csv(ROOT .. "/examples/data/wine.csv")
  local x = lurn.preprocessing.StandardScaler():fit_transform(df:to_tensor{columns = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    11, 12, 13}})
  local y = df:column("target")

  it("finds SMOTE's neighbours of the wines of class 2 as scikit-learn's NearestNeighbors", function()
    local idx = {}
    for i, v in ipairs(y:totable()) do if v == 2 then idx[#idx + 1] = i end end
    assert.equal(48, #idx)
    local pos, dist = S.kneighbors(x:index(1, lurn.tensor(idx)), 5)
    -- 0-based positions within the class, nearest first, and their distances
    local want_pos = {{1, 3, 2, 33, 40}, {3, 2, 33, 40, 0}, {1, 3, 40, 33, 11}, {1, 2, 33, 0, 40},
                      {5, 24, 8, 40, 41}, {4, 8, 24, 41, 40}, {7, 17, 40, 33, 10}, {6, 32, 25, 17, 43}}
    local want_dist = {{2.2091, 2.59333, 2.87718, 2.89442, 3.29906}, {1.1916, 1.51323, 1.71213, 1.97458, 2.2091},
                       {1.51323, 1.99781, 2.30978, 2.46415, 2.57689}, {1.1916, 1.99781, 2.36105, 2.59333, 2.67675},
                       {1.73571, 2.23112, 2.74191, 3.00539, 3.04472}, {1.73571, 1.85784, 1.92548, 2.21654, 2.39508},
                       {2.22138, 2.364, 2.53939, 2.58992, 2.59228}, {2.22138, 2.49292, 2.57431, 2.76306, 2.78953}}
    for i = 1, #want_pos do
      local got = pos:select(1, i):totable()
      for j = 1, 5 do got[j] = math.tointeger(got[j]) - 1 end
      assert.same(want_pos[i], got, "wine " .. i)
      for j = 1, 5 do assert.near(want_dist[i][j], dist:get(i, j), 2e-5) end
    end
  end)

  it("grows the wine classes (59, 71, 48) to imbalanced-learn's 71 each", function()
    local sm = S.SMOTE {random_state = 0}
    local xr, yr = sm:fit_resample(x, y)
    assert.same({213, 13}, xr:shape())
    assert.same({[0] = 71, [1] = 71, [2] = 71}, counts_of(yr))
    assert.same({[0] = 12, [2] = 23}, sm.sampling_strategy_)
  end)
end)

describe("sampler get_state / from_state", function()
  local state_check = require "helpers.state_check"

  local cases = {
    {"SMOTE", function() return S.SMOTE {k_neighbors = 3, random_state = 5} end},
    {"SMOTE", function() return S.SMOTE {sampling_strategy = {[1] = 25, [2] = 12}, random_state = 2} end},
    {"RandomOverSampler", function() return S.RandomOverSampler {sampling_strategy = "minority", random_state = 1} end},
    {"RandomUnderSampler", function() return S.RandomUnderSampler {replacement = true, random_state = 3} end},
  }
  for i, case in ipairs(cases) do
    local name, make = case[1], case[2]
    it(("rebuilds %s (case %d) as plain data that resamples the same"):format(name, i), function()
      local x, y = dataset({30, 10, 8}, 3)
      local sampler = make()
      local unfitted = sampler:get_state()
      assert.is_false(unfitted.fitted)
      local xr, yr = sampler:fit_resample(x, y)
      local state = sampler:get_state()
      assert.equal(name, state.class)
      assert.is_true(state.fitted)
      local ok, where = state_check.plain(state)
      assert(ok, "the state must be plain data: " .. tostring(where))
      local again = S.from_state((state_check.through_text(state)))
      assert.equal(getmetatable(sampler), getmetatable(again))
      assert.same(sampler.sampling_strategy_, again.sampling_strategy_)
      state_check.assert_same_bits(sampler.sample_indices_, again.sample_indices_)
      local xa, ya = lurn.preprocessing.from_state(unfitted):fit_resample(x, y)
      state_check.assert_same_bits({xr, yr}, {xa, ya})
    end)
  end

  it("names a sampling_strategy function it cannot hold", function()
    local function strategy() return {[1] = 12} end
    local state = S.SMOTE {sampling_strategy = strategy}:get_state()
    assert.same({"sampling_strategy"}, state.unsaved)
    local err = error_of(S.from_state, state)
    assert.truthy(err:find("this SMOTE had a function as sampling_strategy", 1, true), err)
    assert.equal(strategy, S.from_state(state, {sampling_strategy = strategy}).sampling_strategy)
  end)
end)

-- imbalanced-learn itself, through /usr/bin/python3, when python3-imblearn is installed.
local PYTHON = "/usr/bin/python3"
local function imblearn_available()
  return os.execute(PYTHON .. " -c 'import imblearn' >/dev/null 2>&1") == true
end

describe("agreement with imbalanced-learn", function()
  it("gives imbalanced-learn's counts and SMOTE's neighbour sets", function()
    if not imblearn_available() then
      pending("python3-imblearn is not installed (apt-get install python3-imblearn): comparison skipped")
      return
    end
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p '" .. dir .. "'"))
    local x, y = dataset({60, 17, 9}, 4, 21)
    x:save_npy(dir .. "/x.npy")
    y:save_npy(dir .. "/y.npy")
    local script = dir .. "/ref.py"
    local f = assert(io.open(script, "w"))
    f:write([[
import sys
from collections import Counter
import numpy as np
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler
from sklearn.neighbors import NearestNeighbors
d = sys.argv[1]
X = np.load(d + "/x.npy"); y = np.load(d + "/y.npy").astype(int)
def counts(name, s):
    _, yr = s.fit_resample(X, y)
    c = Counter(yr.tolist())
    print(name, " ".join("%d:%d" % (k, c[k]) for k in sorted(c)))
counts("smote_auto", SMOTE(k_neighbors=5, random_state=0))
counts("smote_not_minority", SMOTE(sampling_strategy="not minority", random_state=0))
counts("smote_dict", SMOTE(sampling_strategy={1: 40, 2: 30}, random_state=0))
counts("ros_auto", RandomOverSampler(random_state=0))
counts("rus_auto", RandomUnderSampler(random_state=0))
counts("rus_all", RandomUnderSampler(sampling_strategy="all", random_state=0))
yb = (y > 0).astype(int)
_, yr = SMOTE(sampling_strategy=0.8, random_state=0).fit_resample(X, yb)
print("smote_float", " ".join("%d:%d" % (k, v) for k, v in sorted(Counter(yr.tolist()).items())))
for c in (1, 2):
    Xc = X[y == c]
    nn = NearestNeighbors(n_neighbors=6).fit(Xc).kneighbors(Xc, return_distance=False)[:, 1:]
    for i, row in enumerate(nn):
        print("nn", c, i, " ".join(str(j) for j in sorted(row)))
]])
    f:close()
    local p = assert(io.popen(PYTHON .. " '" .. script .. "' '" .. dir .. "' 2>&1"))
    local out = p:read("a")
    p:close()
    os.execute("rm -rf '" .. dir .. "'")

    local ref_counts, ref_nn = {}, {}
    for line in out:gmatch("[^\n]+") do
      local name, rest = line:match("^(%S+) (.*)$")
      if name == "nn" then
        local c, i, js = rest:match("^(%d+) (%d+) (.*)$")
        ref_nn[#ref_nn + 1] = {c = tonumber(c), i = tonumber(i) + 1, js = js}
      elseif name then
        local t = {}
        for k, v in rest:gmatch("(%d+):(%d+)") do t[tonumber(k)] = tonumber(v) end
        ref_counts[name] = t
      end
    end
    assert.truthy(ref_counts.smote_auto, "imbalanced-learn printed: " .. out)

    local function ours(sampler, yy)
      local _, yr = sampler:fit_resample(x, yy or y)
      return counts_of(yr)
    end
    assert.same(ref_counts.smote_auto, ours(S.SMOTE {k_neighbors = 5, random_state = 0}))
    assert.same(ref_counts.smote_not_minority, ours(S.SMOTE {sampling_strategy = "not minority", random_state = 0}))
    assert.same(ref_counts.smote_dict, ours(S.SMOTE {sampling_strategy = {[1] = 40, [2] = 30}, random_state = 0}))
    assert.same(ref_counts.ros_auto, ours(S.RandomOverSampler {random_state = 0}))
    assert.same(ref_counts.rus_auto, ours(S.RandomUnderSampler {random_state = 0}))
    assert.same(ref_counts.rus_all, ours(S.RandomUnderSampler {sampling_strategy = "all", random_state = 0}))
    assert.same(ref_counts.smote_float, ours(S.SMOTE {sampling_strategy = 0.8, random_state = 0}, y:gt(0)))

    -- The neighbour sets of each class's samples (0-based positions within the class).
    local labels, per_class = y:totable(), {}
    for c = 1, 2 do
      local idx = {}
      for i, l in ipairs(labels) do
        if l == c then idx[#idx + 1] = i end
      end
      per_class[c] = S.kneighbors(x:index(1, lurn.tensor(idx)), 5):totable()
    end
    assert.equal(17 + 9, #ref_nn)
    for _, r in ipairs(ref_nn) do
      local mine = {}
      for c, j in ipairs(per_class[r.c][r.i]) do mine[c] = math.tointeger(j) - 1 end
      table.sort(mine)
      for c = 1, #mine do mine[c] = tostring(mine[c]) end
      assert.equal(r.js, table.concat(mine, " "), ("class %d sample %d"):format(r.c, r.i))
    end
  end)
end)
