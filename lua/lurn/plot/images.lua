--- lurn.plot.images: a grid of images from a (N, H, W, C) or (N, H, W) tensor, C = 1
-- (grey) or 3 (RGB), each titled by its label: augmentation previews, misclassified
-- samples. Values in [0, 1] or [0, 255] are shown as they are; any other range is
-- stretched to black..white over all the images. The range is that of the finite values:
-- +inf and -inf pixels are drawn white and black, NaN pixels magenta ('?' in the terminal),
-- so that one bad pixel neither hides nor darkens the rest. In the terminal each pixel is
-- a character of a ramp from ' ' to '@'. The data sent to gnuplot are the pixels scaled to
-- whole numbers 0..255 (-1 for NaN): grey images as one matrix of values per image (each
-- value drawn as its three equal channels), RGB images as rows "x y r g b". Internal.
local core = require "lurn.core"
local gnuplot = require "lurn.plot.gnuplot"
local options = require "lurn.options"
local values = require "lurn.plot.values"

local text = gnuplot.text

local fail = values.fail

--- At most this many images in one grid (a whole data set by mistake would make a huge script).
local MAX_IMAGES = 256

local INF = math.huge

-- The range of the finite values of a flat list, or nil when none is finite (comparisons
-- with NaN are false, so NaN never enters it).
local function finite_range(flat)
  local lo, hi = INF, -INF
  for i = 1, #flat do
    local v = flat[i]
    if v < lo and v > -INF then lo = v end
    if v > hi and v < INF then hi = v end
  end
  if lo > hi then return nil end
  return lo, hi
end

-- value -> a whole number 0..255 for the range of the images' finite values; NaN -> -1.
local function scaler(flat)
  local lo, hi = finite_range(flat)
  local a, b = 255, 0 -- v -> a * v + b ([0, 1], and when no value is finite)
  if lo and not (lo >= 0 and hi <= 1) then
    if lo >= 0 and hi <= 255 then a, b = 1, 0
    elseif hi > lo then a, b = 255 / (hi - lo), -lo * 255 / (hi - lo)
    else a, b = 0, 0 end
  end
  return function(v)
    if v ~= v then return -1 end
    if v == INF then return 255 end
    if v == -INF then return 0 end
    local s = a * v + b
    if s <= 0 then return 0 end
    if s >= 255 then return 255 end
    return math.floor(s + 0.5)
  end
end

