-- lurn.pipeline: scikit-learn's Pipeline and make_pipeline. The point is that
-- cross-validation refits the preprocessing inside each fold on that fold's training
-- samples only: the specs check the scaler's mean_ in each fold and the numbers a model
-- sees, against the training fold's statistics computed here (fitting on all of x would
-- give other numbers).
local lurn = require "lurn"
local P = lurn.preprocessing
local ms = lurn.model_selection
local pipeline = lurn.pipeline
local Pipeline, make_pipeline = pipeline.Pipeline, pipeline.make_pipeline

local function error_of(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return tostring(err)
end

local function close(expected, actual, tol)
  assert(math.abs(expected - actual) <= (tol or 1e-5) * math.max(1, math.abs(expected)),
    ("expected %.9g, got %.9g"):format(expected, actual))
end

-- A stand-in for a compiled model that records what it is given: fit keeps the mean of
-- its (transformed) x, evaluate reports the mean of the x it is given as the "loss",
-- predict returns its x.
local function recorder()
  local r = {compiled = true, loss = {kind = "mean_squared_error"}, fits = 0}
  function r:fit(x, y, opts)
    self.fits = self.fits + 1
    self.fit_x, self.fit_y, self.fit_opts = x, y, opts
    return "history"
  end
  function r:evaluate(x) return {loss = x:mean()} end
  function r:predict(x) return x end
  return r
end

describe("Pipeline", function()
  it("fits each step on the output of the one before, and predicts with transform only", function()
    local x = lurn.tensor{{1, 10}, {3, 30}, {5, 50}, {7, 70}}
    local y = lurn.tensor{0, 1, 0, 1}
    local model = recorder()
    local pipe = Pipeline{{"scale", P.StandardScaler()}, {"model", model}}
    assert.equal(pipe, pipe:fit(x, y, {epochs = 3}))
    assert.equal("history", pipe.history)
    assert.same({4, 40}, pipe.named_steps.scale.mean_:totable())
    assert.same({epochs = 3}, model.fit_opts)
    assert.equal(y, model.fit_y)
    close(0, model.fit_x:mean())                       -- standardized on fit's data
    -- predict transforms with the fitted mean and scale; it does not refit
    local out = pipe:predict(lurn.tensor{{4, 40}, {9, 90}})
    local scale = math.sqrt(5) -- population std of 1, 3, 5, 7
    close(0, out:get(1, 1))
    close(5 / scale, out:get(2, 1))
    close(50 / (scale * 10), out:get(2, 2))
    assert.same({4, 40}, pipe.named_steps.scale.mean_:totable())
    assert.equal(model, pipe.named_steps.model)
    assert.equal(model, pipe:final_estimator())
    assert.equal("Pipeline{{'scale', StandardScaler}, {'model', table}}", tostring(pipe))
  end)

  it("chains transformers: transform, fit_transform, and 'passthrough'", function()
    local x = lurn.tensor{{1, 2}, {3, 6}, {5, 4}}
    local pipe = Pipeline{{"scale", P.StandardScaler()}, {"skip", "passthrough"}, {"minmax", P.MinMaxScaler()}}
    local once = pipe:fit_transform(x)
    local again = pipe:transform(x)
    assert.same(once:totable(), again:totable())
    local direct = P.MinMaxScaler():fit_transform(P.StandardScaler():fit_transform(x))
    assert.same(direct:totable(), once:totable())
    assert.same(direct:totable(), Pipeline{{"a", P.StandardScaler()}, {"b", P.MinMaxScaler()}}:fit(x):transform(x)
      :totable())
  end)

  it("resamples with a sampler step in fit only, as imbalanced-learn's Pipeline", function()
    local x = lurn.tensor{{0}, {1}, {2}, {3}, {10}}
    local y = lurn.tensor{0, 0, 0, 0, 1}
    local model = recorder()
    local pipe = Pipeline{{"over", lurn.sampling.RandomOverSampler{random_state = 0}}, {"model", model}}
    pipe:fit(x, y)
    assert.equal(8, model.fit_x:size(1))
    assert.equal(4, model.fit_y:sum())
    assert.equal(5, pipe:predict(x):size(1)) -- the sampler does not act on new data
  end)

  it("transforms a model's validation_data with the fitted steps", function()
    local model = recorder()
    local pipe = Pipeline{{"scale", P.StandardScaler()}, {"model", model}}
    local xv, yv = lurn.tensor{{4}}, lurn.tensor{1}
    pipe:fit(lurn.tensor{{2}, {6}}, lurn.tensor{0, 1}, {epochs = 2, validation_data = {xv, yv}})
    assert.same({{0}}, model.fit_opts.validation_data[1]:totable())
    assert.equal(yv, model.fit_opts.validation_data[2])
    assert.equal(2, model.fit_opts.epochs)
    assert.same({{4}}, xv:totable()) -- the caller's data is left as it was
  end)

  it("make_pipeline names the steps by their lower-case class names", function()
    local pipe = make_pipeline(P.StandardScaler(), P.MinMaxScaler(), P.StandardScaler())
    assert.same({"standardscaler-1", "minmaxscaler", "standardscaler-2"},
      {pipe.steps[1][1], pipe.steps[2][1], pipe.steps[3][1]})
    assert.equal(pipe.steps[2][2], pipe.named_steps.minmaxscaler)
    local model = lurn.Sequential{lurn.layers.Dense(1, {input_shape = {2}})}
    assert.equal("sequential", make_pipeline(P.StandardScaler(), model).steps[2][1])
  end)

  it("checks its steps as scikit-learn does", function()
    assert.matches("names provided are not unique: 'a' is the name of steps 1 and 2",
      error_of(Pipeline, {{"a", P.StandardScaler()}, {"a", P.MinMaxScaler()}}))
    assert.matches("steps must be a non%-empty list", error_of(Pipeline, {}))
    assert.matches("step 2 must be a {name, estimator} pair", error_of(Pipeline, {{"a", P.StandardScaler()}, 3}))
    assert.matches("must not contain '__'", error_of(Pipeline, {{"a__b", P.StandardScaler()}}))
    local model = recorder()
    assert.matches("all intermediate steps should be transformers .* step 1 'model'",
      error_of(Pipeline, {{"model", model}, {"scale", P.StandardScaler()}}))
    assert.matches("the last step 'x' must have fit", error_of(Pipeline, {{"x", 42}}))
    assert.matches("make_pipeline: give at least one step", error_of(make_pipeline))
    -- errors from a step name it, at the caller's line
    local pipe = Pipeline{{"scale", P.StandardScaler()}, {"model", recorder()}}
    local err = error_of(pipe.predict, pipe, lurn.tensor{{1}})
    assert.matches("Pipeline.predict: step 1 'scale': StandardScaler.transform: this StandardScaler is not fitted",
      err)
    assert.matches("Pipeline.transform: the last step 'model' %(a table%) has no transform",
      error_of(pipe.transform, pipe, lurn.tensor{{1}}))
    local ok, line_err = pcall(function() pipe:fit(lurn.tensor{1, 2}, lurn.tensor{0, 1}) end)
    assert.is_false(ok)
    assert.matches("pipeline_spec.lua:%d+: Pipeline.fit: step 1 'scale': .*expected 2%-D data", line_err)
  end)

  it("scores through the last step's score, or a model's accuracy", function()
    local x = lurn.tensor{{0, 0}, {1, 1}, {0, 1}, {1, 0}}
    local y = lurn.tensor{0, 1, 0, 1}
    local with_score = recorder()
    function with_score:score(xs, ys) return xs:size(1) + ys:size(1) end
    local pipe = Pipeline{{"scale", P.StandardScaler()}, {"m", with_score}}
    assert.equal(8, pipe:fit(x, y):score(x, y))
    lurn.manual_seed(3)
    local model = lurn.Sequential{lurn.layers.Dense(1, {input_shape = {2}, activation = "sigmoid"})}
    model:compile{optimizer = "adam", loss = "binary_crossentropy", metrics = {"accuracy"}}
    pipe = Pipeline{{"scale", P.StandardScaler()}, {"model", model}}
    pipe:fit(x, y, {epochs = 2, verbose = 0})
    local acc = pipe:score(x, y)
    assert.is_true(acc >= 0 and acc <= 1)
    assert.equal(pipe:evaluate(x, y, {verbose = 0}).accuracy, acc)
    local plain = lurn.Sequential{lurn.layers.Dense(1, {input_shape = {2}})}
    plain:compile{optimizer = "sgd", loss = "mse"}
    pipe = Pipeline{{"scale", P.StandardScaler()}, {"model", plain}}:fit(x, y, {verbose = 0})
    assert.matches("evaluate%(%) gives no accuracy", error_of(pipe.score, pipe, x, y))
  end)

  it("saves and restores fitted preprocessing with get_state / from_state", function()
    local x = lurn.tensor{{1, 5}, {2, 7}, {4, 0}}
    local pipe = Pipeline{{"scale", P.StandardScaler()}, {"none", "passthrough"}, {"minmax", P.MinMaxScaler()}}
    pipe:fit(x)
    local state = pipe:get_state()
    assert.equal("Pipeline", state.class)
    local again = pipeline.from_state(state)
    assert.same({"scale", "none", "minmax"}, {again.steps[1][1], again.steps[2][1], again.steps[3][1]})
    assert.same(pipe:transform(x):totable(), again:transform(x):totable())
    local with_model = Pipeline{{"scale", P.StandardScaler()}, {"model", recorder()}}
    assert.matches("Pipeline.get_state: step 2 'model' %(a table%) has no get_state",
      error_of(with_model.get_state, with_model))
    assert.matches("expected a table from pipe:get_state", error_of(pipeline.from_state, {class = "StandardScaler"}))
  end)
end)

describe("cross_val_score with a Pipeline", function()
  -- One feature 0..11, unshuffled 3-fold: the test folds are 0..3, 4..7, 8..11.
  local x = lurn.arange(12):reshape(12, 1)
  local y = lurn.arange(12):reshape(12, 1)
  local folds = ms.KFold{n_splits = 3}

  it("fits the scaler on each training fold only", function()
    local means = ms.cross_val_score(function()
      return Pipeline{{"scale", P.StandardScaler()}, {"model", recorder()}}
    end, x, y, {cv = folds, scoring = function(pipe) return pipe.named_steps.scale.mean_:get(1) end})
    -- the training folds' means; fitting on all of x (mean 5.5) would give 5.5 each time
    assert.same({7.5, 5.5, 3.5}, means)
  end)

  it("scores the held-out fold transformed with the training fold's statistics", function()
    local scores = ms.cross_val_score(function()
      return make_pipeline(P.StandardScaler(), recorder())
    end, x, y, {cv = folds, scoring = "loss"})
    -- training fold of 8 consecutive values (population std sqrt(5.25)) or 0..3 with
    -- 8..11 (std sqrt(16.25)); the test fold's mean sits 6, 0 and -6 from the train mean
    close(-6 / math.sqrt(5.25), scores[1])
    close(0, scores[2])
    close(6 / math.sqrt(5.25), scores[3])
    -- leaking (scaler fitted on all 12 samples: mean 5.5, std sqrt(143/12)) gives others
    local leaked = (1.5 - 5.5) / math.sqrt(143 / 12)
    assert.is_true(math.abs(scores[1] - leaked) > 0.3)
  end)

  it("trains a real model per fold, stratified by the model's loss", function()
    lurn.manual_seed(5)
    local xs = lurn.randn{40, 3} * 100 + 50
    local ys = xs:select(2, 1):gt(50):reshape(40, 1)
    local built = 0
    local scores = ms.cross_val_score(function()
      built = built + 1
      local model = lurn.Sequential{lurn.layers.Dense(1, {input_shape = {3}, activation = "sigmoid"})}
      model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.05}, loss = "binary_crossentropy",
                    metrics = {"accuracy"}}
      return Pipeline{{"scale", P.StandardScaler()}, {"model", model}}
    end, xs, ys, {cv = 4, fit = {epochs = 30, batch_size = 10}})
    assert.equal(4, #scores)
    assert.equal(4, built)
    for _, s in ipairs(scores) do assert.is_true(s >= 0.5 and s <= 1, "fold accuracy " .. s) end
  end)

  it("still asks for a compiled model at the end", function()
    assert.matches("or a lurn.pipeline.Pipeline ending in one", error_of(ms.cross_val_score, function()
      return Pipeline{{"scale", P.StandardScaler()}, {"model", {fit = function() end}}}
    end, x, y, {cv = 2}))
  end)
end)
