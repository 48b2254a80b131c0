--- lurn.experiments: the classic answers to "why is my network not learning?" as
-- functions that run on the user's own model and data: each trains the broken
-- configuration and its fixes side by side from the same seed and returns the numbers
-- (per-run histories), a Markdown section with a table and a conclusion computed from
-- those numbers (result.report), and plots when asked (`plots = DIR`). One experiment per
-- file beside this one; runs.lua and report.lua are what they share. docs/api.md,
-- "Experiments".
local at_user_line = require "lurn.at_user_line"

local experiments = {}

for _, name in ipairs {"lr_sweep", "lr_range_test", "compare", "scaling_check", "capacity_check",
                       "batch_size_sweep", "imbalance_check", "label_noise_check"} do
  -- errors point at the user's line, not into these files
  experiments[name] = at_user_line(require("lurn.experiments." .. name))
end

return experiments
