--- compare(configs, x, y, {build =, ...}): named variants side by side, each a builder
-- of its own or overrides of a base model (optimizer, learning rate, initializer,
-- activation, regularizer, batch size, epochs, scaler, class weights), all trained from
-- the same seed on the same split; learning curves and a table.
local runs = require "lurn.experiments.runs"
local report = require "lurn.experiments.report"
local variants = require "lurn.experiments.variants"

local WHO = "compare"

local function is_builder(v)
  return type(v) == "function" or (type(v) == "table" and type(v.get_config) == "function")
end

-- configs -> a list of entries {name =, ...}: a list of entries, or a table name ->
-- builder or overrides (taken in the order of the names).
local function entries(configs)
  if type(configs) ~= "table" or next(configs) == nil then
    error(WHO .. ": configs must be a non-empty list of {name =, ...} or a table {name = builder or overrides}", 0)
  end
  local list = {}
  if #configs > 0 then
    for i, c in ipairs(configs) do
      if is_builder(c) then c = {name = ("variant %d"):format(i), build = c} end
      if type(c) ~= "table" then error(("%s: configs[%d] must be a table {name =, ...}, got %s"):format(WHO, i, type(c)), 0) end
      if c.name == nil then error(("%s: configs[%d] has no name"):format(WHO, i), 0) end
      list[i] = c
    end
  else
    local names = {}
    for k in pairs(configs) do
      if type(k) ~= "string" then error(WHO .. ": configs mixes a list and names: give one or the other", 0) end
      names[#names + 1] = k
    end
    table.sort(names)
    for i, name in ipairs(names) do
      local c = configs[name]
      if is_builder(c) then c = {build = c} end
      if type(c) ~= "table" then error(("%s: configs.%s must be a builder or a table of overrides, got %s"):format(
        WHO, name, type(c)), 0) end
      local entry = {}
      for k, v in pairs(c) do entry[k] = v end
      entry.name = name
      list[i] = entry
    end
  end
  local seen = {}
  for _, e in ipairs(list) do
    local name = tostring(e.name)
    if seen[name] then error(("%s: two variants are named '%s'"):format(WHO, name), 0) end
    seen[name] = true
  end
  return list
end

local function compare(configs, x, y, opts)
  local list = entries(configs)
  opts = runs.options(WHO, opts, {"build", "diverge_factor", "title"})
  local make
  if opts.build ~= nil then make = runs.maker(WHO, opts.build) end
  for _, e in ipairs(list) do
    if e.build == nil and make == nil then
      error(("%s: variant '%s' has no build and opts.build is not given: give a base model or builder as "
        .. "opts.build"):format(WHO, tostring(e.name)), 0)
    end
  end
  if opts.diverge_factor ~= nil then runs.positive(WHO, "diverge_factor", opts.diverge_factor) end
  local train, val = runs.split(WHO, x, y, opts)
  local result = {names = {}}
  for i, e in ipairs(list) do result.names[i] = tostring(e.name) end
  result.runs = variants.train(WHO, make, list, train, val, opts)
  local draw
  draw, result.plots = report.plotter(WHO, opts)
  variants.plot(draw, result.runs)
  result.conclusion, result.best = variants.conclude(result.runs)
  result.report = report.section(opts.title or "Comparison",
    ("%d variants (%s), trained on the same %d samples from the same seed (%d), validated on %d."):format(#list,
      table.concat(result.names, ", "), train.x:size(1), opts.seed, val.x:size(1)),
    variants.table(result.runs), result.conclusion, result.plots)
  return result
end

return compare
