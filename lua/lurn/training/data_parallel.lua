--- Data-parallel fit (issue 21): what Model:fit does differently when the script runs in N
-- processes (mpirun -np N lurn train.lua, lurn.distributed). batch_size stays the global
-- batch, as in Keras' distribution strategies: every process holds the whole data set and
-- the same shuffled order, and takes its shard of every global batch (a batch N does not
-- divide gives the first ranks one sample more); the model's C step
-- (data_parallel_step, src/nn/data_parallel.c) sums the shards' gradients, each weighted
-- by its share of the batch, so that the loss and gradient stay the global batch's mean.
-- The running loss and the metrics' states are summed over the processes after every
-- batch, so every process logs the same numbers and its callbacks take the same decisions.
-- With one process none of this runs: fit keeps its own path.
local core = require "lurn.core"
local metrics = require "lurn.metrics"

local data_parallel = {}

--- The job fit runs in: {rank =, size =} when there are several processes, or nil, also
-- inside lurn.distributed.run_alone and map's configs (each rank trains its own model).
function data_parallel.job()
  local dist = require "lurn.distributed"
  if dist.size() <= 1 or dist._alone() then return nil end
  return {rank = dist.rank(), size = dist.size()}
end

--- Every rank must run the same fit on the same data (each then takes its own shard of
-- every batch): the counts in `values` ({name = number}, e.g. the training samples) are
-- compared over the ranks, and a rank whose count is not the ranks' mean raises an error
-- naming it (ranks that differ cannot all match the mean, so one raises, and mpirun ends
-- the job). what: the caller's name, for the message.
function data_parallel.check_same(job, what, values)
  local names, numbers = {}, {}
  for name in pairs(values) do names[#names + 1] = name end
  table.sort(names)
  for i, name in ipairs(names) do numbers[i] = values[name] end
  local total = core.allreduce_numbers(numbers)
  for i, name in ipairs(names) do
    if total[i] ~= numbers[i] * job.size then
      error(("%s under %d processes: rank %d has %s = %s, but the ranks do not all have the same (mean %s): every "
        .. "rank must call fit with the same data and options (each takes its own shard of every batch)"):format(
        what, job.size, job.rank, name, tostring(numbers[i]), tostring(total[i] / job.size)), 0)
    end
  end
end

--- Rank 0's random generator into every rank's: the shuffled order of every epoch is then
-- the same everywhere even when a rank drew numbers of its own before fit.
function data_parallel.share_random_state()
  core.set_rng_state(core.dist_broadcast_string(core.rng_state(), 0))
end

--- Whether this process prints and writes files for a model being fit: always, but in a
-- data-parallel fit (model._job, set by fit under several processes) on rank 0 alone.
function data_parallel.is_main(model)
  local job = type(model) == "table" and model._job
  return not job or job.rank == 0
end

--- This process's part of a global batch of `size` samples starting at position `start`
-- (1-based): its first position and count. The first size % N ranks take one more.
function data_parallel.shard(job, start, size)
  local base, extra = size // job.size, size % job.size
  return start + job.rank * base + math.min(job.rank, extra), base + (job.rank < extra and 1 or 0)
end

--- As epoch.tensor_batches, but each global batch of batch_size rows (the last may be
-- smaller) gives this process only its shard (possibly no rows at all).
function data_parallel.shard_batches(job, x, y, w, batch_size, order)
  local n = x:size(1)
  local function next_batch(b)
    local start = (b - 1) * batch_size + 1
    local first, count = data_parallel.shard(job, start, math.min(batch_size, n - start + 1))
    if count == 0 then
      return x:narrow(1, 1, 0):contiguous(), y:narrow(1, 1, 0):contiguous(), w and w:narrow(1, 1, 0):contiguous()
    end
    local idx = {}
    for i = 1, count do idx[i] = order and order[first + i - 1] or first + i - 1 end
    return x:index(1, idx), y:index(1, idx), w and w:index(1, idx)
  end
  return next_batch, math.ceil(n / batch_size)
end

--- Whether every process has a batch (has: this one's): a generator's epoch ends for all
-- when one's ends, the others' batches of that step left out.
function data_parallel.all_have(job, has)
  return core.allreduce_numbers{has and 1 or 0}[1] == job.size
end

--- The global size of batch b of an epoch over n samples.
function data_parallel.global_size(n, batch_size, b)
  return math.min(batch_size, n - (b - 1) * batch_size)
end

--- For epoch.run: the logs of every process's batches so far (the running loss, the
-- metrics), the same in every process. Each metric's state is summed over the processes
-- and its result written while the sum stands in for the process's own state.
function data_parallel.reduce_logs(metric_list, logs, loss_sum, seen)
  local numbers, own = {loss_sum, seen}, {}
  for i, m in ipairs(metric_list) do
    own[i] = metrics._state(m)
    table.move(own[i], 1, #own[i], #numbers + 1, numbers)
  end
  local total = core.allreduce_numbers(numbers)
  logs.loss = total[2] > 0 and total[1] / total[2] or 0
  local at = 3
  for i, m in ipairs(metric_list) do
    metrics._set_state(m, table.move(total, at, at + #own[i] - 1, 1, {}))
    metrics._write_log(m, logs)
    metrics._set_state(m, own[i])
    at = at + #own[i]
  end
end

--- Runs fn(...) with the process's generator as this rank's own stream for the epoch's
-- draws (Dropout, noise layers), derived from the generator every process shares
-- (core.rank_stream); the shared one is back afterwards, so that the next epoch's shuffle
-- is the same everywhere and a backup keeps the state every process shares.
function data_parallel.with_rank_stream(job, fn, ...)
  local shared = core.rank_stream(job.rank)
  local result = table.pack(pcall(fn, ...))
  core.set_rng_state(shared)
  if not result[1] then error(result[2], 0) end
  return table.unpack(result, 2, result.n)
end

return data_parallel
