--- The plain data of model files (docs/model-format.md) as JSON text, written and read
-- here without ever running what is read: tables of strings, numbers and booleans.
-- Lua's own distinctions survive the round trip: integers are written without a point
-- and read back as integers, other numbers with 17 significant digits (exact for a
-- double) and a point or exponent; infinities and NaN as Infinity, -Infinity and NaN (as
-- Python's json module writes them). A table whose keys are 1..n is an array, one whose
-- keys are all strings an object (keys sorted, so the same data gives the same bytes).
local json = {}

local MAX_DEPTH = 100

local ESCAPES = {['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r",
                 ["\t"] = "\\t"}

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return ESCAPES[c] or ("\\u%04x"):format(c:byte()) end) .. '"'
end

local function number_text(x)
  if math.type(x) == "integer" then return ("%d"):format(x) end
  if x ~= x then return "NaN" end
  if x == math.huge then return "Infinity" end
  if x == -math.huge then return "-Infinity" end
  local s = ("%.17g"):format(x)
  if not s:find("[.eE]") then s = s .. ".0" end  -- stays a float when read back
  return s
end

local function encode(v, out, path, depth)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = quote(v)
  elseif t == "number" then
    out[#out + 1] = number_text(v)
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "table" and getmetatable(v) == nil then
    if depth >= MAX_DEPTH then error(("%s nests more than %d tables deep"):format(path, MAX_DEPTH), 0) end
    local n, strings, others = #v, {}, 0
    for k in pairs(v) do
      if type(k) == "string" then
        strings[#strings + 1] = k
      elseif not (math.type(k) == "integer" and k >= 1 and k <= n) then
        others = others + 1
      end
    end
    if others > 0 or (#strings > 0 and n > 0) then
      error(("%s mixes list positions and names, or has keys that are neither (plain data is a list or a "
        .. "table of names)"):format(path), 0)
    end
    if #strings == 0 and n > 0 then
      out[#out + 1] = "["
      for i = 1, n do
        if i > 1 then out[#out + 1] = "," end
        encode(v[i], out, ("%s[%d]"):format(path, i), depth + 1)
      end
      out[#out + 1] = "]"
    else
      table.sort(strings)
      out[#out + 1] = "{"
      for i, k in ipairs(strings) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = quote(k)
        out[#out + 1] = ":"
        encode(v[k], out, path .. "." .. k, depth + 1)
      end
      out[#out + 1] = "}"
    end
  else
    local what = t == "table" and "an object (a table with a metatable)" or ("a " .. t)
    if t == "userdata" and require("lurn.core").is_tensor(v) then what = "a tensor (t:totable() gives its numbers)" end
    error(("%s is %s, which plain data cannot hold"):format(path, what), 0)
  end
end

--- json.encode(value [, name]) -> text; errors name the path of what cannot be written
-- (name.layers[2].config.function is a function).
function json.encode(value, name)
  local out = {}
  encode(value, out, name or "value", 0)
  return table.concat(out)
end

-- ---- reading -------------------------------------------------------------------------------

local Reader = {}
Reader.__index = Reader

function Reader:fail(what)
  error(("%s at byte %d"):format(what, self.at), 0)
end

function Reader:space()
  self.at = self.text:find("[^ \t\r\n]", self.at) or #self.text + 1
end

function Reader:peek()
  self:space()
  return self.text:sub(self.at, self.at)
end

local UNESCAPE = {['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t"}

function Reader:string()
  local text, at, parts = self.text, self.at + 1, {}
  while true do
    local stop = text:find('["\\%c]', at)
    if not stop then self.at = #text + 1; self:fail("unterminated string") end
    parts[#parts + 1] = text:sub(at, stop - 1)
    local c = text:sub(stop, stop)
    if c == '"' then
      self.at = stop + 1
      return table.concat(parts)
    elseif c == "\\" then
      local e = text:sub(stop + 1, stop + 1)
      if e == "u" then
        local hex = text:match("^%x%x%x%x", stop + 2)
        if not hex then self.at = stop; self:fail("bad \\u escape") end
        parts[#parts + 1] = utf8.char(tonumber(hex, 16))
        at = stop + 6
      elseif UNESCAPE[e] then
        parts[#parts + 1] = UNESCAPE[e]
        at = stop + 2
      else
        self.at = stop
        self:fail("bad escape in a string")
      end
    else
      self.at = stop
      self:fail("control character in a string")
    end
  end
end

local WORDS = {["true"] = true, ["false"] = false, NaN = 0 / 0, Infinity = math.huge, ["-Infinity"] = -math.huge}

function Reader:number()
  local text = self.text
  for word, value in pairs(WORDS) do
    if type(value) == "number" and text:sub(self.at, self.at + #word - 1) == word then
      self.at = self.at + #word
      return value
    end
  end
  local token = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", self.at)
  if not token then self:fail("unexpected character '" .. text:sub(self.at, self.at) .. "'") end
  local value
  if token:find("^-?%d+$") then
    value = math.tointeger(tonumber(token)) or tonumber(token)
  else
    value = tonumber(token)
    if value then value = value + 0.0 end
  end
  if not value then self:fail("malformed number '" .. token .. "'") end
  self.at = self.at + #token
  return value
end

function Reader:value(depth)
  if depth > MAX_DEPTH then self:fail(("tables nested more than %d deep"):format(MAX_DEPTH)) end
  local c = self:peek()
  if c == "{" then
    self.at = self.at + 1
    local obj = {}
    if self:peek() == "}" then self.at = self.at + 1; return obj end
    while true do
      if self:peek() ~= '"' then self:fail("expected a name in quotes") end
      local key = self:string()
      if obj[key] ~= nil then self:fail(("the name '%s' appears twice in one table"):format(key)) end
      if self:peek() ~= ":" then self:fail("expected ':'") end
      self.at = self.at + 1
      obj[key] = self:value(depth + 1)
      c = self:peek()
      self.at = self.at + 1
      if c == "}" then return obj end
      if c ~= "," then self.at = self.at - 1; self:fail("expected ',' or '}'") end
    end
  elseif c == "[" then
    self.at = self.at + 1
    local list = {}
    if self:peek() == "]" then self.at = self.at + 1; return list end
    while true do
      list[#list + 1] = self:value(depth + 1)
      c = self:peek()
      self.at = self.at + 1
      if c == "]" then return list end
      if c ~= "," then self.at = self.at - 1; self:fail("expected ',' or ']'") end
    end
  elseif c == '"' then
    return self:string()
  elseif c == "t" or c == "f" then
    for _, word in ipairs{"true", "false"} do
      if self.text:sub(self.at, self.at + #word - 1) == word then
        self.at = self.at + #word
        return WORDS[word]
      end
    end
    self:fail("unexpected word")
  elseif c == "" then
    self:fail("unexpected end of text")
  end
  return self:number()
end

--- json.decode(text) -> value, or nil and a message saying what is wrong and where.
-- null is refused (plain data has no holes), as are repeated names in one table.
function json.decode(text)
  local reader = setmetatable({text = text, at = 1}, Reader)
  local ok, value = pcall(function()
    local v = reader:value(0)
    reader:space()
    if reader.at <= #text then reader:fail("text after the value") end
    return v
  end)
  if not ok then return nil, value end
  return value
end

return json
