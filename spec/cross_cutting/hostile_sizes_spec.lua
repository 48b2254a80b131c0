-- Sizes, positions and list lengths from a hostile caller (issue 13): each is refused with
-- an error that names it, before any arithmetic on it overflows and before anything is
-- allocated or copied for it. None of these cases allocates more than a few bytes.
local lurn = require "lurn"

-- A table whose __len claims `n` entries, each of which reads as `value`.
local function claiming(n, value)
  return setmetatable({}, {__len = function() return n end, __index = function() return value end})
end

describe("tensor sizes", function()
  it("refuse a zero-size shape whose other sizes overflow the strides", function()
    assert.error_matches(function() lurn.zeros{0, 2 ^ 40, 2 ^ 40} end,
      "tensor of shape %(0, 1099511627776, 1099511627776%) is too large")
    assert.error_matches(function() lurn.ones{2 ^ 40, 0, 2 ^ 40} end, "too large")
    assert.equal(0, lurn.zeros{0, 2 ^ 20, 2 ^ 20}:numel())
  end)

  it("refuse a reshape or view of an empty tensor to sizes that overflow", function()
    local empty = lurn.zeros{0}
    assert.error_matches(function() empty:reshape{2 ^ 32, 2 ^ 32} end, "too large")
    assert.error_matches(function() empty:view(0, 2 ^ 40, 2 ^ 40) end, "too large")
    assert.error_matches(function() empty:reshape{2 ^ 62, 4, 0} end, "too large")
    assert.same({0, 3}, empty:reshape{0, 3}:shape())
  end)

  it("refuse cat of zero-size tensors whose sizes add up past int64", function()
    local part = lurn.zeros{2 ^ 60, 0}
    local parts = {}
    for i = 1, 8 do parts[i] = part end
    assert.error_matches(function() lurn.cat(parts, 1) end, "cat: the sizes along dimension 1 add up past 2%^63")
    assert.error_matches(function() lurn.cat({part, part, part}, 1) end, "too large")
    local half = lurn.zeros{2 ^ 59, 0}
    assert.same({2 ^ 60, 0}, lurn.cat({half, half}, 1):shape())
  end)

  it("refuse an arange with more elements than a tensor can have", function()
    assert.error_matches(function() lurn.arange(0, 1e30) end, "arange: 0 to 1e%+30 by 1 gives too many elements")
    assert.error_matches(function() lurn.arange(0, math.huge) end, "finite")
    assert.error_matches(function() lurn.arange(-1e308, 1e308, 1e-300) end, "too many elements")
  end)
end)

describe("positions at the edges of the integers", function()
  local t = lurn.arange(1, 5)

  it("narrow refuses math.mininteger and math.maxinteger starts and lengths", function()
    assert.error_matches(function() t:narrow(1, math.mininteger, 2) end,
      "narrow: start %-9223372036854775808 and length 2 out of range for dimension 1 of shape %(4,%)")
    assert.error_matches(function() t:narrow(1, 2, math.maxinteger) end, "length 9223372036854775807 out of range")
    assert.error_matches(function() t:narrow(1, math.maxinteger, 1) end, "out of range")
    assert.error_matches(function() t:narrow(1, 0, 1) end, "out of range")
    assert.equal(0, t:narrow(1, 5, 0):numel())
  end)

  it("select refuses math.mininteger and math.maxinteger", function()
    assert.error_matches(function() t:select(1, math.mininteger) end,
      "select: position %-9223372036854775808 out of range 1..4")
    assert.error_matches(function() t:select(1, math.maxinteger) end, "out of range 1..4")
  end)

  it("index refuses infinite, huge and NaN positions before converting them", function()
    assert.error_matches(function() t:index(1, {math.huge}) end, "index: position inf out of range 1..4")
    assert.error_matches(function() t:index(1, {-math.huge}) end, "position %-inf out of range")
    assert.error_matches(function() t:index(1, {2 ^ 63}) end, "out of range 1..4")
    assert.error_matches(function() t:index(1, {math.mininteger}) end, "out of range 1..4")
    assert.error_matches(function() t:index(1, lurn.tensor{0 / 0}) end, "is not an integer")
    assert.error_matches(function() t:index(1, lurn.tensor{1e30}) end, "out of range 1..4")
  end)

  it("index into an output that shares the input's storage gathers from a copy", function()
    local x = lurn.tensor{{1, 1}, {2, 2}, {3, 3}}
    x:index(1, {3, 2, 1}, x)
    assert.same({{3, 3}, {2, 2}, {1, 1}}, x:totable())
    local v = lurn.tensor{1, 2, 3, 4}
    v:index(1, {4, 3, 2, 1}, v)
    assert.same({4, 3, 2, 1}, v:totable())
  end)
end)

