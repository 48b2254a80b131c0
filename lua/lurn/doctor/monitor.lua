--- lurn.doctor.Monitor{every = 50, warn = true} (issue 19; docs/doctor.md): a callback for
-- the user's own fit. Every `every` batches it records the per-layer statistics of that
-- training step (as LayerStats does) and checks them (dead_relu, saturation, vanishing and
-- exploding gradients); it follows the loss (nan_loss, lr_too_high when the loss diverges,
-- with a warning on stderr while training) and the validation loss (overfitting). The
-- findings are in monitor.report (a lurn.doctor report), refreshed as training goes.
local class = require "lurn.class"
local options = require "lurn.options"
local at_user_line = require "lurn.at_user_line"
local shown = require("lurn.experiments.runs").shown
local callbacks = require "lurn.training.callbacks"
local layer_stats = require "lurn.training.layer_stats"
local Report = require "lurn.doctor.report"
local training = require "lurn.doctor.training_checks"

local finite = training.finite
local Callback = callbacks.Callback

local Monitor = class(Callback)

-- The loss diverges when its mean over an epoch rises above where it started by this
-- factor: training made the model worse than it started (a rise, not noise). Where it
-- started: the first batch's loss (the untrained weights', computed before the first
-- update) for the first epoch, the first epoch's mean after: a rate far too high blows the
-- loss up within the first epoch, whose mean then holds the blow-up (wine at Adam 2: 52,
-- from 1.1).
local DIVERGE = 1.5

function Monitor.new(opts)
  options.check(opts, {"every", "warn"}, "Monitor", 3)
  opts = opts or {}
  local every = opts.every == nil and 50 or opts.every
  if math.type(every) ~= "integer" or every < 1 then
    error(("Monitor: every must be a positive integer (batches), got %s"):format(shown(every)), 3)
  end
  if opts.warn ~= nil and type(opts.warn) ~= "boolean" then
    error(("Monitor: warn must be a boolean, got %s"):format(type(opts.warn)), 3)
  end
  return setmetatable({every = every, warn = opts.warn ~= false, report = Report.new()}, Monitor)
end

function Monitor:on_train_begin()
  self.report = Report.new()
  self.stats, self.epochs, self._first_loss, self._initial_loss, self._warned = {}, {}, nil, nil, false
  -- the losses per epoch (and batch) so far, shared by the loss findings' evidence (their plot)
  self._loss_curve, self._val_loss_curve, self._batch_loss_curve = {}, {}, {}
  self._batches = 0
end

function Monitor:on_epoch_begin(epoch) self._epoch = epoch end

function Monitor:on_train_batch_begin(batch)
  self._batches = self._batches + 1
  self._recording = (self._batches == 1 or self._batches % self.every == 0) and self.model._core ~= nil
  if self._recording then self.model._core:record_stats(true) end
end

function Monitor:_warn(finding)
  if self.warn and not self._warned then
    self._warned = true
    io.stderr:write(("lurn doctor: %s (epoch %d): %s\n  fix: %s\n"):format(finding.code, (self._epoch or 0) + 1,
      finding.message, finding.fix or ""))
  end
end

