-- lurn.doctor's static checks of a compiled model (lua/lurn/doctor/model_checks.lua), through
-- diagnose's first part: for each code two broken models (different architectures) that get
-- it, and their fixed twins that get no warning or error.
local lurn = require "lurn"
local L = lurn.layers
local checks = require "lurn.doctor.model_checks"

local function compiled(layers, loss)
  local m = lurn.Sequential(layers)
  return m:compile{optimizer = lurn.optimizers.Adam{learning_rate = 1e-3}, loss = loss}
end

local function serious(report)
  local out = {}
  for _, f in ipairs(report.findings) do
    if f.severity ~= "info" then out[#out + 1] = f.code end
  end
  return out
end

local function mlp(opts)
  opts = opts or {}
  return compiled({L.Dense(opts.hidden or 16, {input_shape = {opts.features or 4}, activation = opts.act or "relu",
                                               kernel_initializer = opts.init}),
                   L.Dense(opts.hidden2 or 16, {activation = opts.act2 or "relu", kernel_initializer = opts.init2}),
                   L.Dense(opts.units or 3, {activation = opts.out or "softmax"})},
                  opts.loss or "sparse_categorical_crossentropy")
end

local function cnn(opts)
  opts = opts or {}
  return compiled({L.Conv2D(4, 3, {input_shape = {8, 8, 1}, activation = opts.act or "relu",
                                   kernel_initializer = opts.init}),
                   L.Flatten(), L.Dense(opts.hidden or 16, {activation = opts.act2 or "relu"}),
                   L.Dense(opts.units or 5, {activation = opts.out or "softmax"})},
                  opts.loss or "sparse_categorical_crossentropy")
end

describe("lurn.doctor static model checks", function()
  lurn.manual_seed(3)

  it("finds no fault in sound models", function()
    assert.same({}, serious(checks.check(mlp())))
    assert.same({}, serious(checks.check(cnn())))
    assert.same({}, serious(checks.check(mlp{units = 1, out = "sigmoid", loss = "binary_crossentropy"})))
    assert.same({}, serious(checks.check(mlp{units = 2, out = "linear", loss = "mse"})))
    assert.same({}, serious(checks.check(mlp{out = "linear",
      loss = lurn.losses.SparseCategoricalCrossentropy{from_logits = true}})))
  end)

  describe("loss_output_mismatch", function()
    it("softmax over several classes with binary cross-entropy", function()
      local r = checks.check(mlp{loss = "binary_crossentropy"})
      assert.is_true(r:has("loss_output_mismatch"))
      assert.equal("softmax", r:get("loss_output_mismatch")[1].evidence.activation)
    end)
    it("sigmoid with categorical cross-entropy", function()
      assert.is_true(checks.check(cnn{out = "sigmoid", loss = "categorical_crossentropy"}):has("loss_output_mismatch"))
    end)
    it("probabilities fed to a loss with from_logits = true", function()
      assert.is_true(checks.check(mlp{loss = lurn.losses.SparseCategoricalCrossentropy{from_logits = true}})
        :has("loss_output_mismatch", "error"))
      assert.is_true(checks.check(mlp{units = 1, out = "sigmoid", loss = lurn.losses.BinaryCrossentropy{from_logits = true}})
        :has("loss_output_mismatch", "error"))
    end)
    it("a linear output with a cross-entropy that expects probabilities", function()
      assert.is_true(checks.check(mlp{out = "linear"}):has("loss_output_mismatch", "error"))
      assert.is_true(checks.check(cnn{units = 1, out = "linear", loss = "binary_crossentropy"})
        :has("loss_output_mismatch", "error"))
    end)
    it("a softmax of one unit", function()
      assert.is_true(checks.check(mlp{units = 1, loss = "binary_crossentropy"}):has("loss_output_mismatch", "error"))
    end)
    it("sees an Activation layer after a linear Dense as the output's activation", function()
      local m = compiled({L.Dense(8, {input_shape = {4}, activation = "relu"}), L.Dense(3), L.Activation("softmax")},
                         "sparse_categorical_crossentropy")
      assert.same({}, serious(checks.check(m)))
    end)
  end)

  describe("symmetric_initialization", function()
    it("zeros in a hidden Dense layer", function()
      local r = checks.check(mlp{init = "zeros"})
      assert.is_true(r:has("symmetric_initialization"))
      assert.equal(0, r:get("symmetric_initialization")[1].evidence.kernel_value)
    end)
    it("constant kernels in every hidden layer, and in a convolution", function()
      local r = checks.check(mlp{act = "tanh", act2 = "tanh", init = lurn.initializers.Constant{value = 0.1},
                                 init2 = lurn.initializers.Constant{value = 0.1}})
      assert.is_true(r:has("symmetric_initialization", "error"))
      assert.is_true(checks.check(cnn{init = "ones"}):has("symmetric_initialization"))
    end)
    it("fixed twins: random initializers", function()
      assert.same({}, serious(checks.check(mlp{init = "he_normal"})))
      assert.same({}, serious(checks.check(cnn{init = "glorot_uniform"})))
    end)
  end)

  describe("no_nonlinearity", function()
    it("Dense layers with linear activations only", function()
      local r = checks.check(mlp{act = "linear", act2 = "linear", hidden = 16, hidden2 = 16})
      assert.is_true(r:has("no_nonlinearity"))
      assert.same(3, #r:get("no_nonlinearity")[1].evidence.layers)
    end)
    it("a convolution and a Dense stacked linearly", function()
      assert.is_true(checks.check(cnn{act = "linear", act2 = "linear"}):has("no_nonlinearity"))
    end)
    it("fixed twins: relu between them, or a separate Activation layer", function()
      assert.same({}, serious(checks.check(mlp{act = "relu", act2 = "tanh"})))
      local m = compiled({L.Conv2D(4, 3, {input_shape = {8, 8, 1}}), L.Activation("relu"), L.Flatten(),
                          L.Dense(16), L.ReLU(), L.Dense(5, {activation = "softmax"})}, "sparse_categorical_crossentropy")
      assert.same({}, serious(checks.check(m)))
    end)
  end)

  describe("bottleneck", function()
    it("a hidden layer narrower than the classes need", function()
      local r = checks.check(mlp{hidden2 = 2, units = 10})
      assert.is_true(r:has("bottleneck"))
      local e = r:get("bottleneck")[1].evidence
      assert.equal(2, e.width)
      assert.equal(9, e.needed)
    end)
    it("a one-unit layer in a convolutional classifier, and a regression of 4 outputs through 2 units", function()
      assert.is_true(checks.check(cnn{hidden = 1}):has("bottleneck"))
      assert.is_true(checks.check(mlp{hidden = 2, units = 4, out = "linear", loss = "mse"}):has("bottleneck"))
    end)
    it("reads what a layer passes on per sample: a convolution's whole feature map, its channels after a global pooling",
      function()
      assert.same({}, serious(checks.check(cnn{units = 10})))  -- 4 channels of a 6x6 map: 144 values
      local m = compiled({L.Conv2D(4, 3, {input_shape = {8, 8, 1}, activation = "relu"}), L.GlobalAveragePooling2D(),
                          L.Dense(16, {activation = "relu"}), L.Dense(10, {activation = "softmax"})},
                         "sparse_categorical_crossentropy")
      local e = checks.check(m):get("bottleneck")[1].evidence
      assert.same({4, 9, 10}, {e.passes, e.needed, e.suggested_width})
    end)
    it("not a layer narrower than the output needs but as wide as the input: the input is the narrow part", function()
      assert.same({}, serious(checks.check(mlp{features = 1, hidden = 1, hidden2 = 1, units = 10})))
      local r = checks.check(mlp{features = 3, hidden = 16, hidden2 = 2, units = 10})
      assert.equal(2, r:get("bottleneck")[1].evidence.width)
    end)
    it("fixed twins: widths at least what the output needs", function()
      assert.same({}, serious(checks.check(mlp{hidden2 = 9, units = 10})))
      assert.same({}, serious(checks.check(cnn{hidden = 8})))
      assert.same({}, serious(checks.check(mlp{hidden = 4, units = 4, out = "linear", loss = "mse"})))
    end)
  end)
end)
