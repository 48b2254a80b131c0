-- lurn.datasets: Fashion-MNIST from Debian's package, MNIST-format folders given by
-- path= or LURN_DATA, and the errors for missing, damaged or mismatched files.
local lurn = require "lurn"

local DEBIAN = "/usr/share/datasets/fashion-mnist"
local have_debian = io.open(DEBIAN .. "/train-labels-idx1-ubyte.gz", "rb")
if have_debian then have_debian:close() end

-- Bytes of an IDX file of unsigned bytes with the given sizes and values.
local function idx_bytes(shape, values)
  local parts = {string.char(0, 0, 8, #shape)}
  for _, n in ipairs(shape) do parts[#parts + 1] = string.pack(">I4", n) end
  parts[#parts + 1] = string.char(table.unpack(values))
  return table.concat(parts)
end

local function write(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read "a"
  f:close()
  return s
end

local function sh(cmd)
  assert(os.execute(cmd), cmd)
end

local function temp_dir()
  local dir = os.tmpname()
  os.remove(dir)
  sh("mkdir -p '" .. dir .. "'")
  return dir
end

-- A tiny data set: 3 training and 2 test images of 2x2; images hold 0..255.
local function write_tiny(dir, opts)
  opts = opts or {}
  local train_labels = opts.train_labels or {9, 0, 4}
  write(dir .. "/train-images-idx3-ubyte", idx_bytes({3, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255}))
  write(dir .. "/train-labels-idx1-ubyte", idx_bytes({#train_labels}, train_labels))
  write(dir .. "/t10k-images-idx3-ubyte", idx_bytes({2, 2, 2}, {255, 254, 253, 252, 0, 0, 0, 0}))
  write(dir .. "/t10k-labels-idx1-ubyte", idx_bytes({2}, {1, 2}))
  if opts.gzip then sh("gzip -f '" .. dir .. "'/*-ubyte") end
end

local function count_labels(y)
  local counts = {}
  for c = 0, 9 do counts[c + 1] = y:eq(c):sum() end
  return counts
end

describe("lurn.datasets.fashion_mnist", function()
  if have_debian then
    it("loads Debian's Fashion-MNIST as Keras does", function()
      local x_train, y_train, x_test, y_test = lurn.datasets.fashion_mnist.load_data()
      assert.same({60000, 28, 28}, x_train:shape())
      assert.same({60000}, y_train:shape())
      assert.same({10000, 28, 28}, x_test:shape())
      assert.same({10000}, y_test:shape())
      for _, x in ipairs{x_train, x_test} do
        assert.equal(0, x:min())
        assert.equal(255, x:max())
      end
      for _, y in ipairs{y_train, y_test} do
        assert.equal(0, y:min())
        assert.equal(9, y:max())
      end
      assert.same({6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000}, count_labels(y_train))
      assert.same({1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}, count_labels(y_test))
    end)
  end

  it("reads a folder given by path=, plain or gzip'd", function()
    for _, gzip in ipairs{false, true} do
      local dir = temp_dir()
      write_tiny(dir, {gzip = gzip})
      local x_train, y_train, x_test, y_test = lurn.datasets.fashion_mnist.load_data{path = dir}
      assert.same({{{0, 1}, {2, 3}}, {{4, 5}, {6, 7}}, {{8, 9}, {10, 255}}}, x_train:totable())
      assert.same({9, 0, 4}, y_train:totable())
      assert.same({2, 2, 2}, x_test:shape())
      assert.same({1, 2}, y_test:totable())
      sh("rm -rf '" .. dir .. "'")
    end
  end)

  it("names the missing file and the package to install", function()
    local dir = temp_dir()
    local ok, err = pcall(lurn.datasets.fashion_mnist.load_data, {path = dir .. "/absent"})
    assert.is_false(ok)
    assert.matches(dir .. "/absent/train-images-idx3-ubyte.gz not found", err, 1, true)
    assert.matches("apt-get install dataset-fashion-mnist", err, 1, true)
    sh("rm -rf '" .. dir .. "'")
  end)

  it("names a truncated .gz file", function()
    local dir = temp_dir()
    write_tiny(dir, {gzip = true})
    local file = dir .. "/t10k-images-idx3-ubyte.gz"
    local gz = read(file)
    write(file, gz:sub(1, #gz // 2))
    local ok, err = pcall(lurn.datasets.fashion_mnist.load_data, {path = dir})
    assert.is_false(ok)
    assert.matches(file .. ": truncated", err, 1, true)
    assert.matches("dataset-fashion-mnist", err, 1, true)
    sh("rm -rf '" .. dir .. "'")
  end)

  it("rejects labels out of 0..9 and counts that do not match", function()
    local dir = temp_dir()
    write_tiny(dir, {train_labels = {9, 10, 4}})
    local ok, err = pcall(lurn.datasets.fashion_mnist.load_data, {path = dir})
    assert.is_false(ok)
    assert.matches(dir .. "/train-labels-idx1-ubyte has labels from 4 to 10; expected whole numbers 0..9", err, 1, true)
    write_tiny(dir, {train_labels = {1, 2}})
    ok, err = pcall(lurn.datasets.fashion_mnist.load_data, {path = dir})
    assert.is_false(ok)
    assert.matches("train-images-idx3-ubyte has 3 images but " .. dir .. "/train-labels-idx1-ubyte has 2 labels",
      err, 1, true)
    sh("rm -rf '" .. dir .. "'")
  end)

  it("rejects options that are not a table with a string path", function()
    assert.error_matches(function() lurn.datasets.fashion_mnist.load_data(3) end, "expected a table of options")
    assert.error_matches(function() lurn.datasets.fashion_mnist.load_data{path = 3} end, "path must be a folder name")
  end)

  it("points its errors at the caller's line", function()
    local ok, err = pcall(function() lurn.datasets.mnist.load_data{path = 3} end)
    local line = debug.getinfo(1, "l").currentline - 1
    assert.is_false(ok)
    assert.truthy(err:find("^[^\n]*datasets_spec%.lua:" .. line .. ": mnist%.load_data: path must be"), err)
  end)

  it("reads LURN_DATA/fashion-mnist when LURN_DATA is set", function()
    local root = temp_dir()
    sh("mkdir '" .. root .. "/fashion-mnist'")
    write_tiny(root .. "/fashion-mnist", {gzip = true})
    local lurn_exe = (os.getenv "LURN_BUILD_DIR" or "build") .. "/lurn"
    local p = assert(io.popen("LURN_DATA='" .. root .. "' '" .. lurn_exe .. "' -e "
      .. "'local x, y = lurn.datasets.fashion_mnist.load_data(); print(x:size(1), y:sum())' 2>&1"))
    local out = p:read "a"
    p:close()
    assert.equal("3\t13.0\n", out)
    sh("rm -rf '" .. root .. "'")
  end)
end)

describe("lurn.datasets.mnist", function()
  it("reads the same format from a folder given by path=", function()
    local dir = temp_dir()
    write_tiny(dir, {gzip = true})
    local x_train, y_train, x_test, y_test = lurn.datasets.mnist.load_data{path = dir}
    assert.same({3, 2, 2}, x_train:shape())
    assert.same({9, 0, 4}, y_train:totable())
    assert.same({255, 254}, x_test:select(1, 1):select(1, 1):totable())
    assert.same({1, 2}, y_test:totable())
    sh("rm -rf '" .. dir .. "'")
  end)

  it("asks for a folder when neither path= nor LURN_DATA names one", function()
    if os.getenv "LURN_DATA" then return end
    assert.error_matches(function() lurn.datasets.mnist.load_data() end, "pass path= a folder")
  end)
end)

describe("lurn.core.load_idx", function()
  it("raises an error naming a file that is not IDX", function()
    local dir = temp_dir()
    write(dir .. "/text", "hello, world")
    assert.error_matches(function() lurn.core.load_idx(dir .. "/text") end,
      dir .. "/text: not an IDX file (bad magic 0x68656c6c)", 1, true)
    sh("rm -rf '" .. dir .. "'")
  end)
end)
