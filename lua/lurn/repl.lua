--- Helpers for the interactive REPL of the `lurn` command: how values are shown
-- and how names are completed. The line editing itself is GNU readline, in C.
local repl = {}

local function is_identifier(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a < b end
    return tostring(a) < tostring(b)
  end)
  return keys
end

--- Text for one value: tensors through their own tostring, tables expanded (cycles
-- and depth bounded), strings quoted.
function repl.pretty(value, indent, seen)
  indent = indent or ""
  seen = seen or {}
  local kind = type(value)
  if kind == "string" then return string.format("%q", value) end
  if kind ~= "table" then return tostring(value) end
  local mt = getmetatable(value)
  if mt and mt.__tostring then return tostring(value) end
  if seen[value] then return "<cycle " .. tostring(value) .. ">" end
  if #indent >= 8 then return tostring(value) end
  seen[value] = true
  local keys = sorted_keys(value)
  if #keys == 0 then
    seen[value] = nil
    return "{}"
  end
  local inner = indent .. "  "
  local parts, next_index = {}, 1
  for i, k in ipairs(keys) do
    local v = repl.pretty(value[k], inner, seen)
    -- keys sort in order, so the run 1, 2, 3... can be shown without its keys
    if k == next_index then
      parts[i] = v
      next_index = next_index + 1
    elseif is_identifier(k) then
      parts[i] = k .. " = " .. v
    else
      parts[i] = "[" .. repl.pretty(k, inner, seen) .. "] = " .. v
    end
  end
  seen[value] = nil
  local one_line = "{" .. table.concat(parts, ", ") .. "}"
  if #one_line <= 78 and not one_line:find("\n") then return one_line end
  return "{\n" .. inner .. table.concat(parts, ",\n" .. inner) .. "\n" .. indent .. "}"
end

--- Prints the values of an evaluated line, tab-separated as lua5.4 does.
function repl.print_results(...)
  local n = select("#", ...)
  if n == 0 then return end
  local parts = {}
  for i = 1, n do parts[i] = repl.pretty((select(i, ...))) end
  print(table.concat(parts, "\t"))
end

-- The fields reachable from v by "." (its table keys, then its __index chain).
local function fields(v, out, depth)
  depth = depth or 0
  if depth > 4 then return end
  if type(v) == "table" then
    for k in pairs(v) do
      if is_identifier(k) then out[k] = true end
    end
  end
  local mt = getmetatable(v)
  if type(mt) == "table" and type(rawget(mt, "__index")) == "table" then
    fields(rawget(mt, "__index"), out, depth + 1)
  end
end

local keywords = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
  "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
}

--- Completions for the word before the cursor: "lurn.ze" -> {"lurn.zeros"},
-- "t:sh" -> {"t:shape"}. `env` is the table globals are looked up in.
function repl.complete(word, env)
  env = env or _G
  local prefix, sep, partial = word:match("^(.*)([%.:])([%w_]*)$")
  local candidates = {}
  if prefix then
    local v = env
    for name in prefix:gmatch("[^%.:]+") do
      if not is_identifier(name) then return {} end
      local ok, next_v = pcall(function() return v[name] end)
      if not ok or next_v == nil then return {} end
      v = next_v
    end
    local names = {}
    fields(v, names)
    for k in pairs(names) do
      if k:sub(1, #partial) == partial then
        local ok, fv = pcall(function() return v[k] end)
        -- after ":" only methods make sense
        if sep == "." or (ok and type(fv) == "function") then
          candidates[#candidates + 1] = prefix .. sep .. k
        end
      end
    end
  else
    local names = {}
    fields(env, names)
    for _, k in ipairs(keywords) do names[k] = true end
    for k in pairs(names) do
      if k:sub(1, #word) == word then candidates[#candidates + 1] = k end
    end
  end
  table.sort(candidates)
  return candidates
end

return repl
