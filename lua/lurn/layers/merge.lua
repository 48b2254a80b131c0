--- Merge layers, as Keras': Add(), Subtract(), Multiply(), Average(), Maximum(),
-- Minimum() on 2 or more inputs of one shape (Subtract: exactly 2; no broadcasting), and
-- Concatenate{axis = -1} on inputs that differ only along `axis`. They are called on a
-- list: L.Add()({a, b}) with symbolic tensors builds a graph for lurn.Model; with tensors
-- it computes at once. Axes count as lurn's tensor dimensions do: 1-based with the batch
-- first, negative from the end, so Keras' axis=1 is axis = 2 here and -1 is the last.
-- The lower-case forms L.add({a, b}), L.concatenate({a, b}, {axis = 2}) (made in
-- layers/init.lua) call a new layer.
-- The math is in C (src/layers/merge.c).
local class = require "lurn.class"
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"
local symbolic = require "lurn.symbolic"
local shape_lists = require "lurn.shape"

local Merge = class(Layer)
-- A merge layer's inputs are symbolic tensors, so it takes no input_shape (Layer.setup
-- checks the options).
Merge._base_options = {"name", "trainable", "dtype"}

function Merge:_create() return core.merge_layer(self.class_name, self.c_axis) end

--- Builds the C layer for a list of per-sample input shapes.
function Merge:build(shapes)
  self:_check_instance()
  if type(shapes) ~= "table" or type(shapes[1]) ~= "table" then
    error(("layer '%s' (%s): a merge layer takes a list of inputs, so it cannot run in a Sequential; call it "
      .. "on symbolic tensors and make a lurn.Model"):format(self.name, self.class_name), 0)
  end
  if not self._core then self._core = self:_create() end
  local ok, err = pcall(core.merge_build, self._core, shapes)
  if not ok then
    local msg = tostring(err):gsub("^" .. self.class_name .. ": ", "")
    error(("layer '%s' (%s): %s"):format(self.name, self.class_name, msg), 0)
  end
  self.built = true
  self.input_shape = {}
  for i, s in ipairs(shapes) do self.input_shape[i] = table.move(s, 1, #s, 1, {}) end
  self.output_shape = self._core:output_shape()
end

local function sample_shape(t)
  local s = t:shape()
  return table.move(s, 2, #s, 1, {})
end

--- layer({a, b, ...}): symbolic tensors give a symbolic tensor; tensors a tensor.
function Merge:__call(xs)
  local name = ("%s '%s'"):format(self.class_name, self.name)
  if type(xs) ~= "table" or symbolic.is(xs) then
    error(("%s takes a list of tensors, e.g. %s()({a, b}); got %s"):format(name, self.class_name,
      symbolic.describe(xs)), 2)
  end
  xs = shape_lists.list(xs, name, "the list of inputs", 2, 32)  -- LURN_MERGE_MAX_INPUTS
  local n, symbols, tensors = #xs, 0, 0
  for i = 1, n do
    local x = xs[i]
    if symbolic.is(x) then
      symbols = symbols + 1
    elseif core.is_tensor(x) then
      tensors = tensors + 1
    else
      error(("%s: input %d is %s, not a tensor"):format(name, i, symbolic.describe(x)), 2)
    end
  end
  local least = self.class_name == "Subtract" and "exactly 2" or "at least 2"
  if n < 2 or (self.class_name == "Subtract" and n ~= 2) then
    error(("%s takes a list of %s tensors, got %d"):format(name, least, n), 2)
  end
  if symbols > 0 and tensors > 0 then
    error(("%s: the inputs must be all symbolic tensors (from lurn.Input and layer calls) or all tensors, "
      .. "not a mix"):format(name), 2)
  end
  if symbols > 0 then return symbolic.call_merge(self, xs) end
  local packed, shapes = {}, {}
  for i = 1, n do
    packed[i] = xs[i]:contiguous()
    shapes[i] = sample_shape(packed[i])
  end
  self:build(shapes)
  return core.merge_forward(self._core, packed)
end

local M = {}

local function kind(class_name)
  local cls = Layer._define(class_name, Merge)
  cls._new = function(opts)
    opts = opts or {}
    if type(opts) ~= "table" then error(("%s: expected an options table, got %s"):format(class_name, type(opts)), 2) end
    return Layer.setup(setmetatable({}, cls), opts)
  end
  M[class_name] = cls
end

for _, name in ipairs{"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"} do kind(name) end

local Concatenate = Layer._define("Concatenate", Merge)
Concatenate._options = {"axis"}
M.Concatenate = Concatenate

--- Concatenate{axis = -1} (or Concatenate(axis, opts)).
function Concatenate._new(axis, opts)
  if type(axis) == "table" and opts == nil then axis, opts = axis.axis, axis end
  opts = opts or {}
  if type(opts) ~= "table" then error(("Concatenate: expected an options table, got %s"):format(type(opts)), 2) end
  local self = Layer.setup(setmetatable({}, Concatenate), opts)
  if axis == nil then axis = -1 end
  if math.type(axis) ~= "integer" or axis == 0 then
    error(("Concatenate: axis must be a non-zero integer (1-based, negative from the end), got %s"):format(
      tostring(axis)), 2)
  end
  if axis == 1 then
    error("Concatenate: axis 1 is the batch dimension (axes are 1-based as lurn's tensor dimensions; Keras' "
      .. "axis=1 is axis = 2 here)", 2)
  end
  self.axis = axis
  self.c_axis = axis > 0 and axis - 2 or axis  -- C counts per-sample axes from 0
  return self
end

--- Checks the axis in lurn's numbering before the C layer checks the shapes.
function Concatenate:build(shapes)
  local rank = #shapes[1]
  if self.axis > rank + 1 or self.axis < -rank then
    error(("layer '%s' (Concatenate): axis %d is out of range for inputs of shape %s (axes 2..%d or -%d..-1)"):format(
      self.name, self.axis, symbolic.shape_text(shapes[1]), rank + 1, rank), 0)
  end
  Merge.build(self, shapes)
end

function Concatenate:get_config()
  local cfg = Layer.get_config(self)
  cfg.axis = self.axis
  return cfg
end

return M
