-- `lurn doctor SCRIPT.lua [ARGS]`: the script runs unchanged (its arg and ...), every fit
-- it makes is watched and the findings are printed at the end, also when the script fails
-- or calls os.exit; --html writes the page; Model.fit is put back afterwards.
local build = assert(os.getenv("LURN_BUILD_DIR"), "LURN_BUILD_DIR is not set: run through ctest")
local lurn_exe = build .. "/lurn"

local function shell_quote(s) return "'" .. s:gsub("'", [['\'']]) .. "'" end

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

local temps = {}
local function temp(text)
  local path = os.tmpname()
  if text then write_file(path, text) end
  temps[#temps + 1] = path
  return path
end
after_each(function()
  for _, p in ipairs(temps) do os.remove(p) end
  temps = {}
end)

-- -> stdout, stderr, exit status
local function lurn(args)
  local out, err = temp(), temp()
  local words = {shell_quote(lurn_exe)}
  for _, a in ipairs(args) do words[#words + 1] = shell_quote(a) end
  local _, _, status = os.execute(("%s </dev/null >%s 2>%s"):format(table.concat(words, " "), out, err))
  return read_file(out), read_file(err), status
end

-- A script that trains a small model; DIVERGE=1 makes its learning rate far too high.
local TRAIN = [[
local lr = tonumber((...)) or 0.01
local L = lurn.layers
lurn.manual_seed(1)
local x = lurn.randn(64, 3)
local labels = {}
for i = 1, 64 do labels[i] = i % 2 end
local y = lurn.tensor(labels)
local m = lurn.Sequential{L.Dense(8, {activation = "relu", input_shape = {3}}), L.Dense(2, {activation = "softmax"})}
m:compile{optimizer = lurn.optimizers.SGD{learning_rate = lr}, loss = "sparse_categorical_crossentropy"}
m:fit(x * 1000, y, {epochs = 4, verbose = 0})
print("script done", arg[0] ~= nil, select("#", ...))
]]

describe("lurn doctor SCRIPT.lua", function()
  it("runs the script with its arguments and reports each fit it made", function()
    local path = temp(TRAIN)
    local out, err, status = lurn({"doctor", path, "0.001", "extra"})
    assert.equal(0, status)
    assert.equal("", err)
    assert.truthy(out:find("script done\ttrue\t2", 1, true))
    assert.truthy(out:find("== lurn doctor: 1 fit(s) watched ==", 1, true))
    assert.truthy(out:find("fit 1 at " .. path .. ":10: x (64, 3), y (64)", 1, true))
  end)

  it("prints the findings of a diverging run", function()
    local out, _, status = lurn({"doctor", temp(TRAIN), "50"})
    assert.equal(0, status)
    assert.truthy(out:find("nan_loss", 1, true) or out:find("lr_too_high", 1, true))
    assert.truthy(out:find("fix:", 1, true))
  end)

  it("writes the page with --html", function()
    local page = temp()
    local out, _, status = lurn({"doctor", "--html", page, temp(TRAIN), "50"})
    assert.equal(0, status)
    assert.truthy(out:find("report written to " .. page, 1, true))
    local html = read_file(page)
    assert.truthy(html:find("<!DOCTYPE html>", 1, true))
    assert.truthy(html:find('data-code="', 1, true))
  end)

  it("gives each fit its heading on the page and in the text, the findings not merged", function()
    local page, path = temp(), temp(TRAIN .. "\nm:fit(x, y, {epochs = 2, verbose = 0})\n")
    local out, _, status = lurn({"doctor", "--html", page, path, "50"})
    assert.equal(0, status)
    local html = read_file(page)
    local first, second = ("fit 1 at %s:10"):format(path), ("fit 2 at %s:13"):format(path)
    for _, text in ipairs{out, html} do
      local a, b = text:find(first, 1, true), text:find(second, 1, true)
      assert.truthy(a and b and a < b, text)
    end
    -- the first fit's findings (the diverging loss) sit under its heading, with their plots
    local a, b = html:find(first, 1, true), html:find(second, 1, true)
    local under_first = html:sub(a, b)
    assert.truthy(under_first:find('data-code="', 1, true))
    assert.truthy(under_first:find('<img alt="', 1, true))
  end)

  it("refuses an --html page it cannot write before it runs the script", function()
    local ran = temp("print('the script ran')")
    for _, page in ipairs{"/nonexistent/dir/x.html", "/tmp"} do
      local out, err, status = lurn({"doctor", "--html", page, ran})
      assert.equal(1, status)
      assert.equal("", out)
      assert.truthy(err:find("--html: cannot write the page: " .. page, 1, true), err)
    end
  end)

  it("still prints the findings when the script fails, and exits 1", function()
    local out, err, status = lurn({"doctor", temp(TRAIN .. "\nerror('boom')\n"), "50"})
    assert.equal(1, status)
    assert.truthy(err:find("boom", 1, true))
    assert.truthy(out:find("1 fit(s) watched", 1, true))
  end)

  it("keeps the script's os.exit status and prints the findings first", function()
    local out, _, status = lurn({"doctor", temp("print('hi') os.exit(3)")})
    assert.equal(3, status)
    assert.truthy(out:find("0 fit(s) watched", 1, true))
  end)

  it("puts Model.fit back after the script", function()
    local path = temp([[
      _G.seen_fit = require("lurn.models.model").fit
    ]])
    local check = temp(([[
      local cli = require "lurn.doctor.cli"
      local Model = require "lurn.models.model"
      local before = Model.fit
      cli.watch(loadfile(%q))
      print(before == Model.fit, _G.seen_fit ~= before)
    ]]):format(path))
    local out, err = lurn({check})
    assert.equal("", err)
    assert.equal("true\ttrue\n", out)
  end)

  it("explains its usage", function()
    local _, err, status = lurn({"doctor"})
    assert.equal(1, status)
    assert.truthy(err:find("usage: lurn doctor", 1, true))
    local out = lurn({"doctor", "--help"})
    assert.truthy(out:find("usage: lurn doctor", 1, true))
    _, err, status = lurn({"doctor", "--bogus", "x.lua"})
    assert.equal(1, status)
    assert.truthy(err:find("unrecognized option '--bogus'", 1, true))
  end)
  it("checks the compiled model and the labels against its loss before the fit", function()
    -- one-hot labels with a sparse loss (fit then fails) and sigmoid outputs with a
    -- categorical loss: both said before fit's own error
    local path = temp([[
local L = lurn.layers
lurn.manual_seed(1)
local x = lurn.randn(60, 3)
local labels = {}
for i = 1, 60 do labels[i] = i % 3 end
local Y = lurn.utils.to_categorical(lurn.tensor(labels))
local m = lurn.Sequential{L.Dense(8, {activation = "relu", input_shape = {3}}), L.Dense(3, {activation = "sigmoid"})}
m:compile{optimizer = "adam", loss = "sparse_categorical_crossentropy"}
m:fit(x, Y, {epochs = 1, verbose = 0})
]])
    local out, err, status = lurn({"doctor", path})
    assert.equal(1, status)
    assert.truthy(err:find("look one-hot", 1, true), err)
    assert.truthy(out:find("label_encoding_mismatch", 1, true), out)
    assert.truthy(out:find("loss_output_mismatch", 1, true), out)
  end)

  it("checks the parts validation_split makes (the last rows validate)", function()
    -- rows sorted by class: the last fifth holds one class only
    local path = temp([[
local L = lurn.layers
lurn.manual_seed(1)
local x = lurn.randn(100, 3)
local labels = {}
for i = 1, 100 do labels[i] = i <= 50 and 0 or 1 end
local m = lurn.Sequential{L.Dense(8, {activation = "relu", input_shape = {3}}), L.Dense(2, {activation = "softmax"})}
m:compile{optimizer = "adam", loss = "sparse_categorical_crossentropy"}
m:fit(x, lurn.tensor(labels), {epochs = 1, verbose = 0, validation_split = 0.3})
]])
    local out, _, status = lurn({"doctor", path})
    assert.equal(0, status)
    assert.truthy(out:find("validation_split = 0.3", 1, true), out)
    assert.truthy(out:find("split_missing_class", 1, true), out)
  end)
end)
