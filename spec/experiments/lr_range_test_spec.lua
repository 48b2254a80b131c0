-- lurn.experiments.lr_range_test: one model, the rate growing exponentially batch after
-- batch; the curve, the stop on divergence and the suggested rate (steepest descent of
-- the smoothed loss before its lowest point).
local lurn = require "lurn"
local tiny = require "helpers.tiny_data"

describe("lurn.experiments.lr_range_test", function()
  local x, y = tiny.classification(256)
  local build = tiny.builder()

  it("grows the rate exponentially, stops on divergence and suggests a rate below the lowest loss", function()
    local r = lurn.experiments.lr_range_test(build, x, y, {min_lr = 1e-4, max_lr = 1e4, steps = 80, batch_size = 16,
                                                           smoothing = 0.9})
    local c = r.curve
    assert.near(1e-4, c.learning_rates[1], 1e-12)
    for i = 2, #c.learning_rates do
      assert.near(c.learning_rates[i] / c.learning_rates[i - 1], (1e8) ^ (1 / 79), 1e-9)
    end
    assert.is_number(r.diverged_at)
    assert.is_true(#c.losses < 80, "the test should stop when the loss diverges")
    assert.is_number(r.suggested_lr)
    assert.is_true(r.suggested_lr > 1e-4 and r.suggested_lr < r.lowest_loss_lr)
    -- the rule: the most negative central difference of the smoothed loss per decade
    local k = r.suggested_step
    assert.is_true(c.smoothed[k + 1] < c.smoothed[k - 1])
    assert.matches("suggested learning rate", r.report, 1, true)
    assert.matches("diverged at rate", r.report, 1, true)
  end)

  it("leaves the first skip_start steps out of the suggestion, where the average rests on a few batches", function()
    local opts = {min_lr = 1e-4, max_lr = 1e4, steps = 80, batch_size = 16, smoothing = 0.9}
    local r = lurn.experiments.lr_range_test(build, x, y, opts)
    assert.is_true(r.suggested_step > 10)
    opts.skip_start = 40
    local late = lurn.experiments.lr_range_test(build, x, y, opts)
    assert.same(r.curve, late.curve)
    if late.suggested_step then
      assert.is_true(late.suggested_step > 40)
    else
      assert.matches("leaves out", late.report, 1, true)
    end
    opts.skip_start = 0
    local all = lurn.experiments.lr_range_test(build, x, y, opts)
    assert.is_true(all.suggested_step >= 2 and all.suggested_step <= r.suggested_step)
  end)

  it("says so when the loss never falls", function()
    local r = lurn.experiments.lr_range_test(build, x, y, {min_lr = 1e-9, max_lr = 1e-8, steps = 10, batch_size = 16})
    assert.is_nil(r.suggested_lr)
    assert.matches("never fell", r.report, 1, true)
    assert.matches("did not diverge", r.report, 1, true)
  end)

  it("repeats bit for bit with a seed, and writes its plot", function()
    local dir = tiny.temp_dir()
    local a = lurn.experiments.lr_range_test(build, x, y, {steps = 20, batch_size = 16, seed = 3, plots = dir,
                                                           plot_format = "gp"})
    local b = lurn.experiments.lr_range_test(build(), x, y, {steps = 20, batch_size = 16, seed = 3})
    assert.same(a.curve, b.curve)
    assert.equal(1, #a.plots)
    assert.is_true(tiny.exists(dir .. "/lr_range_test_loss.gp"))
    tiny.remove_dir(dir)
  end)

  it("refuses bad options", function()
    local function err(opts)
      local ok, e = pcall(lurn.experiments.lr_range_test, build, x, y, opts)
      assert.is_false(ok)
      return e
    end
    assert.matches("lr_range_test_spec.lua:%d+: lr_range_test: max_lr %(1e%-08%) must be above min_lr",
      err{min_lr = 1, max_lr = 1e-8})
    assert.matches("unknown option 'epochs'", err{epochs = 2})
    assert.matches("at least 3 steps", err{steps = 2})
    assert.matches("smoothing must be a number in %[0, 1%)", err{smoothing = 1})
    assert.matches("skip_start must be a whole number >= 0", err{skip_start = -1})
  end)
end)
