-- Helpers for the specs of the state hook (obj:get_state() / from_state): whether a state
-- is plain data, a round trip through text as a model file would make it, and equality
-- of results bit for bit (NaN equal to NaN).
local lurn = require "lurn"

local M = {}

--- plain(v) -> true, or false and the path of the first value that is not plain data:
-- numbers, strings, booleans and tables of them without metatables (no tensors, no
-- functions, no userdata).
function M.plain(v, path)
  path = path or "state"
  local t = type(v)
  if t == "number" or t == "string" or t == "boolean" then return true end
  if t ~= "table" or getmetatable(v) ~= nil then
    return false, path .. " is a " .. (lurn.is_tensor(v) and "tensor" or t)
  end
  for k, x in pairs(v) do
    if type(k) ~= "string" and type(k) ~= "number" then return false, path .. " has a " .. type(k) .. " key" end
    local ok, where = M.plain(x, path .. "." .. tostring(k))
    if not ok then return false, where end
  end
  return true
end

local function number_text(v)
  if v ~= v then return "0/0" end
  if v == math.huge then return "1/0" end
  if v == -math.huge then return "-1/0" end
  if math.type(v) == "integer" then return ("%d"):format(v) end
  return ("%a"):format(v)
end

local function write(v, out)
  local t = type(v)
  if t == "number" then
    out[#out + 1] = number_text(v)
  elseif t == "string" then
    out[#out + 1] = ("%q"):format(v)
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  else
    assert(t == "table", "not plain data: " .. t)
    out[#out + 1] = "{"
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)
      if type(a) == type(b) then return a < b end
      return type(a) == "number"
    end)
    for _, k in ipairs(keys) do
      out[#out + 1] = "["
      write(k, out)
      out[#out + 1] = "]="
      write(v[k], out)
      out[#out + 1] = ","
    end
    out[#out + 1] = "}"
  end
end

--- through_text(state) -> a copy of state written as a Lua literal and read back in an
-- empty environment (loading runs no code of the object), as a model file would.
function M.through_text(state)
  local out = {}
  write(state, out)
  local text = table.concat(out)
  local chunk = assert(load("return " .. text, "=state", "t", {}))
  return chunk(), text
end

local function same_bits(a, b, path)
  if lurn.is_tensor(a) or lurn.is_tensor(b) then
    if not (lurn.is_tensor(a) and lurn.is_tensor(b)) then return false, path .. ": a tensor and a " .. type(b) end
    local sa, sb = a:shape(), b:shape()
    if table.concat(sa, ",") ~= table.concat(sb, ",") then
      return false, ("%s: shapes (%s) and (%s)"):format(path, table.concat(sa, ","), table.concat(sb, ","))
    end
    a, b = a:reshape(a:numel()):totable(), b:reshape(b:numel()):totable()
  end
  if type(a) ~= type(b) then return false, ("%s: %s and %s"):format(path, type(a), type(b)) end
  if type(a) == "table" then
    for k, x in pairs(a) do
      local ok, where = same_bits(x, b[k], path .. "[" .. tostring(k) .. "]")
      if not ok then return false, where end
    end
    for k in pairs(b) do
      if a[k] == nil then return false, path .. "[" .. tostring(k) .. "]: only in the second" end
    end
    return true
  end
  if a ~= a and b ~= b then return true end
  if a ~= b or (a == 0 and 1 / a ~= 1 / b) then
    return false, ("%s: %s and %s"):format(path, tostring(a), tostring(b))
  end
  return true
end

--- assert_same_bits(a, b): tensors, lists and numbers equal bit for bit (NaN = NaN).
function M.assert_same_bits(a, b)
  local ok, where = same_bits(a, b, "value")
  assert(ok, "results differ at " .. tostring(where))
end

return M
