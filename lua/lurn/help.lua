--- help(obj): the documentation of a lurn function, class or method, taken from
-- docs/api.md, the one reference there is (no second copy in docstrings to drift).
--
--   help(lurn.layers.Dense)   help(model.fit)   help("Dense")   help("model:fit")
--
-- The file is read where lurn's Lua files are: lurn/api.md beside this module once
-- installed (cmake --install and LuaRocks put it there), or docs/api.md in the source
-- tree (the build tree runs from the sources). It is split into entries: under each
-- heading, every bullet ("- ..." and its indented lines), paragraph and code block.
-- A name's entries are those whose code spans (`...`) hold the name as a whole word;
-- the ones that begin with it (`Dense(units, ...)`, `model:fit(...)`) define it and
-- come first.
local help = {}

local doc_cache

local function module_dir()
  local source = debug.getinfo(1, "S").source
  return source:sub(1, 1) == "@" and source:sub(2):match("^(.*)/[^/]*$") or "."
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

--- The text of docs/api.md and where it was found, or nil and the places looked at.
function help.doc_text()
  local dir = module_dir()
  local places = {dir .. "/api.md", dir .. "/../../docs/api.md"}
  for _, path in ipairs(places) do
    local text = read_file(path)
    if text then return text, path end
  end
  return nil, table.concat(places, ", ")
end

