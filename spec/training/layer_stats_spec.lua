-- Per-layer statistics: model:layer_stats(x, y) and the LayerStats callback (issue 15).
-- The mechanisms a person looks for (vanishing gradients, dead units, saturation) show
-- in the numbers, and every number is the one a plain Lua computation gives.
local lurn = require "lurn"
local L = lurn.layers

-- sum of squares in double, in index order, over the tensors in the list
local function norm(tensors)
  local s = 0
  for _, t in ipairs(tensors) do
    for _, v in ipairs(t:reshape(t:numel()):totable()) do s = s + v * v end
  end
  return math.sqrt(s)
end

local function by_name(rows)
  local out = {}
  for _, r in ipairs(rows) do out[r.name] = r end
  return out
end

local function compiled(layers, loss, optimizer)
  local m = lurn.Sequential(layers)
  m:compile({loss = loss or "sparse_categorical_crossentropy", optimizer = optimizer or "sgd"})
  return m
end

local function labels(n, classes)
  local t = lurn.zeros(n)
  for i = 1, n do t:set(i, (i - 1) % classes) end
  return t
end

describe("model:layer_stats", function()
  before_each(function() lurn.manual_seed(5) end)

  it("shows a deep sigmoid network's first gradients orders of magnitude below its last", function()
    local layers = {L.Dense(32, {activation = "sigmoid", input_shape = {16}})}
    for _ = 2, 10 do layers[#layers + 1] = L.Dense(32, {activation = "sigmoid"}) end
    layers[#layers + 1] = L.Dense(4, {activation = "softmax"})
    local m = compiled(layers)
    local rows = m:layer_stats(lurn.randn(64, 16), labels(64, 4))
    assert.are.equal(11, #rows)
    assert.is_true(rows[1].grad_norm * 1000 < rows[10].grad_norm,
                   ("first %g, last sigmoid %g"):format(rows[1].grad_norm, rows[10].grad_norm))
    for _, r in ipairs(rows) do
      assert.are.equal("Dense", r.type)
      assert.is_nil(r.dead_fraction)  -- sigmoid units are never exactly zero
      assert.is_number(r.saturated_fraction)
      assert.is_nil(r.update_ratio)  -- nothing recorded an update yet
    end
  end)

  it("counts ReLU units killed by a bias of -10 as dead, and LeakyReLU's as alive", function()
    local function first_row(activation)
      local m = compiled({L.Dense(8, {activation = activation, input_shape = {4},
                                      bias_initializer = lurn.initializers.Constant(-10)}),
                          L.Dense(3, {activation = "softmax"})})
      return m:layer_stats(lurn.randn(32, 4), labels(32, 3))[1]
    end
    assert.are.equal(1, first_row("relu").dead_fraction)
    assert.are.equal(0, first_row("leaky_relu").dead_fraction)
    local relu = first_row("relu")
    assert.are.equal(0, relu.act_mean)
    assert.are.equal(0, relu.act_std)
    assert.are.equal(0, relu.grad_norm)  -- nothing flows back through dead units
  end)

  it("counts a convolution channel as one unit over all positions", function()
    local conv = L.Conv2D(4, 1, {activation = "relu", input_shape = {3, 3, 2}})
    local m = compiled({conv, L.Flatten(), L.Dense(2, {activation = "softmax"})})
    local w = m:get_weights()
    w[1]:fill(1)  -- kernel (1, 1, 2, 4)
    for c = 1, 2 do  -- channels 1 and 2 see -sum(x) - 100: always below zero
      w[1]:set(1, 1, 1, c, -1)
      w[1]:set(1, 1, 2, c, -1)
      w[2]:set(c, -100)
    end
    m:set_weights(w)
    local x = lurn.rand(6, 3, 3, 2)  -- in [0, 1): channels 3 and 4 positive everywhere
    assert.are.equal(0.5, m:layer_stats(x, labels(6, 2))[1].dead_fraction)
  end)

  it("gives grad_norm and weight_norm equal to the norms of gradients() and the weights, exactly", function()
    local m = compiled({L.Dense(7, {activation = "tanh", input_shape = {5}}), L.Dense(6, {activation = "relu"}),
                        L.Dense(3, {activation = "softmax"})})
    local rows = m:layer_stats(lurn.randn(20, 5), labels(20, 3))
    local grads, weights = m:gradients(), m:get_weights()
    for i, r in ipairs(rows) do
      assert.are.equal(norm({grads[2 * i - 1], grads[2 * i]}), r.grad_norm)
      assert.are.equal(norm({weights[2 * i - 1], weights[2 * i]}), r.weight_norm)
    end
  end)

  it("gives the mean and std of the layer's output and softmax saturation by rows", function()
    local m = compiled({L.Dense(5, {activation = "softmax", input_shape = {3}})})
    local x = lurn.randn(40, 3)
    local rows = m:layer_stats(x, labels(40, 5))
    local p = m:predict(x, {verbose = 0})
    assert.is_true(math.abs(rows[1].act_mean - p:mean()) < 1e-7)
    assert.is_true(math.abs(rows[1].act_std - p:std()) < 1e-6)
    local saturated = 0
    for i = 1, 40 do
      local top = 0
      for j = 1, 5 do top = math.max(top, p:get(i, j)) end
      if top > 0.99 then saturated = saturated + 1 end
    end
    assert.are.equal(saturated / 40, rows[1].saturated_fraction)
    -- a bias of 20 for one class saturates every row
    local w = m:get_weights()
    w[2] = lurn.tensor({0, 20, 0, 0, 0})
    m:set_weights(w)
    assert.are.equal(1, m:layer_stats(x, labels(40, 5))[1].saturated_fraction)
  end)

  it("counts sigmoid and tanh outputs within 0.01 of their bounds", function()
    local m = compiled({L.Dense(4, {activation = "tanh", input_shape = {2}}), L.Dense(1, {activation = "sigmoid"})},
                       "binary_crossentropy")
    local w = m:get_weights()
    w[1]:fill(0)
    w[2] = lurn.tensor({10, -10, 0.1, 0})  -- tanh(10), tanh(-10) saturate; tanh(0.1), tanh(0) do not
    w[3]:fill(0)
    w[4] = lurn.tensor({-20})  -- sigmoid(-20) is within 0.01 of 0
    m:set_weights(w)
    local rows = m:layer_stats(lurn.randn(8, 2), lurn.zeros(8, 1))
    assert.are.equal(0.5, rows[1].saturated_fraction)
    assert.are.equal(1, rows[2].saturated_fraction)
  end)

  it("expands containers and merges a Lua activation into its layer's row", function()
    local block = L.Residual({L.Dense(6, {activation = "relu"}), L.Dense(6)})
    local act = L.Dense(6, {activation = function(t) return t:relu() end})
    local m = compiled({L.Dense(6, {input_shape = {3}}), block, act, L.ReLU(), L.Dense(2, {activation = "softmax"})})
    local rows = m:layer_stats(lurn.randn(10, 3), labels(10, 2))
    local names = {}
    for i, r in ipairs(rows) do names[i] = r.type end
    assert.are.same({"Dense", "Dense", "Dense", "Dense", "ReLU", "Dense"}, names)
    assert.are.equal(block.inner[1].name, rows[2].name)
    assert.is_number(rows[4].dead_fraction)  -- the Lua activation's output (a Lambda)
    assert.is_number(rows[4].grad_norm)       -- the Dense layer's parameters
    assert.is_number(rows[5].dead_fraction)
    assert.is_nil(rows[5].grad_norm)          -- no parameters
  end)

  it("lists a functional model's layers in model.layers order", function()
    local input = lurn.Input({4})
    local a = L.Dense(5, {activation = "relu", name = "a"})(input)
    local b = L.Dense(5, {activation = "tanh", name = "b"})(input)
    local out = L.Dense(2, {activation = "softmax", name = "out"})(L.Concatenate({name = "cat"})({a, b}))
    local m = lurn.Model(input, out)
    m:compile({loss = "sparse_categorical_crossentropy", optimizer = "sgd"})
    local rows = m:layer_stats(lurn.randn(6, 4), labels(6, 2))
    local want = {}
    for i = 2, #m.layers do want[i - 1] = m.layers[i].name end
    local got = {}
    for i, r in ipairs(rows) do got[i] = r.name end
    assert.are.same(want, got)
  end)

  it("prints as a table, one line per layer, '-' where a value does not apply", function()
    local m = compiled({L.Dense(3, {input_shape = {2}, activation = "relu", name = "hidden"}),
                        L.Dense(2, {activation = "softmax", name = "out"})})
    local text = tostring(m:layer_stats(lurn.randn(4, 2), labels(4, 2)))
    local lines = {}
    for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.are.equal(3, #lines)
    assert.matches("^name%s+type%s+act_mean%s+act_std%s+dead%s+saturated%s+grad_norm%s+weight_norm%s+update$", lines[1])
    assert.matches("^hidden%s+Dense%s+%S+%s+%S+%s+%S+%s+%-%s", lines[2])  -- relu: no saturation
    assert.matches("^out%s+Dense%s+%S+%s+%S+%s+%-%s", lines[3])              -- softmax: no dead units
    assert.matches("%-$", lines[3])                                         -- no update recorded
  end)

  it("makes no update and keeps the weights, BatchNormalization's statistics too", function()
    local m = compiled({L.Dense(4, {input_shape = {2}}), L.BatchNormalization(), L.Dense(3, {activation = "softmax"})})
    local before = m:get_weights()
    m:layer_stats(lurn.randn(4, 2), labels(4, 3))
    for i, w in ipairs(m:get_weights()) do assert.are.equal(0, (w - before[i]):abs():max()) end
  end)

  it("refuses what it cannot use, at the caller's line", function()
    local m = lurn.Sequential({L.Dense(3, {input_shape = {2}})})
    assert.has_error(function() m:layer_stats(lurn.randn(4, 2), labels(4, 3)) end)
    m:compile({loss = "mse", optimizer = "sgd"})
    local ok, err = pcall(m.layer_stats, m, lurn.randn(4, 2), lurn.randn(4, 3), {bogus = 1})
    assert.is_false(ok)
    assert.matches("bogus", err)
    ok, err = pcall(function() return m:layer_stats(lurn.randn(4, 2), lurn.randn(5, 3)) end)
    assert.is_false(ok)
    assert.matches("layer_stats_spec.lua:%d+: layer_stats: x and y have different numbers of samples", err)
    local nan = lurn.randn(4, 2)
    nan:set(2, 1, 0 / 0)
    assert.has_error(function() m:layer_stats(nan, lurn.randn(4, 3)) end)
    -- as the error suggests, allow_nonfinite lets it through (and the statistics show NaN)
    local row = m:layer_stats(nan, lurn.randn(4, 3), {allow_nonfinite = true})[1]
    assert.is_true(row.act_mean ~= row.act_mean)
    assert.is_number(m:compute_gradients(nan, lurn.randn(4, 3), {allow_nonfinite = true}))
  end)
end)

describe("LayerStats", function()
  before_each(function() lurn.manual_seed(9) end)

  local function model()
    return compiled({L.Dense(8, {activation = "relu", input_shape = {4}, name = "dense"}),
                     L.Dense(3, {activation = "softmax", name = "dense_1"})},
                    nil, lurn.optimizers.SGD({learning_rate = 0.1}))
  end

  it("records every `every` batches and the last batch of each epoch, with epoch and batch", function()
    local m = model()
    local cb = lurn.callbacks.LayerStats({every = 2})
    m:fit(lurn.randn(100, 4), labels(100, 3), {epochs = 2, batch_size = 20, verbose = 0, callbacks = {cb}})
    local seen = {}
    for _, r in ipairs(cb.records) do seen[#seen + 1] = r.epoch .. ":" .. r.batch .. ":" .. r.name end
    assert.are.same({"0:1:dense", "0:1:dense_1", "0:3:dense", "0:3:dense_1", "0:4:dense", "0:4:dense_1",
                     "1:1:dense", "1:1:dense_1", "1:3:dense", "1:3:dense_1", "1:4:dense", "1:4:dense_1"}, seen)
  end)

  it("records the update of the step: with plain SGD, lr * grad_norm / weight_norm", function()
    local m = model()
    local cb = lurn.callbacks.LayerStats({every = 1})
    m:fit(lurn.randn(40, 4), labels(40, 3), {epochs = 1, batch_size = 10, verbose = 0, callbacks = {cb}})
    assert.are.equal(8, #cb.records)
    for _, r in ipairs(cb.records) do
      local want = 0.1 * r.grad_norm / r.weight_norm
      assert.is_true(math.abs(r.update_ratio - want) <= 1e-5 * want, ("%g vs %g"):format(r.update_ratio, want))
    end
    -- kept after fit: layer_stats reports the last recorded update
    local rows = m:layer_stats(lurn.randn(5, 4), labels(5, 3))
    assert.are.equal(cb.records[#cb.records - 1].update_ratio, rows[1].update_ratio)
  end)

  it("does not record when not asked, nor after a fit that failed while recording", function()
    local m = model()
    m:fit(lurn.randn(20, 4), labels(20, 3), {epochs = 1, batch_size = 10, verbose = 0})
    assert.is_nil(m:layer_stats(lurn.randn(5, 4), labels(5, 3))[1].update_ratio)
    local boom = lurn.callbacks.LambdaCallback{on_train_batch_end = function() error("boom") end}
    assert.has_error(function()
      m:fit(lurn.randn(20, 4), labels(20, 3), {epochs = 1, batch_size = 10, verbose = 0,
                                              callbacks = {boom, lurn.callbacks.LayerStats{every = 1}}})
    end)
    -- the first batch's, recorded before the error (read raw: layer_stats itself would stop
    -- the recording this checks)
    assert.is_number(m._core:layer_stats()[1].update_ratio)
    m:fit(lurn.randn(20, 4), labels(20, 3), {epochs = 1, batch_size = 10, verbose = 0})
    assert.is_nil(m._core:layer_stats()[1].update_ratio)  -- its steps were not recorded
  end)

  it("forgets the update ratio once an update that was not recorded is made", function()
    local m = model()
    m:fit(lurn.randn(20, 4), labels(20, 3), {epochs = 1, batch_size = 10, verbose = 0,
                                            callbacks = {lurn.callbacks.LayerStats({every = 1})}})
    assert.is_number(m:layer_stats(lurn.randn(5, 4), labels(5, 3))[1].update_ratio)
    m:train_on_batch(lurn.randn(5, 4), labels(5, 3))
    assert.is_nil(m:layer_stats(lurn.randn(5, 4), labels(5, 3))[1].update_ratio)
  end)

  it("streams its records to a CSV file", function()
    local path = os.tmpname()
    local m = model()
    local cb = lurn.callbacks.LayerStats({every = 3, file = path})
    m:fit(lurn.randn(60, 4), labels(60, 3), {epochs = 1, batch_size = 10, verbose = 0, callbacks = {cb},
                                            validation_split = 0.5})
    local lines = {}
    for line in io.lines(path) do lines[#lines + 1] = line end
    os.remove(path)
    assert.are.equal("epoch,batch,name,type,act_mean,act_std,dead_fraction,saturated_fraction,grad_norm,"
                     .. "weight_norm,update_ratio", lines[1])
    assert.are.equal(1 + #cb.records, #lines)  -- batch 2 (every 3) is also the last of 3
    assert.are.equal(2, #cb.records)
    local fields = {}
    for f in (lines[2] .. ","):gmatch("([^,]*),") do fields[#fields + 1] = f end
    assert.are.same({"0", "2", "dense", "Dense"}, {fields[1], fields[2], fields[3], fields[4]})
    assert.are.equal(cb.records[1].grad_norm, tonumber(fields[9]))
    assert.are.equal("", fields[8])  -- relu does not saturate
  end)

  it("checks its options", function()
    assert.has_error(function() lurn.callbacks.LayerStats({every = 0}) end)
    assert.has_error(function() lurn.callbacks.LayerStats({every = 1.5}) end)
    assert.has_error(function() lurn.callbacks.LayerStats({file = 3}) end)
    assert.has_error(function() lurn.callbacks.LayerStats({evry = 3}) end)
  end)
end)
