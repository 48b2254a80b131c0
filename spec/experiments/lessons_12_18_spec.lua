-- The bundled lessons 12 to 18 (scripts/experiments/NAME.lua, issue 18), each run in tiny
-- mode through scripts/experiments/lesson.lua: each writes section.md and results.json,
-- its plots exist, and its conclusion (computed from the numbers) is not empty.
package.path = "scripts/experiments/?.lua;" .. package.path
local lesson = require "lesson"
local json = require "lurn.models.json"

local LESSONS = {"early_stopping", "imbalance", "augmentation", "batch_size", "lr_schedule", "label_noise", "class_coverage"}

local function load(name)
  rawset(_G, "LESSON_LOADING", true)
  local ok, l = pcall(dofile, ("scripts/experiments/%s.lua"):format(name))
  rawset(_G, "LESSON_LOADING", nil)
  assert(ok, l)
  return l
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

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
      for _, p in ipairs(section.plots or {}) do
        assert.is_string(read(("%s/%s/%s"):format(tmp, name, p.file)), p.file)
      end
    end)
  end
end)
