-- lurn.metrics' scikit-learn functions against scikit-learn 1.2 (Debian's python3-sklearn) on
-- the cases of sklearn_cases.lua: the answers held in sklearn_expected.lua, and the same
-- answers recomputed live through python3 when scikit-learn is installed. classification_report
-- must match to the character; numbers to 1e-6 (rates of curves come back as float32 tensors).
local lurn = require "lurn"
local cases = require "metrics.sklearn_cases"
local expected = require "metrics.sklearn_expected"
local reference = require "metrics.sklearn_reference"

local M = lurn.metrics

-- Tensors as tables, several results as a list.
local function plain(v)
  if lurn.is_tensor(v) then return v:totable() end
  if type(v) == "table" then
    local t = {}
    for k, x in pairs(v) do t[k] = plain(x) end
    return t
  end
  return v
end

local function ours(case)
  local fn, args, opts = case[2], case[3], case[4]
  local res = table.pack(M[fn](args[1], args[2], opts))
  if res.n == 1 then return plain(res[1]) end
  local list = {}
  for i = 1, res.n do
    list[i] = plain(res[i])
    if list[i] == nil then list[i] = false end  -- scikit-learn's None, as the held answers write it
  end
  return list
end

-- Where a and b differ (a path and both values), or nil.
local function differ(a, b, path)
  path = path or ""
  if type(a) == "number" and type(b) == "number" then
    if a ~= a and b ~= b then return nil end
    if a == b or math.abs(a - b) <= 1e-6 * math.max(1, math.abs(b)) then return nil end
    return ("%s: %.17g vs %.17g"):format(path, a, b)
  end
  if type(a) ~= type(b) then return ("%s: %s vs %s"):format(path, tostring(a), tostring(b)) end
  if type(a) == "table" then
    for k, v in pairs(b) do
      local d = differ(a[k], v, path .. "[" .. tostring(k) .. "]")
      if d then return d end
    end
    for k in pairs(a) do
      if b[k] == nil then return ("%s[%s]: extra entry"):format(path, tostring(k)) end
    end
    return nil
  end
  if a ~= b then return ("%s:\n%s\nvs\n%s"):format(path, tostring(a), tostring(b)) end
  return nil
end

describe("lurn.metrics against scikit-learn's answers held in the spec", function()
  for _, case in ipairs(cases) do
    it(case[1] .. " (" .. case[2] .. ")", function()
      assert(expected[case[1]] ~= nil, "no held answer: regenerate sklearn_expected.lua")
      local d = differ(ours(case), expected[case[1]])
      assert(d == nil, d)
    end)
  end

  it("prints classification_report's text exactly (a weighted report with fractional supports)", function()
    local case
    for _, c in ipairs(cases) do if c[1] == "report_weighted" then case = c end end
    assert.equal(expected.report_weighted, M.classification_report(case[3][1], case[3][2], case[4]))
    assert.truthy(expected.report_weighted:find("     10.75\n", 1, true))
  end)

  it("pads target names by characters, not bytes, as Python does (a UTF-8 name)", function()
    -- classification_report([0, 1, 1, 0, 1], [0, 1, 0, 0, 1], target_names=["café au lait", "b"]), scikit-learn 1.2
    local held = "              precision    recall  f1-score   support\n\ncafé au lait       0.67      1.00      0.80"
      .. "         2\n           b       1.00      0.67      0.80         3\n\n    accuracy                           0.80"
      .. "         5\n   macro avg       0.83      0.83      0.80         5\nweighted avg       0.87      0.80      0.80"
      .. "         5\n"
    assert.equal(held, M.classification_report({0, 1, 1, 0, 1}, {0, 1, 0, 0, 1}, {target_names = {"café au lait", "b"}}))
  end)
end)

describe("lurn.metrics against scikit-learn itself", function()
  it("gives scikit-learn's answers on every case, computed now", function()
    local live, why = reference.reference()
    if not live then
      pending(why .. ": live comparison skipped (the held answers are still checked)")
      return
    end
    for _, case in ipairs(cases) do
      local d = differ(ours(case), live[case[1]], case[1])
      assert(d == nil, d)
      -- the held answers are scikit-learn's own, not a copy of lurn's
      assert(differ(expected[case[1]], live[case[1]], case[1]) == nil, "held answer out of date: " .. case[1])
    end
  end)
end)

describe("inputs", function()
  local yt = {0, 1, 2, 2, 1, 0, 2, 1}
  local yp = {0, 2, 2, 2, 1, 0, 0, 1}

  it("takes tensors of shape (N) and (N, 1) as it takes lists", function()
    local f = M.f1_score(yt, yp, {average = false})
    assert.same(f, M.f1_score(lurn.tensor(yt), lurn.tensor(yp):reshape(8, 1), {average = false}))
    local cm = M.confusion_matrix(yt, yp)
    assert.same(cm:totable(), M.confusion_matrix(lurn.tensor(yt):reshape(8, 1), lurn.tensor(yp)):totable())
    local s = {0.1, 0.4, 0.35, 0.8}
    assert.equal(M.roc_auc_score({0, 0, 1, 1}, s), M.roc_auc_score(lurn.tensor{0, 0, 1, 1}, lurn.tensor(s)))
    -- a column of a matrix (a strided view)
    local both = lurn.tensor{{0.1, 9}, {0.4, 9}, {0.35, 9}, {0.8, 9}}
    assert.equal(M.roc_auc_score({0, 0, 1, 1}, s), M.roc_auc_score({0, 0, 1, 1}, both:select(2, 1)))
  end)

  it("keeps a list's scores in double precision (distinct scores a float32 would merge)", function()
    local _, _, th = M.roc_curve({0, 1, 0, 1}, {0.5, 0.5 + 1e-12, 0.2, 0.9}, {drop_intermediate = false})
    assert.equal(5, #th)  -- 4 distinct scores and the point (0, 0)
  end)

  it("returns thresholds as the scores given, exactly: score >= threshold picks each point's samples", function()
    local _, tpr, th = M.roc_curve({0, 1}, {0.1, 0.3})
    assert.same({1.3, 0.3, 0.1}, th)
    assert.equal(0.3, th[2])  -- not float32's 0.30000001192
    assert.is_true(0.3 >= th[2])
    assert.same({0, 1, 1}, tpr:totable())
    local p, r, pth = M.precision_recall_curve({0, 1, 1}, {0.1, 0.7, 0.3})
    assert.same({0.1, 0.3, 0.7}, pth)
    assert.equal(4, p:numel())
    assert.equal(4, r:numel())
    -- scores in a float32 tensor: the thresholds are their float32 values, exactly
    local scores = lurn.tensor{0.1, 0.3}
    local _, _, tth = M.roc_curve({0, 1}, scores)
    local held = scores:totable()
    assert.equal(held[2], tth[2])
    assert.equal(held[1], tth[3])
    assert.is_true(held[2] ~= 0.3)
    local _, _, tpth = M.precision_recall_curve({0, 1}, scores)
    assert.same(held, tpth)
  end)

  it("returns rates as tensors, thresholds and per-class scores as lists aligned with the labels", function()
    local fpr, tpr, th = M.roc_curve({0, 0, 1, 1}, {0.1, 0.4, 0.35, 0.8})
    assert.is_true(lurn.is_tensor(fpr) and lurn.is_tensor(tpr))
    assert.is_true(type(th) == "table" and not lurn.is_tensor(th))
    assert.equal(fpr:numel(), #th)
    local r = M.recall_score({0, 1, 2, 2}, {0, 1, 1, 2}, {average = false})
    assert.same({1, 1, 0.5}, r)
  end)
end)
