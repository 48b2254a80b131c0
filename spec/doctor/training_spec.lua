-- lurn.doctor.diagnose's probe and lurn.doctor.Monitor: broken training set-ups that get
-- their code, fixed twins and a healthy model on a shipped data set that get no warning or
-- error; the user's model is never changed; bad arguments fail at the caller's line.
local lurn = require "lurn"
local L = lurn.layers
local models = require "helpers.doctor_models"
local mlp, shipped = models.mlp, models.shipped

local function serious(report)
  local out = {}
  for _, f in ipairs(report.findings) do
    if f.severity ~= "info" then out[#out + 1] = f.code end
  end
  return out
end

-- two features, the label where x1 + x2 > 0 (a line separates the classes)
local function line_data(n, seed)
  lurn.manual_seed(seed or 1)
  local x = lurn.randn{n, 2}
  return x, (x:select(2, 1) + x:select(2, 2)):gt(0)
end

-- four features, three classes by the sign pattern of two projections
local function blobs(n, seed)
  lurn.manual_seed(seed or 2)
  local x = lurn.randn{n, 4}
  local a, b = x:select(2, 1) + x:select(2, 2), x:select(2, 3) - x:select(2, 4)
  return x, a:gt(0) + b:gt(0)
end

local QUICK = {epochs = 5, batch_size = 16, budget_seconds = 10}

describe("lurn.doctor.diagnose", function()
  it("finds nothing wrong with sound set-ups and leaves the user's model unchanged", function()
    local x, y = line_data(400)
    local m = mlp(2, 2)
    local before = m:get_weights()
    local r = lurn.doctor.diagnose(m, x, y, QUICK)
    assert.same({}, serious(r))
    local after = m:get_weights()
    for i, w in ipairs(before) do assert.equal(0, (w - after[i]):abs():max()) end
    local bx, by = blobs(400)
    assert.same({}, serious(lurn.doctor.diagnose(mlp(4, 3, {optimizer = lurn.optimizers.Adam{learning_rate = 0.01}}),
                                                 bx, by, QUICK)))
  end)

  it("finds nothing wrong with a healthy model on the iris data set", function()
    local df = lurn.data.read_csv((os.getenv("LURN_SOURCE_DIR") or ".") .. "/examples/data/iris.csv")
    local x = df:to_tensor{columns = {1, 2, 3, 4}}
    local y = df:column("target")
    x = lurn.preprocessing.StandardScaler():fit_transform(x)
    lurn.manual_seed(7)
    local m = lurn.Sequential{L.Dense(16, {input_shape = {4}, activation = "relu"}), L.Dense(3, {activation = "softmax"})}
    m:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.01}, loss = "sparse_categorical_crossentropy"}
    local r = lurn.doctor.diagnose(m, x, y, {epochs = 20, batch_size = 16})
    assert.same({}, serious(r))
  end)

  describe("lr_too_high and nan_loss", function()
    it("a rate that makes the loss explode", function()
      local x, y = line_data(400)
      local r = lurn.doctor.diagnose(mlp(2, 2, {lr = 50}), x, y, QUICK)
      assert.is_true(r:has("lr_too_high"))
      assert.is_true(r:has("nan_loss"))
    end)
    it("Adam at a rate far too high on another data set", function()
      local x, y = blobs(400)
      local r = lurn.doctor.diagnose(mlp(4, 3, {optimizer = lurn.optimizers.Adam{learning_rate = 5}}), x, y, QUICK)
      assert.is_true(r:has("lr_too_high"))
      -- the rate repair sets: below the broken one (the range test's, or a tenth)
      assert.is_true(r:get("lr_too_high")[1].evidence.suggested_lr < 5)
    end)
  end)

  describe("lr_too_high from a loss above the constant prediction's", function()
    it("SGD at 5 on raw wine ends above the loss of predicting the frequencies: the rate, and repair lowers it", function()
      local x, y = shipped("wine")
      lurn.manual_seed(7)
      local m = mlp(13, 3, {lr = 5, init = "he_normal"})
      local r = lurn.doctor.diagnose(m, x, y, {epochs = 10, batch_size = 16})
      assert.is_true(r:has("lr_too_high"))
      assert.is_false(r:has("underfitting"))
      local ev = r:get("lr_too_high")[1].evidence
      assert.is_true(math.max(ev.loss, ev.level_second_half) > ev.constant_prediction_loss)
      local repaired = r:repair(m, {x = x, y = y})
      assert.is_true(repaired.optimizer.learning_rate < 5)
    end)
    it("a loss that overflows within the first steps still gets a rate that trains", function()
      -- SGD at 500 on breast cancer: NaN within a few steps, before the short runs' 10; a
      -- tenth (50) overflows too, so the rate goes down a decade at a time
      local x, y = shipped("breast_cancer")
      x = lurn.preprocessing.StandardScaler():fit_transform(x)
      lurn.manual_seed(7)
      local m = mlp(30, 2, {hidden = 64, depth = 2, init = "he_normal", lr = 500})
      local r = lurn.doctor.diagnose(m, x, y, {epochs = 8, batch_size = 16})
      local high, nan = r:get("lr_too_high")[1], r:get("nan_loss")[1]
      assert.is_truthy(high and nan)
      local ev = high.evidence
      assert.is_true(ev.lower_rate < 50 and ev.loss_at_lower_rate < ev.initial_loss)
      -- the suggestion stays within three decades below the rate that trained, below the user's
      assert.is_true(ev.suggested_lr >= ev.lower_rate / 1000 and ev.suggested_lr < 500)
      assert.equal(ev.suggested_lr, nan.evidence.suggested_lr)
    end)
    it("nan_loss and lr_too_high suggest one rate", function()
      local x, y = line_data(400)
      local r = lurn.doctor.diagnose(mlp(2, 2, {lr = 50}), x, y, QUICK)
      local high, nan = r:get("lr_too_high")[1], r:get("nan_loss")[1]
      assert.is_truthy(high and nan)
      assert.equal(high.evidence.suggested_lr, nan.evidence.suggested_lr)
      assert.matches(("%.3g"):format(high.evidence.suggested_lr), nan.fix, 1, true)
    end)
  end)

  describe("lr_too_low", function()
    it("SGD at 1e-5", function()
      local x, y = line_data(400)
      local r = lurn.doctor.diagnose(mlp(2, 2, {lr = 1e-5}), x, y, QUICK)
      assert.is_true(r:has("lr_too_low"))
      assert.is_true(r:get("lr_too_low")[1].evidence.higher_rate > 1e-5)
      assert.is_true(r:get("lr_too_low")[1].evidence.suggested_lr > 1e-5)
      -- class_weight reaches the probe's training as fit's option
      local weighted = lurn.doctor.diagnose(mlp(2, 2, {lr = 1e-5}), x, y,
        {epochs = QUICK.epochs, batch_size = QUICK.batch_size, budget_seconds = QUICK.budget_seconds,
         class_weight = {[0] = 1, [1] = 2}})
      assert.is_true(weighted:has("lr_too_low"))
    end)
    it("Adam at 1e-6 on another data set", function()
      local x, y = blobs(400)
      local r = lurn.doctor.diagnose(mlp(4, 3, {optimizer = lurn.optimizers.Adam{learning_rate = 1e-6}}), x, y, QUICK)
      assert.is_true(r:has("lr_too_low"))
    end)
  end)

  describe("dead_relu", function()
    it("relu units with a large negative bias", function()
      local x, y = line_data(400)
      local r = lurn.doctor.diagnose(mlp(2, 2, {bias = lurn.initializers.Constant{value = -10}}), x, y, QUICK)
      assert.is_true(r:has("dead_relu"))
    end)
    it("a deep relu stack on other data", function()
      local x, y = blobs(400)
      local r = lurn.doctor.diagnose(mlp(4, 3, {depth = 2, bias = lurn.initializers.Constant{value = -5}}), x, y, QUICK)
      assert.is_true(r:has("dead_relu"))
    end)
  end)

  describe("saturation and vanishing_gradients", function()
    it("sigmoid layers with huge weights saturate", function()
      local x, y = line_data(400)
      local r = lurn.doctor.diagnose(mlp(2, 2, {act = "tanh",
        init = lurn.initializers.RandomNormal{stddev = 20}}), x, y, QUICK)
      assert.is_true(r:has("saturation"))
    end)
    it("tanh fed inputs a hundred times too large saturates", function()
      local x, y = blobs(400)
      local r = lurn.doctor.diagnose(mlp(4, 3, {act = "tanh", init = "glorot_uniform"}), x * 100, y, QUICK)
      assert.is_true(r:has("saturation"))
      assert.same({}, serious(lurn.doctor.diagnose(mlp(4, 3, {act = "tanh", init = "glorot_uniform"}), x, y, QUICK)))
    end)
    it("a relu stack with small weights: the outputs, and the gradient, shrink layer by layer", function()
      local x, y = line_data(400)
      local r = lurn.doctor.diagnose(mlp(2, 2, {depth = 5, hidden = 32,
        init = lurn.initializers.RandomNormal{stddev = 0.01}}), x, y, QUICK)
      assert.is_true(r:has("vanishing_gradients"))
    end)
    it("a deep sigmoid stack with small weights: the gradient vanishes", function()
      local x, y = blobs(400)
      local r = lurn.doctor.diagnose(mlp(4, 3, {act = "sigmoid", depth = 6,
        init = lurn.initializers.RandomNormal{stddev = 0.05}}), x, y, QUICK)
      assert.is_true(r:has("vanishing_gradients"))
    end)
  end)

  describe("exploding_gradients", function()
    it("a relu stack initialized four times too large: the outputs grow layer by layer", function()
      local x, y = blobs(400)
      local big = lurn.initializers.RandomNormal{stddev = 1}
      local r = lurn.doctor.diagnose(mlp(4, 3, {depth = 6, hidden = 32, init = big, lr = 0.01}), x, y, QUICK)
      assert.is_true(r:has("exploding_gradients"))
      local e = r:get("exploding_gradients")[1].evidence
      assert.is_true(e.ratio >= 100)
      assert.equal(6, #e.layers)  -- what repair re-initializes
      -- the fixed twin: he_normal keeps the gain near 1
      local fixed = lurn.doctor.diagnose(mlp(4, 3, {depth = 6, hidden = 32, init = "he_normal", lr = 0.01}), x, y, QUICK)
      assert.same({}, serious(fixed))
    end)
    it("a gradient norm grown a hundredfold during training, or not finite", function()
      local training = require "lurn.doctor.training_checks"
      local function rows(g1, g2) return {{name = "a", grad_norm = g1, weight_norm = 1}, {name = "b", grad_norm = g2, weight_norm = 1}} end
      local r = lurn.doctor.Report.new()
      training.growth(r, {rows(1, 2), rows(1.5, 300)})
      assert.is_true(r:has("exploding_gradients"))
      -- a layer that starts far below the others and rises to their scale recovers from a
      -- vanishing gradient: not exploding
      r = lurn.doctor.Report.new()
      training.growth(r, {rows(1e-6, 1), rows(0.5, 1)})
      assert.is_false(r:has("exploding_gradients"))
      -- the output scale counts through rectifiers one after the other: a tanh layer between
      -- sets a scale of its own; a Flatten (no weights) passes it on
      local function row(n, rms, dead, w, sat)
        return {name = n, act_mean = 0, act_std = rms, dead_fraction = dead, grad_norm = 1, weight_norm = w,
                saturated_fraction = sat}
      end
      r = lurn.doctor.Report.new()
      training.depth(r, {row("a", 1, 0, 1), row("t", 1, nil, 1, 0.1), row("c", 500, 0, 1), row("o", 1, nil, 1, 0)}, "")
      assert.is_false(r:has("exploding_gradients"))
      r = lurn.doctor.Report.new()
      training.depth(r, {row("a", 1, 0, 1), row("f", 3), row("c", 500, 0, 1), row("o", 1, nil, 1, 0)}, "")
      assert.is_true(r:has("exploding_gradients"))
      r = lurn.doctor.Report.new()
      training.depth(r, {{name = "a", grad_norm = 0 / 0, weight_norm = 1}}, "at step 3")
      assert.is_true(r:has("exploding_gradients", "error"))
    end)
  end)

  describe("overfitting and underfitting", function()
    it("a large model on a few noisy samples overfits", function()
      lurn.manual_seed(5)
      local x = lurn.randn{48, 10}
      local y = lurn.rand{48}:gt(0.5)
      local vx = lurn.randn{200, 10}
      local vy = lurn.rand{200}:gt(0.5)
      local r = lurn.doctor.diagnose(mlp(10, 2, {hidden = 128, optimizer = lurn.optimizers.Adam{learning_rate = 0.01}}),
        x, y, {validation_data = {vx, vy}, epochs = 60, batch_size = 16})
      assert.is_true(r:has("overfitting"))
    end)
    it("a linear model on XOR data underfits", function()
      lurn.manual_seed(6)
      local x = lurn.randn{400, 2}
      local y = (x:select(2, 1) * x:select(2, 2)):gt(0)
      local m = lurn.Sequential{L.Dense(2, {input_shape = {2}, activation = "softmax"})}
      m:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.01}, loss = "sparse_categorical_crossentropy"}
      assert.is_true(lurn.doctor.diagnose(m, x, y, QUICK):has("underfitting"))
      -- the fixed twin: a hidden relu layer
      local fixed = mlp(2, 2, {hidden = 32, optimizer = lurn.optimizers.Adam{learning_rate = 0.01}})
      assert.same({}, serious(lurn.doctor.diagnose(fixed, x, y, {epochs = 20, batch_size = 16})))
    end)
    it("a loss near the constant prediction's but still falling is not underfitting: the probe was short", function()
      -- breast cancer with one malignant tumour in ten: the constant loss is low (0.3), and
      -- Adam at 1e-3 is still on its way down to it and below after 10 epochs
      local x, y = shipped("breast_cancer")
      local keep, seen = {}, 0
      for i = 1, y:size(1) do
        if y:get(i) ~= 0 then keep[#keep + 1] = i else
          seen = seen + 1
          if seen % 10 == 0 then keep[#keep + 1] = i end
        end
      end
      local t = lurn.tensor(keep)
      x = lurn.preprocessing.StandardScaler():fit_transform(x:index(1, t):contiguous())
      y = y:index(1, t):contiguous()
      lurn.manual_seed(7)
      local m = mlp(30, 2, {optimizer = lurn.optimizers.Adam{learning_rate = 0.001}})
      local r = lurn.doctor.diagnose(m, x, y, {epochs = 10, batch_size = 32})
      assert.is_false(r:has("underfitting"))
      -- the linear model on XOR levels off: what the evidence says was measured
      lurn.manual_seed(6)
      local xx = lurn.randn{400, 2}
      local xy = (xx:select(2, 1) * xx:select(2, 2)):gt(0)
      local lin = lurn.Sequential{L.Dense(2, {input_shape = {2}, activation = "softmax"})}
      lin:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.01}, loss = "sparse_categorical_crossentropy"}
      local ev = lurn.doctor.diagnose(lin, xx, xy, QUICK):get("underfitting")[1].evidence
      assert.is_true(ev.drop <= 0.05 * ev.constant_prediction_loss)
      assert.is_true(ev.share >= 0.9 and ev.second_half[2] > ev.second_half[1])
    end)
  end)

  it("measures the probe's training loss and its baseline weighted, under class_weight, as fit trains", function()
    -- one class in ten, weighted ten to one: the model trained so predicts the rare class
    -- more often, as it should; its unweighted loss would sit above the unweighted
    -- baseline and read as underfitting
    local x, y = line_data(440, 5)
    local keep = {}
    for i = 1, 440 do
      if y:get(i) == 0 or i % 10 == 0 then keep[#keep + 1] = i end
    end
    local t = lurn.tensor(keep)
    x, y = x:index(1, t):contiguous(), y:index(1, t):contiguous()
    local cw = {[0] = 1, [1] = 10}
    lurn.manual_seed(3)
    local m = mlp(2, 2, {optimizer = lurn.optimizers.Adam{learning_rate = 0.01}})
    local r = lurn.doctor.diagnose(m, x, y, {epochs = 10, batch_size = 16, class_weight = cw})
    assert.is_false(r:has("underfitting"))
    -- the probe's first loss is the weighted one (evaluate with each sample's class weight),
    -- on the rows it trains on (all of them: no validation data given, a fifth held out)
    assert.is_true(r.probe.initial_loss > 0)
    local w = {}
    for i = 1, y:size(1) do w[i] = cw[math.tointeger(y:get(i))] end
    local weighted = m:evaluate(x, y, {sample_weight = lurn.tensor(w), verbose = 0}).loss
    local plain = m:evaluate(x, y, {verbose = 0}).loss
    -- the held-out fifth differs from the whole: the weighted reading is nearer
    assert.is_true(math.abs(r.probe.initial_loss - weighted) < math.abs(r.probe.initial_loss - plain))
  end)

  it("reads overfitting as a trend: a validation loss that only wobbles is not one", function()
    local checks = require "lurn.doctor.training_checks"
    local Report = require "lurn.doctor.report"
    local function curve(val)
      local points = {}
      for i, v in ipairs(val) do points[i] = {step = i * 10, train = 1 / i, val = v} end
      return points
    end
    -- swings between checkpoints as large as the last one's rise (a class-weighted model's)
    local wobble = {1.0, 0.30, 0.12, 0.40, 0.15, 0.45, 0.12, 0.38, 0.14, 0.42, 0.13, 0.45}
    local r = Report.new()
    checks.overfitting(r, curve(wobble))
    assert.is_false(r:has("overfitting"))
    -- a rise that stays: the last checkpoints well above the lowest, beyond the wobble
    local rising = {1.0, 0.40, 0.20, 0.15, 0.14, 0.16, 0.20, 0.24, 0.28, 0.33, 0.37, 0.42}
    r = Report.new()
    checks.overfitting(r, curve(rising))
    assert.is_true(r:has("overfitting"))
    assert.equal(3, r:get("overfitting")[1].evidence.window)
  end)

  it("turns what fit would refuse into findings", function()
    local x, y = line_data(100)
    x:set(3, 1, 0 / 0)
    local r = lurn.doctor.diagnose(mlp(2, 2), x, y, QUICK)
    assert.is_true(r:has("missing_values"))
    local x2, y2 = line_data(100)
    local r2 = lurn.doctor.diagnose(mlp(2, 2), x2, y2 * 5, QUICK)
    assert.is_true(r2:has("label_encoding_mismatch"))
  end)

  it("fails at the caller's line for bad arguments", function()
    local x, y = line_data(40)
    local ok, err = pcall(lurn.doctor.diagnose, mlp(2, 2), x, y, {epoch = 3})
    assert.is_false(ok)
    assert.matches("unknown option 'epoch'", err, 1, true)
    ok, err = pcall(lurn.doctor.diagnose, mlp(2, 2), x, "y")
    assert.matches("y must be a tensor", err, 1, true)
    local m = lurn.Sequential{L.Dense(2, {input_shape = {2}})}
    ok, err = pcall(lurn.doctor.diagnose, m, x, y)
    assert.matches("must be compiled", err, 1, true)
  end)
