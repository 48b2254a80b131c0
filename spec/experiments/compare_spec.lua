-- lurn.experiments.compare: named variants (builders, or overrides of a base model) side
-- by side from the same seed; learning curves, a table and a computed conclusion.
local lurn = require "lurn"
local tiny = require "helpers.tiny_data"

describe("lurn.experiments.compare", function()
  local x, y = tiny.classification(120)
  local build = tiny.builder()

  it("trains each variant with its overrides and ranks them by validation loss", function()
    local r = lurn.experiments.compare({
      {name = "sgd"},
      {name = "adam", optimizer = "adam", learning_rate = 0.01},
      {name = "tanh", activation = "tanh"},
      {name = "zeros", initializer = "zeros"},
      {name = "l2", regularizer = lurn.regularizers.l2(0.01)},
      {name = "scaled", scaler = lurn.preprocessing.StandardScaler},
      {name = "small batches", batch_size = 8},
      {name = "own builder", build = tiny.builder{units = 2}},
    }, x, y, {build = build, epochs = 3})
    assert.same({"sgd", "adam", "tanh", "zeros", "l2", "scaled", "small batches", "own builder"}, r.names)
    local by = {}
    for _, run in ipairs(r.runs) do by[run.name] = run end
    assert.equal("Adam", by.adam.optimizer)
    assert.near(0.01, by.adam.learning_rate, 1e-9)
    assert.equal(8, by["small batches"].batch_size)
    assert.equal(8 * 2 + 8 + 8 * 2 + 2, by.sgd.params)
    assert.equal(2 * 2 + 2 + 2 * 2 + 2, by["own builder"].params)
    -- zero kernels: every unit the same, the model cannot separate the classes
    assert.is_true(by.zeros.best_val_loss > 0.69)
    local best = r.runs[1]
    for _, run in ipairs(r.runs) do
      if run.best_val_loss < best.best_val_loss then best = run end
    end
    assert.equal(best, r.best)
    assert.matches(("%s has the lowest validation loss"):format(best.name), r.report, 1, true)
    assert.matches("| variant |", r.report, 1, true)
  end)

  it("starts variants that change no weights' shape from the same initial weights", function()
    local r = lurn.experiments.compare({plain = {}, again = build}, x, y, {build = build(), epochs = 2})
    assert.same({"again", "plain"}, r.names)
    assert.same(r.runs[1].history, r.runs[2].history)
    assert.matches("does not matter here", r.report, 1, true)
  end)

  it("writes the learning curves", function()
    local dir = tiny.temp_dir()
    local r = lurn.experiments.compare({{name = "a"}, {name = "b", learning_rate = 0.5}}, x, y,
                                       {build = build, epochs = 2, plots = dir, plot_format = "gp"})
    assert.same({dir .. "/compare_val_loss.gp", dir .. "/compare_loss.gp"}, r.plots)
    for _, f in ipairs(r.plots) do assert.is_true(tiny.exists(f), f) end
    tiny.remove_dir(dir)
  end)

  it("refuses bad configs at the caller's line", function()
    local function err(configs, opts)
      local ok, e = pcall(lurn.experiments.compare, configs, x, y, opts)
      assert.is_false(ok)
      return e
    end
    assert.matches("compare_spec.lua:%d+: compare: variant 'a': unknown option 'optimiser'",
      err({{name = "a", optimiser = "adam"}}, {build = build}))
    assert.matches("has no build and opts.build is not given", err({{name = "a"}}))
    assert.matches("two variants are named 'a'", err({{name = "a"}, {name = "a"}}, {build = build}))
    assert.matches("configs must be a non%-empty list", err({}, {build = build}))
    assert.matches("no hidden layer with an activation", err({{name = "a", activation = "tanh"}},
      {build = function()
        local m = lurn.Sequential{lurn.layers.Dense(2, {input_shape = {2}, activation = "softmax"})}
        return m:compile{optimizer = "sgd", loss = "sparse_categorical_crossentropy"}
      end}))
  end)
end)
