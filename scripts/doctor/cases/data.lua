--- The corpus's data cases: each broken case with the data code it must get, and its fixed
-- twin (docs/doctor.md, "The corpus").
return function(kit)
  local lurn = rawget(_G, "lurn") or require "lurn"
  local on, scale = kit.on, kit.scale

  -- A constant column added in front of x (a feature that never varies).
  local function with_constant(xt, yt, xv, yv)
    xt, xv = scale(xt, xv)
    local c1, c2 = lurn.full({xt:size(1), 1}, 3.0), lurn.full({xv:size(1), 1}, 3.0)
    return lurn.cat({c1, xt}, 2), yt, lurn.cat({c2, xv}, 2), yv
  end

  -- Class 1 cut down to a twentieth of the training rows (the validation part stays).
  local function imbalanced(xt, yt, xv, yv)
    xt, xv = scale(xt, xv)
    local keep, seen = {}, 0
    for i = 1, yt:size(1) do
      if yt:get(i) == 0 then
        keep[#keep + 1] = i
      else
        seen = seen + 1
        if seen % 20 == 0 then keep[#keep + 1] = i end
      end
    end
    local idx = lurn.tensor(keep)
    return xt:index(1, idx):contiguous(), yt:index(1, idx):contiguous(), xv, yv
  end

  return {
    {name = "wine_unscaled", code = "unscaled_features", data_only = true, tiny = true, build = on("wine")},
    {name = "wine_scaled", healthy = true, twin_of = "wine_unscaled", tiny = true, build = on("wine", kit.scaled)},
    -- breast cancer: 8 epochs (at Adam 0.01 its 455 training rows are learnt by then: 40
    -- epochs more than double the validation loss, which the doctor rightly calls overfitting)
    {name = "breast_cancer_imbalanced", code = "class_imbalance", data_only = true, epochs = 8,
     build = on("breast_cancer", imbalanced)},
    {name = "breast_cancer_weighted", healthy = true, twin_of = "breast_cancer_imbalanced", epochs = 8,
     build = on("breast_cancer", imbalanced, nil, {balanced = true})},
    {name = "iris_constant_feature", code = "constant_feature", data_only = true, build = on("iris", with_constant)},
  }
end
