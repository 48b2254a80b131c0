-- The bundled lessons 1-4 of issue 18 (scripts/experiments/: scaling, time_series,
-- encoding, tokenization), each run in tiny mode through lesson.run into a temporary
-- folder: the section they return (what was compared, tables, plots, a conclusion) and
-- what they write (section.md, results.json, the plots).
package.path = "scripts/experiments/?.lua;" .. package.path
local lurn = require "lurn"
local json = require "lurn.models.json"
local lesson = require "lesson"
local helpers = require "helpers.lessons"
local load_lesson, read = helpers.load_lesson, helpers.read

local out = os.tmpname()
os.remove(out)
lesson.mkdir(out)
local threads = lurn.get_num_threads()

describe("the bundled lessons 1-4 in tiny mode", function()
  teardown(function()
    os.execute("rm -rf '" .. out .. "'")
    lurn.set_num_threads(threads)
  end)

  for _, name in ipairs{"scaling", "time_series", "encoding", "tokenization"} do
    it(name .. " returns a section and writes section.md, results.json and its plots", function()
      local l = load_lesson(name)
      assert.equal(name, l.name)
      assert.is_string(l.title)
      local started = lurn.clock()
      local s = lesson.run(l, {mode = "tiny", out = out, seed = 42})
      assert.is_true(lurn.clock() - started < 20, name .. " is not seconds long in tiny mode")
      assert.is_true(#s.compared > 100)
      assert.is_true(#s.tables >= 1)
      for _, t in ipairs(s.tables) do
        assert.is_true(#t.header > 1 and #t.rows >= 1)
        for _, row in ipairs(t.rows) do assert.is_true(#row <= #t.header) end
      end
      assert.is_true(#s.plots >= 1)
      local dir = out .. "/" .. name
      for _, p in ipairs(s.plots) do
        assert.is_nil(p.file:find("/", 1, true), "a plot named relative to the lesson's folder: " .. p.file)
        local data = read(dir .. "/" .. p.file)
        assert.is_truthy(data, dir .. "/" .. p.file)
        assert.is_true(#data > 100)
        if p.file:match("%.png$") then assert.equal("\137PNG", data:sub(1, 4)) end
        assert.is_string(p.caption)
      end
      assert.is_true(#s.conclusion > 40)
      assert.is_number(s.seconds)
      local md = read(dir .. "/section.md")
      assert.matches(l.title, md, 1, true)
      assert.matches(s.conclusion, md, 1, true)
      local results = json.decode(read(dir .. "/results.json"))
      assert.equal(name, results.name)
      assert.equal("tiny", results.mode)
      assert.equal(s.conclusion, results.conclusion)
      assert.is_table(results.results)
    end)
  end

  it("draw their conclusions from the numbers: scaling names the spread it measured", function()
    local r = json.decode(read(out .. "/scaling/results.json"))
    local ratio = r.results.feature_spread.ratio
    assert.is_true(ratio > 1000)  -- proline against the phenols
    assert.matches(("%.3g x"):format(ratio), r.conclusion, 1, true)
  end)

  it("time_series finds the raw recurrent features all but constant (the plateau's mechanism)", function()
    local r = json.decode(read(out .. "/time_series/results.json"))
    local raw, scaled = r.results.runs[1], r.results.runs[2]
    assert.equal("raw", raw.input)
    assert.equal("scaled", scaled.input)
    assert.is_true(raw.spread < 1e-3)
    assert.is_true(scaled.spread > raw.spread)
  end)

  it("encoding records the unseen island's error and the refitted one-hot encoder's width error", function()
    local r = json.decode(read(out .. "/encoding/results.json"))
    assert.matches("unknown value 'Torgersen'", r.results.unseen[1].outcome, 1, true)
    local loud = 0
    for _, row in ipairs(r.results.refitted) do
      if row.encoding == "one-hot" and row.fitted_on:find("refitted") then
        assert.matches("does not match", row.outcome, 1, true)
        loud = loud + 1
      end
    end
    assert.equal(2, loud)
  end)

  it("tokenization counts the shared words that keep their id", function()
    local r = json.decode(read(out .. "/tokenization/results.json"))
    assert.is_true(r.results.shared_words > 100)
    assert.is_true(r.results.same_id < r.results.shared_words / 10)
  end)
end)
