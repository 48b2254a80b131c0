--- Per-layer statistics as rows a person reads: the C rows of the model's last recorded
-- run (src/nn/layer_stats.c), one per layer of model.layers with containers expanded
-- (a Residual's inner layers and projection), named and typed as the Lua layers are. A
-- layer whose activation is a Lua function runs as two C layers; its row takes the
-- output statistics from the activation and the norms from the layer.
local layer_stats = {}

-- The statistics of a row, in the order CSV files and plots list them.
layer_stats.FIELDS = {"act_mean", "act_std", "dead_fraction", "saturated_fraction", "grad_norm", "weight_norm",
                      "update_ratio"}
local OUTPUT = {act_mean = true, act_std = true, dead_fraction = true, saturated_fraction = true}

-- The layers that run, containers expanded, in model.layers order (an InputLayer runs nothing).
local function leaves(layers, out)
  for _, layer in ipairs(layers) do
    if layer._sublayers then
      leaves(layer:_sublayers(), out)
    elseif layer.layers then
      leaves(layer.layers, out)
    elseif #layer:cores() > 0 then
      out[#out + 1] = layer
    end
  end
  return out
end

-- Column titles of the text table (statistics shortened to fit a terminal).
local TITLES = {act_mean = "act_mean", act_std = "act_std", dead_fraction = "dead", saturated_fraction = "saturated",
                grad_norm = "grad_norm", weight_norm = "weight_norm", update_ratio = "update"}

--- The rows as a text table, one line per row, "-" where a value does not apply; rows
-- with epoch and batch (LayerStats' records) get those columns first.
function layer_stats.text(rows)
  local columns = {"name", "type"}
  if rows[1] and rows[1].epoch ~= nil then columns = {"epoch", "batch", "name", "type"} end
  for _, field in ipairs(layer_stats.FIELDS) do columns[#columns + 1] = field end
  local cells, widths = {}, {}
  for c, key in ipairs(columns) do widths[c] = #(TITLES[key] or key) end
  for r, row in ipairs(rows) do
    cells[r] = {}
    for c, key in ipairs(columns) do
      local v = row[key]
      local text = v == nil and "-" or math.type(v) == "float" and ("%.4g"):format(v) or tostring(v)
      cells[r][c] = text
      widths[c] = math.max(widths[c], #text)
    end
  end
  local function line(values)
    local parts = {}
    for c, text in ipairs(values) do
      parts[c] = c <= #columns - #layer_stats.FIELDS and ("%-" .. widths[c] .. "s"):format(text)
                 or ("%" .. widths[c] .. "s"):format(text)
    end
    return table.concat(parts, "  ")
  end
  local titles = {}
  for c, key in ipairs(columns) do titles[c] = TITLES[key] or key end
  local out = {line(titles)}
  for r = 1, #rows do out[#out + 1] = line(cells[r]) end
  return table.concat(out, "\n")
end

-- Lists of rows print as that table (in the REPL, with print or tostring).
layer_stats.ROWS = {__tostring = layer_stats.text}

--- The rows of the model's last recorded run: {name =, type =, act_mean =, ...}, a value
-- absent (nil) where it does not apply (see docs/api.md, model:layer_stats).
function layer_stats.rows(model)
  local by_id = {}
  for _, row in ipairs(model._core:layer_stats()) do by_id[row.id] = row end
  local rows = {}
  for _, layer in ipairs(leaves(model.layers, {})) do
    local cores = layer:cores()
    local own, output = by_id[cores[1]:id()], by_id[cores[#cores]:id()]
    if own and output then
      local row = {name = layer.name, type = layer.class_name}
      for _, field in ipairs(layer_stats.FIELDS) do row[field] = (OUTPUT[field] and output or own)[field] end
      rows[#rows + 1] = row
    end
  end
  return setmetatable(rows, layer_stats.ROWS)
end

return layer_stats
