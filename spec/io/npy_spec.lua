-- lurn.load_npy and t:save_npy on hostile input: headers read as numpy reads them, sizes
-- checked against the file before memory is asked for, and saves that never replace a
-- FIFO or a device, keep modes and links, and handle names at NAME_MAX. FIFOs and device
-- nodes are made in a temporary directory, never the machine's own.
local lurn = require "lurn"

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

-- A version 1.0 .npy file with this header dict and data, padded as numpy pads.
local function npy(dict, data)
  local pad = (64 - (10 + #dict + 1) % 64) % 64
  local header = dict .. string.rep(" ", pad) .. "\n"
  return "\147NUMPY\1\0" .. string.pack("<I2", #header) .. header .. data
end

local function error_of(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return tostring(err)
end

describe("lurn.load_npy", function()
  teardown(function()
    if dir then os.execute("rm -rf '" .. dir .. "'") end
    dir = nil
  end)

  it("reads a repeated header key as numpy does: the last one wins", function()
    local path = write(path_of("repeated.npy"),
      npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'descr': '<f4', }", string.pack("<ff", 1.5, -2)))
    assert.same({1.5, -2}, lurn.load_npy(path):totable())
    -- also when an earlier value is one lurn cannot load: numpy reads only the last
    path = write(path_of("repeated2.npy"), npy("{'descr': '>f8', 'fortran_order': True, 'shape': (2,), "
      .. "'descr': '<f4', 'fortran_order': False, }", string.pack("<ff", 3, 4)))
    assert.same({3, 4}, lurn.load_npy(path):totable())
  end)

  it("loads bool bytes other than 0 and 1 as True (1), as numpy does", function()
    local path = write(path_of("bool.npy"),
      npy("{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }", "\0\1\2\255"))
    assert.same({0, 1, 1, 1}, lurn.load_npy(path):totable())
  end)

  it("checks the declared size against the file before allocating", function()
    -- 140 bytes that declare 2^33 float32 values (32 GiB)
    local path = write(path_of("liar.npy"),
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (8589934592,), }", string.rep("\0", 12)))
    assert.matches("liar.npy: truncated .npy data: expected 34359738368 bytes, found 12",
      error_of(lurn.load_npy, path))
    path = write(path_of("overflow.npy"),
      npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", ""))
    assert.matches("overflow.npy: .npy shape is too large", error_of(lurn.load_npy, path))
  end)

  it("rejects malformed headers, naming the file", function()
    local function header_error(name, dict)
      return error_of(lurn.load_npy, write(path_of(name), npy(dict, string.rep("\0", 16))))
    end
    assert.matches("extra.npy: .npy header has the unknown key 'x'",
      header_error("extra.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}"))
    assert.matches("noshape.npy: .npy header has no 'shape'",
      header_error("noshape.npy", "{'descr': '<f4', 'fortran_order': False}"))
    assert.matches("neg.npy: malformed .npy header: 'shape' holds a non%-integer",
      header_error("neg.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}"))
    assert.matches("tail.npy: malformed .npy header: text after the dict",
      header_error("tail.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x"))
    assert.matches("big.npy: big%-endian .npy arrays are not supported",
      header_error("big.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (2,)}"))
    assert.matches(": cannot read: Is a directory", error_of(lurn.load_npy, dir))
  end)

  it("reads a FIFO in bounded chunks and reports a short one as truncated", function()
    local fifo = path_of("in.fifo")
    assert(os.execute("mkfifo '" .. fifo .. "'"))
    local file = write(path_of("fifo_src.npy"), npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
      string.pack("<fff", 1, 2, 3)))
    assert(os.execute("timeout 10 cp '" .. file .. "' '" .. fifo .. "' &"))
    assert.same({1, 2, 3}, lurn.load_npy(fifo):totable())
    local liar = write(path_of("fifo_liar.npy"),
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (8589934592,), }", string.rep("\0", 12)))
    -- a FIFO of its own: the first writer may still hold in.fifo open after its last byte
    local fifo2 = path_of("in2.fifo")
    assert(os.execute("mkfifo '" .. fifo2 .. "'"))
    assert(os.execute("timeout 10 cp '" .. liar .. "' '" .. fifo2 .. "' &"))
    assert.matches("in2.fifo: truncated .npy data: expected 34359738368 bytes, found 12",
      error_of(lurn.load_npy, fifo2))
  end)
end)

describe("t:save_npy", function()
  local t = lurn.arange(6):reshape(2, 3)
  teardown(function()
    if dir then os.execute("rm -rf '" .. dir .. "'") end
    dir = nil
  end)

  it("writes through a FIFO to its reader and leaves the FIFO in place", function()
    local fifo = path_of("out.fifo")
    assert(os.execute("mkfifo '" .. fifo .. "'"))
    local reader = assert(io.popen("timeout 10 cat '" .. fifo .. "'"))
    t:save_npy(fifo)
    local bytes = reader:read("a")
    reader:close()
    assert.equal("\147NUMPY", bytes:sub(1, 6))
    assert.equal(128 + 24, #bytes)
    assert.equal("fifo", sh("stat -c %F '" .. fifo .. "'"):match("fifo"))
  end)

  it("writes through a character device and leaves it a device (root only: mknod)", function()
    local null = path_of("null")
    if not os.execute("mknod '" .. null .. "' c 1 3 2>/dev/null") then
      pending("mknod needs root")
      return
    end
    t:save_npy(null)
    assert.equal("character special file", sh("stat -c %F '" .. null .. "'"))
    assert.equal("1,3", sh("stat -c %t,%T '" .. null .. "'"))
    local full = path_of("full")
    assert(os.execute("mknod '" .. full .. "' c 1 7"))
    assert.matches("full: cannot write: No space left on device", error_of(t.save_npy, t, full))
    assert.equal("character special file", sh("stat -c %F '" .. full .. "'"))
  end)

  it("gives new files the umask's mode and keeps the mode of a file it replaces", function()
    local umask = tonumber(sh("umask"), 8)
    local path = path_of("mode.npy")
    t:save_npy(path)
    assert.equal(("%o"):format(0x1b6 & ~umask), sh("stat -c %a '" .. path .. "'"))
    assert(os.execute("chmod 604 '" .. path .. "'"))
    t:save_npy(path)
    assert.equal("604", sh("stat -c %a '" .. path .. "'"))
  end)

  it("saves through a symbolic link to its target, which stays a link", function()
    local target = path_of("target.npy")
    t:save_npy(target)
    assert(os.execute("ln -s target.npy '" .. path_of("link.npy") .. "'"))
    local u = lurn.arange(3)
    u:save_npy(path_of("link.npy"))
    assert.equal("symbolic link", sh("stat -c %F '" .. path_of("link.npy") .. "'"))
    assert.same({0, 1, 2}, lurn.load_npy(target):totable())
  end)

  it("saves names of 255 bytes (NAME_MAX) and leaves no temporary file", function()
    local name = string.rep("n", 251) .. ".npy"
    t:save_npy(path_of(name))
    t:save_npy(path_of(name))
    assert.same(t:totable(), lurn.load_npy(path_of(name)):totable())
    assert.equal("", sh("ls -A '" .. dir .. "' | grep '^\\.lurn-' || true"))
  end)

  it("leaves the old file and no temporary file when a write fails (ulimit -f in a child)", function()
    local path = path_of("limited.npy")
    t:save_npy(path)
    local before = read(path)
    local script = write(path_of("save_big.lua"), ("local l = require 'lurn'\n"
      .. "local ok, e = pcall(l.arange(1000).save_npy, l.arange(1000), %q)\n"
      .. "io.write(ok and 'saved' or e)\n"):format(path))
    -- files limited to 1 block of 512 bytes, SIGXFSZ ignored: write() fails with EFBIG
    local out = sh("sh -c \"trap '' XFSZ; ulimit -f 1; exec lua5.4 '" .. script .. "'\" 2>&1")
    assert.matches("limited.npy: cannot write: File too large", out)
    assert.equal(before, read(path))
    assert.equal("", sh("ls -A '" .. dir .. "' | grep '^\\.lurn-' || true"))
  end)

  it("refuses a directory and names it", function()
    assert.matches("cannot write: it is a directory", error_of(t.save_npy, t, dir))
  end)
end)
