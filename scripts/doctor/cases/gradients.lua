--- The corpus's gradient and activation cases (exploding or vanishing gradients, dead
-- ReLUs, saturation, a NaN loss): the code the probe's per-layer statistics must find, and
-- the fixed twin (docs/doctor.md, "The corpus"). Each twin is its broken case with the
-- fault removed the way the finding's fix says.
return function(kit)
  local lurn = rawget(_G, "lurn") or require "lurn"
  local on, stack = kit.on, kit.deep
  local function normal(stddev) return lurn.initializers.RandomNormal{stddev = stddev} end
  local function sgd(rate) return lurn.optimizers.SGD{learning_rate = rate} end
  return {
    -- exploding: relu stacks whose kernels start several times too large (he_normal's stddev
    -- for 32 inputs is 0.25, for 64 it is 0.18): each layer multiplies the signal by about 4
    -- (iris) or 2.8 (breast cancer), forward and back; plain SGD then steps past everything
    {name = "iris_relu_large_init", code = "exploding_gradients",
     build = on("iris", kit.scaled, {hidden = stack(8, 32, "relu", normal(1.0)), optimizer = sgd(0.01)})},
    {name = "iris_relu_he_normal", healthy = true, twin_of = "iris_relu_large_init",
     build = on("iris", kit.scaled, {hidden = stack(8, 32, "relu", "he_normal"), optimizer = sgd(0.01)})},
    {name = "breast_cancer_relu_large_init", code = "exploding_gradients", epochs = 8,
     build = on("breast_cancer", kit.scaled, {hidden = stack(6, 64, "relu", normal(0.5)), optimizer = sgd(0.01)})},
    {name = "breast_cancer_relu_he_normal", healthy = true, twin_of = "breast_cancer_relu_large_init", epochs = 8,
     build = on("breast_cancer", kit.scaled, {hidden = stack(6, 64, "relu", "he_normal"), optimizer = sgd(0.01)})},

    -- vanishing: deep stacks whose kernels start far too small (stddev 0.01 for 32 inputs:
    -- a gain near 0.06 per layer for tanh, 0.04 for relu); the twins start at the
    -- activation's own initializer. Ten epochs on wine (178 rows): by 40 the twin overfits.
    {name = "wine_tanh_small_init", code = "vanishing_gradients", epochs = 10,
     build = on("wine", kit.scaled, {hidden = stack(8, 32, "tanh", normal(0.01)), lr = 0.001})},
    {name = "wine_tanh_glorot", healthy = true, twin_of = "wine_tanh_small_init", epochs = 10,
     build = on("wine", kit.scaled, {hidden = stack(8, 32, "tanh", "glorot_uniform"), lr = 0.001})},
    {name = "breast_cancer_relu_small_init", code = "vanishing_gradients", epochs = 8,
     build = on("breast_cancer", kit.scaled, {hidden = stack(6, 32, "relu", normal(0.01)), optimizer = sgd(0.01)})},
    {name = "breast_cancer_relu_small_twin", healthy = true, twin_of = "breast_cancer_relu_small_init", epochs = 8,
     build = on("breast_cancer", kit.scaled, {hidden = stack(6, 32, "relu", "he_normal"), optimizer = sgd(0.01)})},

    -- dead_relu: a bias of -5 puts every pre-activation (std about 1.4 under he_normal and
    -- scaled inputs) below zero; Adam at 0.3 throws the units of a wider, deeper stack
    -- below zero within the first epochs
    {name = "iris_relu_negative_bias", code = "dead_relu",
     build = on("iris", kit.scaled, {hidden = stack(1, 16, "relu", "he_normal", lurn.initializers.Constant{value = -5})})},
    {name = "iris_relu_zero_bias", healthy = true, twin_of = "iris_relu_negative_bias",
     build = on("iris", kit.scaled, {hidden = stack(1, 16, "relu", "he_normal")})},
    {name = "wine_relu_rate_too_high", code = "dead_relu", epochs = 10,
     build = on("wine", kit.scaled, {hidden = stack(3, 64, "relu", "he_normal"), lr = 0.3})},
    {name = "wine_relu_rate_lowered", healthy = true, twin_of = "wine_relu_rate_too_high", epochs = 10,
     build = on("wine", kit.scaled, {hidden = stack(3, 64, "relu", "he_normal"), lr = 0.003})},

    -- saturation: tanh fed raw wine (RMS 227: every pre-activation far beyond +-2.6, where
    -- tanh is within 0.01 of +-1), and sigmoid kernels with stddev 3 on 30 scaled features
    -- (pre-activations of std about 16, beyond +-4.6 mostly), trained by plain SGD
    {name = "wine_tanh_unscaled", code = "saturation",
     build = on("wine", nil, {activation = "tanh", init = "glorot_uniform"})},
    {name = "wine_tanh_scaled", healthy = true, twin_of = "wine_tanh_unscaled",
     build = on("wine", kit.scaled, {activation = "tanh", init = "glorot_uniform"})},
    {name = "breast_cancer_sigmoid_large_init", code = "saturation", epochs = 8,
     build = on("breast_cancer", kit.scaled, {hidden = stack(2, 32, "sigmoid", normal(3)), optimizer = sgd(0.1)})},
    {name = "breast_cancer_sigmoid_glorot", healthy = true, twin_of = "breast_cancer_sigmoid_large_init", epochs = 8,
     build = on("breast_cancer", kit.scaled, {hidden = stack(2, 32, "sigmoid", "glorot_uniform"), optimizer = sgd(0.1)})},
  }
end
