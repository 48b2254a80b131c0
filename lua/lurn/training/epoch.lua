--- One pass over batches, the loop fit and evaluate share: each batch goes through
-- step(xb, yb, wb, b) -> loss, predictions and the mask the output carried (or nil: see
-- metrics._update); the running loss (weighted by batch size) and
-- the metrics make the logs, which on_batch(b, logs) sees after every batch. Batches come
-- from a source: tensors cut in order or in a shuffled order, or a generator.
local core = require "lurn.core"
local metrics = require "lurn.metrics"

local epoch = {}

local function batch_buffer(t, size)
  local s = t:shape()
  s[1] = size
  return core.zeros(s)
end

--- The batches of tensors x, y (and weights w) of batch_size rows, in `order` (a list of
-- 1-based positions) or as they stand; the last one may be smaller. Returns
-- next_batch(b) -> xb, yb, wb, and the number of batches.
function epoch.tensor_batches(x, y, w, batch_size, order)
  local n = x:size(1)
  local xb, yb = batch_buffer(x, batch_size), batch_buffer(y, batch_size)
  local wb = w and core.zeros{batch_size}
  local function next_batch(b)
    local start = (b - 1) * batch_size + 1
    local size = math.min(batch_size, n - start + 1)
    if size < batch_size then  -- the last partial batch is kept
      xb, yb = batch_buffer(x, size), batch_buffer(y, size)
      wb = w and core.zeros{size}
    end
    if order then
      local idx = table.move(order, start, start + size - 1, 1, {})
      return x:index(1, idx, xb), y:index(1, idx, yb), w and w:index(1, idx, wb)
    end
    return x:narrow(1, start, size), y:narrow(1, start, size), w and w:narrow(1, start, size)
  end
  return next_batch, math.ceil(n / batch_size)
end

--- Runs up to n_batches batches from next_batch (which may end them early by returning
-- nil) through step; stop() (optional) ends the pass after a batch. Returns the logs and
-- the number of batches run. reduce (optional: data-parallel fit's, which sums over the
-- processes) writes the logs from the running loss sum and sample count instead; a step
-- on a shard with no sample returns no predictions.
function epoch.run(next_batch, n_batches, step, metric_list, on_batch, stop, reduce)
  local loss_sum, seen, logs, done = 0, 0, {}, 0
  for b = 1, n_batches do
    local xb, yb, wb = next_batch(b)
    if xb == nil then break end
    local loss, pred, mask = step(xb, yb, wb, b)
    local size = xb:size(1)
    loss_sum, seen = loss_sum + loss * size, seen + size
    if pred then metrics._update(metric_list, pred, yb, wb, mask) end
    if reduce then
      reduce(metric_list, logs, loss_sum, seen)
    else
      logs.loss = loss_sum / seen
      for _, m in ipairs(metric_list) do metrics._write_log(m, logs) end
    end
    done = b
    if on_batch then on_batch(b, logs) end
    if stop and stop() then break end
  end
  return logs, done
end

return epoch