describe("list lengths claimed by __len", function()
  it("are checked against the shape limit before a shape is read", function()
    assert.error_matches(function() lurn.zeros(claiming(2 ^ 40, 1)) end, "shape must have 1 to 8 sizes")
    assert.error_matches(function() lurn.zeros(claiming(2 ^ 32 + 2, 1)) end, "shape must have 1 to 8 sizes")
    assert.error_matches(function() lurn.zeros{4}:reshape(claiming(2 ^ 32 + 1, 4)) end, "shape must have 1 to 8")
    assert.error_matches(function() lurn.zeros{4}:permute(claiming(2 ^ 32 + 1, 1)) end, "expected 1 dimensions")
  end)

  it("are checked before positions, tensors or nested rows are copied", function()
    local t = lurn.zeros{4}
    assert.error_matches(function() t:index(1, claiming(2 ^ 40, 1)) end,
      "the list of positions has 1099511627776 entries, expected at most 2147483647")
    assert.error_matches(function() lurn.cat(claiming(2 ^ 32 + 1, t)) end, "the list of tensors has")
    assert.error_matches(function() lurn.stack(claiming(2 ^ 40, t)) end, "the list of tensors has")
    assert.error_matches(function() lurn.tensor(claiming(2 ^ 30, claiming(2 ^ 30, {}))) end,
      "tensor: the nested table has more than 2147483647 rows")
    assert.error_matches(function() lurn.tensor(claiming(2 ^ 40, {})) end,
      "tensor: a row of the nested table has 1099511627776 entries")
  end)

  -- fn under a budget of Lua instructions: a loop that a hostile table makes endless fails
  -- the spec instead of hanging it
  local function bounded(fn)
    return function()
      debug.sethook(function() debug.sethook(); error("ran past its instruction budget") end, "", 10000000)
      local ok, err = pcall(fn)
      debug.sethook()
      if not ok then error(err, 0) end
    end
  end

  it("are checked before layers, models and Input copy or walk a shape or a list of inputs", function()
    local L = lurn.layers
    local huge, endless = claiming(2 ^ 40, 2), claiming(3, 2)  -- endless: __index never returns nil
    local positional = setmetatable({2}, {__len = function() return 2 ^ 40 end})  -- Input{784} form
    assert.error_matches(bounded(function() L.Input(positional) end), "Input: shape must be a table of 1 to 7 entries")
    assert.error_matches(bounded(function() L.Input{shape = huge} end), "Input: shape must be a table of 1 to 7")
    assert.error_matches(bounded(function() L.Dense(2, {input_shape = huge}) end),
      "Dense: input_shape must be a table of 1 to 7 entries")
    assert.error_matches(bounded(function() L.Reshape(positional) end), "Reshape: target_shape must be a table of 1 to 7")
    assert.error_matches(bounded(function() L.Dense(2):build(huge) end), "build: the input shape of one sample")
    assert.error_matches(bounded(function() lurn.Sequential{L.Dense(2)}:build(huge) end),
      "build: input_shape must be a table of 1 to 7 entries")
    assert.error_matches(bounded(function() L.Add()(claiming(2 ^ 40, lurn.zeros{1, 2})) end),
      "the list of inputs must be a table of 1 to 32 entries")
    -- a table whose reads never end is read as far as its length says
    assert.same({2, 2, 2}, L.Dense(2, {input_shape = endless}).input_shape)
    L.Dense(2):build(endless)
    assert.error_matches(bounded(function() L.ZeroPadding2D(setmetatable({}, {__index = function() return 1 end})) end),
      "ZeroPadding2D: padding must be")
  end)

  it("are checked before they are cast to int by the model, merge and optimizer bindings", function()
    local core = lurn.core
    local layer = lurn.layers.Dense(2)
    layer:build{2}
    local dense = layer._core
    -- 2^32 + 1 would pass as 1 once cast to int: one layer read, the rest ignored
    local one_layer = setmetatable({dense}, {__len = function() return 2 ^ 32 + 1 end})
    assert.error_matches(function() core.residual_layer(one_layer) end, "a Residual block holds 1 to 64 layers")
    assert.error_matches(function() core.graph_layer(one_layer, {{0}}) end, "a graph holds 1 to 1024 layers")
    local one_input = setmetatable({0}, {__len = function() return 2 ^ 32 + 1 end})
    assert.error_matches(function() core.graph_layer({dense}, {one_input}) end, "a node takes 1 to 32 inputs")
    assert.error_matches(function() core.graph_layer({dense}, {{2 ^ 32}}) end, "node numbers are %-31 to 1024")
    assert.error_matches(function() core.merge_layer("Concatenate", 2 ^ 32 + 1) end, "axis out of range")
    local opt = lurn.optimizers.SGD()._c
    local w, g = lurn.zeros{2}, lurn.zeros{2}
    assert.error_matches(function() opt:step(claiming(2 ^ 32 + 1, w), claiming(2 ^ 32 + 1, g)) end,
      "the parameter list has 4294967297 entries")
  end)
end)

