-- The lurn command run as a program, not interactively: arguments and the `arg`
-- table as lua5.4 sets them, options, messages and exit statuses.
local build = assert(os.getenv("LURN_BUILD_DIR"), "LURN_BUILD_DIR is not set: run through ctest")
local lurn_exe = build .. "/lurn"

local function shell_quote(s)
  return "'" .. s:gsub("'", [['\'']]) .. "'"
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

local function write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- Runs `program args...` with `input` as standard input, always a file: never the
-- terminal ctest may have been started from. Returns stdout, stderr, exit status.
local function run_program(program, args, input)
  local stdin, stdout, stderr = os.tmpname(), os.tmpname(), os.tmpname()
  write_file(stdin, input or "")
  local words = { shell_quote(program) }
  for _, a in ipairs(args) do words[#words + 1] = shell_quote(a) end
  local command = ("%s <%s >%s 2>%s"):format(table.concat(words, " "), stdin, stdout, stderr)
  local _, _, status = os.execute(command)
  local out, err = read_file(stdout), read_file(stderr)
  os.remove(stdin)
  os.remove(stdout)
  os.remove(stderr)
  return out, err, status
end

local function lurn(args, input) return run_program(lurn_exe, args, input) end

-- Script files, removed after each test.
local scripts = {}
local function script(text)
  local path = os.tmpname()
  write_file(path, text)
  scripts[#scripts + 1] = path
  return path
end

after_each(function()
  for _, path in ipairs(scripts) do os.remove(path) end
  scripts = {}
end)

-- Prints the whole arg table, lowest index first, and the script's `...`.
local dump_args = [[
local lo = 0
while arg[lo - 1] ~= nil do lo = lo - 1 end
for i = lo, #arg do print(i, arg[i]) end
print("...", select("#", ...), ...)
]]

describe("lurn script.lua args", function()
  it("sets arg and ... as lua5.4 does", function()
    local path = script(dump_args)
    local out, err, status = lurn({ path, "a", "b c" })
    assert.equal("", err)
    assert.equal(0, status)
    assert.equal(table.concat({
      "-1\t" .. lurn_exe,
      "0\t" .. path,
      "1\ta",
      "2\tb c",
      "...\t2\ta\tb c",
    }, "\n") .. "\n", out)
  end)

  it("gives the same arg table as lua5.4 for options, '--' and '-'", function()
    local path = script(dump_args)
    local cases = {
      { args = { "-e", "x = 1", path, "-e", "-x" } }, -- options after the script are its own
      { args = { "--", path, "--" } },
      { args = { "-", "p", "q" }, input = dump_args }, -- '-' is standard input
      { args = {}, input = dump_args },
    }
    for _, case in ipairs(cases) do
      local expected = run_program("lua5.4", case.args, case.input)
      local out, err, status = lurn(case.args, case.input)
      assert.equal("", err)
      assert.equal(0, status)
      -- Only the interpreter's own name differs.
      local plain_exe = lurn_exe:gsub("%p", "%%%0")
      assert.equal(expected:gsub("lua5%.4", "<interpreter>"), (out:gsub(plain_exe, "<interpreter>")))
    end
  end)

  it("has the module loaded as the global lurn, the table require returns", function()
    local path = script([[print(type(lurn), type(lurn.tensor), require("lurn") == lurn)]])
    local out, _, status = lurn({ path })
    assert.equal("table\tfunction\ttrue\n", out)
    assert.equal(0, status)
  end)

  it("prints a traceback on stderr and exits with status 1 when the script fails", function()
    local path = script([[
local function inner() error("kaput") end
local function outer() inner() end
print("before")
outer()
print("after")
]])
    local out, err, status = lurn({ path })
    assert.equal(1, status)
    assert.equal("before\n", out)
    assert.truthy(err:find(path .. ":1: kaput", 1, true), err)
    assert.truthy(err:find("stack traceback:", 1, true), err)
    assert.truthy(err:find("in local 'outer'", 1, true), err)
  end)

  it("shows the user's frames under a lurn error, not lurn's own files (LURN_TRACEBACK=full shows them)", function()
    local path = script([[
local function train()
  local m = lurn.Sequential{lurn.layers.Dense(2, {input_shape = {3}})}
  m:compile{optimizer = "sgd", loss = "mse"}
  m:fit(lurn.randn(4, 3), lurn.randn(4, 3), {verbose = 0})
end
train()
]])
    local _, err, status = lurn({ path })
    assert.equal(1, status)
    assert.truthy(err:find(path .. ":4: fit: y of shape (4, 3)", 1, true), err)
    assert.truthy(err:find("in local 'train'", 1, true), err)
    assert.falsy(err:find("lua/lurn/", 1, true), err)
    assert.falsy(err:find("in function 'error'", 1, true), err)
    _, err = run_program("env", { "LURN_TRACEBACK=full", lurn_exe, path })
    assert.truthy(err:find("lua/lurn/", 1, true), err)
  end)

  it("exits with status 1 on a syntax error or a missing script", function()
    local _, err, status = lurn({ script("x = = 1") })
    assert.equal(1, status)
    assert.truthy(err:find("unexpected symbol near '='", 1, true), err)

    _, err, status = lurn({ "/nonexistent/script.lua" })
    assert.equal(1, status)
    assert.truthy(err:find("cannot open /nonexistent/script.lua", 1, true), err)
  end)

  it("exits with the status the script gives os.exit", function()
    local _, _, status = lurn({ script("os.exit(3)") })
    assert.equal(3, status)
  end)
end)

describe("lurn with no script", function()
  it("runs standard input as a script when it is not a terminal", function()
    local out, err, status = lurn({}, "print(lurn ~= nil, 6 * 7)\n")
    assert.equal("", err)
    assert.equal("true\t42\n", out)
    assert.equal(0, status)
  end)

  it("exits with status 1 when the script from standard input fails", function()
    local _, err, status = lurn({}, "error('from stdin')\n")
    assert.equal(1, status)
    assert.truthy(err:find("from stdin", 1, true), err)
    assert.truthy(err:find("stack traceback:", 1, true), err)
  end)
end)

describe("lurn -e", function()
  it("runs the code with lurn loaded", function()
    local out, _, status = lurn({ "-e", "print(lurn.zeros{2, 3}:numel(), require('lurn') == lurn)" })
    assert.equal("6\ttrue\n", out)
    assert.equal(0, status)
  end)

  it("runs several -e in order, before the script", function()
    local path = script("print(x + 1)")
    local out, _, status = lurn({ "-e", "x = 20", "-e", "print(x)", path })
    assert.equal("20\n21\n", out)
    assert.equal(0, status)
  end)

  it("takes the code attached, -ecode, as lua5.4 does", function()
    local out, _, status = lurn({ "-eprint(7)", "-e", "print(8)" })
    assert.equal("7\n8\n", out)
    assert.equal(0, status)
  end)

  it("exits with status 1 and a traceback when the code fails", function()
    local out, err, status = lurn({ "-e", "error('bad')", "-e", "print('not reached')" })
    assert.equal(1, status)
    assert.equal("", out)
    assert.truthy(err:find("(command line):1: bad", 1, true), err)
    assert.truthy(err:find("stack traceback:", 1, true), err)
  end)

  it("exits with status 1 when its code is missing", function()
    local _, err, status = lurn({ "-e" })
    assert.equal(1, status)
    assert.truthy(err:find("'-e' needs an argument", 1, true), err)
  end)
end)

describe("lurn options", function()
  it("--version and -v print the version and exit 0", function()
    for _, option in ipairs({ "--version", "-v" }) do
      local out, _, status = lurn({ option })
      assert.matches("^lurn %d+%.%d+%.%d+ %(Lua 5%.4%.%d+; kernels: %l[%w]*%)\n$", out)
      assert.equal(0, status)
    end
  end)

  it("-h and --help print the usage on stdout and exit 0", function()
    for _, option in ipairs({ "-h", "--help" }) do
      local out, err, status = lurn({ option })
      assert.matches("^usage: ", out)
      for _, listed in ipairs({ "-e code", "-i", "--version", "-h" }) do
        assert.truthy(out:find(listed, 1, true), listed .. " missing from:\n" .. out)
      end
      assert.equal("", err)
      assert.equal(0, status)
    end
  end)

  it("rejects an unknown option with a message and status 1", function()
    for _, option in ipairs({ "-x", "--frobnicate" }) do
      local out, err, status = lurn({ option, script("print('ran')") })
      assert.equal(1, status)
      assert.equal("", out)
      assert.truthy(err:find("unrecognized option '" .. option .. "'", 1, true), err)
    end
  end)
end)
