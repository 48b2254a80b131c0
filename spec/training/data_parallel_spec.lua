-- Data-parallel fit's pieces in one process (the job of several is in
-- spec/integration/mpi_fit_*.sh): global batches cut into shards that differ by at most
-- one sample (empty where the batch is smaller than the job); the model's data-parallel
-- step of a process that holds the whole batch is train_step bit for bit; the metrics'
-- states go out and back unchanged and the summed logs equal the plain ones; each rank's
-- random stream differs while the shared generator goes on as if nothing was drawn.
local lurn = require "lurn"
local core = require "lurn.core"
local metrics = require "lurn.metrics"
local data_parallel = require "lurn.training.data_parallel"
local L = lurn.layers

local function same_weights(a, b)
  local wa, wb = a:get_weights(), b:get_weights()
  for i = 1, #wa do assert.are.equal(0, (wa[i] - wb[i]):abs():max(), "weight " .. i .. " differs") end
end

describe("data-parallel fit", function()
  it("cuts a global batch into shards that differ by at most one sample, in rank order", function()
    -- 7 samples from position 15 over 3 ranks: 3, 2, 2
    local firsts, counts = {}, {}
    for rank = 0, 2 do firsts[rank + 1], counts[rank + 1] = data_parallel.shard({rank = rank, size = 3}, 15, 7) end
    assert.are.same({15, 18, 20}, firsts)
    assert.are.same({3, 2, 2}, counts)
    -- a batch of 1 over 2 ranks: rank 1's shard is empty
    assert.are.same({1, 0}, {select(2, data_parallel.shard({rank = 0, size = 2}, 5, 1)),
                             select(2, data_parallel.shard({rank = 1, size = 2}, 5, 1))})
  end)

  it("gives each rank its shard of every batch in the shuffled order, and empty shards as 0 rows", function()
    local x = lurn.tensor{{1}, {2}, {3}, {4}, {5}}
    local y = lurn.tensor{10, 20, 30, 40, 50}
    local order = {5, 3, 1, 2, 4}
    local next_batch, n = data_parallel.shard_batches({rank = 1, size = 2}, x, y, nil, 3, order)
    assert.are.equal(2, n)
    local xb, yb = next_batch(1)  -- positions 5, 3, 1: rank 0 takes 5, 3, rank 1 takes 1
    assert.are.same({{1}}, xb:totable())
    assert.are.same({10}, yb:totable())
    xb, yb = next_batch(2)  -- positions 2, 4: one each
    assert.are.same({{4}}, xb:totable())
    next_batch = data_parallel.shard_batches({rank = 1, size = 2}, x, y, nil, 4, nil)
    xb = next_batch(2)  -- the last batch is position 5 alone: rank 1 has none
    assert.are.equal(0, xb:size(1))
    assert.are.equal(1, data_parallel.global_size(5, 4, 2))
  end)

  it("steps a process holding the whole batch exactly as train_step", function()
    local function build()
      lurn.manual_seed(5)
      local m = lurn.Sequential{L.Dense(6, {activation = "relu", input_shape = {4}}), L.Dense(3)}
      m:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.01}, loss = "mse"}
      return m
    end
    local a, b = build(), build()
    local x, y = lurn.randn{9, 4}, lurn.randn{9, 3}
    for _ = 1, 3 do
      local va = a._core:train_step(a.loss, a.optimizer._c, x, y)
      local vb, pred, global = b._core:data_parallel_step(b.loss, b.optimizer._c, x, y, nil, 9)
      assert.are.equal(va, vb)
      assert.are.equal(va, global)
      assert.are.same({9, 3}, pred:shape())
    end
    same_weights(a, b)
    b._core:broadcast_weights(0)  -- one process: its own weights
    b._core:average_statistics()
    same_weights(a, b)
  end)

  it("reports an empty shard's step as no predictions and a loss of 0, without moving the weights", function()
    lurn.manual_seed(5)
    local m = lurn.Sequential{L.Dense(2, {input_shape = {3}})}
    m:compile{optimizer = "sgd", loss = "mse"}
    local before = m:get_weights()
    local x, y = lurn.randn{4, 3}:narrow(1, 1, 0):contiguous(), lurn.randn{4, 2}:narrow(1, 1, 0):contiguous()
    local value, pred, global = m._core:data_parallel_step(m.loss, m.optimizer._c, x, y, nil, 3)
    assert.are.same({0, 0}, {value, global})
    assert.is_nil(pred)
    local after = m:get_weights()
    for i = 1, #before do assert.are.equal(0, (before[i] - after[i]):abs():max()) end
  end)

  it("takes a global batch of 0 as the sum of the shards, and refuses a negative one", function()
    local function stepped(global)
      lurn.manual_seed(5)
      local m = lurn.Sequential{L.Dense(2, {input_shape = {3}})}
      m:compile{optimizer = "sgd", loss = "mse"}
      lurn.manual_seed(6)
      m._core:data_parallel_step(m.loss, m.optimizer._c, lurn.randn{4, 3}, lurn.randn{4, 2}, nil, global)
      return m
    end
    same_weights(stepped(4), stepped(0))
    local m = stepped(4)
    assert.has_error(function()
      m._core:data_parallel_step(m.loss, m.optimizer._c, lurn.randn{2, 3}, lurn.randn{2, 2}, nil, -1)
    end, "bad argument #6 to 'data_parallel_step' (the global batch size must not be negative (0: the sum of the shards))")
  end)

  it("gives every metric's state out and back unchanged, and logs in one process as the plain loop", function()
    local pred = lurn.tensor{{0.9}, {0.2}, {0.6}}
    local y = lurn.tensor{{1}, {0}, {0}}
    local list = {metrics.get("accuracy", "binary_crossentropy", 1), metrics.AUC(),
                  metrics.F1Score{average = "macro", threshold = 0.5}}
    list[3]:set_output_size(1)
    assert.are.same({0, 0, 0, 0}, metrics._state(list[3]))  -- before any batch: zeros, as long as after
    metrics._update(list, pred, y)
    local plain, summed = {loss = 0.5}, {}
    for _, m in ipairs(list) do metrics._write_log(m, plain) end
    data_parallel.reduce_logs(list, summed, 1.5, 3)  -- one process: the sums are its own
    assert.are.same(plain, summed)
    for _, m in ipairs(list) do
      local s = metrics._state(m)
      metrics._set_state(m, s)
      assert.are.same(s, metrics._state(m))
    end
  end)

  it("runs a function alone (fit then trains on this rank only), giving back its values and errors", function()
    local dist = lurn.distributed
    assert.is_false(dist._alone())
    local a, b = dist.run_alone(function(x, y)
      assert.is_true(dist._alone())
      assert.is_nil(data_parallel.job())
      return x + 1, y
    end, 1, "b")
    assert.are.same({2, "b"}, {a, b})
    assert.has_error(function() dist.run_alone(function() error("inside", 0) end) end, "inside")
    assert.is_false(dist._alone())
    assert.has_error(function() dist.run_alone(3) end, "lurn.distributed.run_alone: fn must be a function, got number")
  end)

  it("draws each rank's own stream, the shared generator going on as if nothing was drawn", function()
    lurn.manual_seed(3)
    local expected = lurn.rand{2}:totable()
    lurn.manual_seed(3)
    local draws = {}
    for rank = 0, 1 do
      draws[rank + 1] = data_parallel.with_rank_stream({rank = rank, size = 2}, function() return lurn.rand{2}:totable() end)
    end
    assert.are_not.same(draws[1], draws[2])
    assert.are.same(expected, lurn.rand{2}:totable())
    assert.has_error(function()
      data_parallel.with_rank_stream({rank = 0, size = 2}, function() error("inside", 0) end)
    end, "inside")
    assert.are.same(64, #core.rng_state())
  end)
end)
