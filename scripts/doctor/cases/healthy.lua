--- The corpus's healthy models, one or more on every shipped data set: no warning or error
-- may come of them (docs/doctor.md, "The corpus").
return function(kit)
  local on = kit.on
  return {
    {name = "breast_cancer_scaled", healthy = true, epochs = 8, build = on("breast_cancer", kit.scaled)},
    {name = "iris_scaled", healthy = true, twin_of = {"iris_lr_too_high", "iris_lr_too_low", "iris_constant_feature"},
     tiny = true, build = on("iris", kit.scaled)},
  }
end
