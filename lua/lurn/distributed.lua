--- lurn.distributed: the processes of one job started by `mpirun -np N lurn script.lua`
-- (issue 21, docs/distributed.md). Every process runs the same script; rank() tells them
-- apart. Over Open MPI when lurn was built with it (built()); otherwise, and whenever the
-- script was not started by mpirun, one process: rank 0 of 1, every collective leaves its
-- tensor as it is, and map runs every config here.
--
-- `require "lurn"` calls init() itself under mpirun; calling it again does nothing.
-- Collectives (barrier, allreduce, broadcast, map) must be called by every rank, in the
-- same order, with tensors of the same size: a rank that gives another size makes every
-- rank fail with an error, and a rank that ends with an error, or dies, makes mpirun end
-- the others (docs/distributed.md, "When something fails").
local core = require "lurn.core"
local json = require "lurn.models.json"
local at_user_line = require "lurn.at_user_line"

local distributed = {}

--- built() -> true when lurn was built with MPI (libopenmpi-dev when CMake ran).
function distributed.built() return core.dist_built() end

--- init(): starts MPI when the process was started by mpirun; else, and on later calls, nothing.
function distributed.init() core.dist_init() end

--- rank() -> 0 .. size() - 1; size() -> the processes in the job (1 without mpirun).
function distributed.rank() return core.dist_rank() end
function distributed.size() return core.dist_size() end

--- is_main() -> true on rank 0, the rank that prints and writes files.
function distributed.is_main() return core.dist_rank() == 0 end

--- barrier(): returns when every rank has called it.
function distributed.barrier() core.dist_barrier() end

--- allreduce(t) -> t, which becomes, element by element, the sum of every rank's t.
function distributed.allreduce(t) return core.dist_allreduce(t) end

--- broadcast(t [, root]) -> t, which becomes root's t (root 0 by default).
function distributed.broadcast(t, root) return core.dist_broadcast(t, root) end

-- A message as one line of a report: the error object as text, its traceback left out.
local function message_of(err)
  if type(err) == "string" or type(err) == "number" then return tostring(err) end
  if (getmetatable(err) or {}).__tostring then
    local ok, text = pcall(tostring, err)
    if ok and type(text) == "string" then return text end
  end
  return ("(error object is a %s value)"):format(type(err))
end

-- Calls of fn now running on this rank by itself (run_alone, map's configs): a model:fit
-- inside one trains here alone, not as one data-parallel fit of every rank.
local alone = 0

--- run_alone(fn, ...) -> fn(...): fn runs on this rank by itself: a model:fit inside it
-- trains on this rank's data alone instead of as one data-parallel fit of every rank (map
-- runs each config so). Collectives called inside fn are still the whole job's.
function distributed.run_alone(fn, ...)
  if type(fn) ~= "function" and not (getmetatable(fn) or {}).__call then
    error(("lurn.distributed.run_alone: fn must be a function, got %s"):format(type(fn)), 2)
  end
  alone = alone + 1
  local result = table.pack(pcall(fn, ...))
  alone = alone - 1
  if not result[1] then error(result[2], 0) end
  return table.unpack(result, 2, result.n)
end

--- Internal: whether this rank runs on its own now (inside run_alone or map's fn): fit's test.
function distributed._alone() return alone > 0 end

-- fn(config, i) run here, alone: the JSON text of {i =, value =} or of {i =, error =}. A
-- result that is not plain data is that config's error, in one process as in N.
local function run_one(fn, config, i, rank, size)
  alone = alone + 1
  local ok, value = pcall(fn, config, i)
  alone = alone - 1
  if ok and value == nil then return ('{"i":%d}'):format(i), nil end  -- a hole in the list, as in a loop
  if ok then
    local encoded, text = pcall(json.encode, value, ("the result of config %d"):format(i))
    if encoded then return ('{"i":%d,"value":%s}'):format(i, text), nil end
    value = text .. " (map gathers plain data: numbers, strings, booleans and tables of them)"
  end
  local err = ("config %d failed on rank %d of %d: %s"):format(i, rank, size, message_of(value))
  return json.encode{i = i, error = err}, err
end

local function check_map(who, configs, fn)
  if type(configs) ~= "table" then
    error(("%s: configs must be a list, got %s"):format(who, type(configs)), 3)
  end
  if type(fn) ~= "function" and not (getmetatable(fn) or {}).__call then
    error(("%s: fn must be a function(config, i), got %s"):format(who, type(fn)), 3)
  end
end

-- map's work: rank 0 gets the results (a list, holes where fn returned nil), the other
-- ranks nil; an error at `level` on every rank when fn failed on any.
local function map_to_main(who, configs, fn, level)
  local rank, size, n = core.dist_rank(), core.dist_size(), #configs
  local parts, mine = {}, nil
  for i = rank + 1, n, size do
    local text, err = run_one(fn, configs[i], i, rank, size)
    parts[#parts + 1] = text
    if err then mine = err break end
  end
  local texts = core.dist_gather("[" .. table.concat(parts, ",") .. "]", 0)
  local failed = core.dist_allreduce(core.tensor{mine and 1 or 0}):item()
  if rank ~= 0 then
    if failed > 0 then
      error(("%s: %s"):format(who, mine or ("%d rank(s) failed; rank 0 reports their errors"):format(failed)), level)
    end
    return nil
  end
  local results, errors = {}, {}
  for _, text in ipairs(texts) do
    for _, entry in ipairs(json.decode(text)) do
      if entry.error then errors[#errors + 1] = entry else results[entry.i] = entry.value end
    end
  end
  if #errors > 0 then
    table.sort(errors, function(a, b) return a.i < b.i end)
    local lines = {}
    for k, e in ipairs(errors) do lines[k] = e.error end
    error(("%s: %s"):format(who, table.concat(lines, "\n")), level)
  end
  return results
end

--- map(configs, fn) -> on rank 0, the list of fn(configs[i], i) for every i, in the list's
-- order (nil where fn returned nothing); nil on the other ranks. Rank r runs i = r + 1,
-- r + 1 + size(), ... with its own threads; the results travel as plain data (numbers,
-- strings, booleans, tables of them; never code), in one process too, so that a script
-- gives the same results under any number of ranks. A rank stops its share at its first
-- error; when fn fails on any rank, every rank raises an error once all have finished,
-- rank 0's naming each failed config with its rank and message.
function distributed.map(configs, fn)
  check_map("lurn.distributed.map", configs, fn)
  -- not a tail call, so that level 3 is map's caller
  local results = map_to_main("lurn.distributed.map", configs, fn, 3)
  return results
end

--- map_all(configs, fn) -> map's list on every rank (rank 0 sends it to the others), for
-- code that goes on the same way on every rank after the map.
function distributed.map_all(configs, fn)
  local who = "lurn.distributed.map_all"
  check_map(who, configs, fn)
  local results = map_to_main(who, configs, fn, 3)
  if core.dist_size() == 1 then return results end
  local entries = {}
  if results then
    for i = 1, #configs do entries[#entries + 1] = {i = i, value = results[i]} end
  end
  local text = core.dist_broadcast_string(results and json.encode(entries) or "", 0)
  results = {}
  for _, entry in ipairs(json.decode(text)) do results[entry.i] = entry.value end
  return results
end

for name, f in pairs(distributed) do
  if name ~= "map" and name ~= "map_all" then distributed[name] = at_user_line(f) end
end
return distributed
