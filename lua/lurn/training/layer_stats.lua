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
  return rows
end

return layer_stats
