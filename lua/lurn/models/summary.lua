--- The Keras-style summary table of a model, printed line by line: the model's name, a
-- rule, the column titles, then one row per layer between rules, then the parameter
-- totals. Sequential and Functional give their columns and rows (model:_summary_table);
-- this file is the one place that lays them out. Internal: not part of the lurn table.
local thousands = require("lurn.text").thousands

local summary = {}

--- A column: its title, the narrowest it is, whether its cells are right-aligned, the
-- spaces before it, and how much room it keeps after the widest cell (`gap`: 1 keeps a
-- space between a left-aligned cell and the next column).
function summary.column(title, min_width, opts)
  opts = opts or {}
  return {title = title, min_width = min_width, right = opts.right or false, before = opts.before or "",
          gap = opts.gap or 0}
end

-- One line of cells, each padded to its column's width; trailing spaces go (a left-aligned
-- last column, or empty cells at the end).
local function line(columns, widths, cells)
  local parts = {}
  for i, col in ipairs(columns) do
    local fmt = "%" .. (col.right and "" or "-") .. widths[i] .. "s"
    parts[i] = col.before .. fmt:format(cells[i] or "")
  end
  return (table.concat(parts):gsub("%s+$", ""))
end

--- Prints the table through print_fn. rows: one list of cells per layer, in the columns'
-- order; the last cell may be a list (a layer reading several others, "Connected to"),
-- one entry a line. total, trainable: the parameter counts.
function summary.print(print_fn, model_name, columns, rows, total, trainable)
  local widths, last = {}, #columns
  for i, col in ipairs(columns) do widths[i] = col.min_width end
  for _, row in ipairs(rows) do
    for i, col in ipairs(columns) do
      local cells = type(row[i]) == "table" and row[i] or {row[i] or ""}
      for _, cell in ipairs(cells) do widths[i] = math.max(widths[i], #cell + col.gap) end
    end
  end
  local length = 0
  for i, col in ipairs(columns) do length = length + #col.before + widths[i] end
  local rule, double = ("_"):rep(length), ("="):rep(length)
  print_fn(('Model: "%s"'):format(model_name))
  print_fn(rule)
  local titles = {}
  for i, col in ipairs(columns) do titles[i] = col.title end
  print_fn(line(columns, widths, titles))
  print_fn(double)
  for r, row in ipairs(rows) do
    local many = type(row[last]) == "table" and row[last] or {row[last]}
    local cells = table.move(row, 1, last - 1, 1, {})
    cells[last] = many[1]
    print_fn(line(columns, widths, cells))
    for k = 2, #many do print_fn(line(columns, widths, {[last] = many[k]})) end
    print_fn(r < #rows and rule or double)
  end
  print_fn("Total params: " .. thousands(total))
  print_fn("Trainable params: " .. thousands(trainable))
  print_fn("Non-trainable params: " .. thousands(total - trainable))
  print_fn(rule)
end

return summary