-- One rate in the report: nan_loss takes lr_too_high's fix and suggested rate when both are
-- there, whichever came first (as diagnose's report does).
function Monitor:_one_rate()
  local nan, high = self.report:get("nan_loss")[1], self.report:get("lr_too_high")[1]
  if nan and high then nan.fix, nan.evidence.suggested_lr = high.fix, high.evidence.suggested_lr end
end

function Monitor:_loss(loss, where)
  if not finite(loss) then
    if not self.report:has("nan_loss") then
      local epoch = (self._epoch or 0) + 1
      self.report:add{code = "nan_loss", severity = "error",
                      evidence = {epoch = epoch, batch = where, loss = training.shown(loss),
                                  loss_curve = self._batch_loss_curve, loss_x_label = "batch"},
                      message = ("the training loss became %s at epoch %d, batch %d"):format(training.shown(loss), epoch,
                        where),
                      fix = "a lower learning_rate, clipnorm = 1.0 in the optimizer, and scaled inputs"}
      self:_one_rate()
      self:_warn(self.report:get("nan_loss")[1])
    end
    return
  end
  local base = self._first_loss or self._initial_loss
  if self._first_loss == nil then self._first_loss = loss end
  if base and loss > DIVERGE * base and not self.report:has("lr_too_high") then
    local lr = self.model.optimizer and self.model.optimizer.learning_rate
    self:_warn(self.report:add{code = "lr_too_high", severity = "warning",
                               evidence = {first_loss = base, loss = loss, learning_rate = lr,
                                           loss_curve = self._loss_curve, val_loss_curve = self._val_loss_curve},
                               message = ("the training loss diverges: %.4g over epoch %d, up from %.4g %s"):format(
                                 loss, (self._epoch or 0) + 1, base, base == self._initial_loss
                                 and "on the first batch (the untrained model)" or "over the first epoch"),
                               fix = type(lr) == "number" and ("learning_rate = %g"):format(lr / 10)
                                 or "a lower learning_rate"})
    if type(lr) == "number" then self.report:get("lr_too_high")[1].evidence.suggested_lr = lr / 10 end
    self:_one_rate()
  end
end

function Monitor:on_train_batch_end(batch, logs)
  if self._recording then
    self._recording = false
    self.model._core:record_stats(false)
    local rows = layer_stats.rows(self.model)
    self.stats[#self.stats + 1] = rows
    local when = ("at epoch %d, batch %d"):format((self._epoch or 0) + 1, batch + 1)
    local out = rows[#rows] and rows[#rows].name
    -- the first batch is the initialization; a unit dead later may have died in training
    -- a batch is a sample of the data: a share counts when two recordings in a row show it
    local prev = self.stats[#self.stats - 1]
    if prev then
      local lasting = {}
      for i, r in ipairs(rows) do
        local p = prev[i] or {}
        local function low(a, b) return (finite(a) and finite(b)) and math.min(a, b) or nil end
        lasting[i] = {name = r.name, act_mean = r.act_mean, act_std = r.act_std,
                      dead_fraction = low(r.dead_fraction, p.dead_fraction),
                      saturated_fraction = low(r.saturated_fraction, p.saturated_fraction)}
      end
      training.activations(self.report, lasting, out, when)
    end
    training.depth(self.report, rows, when)
    training.growth(self.report, self.stats)
    for _, code in ipairs{"exploding_gradients"} do
      if self.report:has(code, "error") then self:_warn(self.report:get(code)[1]) end
    end
  end
  if logs and logs.loss ~= nil then
    self._batch_loss_curve[#self._batch_loss_curve + 1] = logs.loss
    if self._initial_loss == nil and finite(logs.loss) then self._initial_loss = logs.loss end
    if not finite(logs.loss) then self:_loss(logs.loss, batch + 1) end
  end
end

function Monitor:on_epoch_end(epoch, logs)
  logs = logs or {}
  self.epochs[#self.epochs + 1] = {step = epoch + 1, epoch = epoch + 1, train = logs.loss, val = logs.val_loss}
  if logs.loss ~= nil then self._loss_curve[#self._loss_curve + 1] = logs.loss end
  if logs.val_loss ~= nil then self._val_loss_curve[#self._val_loss_curve + 1] = logs.val_loss end
  if logs.loss ~= nil then self:_loss(logs.loss, nil) end
  if self.report:has("overfitting") then return end
  local pts = {}
  for _, p in ipairs(self.epochs) do if p.val then pts[#pts + 1] = p end end
  training.overfitting(self.report, pts)
  -- the page plots the whole run: the curves that grow with it, when every epoch validated
  local f = self.report:get("overfitting")[1]
  if f and #self._val_loss_curve == #self._loss_curve then
    local e = f.evidence
    e.loss_curve, e.val_loss_curve, e.loss_steps = self._loss_curve, self._val_loss_curve, nil
  end
end

function Monitor:on_train_end()
  if self.model and self.model._core then self.model._core:record_stats(false) end
end

-- argument errors at the line that made the monitor, however it is called
local new = at_user_line(Monitor.new)
setmetatable(Monitor, {__index = Callback, __call = function(_, opts) return new(opts) end})

return {Monitor = new, class = Monitor}
