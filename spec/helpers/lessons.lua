--- What the specs of the bundled lessons share (spec/experiments/): a lesson file loaded
-- without running it, and a file's text.
local helpers = {}

--- scripts/experiments/NAME.lua's lesson table (lesson.lua returns it unrun while the
-- global LESSON_LOADING is set; busted runs a spec in an environment of its own, so the
-- flag goes into the globals the lesson files see).
function helpers.load_lesson(name)
  local globals = package.loaded._G
  globals.LESSON_LOADING = true
  local ok, l = pcall(dofile, ("scripts/experiments/%s.lua"):format(name))
  globals.LESSON_LOADING = nil
  assert(ok, l)
  return l
end

--- A file's whole text, or nil when it cannot be opened.
function helpers.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

return helpers
