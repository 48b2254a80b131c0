-- The pipe under lurn.plot (lua/lurn/plot/gnuplot.lua): quoting that gnuplot cannot
-- execute, numbers written exactly, gnuplot's errors as Lua errors at the caller's line,
-- a missing gnuplot named with its Debian package, files saved atomically, temporary
-- files removed; and core.write_file, the atomic writer it saves through.
local lurn = require "lurn"
local gnuplot = require "lurn.plot.gnuplot"
local helpers = require "plot.helpers"

local HOSTILE = "it's \"q\" `touch PWNED_BACKQUOTE` a'.system('touch PWNED_SYSTEM').'b @macro $d1 \\ "
  .. "{^_&~} 100%\nsecond line\r\nEOD\n\0end"

describe("lurn.plot's gnuplot pipe", function()
  local dir
  before_each(function() dir = helpers.temp_dir() end)
  after_each(function()
    gnuplot.program = "gnuplot"
    helpers.remove_dir(dir)
  end)

  it("quotes text so that gnuplot draws it as given and runs nothing in it", function()
    -- gnuplot runs in the spec's folder: a command that ran would leave its file there.
    local svg = dir .. "/hostile.svg"
    lurn.plot.lines{{y = {1, 2}, label = HOSTILE}, title = HOSTILE, xlabel = HOSTILE, ylabel = HOSTILE, file = svg}
    lurn.plot.bars{{labels = {HOSTILE, "b"}, values = {1, 2}, label = HOSTILE}, title = HOSTILE, file = dir .. "/b.svg"}
    lurn.plot.heatmap({{1, 2}, {3, 4}}, {labels = {HOSTILE, "x"}, title = HOSTILE, file = dir .. "/h.svg"})
    lurn.plot.images(lurn.rand(1, 2, 2), {labels = {HOSTILE}, file = dir .. "/i.png"})
    lurn.plot.history({loss = {1, 2}}, {title = HOSTILE, file = dir .. "/y.svg"})
    assert.is_false(helpers.exists("PWNED_BACKQUOTE"))
    assert.is_false(helpers.exists("PWNED_SYSTEM"))
    local text = helpers.read(svg)
    -- the first line drawn as written (the SVG escapes XML's own characters)
    local first = ("it's &quot;q&quot; `touch PWNED_BACKQUOTE` a'.system('touch PWNED_SYSTEM').'b @macro $d1 \\ "
      .. "{^_&amp;~} 100%"):gsub("&quot;", '"')
    local found = false
    for t in text:gmatch("<text>(.-)</text>") do
      if t:gsub("&quot;", '"') == first then found = true end
    end
    assert.is_true(found, "the title's first line is not in the SVG as given")
    assert.matches("<text>second line</text>", text, 1, true)
    assert.matches("<text>EOD</text>", text, 1, true)
  end)

  it("writes single-quoted strings only, newlines joined by a fixed \"\\n\"", function()
    assert.equal("'a''b'", gnuplot.quote("a'b"))
    assert.equal([['a'."\n".'b']], gnuplot.quote("a\nb"))
    assert.equal("'a`b` \\ @c $d'", gnuplot.quote("a`b` \\ @c $d"))
    assert.equal("'a b c'", gnuplot.quote("a\0b\tc"):gsub("\t", " "))
    assert.equal("'3'", gnuplot.quote(3))
    assert.equal("'caf\195\169'", gnuplot.quote("caf\195\169")) -- valid UTF-8 kept
    assert.equal("'caf? ?'", gnuplot.quote("caf\233 \255"))   -- Latin-1: the SVG would not parse
  end)

  it("writes numbers exactly, and NaN and infinities as NaN (a point gnuplot skips)", function()
    local values = {0.1, 1 / 3, -2.5e-300, 1e300, 7, -0.0, 2 ^ 53}
    for _, v in ipairs(values) do assert.equal(v, tonumber(gnuplot.number(v))) end
    assert.equal("NaN", gnuplot.number(0 / 0))
    assert.equal("NaN", gnuplot.number(math.huge))
    assert.equal("NaN", gnuplot.number(-math.huge))
    local scripts = helpers.scripts(function()
      lurn.plot.lines{{y = {1, 0 / 0, math.huge, 4}}, file = dir .. "/n.png"}
    end)
    local y = helpers.column(helpers.blocks(scripts[1]).d1, 2)
    assert.equal(1, y[1])
    assert.is_true(y[2] ~= y[2] and y[3] ~= y[3])
    assert.equal(4, y[4])
  end)

  it("turns gnuplot's errors into Lua errors at the caller's line, leaving the old file and no temporary one", function()
    local png = dir .. "/keep.png"
    helpers.write(png, "the old picture")
    -- lurn draws every data it is given (a series of NaN included), so the error comes from
    -- a real gnuplot fed a script with a plot it refuses put in front (outside the folder checked)
    local fake = os.tmpname()
    helpers.write(fake, "#!/bin/sh\nsed -i '1i $bad << EOD\\n1 NaN\\nEOD\\nplot $bad using 1:2' \"$1\"\n"
      .. "exec gnuplot \"$1\"\n")
    assert(os.execute("chmod +x '" .. fake .. "'"))
    gnuplot.program = fake
    local scripts = {}
    gnuplot.on_script = function(s) scripts[#scripts + 1] = s end
    local ok, err = pcall(function() return lurn.plot.lines{{y = {1, 2}}, file = png} end)
    gnuplot.on_script = nil
    os.remove(fake)
    assert.is_false(ok)
    assert.matches("spec/plot/gnuplot_spec.lua:%d+: lurn.plot.lines: gnuplot failed", err)
    assert.matches("all points y value undefined", err, 1, true)
    assert.equal("the old picture", helpers.read(png))
    assert.same({"keep.png"}, helpers.list(dir))
    -- gnuplot's drawing went to a temporary file, removed after the error too
    local drawing = assert(scripts[1]:match("set output '([^']+)'"))
    assert.is_false(helpers.exists(drawing))
  end)

  it("forwards gnuplot's warnings to stderr, each line marked as gnuplot's", function()
    local fake = os.tmpname()
    helpers.write(fake, "#!/bin/sh\necho 'warning: one'\necho '    its second line'\nexec gnuplot \"$1\"\n")
    assert(os.execute("chmod +x '" .. fake .. "'"))
    gnuplot.program = fake
    local err = helpers.stderr(function() lurn.plot.lines{{y = {1, 2}}, file = dir .. "/w.png"} end)
    os.remove(fake)
    assert.equal("lurn.plot: gnuplot: warning: one\nlurn.plot: gnuplot:     its second line\n", err)
  end)

  it("saves by replacing the file in one step, and removes its temporary files", function()
    local png = dir .. "/plot.png"
    helpers.write(png, "old")
    local scripts, path = helpers.scripts(function() return lurn.plot.lines{{y = {1, 2, 3}}, file = png} end)
    assert.equal(png, path)
    helpers.png_size(png)
    assert.same({"plot.png"}, helpers.list(dir))
    assert.is_false(helpers.exists(scripts[1]:match("set output '([^']+)'")))
  end)

  it("names the function and the file when the file cannot be written", function()
    local png = dir .. "/no/such/folder/x.png"
    local ok, err = pcall(function() return lurn.plot.lines{{y = {1, 2}}, file = png} end)
    assert.is_false(ok)
    assert.matches("spec/plot/gnuplot_spec.lua:%d+: lurn.plot.lines: .*" .. png:gsub("%p", "%%%0"), err)
  end)

  it("sizes the terminal drawing from COLUMNS and LINES", function()
    local cmd = "COLUMNS=50 LINES=15 lua5.4 -e 'require(\"lurn\").plot.lines{{y = {1, 2, 3}}}' </dev/null"
    local pipe = assert(io.popen(cmd))
    local text = pipe:read("a")
    assert.is_true(pipe:close())
    local lines, widest = 0, 0
    for line in text:gmatch("([^\n]*)\n") do lines, widest = lines + 1, math.max(widest, #line) end
    assert.equal(14, lines)
    assert.equal(49, widest)
  end)

  it("names the Debian package when gnuplot is missing, and keeps the numbers within reach", function()
    gnuplot.program = dir .. "/no/gnuplot"
    local png = dir .. "/x.png"
    local ok, err = pcall(function() return lurn.plot.lines{{y = {1, 2}}, file = png} end)
    assert.is_false(ok)
    assert.matches("spec/plot/gnuplot_spec.lua:%d+: lurn.plot.lines: gnuplot was not found", err)
    assert.matches("gnuplot-nox", err, 1, true)
    assert.matches("file = 'NAME.gp'", err, 1, true)
    assert.is_false(helpers.exists(png))
    -- the .gp file needs no gnuplot: the script with the data in it
    local gp = dir .. "/x.gp"
    assert.equal(gp, lurn.plot.lines{{y = {1, 2.5}, label = "a"}, file = gp})
    local script = helpers.read(gp)
    assert.same({{1, 1}, {2, 2.5}}, helpers.blocks(script).d1)
    assert.matches("\nplot $d1 using 1:2", script, 1, true)
    assert.not_matches("set terminal", script, 1, true)
    for _, kind in ipairs{"history", "heatmap", "layer_stats", "images", "bars"} do
      ok, err = pcall(lurn.plot[kind], nil, {file = png})
      assert.is_false(ok) -- a bad argument is reported before gnuplot is looked for
    end
  end)

  it("refuses other file names, naming the extensions it knows", function()
    for _, file in ipairs{"plot.pdf", "plot", "", "png"} do
      local ok, err = pcall(function() return lurn.plot.lines{{y = {1, 2}}, file = dir .. "/" .. file} end)
      assert.is_false(ok)
      assert.matches("spec/plot/gnuplot_spec.lua:%d+: lurn.plot.lines: file '.*': the name must end in %.png", err)
    end
    assert.error_matches(function() lurn.plot.lines{{y = {1}}, file = 3} end, "file must be a file name")
    assert.same({}, helpers.list(dir))
  end)

  it("draws in the terminal with gnuplot's text terminal, returning nothing", function()
    local text, res = helpers.drawn(function() return lurn.plot.lines{{y = {1, 3, 2}, label = "curve"}, title = "T1"} end)
    assert.is_nil(res)
    assert.matches("T1", text, 1, true)
    assert.matches("curve", text, 1, true)
    assert.not_matches("\f", text, 1, true)
    local lines = select(2, text:gsub("\n", "\n"))
    assert.is_true(lines >= 10 and lines <= 500, lines .. " lines")
  end)
end)

describe("core.write_file", function()
  local dir
  before_each(function() dir = helpers.temp_dir() end)
  after_each(function() helpers.remove_dir(dir) end)

  it("writes the bytes, replacing a file and leaving no temporary one", function()
    local path = dir .. "/f.bin"
    helpers.write(path, "old content")
    assert.equal(path, lurn.core.write_file(path, "new\0bytes"))
    assert.equal("new\0bytes", helpers.read(path))
    assert.same({"f.bin"}, helpers.list(dir))
  end)

  it("refuses a directory and a missing folder with an error naming the path", function()
    assert.error_matches(function() lurn.core.write_file(dir, "x") end, dir, 1, true)
    assert.error_matches(function() lurn.core.write_file(dir .. "/no/f", "x") end, dir .. "/no/f", 1, true)
    assert.error_matches(function() lurn.core.write_file(dir .. "/f") end, "bad argument #2")
  end)
end)
