--- lurn.manual_seed, counting its calls: a model loaded from a file applies its saved
-- random state at its first fit unless the user seeded the generator since (the seed the
-- user gives last wins, as one would expect when fine-tuning from one file with several).
local core = require "lurn.core"
local at_user_line = require "lurn.at_user_line"

local random = {seeds = 0}

random.manual_seed = at_user_line(function(seed)
  core.manual_seed(seed)
  random.seeds = random.seeds + 1
end)

return random
