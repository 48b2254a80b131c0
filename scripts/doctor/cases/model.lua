--- The corpus's model cases: a compiled model whose static check (model_checks.lua) must
-- find a code, with its fixed twin (docs/doctor.md, "The corpus"). Each code has two broken
-- cases or more, on different data sets and architectures; a twin is its broken case with
-- the fault removed the way the finding's fix says (same data, same architecture
-- otherwise), and goes through diagnose like any healthy model.
return function(kit)
  local imputed, pixels, one_hot, fashion = kit.imputed, kit.pixels, kit.one_hot, kit.fashion_rows
  local lurn = rawget(_G, "lurn") or require "lurn"
  local on, from, scale, stack = kit.on, kit.from, kit.scale, kit.stack

  -- ---- prepare steps ------------------------------------------------------------------

  local IMAGES = {batch_size = 32}

  local function constant(value) return lurn.initializers.Constant{value = value} end
  local function logits_loss() return lurn.losses.SparseCategoricalCrossentropy{from_logits = true} end

  return {
    -- loss_output_mismatch: a softmax over iris' 3 classes scored by binary cross-entropy
    -- (three independent yes/no on units tied to sum 1; one-hot labels), a sigmoid output
    -- over wine's 3 classes with categorical cross-entropy (the units do not compete), and
    -- Fashion-MNIST's softmax probabilities given to a loss with from_logits = true (a
    -- second softmax on values in [0, 1]: nearly uniform, weak gradients)
    {name = "iris_softmax_binary_loss", code = "loss_output_mismatch", tiny = true,
     build = on("iris", one_hot(3), {hidden = stack({8, 8}, "tanh"), loss = "binary_crossentropy"})},
    {name = "iris_softmax_categorical_loss", healthy = true, twin_of = "iris_softmax_binary_loss", tiny = true,
     build = on("iris", one_hot(3), {hidden = stack({8, 8}, "tanh"), loss = "categorical_crossentropy"})},
    {name = "wine_sigmoid_categorical", code = "loss_output_mismatch",
     build = on("wine", one_hot(3), {hidden = stack({32, 16}, "relu"), output = "sigmoid",
                                     loss = "categorical_crossentropy"})},
    {name = "wine_softmax_categorical", healthy = true, twin_of = "wine_sigmoid_categorical",
     build = on("wine", one_hot(3), {hidden = stack({32, 16}, "relu"), loss = "categorical_crossentropy"})},
    {name = "fashion_softmax_from_logits", code = "loss_output_mismatch", epochs = 5,
     build = from(fashion(2000), pixels, {hidden = stack({64, 32}, "relu"), lr = 0.001, loss = logits_loss()},
                  IMAGES)},
    {name = "fashion_softmax_probabilities", healthy = true, twin_of = "fashion_softmax_from_logits", epochs = 5,
     build = from(fashion(2000), pixels, {hidden = stack({64, 32}, "relu"), lr = 0.001}, IMAGES)},

    -- symmetric_initialization: zeros under relu (relu(0) = 0 passes no gradient: the
    -- layer never moves) on penguins; every hidden kernel of a two-layer tanh stack
    -- constant, on wine and on Fashion-MNIST: the first layer's units stay copies of one
    -- another (one unit's worth: a single projection of the inputs; wine's classes are
    -- separable along one, Fashion-MNIST's are not)
    {name = "penguins_relu_zeros", code = "symmetric_initialization",
     build = from(kit.penguins, imputed, {units = 16, activation = "relu", init = "zeros"})},
    {name = "penguins_relu_he_normal", healthy = true, twin_of = "penguins_relu_zeros",
     build = from(kit.penguins, imputed, {units = 16, activation = "relu", init = "he_normal"})},
    {name = "wine_tanh_constant", code = "symmetric_initialization",
     build = on("wine", kit.scaled, {hidden = stack({32, 32}, "tanh", constant(0.1))})},
    {name = "wine_tanh_glorot_2", healthy = true, twin_of = "wine_tanh_constant",
     build = on("wine", kit.scaled, {hidden = stack({32, 32}, "tanh", "glorot_uniform")})},

    {name = "fashion_tanh_constant", code = "symmetric_initialization", epochs = 5,
     build = from(fashion(2000), pixels, {hidden = stack({64, 32}, "tanh", constant(0.001)), lr = 0.001}, IMAGES)},
    {name = "fashion_tanh_glorot", healthy = true, twin_of = "fashion_tanh_constant", epochs = 5,
     build = from(fashion(2000), pixels, {hidden = stack({64, 32}, "tanh", "glorot_uniform"), lr = 0.001}, IMAGES)},

    -- no_nonlinearity: hidden Dense layers all linear (one linear map: logistic regression
    -- with extra parameters), on breast cancer and on Fashion-MNIST
    {name = "breast_cancer_linear_stack", code = "no_nonlinearity", epochs = 8,
     build = on("breast_cancer", kit.scaled, {hidden = stack({32, 16}, "linear")})},
    {name = "breast_cancer_relu_stack", healthy = true, twin_of = "breast_cancer_linear_stack", epochs = 8,
     build = on("breast_cancer", kit.scaled, {hidden = stack({32, 16}, "relu")})},
    {name = "fashion_linear_stack", code = "no_nonlinearity", epochs = 5,
     build = from(fashion(2000), pixels, {hidden = stack({64, 64}, "linear"), lr = 0.001}, IMAGES)},
    {name = "fashion_relu_stack", healthy = true, twin_of = "fashion_linear_stack", epochs = 5,
     build = from(fashion(2000), pixels, {hidden = stack({64, 64}, "relu"), lr = 0.001}, IMAGES)},

    -- bottleneck: one relu unit before iris' 3 classes (a softmax over 3 needs 2
    -- directions), 4 units before Fashion-MNIST's 10 (it needs 9); the twins widen the
    -- narrow layer to the output's units, as the fix says
    {name = "iris_one_unit_bottleneck", code = "bottleneck", tiny = true,
     build = on("iris", kit.scaled, {hidden = stack({16, 1}, "relu")})},
    {name = "iris_three_unit_layer", healthy = true, twin_of = "iris_one_unit_bottleneck", tiny = true,
     build = on("iris", kit.scaled, {hidden = stack({16, 3}, "relu")})},
    {name = "fashion_four_unit_bottleneck", code = "bottleneck", epochs = 5,
     build = from(fashion(2000), pixels, {hidden = stack({128, 4}, "relu"), lr = 0.001}, IMAGES)},
    {name = "fashion_ten_unit_layer", healthy = true, twin_of = "fashion_four_unit_bottleneck", epochs = 5,
     build = from(fashion(2000), pixels, {hidden = stack({128, 10}, "relu"), lr = 0.001}, IMAGES)},
  }
end
