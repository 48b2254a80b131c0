-- lurn.experiments.lr_sweep: the same model at each rate and optimizer from the same
-- initial weights; final and best validation loss per run, divergence marked; a report
-- whose conclusion follows the numbers; repeatable bit for bit with a seed.
local lurn = require "lurn"
local tiny = require "helpers.tiny_data"

describe("lurn.experiments.lr_sweep", function()
  local x, y = tiny.classification(120)
  local build = tiny.builder()

  it("trains one run per rate and optimizer and marks the rate that diverges", function()
    local r = lurn.experiments.lr_sweep(build, x, y, {rates = {0.01, 0.5, 1e4}, optimizers = {"sgd", "adam"},
                                                      epochs = 3})
    assert.equal(6, #r.runs)
    assert.same({"sgd", "adam"}, r.optimizers)
    for _, run in ipairs(r.runs) do
      assert.is_true(#run.history.loss >= 1 and #run.history.loss <= 3)
      if run.learning_rate == 1e4 then
        assert.is_truthy(run.diverged, run.optimizer)
      else
        assert.is_false(run.diverged, run.optimizer .. " " .. run.learning_rate)
        assert.is_number(run.best_val_loss)
        assert.is_true(run.best_val_loss <= run.final_val_loss)
      end
    end
    assert.is_falsy(r.best.diverged)
    assert.matches("| optimizer | learning rate |", r.report, 1, true)
    assert.matches("diverged at 1e+04", r.report, 1, true)
    assert.matches("Overall best: " .. r.best.optimizer, r.report, 1, true)
  end)

  it("repeats bit for bit with the same seed, and clones a compiled model as the builder would build it", function()
    local a = lurn.experiments.lr_sweep(build, x, y, {rates = {0.1}, epochs = 2, seed = 7})
    local b = lurn.experiments.lr_sweep(build, x, y, {rates = {0.1}, epochs = 2, seed = 7})
    local c = lurn.experiments.lr_sweep(build(), x, y, {rates = {0.1}, epochs = 2, seed = 7})
    local d = lurn.experiments.lr_sweep(build, x, y, {rates = {0.1}, epochs = 2, seed = 8})
    assert.same(a.runs[1].history, b.runs[1].history)
    assert.same(a.runs[1].history, c.runs[1].history)
    assert.are_not.same(a.runs[1].history.loss, d.runs[1].history.loss)
  end)

  it("says when the best rate is at the edge of the grid", function()
    local r = lurn.experiments.lr_sweep(build, x, y, {rates = {1e-4, 1e-3}, epochs = 2})
    assert.equal(1e-3, r.best.learning_rate)
    assert.matches("largest tried", r.report, 1, true)
  end)

  it("writes its plots, as gnuplot scripts when asked or when gnuplot is missing", function()
    local dir = tiny.temp_dir()
    local gnuplot = require "lurn.plot.gnuplot"
    local saved = gnuplot.program
    gnuplot.program = "/nonexistent/gnuplot"
    local ok, r = pcall(lurn.experiments.lr_sweep, build, x, y, {rates = {0.1}, epochs = 1, plots = dir})
    gnuplot.program = saved
    assert(ok, r)
    assert.equal(2, #r.plots)
    for _, file in ipairs(r.plots) do
      assert.matches("%.gp$", file)
      assert.is_true(tiny.exists(file), file)
    end
    assert.matches("gnuplot -p lr_sweep_best_val_loss.gp", r.report, 1, true)
    tiny.remove_dir(dir)
  end)

  it("makes a plots folder that is missing, before training, as Keras makes a checkpoint's", function()
    local dir = tiny.temp_dir()
    local nested = dir .. "/plots/sweep"
    local r = lurn.experiments.lr_sweep(build, x, y, {rates = {0.1}, epochs = 1, plots = nested, plot_format = "gp"})
    assert.equal(2, #r.plots)
    for _, file in ipairs(r.plots) do assert.is_true(tiny.exists(file), file) end
    tiny.remove_dir(dir)
  end)

  it("refuses bad options with an error at the caller's line", function()
    local function err(...)
      local ok, e = pcall(lurn.experiments.lr_sweep, ...)
      assert.is_false(ok)
      return e
    end
    assert.matches("lr_sweep_spec.lua:%d+: lr_sweep: unknown option 'epoch'", err(build, x, y, {epoch = 2}))
    assert.matches("rates%[2%] must be a finite number > 0", err(build, x, y, {rates = {0.1, -1}}))
    assert.matches("unknown optimizer 'sgdd'", err(build, x, y, {optimizers = {"sgdd"}}))
    assert.matches("build must be a function", err(42, x, y))
    assert.matches("must be compiled", err(lurn.Sequential{lurn.layers.Dense(2, {input_shape = {2}})}, x, y))
    assert.matches("same number of samples", err(build, x, y:narrow(1, 1, 10)))
  end)
end)
