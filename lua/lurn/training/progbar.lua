--- The Keras-like progress display of fit and evaluate:
--   verbose = 1: "1875/1875 [==============================] - 4s 2ms/step - loss: 0.3012 - accuracy: 0.8901"
--                redrawn in place on a terminal, printed once per epoch otherwise;
--   verbose = 2: one line per epoch; verbose = 0: nothing.
-- It counts steps (batches), or samples with unit = "sample" (ProgbarLogger's count_mode).
local core = require "lurn.core"

local Progbar = {}
Progbar.__index = Progbar

local WIDTH = 30

function Progbar.new(target, verbose, unit)
  return setmetatable({target = target, verbose = verbose, unit = unit or "step", start = core.clock(), last_draw = 0,
                       tty = core.isatty(1)}, Progbar)
end

local function format_logs(keys, logs)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = logs[k]
    if type(v) == "number" then
      parts[#parts + 1] = (math.abs(v) < 1e-3 and v ~= 0) and ("%s: %.4e"):format(k, v) or ("%s: %.4f"):format(k, v)
    end
  end
  return #parts > 0 and (" - " .. table.concat(parts, " - ")) or ""
end

local function format_time(seconds)
  if seconds >= 1 then return ("%.0fs"):format(seconds) end
  return ("%.0fms"):format(seconds * 1000)
end

local function per_step(seconds, steps, unit)
  local t = seconds / math.max(steps, 1)
  if t >= 1 then return ("%.0fs/%s"):format(t, unit) end
  if t >= 1e-3 then return ("%.0fms/%s"):format(t * 1e3, unit) end
  return ("%.0fus/%s"):format(t * 1e6, unit)
end

function Progbar:line(step, keys, logs, final)
  local elapsed = core.clock() - self.start
  local n = self.target
  local digits = #tostring(n)
  local bar
  if final or step >= n then
    bar = ("="):rep(WIDTH)
  else
    local done = math.floor(WIDTH * step / n)
    bar = ("="):rep(math.max(done - 1, 0)) .. (done > 0 and ">" or "") .. ("."):rep(WIDTH - done)
  end
  local timing
  if final then
    timing = (" - %s %s"):format(format_time(elapsed), per_step(elapsed, step, self.unit))
  else
    local eta = step > 0 and elapsed / step * (n - step) or 0
    timing = (" - ETA: %s"):format(format_time(eta))
  end
  return ("%" .. digits .. "d/%d [%s]%s%s"):format(step, n, bar, timing, format_logs(keys, logs))
end

--- Called after each batch with the running logs; redraws at most every 50 ms.
function Progbar:update(step, keys, logs)
  if self.verbose ~= 1 or not self.tty then return end
  local now = core.clock()
  if now - self.last_draw < 0.05 and step < self.target then return end
  self.last_draw = now
  io.stdout:write("\r", self:line(step, keys, logs, false), "\027[K")
  io.stdout:flush()
end

--- The epoch's last line, with validation metrics.
function Progbar:finish(step, keys, logs)
  if self.verbose == 0 then return end
  local text = self:line(step, keys, logs, true)
  if self.verbose == 2 then
    local elapsed = core.clock() - self.start
    text = ("%d/%d - %s - %s%s"):format(step, self.target, format_time(elapsed), per_step(elapsed, step, self.unit),
      format_logs(keys, logs))
  end
  io.stdout:write(self.tty and self.verbose == 1 and "\r" or "", text, self.tty and "\027[K\n" or "\n")
  io.stdout:flush()
end

return Progbar
