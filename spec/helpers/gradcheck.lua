--- Central finite differences for the specs: layers, losses and whole models, checked
-- against their analytic gradients.
--
-- Tensors are float32, so the differences use large steps (1e-3 by default) on
-- well-scaled values and divide by the step actually taken after float32 rounding
-- (x+h and x-h read back). Objectives are summed in Lua doubles. An element passes when
--   |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|)
-- with rtol = 1e-2 and atol = 1e-3 times the largest numeric derivative (plus 1e-6):
-- loose enough for float32 round-off, tight enough that a gradient off by 10% fails
-- (checked by breaking one on purpose, see the specs).
local lurn = require "lurn"

local gradcheck = {}

gradcheck.defaults = {h = 1e-3, rtol = 1e-2, atol = 1e-3, floor = 1e-6}

local function options(opts)
  local o = {}
  for k, v in pairs(gradcheck.defaults) do o[k] = v end
  for k, v in pairs(opts or {}) do o[k] = v end
  return o
end

--- The values of a tensor as a flat Lua list (row-major).
function gradcheck.flat(t)
  return t:contiguous():reshape{-1}:totable()
end

--- sum_i a[i] * b[i] in doubles (lists or tensors).
function gradcheck.dot(a, b)
  if lurn.is_tensor(a) then a = gradcheck.flat(a) end
  if lurn.is_tensor(b) then b = gradcheck.flat(b) end
  assert(#a == #b, ("dot: %d and %d values"):format(#a, #b))
  local s = 0
  for i = 1, #a do s = s + a[i] * b[i] end
  return s
end

--- d f() / d t[i] for every element of the packed tensor t, perturbed in place
-- (and restored). f returns a Lua number.
function gradcheck.numeric(f, t, h)
  h = h or gradcheck.defaults.h
  assert(t:is_contiguous(), "numeric: the tensor must be packed")
  local v = t:reshape{-1}
  local out = {}
  for i = 1, v:numel() do
    local x0 = v:get(i)
    v:set(i, x0 + h)
    local xp = v:get(i)
    local fp = f()
    v:set(i, x0 - h)
    local xm = v:get(i)
    local fm = f()
    v:set(i, x0)
    out[i] = (fp - fm) / (xp - xm)
  end
  return out
end

--- Compares analytic (tensor or list) with numeric (list). Returns true, or false and a
-- message naming the worst element.
function gradcheck.compare(analytic, numeric, opts)
  local o = options(opts)
  if lurn.is_tensor(analytic) then analytic = gradcheck.flat(analytic) end
  if #analytic ~= #numeric then return false, ("%d analytic values, %d numeric"):format(#analytic, #numeric) end
  local scale = 0
  for i = 1, #numeric do scale = math.max(scale, math.abs(numeric[i])) end
  local atol = o.atol * scale + o.floor
  local worst, worst_excess = nil, 0
  for i = 1, #numeric do
    local a, n = analytic[i], numeric[i]
    local excess = math.abs(a - n) - (atol + o.rtol * math.max(math.abs(a), math.abs(n)))
    if excess > worst_excess or a ~= a then worst, worst_excess = i, excess == excess and excess or math.huge end
  end
  if worst then
    return false, ("element %d: analytic %.7g, numeric %.7g (largest |numeric| %.3g)"):format(
      worst, analytic[worst], numeric[worst], scale)
  end
  return true
end

--- Asserts that analytic matches numeric; `what` names the gradient in the message.
function gradcheck.assert_close(analytic, numeric, opts, what)
  local ok, msg = gradcheck.compare(analytic, numeric, opts)
  assert(ok, ("gradient check failed for %s: %s"):format(what or "?", tostring(msg)))
end

--- A random tensor of the given shape (uniform in [lo, hi)) that keeps every element at
-- least `margin` away from each point in `avoid` (kinks such as 0).
function gradcheck.rand_away(shape, lo, hi, avoid, margin)
  local t = lurn.rand(shape) * (hi - lo) + lo
  local v = t:reshape{-1}
  for i = 1, v:numel() do
    local x = v:get(i)
    for _, k in ipairs(avoid or {}) do
      if math.abs(x - k) < margin then x = k + (x >= k and margin or -margin) end
    end
    v:set(i, x)
  end
  return t
end

--- Checks a built Lua layer object: dL/dx and every parameter gradient for
-- L = sum(r * layer(x)) with a fixed random r. opts: h, rtol, atol, training, seed (reseed
-- lurn before every forward so that random layers draw the same mask), mask (an (N, steps)
-- mask of x's steps, passed to every forward and backward).
function gradcheck.check_layer(layer, x, opts)
  local o = options(opts)
  local core = layer._core
  local training = o.training ~= false
  local function forward()
    if o.seed then lurn.manual_seed(o.seed) end
    return core:forward(x, training, o.mask)
  end
  local y = forward()
  local r = lurn.randn(y:shape())
  local rv = gradcheck.flat(r)
  local dx = core:backward(x, y, r, o.mask)
  local grads = {}
  for i, g in ipairs(layer:gradients()) do grads[i] = g:clone() end
  local function objective() return gradcheck.dot(rv, forward()) end
  gradcheck.assert_close(dx, gradcheck.numeric(objective, x, o.h), o, layer.name .. " dL/dx")
  local params, names = layer:parameters()
  for i, p in ipairs(params) do
    gradcheck.assert_close(grads[i], gradcheck.numeric(objective, p, o.h), o, layer.name .. " dL/d" .. names[i])
  end
  return y, dx, grads
end

--- Checks lurn.core.loss_value's gradient with respect to pred.
function gradcheck.check_loss(loss, pred, target, weights, opts)
  local o = options(opts)
  local value, grad = lurn.core.loss_value(loss, pred, target, weights)
  local function objective() return (lurn.core.loss_value(loss, pred, target, weights)) end
  gradcheck.assert_close(grad, gradcheck.numeric(objective, pred, o.h), o,
    (loss.kind or "?") .. (loss.from_logits and " (from_logits)" or "") .. " dL/dpred")
  return value, grad
end

--- Checks a built Sequential model's gradients (model._core:gradients) with respect to
-- every parameter and to x, for a loss table and targets y (sample weights w optional).
function gradcheck.check_model(model, loss, x, y, w, opts)
  local o = options(opts)
  local core = model._core
  local function value()
    if o.seed then lurn.manual_seed(o.seed) end
    return (core:gradients(loss, x, y, w))
  end
  if o.seed then lurn.manual_seed(o.seed) end
  local loss_value, dx = core:gradients(loss, x, y, w)
  local grads = {}
  for li, layer in ipairs(model.layers) do
    grads[li] = {}
    for i, g in ipairs(layer:gradients()) do grads[li][i] = g:clone() end
  end
  for li, layer in ipairs(model.layers) do
    local params, names = layer:parameters()
    for i, p in ipairs(params) do
      gradcheck.assert_close(grads[li][i], gradcheck.numeric(value, p, o.h), o,
        ("%s dL/d%s"):format(layer.name, names[i]))
    end
  end
  if o.check_dx ~= false then
    gradcheck.assert_close(dx, gradcheck.numeric(value, x, o.h), o, "model dL/dx")
  end
  return loss_value, dx, grads
end

return gradcheck
