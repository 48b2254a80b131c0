--- lurn.plot: pictures of training through gnuplot (Debian's gnuplot-nox), as Torch7's
-- gnuplot package drew them. Each function writes a PNG (pngcairo) or SVG file by the
-- extension of `file` and returns its name, or, without `file`, draws the plot in the
-- terminal with gnuplot's text terminal and returns nothing; `file = "NAME.gp"` saves
-- the gnuplot script itself, data inline, without running gnuplot. docs/api.md, "Plots".
local at_user_line = require "lurn.at_user_line"
local lines = require "lurn.plot.lines"

local plot = {
  history = lines.history,
  lines = lines.lines,
  layer_stats = lines.layer_stats,
  bars = require "lurn.plot.bars",
  heatmap = require "lurn.plot.heatmap",
  images = require "lurn.plot.images",
}

-- Errors point at the user's line, not into these files.
for name, fn in pairs(plot) do plot[name] = at_user_line(fn) end

return plot
