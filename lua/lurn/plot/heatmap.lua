--- lurn.plot.heatmap: a matrix as coloured cells with its numbers written in them, row 1
-- at the top (a confusion matrix reads as scikit-learn prints it: true classes down,
-- predicted across). In the terminal, the numbers alone at their places. Internal.
local gnuplot = require "lurn.plot.gnuplot"
local options = require "lurn.options"
local values = require "lurn.plot.values"

local text, number = gnuplot.text, gnuplot.number

local fail = values.fail

-- The range of the finite values (widened when they are all equal, as a colour scale needs).
local function range(rows)
  local lo, hi = math.huge, -math.huge
  for _, row in ipairs(rows) do
    for _, v in ipairs(row) do
      if v == v and v ~= math.huge and v ~= -math.huge then lo, hi = math.min(lo, v), math.max(hi, v) end
    end
  end
  if lo > hi then return 0, 1 end
  if lo == hi then return lo - 1, hi + 1 end
  return lo, hi
end

--- heatmap(matrix, {labels =, file =, title =, xlabel =, ylabel =})
return function(matrix, opts)
  local where = "lurn.plot.heatmap"
  options.check(opts, {"labels", "file", "title", "xlabel", "ylabel"}, where, 1)
  opts = opts or {}
  local out = gnuplot.output(opts.file, where)
  local rows = values.matrix(matrix, where, "matrix")
  local nrow, ncol = #rows, #rows[1]
  local tics = ""
  if opts.labels ~= nil then
    if nrow ~= ncol then
      fail(where, "labels name the rows and the columns alike: the matrix must be square, got %d x %d", nrow, ncol)
    end
    local labels = values.labels(opts.labels, nrow, where, "labels")
    local list = {}
    for j, label in ipairs(labels) do list[j] = ("%s %d"):format(gnuplot.tic_label(label), j - 1) end
    tics = ("set xtics (%s)\nset ytics (%s)\n"):format(table.concat(list, ", "), table.concat(list, ", "))
  else
    tics = "set xtics 1 format ''\nset ytics 1 format ''\n"
  end
  local cell = "sprintf('%g', $3)"
  local plot
  if out.kind == "text" then
    plot = ("plot $cells matrix using 1:2:(%s) with labels notitle\n"):format(cell)
  else
    -- Cells as filled boxes rather than `with image`, which needs a 2 x 2 grid at least;
    -- numbers above the middle of the range are on dark cells and written white.
    local lo, hi = range(rows)
    local mid = number((lo + hi) / 2)
    plot = table.concat{
      "set cbrange [", number(lo), ":", number(hi), "]\n",
      "plot $cells matrix using 1:2:(0.5):(0.5):3 with boxxyerror fillstyle solid noborder fillcolor palette notitle, \\\n",
      "  $cells matrix using 1:2:($3 > ", mid, " ? ", cell, " : '') with labels textcolor 'white' notitle, \\\n",
      "  $cells matrix using 1:2:($3 > ", mid, " ? '' : ", cell, ") with labels textcolor 'black' notitle\n",
    }
  end
  local body = table.concat{
    gnuplot.datablock("cells", rows),
    "set title ", text(values.text(opts.title, where, "title") or ""), "\n",
    "set xlabel ", text(values.text(opts.xlabel, where, "xlabel") or ""), "\n",
    "set ylabel ", text(values.text(opts.ylabel, where, "ylabel") or ""), "\n",
    tics,
    "set xrange [-0.5:", ncol - 0.5, "]\nset yrange [", nrow - 0.5, ":-0.5]\n",
    "set palette defined (0 '#ffffff', 1 '#08306b')\nset tics scale 0\nunset key\n",
    plot,
  }
  local side = math.max(400, math.min(1600, 60 * math.max(nrow, ncol) + 160))
  return gnuplot.plot(where, body, out, {side + 80, side})
end
