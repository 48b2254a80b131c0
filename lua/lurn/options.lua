--- Refuses option keys a function does not take, as Keras raises on an unrecognized
-- keyword argument: a misspelt key (activaton = "relu", epoch = 5) must not be silently
-- ignored and leave the default in its place. Internal (not a field of the lurn table).
local options = {}

-- A list of names or a set {name = true} -> a set, and the sorted list of its names.
local function name_set(names)
  local set, list = {}, {}
  for k, v in pairs(names or {}) do
    local name = math.type(k) == "integer" and v or k
    if not set[name] then list[#list + 1] = name end
    set[name] = true
  end
  table.sort(list)
  return set, list
end

-- A key as the message shows it: 'name', or [1] for a key that is not a string.
local function show_key(k)
  if type(k) == "string" then return "'" .. k .. "'" end
  return "[" .. tostring(k) .. "]"
end

--- check(opts, known, where, level[, more]): raises "WHERE: unknown option 'k' (known:
-- a, b, c)" for the first key of opts (sorted, so that the message does not depend on
-- table order) that is not in known (a list of names or a set), at `level` as error()
-- counts from check's caller (2: the caller of the function that calls check). more:
-- unsupported = names Keras takes but lurn does not implement ("WHERE: option 'k' is not
-- supported by lurn"); positional = true to allow integer keys (constructors taking a
-- list, as Residual{layer, ...}); hint = text added to the list of known names.
-- opts may be nil; a non-table opts is an error.
function options.check(opts, known, where, level, more)
  level = (level or 1) + 1
  if opts == nil then return end
  if type(opts) ~= "table" then error(("%s: options must be a table, got %s"):format(where, type(opts)), level) end
  more = more or {}
  -- the common case first, without building the set (predict on one sample checks its
  -- options on every call): every key a name of the list
  local all_known = true
  for k in pairs(opts) do
    local found = false
    if type(k) == "string" then
      if known[k] == true then found = true else
        for _, name in ipairs(known) do
          if name == k then found = true; break end
        end
      end
    end
    if not found then all_known = false; break end
  end
  if all_known then return end
  local known_set, names = name_set(known)
  local bad
  for k in pairs(opts) do
    if not (more.positional and math.type(k) == "integer" and k >= 1) then
      if not known_set[k] and (bad == nil or tostring(k) < tostring(bad)) then bad = k end
    end
  end
  if bad == nil then return end
  local unsupported = name_set(more.unsupported)
  if unsupported[bad] then
    error(("%s: option '%s' is not supported by lurn"):format(where, bad), level)
  end
  local list = #names > 0 and ("known: " .. table.concat(names, ", ")) or "it takes no options"
  if more.hint then list = list .. "; " .. more.hint end
  error(("%s: unknown option %s (%s)"):format(where, show_key(bad), list), level)
end

--- The names of a list or set, sorted (for messages that list them).
function options.names(known)
  local _, names = name_set(known)
  return names
end

return options
