--- The corpus's training cases: a model or optimizer setting that makes training fail, with
-- the code the probe must find, and its fixed twin (docs/doctor.md, "The corpus").
return function(kit)
  local on = kit.on
  return {
    {name = "iris_lr_too_high", code = "lr_too_high", build = on("iris", kit.scaled, {lr = 50.0})},
    {name = "iris_lr_too_low", code = "lr_too_low", build = on("iris", kit.scaled, {lr = 1e-5})},
  }
end