-- The data block of image i (0-based offset `first` into the flat pixels): for grey, H lines
-- of W values (gnuplot's `matrix`: column x, row y, both from 0); for RGB, rows "x y r g b",
-- all three -1 where a channel is NaN.
local function image_block(name, flat, first, h, w, rgb, scale)
  local lines = {"$" .. name .. " << EOD"}
  if not rgb then
    local line = {}
    for y = 0, h - 1 do
      local at = first + y * w
      for x = 1, w do
        line[x] = scale(flat[at + x])
      end
      lines[#lines + 1] = table.concat(line, " ")
    end
  else
    for y = 0, h - 1 do
      for x = 0, w - 1 do
        local at = first + (y * w + x) * 3
        local r, g, b = scale(flat[at + 1]), scale(flat[at + 2]), scale(flat[at + 3])
        if r < 0 or g < 0 or b < 0 then r, g, b = -1, -1, -1 end
        lines[#lines + 1] = ("%d %d %d %d %d"):format(x, y, r, g, b)
      end
    end
  end
  lines[#lines + 1] = "EOD\n"
  return table.concat(lines, "\n")
end

--- images(tensor, {labels =, cols =, file =, title =})
return function(tensor, opts)
  local where = "lurn.plot.images"
  options.check(opts, {"labels", "cols", "file", "title"}, where, 1)
  opts = opts or {}
  local out = gnuplot.output(opts.file, where)
  if not core.is_tensor(tensor) then fail(where, "takes a tensor of images (N, H, W, C) or (N, H, W), got %s", type(tensor)) end
  local shape = tensor:shape()
  local channels = 0 -- 0: (N, H, W)
  if #shape == 4 then
    channels = shape[4]
    if channels ~= 1 and channels ~= 3 then
      fail(where, "images must have 1 or 3 channels (N, H, W, C), got C = %d", channels)
    end
  elseif #shape ~= 3 then
    fail(where, "takes a tensor of images (N, H, W, C) or (N, H, W), got %d dimensions", #shape)
  end
  local n, h, w = shape[1], shape[2], shape[3]
  if n == 0 or h == 0 or w == 0 then fail(where, "the tensor holds no pixels (shape %s)", table.concat(shape, "x")) end
  if n > MAX_IMAGES then fail(where, "%d images: plot at most %d at a time (t:narrow(1, 1, %d))", n, MAX_IMAGES, MAX_IMAGES) end
  if tensor:numel() > values.MAX_POINTS then
    fail(where, "%d images of %d x %d pixels: more than %d values to plot", n, h, w, values.MAX_POINTS)
  end
  local labels = values.labels(opts.labels, n, where, "labels")
  local cols = values.count(opts.cols, math.min(n, 8), 1, MAX_IMAGES, where, "cols")
  local rows = math.ceil(n / cols)
  local flat = tensor:reshape(tensor:numel()):totable()
  local scale = scaler(flat)
  local rgb = channels == 3
  local parts = {}
  for i = 1, n do parts[i] = image_block("img" .. i, flat, (i - 1) * h * w * (rgb and 3 or 1), h, w, rgb, scale) end
  parts[#parts + 1] = table.concat{
    "set multiplot layout ", rows, ",", cols, " title ", text(values.text(opts.title, where, "title") or ""), "\n",
    "set xrange [-0.5:", w - 0.5, "]\nset yrange [", h - 0.5, ":-0.5]\n",
    "unset xtics\nunset ytics\nunset key\nunset colorbox\nunset border\n",
    out.kind == "text" and "" or "set size ratio -1\n",
    -- NaN pixels (-1) are drawn magenta: magenta(v, c) is channel c of magenta where v is -1
    "magenta(v, c) = v < 0 ? c : v\n",
    "packed(r, g, b) = r < 0 ? 16711935 : int(r) * 65536 + int(g) * 256 + int(b)\n",
    "ramp(v) = v < 0 ? '?' : substr(' .:-=+*#%@', 1 + int(v / 25.6), 1 + int(v / 25.6))\n",
  }
  -- rgbimage needs a 2 x 2 grid at least: smaller images are boxes of the packed colour
  local tiny = h < 2 or w < 2
  local how
  if out.kind == "text" then
    how = rgb and "using 1:2:(ramp(($3 + $4 + $5) / 3)) with labels" or "matrix using 1:2:(ramp($3)) with labels"
  elseif tiny then
    how = (rgb and "using 1:2:(0.5):(0.5):(packed($3, $4, $5))"
      or "matrix using 1:2:(0.5):(0.5):(packed($3, $3, $3))") .. " with boxxyerror fillstyle solid noborder linecolor rgb variable"
  else
    how = (rgb and "using 1:2:(magenta($3, 255)):(magenta($4, 0)):(magenta($5, 255))"
      or "matrix using 1:2:(magenta($3, 255)):(magenta($3, 0)):(magenta($3, 255))") .. " with rgbimage"
  end
  for i = 1, n do
    local title = labels and labels[i] or ""
    parts[#parts + 1] = ("set title %s\nplot $img%d %s notitle\n"):format(text(title), i, how)
  end
  -- Layout slots left empty by a last short row are simply not drawn.
  parts[#parts + 1] = "unset multiplot\n"
  local side = math.max(80, math.min(400, 4 * math.max(h, w)))
  return gnuplot.plot(where, table.concat(parts), out, {cols * side + 40, rows * (side + 30) + 40})
end
