--- The corpus's gradient and activation cases (exploding or vanishing gradients, dead
-- ReLUs, saturation, a NaN loss): the code the probe's per-layer statistics must find, and
-- the fixed twin (docs/doctor.md, "The corpus").
return function(kit)
  return {}
end
