--- How lurn writes shapes, counts and caught errors in its messages and summaries, in one
-- place. Internal: not part of the lurn table.
local text = {}

--- "(2, 3)", and "(3,)" for one size, as Python prints a tuple.
function text.shape(shape)
  return "(" .. table.concat(shape, ", ") .. (#shape == 1 and ",)" or ")")
end

--- "(None, 28, 28, 1)": a per-sample shape with Keras' batch dimension.
function text.batch_shape(shape)
  return "(None, " .. table.concat(shape, ", ") .. ")"
end

--- 1234567 -> "1,234,567", as Keras' summary counts parameters.
function text.thousands(n)
  local s = tostring(math.tointeger(n) or n)
  return (s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end

--- A value as a message shows it: numbers, booleans and nil as they are, a string quoted
-- and called one (units = "8" is not 8), a tensor as "a tensor", anything else by its type.
function text.shown(v)
  if type(v) == "string" then return ("the string %q"):format(v) end
  if v == nil or type(v) == "number" or type(v) == "boolean" then return tostring(v) end
  if require("lurn.core").is_tensor(v) then return "a tensor" end
  return "a " .. type(v)
end

--- A caught error's text without the "file:line: " that error() put in front.
function text.message(err)
  return (tostring(err):gsub("^[^\n]-:%d+: ", "", 1))
end

return text