end)

describe("lurn.doctor.Monitor", function()
  it("stays quiet on a sound fit and keeps a report", function()
    local x, y = line_data(400)
    local mon = lurn.doctor.Monitor{every = 5}
    mlp(2, 2):fit(x, y, {epochs = 5, batch_size = 16, verbose = 0, callbacks = {mon}})
    assert.same({}, serious(mon.report))
  end)

  it("reports a diverging loss", function()
    local x, y = line_data(400)
    local mon = lurn.doctor.Monitor{every = 5, warn = false}
    mlp(2, 2, {lr = 50}):fit(x, y, {epochs = 5, batch_size = 16, verbose = 0, callbacks = {mon}})
    assert.is_true(mon.report:has("nan_loss") or mon.report:has("lr_too_high"))
  end)

  it("says NaN (with the epoch) and gives nan_loss lr_too_high's rate when both are found", function()
    local x, y = shipped("wine")
    x = lurn.preprocessing.StandardScaler():fit_transform(x)
    lurn.manual_seed(7)
    local mon = lurn.doctor.Monitor{every = 5, warn = false}
    mlp(13, 3, {hidden = 32, lr = 200}):fit(x, y, {epochs = 4, batch_size = 16, verbose = 0, callbacks = {mon}})
    local nan = mon.report:get("nan_loss")[1]
    assert.truthy(nan, tostring(mon.report))
    assert.is_nil(nan.message:find("-nan", 1, true))
    assert.matches("at epoch %d+, batch %d+", nan.message)
    local high = mon.report:get("lr_too_high")[1]
    if high then
      assert.equal(high.fix, nan.fix)
      assert.equal(high.evidence.suggested_lr, nan.evidence.suggested_lr)
    end
  end)

  it("reports a loss that blows up within the first epoch, measured from the untrained model's", function()
    -- Adam at 2 on scaled wine: the first epoch's mean is about 50 times the first batch's
    -- loss; a one-epoch fit has no later epoch to compare with the first
    local x, y = shipped("wine")
    x = lurn.preprocessing.StandardScaler():fit_transform(x)
    lurn.manual_seed(7)
    local m = mlp(13, 3, {hidden = 32, optimizer = lurn.optimizers.Adam{learning_rate = 2.0}})
    local mon = lurn.doctor.Monitor{every = 5, warn = false}
    m:fit(x, y, {epochs = 1, batch_size = 16, verbose = 0, callbacks = {mon}})
    local f = mon.report:get("lr_too_high")[1]
    assert.truthy(f, tostring(mon.report))
    assert.matches("first batch", f.message, 1, true)
    -- the same at Adam 0.01 stays quiet
    lurn.manual_seed(7)
    local ok = mlp(13, 3, {hidden = 32, optimizer = lurn.optimizers.Adam{learning_rate = 0.01}})
    local quiet = lurn.doctor.Monitor{every = 5, warn = false}
    ok:fit(x, y, {epochs = 3, batch_size = 16, verbose = 0, callbacks = {quiet}})
    assert.same({}, serious(quiet.report))
  end)

  it("refuses unknown options at the caller's line", function()
    local ok, err = pcall(lurn.doctor.Monitor, {evry = 3})
    assert.is_false(ok)
    assert.matches("unknown option 'evry'", err, 1, true)
  end)
end)
