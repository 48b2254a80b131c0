--- scikit-learn's answers for sklearn_cases.lua, through /usr/bin/python3 and
-- sklearn_reference.py. As a module: reference() -> the results table, or nil and why. As a
-- script (from the repository root: lua5.4 spec/metrics/sklearn_reference.lua) it prints the
-- Lua source that sklearn_expected.lua holds.
local PYTHON = "/usr/bin/python3"
local here = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./")

local function json(v)
  local t = type(v)
  if t == "table" then
    if #v > 0 or next(v) == nil then
      local parts = {}
      for i, x in ipairs(v) do parts[i] = json(x) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys)
    local parts = {}
    for i, k in ipairs(keys) do parts[i] = ("%q:%s"):format(k, json(v[k])) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  if t == "string" then return ("%q"):format(v) end
  if t == "number" then return math.type(v) == "integer" and tostring(v) or ("%.17g"):format(v) end
  return tostring(v)
end

local function cases_json()
  package.path = here .. "?.lua;" .. package.path
  local cases = dofile(here .. "sklearn_cases.lua")
  local list = {}
  for i, c in ipairs(cases) do list[i] = {name = c[1], fn = c[2], args = c[3], opts = c[4] or {}} end
  return json(list)
end

local function source()
  if os.execute(PYTHON .. " -c 'import sklearn' >/dev/null 2>&1") ~= true then
    return nil, "python3-sklearn is not installed (apt-get install python3-sklearn)"
  end
  local input = os.tmpname()
  local f = assert(io.open(input, "w"))
  f:write(cases_json())
  f:close()
  local p = assert(io.popen(PYTHON .. " '" .. here .. "sklearn_reference.py' < '" .. input .. "' 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  os.remove(input)
  if not ok then return nil, "sklearn_reference.py failed: " .. out end
  return out
end

local function reference()
  local src, why = source()
  if not src then return nil, why end
  return assert(load(src, "=sklearn"))()
end

if not pcall(debug.getlocal, 4, 1) then  -- run as a script
  io.write(assert(source()))
end

return {reference = reference, source = source}
