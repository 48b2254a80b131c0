-- lurn.experiments.imbalance_check: nothing / class_weight / random oversampling / SMOTE,
-- the training split alone resampled; per-class recall, F1 and AUC on the validation split.
local lurn = require "lurn"
local tiny = require "helpers.tiny_data"

describe("lurn.experiments.imbalance_check", function()
  local x, y = tiny.classification(300, 1, 1.8)  -- about 10% positives
  local build = tiny.builder{optimizer = lurn.optimizers.Adam{learning_rate = 0.01}}

  it("resamples the training split only and raises the minority recall", function()
    local r = lurn.experiments.imbalance_check(build, x, y, {epochs = 5})
    assert.equal(1, r.minority)
    local names = {}
    for i, run in ipairs(r.runs) do names[i] = run.name end
    assert.same({"none", "class_weight", "oversample", "smote"}, names)
    local by = {}
    for _, run in ipairs(r.runs) do by[run.name] = run end
    local tc = r.training_counts
    assert.same(tc, by.none.train_counts)
    assert.same(tc, by.class_weight.train_counts)
    assert.same({[0] = tc[0], [1] = tc[0]}, by.oversample.train_counts)
    assert.same({[0] = tc[0], [1] = tc[0]}, by.smote.train_counts)
    -- the validation split: stratified, untouched (its counts add up with the training split's)
    local total = y:sum()
    assert.equal(total, tc[1] + r.validation_counts[1])
    assert.equal(300, tc[0] + tc[1] + r.validation_counts[0] + r.validation_counts[1])
    for _, run in ipairs(r.runs) do
      assert.equal(2, #run.recall)
      assert.is_number(run.auc)
      assert.is_true(run.macro_f1 >= 0 and run.macro_f1 <= 1)
    end
    assert.is_true(by.oversample.recall[2] > by.none.recall[2])
    assert.near(1.0, by.class_weight.class_weight[0] * tc[0] / (tc[0] + tc[1]) * 2, 1e-6)
    assert.matches("Minority recall rose", r.report, 1, true)
    assert.matches("| strategy |", r.report, 1, true)
  end)

  it("takes a single sigmoid output and (N, 1) labels", function()
    local function build1()
      local m = lurn.Sequential{lurn.layers.Dense(8, {input_shape = {2}, activation = "relu"}),
                                lurn.layers.Dense(1, {activation = "sigmoid"})}
      return m:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.01}, loss = "binary_crossentropy"}
    end
    local r = lurn.experiments.imbalance_check(build1, x, y:reshape(300, 1), {epochs = 2, strategies = {"none", "smote"}})
    assert.equal(2, #r.runs)
    assert.is_number(r.runs[2].auc)
  end)

  it("refuses an unknown strategy", function()
    local ok, e = pcall(lurn.experiments.imbalance_check, build, x, y, {strategies = {"undersample"}})
    assert.is_false(ok)
    assert.matches("imbalance_check_spec.lua:%d+: imbalance_check: strategies%[1%] is undersample", e)
  end)
end)
