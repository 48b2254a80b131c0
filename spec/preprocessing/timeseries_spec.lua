-- lurn.preprocessing.timeseries_dataset_from_array: Keras' docstring examples (the windows'
-- rows, each target aligned with the window that starts at it), batches and epochs as fit
-- takes them, start_index/end_index (1-based rows), shuffling, and the errors.
local lurn = require "lurn"
local P = lurn.preprocessing
local from_array = P.timeseries_dataset_from_array

-- The series 0, 1, ..., n - 1 as (n, 1): a value is its own 0-based index.
local function steps(n) return lurn.arange(0, n):reshape{n, 1} end

local function windows(x) return x:reshape{x:size(1), x:size(2)}:totable() end

describe("timeseries_dataset_from_array", function()
  it("gives Keras' first example: sequence_length 10, sampling_rate 2, sequence_stride 3 over 0..98", function()
    local ds = from_array(steps(99), nil, 10, {sampling_rate = 2, sequence_stride = 3})
    local x = ds:tensors()
    assert.same({27, 10, 1}, x:shape())
    local w = windows(x)
    assert.same({0, 2, 4, 6, 8, 10, 12, 14, 16, 18}, w[1])
    assert.same({3, 5, 7, 9, 11, 13, 15, 17, 19, 21}, w[2])
    assert.same({6, 8, 10, 12, 14, 16, 18, 20, 22, 24}, w[3])
    assert.same({78, 80, 82, 84, 86, 88, 90, 92, 94, 96}, w[27])
    assert.equal(1, ds:len())  -- batch_size 128
    assert.same({27, 10, 1}, ds():shape())
  end)

  it("gives Keras' forecasting example: the target of a window is the value after it", function()
    -- input_data = data[:-10]; targets = data[10:]: window [0..9] -> 10, [1..10] -> 11, ...
    local data = steps(100)
    local ds = from_array(data:narrow(1, 1, 90), data:narrow(1, 11, 90), 10, {batch_size = 16})
    assert.equal(81, ds.n)
    assert.equal(6, ds:len())
    local x, y = ds:tensors()
    assert.same({81, 10, 1}, x:shape())
    assert.same({81, 1}, y:shape())
    local xt, yt = x:totable(), y:totable()
    for i = 1, 81 do
      assert.equal(i - 1, xt[i][1][1])
      assert.equal(i + 8, xt[i][10][1])
      assert.equal(i + 9, yt[i][1])
    end
    -- 1-D series give (batch, sequence_length) windows and (batch,) targets
    local x1, y1 = from_array(lurn.arange(0, 20), lurn.arange(5, 25), 5):tensors()
    assert.same({16, 5}, x1:shape())
    assert.same({16}, y1:shape())
    assert.same({3, 4, 5, 6, 7}, x1:totable()[4])
    assert.equal(8, y1:totable()[4])
  end)

  it("yields len() batches an epoch, the last one partial, then starts again; shuffles every window once", function()
    local ds = from_array(steps(12), lurn.arange(100, 112), 3, {batch_size = 4})
    assert.equal(10, ds.n)
    assert.equal(3, ds:len())
    assert.equal(3, #ds)
    local sizes = {}
    for b = 1, 4 do
      local xb, yb = ds()
      sizes[b] = xb:size(1)
      assert.equal(xb:size(1), yb:size(1))
      local xt, yt = xb:totable(), yb:totable()
      for i = 1, #xt do assert.equal(yt[i] - 100, xt[i][1][1]) end  -- targets stay with their windows
    end
    assert.same({4, 4, 2, 4}, sizes)
    local shuffled = from_array(steps(12), lurn.arange(100, 112), 3, {batch_size = 4, shuffle = true, seed = 3})
    local function epoch(d)
      local seen = {}
      for _ = 1, d:len() do
        local xb, yb = d()
        local xt, yt = xb:totable(), yb:totable()
        for i = 1, #xt do
          assert.equal(yt[i] - 100, xt[i][1][1])
          seen[#seen + 1] = math.tointeger(xt[i][1][1])
        end
      end
      return seen
    end
    local first, second = epoch(shuffled), epoch(shuffled)
    local sorted = table.move(first, 1, #first, 1, {})
    table.sort(sorted)
    assert.same({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, sorted)
    assert.are_not.same(first, second)  -- reshuffled each epoch
    local again = from_array(steps(12), lurn.arange(100, 112), 3, {batch_size = 4, shuffle = true, seed = 3})
    assert.same(first, epoch(again))  -- the seed repeats the order
    -- tensors() stays in time order
    assert.same({0, 1, 2}, windows(shuffled:tensors())[1])
  end)

  it("keeps to rows start_index..end_index (1-based, end included), targets counted from start_index", function()
    local ds = from_array(steps(20), lurn.arange(100, 120), 4, {start_index = 3, end_index = 10})
    local x, y = ds:tensors()
    -- Keras' data[2:10]: rows 3..10, windows starting at rows 3..7
    assert.same({5, 4, 1}, x:shape())
    assert.same({2, 3, 4, 5}, windows(x)[1])
    assert.same({6, 7, 8, 9}, windows(x)[5])
    assert.same({102, 103, 104, 105, 106}, y:totable())
  end)

  it("trains a model through fit as a generator", function()
    lurn.manual_seed(5)
    local series = lurn.arange(0, 40):reshape{40, 1} * 0.05
    local ds = from_array(series:narrow(1, 1, 36), series:narrow(1, 5, 36), 4, {batch_size = 8, shuffle = true, seed = 1})
    local model = lurn.Sequential{lurn.layers.Flatten{input_shape = {4, 1}}, lurn.layers.Dense(1)}
    model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.05}, loss = "mse"}
    local history = model:fit(ds, {epochs = 30, verbose = 0})
    local losses = history.history.loss
    assert.is_true(losses[#losses] < losses[1] / 10, ("loss %g -> %g"):format(losses[1], losses[#losses]))
    local x, y = ds:tensors()
    assert.is_true(model:evaluate(x, y:reshape{-1, 1}, {verbose = 0}).loss < 0.01)
  end)

  it("refuses what Keras refuses, and windows that do not fit, naming the numbers", function()
    local E = assert.error_matches
    local data = steps(10)
    E(function() from_array(data, nil, 0) end, "sequence_length must be an integer of at least 1, got 0")
    E(function() from_array(data, nil, 3, {sampling_rate = 10}) end,
      "sampling_rate must be lower than the length of the data %(10%), got 10")
    E(function() from_array(data, nil, 3, {sequence_stride = 0}) end, "sequence_stride must be an integer of at least 1")
    E(function() from_array(data, nil, 3, {sequence_stride = 12}) end, "sequence_stride must be lower than the length")
    E(function() from_array(data, nil, 3, {start_index = 11}) end, "start_index %(11%) is past the last row of the data %(10%)")
    E(function() from_array(data, nil, 3, {end_index = 11}) end, "end_index %(11%) is past the last row")
    E(function() from_array(data, nil, 3, {start_index = 5, end_index = 5}) end, "end_index %(5%) must be greater than")
    E(function() from_array(data, nil, 11) end, "rows 1 to 10 are too few for one window of sequence_length 11")
    E(function() from_array(data, nil, 4, {sampling_rate = 4}) end, "too few for one window of sequence_length 4 at sampling_rate 4 %(13 rows%)")
    E(function() from_array(data, nil, 3, {batch_size = 0}) end, "batch_size must be an integer of at least 1")
    E(function() from_array(data, nil, 3, {shuffle = 1}) end, "shuffle must be true or false")
    E(function() from_array(data, nil, 3, {stride = 2}) end, "unknown option 'stride'")
    E(function() from_array("x", nil, 3) end, "data must be a tensor")
    E(function() from_array(lurn.zeros{0, 2}, nil, 3) end, "data is empty")
  end)
end)

describe("timeseries_dataset_from_array and huge sizes", function()
  it("counts windows and batches without overflowing", function()
    local lurn = require "lurn"
    local ts = lurn.preprocessing.timeseries_dataset_from_array
    assert.error_matches(function() ts(lurn.arange(0, 10), nil, 1 << 62, {sampling_rate = 4}) end,
      "too few for one window of sequence_length 4611686018427387904 at sampling_rate 4 %(over 2%^63 rows%)")
    assert.equal(1, ts(lurn.arange(0, 10), nil, 3, {batch_size = math.maxinteger}):len())
  end)
end)
