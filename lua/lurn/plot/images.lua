--- lurn.plot.images: a grid of images from a (N, H, W, C) or (N, H, W) tensor, C = 1
-- (grey) or 3 (RGB), each titled by its label: augmentation previews, misclassified
-- samples. Values in [0, 1] or [0, 255] are shown as they are; any other range is
-- stretched to black..white over all the images. In the terminal each pixel is a
-- character of a ramp from ' ' to '@'. Internal.
local core = require "lurn.core"
local gnuplot = require "lurn.plot.gnuplot"
local options = require "lurn.options"
local values = require "lurn.plot.values"

local text = gnuplot.text

local function fail(where, fmt, ...) error(where .. ": " .. fmt:format(...), 0) end

--- At most this many images in one grid (a whole data set by mistake would make a huge script).
local MAX_IMAGES = 256

-- value -> 0..255 for the range of the images.
local function scaler(t)
  local lo, hi = t:min(), t:max()
  if lo ~= lo or hi ~= hi then return function(v) return v end end
  if lo >= 0 and hi <= 1 then return function(v) return v * 255 end end
  if lo >= 0 and hi <= 255 then return function(v) return v end end
  local span = hi - lo
  return function(v) return span > 0 and (v - lo) / span * 255 or 0 end
end

-- The rows "x y r g b" of one image (x a column, y a row, both from 0); NaN pixels stay NaN (not drawn).
local function pixels(image, channels, scale)
  local rows = {}
  for y, line in ipairs(image) do
    for x, px in ipairs(line) do
      local r, g, b
      if channels == 0 then
        r = scale(px); g, b = r, r
      elseif channels == 1 then
        r = scale(px[1]); g, b = r, r
      else
        r, g, b = scale(px[1]), scale(px[2]), scale(px[3])
      end
      rows[#rows + 1] = {x - 1, y - 1, r, g, b}
    end
  end
  return rows
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
  local scale = scaler(tensor)
  local images = tensor:totable()
  local parts = {}
  for i = 1, n do parts[i] = gnuplot.datablock("img" .. i, pixels(images[i], channels, scale)) end
  parts[#parts + 1] = table.concat{
    "set multiplot layout ", rows, ",", cols, " title ", text(values.text(opts.title, where, "title") or ""), "\n",
    "set xrange [-0.5:", w - 0.5, "]\nset yrange [", h - 0.5, ":-0.5]\n",
    "unset xtics\nunset ytics\nunset key\nunset colorbox\nunset border\n",
    out.kind == "text" and "" or "set size ratio -1\n",
    "ramp(v) = v != v ? ' ' : substr(' .:-=+*#%@', 1 + int(v / 25.6), 1 + int(v / 25.6))\n",
  }
  for i = 1, n do
    local title = labels and labels[i] or ""
    local how = "using 1:2:3:4:5 with rgbimage"
    if out.kind == "text" then
      how = "using 1:2:(ramp(($3 + $4 + $5) / 3)) with labels"
    elseif h < 2 or w < 2 then -- rgbimage needs a 2 x 2 grid at least: boxes of the packed colour
      how = "using 1:2:(0.5):(0.5):(int($3) * 65536 + int($4) * 256 + int($5)) with boxxyerror "
        .. "fillstyle solid noborder linecolor rgb variable"
    end
    parts[#parts + 1] = ("set title %s\nplot $img%d %s notitle\n"):format(text(title), i, how)
  end
  -- Layout slots left empty by a last short row are simply not drawn.
  parts[#parts + 1] = "unset multiplot\n"
  local side = math.max(80, math.min(400, 4 * math.max(h, w)))
  return gnuplot.plot(where, table.concat(parts), out, {cols * side + 40, rows * (side + 30) + 40})
end
