--- The corpus's data cases: each broken case with the data code it must get, and its fixed
-- twin (docs/doctor.md, "The corpus"). Each code has two broken cases or more, on different
-- data sets and architectures; a twin is the broken case with the fault removed (same data
-- set, same architecture), and must be really healthy: it goes through diagnose.
return function(kit)
  local imputed, one_hot, fashion = kit.imputed, kit.one_hot, kit.fashion_rows
  local lurn = rawget(_G, "lurn") or require "lurn"
  local on, from, scale, stack = kit.on, kit.from, kit.scale, kit.stack

  -- rows `keep` (a list of 1-based positions) of a tensor
  local function rows(t, keep) return t:index(1, lurn.tensor(keep)):contiguous() end

  -- ---- prepare steps: the fault, or its fix ------------------------------------------

  -- A constant column added in front of x (a feature that never varies).
  local function with_constant(xt, yt, xv, yv)
    xt, xv = scale(xt, xv)
    local c1, c2 = lurn.full({xt:size(1), 1}, 3.0), lurn.full({xv:size(1), 1}, 3.0)
    return lurn.cat({c1, xt}, 2), yt, lurn.cat({c2, xv}, 2), yv
  end

  -- A column that tells the site the sample came from: every training sample from site 0,
  -- every validation sample from site 1 (constant in training, varying elsewhere).
  local function with_site(xt, yt, xv, yv)
    xt, xv = scale(xt, xv)
    return lurn.cat({lurn.zeros{xt:size(1), 1}, xt}, 2), yt, lurn.cat({lurn.ones{xv:size(1), 1}, xv}, 2), yv
  end

  -- Class `class` cut down to one in `keep_one_in` of the training rows (the validation
  -- part stays), after scaling x by `scaler` (kit.scale, or a function of xt, xv).
  local function imbalance(class, keep_one_in, scaler)
    return function(xt, yt, xv, yv)
      xt, xv = (scaler or scale)(xt, xv)
      local keep, seen = {}, 0
      for i = 1, yt:size(1) do
        if yt:get(i) ~= class then
          keep[#keep + 1] = i
        else
          seen = seen + 1
          if seen % keep_one_in == 0 then keep[#keep + 1] = i end
        end
      end
      return rows(xt, keep), rows(yt, keep), xv, yv
    end
  end
  local imbalanced = imbalance(1, 20)

  -- Pixels divided by 255 (the usual scaling of images).
  local function pixels(xt, xv) return xt / 255, xv / 255 end
  local function pixels_prepared(xt, yt, xv, yv) return xt / 255, yt, xv / 255, yv end

  -- NaN where a sensor dropped out: every `every`th value of x and of the validation x
  -- (after scaling: the fault is the gaps, not the scale).
  local function with_gaps(every)
    return function(xt, yt, xv, yv)
      xt, xv = scale(xt, xv)
      for _, t in ipairs{xt, xv} do
        local n, d = t:size(1), t:size(2)
        for k = every, n * d, every do t:set((k - 1) // d + 1, (k - 1) % d + 1, 0 / 0) end
      end
      return xt, yt, xv, yv
    end
  end

  -- A unit mistake in `rows_` training rows: features 1..`features` entered `factor` times
  -- too large; then scaled by a StandardScaler fitted on them (as a pipeline would).
  local function mis_keyed(row_list, features, factor)
    return function(xt, yt, xv, yv)
      xt = xt:clone()
      for _, i in ipairs(row_list) do
        for j = 1, features do xt:set(i, j, xt:get(i, j) * factor) end
      end
      xt, xv = scale(xt, xv)
      return xt, yt, xv, yv
    end
  end

  -- The split without shuffling: the first three quarters of the rows (as the file orders
  -- them: by class) for training, the rest for validation.
  local function ordered_split(x, y)
    local n = x:size(1)
    local cut = math.floor(n * 0.75)
    return x:narrow(1, 1, cut):contiguous(), y:narrow(1, 1, cut):contiguous(),
      x:narrow(1, cut + 1, n - cut):contiguous(), y:narrow(1, cut + 1, n - cut):contiguous()
  end

  -- The training rows of class `class` dropped (the validation part keeps it).
  local function without_class(class)
    return function(xt, yt, xv, yv)
      xt, xv = scale(xt, xv)
      local keep = {}
      for i = 1, yt:size(1) do if yt:get(i) ~= class then keep[#keep + 1] = i end end
      return rows(xt, keep), rows(yt, keep), xv, yv
    end
  end

  -- The first `count` validation rows replaced by copies of training rows (rows
  -- oversampled or augmented before the split), after `scaler`.
  local function leaked(count, scaler)
    return function(xt, yt, xv, yv)
      xt, xv = (scaler or scale)(xt, xv)
      local n = xv:size(1)
      local copied, kept = {}, {}
      for i = 1, count do copied[i] = 1 + (i - 1) * 3 % xt:size(1) end
      for i = count + 1, n do kept[#kept + 1] = i end
      xv = lurn.cat({rows(xt, copied), rows(xv, kept)}, 1):contiguous()
      yv = lurn.cat({rows(yt, copied), rows(yv, kept)}, 1):contiguous()
      return xt, yt, xv, yv
    end
  end

  -- A share of the training labels replaced by another class, the rows picked by a fixed
  -- pseudo-random sequence (a linear congruential generator: no periodic pattern, the
  -- user's generator untouched), after `scaler`.
  local function flipped(share, classes, scaler)
    return function(xt, yt, xv, yv)
      xt, xv = (scaler or scale)(xt, xv)
      yt = yt:clone()
      local s = 20261207
      for i = 1, yt:size(1) do
        s = (s * 1103515245 + 12345) % 2147483648
        if s / 2147483648 < share then
          yt:set(i, (yt:get(i) + 1 + s % (classes - 1)) % classes)
        end
      end
      return xt, yt, xv, yv
    end
  end

  -- The labels numbered from 1 (as R's factors and UCI's files number classes), after
  -- `prepare`.
  local function from_one(prepare)
    return function(xt, yt, xv, yv)
      xt, yt, xv, yv = prepare(xt, yt, xv, yv)
      return xt, yt + 1, xv, yv + 1
    end
  end


  -- ---- the architectures ----------------------------------------------------------------
  local TANH_2 = {hidden = stack({32, 16}, "tanh")}           -- two tanh layers
  local RELU_2 = {hidden = stack({32, 32}, "relu")}           -- two relu layers
  local ELU_24 = {units = 24, activation = "elu"}             -- one elu layer
  local TANH_8 = {units = 8, activation = "tanh"}             -- one narrow tanh layer
  local WIDE = {units = 64, lr = 0.001}                       -- images: 64 relu units, Adam 1e-3
  local DEEP = {hidden = stack({128, 64}, "relu"), lr = 0.001} -- images: two relu layers
  local SIGMOID_32 = {units = 32, activation = "sigmoid"}     -- one sigmoid layer

  return {
    -- unscaled_features
    {name = "wine_unscaled", code = "unscaled_features", data_only = true, tiny = true, build = on("wine")},
    {name = "wine_scaled", healthy = true, twin_of = {"wine_unscaled", "wine_noisy"}, tiny = true,
     build = on("wine", kit.scaled)},
    {name = "breast_cancer_unscaled", code = "unscaled_features", epochs = 10, build = on("breast_cancer", nil, TANH_2)},
    {name = "breast_cancer_tanh_scaled", healthy = true, twin_of = "breast_cancer_unscaled", epochs = 10,
     build = on("breast_cancer", kit.scaled, TANH_2)},
    {name = "fashion_unscaled", code = "unscaled_features", epochs = 5, build = from(fashion(2000), nil, WIDE,
      {batch_size = 32})},
    {name = "fashion_pixels_255", healthy = true, twin_of = "fashion_unscaled", epochs = 5,
     build = from(fashion(2000), pixels_prepared, WIDE, {batch_size = 32})},

    -- missing_values
    {name = "penguins_missing", code = "missing_values", build = from(kit.penguins, nil, ELU_24)},
    {name = "penguins_imputed", healthy = true, twin_of = {"penguins_missing", "penguins_labels_from_1"},
     build = from(kit.penguins, imputed, ELU_24)},
    {name = "wine_missing", code = "missing_values", build = on("wine", with_gaps(29), RELU_2)},
    {name = "wine_imputed", healthy = true, twin_of = "wine_missing", build = on("wine", function(xt, yt, xv, yv)
      return imputed(with_gaps(29)(xt, yt, xv, yv))
    end, RELU_2)},

    -- constant_feature
    {name = "iris_constant_feature", code = "constant_feature", data_only = true, build = on("iris", with_constant)},
    {name = "breast_cancer_site_column", code = "constant_feature", epochs = 8,
     build = on("breast_cancer", with_site, SIGMOID_32)},
    {name = "breast_cancer_sigmoid", healthy = true, twin_of = {"breast_cancer_site_column", "breast_cancer_outliers"},
     epochs = 8, build = on("breast_cancer", kit.scaled, SIGMOID_32)},

    -- outliers
    {name = "wine_outliers", code = "outliers", data_only = true, build = on("wine", mis_keyed({5}, 13, 1000), TANH_8)},
    {name = "wine_tanh", healthy = true, twin_of = {"wine_outliers", "wine_missing_class"},
     build = on("wine", kit.scaled, TANH_8)},
    {name = "breast_cancer_outliers", code = "outliers", epochs = 8,
     build = on("breast_cancer", mis_keyed({3, 50, 120, 300}, 10, 100), SIGMOID_32)},

    -- class_imbalance
    {name = "breast_cancer_imbalanced", code = "class_imbalance", data_only = true, epochs = 8,
     build = on("breast_cancer", imbalanced)},
    -- breast cancer: 8 epochs (at Adam 0.01 its 455 training rows are learnt by then: 40
    -- epochs more than double the validation loss, which the doctor rightly calls overfitting)
    {name = "breast_cancer_weighted", healthy = true, twin_of = "breast_cancer_imbalanced", epochs = 8,
     build = on("breast_cancer", imbalanced, nil, {balanced = true})},
    {name = "fashion_imbalanced", code = "class_imbalance", epochs = 5,
     build = from(fashion(3000), imbalance(7, 20, pixels), WIDE, {batch_size = 32})},
    {name = "fashion_weighted", healthy = true, twin_of = "fashion_imbalanced", epochs = 5,
     build = from(fashion(3000), imbalance(7, 20, pixels), WIDE, {batch_size = 32, balanced = true})},

    -- split_missing_class
    {name = "iris_ordered_split", code = "split_missing_class", build = from(function() return kit.csv("iris") end,
      kit.scaled, TANH_8, {split = ordered_split})},
    {name = "iris_tanh", healthy = true, twin_of = "iris_ordered_split", build = on("iris", kit.scaled, TANH_8)},
    {name = "wine_missing_class", code = "split_missing_class", data_only = true,
     build = on("wine", without_class(2), TANH_8)},

    -- train_test_overlap
    {name = "breast_cancer_leak", code = "train_test_overlap", epochs = 8,
     build = on("breast_cancer", leaked(40), ELU_24)},
    {name = "breast_cancer_elu", healthy = true, twin_of = {"breast_cancer_leak", "breast_cancer_noisy"}, epochs = 8,
     build = on("breast_cancer", kit.scaled, ELU_24)},
    {name = "fashion_leak", code = "train_test_overlap", data_only = true, epochs = 5,
     build = from(fashion(2000), leaked(150, pixels), DEEP, {batch_size = 32})},
    {name = "fashion_deep", healthy = true, twin_of = {"fashion_leak", "fashion_noisy"}, epochs = 5,
     build = from(fashion(2000), pixels_prepared, DEEP, {batch_size = 32})},

    -- label_noise
    {name = "breast_cancer_noisy", code = "label_noise", epochs = 8, build = on("breast_cancer", flipped(0.05, 2), ELU_24)},
    {name = "fashion_noisy", code = "label_noise", data_only = true, epochs = 5,
     build = from(fashion(2000), flipped(0.2, 10, pixels), DEEP, {batch_size = 32})},
    -- a fifth of wine's training labels wrong, spread over its two other classes: each
    -- wrong label's class holds a tenth of every neighbourhood (the background the check
    -- reads from the data; a fixed chance share read it as class overlap)
    {name = "wine_noisy", code = "label_noise", data_only = true, build = on("wine", flipped(0.2, 3))},

    -- label_encoding_mismatch
    {name = "iris_onehot_sparse_loss", code = "label_encoding_mismatch", build = on("iris", one_hot(3))},
    {name = "iris_onehot_categorical", healthy = true, twin_of = "iris_onehot_sparse_loss",
     build = on("iris", one_hot(3), {loss = "categorical_crossentropy"})},
    {name = "wine_sparse_categorical_loss", code = "label_encoding_mismatch",
     build = on("wine", kit.scaled, {hidden = stack({32}, "tanh"), loss = "categorical_crossentropy"})},
    {name = "wine_tanh_sparse", healthy = true, twin_of = "wine_sparse_categorical_loss",
     build = on("wine", kit.scaled, {hidden = stack({32}, "tanh")})},
    {name = "penguins_labels_from_1", code = "label_encoding_mismatch",
     build = from(kit.penguins, from_one(imputed), ELU_24)},
  }
end
