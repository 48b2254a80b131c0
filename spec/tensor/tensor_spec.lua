-- Tensors from Lua: construction, access, views, math, reductions, errors.
local lurn = require "lurn"

local function near(a, b, tol)
  return math.abs(a - b) <= (tol or 1e-6)
end

-- Element-by-element comparison of nested tables of float32 values.
local function assert_close(expected, actual, tol)
  if type(expected) == "table" then
    assert.equal(#expected, #actual)
    for i = 1, #expected do assert_close(expected[i], actual[i], tol) end
  else
    assert(near(expected, actual, tol or 1e-6), ("expected %.9g, got %.9g"):format(expected, actual))
  end
end

describe("lurn.tensor", function()
  it("builds from nested tables and reads back with 1-based positions", function()
    local t = lurn.tensor{{1, 2, 3}, {4, 5, 6}}
    assert.same({2, 3}, t:shape())
    assert.equal(2, t:dim())
    assert.equal(6, t:numel())
    assert.equal(2, #t)
    assert.equal(6, t:get(2, 3))
    assert.same({{1, 2, 3}, {4, 5, 6}}, t:totable())
    t:set(1, 2, -7)
    assert.equal(-7, t:get(1, 2))
  end)

  it("rejects ragged tables and non-numbers with the position", function()
    assert.has_error(function() lurn.tensor{{1, 2}, {3}} end,
      "tensor: ragged nested table: row [2] has 1 elements, expected 2")
    assert.error_matches(function() lurn.tensor{{1, "x"}} end, "element %[1%]%[2%] is a string")
  end)

  it("creates zeros, ones, full, arange", function()
    assert.same({{0, 0}, {0, 0}}, lurn.zeros{2, 2}:totable())
    assert.same({1, 1, 1}, lurn.ones(3):totable())
    assert.same({{2.5, 2.5}}, lurn.full({1, 2}, 2.5):totable())
    assert.same({0, 1, 2, 3}, lurn.arange(4):totable())
    assert.same({1, 3}, lurn.arange(1, 5, 2):totable())
  end)

  it("repeats random numbers for the same seed", function()
    lurn.manual_seed(123)
    local a = lurn.randn{4, 5}
    local u = lurn.rand{1000}
    lurn.manual_seed(123)
    assert.same(a:totable(), lurn.randn{4, 5}:totable())
    assert.is_true(u:min() >= 0 and u:max() < 1)
    assert.is_true(near(u:mean(), 0.5, 0.05))
  end)

  it("raises on out-of-range positions, naming the shape", function()
    local t = lurn.zeros{2, 3}
    assert.has_error(function() t:get(3, 1) end, "position 3 out of range 1..2 in dimension 1 of shape (2, 3)")
    assert.has_error(function() t:get(1) end, "expected 2 positions for a tensor of shape (2, 3), got 1")
    assert.error_matches(function() lurn.zeros{-1} end, "sizes must be >= 0")
  end)

  it("raises an error, not a crash, when memory cannot be had", function()
    assert.error_matches(function() lurn.zeros{1000000, 1000000} end, "out of memory allocating a tensor of shape %(1000000, 1000000%)")
    assert.error_matches(function() lurn.zeros{2 ^ 40, 2 ^ 40} end, "too large")
  end)
end)

describe("views", function()
  it("share storage for transpose, narrow, select and reshape", function()
    local t = lurn.arange(6):reshape(2, 3)
    local tt = t:transpose()
    assert.same({3, 2}, tt:shape())
    assert.is_false(tt:is_contiguous())
    t:set(1, 2, 100)
    assert.equal(100, tt:get(2, 1))
    local col = t:narrow(2, 2, 2)
    assert.same({{100, 2}, {4, 5}}, col:totable())
    local row = t:select(1, 2)
    assert.same({3, 4, 5}, row:totable())
    row:fill(9)
    assert.same({9, 9, 9}, t:select(1, 2):totable())
    assert.same({3, 2}, t:reshape{-1, 2}:shape())
  end)

  it("explains t[i] and t[i] = v (numpy's indexing) at the user's line, and keeps unknown names nil", function()
    local t = lurn.zeros{3, 3}
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(function() t[3][2] = 1 end)
    assert.is_false(ok)
    assert.matches(":" .. line .. ": a tensor's elements are not read with t[i]: use t:get(i, j, ...) and t:set(", err,
                   1, true)
    ok, err = pcall(function() t[3] = 1 end)
    assert.is_false(ok)
    assert.matches("not assigned with t[i]", err, 1, true)
    assert.is_nil(t.no_such_method)
  end)

  it("returns a packed tensor itself from contiguous, as PyTorch does", function()
    local t = lurn.arange(6):reshape(2, 3)
    assert.is_true(rawequal(t, t:contiguous()))
    assert.is_false(rawequal(t:t(), t:t():contiguous()))
  end)

  it("copies with contiguous and copy", function()
    local t = lurn.arange(6):reshape(2, 3):t()
    local c = t:contiguous()
    assert.is_true(c:is_contiguous())
    assert.same(t:totable(), c:totable())
    local d = c:copy()
    d:set(1, 1, 42)
    assert.equal(0, c:get(1, 1))
    local dst = lurn.zeros{3, 2}
    dst:copy(c)
    assert.same(c:totable(), dst:totable())
  end)

  it("rejects a reshape to the wrong size with both shapes", function()
    assert.has_error(function() lurn.zeros{4, 6}:reshape(5, 5) end,
      "reshape: cannot view a tensor of shape (4, 6) (24 elements) as (5, 5)")
  end)

  it("gathers rows with index, cat and stack", function()
    local t = lurn.tensor{{1, 2}, {3, 4}, {5, 6}}
    assert.same({{5, 6}, {1, 2}}, t:index(1, {3, 1}):totable())
    assert.same({{2}, {4}, {6}}, t:index(2, lurn.tensor{2}):totable())
    assert.same({4, 2}, lurn.cat({t, t:narrow(1, 1, 1)}, 1):shape())
    assert.same({2, 3, 2}, lurn.stack{t, t}:shape())
    assert.error_matches(function() t:index(1, {4}) end, "position 4 out of range 1..3")
    local many = {}  -- past the 256 positions held on the C stack
    for i = 1, 300 do many[i] = 301 - i end
    assert.same({300, 1}, lurn.arange(300):reshape(300, 1):index(1, many):shape())
    assert.equal(299, lurn.arange(300):index(1, many):get(1))
    -- a (2, 2) output of the right shape, but transposed
    assert.error_matches(function() t:index(1, {1, 2}, lurn.zeros{2, 2}:t()) end, "the output must be contiguous")
  end)
end)

describe("math", function()
  it("broadcasts elementwise operators with tensors and numbers", function()
    local a = lurn.tensor{{1, 2, 3}, {4, 5, 6}}
    local b = lurn.tensor{10, 20, 30}
    assert.same({{11, 22, 33}, {14, 25, 36}}, (a + b):totable())
    assert.same({{-9, -18, -27}, {-6, -15, -24}}, (a - b):totable())
    assert.same({{2, 4, 6}, {8, 10, 12}}, (2 * a):totable())
    assert_close({{1, 0.5, 1 / 3}, {0.25, 0.2, 1 / 6}}, (1 / a):totable())
    assert.same({{1, 4, 9}, {16, 25, 36}}, (a ^ 2):totable())
    assert.same({{-1, -2, -3}, {-4, -5, -6}}, (-a):totable())
    assert.has_error(function() return a + lurn.zeros{2} end, "shapes (2, 3) and (2,) cannot be broadcast together")
  end)

  it("updates in place with add_, sub_, mul_ and div_, through views too", function()
    local t = lurn.arange(6):reshape(2, 3)
    assert.equal(t, t:div_(2))
    assert_close({{0, 0.5, 1}, {1.5, 2, 2.5}}, t:totable())
    t:t():add_(lurn.tensor{{10}, {20}, {30}})  -- a transposed view writes through
    assert_close({{10, 20.5, 31}, {11.5, 22, 32.5}}, t:totable())
    t:sub_(t:narrow(1, 1, 1))  -- overlapping operand: read before written
    assert_close({{0, 0, 0}, {1.5, 1.5, 1.5}}, t:totable())
    t:mul_(lurn.tensor{2, 0, 1})
    assert_close({{0, 0, 0}, {3, 0, 1.5}}, t:totable())
    assert.has_error(function() t:add_(lurn.zeros{3}:reshape(3, 1)) end,
      "in-place: shape (3, 1) cannot be broadcast to (2, 3)")
  end)

  it("has elementwise functions, comparisons and maximum", function()
    local x = lurn.tensor{-2, -0.5, 0, 3}
    assert.same({2, 0.5, 0, 3}, x:abs():totable())
    assert.same({0, 0, 0, 1}, x:gt(0):totable())
    assert_close({-0.02, -0.005, 0, 3}, lurn.maximum(x * 0.01, x):totable())
    assert.same({-1, -0.5, 0, 1}, x:clamp(-1, 1):totable())
    assert.is_true(near(lurn.exp(lurn.tensor{1}):get(1), math.exp(1), 1e-6))
    assert.is_true(near(lurn.tensor{4}:sqrt():get(1), 2))
    assert.same({0, 0, 0, 3}, x:relu():totable())
  end)

  it("reduces over everything or one dimension", function()
    local t = lurn.tensor{{1, 5, 3}, {4, 2, 6}}
    assert.equal(21, t:sum())
    assert.equal(3.5, t:mean())
    assert.equal(6, t:max())
    assert.equal(6, t:argmax())
    assert.same({5, 7, 9}, t:sum(1):totable())
    assert.same({{9}, {12}}, t:sum(2, true):totable())
    assert.same({2, 3}, t:argmax(2):totable())
    assert.same({1, 2}, t:argmin(2):totable())
    assert.is_true(near(t:var(), 17.5 / 6, 1e-6))
    assert.is_true(near(t:std(nil, nil, 1), math.sqrt(17.5 / 5), 1e-6))
    assert.same({2.25, 2.25, 2.25}, t:var(1):totable())
  end)

  it("multiplies matrices, transposed or not", function()
    local a = lurn.tensor{{1, 2, 3}, {4, 5, 6}}
    local b = lurn.tensor{{1, 0}, {0, 1}, {1, 1}}
    assert.same({{4, 5}, {10, 11}}, lurn.matmul(a, b):totable())
    assert.same({{14, 32}, {32, 77}}, lurn.matmul(a, a, false, true):totable())
    assert.same({{14, 32}, {32, 77}}, a:matmul(a:t()):totable())
    assert.has_error(function() lurn.matmul(a, a) end,
      "matmul: shapes (2, 3) and (2, 3) do not match (3 vs 2 inner)")
  end)

  it("points the errors of lurn's math functions at the caller's line", function()
    local a = lurn.zeros{2, 3}
    for _, name in ipairs{"matmul", "add", "maximum"} do
      local ok, err = pcall(function() local r = lurn[name](a, lurn.zeros{4, 5}); return r end)
      local line = debug.getinfo(1, "l").currentline - 1
      assert.is_false(ok)
      assert.truthy(err:find("^[^\n]*tensor_spec%.lua:" .. line .. ": "), err)
    end
  end)
end)

describe("printing", function()
  it("shows values, shape and dtype", function()
    assert.equal("tensor([[1., 2.],\n        [3., 4.]], shape=(2, 2), dtype=float32)",
      tostring(lurn.tensor{{1, 2}, {3, 4}}))
    assert.equal("tensor([ 0.5000, -1.2500], shape=(2,), dtype=float32)", tostring(lurn.tensor{0.5, -1.25}))
  end)

  it("elides the middle of large tensors", function()
    local s = tostring(lurn.arange(2000))
    assert.truthy(s:find("[   0.,    1.,    2., ..., 1997., 1998., 1999.]", 1, true))
  end)
end)

describe("npy files", function()
  it("round-trips a tensor and rejects a truncated file", function()
    local path = os.tmpname()
    local t = lurn.arange(12):reshape(3, 4) / 7
    t:save_npy(path)
    assert.same(t:totable(), lurn.load_npy(path):totable())
    local f = assert(io.open(path, "rb"))
    local bytes = f:read("a")
    f:close()
    f = assert(io.open(path, "wb"))
    f:write(bytes:sub(1, #bytes - 5))
    f:close()
    assert.error_matches(function() lurn.load_npy(path) end, "truncated .npy data")
    os.remove(path)
    assert.error_matches(function() lurn.load_npy(path) end, "cannot open")
  end)
end)

describe("settings", function()
  it("sets the thread count and reads a monotonic clock", function()
    lurn.set_num_threads(1)
    assert.same({1, "fixed"}, {lurn.get_num_threads()})
    local t0 = lurn.clock()
    assert.is_true(lurn.clock() >= t0)
  end)
  it("makes the count automatic again with \"auto\", and refuses other strings", function()
    lurn.set_num_threads("auto")
    local n, mode = lurn.get_num_threads()
    assert.equal("auto", mode)
    assert.is_true(n >= 1)
    local ok, err = pcall(lurn.set_num_threads, "many")
    assert.is_false(ok)
    assert.matches("auto", err, 1, true)
  end)
end)
