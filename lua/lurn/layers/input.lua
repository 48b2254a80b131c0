--- Input{shape = {784}}: declares a Sequential model's per-sample input shape. It is
-- not a layer of its own: it only sets the shape, as in Keras.
local Input = {}
Input.__index = Input
Input.class_name = "InputLayer"

return function(opts)
  if type(opts) ~= "table" then error("Input: expected {shape = {...}}", 2) end
  local shape = opts.shape or opts
  if type(shape) ~= "table" or #shape == 0 then error("Input: shape must be a table of sizes, e.g. {784}", 2) end
  for _, v in ipairs(shape) do
    if math.type(v) ~= "integer" or v < 1 then error("Input: sizes must be positive integers", 2) end
  end
  return setmetatable({shape = shape, is_input = true, name = opts.name}, Input)
end
