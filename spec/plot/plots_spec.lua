-- lurn.plot's six kinds: each writes a valid PNG and SVG of a plausible size, draws in the
-- terminal, sends gnuplot the numbers it was given (read back from the script's data
-- blocks), and refuses bad input with an error at the caller's line.
local lurn = require "lurn"
local helpers = require "plot.helpers"

local blocks, column = helpers.blocks, helpers.column

-- A History from a real fit: loss and accuracy, train and validation, 3 epochs.
local function fitted_history()
  lurn.manual_seed(7)
  local x, y = lurn.randn{24, 2}, lurn.rand{24, 1}:gt(0.5)
  local model = lurn.Sequential{lurn.layers.Input{2}, lurn.layers.Dense(1, {activation = "sigmoid"})}
  model:compile{optimizer = "adam", loss = "binary_crossentropy", metrics = {"accuracy"}}
  return model:fit(x, y, {epochs = 3, batch_size = 8, validation_split = 0.25, verbose = 0})
end

-- LayerStats-like records: two recordings of three layers, the flatten layer without a gradient.
local RECORDS = {
  {epoch = 1, batch = 1, name = "dense", type = "Dense", grad_norm = 1e-6, weight_norm = 2, dead_fraction = 0},
  {epoch = 1, batch = 1, name = "flatten", type = "Flatten", dead_fraction = 0.5},
  {epoch = 1, batch = 1, name = "dense_1", type = "Dense", grad_norm = 0.5, weight_norm = 3, dead_fraction = 0},
  {epoch = 1, batch = 4, name = "dense", type = "Dense", grad_norm = 2e-6, weight_norm = 2.5, dead_fraction = 0.25},
  {epoch = 1, batch = 4, name = "flatten", type = "Flatten", dead_fraction = 0.5},
  {epoch = 1, batch = 4, name = "dense_1", type = "Dense", grad_norm = 0.25, weight_norm = 3.5, dead_fraction = 0},
}

-- One call per kind, given a file (nil: the terminal).
local KINDS = {
  lines = function(file) return lurn.plot.lines{{y = {3, 1, 2}, label = "a"}, file = file, title = "lines"} end,
  bars = function(file) return lurn.plot.bars{{labels = {"x", "y"}, values = {1, 2}}, file = file, title = "bars"} end,
  heatmap = function(file) return lurn.plot.heatmap({{5, 1}, {2, 7}}, {labels = {"a", "b"}, file = file}) end,
  images = function(file) return lurn.plot.images(lurn.rand(3, 4, 4), {labels = {"p", "q", "r"}, file = file}) end,
  layer_stats = function(file) return lurn.plot.layer_stats(RECORDS, {file = file}) end,
  history = function(file)
    return lurn.plot.history({loss = {1, 0.5}, val_loss = {1.2, 0.8}, accuracy = {0.5, 0.75}}, {file = file})
  end,
}
local KIND_NAMES = {"lines", "bars", "heatmap", "images", "layer_stats", "history"}

