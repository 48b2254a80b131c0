-- scripts/doctor/corpus.lua's runner on its tiny slice: it examines each case, counts
-- detection, false positives and repairs, reports a check not written yet as "not
-- available", and prints a Markdown table. (The corpus's figures come from running it in
-- full: docs/doctor.md.)
local lurn = require "lurn"
local Report = require "lurn.doctor.report"
local corpus = dofile("scripts/doctor/corpus.lua")

-- Checks that see only what the tiny cases need: inputs far from unit scale.
local fake = {
  check_data = function(x)
    local r = Report.new()
    if x:abs():max() > 100 then
      r:add{code = "unscaled_features", severity = "warning", message = "unscaled", fix = "StandardScaler"}
    end
    return r
  end,
}
fake.diagnose = function(_, x, y) return fake.check_data(x, y) end

describe("the doctor's corpus runner", function()
  it("runs the tiny slice and reports each case", function()
    local rows, totals = corpus.run(corpus.CASES, {tiny = true, epochs = 1, no_repair = true})
    assert.is_true(#rows >= 2)
    local known = {detected = true, missed = true, clean = true, ["false positive"] = true,
                   ["not available"] = true}
    for _, r in ipairs(rows) do assert.is_true(known[r.status], r.name .. ": " .. tostring(r.status)) end
    local md = corpus.markdown(rows, totals)
    assert.truthy(md:find("| case | expected |", 1, true))
    assert.truthy(md:find("detection:", 1, true))
    assert.truthy(md:find("repair rate:", 1, true))
  end)

  it("reports checks that are not written as not available", function()
    local rows, totals = corpus.run(corpus.CASES, {tiny = true, epochs = 1, doctor = {}})
    for _, r in ipairs(rows) do assert.equal("not available", r.status) end
    assert.equal(#rows, totals.unavailable)
  end)

  it("counts detection, false positives and repairs", function()
    local rows, totals = corpus.run(corpus.CASES, {only = {wine_unscaled = true, wine_scaled = true}, epochs = 2,
                                                   doctor = fake})
    assert.equal(2, #rows)
    assert.same({1, 1, 1, 1}, {totals.detected, totals.broken, totals.clean, totals.healthy})
    assert.equal(1, totals.repairable)
    assert.is_number(rows[1].repaired_metric)
    assert.is_number(rows[1].twin_metric)
    assert.truthy(rows[1].repair == "yes" or rows[1].repair == "no")
  end)
end)
