--- The corpus's training cases: a model or optimizer setting that makes training fail, with
-- the code the probe must find, and its fixed twin (docs/doctor.md, "The corpus"). Each
-- twin is its broken case with the fault removed the way the finding's fix says.
return function(kit)
  local imputed, pixels, fashion = kit.imputed, kit.pixels, kit.fashion_rows
  local lurn = rawget(_G, "lurn") or require "lurn"
  local L = kit.L
  local on, from, stack = kit.on, kit.from, kit.stack
  local function sgd(rate) return lurn.optimizers.SGD{learning_rate = rate} end
  local function adam(rate) return lurn.optimizers.Adam{learning_rate = rate} end
  local function rmsprop(rate) return lurn.optimizers.RMSprop{learning_rate = rate} end

  -- Penguins: the four measurements (two birds unmeasured: kit.imputed fills them).
  local penguins = kit.penguins

  -- Hidden relu layers of `widths` with an L2 penalty of `l2` on their kernels.
  local function penalized(widths, l2)
    return function(features)
      local layers = {}
      for i, w in ipairs(widths) do
        layers[i] = L.Dense(w, {activation = "relu", input_shape = i == 1 and {features} or nil,
                                kernel_initializer = "he_normal", kernel_regularizer = lurn.regularizers.l2(l2)})
      end
      return layers
    end
  end
  -- Hidden relu layers of `widths`, each followed by Dropout(rate).
  local function dropped(widths, rate)
    return function(features)
      local layers = {}
      for i, w in ipairs(widths) do
        layers[#layers + 1] = L.Dense(w, {activation = "relu", input_shape = i == 1 and {features} or nil,
                                          kernel_initializer = "he_normal"})
        layers[#layers + 1] = L.Dropout(rate)
      end
      return layers
    end
  end

  return {
    -- lr_too_high: Adam far past its usual 1e-3 on iris; plain SGD with tanh layers on wine
    -- (scaled: the rate alone is the fault); RMSprop on Fashion-MNIST
    {name = "iris_lr_too_high", code = "lr_too_high", build = on("iris", kit.scaled, {lr = 50.0})},
    {name = "wine_sgd_lr_too_high", code = "lr_too_high",
     build = on("wine", kit.scaled, {hidden = stack({32, 32}, "tanh"), optimizer = sgd(5)})},
    {name = "wine_sgd_lr_lowered", healthy = true, twin_of = "wine_sgd_lr_too_high",
     build = on("wine", kit.scaled, {hidden = stack({32, 32}, "tanh"), optimizer = sgd(0.05)})},
    {name = "fashion_rmsprop_lr_too_high", code = "lr_too_high", epochs = 5,
     build = from(fashion(2000), pixels, {units = 64, optimizer = rmsprop(0.5)})},
    {name = "fashion_rmsprop_lr_lowered", healthy = true, twin_of = "fashion_rmsprop_lr_too_high", epochs = 5,
     build = from(fashion(2000), pixels, {units = 64, optimizer = rmsprop(0.001)})},

    -- lr_too_low: Adam at 1e-5 on iris; SGD at 1e-4 through two relu layers on penguins;
    -- Adam at 1e-6 on Fashion-MNIST
    {name = "iris_lr_too_low", code = "lr_too_low", build = on("iris", kit.scaled, {lr = 1e-5})},
    {name = "penguins_sgd_lr_too_low", code = "lr_too_low",
     build = from(penguins, imputed, {hidden = stack({32, 32}, "relu"), optimizer = sgd(1e-4)})},
    {name = "penguins_sgd_lr_raised", healthy = true, twin_of = "penguins_sgd_lr_too_low",
     build = from(penguins, imputed, {hidden = stack({32, 32}, "relu"), optimizer = sgd(0.05)})},
    {name = "fashion_adam_lr_too_low", code = "lr_too_low", epochs = 5,
     build = from(fashion(2000), pixels, {units = 128, optimizer = adam(1e-6)})},
    {name = "fashion_adam_lr_raised", healthy = true, twin_of = "fashion_adam_lr_too_low", epochs = 5,
     build = from(fashion(2000), pixels, {units = 128, optimizer = adam(1e-3)})},

    -- nan_loss: plain SGD at rates where a step throws the weights and logits to infinity;
    -- the twins train at a rate below the one lr_too_high suggests
    {name = "wine_sgd_nan", code = "nan_loss",
     build = on("wine", kit.scaled, {units = 32, optimizer = sgd(200)})},
    {name = "wine_sgd_nan_lowered", healthy = true, twin_of = "wine_sgd_nan",
     build = on("wine", kit.scaled, {units = 32, optimizer = sgd(0.1)})},
    {name = "breast_cancer_sgd_nan", code = "nan_loss", epochs = 8,
     build = on("breast_cancer", kit.scaled, {hidden = stack({64, 64}, "relu"), optimizer = sgd(500)})},
    {name = "breast_cancer_sgd_nan_lowered", healthy = true, twin_of = "breast_cancer_sgd_nan", epochs = 8,
     build = on("breast_cancer", kit.scaled, {hidden = stack({64, 64}, "relu"), optimizer = sgd(0.01)})},

    -- overfitting: wide relu stacks on few rows, trained long (40 epochs). The twins drop
    -- units (Dropout, the finding's fix); on breast cancer at Adam's 0.01, Dropout(0.5) still
    -- lets the validation loss turn up on two of four splits tried (seeds 3 and 11), 0.7 on one
    {name = "fashion_wide_few_rows", code = "overfitting",
     build = from(fashion(2000), pixels, {hidden = stack({256, 256}, "relu"), lr = 0.001})},
    {name = "fashion_wide_dropout", healthy = true, twin_of = "fashion_wide_few_rows",
     build = from(fashion(2000), pixels, {hidden = dropped({256, 256}, 0.5), lr = 0.001})},
    {name = "breast_cancer_wide_long", code = "overfitting",
     build = on("breast_cancer", kit.scaled, {hidden = stack({128, 128}, "relu"), lr = 0.01})},
    -- the twin stops early too, as EarlyStopping would: with Dropout 0.7 alone, 40 epochs at
    -- Adam 0.01 on 426 rows still take the validation loss from 0.06 to 0.13 in spikes
    -- (confident mistakes on a few samples), the start of the same fault
    {name = "breast_cancer_wide_dropout", healthy = true, twin_of = "breast_cancer_wide_long", epochs = 10,
     build = on("breast_cancer", kit.scaled, {hidden = dropped({128, 128}, 0.7), lr = 0.01})},

    -- underfitting: an L2 penalty so strong that the weights stay near zero
    {name = "penguins_l2_too_strong", code = "underfitting",
     build = from(penguins, imputed, {hidden = penalized({16}, 10.0), optimizer = sgd(0.01)})},
    {name = "penguins_l2_weak", healthy = true, twin_of = "penguins_l2_too_strong",
     build = from(penguins, imputed, {hidden = penalized({16}, 1e-4), optimizer = sgd(0.01)})},
    {name = "fashion_l2_too_strong", code = "underfitting", epochs = 5,
     build = from(fashion(2000), pixels, {hidden = penalized({64, 64}, 1.0), optimizer = sgd(0.1)})},
    {name = "fashion_l2_weak", healthy = true, twin_of = "fashion_l2_too_strong", epochs = 5,
     build = from(fashion(2000), pixels, {hidden = penalized({64, 64}, 1e-4), optimizer = sgd(0.1)})},
  }
end
