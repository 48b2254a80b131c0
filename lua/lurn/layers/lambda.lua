--- Lambda(fn, {output_shape = {...}}): a layer computing fn(x) with Lua tensor math,
-- differentiable through lurn.autograd (see autograd.lua for the supported operations):
--   local leaky_relu = function(x, a) return lurn.maximum(x * (a or 0.01), x) end
--   L.Lambda(function(x) return leaky_relu(x) end)
-- In training the input is traced so that backward can send gradients through fn; in
-- evaluate/predict fn runs on plain tensors. The output shape is found by calling fn on
-- one zero sample unless output_shape is given.
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"
local autograd = require "lurn.autograd"

local Lambda = Layer._define("Lambda")
Lambda._options = {"function", "fn", "output_shape"}
Lambda._unsupported_options = {"mask", "arguments"}

--- The lurn.Layer userdata that runs fn (also used for Lua-function activations).
function Lambda._core_for(fn, fixed_output_shape)
  local traced_in, traced_out
  return core.lambda_layer{
    build = function(in_shape)
      if fixed_output_shape then return fixed_output_shape end
      local probe = {1}
      for i, s in ipairs(in_shape) do probe[i + 1] = s end
      local y = autograd.value(fn(core.zeros(probe)))
      if not core.is_tensor(y) then error("the function must return a tensor, got " .. type(y), 0) end
      local s = y:shape()
      if s[1] ~= 1 then error("the function must keep the batch dimension", 0) end
      return table.move(s, 2, #s, 1, {})
    end,
    forward = function(x, training)
      if not training then
        traced_in, traced_out = nil, nil
        return autograd.value(fn(x))
      end
      traced_in = autograd.variable(x)
      traced_out = fn(traced_in)
      return autograd.value(traced_out)
    end,
    backward = function(_, _, dy)
      if not traced_in then error("backward needs a training forward pass first", 0) end
      return autograd.grad(traced_out, traced_in, dy)
    end,
  }
end

function Lambda._new(fn, opts)
  if type(fn) == "table" and opts == nil then fn, opts = fn["function"] or fn.fn, fn end
  if type(fn) ~= "function" then error("Lambda: expected a function of a tensor", 2) end
  local self = Layer.setup(setmetatable({}, Lambda), opts)
  self.fn = fn
  self.fixed_output_shape = (opts or {}).output_shape
  return self
end

function Lambda:_create() return Lambda._core_for(self.fn, self.fixed_output_shape) end

-- A Lua function is code, not data: a Lambda has no config (Keras would store bytecode).
function Lambda:get_config() self:_not_data("its function") end
function Lambda.from_config()
  error("Lambda.from_config: a Lambda's function is not data, so no config describes one; rebuild it in code", 2)
end

return {Lambda = Lambda}
