-- The bundled lessons 12 to 18 (scripts/experiments/NAME.lua, issue 18), each run in tiny
-- mode through scripts/experiments/lesson.lua: each writes section.md and results.json,
-- its plots exist, and its conclusion (computed from the numbers) is not empty.
package.path = "scripts/experiments/?.lua;" .. package.path
local lesson = require "lesson"
local json = require "lurn.models.json"

local LESSONS = {"early_stopping", "imbalance", "augmentation", "batch_size", "lr_schedule", "label_noise",
                 "class_coverage"}

-- What each conclusion rests on, checked on the tiny run's results (section.results).
local CHECKS = {
  early_stopping = function(r)
    assert.equal(2, r.few.epochs_run)
    assert.equal(r.sizes.many, r.many.epochs_run)
    assert.is_true(r.restore.epochs_run <= r.sizes.many)
    assert.is_number(r.restore.test_accuracy)
  end,
  imbalance = function(r)
    assert.equal(4, #r.runs)
    assert.is_true(r.training_counts[2] < 0.1 * r.training_counts[1])  -- shirts are rare
    assert.same({r.training_counts[1], r.training_counts[1]}, r.runs[3].train_counts)  -- oversampled
  end,
  augmentation = function(r)
    assert.equal(3, #r.runs)
    for _, run in ipairs(r.runs) do assert.equal(r.sizes.epochs, #run.val_loss) end
  end,
  batch_size = function(r)
    assert.equal(2 * #r.sizes, #r.runs)  -- each size at the same rate and at the scaled rate
    for _, run in ipairs(r.runs) do
      if run.scaled then assert.near(0.01 * run.batch_size / 32, run.learning_rate, 1e-6) end
    end
  end,
  lr_schedule = function(r)
    local constant, exponential = r.runs[1].rates, r.runs[3].rates
    for _, v in ipairs(constant) do assert.near(0.1, v, 1e-6) end
    assert.is_true(exponential[#exponential] < exponential[1])
  end,
  label_noise = function(r)
    local flipped = r.runs[2]
    assert.equal(0, r.runs[1].wrong)
    assert.is_true(flipped.wrong > 0)
    -- the suspects hold far more wrong labels than chance would
    assert.is_true(flipped.precision > 2 * flipped.wrong / r.sizes.train)
  end,
  class_coverage = function(r)
    local unshuffled, tail, stratified = r.splits[1], r.splits[2], r.splits[3]
    assert.is_false(unshuffled.ok)
    assert.same({2}, unshuffled.missing.train)
    assert.same({0, 1}, tail.missing.val)
    assert.is_true(stratified.ok)
    assert.equal(0, unshuffled.recall[3])  -- a class never seen is never predicted
  end,
}

local helpers = require "helpers.lessons"
local load, read = helpers.load_lesson, helpers.read

describe("lessons 12 to 18 in tiny mode", function()
  local tmp = os.tmpname()
  os.remove(tmp)
  lesson.mkdir(tmp)
  lazy_teardown(function() os.execute("rm -rf '" .. tmp .. "'") end)

  for _, name in ipairs(LESSONS) do
    it(name .. " writes its section, results and plots with a conclusion", function()
      local l = load(name)
      assert.equal(name, l.name)
      local section = lesson.run(l, {mode = "tiny", out = tmp, seed = 1})
      assert.is_string(section.conclusion)
      assert.is_true(#section.conclusion > 40)
      assert.is_string(section.compared)
      assert.is_true(#section.tables >= 1 and #section.tables[1].rows >= 1)
      local md = read(("%s/%s/section.md"):format(tmp, name))
      assert.is_string(md)
      assert.matches("**Conclusion.**", md, 1, true)
      local results = json.decode(read(("%s/%s/results.json"):format(tmp, name)))
      assert.equal(name, results.name)
      assert.equal("tiny", results.mode)
      assert.equal(section.conclusion, results.conclusion)
      CHECKS[name](section.results)
      assert.is_true(#(section.plots or {}) >= 1)
      for _, p in ipairs(section.plots or {}) do
        assert.is_string(read(("%s/%s/%s"):format(tmp, name, p.file)), p.file)
      end
    end)
  end
end)
