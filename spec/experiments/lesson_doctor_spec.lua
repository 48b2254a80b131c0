-- The lessons as doctor cases (issue 19): a lesson's doctor(ctx) gives its broken and fixed
-- configurations, lesson.run puts the doctor on each and adds the table to the section
-- (section.doctor, results.json), and report.lua sums them up across the lessons. Tiny
-- mode: the verdicts themselves mean nothing there (a few hundred rows, one epoch); what
-- they are in quick mode is in the report (docs/experiments.md).
package.path = "scripts/experiments/?.lua;" .. package.path
local lurn = require "lurn"
local json = require "lurn.models.json"
local lesson = require "lesson"
local report = require "report"
local helpers = require "helpers.lessons"

local load_lesson, read = helpers.load_lesson, helpers.read

local VERDICTS = {found = true, missed = true, clean = true, ["false alarm"] = true, ["no code expected"] = true,
                  failed = true}

-- the lessons that show a fault and its fix
local WITH_DOCTOR = {"scaling", "time_series", "encoding", "lr_sweep", "optimizers", "capacity", "initialization",
                     "dying_relu", "saturation", "overfitting", "early_stopping", "imbalance", "label_noise",
                     "class_coverage"}

local out = os.tmpname()
os.remove(out)
lesson.mkdir(out)
local threads = lurn.get_num_threads()

describe("the lessons as doctor cases", function()
  teardown(function()
    os.execute("rm -rf '" .. out .. "'")
    lurn.set_num_threads(threads)
  end)

  it("a lesson's section carries the doctor's table, its rows and results.json's", function()
    local s = lesson.run(load_lesson("class_coverage"), {mode = "tiny", out = out, seed = 42})
    local t = s.tables[#s.tables]
    assert.is_true(t.doctor)
    assert.same({"configuration", "expected code", "checked by", "the doctor found", "verdict", "time"}, t.header)
    assert.equal(3, #t.rows)
    assert.equal(3, #s.doctor)
    for _, r in ipairs(s.doctor) do
      assert.is_true(VERDICTS[r.verdict], r.verdict)
      assert.is_string(r.found)
    end
    -- the two splits that miss a class expect split_missing_class; the stratified one is the fix
    assert.equal("split_missing_class", s.doctor[1].expect)
    assert.equal("found", s.doctor[1].verdict)
    assert.is_true(s.doctor[3].fixed)
    assert.matches("| expected code |", read(out .. "/class_coverage/section.md"), 1, true)
    local results = json.decode(read(out .. "/class_coverage/results.json"))
    assert.equal(3, #results.results.doctor)
  end)

  it("runs the doctor's part alone with doctor_only (--doctor)", function()
    local s = lesson.run(load_lesson("scaling"), {mode = "tiny", out = out, seed = 42, doctor_only = true})
    assert.equal(1, #s.tables)
    assert.equal(2, #s.doctor)
    assert.equal("unscaled_features", s.doctor[1].expect)
    assert.is_true(s.doctor[2].fixed)
  end)

  it("gives a configuration that fails the verdict failed and goes on", function()
    local l = {name = "broken_doctor", title = "t", run = function() return {tables = {}} end, doctor = function()
      return {{name = "fails", expect = "lr_too_high", build = function() error("no data") end},
              {name = "data only", fixed = true, data_only = true, build = function()
                -- two classes apart along the first feature: labels unrelated to x would
                -- rightly be reported as label noise
                local x, labels = lurn.randn(40, 3), {}
                for i = 1, 40 do
                  labels[i] = i % 2
                  x:set(i, 1, x:get(i, 1) + (labels[i] == 1 and 4 or -4))
                end
                return nil, x, lurn.tensor(labels)
              end}}
    end}
    local s = lesson.run(l, {mode = "tiny", out = out, seed = 1})
    assert.equal("failed", s.doctor[1].verdict)
    assert.matches("no data", s.doctor[1].found, 1, true)
    assert.equal("check_data", s.doctor[2].by)
    assert.equal("nothing", s.doctor[2].found)
    assert.equal("clean", s.doctor[2].verdict)
  end)

  it("every lesson with a fault gives configurations: a name, a build, an expected code or fixed", function()
    local ctx = {mode = "tiny", seed = 42, out = out, doctor = lesson.DOCTOR.tiny, log = function() end}
    function ctx.pick(sizes) return sizes.tiny end
    local codes = {}
    for _, kind in pairs(lurn.doctor.Report.CODES) do
      for _, c in ipairs(kind) do codes[c] = true end
    end
    for _, name in ipairs(WITH_DOCTOR) do
      local l = load_lesson(name)
      assert.is_function(l.doctor, name)
      local list = l.doctor(ctx)
      assert.is_true(#list >= 1, name)
      local fixed = 0
      for _, c in ipairs(list) do
        assert.is_string(c.name)
        assert.is_function(c.build, name .. ": " .. c.name)
        assert.is_false(c.fixed == true and c.expect ~= nil, name .. ": " .. c.name .. " is fixed and broken")
        if c.expect then assert.is_true(codes[c.expect], c.expect) end
        if c.fixed then fixed = fixed + 1 end
      end
      -- early_stopping's fix is a callback the doctor's probe does not run
      if name ~= "early_stopping" then assert.is_true(fixed >= 1, name .. " has no fixed configuration") end
    end
  end)

  it("report.lua sums the lessons up: broken found, fixed clean, misses and false alarms named", function()
    local entries = {
      {name = "a", status = "ok", section = {doctor = {{name = "x", expect = "lr_too_high", verdict = "found"},
                                                      {name = "y", expect = "lr_too_low", verdict = "missed"},
                                                      {name = "z", fixed = true, verdict = "clean"}}}},
      {name = "b", status = "ok", section = {doctor = {{name = "w", fixed = true, verdict = "false alarm"},
                                                      {name = "v", verdict = "no code expected"}}}},
      {name = "c", status = "ok", section = {}},
      {name = "d", status = "error", error = "e"},
    }
    local t = report.doctor_summary(entries)
    assert.same({"a", "1 / 2", "1 / 1", "y: missed"}, t.rows[1])
    assert.same({"b", "0 / 0", "0 / 1", "w: false alarm"}, t.rows[2])
    assert.same({"all", "1 / 2", "1 / 2", ""}, t.rows[3])
    assert.is_nil(report.doctor_summary({entries[3], entries[4]}))
    local info = {mode = "tiny", out = out, command = "c", date = "d", machine = "m", seconds = 1,
                  counts = {ok = 3, error = 1, missing = 0}}
    assert.matches("## The lessons as doctor cases", report.markdown_report(entries, info), 1, true)
    assert.matches('<div id="doctor">', report.html(entries, info), 1, true)
  end)
end)
