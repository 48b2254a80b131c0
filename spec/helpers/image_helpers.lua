--- What the image layers' specs share: comparing values, building small images and
-- layers, and TensorFlow's output size and padding rule, which the specs' reference
-- loops restate on their own rather than take from lurn.
local lurn = require "lurn"
local assert = require "luassert"  -- busted's assert lives in the specs' environment, not here

local M = {}

--- Asserts |expected[i] - actual[i]| <= tol * max(1, |expected[i]|) for lists of numbers.
function M.assert_all_close(expected, actual, tol)
  assert.equal(#expected, #actual)
  for i = 1, #expected do
    assert(math.abs(expected[i] - actual[i]) <= (tol or 1e-5) * math.max(1, math.abs(expected[i])),
      ("element %d: expected %.9g, got %.9g"):format(i, expected[i], actual[i]))
  end
end

--- The image x as a (1, h, w, 1) batch from a table of rows.
function M.image(rows) return lurn.tensor(rows):reshape{1, #rows, #rows[1], 1} end

--- layer, built for the per-sample shape in_shape.
function M.built(layer, in_shape)
  layer:build(in_shape)
  return layer
end

--- TensorFlow's output size and top/left padding of a window of kh x kw (dilated by
-- dilation) at strides over h x w, for padding "valid" or "same": oh, ow, top, left.
function M.window_geometry(h, w, kh, kw, strides, padding, dilation)
  local sh, sw, dh, dw = strides[1], strides[2], dilation[1], dilation[2]
  local span_h, span_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
  local oh, ow, top, left = (h - span_h) // sh + 1, (w - span_w) // sw + 1, 0, 0
  if padding == "same" then
    oh, ow = (h + sh - 1) // sh, (w + sw - 1) // sw
    top = math.max((oh - 1) * sh + span_h - h, 0) // 2
    left = math.max((ow - 1) * sw + span_w - w, 0) // 2
  end
  return oh, ow, top, left
end

return M
