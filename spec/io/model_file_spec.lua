-- Model files that are damaged or hostile (docs/model-format.md): each is a clear error
-- naming the file and what is wrong, before anything is allocated from a size the file
-- cannot hold; and saves that fail leave the old file whole. Files are made by hand here,
-- with their own CRC-32, so that every check in src/io/model_file.c is reached past the
-- ones before it.
local lurn = require "lurn"
local core = require "lurn.core"
local L = lurn.layers

local dir
local function path_of(name)
  if not dir then
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p '" .. dir .. "'"))
  end
  return dir .. "/" .. name
end

local function write(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
  return path
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local s = p:read("a")
  p:close()
  return (s:gsub("%s+$", ""))
end

local function error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return tostring(err)
end

-- CRC-32 as zlib computes it.
local CRC = {}
for i = 0, 255 do
  local c = i
  for _ = 1, 8 do c = (c & 1) ~= 0 and (0xEDB88320 ~ (c >> 1)) or (c >> 1) end
  CRC[i] = c
end
local function crc32(s)
  local c = 0xFFFFFFFF
  for i = 1, #s do c = CRC[(c ~ s:byte(i)) & 0xFF] ~ (c >> 8) end
  return c ~ 0xFFFFFFFF
end

-- A model file from {{name, payload}, ...}, with version and count as given (defaults: 1
-- and the number of sections).
local function container(sections, version, count)
  local parts = {string.pack("<c8I4I4", "LURNMODL", version or 1, count or #sections)}
  for _, s in ipairs(sections) do
    parts[#parts + 1] = string.pack("<s4I8I4", s[1], #s[2], crc32(s[1] .. s[2])) .. s[2]
  end
  return table.concat(parts)
end

-- The sections of a file lurn wrote, in order.
local function sections_of(bytes)
  local n, at = string.unpack("<I4", bytes, 13)
  local out = {}
  for i = 1, n do
    local name, size
    name, size, at = string.unpack("<s4I8", bytes, at)
    at = at + 4
    out[i] = {name, bytes:sub(at, at + size - 1)}
    at = at + size
  end
  return out
end

local function with(sections, name, payload)
  local out = {}
  for i, s in ipairs(sections) do out[i] = {s[1], s[1] == name and payload or s[2]} end
  return out
end

local function without(sections, name)
  local out = {}
  for _, s in ipairs(sections) do if s[1] ~= name then out[#out + 1] = s end end
  return out
end

-- A tensor-list payload with one tensor of this name, raw dims and value bytes.
local function tensor_list(count, name, dims, values)
  local parts = {string.pack("<I4s4I4", count, name, #dims)}
  for _, d in ipairs(dims) do parts[#parts + 1] = string.pack("<i8", d) end
  parts[#parts + 1] = values or ""
  return table.concat(parts)
end

local good, model
local function load(bytes, name)
  return error_of(lurn.models.load_model, write(path_of(name or "bad.lurn"), bytes))
end

describe("a damaged or hostile model file", function()
  setup(function()
    lurn.manual_seed(1)
    model = lurn.Sequential{L.Dense(3, {input_shape = {4}}), L.Dense(2)}
    model:compile{optimizer = "adam", loss = "mse"}
    model:fit(lurn.randn{8, 4}, lurn.randn{8, 2}, {epochs = 1, verbose = 0})
    model:save(path_of("good.lurn"))
    good = read(path_of("good.lurn"))
  end)

  it("reads back when whole, and the hand-made container is the same bytes", function()
    assert.equal(good, container(sections_of(good)))
    assert.is_table(lurn.models.load_model(path_of("good.lurn")))
  end)

  it("another file: not a lurn model file", function()
    assert.matches("bad.lurn: not a lurn model file", load("\x93NUMPY\1\0 hello"), 1, true)
    assert.matches("not a lurn model file", load(""))
  end)

  it("truncated anywhere: names the file and says truncated", function()
    for _, cut in ipairs{12, 16, 19, 30, 100, #good - 1} do
      local err = load(good:sub(1, cut))
      assert.matches("bad.lurn: truncated model file", err, 1, true)
    end
  end)

  it("bytes after the last section", function()
    assert.matches("bad.lurn: 3 bytes after the last section", load(good .. "xyz"), 1, true)
  end)

  it("another version", function()
    assert.matches("bad.lurn: model file version 2; this lurn reads version 1",
      load(container(sections_of(good), 2)), 1, true)
  end)

  it("a huge section count", function()
    assert.matches("bad.lurn: the header declares 4294967295 sections (at most 64)",
      load(container({}, 1, 0xFFFFFFFF)), 1, true)
  end)

  it("a section length beyond the file (2^64 - 1 bytes)", function()
    local bytes = string.pack("<c8I4I4s4I8I4", "LURNMODL", 1, 1, "weights", -1, 0) .. "abc"
    assert.matches("section 'weights' declares 18446744073709551615 bytes, 3 are left", load(bytes), 1, true)
  end)

  it("a bad section name", function()
    local bytes = string.pack("<c8I4I4s4I8I4", "LURNMODL", 1, 1, "Bad Name", 0, 0)
    assert.matches("bad.lurn: section 1 of 1 has a name that is not a-z, 0-9 and _", load(bytes), 1, true)
    bytes = string.pack("<c8I4I4I4", "LURNMODL", 1, 1, 0xFFFFFFF0)
    assert.matches("section 1 of 1 has a name length of 4294967280 bytes", load(bytes), 1, true)
  end)

  it("a checksum that does not match: one flipped byte", function()
    local at = #good - 10
    local flipped = good:sub(1, at - 1) .. string.char(good:byte(at) ~ 1) .. good:sub(at + 1)
    assert.matches("bad.lurn: section '.-' is corrupted %(its CRC%-32 does not match%)", load(flipped))
  end)

  it("a section repeated", function()
    local s = sections_of(good)
    s[#s + 1] = s[1]
    assert.matches("bad.lurn: section 'model_config' appears twice", load(container(s)), 1, true)
  end)

  it("a section missing", function()
    local s = sections_of(good)
    assert.matches("bad.lurn: the model file has no 'weights' section", load(container(without(s, "weights"))), 1,
      true)
    assert.matches("bad.lurn: the model file has no 'model_config' section",
      load(container(without(s, "model_config"))), 1, true)
    assert.matches("bad.lurn: the model file has no 'optimizer_state' section",
      load(container(without(s, "optimizer_state"))), 1, true)
    -- the training sections come together: without the compile settings the others are
    -- not quietly dropped
    assert.matches("bad.lurn: the model file has no 'training_config' section (training_config, optimizer_state "
      .. "and training_state come together)", load(container(without(s, "training_config"))), 1, true)
  end)

  it("a layer type that does not exist", function()
    local cfg = sections_of(good)[1][2]:gsub('"class_name":"Dense"', '"class_name":"Bogus"', 1)
    local err = load(container(with(sections_of(good), "model_config", cfg)))
    assert.matches("bad.lurn: the architecture cannot be rebuilt: .*unknown layer class 'Bogus'", err)
  end)

  it("an architecture asking for more weights than the file holds: refused before it is allocated", function()
    local s = sections_of(good)
    for _, units in ipairs{"1099511627776", "100000", "4"} do  -- 2^40; a lot; one more than saved
      local cfg = s[1][2]:gsub('"units":3', '"units":' .. units, 1)
      local err = load(container(with(s, "model_config", cfg)))
      assert.matches("bad.lurn: the architecture cannot be rebuilt: .*the model file has left for it", err)
    end
    -- and a model file that fits is still read, with no limit left behind
    assert.is_table(lurn.models.load_model(path_of("good.lurn")))
    assert.equal(-1, core.param_budget())
    assert.equal(7, core.with_param_budget(8, function() return 7 end))
    assert.matches("boom", error_of(core.with_param_budget, 8, function() error("boom") end))
    assert.equal(-1, core.param_budget())
    local big = lurn.Sequential{L.Dense(100, {input_shape = {100}})}
    assert.equal(10100, big:count_params())
  end)

  it("an unknown model class, and plain data that is not JSON", function()
    local cfg = sections_of(good)[1][2]:gsub('"class_name":"Sequential"', '"class_name":"os.execute"', 1)
    assert.matches("unknown model class 'os.execute'", load(container(with(sections_of(good), "model_config", cfg))))
    local err = load(container(with(sections_of(good), "model_config", "return os.exit(1)")))
    assert.matches("bad.lurn: section 'model_config' is not valid plain data: unexpected character 'r' at byte 1",
      err, 1, true)
    err = load(container(with(sections_of(good), "training_state", '{"a":1,"a":2}')))
    assert.matches("section 'training_state' is not valid plain data: the name 'a' appears twice", err, 1, true)
    err = load(container(with(sections_of(good), "model_config", string.rep("[", 5000))))
    assert.matches("tables nested more than 100 deep", err, 1, true)
  end)

  it("a tensor list with a huge count, negative or overflowing sizes, too many dimensions, or short data", function()
    local s = sections_of(good)
    local function with_weights(payload) return load(container(with(s, "weights", payload))) end
    assert.matches("section 'weights' declares 4294967295 tensors, more than its",
      with_weights(tensor_list(0xFFFFFFFF, "a/b", {1})), 1, true)
    assert.matches("tensor 'a/b' has a negative size in dimension 2",
      with_weights(tensor_list(1, "a/b", {3, -1}, string.rep("\0", 64))), 1, true)
    assert.matches("tensor 'a/b' has a shape whose size overflows",
      with_weights(tensor_list(1, "a/b", {1 << 40, 1 << 40}, string.rep("\0", 64))), 1, true)
    assert.matches("tensor 'a/b' has 9 dimensions (1 to 8)",
      with_weights(tensor_list(1, "a/b", {1, 1, 1, 1, 1, 1, 1, 1, 1}, string.rep("\0", 64))), 1, true)
    assert.matches("tensor 'a/b' declares 1000000000000 values (4000000000000 bytes), 8 bytes are left",
      with_weights(tensor_list(1, "a/b", {1000000, 1000000}, string.rep("\0", 8))), 1, true)
    assert.matches("section 'weights' has 4 bytes after its last tensor",
      with_weights(tensor_list(1, "a/b", {1}, "\0\0\0\0\0\0\0\0")), 1, true)
  end)

  it("weights of the wrong shape or number", function()
    local s = sections_of(good)
    local err = load(container(with(s, "weights", tensor_list(1, "dense/kernel", {1}, "\0\0\0\0"))))
    assert.matches("bad.lurn: the architecture cannot be rebuilt: .*Dense: its kernel would hold more values "
      .. "than the 1 the model file has left for it", err)
    local m = lurn.Sequential{L.Dense(3, {input_shape = {4}}), L.Dense(2)}
    err = error_of(m.load_weights, m, write(path_of("one.lurn"), container({{"weights",
      tensor_list(1, "dense/kernel", {1}, "\0\0\0\0")}})))
    assert.matches("one.lurn: the file holds 1 weights, model '.-' has 4", err)
    -- as many values as the model's, one kernel transposed
    local names, tensors = core.decode_tensors("x", "weights", s[2][2])
    tensors[1] = tensors[1]:t():contiguous()
    err = load(container(with(s, "weights", core.encode_tensors(names, tensors))))
    assert.matches("bad.lurn: weight 1 '.-/kernel' has shape %(3, 4%) in the file, but the model's '.-/kernel' has "
      .. "shape %(4, 3%)", err)
  end)

  it("optimizer slots that fit no weight", function()
    local s = sections_of(good)
    local err = load(container(with(s, "optimizer_state", tensor_list(2, "slot_1", {7}, string.rep("\0", 28))
      :sub(1, 4 + 4 + 6 + 4 + 8 + 28) .. string.pack("<s4I4i8", "slot_2", 1, 7) .. string.rep("\0", 28))))
    assert.matches("section 'optimizer_state': slot 1 (7 values) fits none of the model's weights", err, 1, true)
  end)

  it("a bad random state", function()
    local s = sections_of(good)
    local state = s[5][2]:gsub('"rng":"%x+"', '"rng":"zz"')
    assert.equal("training_state", s[5][1])
    assert.matches("bad.lurn: section 'training_state': rng: .*64 hexadecimal digits",
      load(container(with(s, "training_state", state))))
  end)

  it("a device that never ends and is no model file (/dev/zero): refused after its first bytes", function()
    assert.matches("/dev/zero: not a lurn model file", error_of(lurn.models.load_model, "/dev/zero"), 1, true)
  end)

  it("a model file through a pipe (a FIFO) reads as from a file", function()
    local fifo = path_of("fifo.lurn")
    assert(os.execute("mkfifo '" .. fifo .. "'"))
    assert(os.execute("cat '" .. path_of("good.lurn") .. "' > '" .. fifo .. "' &"))
    local m = lurn.models.load_model(fifo)
    assert.same(model:get_weights()[1]:totable(), m:get_weights()[1]:totable())
  end)

  it("a missing file or a directory: named", function()
    assert.matches("nope.lurn", error_of(lurn.models.load_model, path_of("nope.lurn")))
    assert.matches(dir, error_of(lurn.models.load_model, dir), 1, true)
  end)

  it("never changes the model load_weights was given", function()
    local m = lurn.Sequential{L.Dense(3, {input_shape = {4}}), L.Dense(2)}
    local before = m:get_weights()[1]:totable()
    error_of(m.load_weights, m, write(path_of("cut.lurn"), good:sub(1, #good - 3)))
    assert.same(before, m:get_weights()[1]:totable())
  end)
end)

describe("a failed save", function()
  it("leaves the old file whole and no temporary file (a write limit in a child)", function()
    local path = path_of("limited.lurn")
    model:save(path)
    local before = read(path)
    local script = write(path_of("save_big.lua"), ("local lurn = require 'lurn'\n"
      .. "local m = lurn.Sequential{lurn.layers.Dense(300, {input_shape = {300}})}\n"
      .. "local ok, e = pcall(m.save, m, %q)\n"
      .. "io.write(ok and 'saved' or e)\n"):format(path))
    -- files limited to 1 block of 512 bytes, SIGXFSZ ignored: write() fails part-way
    local out = sh("sh -c \"trap '' XFSZ; ulimit -f 1; exec lua5.4 '" .. script .. "'\" 2>&1")
    assert.matches("limited.lurn: cannot write: File too large", out, 1, true)
    assert.equal(before, read(path))
    assert.equal("", sh("ls -A '" .. dir .. "' | grep '^\\.lurn-' || true"))
  end)

  it("in a directory that does not exist, or is read-only: names the path and the cause", function()
    local err = error_of(model.save, model, path_of("no/such/dir/m.lurn"))
    assert.matches("no/such/dir/m.lurn", err, 1, true)
    assert.matches("No such file or directory", err, 1, true)
    -- a read-only directory, with an old file in it: root writes anywhere, so as root the
    -- save runs in a child as the user nobody (setpriv)
    local ro = path_of("ro")
    assert(os.execute("mkdir -p '" .. ro .. "'"))
    model:save_weights(ro .. "/w.lurn")
    local before = read(ro .. "/w.lurn")
    assert(os.execute("chmod 555 '" .. ro .. "'"))
    if sh("id -u") == "0" then
      local script = write(path_of("save_ro.lua"), ("local lurn = require 'lurn'\n"
        .. "local m = lurn.Sequential{lurn.layers.Dense(2, {input_shape = {2}})}\n"
        .. "local ok, e = pcall(m.save_weights, m, %q)\n"
        .. "io.write(ok and 'saved' or e)\n"):format(ro .. "/w.lurn"))
      assert(os.execute("chmod 755 '" .. dir .. "' && chmod 644 '" .. script .. "'"))
      err = sh("setpriv --reuid=65534 --regid=65534 --clear-groups lua5.4 '" .. script .. "' 2>&1")
    else
      err = error_of(model.save_weights, model, ro .. "/w.lurn")
    end
    assert(os.execute("chmod 755 '" .. ro .. "'"))
    assert.matches("ro/w.lurn: cannot create a temporary file beside it: Permission denied", err, 1, true)
    assert.equal(before, read(ro .. "/w.lurn"))
  end)

  it("to a full disk (/dev/full): names the path and the cause", function()
    local f = io.open("/dev/full", "wb")
    if not f then
      pending("no /dev/full here")
      return
    end
    f:close()
    assert.matches("/dev/full: cannot write: No space left on device", error_of(model.save, model, "/dev/full"), 1,
      true)
  end)

  it("to a directory: refused, named", function()
    assert.matches("cannot write: it is a directory", error_of(model.save, model, dir), 1, true)
  end)
end)

describe("the plain data of model files", function()
  local json = require "lurn.models.json"
  it("round-trips integers, doubles, infinities, NaN, strings with any bytes", function()
    local v = {a = 1, b = 0.1, c = {1.5, -2, math.huge, -math.huge, 1e300, 5e-324}, d = "q\"\\\n\1\127é", e = true,
               f = false, g = {}, big = math.maxinteger, small = math.mininteger, whole = 3.0}
    local back = assert(json.decode(json.encode(v)))
    assert.same(v, back)
    assert.equal("float", math.type(back.whole))
    assert.equal("integer", math.type(back.a))
    local nan = json.decode(json.encode({0 / 0}))[1]
    assert.is_true(nan ~= nan)
  end)

  it("refuses what it cannot write, naming where", function()
    assert.matches("training_config.loss.fn is a function", select(2, pcall(json.encode, {loss = {fn = print}},
      "training_config")), 1, true)
    assert.matches("x mixes list positions and names", select(2, pcall(json.encode, {1, a = 2}, "x")), 1, true)
    assert.matches("x[1] is a userdata, which plain data cannot hold", select(2, pcall(json.encode, {io.stdout},
      "x")), 1, true)
    assert.matches("x[1] is a tensor (t:totable() gives its numbers), which plain data cannot hold",
      select(2, pcall(json.encode, {lurn.zeros(1)}, "x")), 1, true)
    assert.matches("x.t is an object", select(2, pcall(json.encode, {t = setmetatable({}, {})}, "x")), 1, true)
  end)

  it("refuses null, bad escapes and trailing text", function()
    assert.is_nil((json.decode("null")))
    assert.matches("text after the value", select(2, json.decode("{} x")), 1, true)
    assert.matches("bad escape", select(2, json.decode('"\\q"')), 1, true)
    assert.matches("unterminated string", select(2, json.decode('"abc')), 1, true)
  end)

  it("the container writer refuses a bad name or the same name twice", function()
    assert.matches("section name 'A' is not", error_of(core.model_file_write, path_of("n.lurn"), {{"A", ""}}), 1, true)
    assert.matches("section 'a' given twice",
      error_of(core.model_file_write, path_of("n.lurn"), {{"a", ""}, {"a", ""}}), 1, true)
  end)
end)
