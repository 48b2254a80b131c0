--- Reverse-mode differentiation of tensor expressions written in Lua, for Lambda layers
-- and Lua-function activations. While a Lambda trains, its input is wrapped in a
-- Variable; every operation on Variables computes its value with the ordinary tensor
-- functions (in C) and records how to send gradients back to its inputs. backward()
-- walks that record in reverse. Numbers and plain tensors are constants.
local core = require "lurn.core"

local autograd = {}

local Variable = {}
local methods = {}
Variable.__index = function(_, key)
  local m = methods[key]
  if m then return m end
  return function()
    error(("'%s' is not differentiable: inside a Lambda layer use tensor math "
      .. "(+ - * / ^, exp, log, sqrt, abs, tanh, sigmoid, relu, maximum, minimum, clamp, sum, mean, "
      .. "matmul, reshape, transpose, square)"):format(tostring(key)), 2)
  end
end

local function is_var(x) return getmetatable(x) == Variable end
autograd.is_variable = is_var

local function value(x) if is_var(x) then return x.value end return x end
autograd.value = value

--- A leaf: gradients flowing into it are accumulated in .grad.
function autograd.variable(t)
  return setmetatable({value = t, parents = {}, leaf = true}, Variable)
end

local function node(v, parents, backward)
  return setmetatable({value = v, parents = parents, backward = backward}, Variable)
end

-- Sums a broadcast gradient back to the shape of the input it came from.
local function unbroadcast(g, shape)
  local gs = g:shape()
  while #gs > #shape do
    g = g:sum(1)
    gs = g:shape()
  end
  for i = 1, #shape do
    if shape[i] == 1 and gs[i] ~= 1 then g = g:sum(i, true) end
  end
  return g
end

