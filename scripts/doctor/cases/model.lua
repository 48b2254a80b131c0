--- The corpus's model cases: a compiled model whose static check must find a code, with its
-- fixed twin (docs/doctor.md, "The corpus").
return function(kit)
  return {}
end
