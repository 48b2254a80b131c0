-- OpenMP settings in the environment must not change lurn's numbers: with OMP_DYNAMIC=true
-- or an OMP_THREAD_LIMIT, OpenMP may give a parallel region fewer threads than asked, and
-- work planned per thread (oneDNN's products, per-band statistics) would be left undone.
-- Each case runs a fresh lua5.4 (the settings are read when OpenMP starts).
local SCRIPT = [[
local lurn = require "lurn"
local product = lurn.matmul(lurn.ones(100, 100), lurn.ones(100, 100)):sum()
local m = lurn.Sequential({lurn.layers.ReLU({input_shape = {64}})})
m:compile({loss = "mse", optimizer = "sgd"})
local x = lurn.ones(4096, 64)
x:narrow(1, 1, 3072):narrow(2, 1, 8):fill(0)
local row = m:layer_stats(x, x)[1]
io.write(string.format("%.17g %.17g %.17g\n", product, row.act_mean, row.dead_fraction))
]]

local function run(env)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(SCRIPT)
  f:close()
  local p = assert(io.popen(env .. " lua5.4 " .. path .. " 2>&1"))
  local out = p:read("a")
  p:close()
  os.remove(path)
  return out
end

describe("OpenMP settings from the environment", function()
  -- 1 - 8 * 3072 / (4096 * 64) of the ones survive; no unit is zero in every row
  local want = string.format("%.17g %.17g %.17g\n", 1e6, 1 - 8 * 3072 / (4096 * 64), 0)
  it("OMP_DYNAMIC=true leaves products and statistics whole", function()
    assert.are.equal(want, run("OMP_DYNAMIC=true OMP_NUM_THREADS=2"))
  end)
  it("OMP_THREAD_LIMIT=1 leaves products and statistics whole", function()
    assert.are.equal(want, run("OMP_THREAD_LIMIT=1 OMP_NUM_THREADS=2"))
  end)
end)
