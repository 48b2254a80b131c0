--- Folders on disk, for the parts of lurn that write files (checkpoints, backups, plots).
-- Internal (not a field of the lurn table).
local core = require "lurn.core"

local paths = {}

--- make_directories(dir): makes `dir` and those above it that are missing (as Keras makes
-- a checkpoint's folders, as `mkdir -p`); an error names the folder it could not make.
function paths.make_directories(dir)
  local at = dir:sub(1, 1) == "/" and "/" or ""
  for part in dir:gmatch("[^/]+") do
    at = at .. part
    core.make_directory(at)
    at = at .. "/"
  end
end

return paths