-- Splits the markdown into entries {heading =, text =}.
local function parse(text)
  local entries, heading = {}, ""
  local current, fence
  local function flush()
    if current and #current > 0 then
      local text = table.concat(current, "\n")
      local spans = {}
      for span in text:gsub("\n%s*", " "):gmatch("`([^`]+)`") do spans[#spans + 1] = span end
      entries[#entries + 1] = {heading = heading, text = text, spans = spans}
    end
    current = nil
  end
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    if fence then
      current[#current + 1] = line
      if line:match("^```") then
        fence = false
        flush()
      end
    elseif line:match("^```") then
      flush()
      current, fence = {line}, true
    elseif line:match("^#+%s") then
      flush()
      heading = line
    elseif line:match("^%s*$") then
      flush()
    elseif line:match("^%- ") then
      flush()
      current = {line}
    else
      current = current or {}
      current[#current + 1] = line
    end
  end
  flush()
  return entries
end

local function entries()
  if not doc_cache then
    local text = help.doc_text()
    doc_cache = text and parse(text) or {}
  end
  return doc_cache
end

local function escape(s) return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")) end

-- How well an entry (its code spans) documents `name`: 2 when a code span begins with it (or with
-- "x.name" / "x:name"), 1 when a code span holds it as a whole word, 0 otherwise.
local function rank(spans, name)
  local best = 0
  local pattern = escape(name)
  for _, span in ipairs(spans) do
    local s = 1
    while true do
      local a, b = span:find(pattern, s)
      if not a then break end
      local before, after = span:sub(a - 1, a - 1), span:sub(b + 1, b + 1)
      local whole = not before:match("[%w_]") and not after:match("[%w_]")
      if whole then
        local lead = span:sub(1, a - 1)
        if lead == "" or lead:match("^[%w_]*[%.:]$") or lead:match("^lurn[%w_%.]*[%.:]$") then return 2 end
        best = 1
      end
      s = a + 1
    end
  end
  return best
end

--- The entries of docs/api.md about `name` (a string such as "Dense", "model:fit",
-- "lurn.layers.Dense"), best first: a list of {heading =, text =, rank =}.
local function search(names)
  local found = {}
  for i, e in ipairs(entries()) do
    local r = 0
    for _, n in ipairs(names) do r = math.max(r, rank(e.spans, n)) end
    if r > 0 then found[#found + 1] = {heading = e.heading, text = e.text, rank = r, order = i} end
  end
  table.sort(found, function(a, b)
    if a.rank ~= b.rank then return a.rank > b.rank end
    return a.order < b.order
  end)
  return found
end

function help.lookup(name)
  -- "lurn.layers.Dense" is written `Dense(...)` in its section, and the tensor methods
  -- `t:add` in a list `add sub mul`: the last part of the name is looked up too, or alone
  -- where the whole name is not found.
  local last = name:match("[%.:]([%w_]+)$")
  local names = {name}
  if last and name:match("^lurn[%.:]") then names[2] = last end
  local found = search(names)
  if #found == 0 and last then found = search({last}) end
  return found
end

-- ---- from a value to its documented name ---------------------------------------------------

local function is_class_table(v) return type(v) == "table" and type(rawget(v, "class_name")) == "string" end

-- Tables of the public API to search a function in, with the prefix their names take
-- in docs/api.md.
local function public_tables()
  local lurn = package.loaded.lurn or require "lurn"
  local list = {{lurn, "lurn."}}
  for k, v in pairs(lurn) do
    if type(k) == "string" and type(v) == "table" and k:sub(1, 1) ~= "_" and k ~= "core" and not is_class_table(v) then
      list[#list + 1] = {v, "lurn." .. k .. "."}
    end
  end
  list[#list + 1] = {lurn.Sequential, "model:"}
  list[#list + 1] = {lurn.Model, "model:"}
  list[#list + 1] = {require "lurn.models.model", "model:"}  -- the base both inherit fit, ... from
  local mt = getmetatable(lurn.zeros{1})
  if mt and type(mt.__index) == "table" then list[#list + 1] = {mt.__index, "t:"} end
  return list
end

--- The name to look a value up by: a string as given; a function or class by where
-- it is in the public lurn tables ("lurn.layers.Dense", "model:fit"); an object by its
-- class ("Sequential", "Adam").
function help.name_of(obj)
  if type(obj) == "string" then return obj end
  local lurn = package.loaded.lurn or require "lurn"
  if lurn.is_tensor(obj) then return "lurn.tensor" end
  for _, entry in ipairs(public_tables()) do
    local t, prefix = entry[1], entry[2]
    for k, v in pairs(t) do
      if v == obj and type(k) == "string" then
        if prefix == "lurn." and type(v) == "table" then return k end -- lurn.layers -> "layers"
        return prefix .. k
      end
    end
  end
  if type(obj) == "table" then
    local mt = getmetatable(obj)
    local class_name = rawget(obj, "class_name") or (type(mt) == "table" and mt.class_name)
    if type(class_name) == "string" then
      if class_name == "Functional" then return "lurn.Model" end
      return class_name
    end
  end
  return nil
end

local MAX_ENTRIES = 6

-- A heading without its markdown: "## Layers (`lurn.layers`, ...)" -> "Layers".
local function heading_title(h) return (h:gsub("^#+%s*", ""):gsub("%s*%(.*$", "")) end

--- The help text for obj (see name_of), or nil and why not: the entries that define it
-- (or, when none does, those that mention it) under their headings, then the headings
-- of the other sections that mention it.
function help.text(obj)
  local name = help.name_of(obj)
  if not name then
    return nil, ("help: no documentation for this %s; try help(\"name\"), e.g. help(\"Dense\")"):format(type(obj))
  end
  local text, where = help.doc_text()
  if not text then return nil, "help: docs/api.md is not installed (looked at " .. where .. ")" end
  local found = help.lookup(name)
  if #found == 0 then return nil, ("help: nothing about '%s' in %s"):format(name, where) end
  local shown_rank = found[1].rank
  local out, heading, shown, also, seen = {}, nil, 0, {}, {}
  for _, e in ipairs(found) do
    if e.rank == shown_rank and shown < MAX_ENTRIES then
      if e.heading ~= heading then
        out[#out + 1] = (shown > 0 and "\n" or "") .. e.heading
        heading = e.heading
      end
      out[#out + 1] = e.text
      shown = shown + 1
      seen[e.heading] = true
    elseif not seen[e.heading] then
      seen[e.heading] = true
      also[#also + 1] = heading_title(e.heading)
    end
  end
  if #also > 0 then out[#out + 1] = "\nAlso mentioned under: " .. table.concat(also, "; ") end
  return table.concat(out, "\n")
end

--- help(obj): prints the documentation of obj (a function, a class, an object or a
-- name); help() says how to use it.
function help.help(...)
  local n, obj = select("#", ...), ...
  if n > 1 then error("help: give one thing to document: help(lurn.layers.Dense)", 2) end
  if n == 1 and obj == nil then
    print("help: got nil: is the name spelt right? (help() says how to use help)")
    return
  end
  if obj == nil then
    print('help(obj) prints the documentation of a lurn function, class or object, from docs/api.md:\n'
      .. '  help(lurn.layers.Dense)  help(model.fit)  help("Dense")  help("model:fit")  help(lurn.optimizers.Adam)')
    return
  end
  local text, why = help.text(obj)
  print(text or why)
end

return help
