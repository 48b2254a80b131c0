-- lurn.experiments.label_noise_check: after training, the samples with the highest loss;
-- with a known flipped subset, most flipped samples are among them.
local lurn = require "lurn"
local tiny = require "helpers.tiny_data"

describe("lurn.experiments.label_noise_check", function()
  local x, y = tiny.classification(200)
  -- flip the labels of 10 samples far from the boundary
  local flipped, set = {}, {}
  for i = 1, 200 do
    if #flipped < 10 and math.abs(x:get(i, 1) + x:get(i, 2)) > 1 then
      y:set(i, 1 - y:get(i))
      flipped[#flipped + 1], set[i] = i, true
    end
  end
  local build = tiny.builder{optimizer = lurn.optimizers.Adam{learning_rate = 0.02}}

  local function found(r)
    local n = 0
    for _, s in ipairs(r.suspects) do
      if set[s.index] then n = n + 1 end
    end
    return n
  end

  it("ranks most flipped samples among the highest losses", function()
    local r = lurn.experiments.label_noise_check(build, x, y, {epochs = 10, top = 10})
    assert.equal(10, #r.suspects)
    assert.is_true(found(r) >= 8, "found " .. found(r))
    for i = 2, #r.suspects do assert.is_true(r.suspects[i].loss <= r.suspects[i - 1].loss) end
    local s = r.suspects[1]
    assert.equal(y:get(s.index), s.label)
    assert.not_equal(s.label, s.predicted)
    assert.equal(200, #r.losses)
    assert.matches("predicted as another class", r.report, 1, true)
  end)

  it("scores each sample out of fold with cv", function()
    local r = lurn.experiments.label_noise_check(build, x, y, {epochs = 10, top = 10, cv = 3})
    assert.equal(3, #r.runs)
    assert.is_true(found(r) >= 8, "found " .. found(r))
    assert.matches("out of fold %(3 folds%)", r.report)
  end)

  it("says so when no sample stands out", function()
    local xc, yc = tiny.classification(100)
    local r = lurn.experiments.label_noise_check(build, xc, yc, {epochs = 1, top = 50})
    assert.matches("no sample stands out", r.report, 1, true)
  end)
end)
