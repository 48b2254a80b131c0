--- `lurn doctor [--html FILE] SCRIPT.lua [ARGS]` (src/cli/main.c hands its arguments here):
-- runs the user's script unchanged, with every fit it makes watched: the data each fit
-- receives goes through lurn.doctor.check_data, a lurn.doctor.Monitor (or, while there is
-- none, a plain loss watcher) rides along as a callback, and the findings are printed at
-- the end, also when the script fails. docs/doctor.md, "The command".
--
-- The watch is Model.fit replaced on lurn.models.Model for the duration of the script (the
-- containers find fit there), put back afterwards; fits made inside a watched fit (a
-- doctor probe) are not watched again.
local Report = require "lurn.doctor.report"

local cli = {}

local USAGE = [[
usage: lurn doctor [--html FILE] SCRIPT.lua [ARGS]
Runs SCRIPT.lua unchanged, watches every fit it makes (the data it receives, the loss and
the layers while it trains) and prints the findings at the end (docs/doctor.md).
Options:
  --html FILE  also write the findings, with their plots, as a web page
  -h, --help   show this help]]

local function finite(v) return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge end

-- Whether a chunk's short source is one of lurn's own Lua files.
local function is_lurn_file(src)
  return src:find("lurn/", 1, true) ~= nil and (src:find("/lua/lurn/", 1, true) ~= nil
    or src:sub(1, 5) == "lurn/" or src:find("/share/lua/", 1, true) ~= nil)
end

-- "file:line" of the user's call of fit (the first frame outside lurn's files), or "?".
local function user_line()
  local level = 3
  while true do
    local info = debug.getinfo(level, "Sl")
    if not info then return "?" end
    if info.what ~= "C" and info.currentline > 0 and not is_lurn_file(info.short_src) then
      return ("%s:%d"):format(info.short_src, info.currentline)
    end
    level = level + 1
  end
end

local function shape_text(t)
  local ok, shape = pcall(function() return t:shape() end)
  if not ok then return type(t) end
  return "(" .. table.concat(shape, ", ") .. ")"
end

