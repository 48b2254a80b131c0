-- lurn.distributed as one process (no mpirun, whether or not lurn was built with MPI):
-- rank 0 of 1, collectives that leave their tensors, map and map_all running every config
-- here with the results as plain data, and errors at the user's line.
-- spec/integration/mpi_*.sh run the same calls under mpirun.
local lurn = require "lurn"
local d = lurn.distributed

describe("lurn.distributed in one process", function()
  it("is rank 0 of 1, the main rank, and init may be called again", function()
    d.init()
    assert.equal(0, d.rank())
    assert.equal(1, d.size())
    assert.is_true(d.is_main())
    assert.is_boolean(d.built())
    d.barrier()
  end)

  it("leaves allreduce's and broadcast's tensors as they are and returns them", function()
    local t = lurn.tensor{{1, 2}, {3, 4}}
    assert.equal(t, d.allreduce(t))
    assert.same({{1, 2}, {3, 4}}, t:totable())
    assert.equal(t, d.broadcast(t, 0))
    assert.same({{1, 2}, {3, 4}}, d.broadcast(t):totable())
  end)

  it("refuses tensors it cannot write in place and roots that are not ranks, at the caller's line", function()
    local t = lurn.tensor{{1, 2}, {3, 4}}
    local ok, err = pcall(function() return d.allreduce(t:t()) end)
    assert.is_false(ok)
    assert.matches("distributed_spec.lua:%d+: allreduce writes the tensor in place: give a contiguous one", err)
    ok, err = pcall(function() return d.broadcast(t, 1) end)
    assert.matches("distributed_spec.lua:%d+: broadcast: root must be a rank of the job, 0 .. 0, got 1", err)
    ok, err = pcall(function() return d.allreduce({1, 2}) end)
    assert.is_false(ok)
    assert.matches("distributed_spec.lua:%d+: allreduce: the first argument must be a tensor, got table", err)
  end)

  it("maps every config in order with its position, the results as plain data", function()
    local seen = {}
    local got = d.map({"a", "b", "c"}, function(c, i)
      seen[#seen + 1] = i
      return {name = c, i = i, nested = {x = 0.1, big = 2 ^ 60, int = 7, ok = true, nan = 0 / 0}}
    end)
    assert.same({1, 2, 3}, seen)
    assert.equal(3, #got)
    assert.equal("c", got[3].name)
    assert.equal(0.1, got[1].nested.x)
    assert.equal("integer", math.type(got[2].nested.int))
    assert.is_true(got[2].nested.nan ~= got[2].nested.nan)
    assert.same(got, d.map_all({"a", "b", "c"}, function(c, i)
      return {name = c, i = i, nested = {x = 0.1, big = 2 ^ 60, int = 7, ok = true, nan = 0 / 0}}
    end) and got)
    assert.same({}, d.map({}, function() error("never called") end))
    local holes = d.map({1, 2, 3}, function(c) if c ~= 2 then return c end end)
    assert.same({[1] = 1, [3] = 3}, holes)
  end)

  it("gives the same results as values copied through plain data, never objects", function()
    local ok, err = pcall(function() local r = d.map({1}, function() return {model = function() end} end); return r end)
    assert.is_false(ok)
    assert.matches("distributed_spec.lua:%d+: lurn.distributed.map: config 1 failed on rank 0 of 1: the result of "
      .. "config 1.model is a function", err)
    ok, err = pcall(function() local r = d.map({1}, function() return lurn.ones{2} end); return r end)
    assert.matches("config 1 failed on rank 0 of 1: the result of config 1 is .*plain data", err)
  end)

  it("reports the config, the rank and fn's own message, and stops at the first error", function()
    local ran = {}
    local ok, err = pcall(function()
      local r = d.map({10, 20, 30}, function(c, i)
        ran[#ran + 1] = i
        if c == 20 then error("no data for " .. c) end
        return c
      end)
      return r
    end)
    assert.is_false(ok)
    assert.matches("distributed_spec.lua:%d+: lurn.distributed.map: config 2 failed on rank 0 of 1: "
      .. ".*distributed_spec.lua:%d+: no data for 20", err)
    assert.same({1, 2}, ran)
    ok, err = pcall(function() local r = d.map_all({1}, function() error({code = 3}) end); return r end)
    assert.matches("lurn.distributed.map_all: config 1 failed on rank 0 of 1: %(error object is a table value%)", err)
  end)

  -- map raises at the level of its caller (called in a tail call, the caller's frame is gone)
  it("checks its arguments at the caller's line", function()
    local ok, err = pcall(function() local r = d.map(5, print); return r end)
    assert.matches("distributed_spec.lua:%d+: lurn.distributed.map: configs must be a list, got number", err)
    ok, err = pcall(function() local r = d.map({1}, "f"); return r end)
    assert.matches("distributed_spec.lua:%d+: lurn.distributed.map: fn must be a function%(config, i%), got string", err)
  end)
end)
