-- Quick start: tensors in lurn. Run with `build/lurn examples/quickstart.lua`
-- (scripts/run does this for you). `lurn` is preloaded as a global by the lurn
-- command; `require "lurn"` works the same from plain lua5.4.
local lurn = lurn or require "lurn"

lurn.manual_seed(42)

-- A tiny least-squares fit done with tensor algebra: y = X w + noise.
local n, d = 1000, 3
local x = lurn.randn{n, d}
local w_true = lurn.tensor{{2.0}, {-1.0}, {0.5}}
local y = lurn.matmul(x, w_true) + lurn.randn{n, 1} * 0.1

-- Gradient descent on the mean squared error.
local w = lurn.zeros{d, 1}
local lr = 0.1
local t0 = lurn.clock()
for step = 1, 200 do
  local residual = lurn.matmul(x, w) - y
  local grad = lurn.matmul(x, residual, true) * (2 / n)
  w = w - grad * lr
  if step % 50 == 0 then
    print(string.format("step %3d  mse %.5f", step, (residual * residual):mean()))
  end
end
print("fitted weights:")
print(w)
print(string.format("true weights: 2.0, -1.0, 0.5   (%.1f ms)", (lurn.clock() - t0) * 1000))