describe("lurn.plot", function()
  local dir
  before_each(function() dir = helpers.temp_dir() end)
  after_each(function() helpers.remove_dir(dir) end)

  it("writes a valid PNG and SVG for every kind, and draws every kind in the terminal", function()
    for _, kind in ipairs(KIND_NAMES) do
      local png, svg = ("%s/%s.png"):format(dir, kind), ("%s/%s.svg"):format(dir, kind)
      assert.equal(png, KINDS[kind](png))
      local w, h = helpers.png_size(png)
      assert.is_true(w >= 100 and w <= 4000 and h >= 100 and h <= 4000, ("%s: %d x %d"):format(kind, w, h))
      assert.equal(svg, KINDS[kind](svg))
      w, h = helpers.svg_size(svg)
      assert.is_true(w >= 100 and w <= 4000 and h >= 100 and h <= 4000, ("%s: %d x %d"):format(kind, w, h))
      local text, res = helpers.drawn(function() return KINDS[kind](nil) end)
      assert.is_nil(res)
      assert.is_true(#text > 200 and text:find("[%+%-|]") ~= nil, kind .. " drew nothing in the terminal")
    end
  end)

  describe("lines", function()
    it("sends each series' x and y as given, x = 1..n when left out, tensors read as lists", function()
      local scripts = helpers.scripts(function()
        lurn.plot.lines{{y = {0.25, 1 / 3, -2}, label = "first"}, {x = lurn.tensor{10, 20}, y = lurn.tensor{0.5, 4}},
                        file = dir .. "/l.png", title = "T", xlabel = "X", ylabel = "Y"}
      end)
      local b = blocks(scripts[1])
      assert.same({{1, 0.25}, {2, 1 / 3}, {3, -2}}, b.d1)
      assert.same({{10, 0.5}, {20, 4}}, b.d2)
      assert.matches("title 'first'", scripts[1], 1, true)
      assert.matches("set title 'T'", scripts[1], 1, true)
      assert.matches("set xlabel 'X'", scripts[1], 1, true)
      assert.matches("unset logscale y", scripts[1], 1, true)
    end)

    it("skips the points a log axis cannot show (as NaN) and sets the log scales", function()
      local scripts = helpers.scripts(function()
        lurn.plot.lines{{x = {1, 2, 3}, y = {1, 0, 100}}, logx = true, logy = true, file = dir .. "/l.svg"}
      end)
      local y = column(blocks(scripts[1]).d1, 2)
      assert.equal(1, y[1])
      assert.is_true(y[2] ~= y[2])
      assert.equal(100, y[3])
      assert.matches("set logscale x", scripts[1], 1, true)
      assert.matches("set logscale y", scripts[1], 1, true)
    end)

    it("refuses bad series at the caller's line", function()
      local cases = {
        {{{x = {1, 2}, y = {1}}}, "series 1 has 2 x values and 1 y values"},
        {{{y = {1, "a"}}}, "series 1 y%[2%] must be a number, got string"},
        {{{y = {}}}, "series 1 has no points"},
        {{{x = {1}}}, "series 1 has no y"},
        {{{y = lurn.zeros{2, 2}}}, "series 1 y must be a 1%-D tensor"},
        {{}, "give at least one series"},
        {{{y = {1}}, colour = "red"}, "unknown option 'colour'"},
        {{{y = {1}, lable = "a"}}, "series 1: unknown option 'lable'"},
        {{{y = {1}}, logy = 1}, "logy must be true or false"},
        {{{y = {1}}, title = {}}, "title must be a string"},
      }
      for _, case in ipairs(cases) do
        local ok, err = pcall(function() return lurn.plot.lines(case[1]) end)
        assert.is_false(ok)
        assert.matches("plots_spec.lua:%d+: lurn.plot.lines: .*" .. case[2], err)
      end
      assert.error_matches(function() lurn.plot.lines(3) end, "lurn.plot.lines: takes a table")
    end)
  end)

  describe("history", function()
    it("draws fit's History: a panel per metric, loss first, train and validation, the numbers of h.history", function()
      local h = fitted_history()
      local scripts = helpers.scripts(function() lurn.plot.history(h, {file = dir .. "/h.png"}) end)
      local s = scripts[1]
      assert.matches("set multiplot layout 2,1", s, 1, true)
      local b = blocks(s)
      assert.same(h.history.loss, column(b.p1_1, 2))
      assert.same(h.history.val_loss, column(b.p1_2, 2))
      assert.same(h.history.accuracy, column(b.p2_1, 2))
      assert.same(h.history.val_accuracy, column(b.p2_2, 2))
      assert.same({1, 2, 3}, column(b.p1_1, 1))
      assert.is_true(s:find("set title 'loss'", 1, true) < s:find("set title 'accuracy'", 1, true))
      assert.matches("title 'validation'", s, 1, true)
    end)

    it("takes a plain table of name -> list, and metrics = to choose the panels", function()
      local t = {loss = {1, 0.5}, val_loss = {2, 1}, mae = {0.3, 0.2}, lr = {0.1, 0.1}}
      local scripts = helpers.scripts(function() lurn.plot.history(t, {metrics = {"mae"}, file = dir .. "/h.svg"}) end)
      assert.not_matches("multiplot", scripts[1], 1, true)
      assert.same({{1, 0.3}, {2, 0.2}}, blocks(scripts[1]).p1_1)
      assert.is_nil(blocks(scripts[1]).p1_2)
      assert.error_matches(function() lurn.plot.history(t, {metrics = {"accuracy"}}) end,
        "no metric 'accuracy' in the history %(it has: loss, lr, mae%)")
      assert.error_matches(function() lurn.plot.history({}) end, "the history is empty")
      assert.error_matches(function() lurn.plot.history({loss = {1, "x"}}) end, "history 'loss'%[2%] must be a number")
      assert.error_matches(function() lurn.plot.history(t, {metric = {"mae"}}) end, "unknown option 'metric'")
    end)

    it("draws one epoch and a constant series without gnuplot's 'empty range' warnings", function()
      local one = {loss = {0.5}, val_loss = {0.6}, lr = {0.001}}
      local scripts
      local err = helpers.stderr(function()
        scripts = helpers.scripts(function() lurn.plot.history(one, {file = dir .. "/one.png"}) end)
      end)
      assert.equal("", err)
      helpers.png_size(dir .. "/one.png")
      assert.matches("set xrange [0.5:1.5]", scripts[1], 1, true)
      assert.matches("set yrange [0.000899999", scripts[1], 1, true) -- 0.001 -+ 10%
      local constant = {loss = {1, 0.5, 0.25}, lr = {0.001, 0.001, 0.001}, val_loss = {0, 0, 0}}
      err = helpers.stderr(function()
        scripts = helpers.scripts(function() lurn.plot.history(constant, {file = dir .. "/c.svg"}) end)
      end)
      assert.equal("", err)
      helpers.svg_size(dir .. "/c.svg")
      assert.matches("set autoscale y", scripts[1], 1, true) -- the loss panel: a real range
      err = helpers.stderr(function()
        helpers.drawn(function() lurn.plot.history(one) end)
      end)
      assert.equal("", err)
    end)

    it("draws a NaN loss (a diverged fit) rather than failing in gnuplot, and says so", function()
      local scripts
      local err = helpers.stderr(function()
        scripts = helpers.scripts(function()
          lurn.plot.history({loss = {0 / 0, 0 / 0, 0 / 0}}, {file = dir .. "/nan.png"})
        end)
      end)
      assert.equal("", err)
      helpers.png_size(dir .. "/nan.png")
      assert.matches("no finite value to draw", scripts[1], 1, true)
      assert.matches("3 values NaN or infinite, not drawn", scripts[1], 1, true)
      err = helpers.stderr(function()
        scripts = helpers.scripts(function()
          lurn.plot.history({loss = {1, 0.5, 0 / 0}, accuracy = {0 / 0, 0 / 0, 0 / 0}}, {file = dir .. "/half.svg"})
        end)
      end)
      assert.equal("", err)
      assert.matches("set title 'loss (1 value NaN or infinite, not drawn)'", scripts[1], 1, true)
      -- the same in lines: a series of NaN only
      err = helpers.stderr(function() lurn.plot.lines{{y = {0 / 0, math.huge}}, file = dir .. "/l.png"} end)
      assert.equal("", err)
    end)
  end)

  describe("bars", function()
    it("sends one row per label and one column per series, the labels as tics", function()
      local scripts = helpers.scripts(function()
        lurn.plot.bars{{labels = {"cat", "dog", "bird"}, values = {0.9, 0.5, 0.7}, label = "precision"},
                       {values = lurn.tensor{0.8, 0.6, 0.2}, label = "recall"}, file = dir .. "/b.png"}
      end)
      local rows = blocks(scripts[1]).bars
      assert.same({0.9, 0.5, 0.7}, column(rows, 1))
      local recall = column(rows, 2)
      for i, v in ipairs{0.8, 0.6, 0.2} do assert.near(v, recall[i], 1e-7) end
      assert.matches("set xtics ('cat' 0, 'dog' 1, 'bird' 2)", scripts[1], 1, true)
      assert.matches("title 'recall'", scripts[1], 1, true)
    end)

    it("refuses series that do not line up", function()
      assert.error_matches(function() lurn.plot.bars{{values = {1, 2}}, {values = {1}}} end,
        "series 2 has 1 values, series 1 has 2")
      assert.error_matches(function() lurn.plot.bars{{labels = {"a"}, values = {1, 2}}} end,
        "series 1 labels has 1 entries for 2 values")
      assert.error_matches(function() lurn.plot.bars{{labels = {"a", "b"}, values = {1, 2}}, {labels = {"b", "a"}, values = {1, 2}}} end,
        "series 2 labels%[1%] is 'b', series 1 has 'a' there")
      assert.error_matches(function() lurn.plot.bars{{values = {}}} end, "series 1 has no values")
    end)
  end)

  describe("heatmap", function()
    it("sends the matrix's rows as given, labels on both axes, the numbers in the cells", function()
      local m = {{50, 2, 3}, {4, 40, 1}, {0, 7, 30}}
      local scripts = helpers.scripts(function()
        lurn.plot.heatmap(lurn.tensor(m), {labels = {"a", "b", "c"}, file = dir .. "/c.png", title = "confusion",
                                           xlabel = "predicted", ylabel = "true"})
      end)
      local s = scripts[1]
      assert.same(m, blocks(s).cells)
      assert.matches("set xtics ('a' 0, 'b' 1, 'c' 2)", s, 1, true)
      assert.matches("set ytics ('a' 0, 'b' 1, 'c' 2)", s, 1, true)
      assert.matches("with labels", s, 1, true)
      assert.matches("set yrange [2.5:-0.5]", s, 1, true) -- row 1 at the top
      -- in the terminal, the numbers at their places
      local text = helpers.drawn(function() lurn.plot.heatmap(m, {labels = {"a", "b", "c"}}) end)
      local first_row = text:match("\n[^\n]*%f[%w]a %s*|[^\n]*")
      assert.truthy(first_row, text)
      assert.matches("50%s+2%s+3", first_row)
    end)

    it("draws a 1 x 1 matrix, and refuses ragged rows and labels for a matrix that is not square", function()
      assert.equal(dir .. "/one.png", lurn.plot.heatmap({{3}}, {file = dir .. "/one.png"}))
      helpers.png_size(dir .. "/one.png")
      assert.error_matches(function() lurn.plot.heatmap({{1, 2}, {3}}) end, "matrix: row 2 has 1 values, row 1 has 2")
      assert.error_matches(function() lurn.plot.heatmap({{1, 2}}, {labels = {"a", "b"}}) end, "must be square, got 1 x 2")
      assert.error_matches(function() lurn.plot.heatmap(lurn.zeros{2}) end, "matrix must be a 2%-D tensor")
      assert.error_matches(function() lurn.plot.heatmap({}) end, "matrix is empty")
    end)
  end)

  it("raises its errors through one shared helper, values.fail (no file defines its own)", function()
    local values = require "lurn.plot.values"
    local ok, err = pcall(values.fail, "lurn.plot.x", "%s has %d", "y", 2)
    assert.is_false(ok)
    assert.equal("lurn.plot.x: y has 2", err)
    for _, name in ipairs{"bars", "gnuplot", "heatmap", "images", "init", "lines", "values"} do
      local path = assert(package.searchpath("lurn.plot." .. name, package.path))
      assert.is_nil(helpers.read(path):find("local function fail", 1, true), path)
    end
  end)

  describe("images", function()
    it("sends pixels as whole numbers 0..255 ([0, 1] scaled), grey as one value each, labels as titles", function()
      local t = lurn.tensor{{{0, 0.5}, {1, 0.25}}, {{1, 1}, {0, 0}}}
      local scripts = helpers.scripts(function()
        lurn.plot.images(t, {labels = {"seven", 3}, cols = 1, file = dir .. "/i.png"})
      end)
      local s = scripts[1]
      -- a matrix per image: row y, column x; 0.5 * 255 = 127.5 and 0.25 * 255 = 63.75 rounded
      assert.same({{0, 128}, {255, 64}}, blocks(s).img1)
      assert.same({{255, 255}, {0, 0}}, blocks(s).img2)
      assert.matches("$img1 << EOD\n0 128\n255 64\nEOD\n", s, 1, true)
      assert.matches("plot $img1 matrix using 1:2:(magenta($3, 255)):(magenta($3, 0)):(magenta($3, 255)) "
        .. "with rgbimage", s, 1, true)
      assert.matches("set multiplot layout 2,1", s, 1, true)
      assert.matches("set title 'seven'", s, 1, true)
      assert.matches("set title '3'", s, 1, true)
      -- a view (transposed, not contiguous) is read in its own order
      scripts = helpers.scripts(function()
        lurn.plot.images(t:transpose(2, 3), {file = dir .. "/t.gp"})
      end)
      assert.same({{0, 255}, {128, 64}}, blocks(scripts[1]).img1)
    end)

    it("takes labels as a tensor of class numbers, written as whole numbers", function()
      local scripts = helpers.scripts(function()
        lurn.plot.images(lurn.rand(2, 2, 2), {labels = lurn.tensor{7, 0}, file = dir .. "/c.png"})
      end)
      assert.matches("set title '7'", scripts[1], 1, true)
      assert.matches("set title '0'", scripts[1], 1, true)
    end)

    it("reads RGB images (N, H, W, 3), values in [0, 255] as they are", function()
      local t = lurn.zeros{1, 2, 2, 3}
      t:set(1, 1, 2, 1, 200); t:set(1, 1, 2, 3, 10)
      local scripts = helpers.scripts(function() lurn.plot.images(t, {file = dir .. "/rgb.svg"}) end)
      assert.same({1, 0, 200, 0, 10}, blocks(scripts[1]).img1[2])
      helpers.svg_size(dir .. "/rgb.svg")
    end)

    it("takes the range over finite pixels: NaN magenta ('?' in the terminal), +inf white, -inf black", function()
      local nan, inf = 0 / 0, math.huge
      -- a [0, 1] image with one NaN pixel keeps its scale (t:max() would be NaN)
      local t = lurn.tensor{{{0, 0.5}, {nan, 1}}}
      local scripts, err
      err = helpers.stderr(function()
        scripts = helpers.scripts(function() lurn.plot.images(t, {file = dir .. "/nan.svg"}) end)
      end)
      assert.equal("", err)
      helpers.svg_size(dir .. "/nan.svg")
      assert.same({{0, 128}, {-1, 255}}, blocks(scripts[1]).img1)
      assert.matches("magenta(v, c) = v < 0 ? c : v", scripts[1], 1, true)
      -- infinities are the ends of the finite range, which sets the scale alone
      scripts = helpers.scripts(function()
        lurn.plot.images(lurn.tensor{{{0, 0.5}, {inf, -inf}}}, {file = dir .. "/inf.svg"})
      end)
      assert.same({{0, 128}, {255, 0}}, blocks(scripts[1]).img1)
      scripts = helpers.scripts(function()
        lurn.plot.images(lurn.tensor{{{-1, 1}, {inf, nan}}}, {file = dir .. "/wide.png"})
      end)
      assert.same({{0, 255}, {255, -1}}, blocks(scripts[1]).img1)
      -- RGB: a pixel with a NaN channel is NaN as a whole
      local rgb = lurn.zeros{1, 2, 2, 3}
      rgb:set(1, 1, 2, 2, nan); rgb:set(1, 2, 2, 1, 1)
      err = helpers.stderr(function()
        scripts = helpers.scripts(function() lurn.plot.images(rgb, {file = dir .. "/rgbnan.png"}) end)
      end)
      assert.equal("", err)
      assert.same({{0, 0, 0, 0, 0}, {1, 0, -1, -1, -1}, {0, 1, 0, 0, 0}, {1, 1, 255, 0, 0}}, blocks(scripts[1]).img1)
      -- the terminal marks NaN with '?'
      local text = helpers.drawn(function() lurn.plot.images(lurn.tensor{{{nan, 1}, {1, 1}}}) end)
      assert.truthy(text:find("?", 1, true))
    end)

    it("writes a batch of 256 MNIST-sized images compactly (one whole number a grey pixel)", function()
      local t = lurn.rand(256, 28, 28)
      local scripts = helpers.scripts(function() lurn.plot.images(t, {file = dir .. "/many.gp"}) end)
      local s = scripts[1]
      assert.is_true(#s < 256 * 28 * 28 * 4 + 100000, ("script of %d bytes"):format(#s))
      local first = blocks(s).img1
      assert.equal(28, #first)
      assert.equal(28, #first[1])
      local want = t:select(1, 1):totable()
      for y = 1, 28 do
        for x = 1, 28 do
          assert.equal(math.floor(want[y][x] * 255 + 0.5), first[y][x])
        end
      end
    end)

    it("refuses what is not a batch of images", function()
      assert.error_matches(function() lurn.plot.images(lurn.zeros{2, 3, 3, 2}) end, "1 or 3 channels")
      assert.error_matches(function() lurn.plot.images(lurn.zeros{3, 3}) end, "got 2 dimensions")
      assert.error_matches(function() lurn.plot.images({1, 2}) end, "takes a tensor of images")
      assert.error_matches(function() lurn.plot.images(lurn.zeros{300, 1, 1}) end, "plot at most 256")
      assert.error_matches(function() lurn.plot.images(lurn.zeros{2, 1000, 1000}) end, "more than 1000000 values")
      assert.error_matches(function() lurn.plot.images(lurn.zeros{2, 2, 2}, {labels = {"a"}}) end,
        "labels has 1 entries for 2 values")
      assert.error_matches(function() lurn.plot.images(lurn.zeros{2, 2, 2}, {cols = 0}) end, "cols must be a whole number")
    end)
  end)

  describe("layer_stats", function()
    it("draws one line per layer over the recordings, skipping rows without the stat, log y for norms", function()
      local scripts = helpers.scripts(function() lurn.plot.layer_stats(RECORDS, {file = dir .. "/s.png"}) end)
      local s = scripts[1]
      local b = blocks(s)
      assert.same({{1, 1e-6}, {2, 2e-6}}, b.l1)
      assert.same({{1, 0.5}, {2, 0.25}}, b.l2)
      assert.is_nil(b.l3) -- flatten has no gradient
      assert.matches("title 'dense (Dense)'", s, 1, true)
      assert.not_matches("flatten", s, 1, true)
      assert.matches("set logscale y", s, 1, true)
      scripts = helpers.scripts(function()
        lurn.plot.layer_stats(RECORDS, {stat = "dead_fraction", file = dir .. "/d.svg"})
      end)
      b = blocks(scripts[1])
      assert.same({{1, 0}, {2, 0.25}}, b.l1)
      assert.same({{1, 0.5}, {2, 0.5}}, b.l2)
      assert.matches("unset logscale y", scripts[1], 1, true)
    end)

    it("draws a dead layer's zero gradient on a linear axis (the default log axis would hide it)", function()
      local dead = {
        {name = "dense", type = "Dense", grad_norm = 0}, {name = "dense_1", type = "Dense", grad_norm = 0.5},
        {name = "dense", type = "Dense", grad_norm = 0}, {name = "dense_1", type = "Dense", grad_norm = 0.25},
      }
      local scripts
      local err = helpers.stderr(function()
        scripts = helpers.scripts(function() lurn.plot.layer_stats(dead, {file = dir .. "/dead.png"}) end)
      end)
      assert.equal("", err)
      helpers.png_size(dir .. "/dead.png")
      assert.same({{1, 0}, {2, 0}}, blocks(scripts[1]).l1)
      assert.matches("unset logscale y", scripts[1], 1, true)
      assert.matches("linear y axis: values <= 0", scripts[1], 1, true)
      -- every layer dead: a drawing, not gnuplot's "all points y value undefined!"
      local all_dead = {{name = "dense", grad_norm = 0}, {name = "dense", grad_norm = 0}}
      err = helpers.stderr(function()
        scripts = helpers.scripts(function() lurn.plot.layer_stats(all_dead, {file = dir .. "/all.png"}) end)
      end)
      assert.equal("", err)
      helpers.png_size(dir .. "/all.png")
      assert.same({{1, 0}, {2, 0}}, blocks(scripts[1]).l1)
      assert.matches("set yrange [-1:1]", scripts[1], 1, true)
      -- a log axis the user asks for stays, and the title says what it leaves out
      scripts = helpers.scripts(function() lurn.plot.layer_stats(dead, {logy = true, file = dir .. "/log.svg"}) end)
      assert.matches("set logscale y", scripts[1], 1, true)
      assert.matches("2 values <= 0 left out of the log y axis", scripts[1], 1, true)
      err = helpers.stderr(function() lurn.plot.layer_stats(all_dead, {logy = true, file = dir .. "/log0.svg"}) end)
      assert.equal("", err)
    end)

    it("refuses unknown stats and records without the stat", function()
      assert.error_matches(function() lurn.plot.layer_stats(RECORDS, {stat = "grad"}) end, "stat must be one of act_mean")
      assert.error_matches(function() lurn.plot.layer_stats(RECORDS, {stat = "update_ratio"}) end,
        "no record has a value for update_ratio")
      assert.error_matches(function() lurn.plot.layer_stats({{grad_norm = 1}}) end, "records%[1%] has no layer name")
      assert.error_matches(function() lurn.plot.layer_stats("x") end, "takes the records of a LayerStats callback")
    end)
  end)
end)