-- Records a binary op whose inputs may be Variables, tensors or numbers.
local function binary(a, b, forward, ga, gb)
  local av, bv = value(a), value(b)
  local out = forward(av, bv)
  local parents, grads = {}, {}
  if is_var(a) then parents[#parents + 1] = a; grads[#grads + 1] = ga end
  if is_var(b) then parents[#parents + 1] = b; grads[#grads + 1] = gb end
  return node(out, parents, function(g)
    local res = {}
    for i, p in ipairs(parents) do
      local gi = grads[i](g, av, bv, out)
      res[i] = core.is_tensor(p.value) and unbroadcast(gi, p.value:shape()) or gi
    end
    return res
  end)
end

local function unary(a, forward, grad)
  local av = value(a)
  local out = forward(av)
  return node(out, {a}, function(g) return {grad(g, av, out)} end)
end

function autograd.add(a, b)
  return binary(a, b, core.add, function(g) return g end, function(g) return g end)
end
function autograd.sub(a, b)
  return binary(a, b, core.sub, function(g) return g end, function(g) return -g end)
end
function autograd.mul(a, b)
  return binary(a, b, core.mul, function(g, _, bv) return g * bv end, function(g, av) return g * av end)
end
function autograd.div(a, b)
  return binary(a, b, core.div, function(g, _, bv) return g / bv end,
    function(g, av, bv) return -(g * av) / (bv * bv) end)
end
function autograd.pow(a, b)
  return binary(a, b, core.pow,
    function(g, av, bv) return g * bv * core.pow(av, core.is_tensor(bv) and bv - 1 or bv - 1) end,
    function(g, av, _, out) return g * out * (core.is_tensor(av) and core.log(av) or math.log(av)) end)
end
function autograd.maximum(a, b)
  return binary(a, b, core.maximum, function(g, av, bv) return g * core.ge(av, bv) end,
    function(g, av, bv) return g * core.lt(av, bv) end)
end
function autograd.minimum(a, b)
  return binary(a, b, core.minimum, function(g, av, bv) return g * core.le(av, bv) end,
    function(g, av, bv) return g * core.gt(av, bv) end)
end

function autograd.neg(a) return unary(a, core.neg, function(g) return -g end) end
function autograd.exp(a) return unary(a, core.exp, function(g, _, out) return g * out end) end
function autograd.log(a) return unary(a, core.log, function(g, av) return g / av end) end
function autograd.sqrt(a) return unary(a, core.sqrt, function(g, _, out) return g * 0.5 / out end) end
function autograd.abs(a) return unary(a, core.abs, function(g, av) return g * core.sign(av) end) end
function autograd.square(a) return unary(a, core.square, function(g, av) return g * av * 2 end) end
function autograd.tanh(a) return unary(a, core.tanh, function(g, _, out) return g * (1 - out * out) end) end
function autograd.sigmoid(a) return unary(a, core.sigmoid, function(g, _, out) return g * out * (1 - out) end) end
function autograd.relu(a) return unary(a, core.relu, function(g, av) return g * core.gt(av, 0) end) end
function autograd.clamp(a, lo, hi)
  return unary(a, function(av) return core.clamp(av, lo, hi) end, function(g, av)
    local mask = av:ge(lo or -math.huge) * av:le(hi or math.huge)
    return g * mask
  end)
end

-- Reductions: over everything they give a 1-element tensor (so the result stays a Variable).
local function reduction(name, scale_by_count)
  return function(a, dim, keepdim)
    local av = value(a)
    local shape = av:shape()
    local out, n
    if dim == nil then
      out = core.tensor{core[name](av)}
      n = av:numel()
    else
      out = core[name](av, dim, keepdim)
      n = shape[dim < 0 and dim + #shape + 1 or dim]
    end
    return node(out, {a}, function(g)
      local kept = shape
      if dim ~= nil then
        kept = {}
        for i, s in ipairs(shape) do kept[i] = s end
        kept[dim < 0 and dim + #shape + 1 or dim] = 1
      else
        kept = {}
        for i = 1, #shape do kept[i] = 1 end
      end
      local gk = g:reshape(kept)
      local full = core.zeros(shape) + gk
      return {scale_by_count and full / n or full}
    end)
  end
end
autograd.sum = reduction("sum", false)
autograd.mean = reduction("mean", true)

function autograd.matmul(a, b, ta, tb)
  return binary(a, b, function(av, bv) return core.matmul(av, bv, ta, tb) end,
    function(g, _, bv)  -- dA = g @ op(B)^T, transposed back if A was
      if ta then return core.matmul(bv, g, tb, true) end
      return core.matmul(g, bv, false, not tb)
    end,
    function(g, av)     -- dB = op(A)^T @ g, transposed back if B was
      if tb then return core.matmul(g, av, true, ta) end
      return core.matmul(av, g, not ta, false)
    end)
end

function autograd.reshape(a, ...)
  local shape = a.value:shape()
  local out = a.value:reshape(...)
  return node(out, {a}, function(g) return {g:reshape(shape)} end)
end

function autograd.transpose(a, d1, d2)
  local out = a.value:transpose(d1, d2)
  return node(out, {a}, function(g) return {g:transpose(d1, d2):contiguous()} end)
end

-- Operators and methods of Variables.
Variable.__add = autograd.add
Variable.__sub = autograd.sub
Variable.__mul = autograd.mul
Variable.__div = autograd.div
Variable.__pow = autograd.pow
Variable.__unm = autograd.neg
Variable.__len = function(v) return #v.value end
Variable.__tostring = function(v) return "Variable(" .. tostring(v.value) .. ")" end
for _, name in ipairs{"add", "sub", "mul", "div", "pow", "maximum", "minimum", "neg", "exp", "log", "sqrt", "abs",
                      "square", "tanh", "sigmoid", "relu", "clamp", "sum", "mean", "matmul", "reshape",
                      "transpose"} do
  methods[name] = autograd[name]
end
methods.view = autograd.reshape
methods.t = function(v) return autograd.transpose(v, 1, 2) end
for _, name in ipairs{"shape", "size", "dim", "numel"} do
  methods[name] = function(v, ...) return v.value[name](v.value, ...) end
end

--- dL/d leaf, given the output Variable and dL/d output (a tensor of its shape).
function autograd.grad(out, leaf, dout)
  if not is_var(out) then return core.zeros(leaf.value:shape()) end
  -- Reverse topological order from out.
  local order, seen = {}, {}
  local function visit(v)
    if seen[v] then return end
    seen[v] = true
    for _, p in ipairs(v.parents) do visit(p) end
    order[#order + 1] = v
  end
  visit(out)
  local grads = {[out] = dout}
  for i = #order, 1, -1 do
    local v = order[i]
    local g = grads[v]
    local backward = rawget(v, "backward")
    if g and backward then
      local pg = backward(g)
      for k, p in ipairs(v.parents) do
        grads[p] = grads[p] and (grads[p] + pg[k]) or pg[k]
      end
    end
  end
  return grads[leaf] or core.zeros(leaf.value:shape())
end

return autograd