describe("layer builds", function()
  local L = lurn.layers
  it("refuse per-sample shapes whose sizes multiply past what a tensor can hold", function()
    assert.error_matches(function() L.MaxPooling2D(2):build{5, 2 ^ 32, 2 ^ 31 - 1} end,
      "MaxPooling2D: input of one sample: tensor of shape %(5, 4294967296, 2147483647%) is too large")
    assert.error_matches(function() L.GlobalMaxPooling2D():build{2 ^ 40, 2 ^ 40, 2 ^ 40} end, "too large")
    assert.error_matches(function() L.Flatten():build{2 ^ 40, 2 ^ 40} end, "Flatten: input of one sample")
    assert.error_matches(function() L.Dense(2):build{2 ^ 32, 2 ^ 32, 2 ^ 32} end, "Dense: input of one sample")
  end)

  it("refuse Reshape targets whose sizes multiply past int64, instead of wrapping", function()
    -- (2^62 + 1) * 4 wraps to 4 in int64: the 4 values of the input seemed to fit
    assert.error_matches(function() L.Reshape{(1 << 62) + 1, 4}:build{4} end, "cannot reshape input of shape %(4,%)")
    assert.error_matches(function() L.Reshape{(1 << 62) + 1, 4, -1}:build{4} end, "cannot reshape input of shape %(4,%)")
  end)
end)

describe("randperm", function()
  it("refuses a tensor of more positions than float32 holds exactly, and offers a list", function()
    assert.error_matches(function() lurn.randperm(2 ^ 24 + 1) end,
      "n = 16777217 is past 2%^24, beyond which a float32 tensor cannot hold every position")
    assert.error_matches(function() lurn.randperm(2 ^ 62, "list") end, "past the longest list")
    assert.error_matches(function() lurn.randperm(math.maxinteger) end, "past 2%^24")
  end)

  it("gives the same order as a tensor and as a list of integers", function()
    lurn.manual_seed(7)
    local p = lurn.randperm(50)
    lurn.manual_seed(7)
    local l = lurn.randperm(50, "list")
    assert.same(p:totable(), l)
    local seen = {}
    for _, v in ipairs(l) do
      assert.equal("integer", math.type(v))
      seen[v] = true
    end
    for i = 1, 50 do assert.is_true(seen[i]) end
  end)
end)

describe("tensor methods with sizes past what they can return", function()
  it("totable refuses shapes that would make more than 2^31 Lua tables", function()
    assert.error_matches(function() lurn.zeros{2 ^ 40, 0}:totable() end,
      "totable: a tensor of shape %(1099511627776, 0%) makes more than 2147483647 Lua tables")
    assert.same({{}, {}}, lurn.zeros{2, 0}:totable())
  end)

  it("argmax and argmin refuse a dimension whose positions float32 cannot hold", function()
    assert.error_matches(function() lurn.zeros{2 ^ 32, 0}:argmax(1) end, "argmax: dimension 1 of shape")
    assert.error_matches(function() lurn.zeros{3, 2 ^ 25, 0}:argmin(2) end, "past 2%^24")
  end)

  it("var and std refuse a ddof that an int cannot hold instead of wrapping it", function()
    local t = lurn.tensor{1, 2, 3}
    assert.error_matches(function() t:var(1, false, 2 ^ 32) end, "ddof must be >= 0 and at most 2147483647")
    assert.error_matches(function() t:std(1, false, -1) end, "ddof must be >= 0")
  end)
end)