--- The plain loss watcher used while lurn.doctor.Monitor is not available: the loss per
-- epoch; nan_loss when it becomes NaN or infinite, lr_too_high when the training loss
-- ends above where it started (it rose, not fell, over the run).
function cli.loss_watcher()
  local w = {loss = {}, val_loss = {}, report = Report.new()}
  function w.on_epoch_end(self, _, logs)
    logs = logs or {}
    if logs.loss ~= nil then self.loss[#self.loss + 1] = logs.loss end
    if logs.val_loss ~= nil then self.val_loss[#self.val_loss + 1] = logs.val_loss end
  end
  function w.finish(self, history)
    local loss = self.loss
    local nan = history and history.nan
    for _, v in ipairs(loss) do
      if not finite(v) then nan = nan or true end
    end
    local evidence = {loss_curve = loss, val_loss_curve = #self.val_loss > 0 and self.val_loss or nil}
    if nan then
      self.report:add{code = "nan_loss", severity = "error", evidence = evidence,
                      message = "the loss became NaN or infinite during training"
                        .. (type(nan) == "table" and nan.message and (": " .. nan.message) or ""),
                      fix = "lower the learning rate (optimizer = lurn.optimizers.Adam{learning_rate = 1e-4}) "
                        .. "and check the data for unscaled or non-finite values"}
    elseif #loss >= 2 and loss[#loss] > loss[1] then
      evidence.first_loss, evidence.last_loss = loss[1], loss[#loss]
      self.report:add{code = "lr_too_high", severity = "warning", evidence = evidence,
                      message = ("the training loss rose from %.4g to %.4g over %d epochs"):format(loss[1],
                        loss[#loss], #loss),
                      fix = "lower the learning rate a decade: optimizer = lurn.optimizers.Adam{learning_rate = ...}"}
    end
  end
  return w
end

-- Whether the page can be written at `path`, tried before the script runs (a long training
-- must not end in "cannot write"): an existing file opened for update, a new one created
-- and removed. -> true, or nil and the reason.
local function writable(path)
  local existing = io.open(path, "rb")
  if existing then
    existing:close()
    local f, err = io.open(path, "r+b")
    if not f then return nil, err end
    f:close()
    return true
  end
  local f, err = io.open(path, "wb")
  if not f then return nil, err end
  f:close()
  os.remove(path)
  return true
end

-- A doctor part (check_data, Monitor) when it is there, else nil.
local function part(name)
  local ok, fn = pcall(function() return require("lurn.doctor")[name] end)
  return ok and fn or nil
end

--- Watches every fit made while `fn` runs: -> fn's results (pcall's), and the list of
-- watched fits {where =, x =, y =, report =, notes = {...}}.
function cli.watch(fn, ...)
  local Model = require "lurn.models.model"
  local original = rawget(Model, "fit")
  local fits, depth = {}, 0
  local check_data, Monitor = part("check_data"), part("Monitor")
  Model.fit = function(self, x, y, opts)
    if depth > 0 then return original(self, x, y, opts) end
    local core = require "lurn.core"
    -- fit(generator, {opts}): the options come second
    local generator_form = not core.is_tensor(x) and opts == nil and type(y) == "table" and not core.is_tensor(y)
    if generator_form then opts, y = y, nil end
    local entry = {where = user_line(), x = shape_text(x), y = y and shape_text(y) or "(from the generator)",
                   report = Report.new(), notes = {}}
    fits[#fits + 1] = entry
    local o = {}
    if type(opts) == "table" then
      for k, v in pairs(opts) do o[k] = v end
    end
    -- the model as compiled: its loss, output and layers (the mistakes a newcomer makes first)
    if self.compiled and not self._io then
      local ok, r = pcall(function() return require("lurn.doctor.model_checks").check(self) end)
      if ok and type(r) == "table" and r.findings then
        entry.report:merge(r)
      elseif not ok then
        entry.notes[#entry.notes + 1] = "the model checks failed: " .. tostring(r)
      end
    end
    if check_data and core.is_tensor(x) and core.is_tensor(y) then
      -- validation_split: the two parts fit will train and validate on (its last rows)
      local xt, yt, val, sw = x, y, o.validation_data, o.sample_weight
      if val == nil and type(o.validation_split) == "number" and o.validation_split > 0 and o.validation_split < 1 then
        local n = x:size(1)
        local n_train = math.floor(n * (1.0 - o.validation_split))
        if n_train > 0 and n_train < n then
          xt, yt = x:narrow(1, 1, n_train), y:narrow(1, 1, n_train)
          val = {x:narrow(1, n_train + 1, n - n_train), y:narrow(1, n_train + 1, n - n_train)}
          if core.is_tensor(sw) then sw = sw:narrow(1, 1, n_train) end
          entry.notes[#entry.notes + 1] = ("validation_split = %g: the data checks see fit's two parts, the first %d "
            .. "rows and the last %d (fit does not shuffle before it splits)"):format(o.validation_split, n_train,
            n - n_train)
        end
      end
      local ok, r = pcall(check_data, xt, yt, {validation_data = val, class_weight = o.class_weight,
                                                sample_weight = sw, model = self.compiled and not self._io and self
                                                  or nil})
      if ok and type(r) == "table" and r.findings then
        entry.report:merge(r)
      elseif not ok then
        entry.notes[#entry.notes + 1] = "check_data failed: " .. tostring(r)
      end
    end
    local monitor
    if Monitor then
      local ok, m = pcall(Monitor)
      if ok then monitor = m else entry.notes[#entry.notes + 1] = "Monitor failed: " .. tostring(m) end
    end
    local watcher = monitor or cli.loss_watcher()
    if opts == nil or type(opts) == "table" and (o.callbacks == nil or type(o.callbacks) == "table") then
      local cbs = {}
      for i, cb in ipairs(o.callbacks or {}) do cbs[i] = cb end
      cbs[#cbs + 1] = watcher
      o.callbacks = cbs
    else
      o = opts  -- options fit will refuse: handed on unchanged, for fit's own message
    end
    depth = depth + 1
    local res
    if generator_form then
      res = table.pack(pcall(original, self, x, o))
    else
      res = table.pack(pcall(original, self, x, y, o))
    end
    depth = depth - 1
    if watcher.finish then pcall(watcher.finish, watcher, res[1] and res[2] or nil) end
    if watcher.report and watcher.report ~= entry.report then entry.report:merge(watcher.report) end
    if not res[1] then error(res[2], 0) end
    return table.unpack(res, 2, res.n)
  end
  local res = table.pack(xpcall(fn, function(e)
    if type(e) == "table" and e.doctor_exit ~= nil then return e end
    -- the script's frames only: the traceback stops where the doctor called it
    local tb = debug.traceback(type(e) == "string" and e or tostring(e), 2)
    return (tb:gsub("\n%s*%[C%]: in function 'xpcall'.*$", ""))
  end, ...))
  Model.fit = original
  return res, fits
end

-- One report of every watched fit's findings.
local function gather(fits)
  local all = Report.new()
  for i, f in ipairs(fits) do
    for _, finding in ipairs(f.report.findings) do
      if finding.fit == nil then finding.fit = i end
      all:add(finding)
    end
  end
  return all
end

--- The printed summary of the watched fits.
function cli.summary(fits)
  local lines = {"", ("== lurn doctor: %d fit(s) watched =="):format(#fits)}
  if #fits == 0 then lines[#lines + 1] = "the script made no call of fit: nothing was watched" end
  for i, f in ipairs(fits) do
    lines[#lines + 1] = ("-- fit %d at %s: x %s, y %s"):format(i, f.where, f.x, f.y)
    for _, n in ipairs(f.notes) do lines[#lines + 1] = "   note: " .. n end
    lines[#lines + 1] = tostring(f.report)
  end
  return table.concat(lines, "\n")
end

--- main(progname, ...): the command's arguments after "doctor" -> the exit status.
function cli.main(progname, ...)
  progname = progname or "lurn"
  local args = table.pack(...)
  local html, i = nil, 1
  while i <= args.n do
    local a = args[i]
    if a == "-h" or a == "--help" then
      print(USAGE)
      return 0
    elseif a == "--html" then
      html = args[i + 1]
      if not html then
        io.stderr:write(("%s doctor: '--html' needs a file name\n%s\n"):format(progname, USAGE))
        return 1
      end
      i = i + 2
    elseif a == "--" then
      i = i + 1
      break
    elseif a:sub(1, 1) == "-" and #a > 1 then
      io.stderr:write(("%s doctor: unrecognized option '%s'\n%s\n"):format(progname, a, USAGE))
      return 1
    else
      break
    end
  end
  local script = args[i]
  if not script then
    io.stderr:write(("%s doctor: give the script to run\n%s\n"):format(progname, USAGE))
    return 1
  end
  if html then
    local ok, err = writable(html)
    if not ok then
      io.stderr:write(("%s doctor: --html: cannot write the page: %s\n"):format(progname, tostring(err)))
      return 1
    end
  end
  -- arg as lua5.4 would set it for `lurn SCRIPT ARGS`: the script at 0, its arguments after
  local a = {[-i - 1] = progname}
  for k = 1, args.n do a[k - i] = args[k] end
  a[-i] = "doctor"
  for k = 1, i - 1 do a[k - i] = args[k] end
  _G.arg = a
  local chunk, err = loadfile(script)
  if not chunk then
    io.stderr:write(("%s: %s\n"):format(progname, err))
    return 1
  end
  local exit = os.exit
  os.exit = function(code) error({doctor_exit = code == nil and true or code}, 0) end
  local res, fits = cli.watch(chunk, table.unpack(args, i + 1, args.n))
  os.exit = exit
  io.stdout:flush()
  local status = 0
  if not res[1] then
    local e = res[2]
    if type(e) == "table" and e.doctor_exit ~= nil then
      local c = e.doctor_exit
      status = (c == true and 0) or (c == false and 1) or (math.tointeger(c) or 1)
    else
      io.stderr:write(("%s: %s\n"):format(progname, tostring(e)))
      io.stderr:flush()
      status = 1
    end
  end
  print(cli.summary(fits))
  if html then
    -- a heading per fit, as in the printed summary: the findings of two fits are not merged
    local groups = {}
    for k, f in ipairs(fits) do
      groups[k] = {heading = ("fit %d at %s: x %s, y %s"):format(k, f.where, f.x, f.y), notes = f.notes,
                   report = f.report}
    end
    local ok, werr = pcall(function()
      return gather(fits):write_html(html, {title = "lurn doctor: " .. script, groups = groups})
    end)
    if ok then print("report written to " .. html)
    else
      io.stderr:write(("%s doctor: %s\n"):format(progname, tostring(werr)))
      status = status ~= 0 and status or 1
    end
  end
  return status
end

return cli
