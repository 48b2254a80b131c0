-- The bundled lessons 5 to 11 (scripts/experiments/<name>.lua, issue 18) in tiny mode,
-- each loaded as the runner loads it (LESSON_LOADING) and run through lesson.lua: the
-- section has what was compared, tables, plots that exist and a conclusion, and
-- section.md and results.json are written in out/<name>/.
package.path = "scripts/experiments/?.lua;" .. package.path
local lesson = require "lesson"
local lurn = require "lurn"
local json = require "lurn.models.json"
local tiny = require "helpers.tiny_data"

local LESSONS = {"lr_sweep", "optimizers", "capacity", "initialization", "dying_relu", "saturation",
                 "overfitting"}

local load = require("helpers.lessons").load_lesson

local function read(path)
  local f = assert(io.open(path))
  local text = f:read("a")
  f:close()
  return text
end

describe("lessons 5 to 11 in tiny mode", function()
  local dir = tiny.temp_dir()
  -- one thread: tiny models gain nothing from two, and two spinning threads on a busy
  -- machine run many times slower (docs/api.md, "Tensors", Process)
  local threads = lurn.get_num_threads()
  setup(function() lurn.set_num_threads(1) end)
  teardown(function()
    lurn.set_num_threads(threads)
    tiny.remove_dir(dir)
  end)

  for _, name in ipairs(LESSONS) do
    it(name .. " writes its section, its results and its plots, with a conclusion from the numbers", function()
      local l = load(name)
      assert.equal(name, l.name)
      assert.is_string(l.title)
      local section = lesson.run(l, {mode = "tiny", out = dir, seed = 1})
      assert.is_string(section.compared)
      assert.is_true(#section.tables >= 1)
      for _, t in ipairs(section.tables) do
        assert.is_true(#t.rows >= 1, t.caption)
        for _, row in ipairs(t.rows) do assert.is_true(#row <= #t.header, t.caption) end
      end
      assert.is_true(#section.plots >= 1)
      for _, p in ipairs(section.plots) do
        assert.is_true(tiny.exists(dir .. "/" .. name .. "/" .. p.file), p.file)
      end
      assert.is_string(section.conclusion)
      assert.is_true(#section.conclusion > 20)
      local md = read(dir .. "/" .. name .. "/section.md")
      assert.matches("**Conclusion.** " .. section.conclusion, md, 1, true)
      local results = json.decode(read(dir .. "/" .. name .. "/results.json"))
      assert.equal(name, results.name)
      assert.equal("tiny", results.mode)
      assert.equal(section.conclusion, results.conclusion)
    end)
  end
end)
