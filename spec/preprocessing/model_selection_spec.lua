-- lurn.model_selection (train_test_split, KFold, StratifiedKFold, cross_val_score) and
-- lurn.data.check_splits: sizes and folds as scikit-learn makes them, stratification,
-- repeatable random_state, the errors.
--
-- Reference folds and sizes: scikit-learn 1.2.1 (Debian's python3-sklearn), printed by
-- /usr/bin/python3, e.g.
--   for tr, te in KFold(5).split(np.zeros(12)): print(tr, te)
--   for tr, te in StratifiedKFold(3).split(np.zeros(15), [0,0,1,1,1,2,2,2,2,0,1,2,2,1,0]): print(te)
--   train_test_split(np.arange(10), test_size=0.25, shuffle=False)
--   train_test_split(y, test_size=0.3, stratify=y, random_state=0)  # y: 30 x 0, 15 x 1, 5 x 2
local lurn = require "lurn"
local ms = lurn.model_selection

local ROOT = os.getenv("LURN_SOURCE_DIR") or "."

local function error_of(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return tostring(err)
end

-- 0-based positions, as scikit-learn prints them, from 1-based position tensors.
local function zero_based(t) return (t - 1):totable() end

local function class_counts(y, k)
  local counts = {}
  for c = 0, k - 1 do counts[c + 1] = math.tointeger(y:eq(c):sum()) end
  return counts
end

describe("train_test_split", function()
  it("sizes the split as scikit-learn: test = ceil(test_size * n)", function()
    local x = lurn.arange(10)
    local tr, te = ms.train_test_split(x, {test_size = 0.25, shuffle = false})
    assert.same({0, 1, 2, 3, 4, 5, 6}, tr:totable())
    assert.same({7, 8, 9}, te:totable())
    tr, te = ms.train_test_split(x, {train_size = 0.5, shuffle = false})
    assert.same({{0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}}, {tr:totable(), te:totable()})
    tr, te = ms.train_test_split(x, {train_size = 4, test_size = 3, shuffle = false})
    assert.same({{0, 1, 2, 3}, {4, 5, 6}}, {tr:totable(), te:totable()})
    tr, te = ms.train_test_split(x) -- default test_size 0.25, shuffled
    assert.same({7, 3}, {tr:size(1), te:size(1)})
  end)

  it("returns x_train, x_test, y_train, y_test with rows kept together", function()
    local x = lurn.arange(20):reshape(10, 2)
    local y = lurn.arange(10)
    local x_train, x_test, y_train, y_test = ms.train_test_split(x, y, {test_size = 0.3, random_state = 1})
    assert.same({7, 2}, x_train:shape())
    assert.same({3, 2}, x_test:shape())
    assert.same((y_train * 2):totable(), x_train:select(2, 1):totable())
    assert.same((y_test * 2):totable(), x_test:select(2, 1):totable())
    local all = lurn.cat({y_train, y_test}, 1)
    local seen = {}
    for _, v in ipairs(all:totable()) do seen[v] = (seen[v] or 0) + 1 end
    for v = 0, 9 do assert.equal(1, seen[v]) end
  end)

  it("repeats with a random_state whatever the global seed", function()
    local y = lurn.arange(50)
    lurn.manual_seed(1)
    local a = select(2, ms.train_test_split(y, {random_state = 42}))
    lurn.manual_seed(2)
    local b = select(2, ms.train_test_split(y, {random_state = 42}))
    assert.same(a:totable(), b:totable())
    local c = select(2, ms.train_test_split(y, {random_state = 43}))
    assert.are_not.same(a:totable(), c:totable())
  end)

  it("splits Lua lists too", function()
    local names = {"a", "b", "c", "d"}
    local tr, te = ms.train_test_split(names, {test_size = 1, shuffle = false})
    assert.same({{"a", "b", "c"}, {"d"}}, {tr, te})
  end)

  it("keeps the class proportions with stratify", function()
    local y = lurn.cat({lurn.zeros{30}, lurn.ones{15}, lurn.full({5}, 2)}, 1)
    local y_train, y_test = ms.train_test_split(y, {test_size = 0.3, stratify = y, random_state = 0})
    local tr, te = class_counts(y_train, 3), class_counts(y_test, 3)
    -- scikit-learn: 21/10/4 and 9/5/1; 10.5 and 3.5 tie for the last training sample
    assert.equal(21, tr[1])
    assert.is_true((tr[2] == 10 and tr[3] == 4) or (tr[2] == 11 and tr[3] == 3))
    assert.same({30 - tr[1], 15 - tr[2], 5 - tr[3]}, te)
    -- 7/5/3 with test_size 0.2: every class reaches the 3 test samples
    local z = lurn.cat({lurn.zeros{7}, lurn.ones{5}, lurn.full({3}, 2)}, 1)
    local _, z_test = ms.train_test_split(z, {test_size = 0.2, stratify = z, random_state = 5})
    assert.same({1, 1, 1}, class_counts(z_test, 3))
    -- string labels
    local s = {"x", "y", "x", "y", "x", "y", "x", "y"}
    local _, s_test = ms.train_test_split(s, {test_size = 0.5, stratify = s, random_state = 0})
    table.sort(s_test)
    assert.same({"x", "x", "y", "y"}, s_test)
  end)

  it("rejects sizes that do not fit, as scikit-learn", function()
    local x = lurn.arange(10)
    assert.matches("test_size=1.0 should be either positive and smaller than the number of samples 10 or a float",
      error_of(ms.train_test_split, x, {test_size = 1.0}))
    assert.matches("test_size=10 should be", error_of(ms.train_test_split, x, {test_size = 10}))
    assert.matches("the sum of train_size and test_size = 11 should be smaller than the number of samples 10",
      error_of(ms.train_test_split, x, {test_size = 5, train_size = 6}))
    assert.matches("the sum of test_size and train_size = 1.1 should be in the %(0, 1%) range",
      error_of(ms.train_test_split, x, {test_size = 0.5, train_size = 0.6}))
    assert.matches("with n_samples=1, test_size=0.25 and train_size=None, the resulting train set will be empty",
      error_of(ms.train_test_split, lurn.arange(1)))
    assert.matches("inconsistent numbers of samples: %[10, 9%]", error_of(ms.train_test_split, x, lurn.arange(9)))
    assert.matches("unknown option 'test'", error_of(ms.train_test_split, x, x, {test = 0.1}))
    assert.matches("random_state must be an integer", error_of(ms.train_test_split, x, {random_state = 0.5}))
  end)

  it("rejects stratification it cannot do", function()
    local y = lurn.tensor{0, 0, 0, 1, 1, 1, 1, 2}
    assert.matches("the least populated class in y has only 1 member",
      error_of(ms.train_test_split, y, {stratify = y}))
    assert.matches("needs shuffle = true", error_of(ms.train_test_split, y, {stratify = y, shuffle = false}))
    local z = lurn.tensor{0, 0, 1, 1, 2, 2, 0, 1, 2, 0}
    assert.matches("the test size = 2 should be greater or equal to the number of classes = 3",
      error_of(ms.train_test_split, z, {stratify = z, test_size = 2}))
  end)
end)

describe("KFold", function()
  it("makes scikit-learn's folds: the first n % k one larger, positions ascending", function()
    local folds = ms.KFold{n_splits = 5}:split(lurn.zeros{12, 3})
    local want_test = {{0, 1, 2}, {3, 4, 5}, {6, 7}, {8, 9}, {10, 11}}
    assert.equal(5, #folds)
    for i, fold in ipairs(folds) do
      assert.same(want_test[i], zero_based(fold[2]))
      assert.equal(12 - #want_test[i], fold[1]:size(1))
    end
    assert.same({0, 1, 2, 3, 4, 5, 8, 9, 10, 11}, zero_based(folds[3][1]))
    assert.equal(5, ms.KFold():get_n_splits())
  end)

  it("shuffles repeatably with a random_state", function()
    local kf = ms.KFold{n_splits = 3, shuffle = true, random_state = 7}
    local a, b = kf:split(30), kf:split(30)
    for i = 1, 3 do assert.same(a[i][2]:totable(), b[i][2]:totable()) end
    assert.are_not.same({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, a[1][2]:totable())
    local union = lurn.cat({a[1][2], a[2][2], a[3][2]}, 1)
    local seen = {}
    for _, v in ipairs(union:totable()) do seen[v] = true end
    for v = 1, 30 do assert.is_true(seen[v]) end
  end)

  it("rejects impossible fold counts and a random_state without shuffle", function()
    assert.matches("n_splits=5 greater than the number of samples: n_samples=3",
      error_of(ms.KFold().split, ms.KFold(), 3))
    assert.matches("requires at least one train/test split by setting n_splits=2 or more, got n_splits=1",
      error_of(ms.KFold, {n_splits = 1}))
    assert.matches("setting a random_state has no effect since shuffle is false",
      error_of(ms.KFold, {random_state = 1}))
    assert.matches("unknown option 'folds'", error_of(ms.StratifiedKFold, {folds = 3}))
  end)
end)

describe("StratifiedKFold", function()
  it("makes scikit-learn's folds", function()
    local y = lurn.tensor{0, 0, 1, 1, 1, 2, 2, 2, 2, 0, 1, 2, 2, 1, 0}
    local folds = ms.StratifiedKFold{n_splits = 3}:split(lurn.zeros{15, 2}, y)
    assert.same({0, 1, 2, 5, 6}, zero_based(folds[1][2]))
    assert.same({3, 4, 7, 8, 9}, zero_based(folds[2][2]))
    assert.same({10, 11, 12, 13, 14}, zero_based(folds[3][2]))
    -- string labels, classes in order of first appearance
    local s = {"b", "a", "b", "a", "c", "a", "b", "c", "a", "b"}
    local sf = ms.StratifiedKFold{n_splits = 2}:split(s, s)
    assert.same({0, 1, 2, 3, 4}, zero_based(sf[1][2]))
    assert.same({5, 6, 7, 8, 9}, zero_based(sf[2][2]))
  end)

  it("keeps every class's share in every fold when shuffled", function()
    local y = lurn.cat({lurn.zeros{30}, lurn.ones{15}, lurn.full({15}, 2)}, 1)
    local folds = ms.StratifiedKFold{n_splits = 3, shuffle = true, random_state = 0}:split(60, y)
    for _, fold in ipairs(folds) do assert.same({10, 5, 5}, class_counts(y:index(1, fold[2]), 3)) end
    -- one-hot labels are read as classes
    local onehot = lurn.utils.to_categorical(y)
    local again = ms.StratifiedKFold{n_splits = 3, shuffle = true, random_state = 0}:split(60, onehot)
    assert.same(folds[2][2]:totable(), again[2][2]:totable())
  end)

  it("needs enough members in some class and the labels", function()
    local skf = ms.StratifiedKFold{n_splits = 3}
    assert.matches("n_splits=3 cannot be greater than the number of members in each class",
      error_of(skf.split, skf, 4, lurn.tensor{0, 1, 0, 1}))
    assert.matches("the class labels y are needed", error_of(skf.split, skf, 4))
  end)
end)

describe("cross_val_score", function()
  local df = lurn.data.read_csv(ROOT .. "/examples/data/iris.csv")
  local x = lurn.preprocessing.StandardScaler():fit_transform(df:to_tensor{columns = {1, 2, 3, 4}})
  local y = df:column("target")
  local L = lurn.layers

  local builds = 0
  local function build()
    builds = builds + 1
    local model = lurn.Sequential{L.Dense(16, {activation = "relu", input_shape = {4}}),
                                  L.Dense(3, {activation = "softmax"})}
    model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.05}, loss = "sparse_categorical_crossentropy",
                  metrics = {"accuracy"}}
    return model
  end

  it("trains a fresh model per fold and scores it on the held-out fold", function()
    lurn.manual_seed(3)
    builds = 0
    local scores = ms.cross_val_score(build, x, y, {cv = 3, fit = {epochs = 20, batch_size = 16}})
    assert.equal(3, #scores)
    assert.equal(3, builds)
    for _, s in ipairs(scores) do assert.is_true(s > 0.8 and s <= 1, "accuracy " .. s) end
    local losses = ms.cross_val_score(build, x, y, {cv = ms.KFold{n_splits = 2, shuffle = true, random_state = 1},
                                                    scoring = "loss", fit = {epochs = 2}})
    assert.equal(2, #losses)
    local custom = ms.cross_val_score(build, x, y, {cv = 2, scoring = function(_, _, y_test) return y_test:size(1) end})
    assert.same({75, 75}, custom)
  end)

  it("passes fit's and evaluate's options to every fold", function()
    local epochs, batches, evaluated = 0, 0, {}
    local counter = {on_epoch_end = function() epochs = epochs + 1 end,
                     on_train_batch_end = function() batches = batches + 1 end}
    local scores = ms.cross_val_score(build, x, y, {cv = ms.KFold{n_splits = 3, shuffle = true, random_state = 0},
      fit = {epochs = 2, batch_size = 50, callbacks = {counter}},
      scoring = function(model, x_test)
        evaluated[#evaluated + 1] = x_test:size(1)
        return model:evaluate(x_test, y:narrow(1, 1, x_test:size(1)), {batch_size = 7}).loss
      end})
    assert.equal(3, #scores)
    assert.equal(3 * 2, epochs) -- 2 epochs on each of the 3 folds
    assert.equal(3 * 2 * 2, batches) -- 100 training samples in batches of 50
    assert.same({50, 50, 50}, evaluated)
  end)

  it("says which scores exist and what build_fn must return", function()
    assert.matches("evaluate%(%) gives accuracy, loss, not 'auc'",
      error_of(ms.cross_val_score, build, x, y, {cv = 2, scoring = "auc", fit = {epochs = 1}}))
    assert.matches("build_fn must return a compiled model", error_of(ms.cross_val_score, function()
      return lurn.Sequential{L.Dense(3, {input_shape = {4}})}
    end, x, y))
    assert.matches("unknown option 'epochs' %(known: cv, evaluate, fit, scoring; fit's options such as epochs go "
      .. "in fit = {...}%)", error_of(ms.cross_val_score, build, x, y, {cv = 2, epochs = 3}))
    assert.matches("fit must be a table of model:fit options", error_of(ms.cross_val_score, build, x, y, {fit = 3}))
  end)
end)

describe("lurn.data.check_splits", function()
  it("counts the classes of each split and flags a class missing from one", function()
    local r = lurn.data.check_splits{train = lurn.tensor{0, 1, 2, 1, 0}, val = lurn.tensor{0, 1, 2},
                                     test = lurn.tensor{{0}, {0}, {1}}}
    assert.is_false(r.ok)
    assert.same({0, 1, 2}, r.classes)
    assert.same({"train", "val", "test"}, r.splits)
    assert.same({[0] = 2, [1] = 2, [2] = 1}, r.counts.train)
    assert.same({[0] = 2, [1] = 1, [2] = 0}, r.counts.test)
    assert.same({train = 5, val = 3, test = 3}, r.totals)
    assert.same({test = {2}}, r.missing)
  end)

  it("is ok when every split has every class, and knows expected classes", function()
    local r = lurn.data.check_splits{train = {"a", "b"}, test = {"b", "a", "a"}}
    assert.is_true(r.ok)
    assert.same({}, r.missing)
    assert.same({a = 2, b = 1}, r.counts.test)
    local e = lurn.data.check_splits{train = lurn.tensor{0, 1}, test = lurn.tensor{1, 0}, classes = {0, 1, 2}}
    assert.is_false(e.ok)
    assert.same({train = {2}, test = {2}}, e.missing)
    local onehot = lurn.data.check_splits{train = lurn.utils.to_categorical({0, 1, 2}), test = lurn.tensor{0, 2}}
    assert.same({test = {1}}, onehot.missing)
    -- one-hot rows (N, 4) name class 3 even though no split holds it
    local wide = lurn.data.check_splits{train = lurn.utils.to_categorical({0, 1, 2}, 4),
                                        val = lurn.utils.to_categorical({2, 1, 0}, 4)}
    assert.is_false(wide.ok)
    assert.same({0, 1, 2, 3}, wide.classes)
    assert.same({train = {3}, val = {3}}, wide.missing)
  end)

  it("prints a table of counts when verbose", function()
    local lines = {}
    local saved = _G.print
    _G.print = function(s) lines[#lines + 1] = s end
    local ok, err = pcall(lurn.data.check_splits, {train = lurn.tensor{0, 1, 1, 1}, test = lurn.tensor{0, 0},
                                                   verbose = true})
    _G.print = saved
    assert(ok, err)
    assert.matches("^class%s+train%s+test$", lines[1])
    assert.matches("^0%s+1 %(25.0%%%)%s+2 %(100.0%%%)$", lines[2])
    assert.matches("^1%s+3 %(75.0%%%)%s+0 %(0.0%%%)$", lines[3])
    assert.matches("^total%s+4%s+2$", lines[4])
    assert.equal("missing from test: 1", lines[5])
  end)

  it("rejects labels it cannot read", function()
    assert.matches("no split given", error_of(lurn.data.check_splits, {verbose = true}))
    assert.matches("split 'test' has string labels, the others number labels",
      error_of(lurn.data.check_splits, {train = lurn.tensor{0}, test = {"a"}}))
    assert.matches("split 'train': labels must be a tensor or a list", error_of(lurn.data.check_splits, {train = 3}))
  end)
end)
