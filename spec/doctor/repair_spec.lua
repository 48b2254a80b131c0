-- report:repair(model, opts): each mechanical fix changes what it should on a model rebuilt
-- from the model's config; the user's model is left alone; what is not repaired is listed.
local lurn = require "lurn"
local Report = require "lurn.doctor.report"
local L = lurn.layers

local function model(opts)
  opts = opts or {}
  local m = lurn.Sequential{
    L.Dense(8, {activation = "relu", input_shape = {4}, kernel_initializer = opts.init or "glorot_uniform"}),
    L.Dense(3, {activation = opts.out or "softmax"}),
  }
  return m:compile{optimizer = lurn.optimizers.Adam{learning_rate = opts.lr or 0.01},
                   loss = opts.loss or "sparse_categorical_crossentropy", metrics = {"accuracy"}}
end

local function report_of(...)
  local r = Report.new()
  for _, f in ipairs{...} do
    f.severity, f.message, f.fix = f.severity or "warning", f.message or "m", f.fix or "f"
    r:add(f)
  end
  return r
end

local function codes(list)
  local out = {}
  for i, e in ipairs(list) do out[i] = e.code end
  table.sort(out)
  return out
end

describe("report:repair", function()
  it("switches the layers dead_relu names to leaky_relu, and leaves the user's model alone", function()
    local m = model()
    local fixed, result = report_of({code = "dead_relu", layer = "dense"}):repair(m)
    assert.equal("leaky_relu", fixed:get_layer("dense").activation)
    assert.equal("relu", m:get_layer("dense").activation)
    assert.same({"dead_relu"}, codes(result.repaired))
    assert.is_true(fixed.compiled)
  end)

  it("fits a scaler for unscaled_features that brings the data's std near 1", function()
    local x = lurn.randn(200, 4) * lurn.tensor{{1, 10, 100, 1000}} + 50
    local fixed, result = report_of({code = "unscaled_features"}):repair(model(), {x = x})
    assert.truthy(fixed)
    local z = result.scaler:transform(x)
    assert.equal(0, (result.transform(x) - z):abs():max())
    local std = z:std(1)
    for j = 1, 4 do assert.near(1, std:get(j), 0.05) end
    assert.truthy(table.concat(result.notes, " "):find("transform", 1, true))
  end)

  it("clips the columns outliers names to their far-out fences, then standardizes, in result.transform", function()
    lurn.manual_seed(3)
    local x = lurn.randn(400, 4)
    x:set(5, 2, 1000); x:set(9, 2, -800)   -- two mis-keyed values in column 2
    local r = report_of({code = "outliers", evidence = {columns = {2}, fence_iqr = 3}})
    local _, result = r:repair(model(), {x = x})
    assert.same({"outliers"}, codes(result.repaired))
    local q = lurn.core.column_quantiles(x, {25, 75}):totable()
    local hi = q[2][2] + 3 * (q[2][2] - q[1][2])
    local z = result.transform(x)
    -- the bulk's std is back near 1 (scaled by the inflated std it was about 0.02)
    local bulk = z:narrow(1, 10, 391)
    assert.near(1, bulk:std(1):get(2), 0.1)
    -- the mis-keyed value sits at the fence, in the scaler's units
    local s = result.scaler
    assert.near((hi - s.mean_:get(2)) / s.scale_:get(2), z:get(5, 2), 1e-4)
    -- a column not named is not clipped: its extreme values pass
    x:set(1, 1, 50)
    assert.near((50 - s.mean_:get(1)) / s.scale_:get(1), result.transform(x):get(1, 1), 1e-4)
  end)

  it("imputes missing values, then scales the imputed x, in result.transform", function()
    local x = lurn.randn(200, 4) * lurn.tensor{{1, 10, 100, 1000}} + 50
    x:set(3, 2, 0 / 0); x:set(7, 4, 0 / 0); x:set(9, 1, math.huge)
    local r = report_of({code = "missing_values", severity = "error", evidence = {split = "x", nan = 2, inf = 1}},
      {code = "unscaled_features"})
    local _, result = r:repair(model(), {x = x})
    assert.same({"missing_values", "unscaled_features"}, codes(result.repaired))
    assert.truthy(result.imputer and result.scaler)
    local z = result.transform(x)
    assert.equal(0, z:isnan():sum())
    assert.equal(0, z:abs():eq(math.huge):sum())
    -- the scaler saw the imputed x: the training x comes out standardized
    local std, mean = z:std(1), z:mean(1)
    for j = 1, 4 do
      assert.near(0, mean:get(j), 1e-3)
      assert.near(1, std:get(j), 0.05)
    end
    -- the missing value became the training column's mean: 0 once scaled
    assert.near(0, z:get(3, 2), 1e-3)
    assert.near(0, z:get(9, 1), 1e-3)
    -- a split with values missing goes through the same steps (the training statistics)
    local xv = x:narrow(1, 1, 10):clone()
    xv:set(1, 3, 0 / 0)
    assert.near(0, result.transform(xv):get(1, 3), 1e-3)
  end)

  it("imputes without scaling when the scale is fine, keeping the input's shape", function()
    local x = lurn.randn(50, 2, 3)
    x:set(4, 1, 2, 0 / 0)
    local r = report_of({code = "missing_values", severity = "error", evidence = {data = "x"}})
    -- a model that takes (2, 3) samples: repair refuses x a model cannot take
    local m = lurn.Sequential{L.Flatten{input_shape = {2, 3}}, L.Dense(3, {activation = "softmax"})}
    m:compile{optimizer = "adam", loss = "sparse_categorical_crossentropy"}
    local _, result = r:repair(m, {x = x})
    assert.is_nil(result.scaler)
    local z = result.transform(x)
    assert.same({50, 2, 3}, z:shape())
    assert.equal(0, z:isnan():sum())
    assert.equal(x:get(5, 1, 1), z:get(5, 1, 1))
  end)

  it("does not impute labels, nor without the training inputs", function()
    local _, result = report_of({code = "missing_values", severity = "error",
      evidence = {split = "the labels", nonfinite_labels = 2}}):repair(model(), {x = lurn.randn(10, 4)})
    assert.same({"missing_values"}, codes(result.not_repaired))
    assert.truthy(result.not_repaired[1].why:find("drop", 1, true))
    assert.is_nil(result.transform)
    _, result = report_of({code = "missing_values", severity = "error", evidence = {split = "x"}}):repair(model())
    assert.same({"missing_values"}, codes(result.not_repaired))
  end)

  it("widens a softmax output for class numbers past its units, and leaves negative labels", function()
    local r = report_of({code = "label_encoding_mismatch", severity = "error",
      evidence = {label_min = 1, label_max = 3, output_width = 3}})
    local fixed, result = r:repair(model(), {y = lurn.tensor{1, 2, 3, 1}})
    assert.same({"label_encoding_mismatch"}, codes(result.repaired))
    assert.same({4}, {fixed.output_shape[#fixed.output_shape]})
    -- from the labels themselves when the finding does not say (diagnose's refusal)
    fixed = report_of({code = "label_encoding_mismatch", severity = "error", evidence = {output_units = 3}}):repair(
      model(), {y = lurn.tensor{0, 4, 2}})
    assert.equal(5, fixed.output_shape[#fixed.output_shape])
    local _, res = report_of({code = "label_encoding_mismatch", severity = "error",
      evidence = {label_min = -1, label_max = 1, output_width = 3}}):repair(model(), {y = lurn.tensor{-1, 0, 1}})
    assert.same({"label_encoding_mismatch"}, codes(res.not_repaired))
  end)

  it("refuses x that is no tensor or not the model's input, a seed that is no integer, a builder that returns no model", function()
    local r = report_of({code = "unscaled_features"})
    local cases = {
      {{x = "abc"}, "x must be a tensor"},
      {{x = lurn.zeros{3, 9}}, "does not match the model's input shape"},
      {{seed = "x"}, 'seed must be an integer, got the string "x"'},
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(r.repair, r, model(), c[1])
      assert.is_false(ok)
      assert.matches(c[2], err, 1, true)
    end
    local ok, err = pcall(r.repair, r, function() return 5 end)
    assert.is_false(ok)
    assert.matches("the builder must return a compiled lurn model, got number", err, 1, true)
  end)

  it("lists unscaled_features as not repaired without the training inputs", function()
    local _, result = report_of({code = "unscaled_features"}):repair(model())
    assert.same({"unscaled_features"}, codes(result.not_repaired))
  end)

  it("lowers the learning rate to suggested_lr, else a decade", function()
    local fixed = report_of({code = "lr_too_high", evidence = {suggested_lr = 0.002}}):repair(model{lr = 0.5})
    assert.near(0.002, fixed.optimizer.learning_rate, 1e-6)
    fixed = report_of({code = "lr_too_high"}):repair(model{lr = 0.5})
    assert.near(0.05, fixed.optimizer.learning_rate, 1e-6)
    fixed = report_of({code = "lr_too_low"}):repair(model{lr = 1e-4})
    assert.near(1e-3, fixed.optimizer.learning_rate, 1e-8)
  end)

  it("replaces constant initializers: he_normal under relu, glorot_uniform otherwise", function()
    local fixed = report_of({code = "symmetric_initialization"}):repair(model{init = "zeros"})
    local c = fixed:get_config().layers
    assert.equal("HeNormal", c[1].config.kernel_initializer.class_name)
    assert.equal("GlorotUniform", c[2].config.kernel_initializer.class_name)
  end)

  it("fixes a loss/output mismatch: sigmoid with categorical, from_logits on probabilities", function()
    local m = model{out = "sigmoid", loss = lurn.losses.SparseCategoricalCrossentropy{from_logits = true}}
    local fixed = report_of({code = "loss_output_mismatch", severity = "error"}):repair(m)
    assert.equal("softmax", fixed.layers[2].activation)
    assert.is_false(fixed.loss.from_logits)
    assert.equal("sparse_categorical_crossentropy", fixed.loss.kind)
  end)

  it("fixes softmax with binary cross-entropy, and the label encoding", function()
    local fixed = report_of({code = "loss_output_mismatch"}):repair(model{loss = "binary_crossentropy"})
    assert.equal("sparse_categorical_crossentropy", fixed.loss.kind)
    local y = lurn.tensor{{1, 0, 0}, {0, 1, 0}}
    fixed = report_of({code = "label_encoding_mismatch"}):repair(model(), {y = y})
    assert.equal("categorical_crossentropy", fixed.loss.kind)
    fixed = report_of({code = "label_encoding_mismatch", evidence = {label_encoding = "sparse"}}):repair(
      model{loss = "categorical_crossentropy"})
    assert.equal("sparse_categorical_crossentropy", fixed.loss.kind)
  end)

  it("computes balanced class weights from class_counts", function()
    local _, result = report_of({code = "class_imbalance", evidence = {class_counts = {80, 20}}}):repair(model())
    assert.near(100 / (2 * 80), result.fit_opts.class_weight[0], 1e-9)
    assert.near(100 / (2 * 20), result.fit_opts.class_weight[1], 1e-9)
  end)

  it("lists what it cannot repair and ignores notes", function()
    local r = report_of({code = "underfitting"}, {code = "label_noise"},
      {code = "class_imbalance", severity = "info", evidence = {class_counts = {5, 5}}})
    local _, result = r:repair(model())
    assert.same({}, result.repaired)
    assert.same({"label_noise", "underfitting"}, codes(result.not_repaired))
    for _, e in ipairs(result.not_repaired) do assert.is_string(e.why) end
  end)

  it("stops an overfitting fit early and weakens the penalty of an underfitting model's regularized layers", function()
    local _, result = report_of({code = "overfitting"}):repair(model())
    assert.same({"overfitting"}, codes(result.repaired))
    local es = result.fit_opts.callbacks[1]
    assert.equal("val_loss", es.monitor)
    assert.is_true(es.restore_best_weights)
    lurn.manual_seed(1)
    local m = lurn.Sequential{L.Dense(8, {input_shape = {4}, activation = "relu", name = "penalized",
                                          kernel_regularizer = lurn.regularizers.l2(1.0)}),
                              L.Dense(3, {activation = "softmax"})}
    m:compile{optimizer = "sgd", loss = "sparse_categorical_crossentropy"}
    local fixed, res = report_of({code = "underfitting", evidence = {regularized_layers = {"penalized"}}}):repair(m)
    assert.same({"underfitting"}, codes(res.repaired))
    assert.near(1e-4, fixed:get_config().layers[1].config.kernel_regularizer.config.l2, 1e-12)
  end)

  describe("gradient and activation findings", function()
    -- three hidden layers of `act` with kernel initializer `init` (and bias `bias`)
    local function stack(act, init, opts)
      opts = opts or {}
      local layers = {}
      for i = 1, 3 do
        layers[i] = L.Dense(8, {activation = act, input_shape = i == 1 and {4} or nil, kernel_initializer = init,
                                bias_initializer = opts.bias, name = "h" .. i})
      end
      layers[4] = L.Dense(3, {activation = "softmax", name = "out"})
      return lurn.Sequential(layers):compile{optimizer = opts.optimizer or lurn.optimizers.SGD{learning_rate = 0.01},
                                             loss = "sparse_categorical_crossentropy"}
    end
    local function init_of(m, name)
      for _, l in ipairs(m:get_config().layers) do
        if l.config.name == name then return l.config.kernel_initializer.class_name end
      end
    end
    local big = lurn.initializers.RandomNormal{stddev = 1}
    local small = lurn.initializers.RandomNormal{stddev = 0.01}

    it("exploding_gradients: the named layers' initializers matched to relu, and clipnorm 1", function()
      local m = stack("relu", big)
      local fixed, result = report_of({code = "exploding_gradients", layer = "h1",
                                       evidence = {layers = {"h1", "h2", "h3"}}}):repair(m)
      for _, name in ipairs{"h1", "h2", "h3"} do assert.equal("HeNormal", init_of(fixed, name)) end
      assert.equal(1, fixed.optimizer.clipnorm)
      assert.equal("RandomNormal", init_of(m, "h1"))
      assert.equal(0, m.optimizer.clipnorm)
      assert.same({"exploding_gradients"}, codes(result.repaired))
      assert.truthy(result.repaired[1].what:find("clipnorm", 1, true))
      assert.truthy(result.repaired[1].what:find("h3: RandomNormal -> he_normal", 1, true))
    end)

    it("exploding_gradients: nothing mechanical left when the initializers match and the optimizer clips", function()
      local m = stack("relu", "he_normal", {optimizer = lurn.optimizers.SGD{learning_rate = 0.01, clipnorm = 0.5}})
      local fixed, result = report_of({code = "exploding_gradients", layer = "h1"}):repair(m)
      assert.same({"exploding_gradients"}, codes(result.not_repaired))
      assert.near(0.5, fixed.optimizer.clipnorm, 1e-7)
    end)

    it("vanishing_gradients: glorot_uniform under tanh; a matched sigmoid stack is left to a person", function()
      local fixed, result = report_of({code = "vanishing_gradients", layer = "h1",
                                       evidence = {layers = {"h1", "h2", "h3", "out"}}}):repair(stack("tanh", small))
      for _, name in ipairs{"h1", "h2", "h3"} do assert.equal("GlorotUniform", init_of(fixed, name)) end
      assert.same({"vanishing_gradients"}, codes(result.repaired))
      assert.equal(0, fixed.optimizer.clipnorm)
      local _, kept = report_of({code = "vanishing_gradients", layer = "h1", evidence = {layers = {"h1", "h2"}}}):repair(
        stack("sigmoid", "glorot_uniform"))
      assert.same({"vanishing_gradients"}, codes(kept.not_repaired))
      assert.truthy(kept.not_repaired[1].why:find("design choice", 1, true))
    end)

    it("saturation: the named layer's initializer, and unscaled inputs through unscaled_features' scaler", function()
      local fixed, result = report_of({code = "saturation", layer = "h2"}):repair(stack("sigmoid", big))
      assert.equal("GlorotUniform", init_of(fixed, "h2"))
      assert.equal("RandomNormal", init_of(fixed, "h1"))
      assert.same({"saturation"}, codes(result.repaired))
      -- unscaled inputs: the scaler unscaled_features' repair fits is saturation's too
      local x = lurn.randn(50, 4) * 100 + 1000
      local _, r2 = report_of({code = "saturation", layer = "h1"}, {code = "unscaled_features"}):repair(
        stack("tanh", "glorot_uniform"), {x = x})
      assert.same({"saturation", "unscaled_features"}, codes(r2.repaired))
      assert.truthy(r2.scaler)
      -- neither: not repaired
      local _, r3 = report_of({code = "saturation", layer = "h1"}):repair(stack("tanh", "glorot_uniform"))
      assert.same({"saturation"}, codes(r3.not_repaired))
      -- unscaled_features without the training x fits no scaler: not saturation's repair either
      local _, r4 = report_of({code = "saturation", layer = "h1"}, {code = "unscaled_features"}):repair(
        stack("tanh", "glorot_uniform"))
      assert.same({"saturation", "unscaled_features"}, codes(r4.not_repaired))
    end)

    it("dead_relu beside unscaled_features: the scaler is the repair, relu stays", function()
      -- raw wine through a relu layer: the units die of the inputs' scale, which the
      -- scaler removes; nothing else of the model is touched
      local df = lurn.data.read_csv("examples/data/wine.csv")
      local cols = {}
      for _, c in ipairs(df.columns) do if c ~= "target" then cols[#cols + 1] = c end end
      local x = df:to_tensor{columns = cols}
      local m = lurn.Sequential{L.Dense(16, {activation = "relu", input_shape = {13}, name = "h1"}),
                                L.Dense(3, {activation = "softmax"})}
      m:compile{optimizer = "adam", loss = "sparse_categorical_crossentropy"}
      local r = report_of({code = "unscaled_features"}, {code = "dead_relu", layer = "h1"})
      local fixed, result = r:repair(m, {x = x})
      assert.same({"dead_relu", "unscaled_features"}, codes(result.repaired))
      assert.truthy(result.scaler)
      assert.equal("relu", fixed:get_layer("h1").activation)
      assert.same(m:get_config().layers[1].config, fixed:get_config().layers[1].config)
      -- without x no scaler can be fitted: the activation is the repair again
      local fixed2, result2 = r:repair(m)
      assert.equal("leaky_relu", fixed2:get_layer("h1").activation)
      assert.same({"unscaled_features"}, codes(result2.not_repaired))
    end)

    it("unscaled_features alone changes no layer", function()
      local x = lurn.randn(50, 4) * 100 + 1000
      local m = stack("relu", "he_normal")
      local fixed, result = report_of({code = "unscaled_features"}):repair(m, {x = x})
      assert.same({"unscaled_features"}, codes(result.repaired))
      assert.same(m:get_config(), fixed:get_config())
    end)

    it("dead_relu: a negative constant bias goes back to zeros beside leaky_relu", function()
      local m = stack("relu", "he_normal", {bias = lurn.initializers.Constant{value = -5}})
      local fixed, result = report_of({code = "dead_relu", layer = "h1"}):repair(m)
      local c = fixed:get_config().layers
      assert.equal("leaky_relu", fixed:get_layer("h1").activation)
      assert.equal("Zeros", c[1].config.bias_initializer.class_name)
      assert.equal("Constant", c[2].config.bias_initializer.class_name)  -- not named: left alone
      assert.truthy(result.repaired[1].what:find("bias_initializer -> zeros", 1, true))
      local w = fixed:get_layer("h1"):get_weights()
      assert.equal(0, w[2]:abs():max())
    end)
  end)

  it("repairs a builder into a builder of repaired models", function()
    local build = function() return model{lr = 0.5} end
    local fixed_build, result = report_of({code = "lr_too_high"}):repair(build)
    assert.is_function(fixed_build)
    assert.near(0.05, fixed_build().optimizer.learning_rate, 1e-6)
    assert.same({"lr_too_high"}, codes(result.repaired))
  end)
end)
