-- lurn.experiments.batch_size_sweep: batch sizes at a fixed number of epochs, with and
-- without the learning rate scaled linearly; time per epoch and validation numbers.
local lurn = require "lurn"
local tiny = require "helpers.tiny_data"

describe("lurn.experiments.batch_size_sweep", function()
  local x, y = tiny.classification(160)
  local build = tiny.builder{optimizer = lurn.optimizers.SGD{learning_rate = 0.05}}

  it("runs each size, scaled and not, and times the epochs", function()
    local r = lurn.experiments.batch_size_sweep(build, x, y, {sizes = {4, 64}, scale_lr = "both",
                                                              base_batch_size = 16, epochs = 3})
    assert.equal(4, #r.runs)
    local names, rates = {}, {}
    for i, run in ipairs(r.runs) do
      names[i], rates[i] = run.name, run.learning_rate
      assert.is_true(run.seconds_per_epoch > 0)
      assert.equal(3, #run.epoch_seconds)
    end
    assert.same({"4", "4 (rate scaled)", "64", "64 (rate scaled)"}, names)
    assert.near(0.05, rates[1], 1e-8)
    assert.near(0.05 * 4 / 16, rates[2], 1e-8)
    assert.near(0.05 * 64 / 16, rates[4], 1e-7)
    assert.is_true(r.runs[1].best_val_loss < r.runs[3].best_val_loss)
    assert.matches("fewer updates", r.report, 1, true)
    assert.matches("At batch size 64, scaling the rate to 0.2", r.report, 1, true)
  end)

  it("refuses a bad scale_lr", function()
    local ok, e = pcall(lurn.experiments.batch_size_sweep, build, x, y, {scale_lr = "yes"})
    assert.is_false(ok)
    assert.matches("batch_size_sweep_spec.lua:%d+: batch_size_sweep: scale_lr must be true, false or 'both'", e)
  end)
end)
