--- lurn.doctor (issue 19): finds out why a network is failing, says it with evidence, and
-- repairs what it can. Loaded on first use (require("lurn").doctor).
--   check_data(x, y, opts)        data checks only (data.lua)
--   diagnose(model, x, y, opts)   data, the compiled model, a short instrumented probe (diagnose.lua)
--   Monitor(opts)                 a callback for the user's own fit (monitor.lua)
-- Each returns (or keeps) a report (report.lua): findings {code, severity, layer, evidence,
-- message, fix}, documented in docs/doctor.md.
local doctor = {}

doctor.Report = require "lurn.doctor.report"

-- The entry points, each in its own file, loaded when first asked for (a part not written
-- yet says so).
local PARTS = {check_data = {"lurn.doctor.data", "check_data"}, diagnose = {"lurn.doctor.diagnose", "diagnose"},
               Monitor = {"lurn.doctor.monitor", "Monitor"}}

return setmetatable(doctor, {__index = function(t, name)
  local part = PARTS[name]
  if not part then return nil end
  local ok, mod = pcall(require, part[1])
  if not ok then error(("lurn.doctor.%s is not available: %s"):format(name, tostring(mod)), 2) end
  local fn = mod[part[2]]
  rawset(t, name, fn)
  return fn
end})
