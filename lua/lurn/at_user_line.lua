--- at_user_line(fn): fn, with its errors reported at the line of the script that called
-- it. An error raised anywhere inside (a check deep in fit, a C error, a layer that cannot
-- take its input) loses the "file:line: " of lurn's own Lua files and gets the caller's,
-- so that the message points at the user's model:fit(...) line, not into lurn. Errors
-- that already point at a user's line (raised in a user's callback) and error objects
-- that are not strings pass through unchanged.

-- Whether path (a chunk's short source, maybe "...tail") is one of lurn's Lua modules.
local function is_lurn_file(path)
  for name in pairs(package.loaded) do
    if type(name) == "string" and (name == "lurn" or name:sub(1, 5) == "lurn.") then
      local file = name:gsub("%.", "/")
      for _, tail in ipairs{file .. ".lua", file .. "/init.lua"} do
        if path == tail or path:sub(-#tail - 1) == "/" .. tail then return true end
      end
    end
  end
  return false
end

-- The message without the positions of lurn's files in front of it.
local function strip(msg)
  while true do
    local path, rest = msg:match("^([^\n]-):%d+: (.*)$")
    if not path or not is_lurn_file(path) then return msg end
    msg = rest
  end
end

-- "file:line: " of the first Lua frame above the wrapper (level 3 as seen from here: the
-- wrapper's caller) that is not in one of lurn's files and has a current line, or "" if
-- none. Level 2 alone is not enough: when the wrapped function is called in a tail call
-- (pcall(function() return m:predict(bad) end)), the caller's frame is gone and level 2
-- is pcall, a C function without a line; a call from inside lurn (fit calling evaluate)
-- should also report the user's line.
local function user_position()
  local level = 3
  while true do
    local info = debug.getinfo(level, "Sl")
    if not info then return "" end
    if info.what ~= "C" and info.currentline > 0 and not is_lurn_file(info.short_src) then
      return ("%s:%d: "):format(info.short_src, info.currentline)
    end
    level = level + 1
  end
end

-- pcall's results passed on, or its error raised at the user's line. A function of its
-- own, not table.pack: model(x) on one sample pays this on every call.
local function finish(ok, ...)
  if ok then return ... end
  local err = ...
  if type(err) ~= "string" then error(err, 0) end
  err = strip(err)
  if err:find("^[^\n]-:%d+: ") then error(err, 0) end
  error(user_position() .. err, 0)
end

return function(fn)
  return function(...)
    return finish(pcall(fn, ...))
  end
end
