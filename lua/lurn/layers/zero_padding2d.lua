--- ZeroPadding2D(padding, opts): a frame of zeros around channels-last images, as Keras'
-- ZeroPadding2D: (N, H, W, C) -> (N, top + H + bottom, left + W + right, C). padding (1)
-- takes Keras' three forms: a number for all four sides, a pair {h, w} (h rows above and
-- below, w columns left and right), or {{top, bottom}, {left, right}}.
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"
local conv2d = require("lurn.layers.conv2d").Conv2D

local ZeroPadding2D = Layer._define("ZeroPadding2D")
ZeroPadding2D._options = {"padding", "data_format"}

local function is_count(v) return math.type(v) == "integer" and v >= 0 end

-- v for a message: raw reads of at most three entries, so that no metamethod of a hostile
-- table can make the message endless.
local function show(v, depth)
  if type(v) ~= "table" then return tostring(v) end
  if (depth or 0) > 2 then return "{...}" end
  local parts = {}
  for i = 1, 3 do
    local e = rawget(v, i)
    if e == nil then break end
    parts[i] = show(e, (depth or 0) + 1)
  end
  return "{" .. table.concat(parts, ", ") .. (rawget(v, 4) ~= nil and ", ...}" or "}")
end

--- Keras' three forms -> {{top, bottom}, {left, right}}.
local function normalize(p)
  if is_count(p) then return {{p, p}, {p, p}} end
  if type(p) == "table" and #p == 2 then
    if is_count(p[1]) and is_count(p[2]) then return {{p[1], p[1]}, {p[2], p[2]}} end
    local ok = true
    for i = 1, 2 do
      ok = ok and type(p[i]) == "table" and #p[i] == 2 and is_count(p[i][1]) and is_count(p[i][2])
    end
    if ok then return {{p[1][1], p[1][2]}, {p[2][1], p[2][2]}} end
  end
  error(("ZeroPadding2D: padding must be a non-negative integer, a pair {height, width} or "
    .. "{{top, bottom}, {left, right}}, got %s"):format(show(p)), 3)
end

function ZeroPadding2D:_create()
  return core.zero_padding2d_layer{padding = self.padding}
end

function ZeroPadding2D:get_config()
  local cfg = Layer.get_config(self)
  cfg.padding, cfg.data_format = self.padding, "channels_last"
  return cfg
end

function ZeroPadding2D._new(padding, opts)
  -- ZeroPadding2D{padding = {1, 2}}: the options alone, padding among them
  if type(padding) == "table" and padding[1] == nil and opts == nil then padding, opts = padding.padding, padding end
  opts = opts or {}
  conv2d._data_format(opts.data_format, "ZeroPadding2D", 2)
  local self = Layer.setup(setmetatable({}, ZeroPadding2D), opts)
  self.padding = normalize(padding == nil and 1 or padding)
  return self
end

return {ZeroPadding2D = ZeroPadding2D}
