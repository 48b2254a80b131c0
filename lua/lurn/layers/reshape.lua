--- Flatten() and Reshape(target_shape): the same values under another per-sample shape
-- (one size of target_shape may be -1).
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"
local shapes = require "lurn.shape"

local Reshape = Layer._define("Reshape")
local Flatten = Layer._define("Flatten")
Reshape._options = {"target_shape"}
Flatten._options = {"data_format"}

function Reshape:_create() return core.reshape_layer("Reshape", self.target_shape) end
function Flatten:_create() return core.reshape_layer("Flatten") end

function Reshape:get_config()
  local cfg = Layer.get_config(self)
  cfg.target_shape = Layer._copy_data(self.target_shape)
  return cfg
end

function Flatten:get_config()
  local cfg = Layer.get_config(self)
  cfg.data_format = "channels_last"
  return cfg
end

function Reshape._new(target_shape, opts)
  if type(target_shape) == "table" and target_shape.target_shape then
    target_shape, opts = target_shape.target_shape, target_shape
  end
  if type(target_shape) ~= "table" or #target_shape == 0 then
    error("Reshape: target_shape must be a table of sizes, e.g. {28, 28, 1}", 2)
  end
  target_shape = shapes.list(target_shape, "Reshape", "target_shape", 2)
  local inferred = 0
  for _, v in ipairs(target_shape) do
    if math.type(v) ~= "integer" or (v < 1 and v ~= -1) then
      error("Reshape: sizes must be positive integers (or one -1)", 2)
    end
    if v == -1 then inferred = inferred + 1 end
  end
  if inferred > 1 then error("Reshape: sizes must be positive, with at most one -1", 2) end
  local self = Layer.setup(setmetatable({}, Reshape), opts)
  self.target_shape = target_shape
  return self
end

function Flatten._new(opts)
  local self = Layer.setup(setmetatable({}, Flatten), opts)
  require("lurn.layers.conv2d").Conv2D._data_format((opts or {}).data_format, "Flatten", 2)
  return self
end

return {Reshape = Reshape, Flatten = Flatten}
