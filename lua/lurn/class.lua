--- A minimal class helper: `local Dense = class(Layer)`; instances are tables whose
-- metatable is the class; methods missing in a class are looked up in its parent, and
-- the parent's metamethods (__call, __tostring, ...) are inherited too.
return function(parent)
  local cls = {}
  if parent then
    for k, v in pairs(parent) do
      if type(k) == "string" and k:sub(1, 2) == "__" and k ~= "__index" then cls[k] = v end
    end
    setmetatable(cls, {__index = parent})
  end
  cls.__index = cls
  return cls
end
