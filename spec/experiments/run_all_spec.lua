-- scripts/experiments/run_all.lua and report.lua: the runner of the lessons and the report
-- it writes, run by build/lurn in a scratch copy of scripts/experiments/ that holds a
-- lesson that works (its plot named by its full path, as lurn.experiments gives it), one
-- that fails, and none for the rest: the report has a section for each (ok, error with
-- the message, missing), plots inlined, and the run goes on past the failure but exits 1.
-- (spec/integration/report_browser.sh opens the real report in a browser.)
package.path = "scripts/experiments/?.lua;" .. package.path
local report = require "report"
local read = require("helpers.lessons").read

local source = os.getenv("LURN_SOURCE_DIR") or "."
local lurn_cmd = (os.getenv("LURN_BUILD_DIR") or "build") .. "/lurn"

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local WORKS = [[
package.path = "scripts/experiments/?.lua;" .. package.path
local lesson = require "lesson"
return lesson.main{name = "scaling", title = "A lesson that works", run = function(ctx)
  local file = ctx.out .. "/curve.svg"
  local f = assert(io.open(file, "w"))
  f:write('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="red"/></svg>')
  f:close()
  ctx.log("mode %s", ctx.mode)
  return {compared = "Two *things* with `code` & <angle brackets>.",
          tables = {{caption = "numbers", header = {"name", "value"}, rows = {{"a|b", 0.123456}, {"c", 7}}}},
          plots = {{file = file, caption = "a curve"}},
          conclusion = "**a** beat c (0.1235 against 7), from the numbers.",
          results = {mode = ctx.mode}}
end}
]]

local FAILS = [[
package.path = "scripts/experiments/?.lua;" .. package.path
local lesson = require "lesson"
return lesson.main{name = "encoding", title = "A lesson that fails", run = function(ctx)
  error("the data set is not there")
end}
]]

describe("run_all.lua and the report", function()
  local dir, status, html, md
  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. q(dir .. "/scripts/experiments")))
    for _, f in ipairs{"lesson.lua", "report.lua", "run_all.lua"} do
      write(dir .. "/scripts/experiments/" .. f, read(source .. "/scripts/experiments/" .. f))
    end
    write(dir .. "/scripts/experiments/scaling.lua", WORKS)
    write(dir .. "/scripts/experiments/encoding.lua", FAILS)
    local lurn_path = lurn_cmd:sub(1, 1) == "/" and lurn_cmd or (source .. "/" .. lurn_cmd)
    local ok, _, code = os.execute(("cd %s && %s scripts/experiments/run_all.lua --tiny --only scaling,encoding,tokenization "
      .. "--out out 2>run.log"):format(q(dir), q(lurn_path)))
    status = ok and 0 or code
    html, md = read(dir .. "/out/report.html"), read(dir .. "/out/report.md")
  end)
  teardown(function() os.execute("rm -rf " .. q(dir)) end)

  it("goes on past a failing lesson, writes the report, and exits 1", function()
    assert.equal(1, status)
    assert.is_string(html)
    assert.is_string(md)
    local log = read(dir .. "/run.log")
    assert.matches("[1/3] scaling", log, 1, true)
    assert.matches("[2/3] encoding FAILED", log, 1, true)
    assert.matches("[3/3] tokenization: no scripts/experiments/tokenization.lua yet", log, 1, true)
    assert.matches("elapsed", log, 1, true)
  end)

  it("gives each lesson a section by its short name: ok, error (with the message) or missing", function()
    assert.matches('<section id="scaling" class="lesson" data-status="ok">', html, 1, true)
    assert.matches('<section id="encoding" class="lesson" data-status="error">', html, 1, true)
    assert.matches('<section id="tokenization" class="lesson" data-status="missing">', html, 1, true)
    assert.matches("the data set is not there", html, 1, true)
    assert.matches("the data set is not there", md, 1, true)
    assert.matches("No lesson file `scripts/experiments/tokenization.lua` yet", md, 1, true)
    assert.is_nil(html:find('id="lr_sweep"', 1, true))  -- --only
    for _, name in ipairs{"scaling", "encoding", "tokenization"} do
      assert.matches('<a href="#' .. name .. '">', html, 1, true)
      assert.matches('<a id="' .. name .. '"></a>', md, 1, true)
    end
  end)

  it("inlines the plots and fetches nothing", function()
    local svg = read(dir .. "/out/scaling/curve.svg")
    assert.matches('<img src="data:image/svg+xml;base64,' .. report.base64(svg) .. '"', html, 1, true)
    assert.is_nil(html:find("https?://"))
    assert.is_nil(html:find("<link", 1, true))
    assert.is_nil(html:find("<script", 1, true))
    assert.matches("![a curve](scaling/curve.svg)", md, 1, true)  -- relative to out/
    assert.matches("![a curve](curve.svg)", read(dir .. "/out/scaling/section.md"), 1, true)
  end)

  it("renders the Markdown and escapes the text", function()
    assert.matches("Two <em>things</em> with <code>code</code> &amp; &lt;angle brackets&gt;.", html, 1, true)
    assert.matches("<strong>a</strong> beat c", html, 1, true)
    assert.matches('<td>a|b</td><td class="num">0.1235</td>', html, 1, true)
    assert.matches("| a\\|b | 0.1235 |", md, 1, true)
  end)

  it("ends with the date, the machine, the mode and the command", function()
    local footer = html:match("<footer>.-</footer>")
    assert.matches("core%(s%) %(nproc%)", footer)
    assert.matches("tiny mode", footer, 1, true)
    assert.matches("run_all.lua --tiny --only scaling,encoding,tokenization --out out", footer, 1, true)
    assert.matches("%d%d%d%d%-%d%d%-%d%d", footer)
  end)

  it("refuses an unknown lesson or argument (exit status 2)", function()
    local lurn_path = lurn_cmd:sub(1, 1) == "/" and lurn_cmd or (source .. "/" .. lurn_cmd)
    for _, args in ipairs{"--only scaling,nope", "--fast"} do
      local ok, _, code = os.execute(("cd %s && %s scripts/experiments/run_all.lua %s --out out2 2>/dev/null"):format(
        q(dir), q(lurn_path), args))
      assert.is_falsy(ok)
      assert.equal(2, code)
    end
  end)
end)

describe("report.lua's pieces", function()
  it("base64 as RFC 4648 has it", function()
    assert.equal("", report.base64(""))
    assert.equal("Zg==", report.base64("f"))
    assert.equal("Zm8=", report.base64("fo"))
    assert.equal("Zm9v", report.base64("foo"))
    assert.equal("Zm9vYmFy", report.base64("foobar"))
    assert.equal("AP8=", report.base64("\0\255"))
  end)

  it("Markdown blocks: headings, lists, tables, code", function()
    local h = report.markdown("### Feature scaling\n\nintro\n\n| a | b |\n| --- | --- |\n| 1 | x\\|y |\n\n- one\n- two\n  more\n\n```\n<x>\n```")
    assert.matches("<h3>Feature scaling</h3>", h, 1, true)
    assert.matches("<p>intro</p>", h, 1, true)
    assert.matches("<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>x|y</td></tr></tbody></table>", h, 1, true)
    assert.matches("<ul><li>one</li><li>two\nmore</li></ul>", h, 1, true)
    assert.matches("<pre><code>&lt;x&gt;</code></pre>", h, 1, true)
  end)
end)
