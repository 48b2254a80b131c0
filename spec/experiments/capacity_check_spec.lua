-- lurn.experiments.capacity_check: models of increasing size, each judged under- or
-- overfitting from its training and validation losses.
local lurn = require "lurn"
local tiny = require "helpers.tiny_data"

describe("lurn.experiments.capacity_check", function()
  it("finds the tiny model underfitting and the large one overfitting a small noisy set", function()
    lurn.manual_seed(4)
    local x = lurn.randn{60, 4}
    local y = (x:select(2, 1) * x:select(2, 2) + x:select(2, 3)):gt(0)
    local build = tiny.builder{features = 4, optimizer = lurn.optimizers.Adam{learning_rate = 0.02}}
    local r = lurn.experiments.capacity_check(build, x, y, {sizes = {1, 128}, epochs = 40})
    assert.equal(2, #r.runs)
    assert.equal(4 * 1 + 1 + 1 * 2 + 2, r.runs[1].params)
    assert.equal("underfitting", r.runs[1].verdict)
    assert.equal("overfitting", r.runs[2].verdict)
    assert.near(r.runs[2].final_val_loss - r.runs[2].final_loss, r.runs[2].gap, 1e-12)
    assert.is_true(r.runs[2].final_loss < r.runs[1].final_loss)
    assert.matches("Underfitting .*: 1:", r.report)
    assert.matches("Overfitting .*: 128:", r.report)
  end)

  it("scales a compiled model's hidden units by factors, and says when no size shows a problem", function()
    local x, y = tiny.classification(120)
    local r = lurn.experiments.capacity_check(tiny.builder{units = 8}(), x, y, {epochs = 2})
    assert.same({0.25, 1, 4}, r.sizes)
    assert.same({2 * 2 + 2 + 2 * 2 + 2, 8 * 2 + 8 + 8 * 2 + 2, 32 * 2 + 32 + 32 * 2 + 2},
                {r.runs[1].params, r.runs[2].params, r.runs[3].params})
    local seen = {}
    for _, run in ipairs(r.runs) do seen[run.verdict] = true end
    if not seen.underfitting and not seen.overfitting then
      assert.matches("No size shows under- or overfitting", r.report, 1, true)
    end
  end)

  it("needs sizes with a builder function", function()
    local x, y = tiny.classification(20)
    local ok, e = pcall(lurn.experiments.capacity_check, tiny.builder(), x, y)
    assert.is_false(ok)
    assert.matches("capacity_check_spec.lua:%d+: capacity_check: give sizes", e)
  end)
end)