describe("samplers", function()
  local S = lurn.sampling
  local core = require "lurn.core"
  local x = lurn.arange(20):reshape(10, 2)
  local y = lurn.tensor{0, 0, 0, 0, 0, 0, 0, 1, 1, 1}

  it("refuse per-class counts that add up past int64 or past exact positions", function()
    assert.error_matches(function()
      S.RandomOverSampler{sampling_strategy = {[0] = 2 ^ 62, [1] = 2 ^ 62}}:fit_resample(x, y)
    end, "RandomOverSampler: more than 2%^63 samples asked in all")
    assert.error_matches(function()
      S.RandomOverSampler{sampling_strategy = {[1] = 2 ^ 25}}:fit_resample(x, y)
    end, "RandomOverSampler: 33554439 samples asked in all; the float32 tensor of their positions is exact only up to 2%^24")
    assert.error_matches(function()
      core.random_undersample(x, y, {[0] = math.maxinteger, [1] = math.maxinteger}, true)
    end, "RandomUnderSampler: more than 2%^63 samples asked")
    assert.error_matches(function()
      S.SMOTE{k_neighbors = 2, sampling_strategy = {[0] = 2 ^ 62, [1] = 2 ^ 62}}:fit_resample(x, y)
    end, "SMOTE: the samples asked add up past 2%^63")
    assert.error_matches(function() core.smote(x, y, {[0] = math.maxinteger, [1] = math.maxinteger}, 2) end,
      "SMOTE: the samples asked add up past 2%^63")
  end)

  it("refuse counts and classes that are not whole numbers, before converting them", function()
    assert.error_matches(function() S.RandomOverSampler{sampling_strategy = {[1] = 1e300}}:fit_resample(x, y) end,
      "sampling_strategy%[1%] must be a whole number of samples, got 1e%+300")
    assert.error_matches(function() S.RandomOverSampler{sampling_strategy = {[1] = math.huge}}:fit_resample(x, y) end,
      "must be a whole number of samples, got inf")
    assert.error_matches(function() S.RandomOverSampler{sampling_strategy = {[math.huge] = 3}}:fit_resample(x, y) end,
      "sampling_strategy keys must be class numbers, got inf")
  end)

  it("kneighbors refuses neighbour tables past the tensor limit, saying so", function()
    assert.error_matches(function() core.kneighbors(lurn.zeros{3, 0}, 2 ^ 20, lurn.zeros{2 ^ 41, 0}) end,
      "tensor of shape %(2199023255552, 1048576%) is too large")
  end)

  it("read a missing seed as missing, not as their own scratch array", function()
    local xo, yo = core.smote(x, y, {[1] = 2}, 2)
    assert.same({12, 2}, xo:shape())
    assert.same({12}, yo:shape())
    local _, _, pos = core.random_oversample(x, y, {[1] = 2})
    assert.same({12}, pos:shape())
  end)
end)

describe("splits", function()
  local MS = lurn.model_selection
  local core = require "lurn.core"

  it("refuse sample counts whose positions float32 cannot hold, before allocating for them", function()
    assert.error_matches(function() MS.KFold{n_splits = 3}:split(2 ^ 61) end,
      "KFold.split: .*2305843009213693952 samples: the float32 tensors of sample positions are exact only up to 2%^24")
    assert.error_matches(function() core.permutation(math.maxinteger) end, "exact only up to 2%^24")
    assert.error_matches(function() core.kfold(2 ^ 62, 3, false) end, "exact only up to 2%^24")
    assert.error_matches(function() MS.train_test_split(claiming(2 ^ 40, 1)) end,
      "train_test_split: x has 1099511627776.0 samples; sample positions %(float32 tensors%) are exact only up to 2%^24")
  end)

  it("refuse more classes than samples instead of sizing buffers by them", function()
    local codes = lurn.tensor{0, 1, 0, 1}
    assert.error_matches(function() core.stratified_kfold(codes, 2 ^ 40, 2, false) end,
      "stratified k%-fold: 1099511627776 classes for 4 samples")
    assert.error_matches(function() core.stratified_split(codes, 2 ^ 62, 2, 2) end,
      "stratified split: 4611686018427387904 classes for 4 samples")
    local train, test = core.stratified_split(codes, 2, 2, 2)
    assert.equal(2, train:numel())
    assert.equal(2, test:numel())
  end)

  it("check the length of lists of texts and of quantiles before reading them", function()
    assert.error_matches(function() core.unique_strings(claiming(2 ^ 40, "a")) end,
      "the list of texts has 1099511627776 entries")
    assert.error_matches(function() core.take(claiming(2 ^ 40, "a"), lurn.zeros{2}) end, "the list has 1099511627776")
    assert.error_matches(function() core.column_quantiles(lurn.zeros{3, 2}, claiming(2 ^ 32 + 1, 50)) end,
      "expected 1 to 1024 quantiles")
  end)
end)

describe("image augmentation", function()
  local core = require "lurn.core"

  it("checks interpolation orders before casting them to int", function()
    local img = lurn.zeros{2, 2, 1}
    assert.error_matches(function() core.image_apply_transform(img, {}, "nearest", 0, 2 ^ 32 + 1) end,
      "interpolation_order must be a whole number from 0 to 5")
    assert.error_matches(function() core.augmenter({interpolation_order = 0 / 0}) end,
      "interpolation_order must be a whole number")
    assert.error_matches(function() core.augmenter({interpolation_order = 1e300}) end,
      "interpolation_order must be a whole number")
  end)

  it("refuses a permutation whose positions float32 cannot hold", function()
    local aug = core.augmenter({}, 1)
    assert.error_matches(function() aug:randperm(2 ^ 24 + 1) end, "past 2%^24")
    assert.equal(5, aug:randperm(5):numel())
  end)
end)
