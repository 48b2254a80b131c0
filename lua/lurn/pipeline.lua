--- lurn.pipeline: scikit-learn's Pipeline, a chain of preprocessing steps ending in an
-- estimator, fitted and applied as one (sklearn/pipeline.py).
--
--   local pipe = lurn.pipeline.Pipeline{{"scale", StandardScaler()}, {"model", model}}
--   pipe:fit(x_train, y_train, {epochs = 10})   -- scale:fit_transform, then model:fit
--   pipe:predict(x_test)                        -- scale:transform, then model:predict
--
-- The point is cross-validation: lurn.model_selection.cross_val_score(function() return
-- make_pipeline(StandardScaler(), build_model()) end, x, y) fits the scaler inside each
-- fold on that fold's training samples only, so the held-out samples' statistics never
-- reach the model (fitting the scaler on all of x first would leak them and flatter the
-- score).
--
-- Intermediate steps are transformers (fit and transform), or samplers (fit_resample:
-- lurn.sampling's SMOTE...), which, as in imbalanced-learn's Pipeline, resample the
-- training data in fit and are skipped when predicting. The last step is anything with
-- fit: a compiled model, or another transformer. "passthrough" stands for a step that
-- does nothing.
local class = require "lurn.class"
local text = require "lurn.text"

local pipeline = {}

local Pipeline = class()
Pipeline.class_name = "Pipeline"
pipeline.Pipeline = Pipeline

local PASSTHROUGH = "passthrough"

local function has(obj, method) return type(obj) == "table" and type(obj[method]) == "function" end

local function is_sampler(step) return has(step, "fit_resample") and not has(step, "transform") end

local function describe(v)
  if type(v) == "table" then
    local mt = getmetatable(v)
    return v.class_name or (mt and mt.class_name) or "table"
  end
  return type(v)
end

-- Checks the steps the way scikit-learn's Pipeline._validate_steps does: unique names
-- without "__", transformers in the middle, something with fit at the end.
local function validate(steps, level)
  local who = "Pipeline"
  if type(steps) ~= "table" or #steps == 0 then
    error(who .. ": steps must be a non-empty list of {name, estimator} pairs", level + 1)
  end
  local seen = {}
  for i, step in ipairs(steps) do
    if type(step) ~= "table" or type(step[1]) ~= "string" or step[2] == nil then
      error(("%s: step %d must be a {name, estimator} pair, got %s"):format(who, i, describe(step)), level + 1)
    end
    local name, est = step[1], step[2]
    if name == "" or name:find("__", 1, true) then
      error(("%s: step %d's name '%s' must be non-empty and must not contain '__'"):format(who, i, name), level + 1)
    end
    if seen[name] then
      error(("%s: names provided are not unique: '%s' is the name of steps %d and %d"):format(who, name, seen[name], i),
        level + 1)
    end
    seen[name] = i
    if est ~= PASSTHROUGH then
      if i < #steps and not (has(est, "fit") and has(est, "transform") or has(est, "fit_resample")) then
        error(("%s: all intermediate steps should be transformers (fit and transform) or samplers (fit_resample); "
          .. "step %d '%s' is a %s"):format(who, i, name, describe(est)), level + 1)
      end
      if i == #steps and not has(est, "fit") then
        error(("%s: the last step '%s' must have fit (a compiled model or a transformer), got a %s"):format(who,
          name, describe(est)), level + 1)
      end
    end
  end
end

--- Pipeline{{name, step}, ...} (or Pipeline.new): the steps, in order. pipe.steps is the
-- list of pairs, pipe.named_steps the steps by name.
local function construct(steps, level)
  validate(steps, level + 1)
  local self = setmetatable({steps = {}, named_steps = {}}, Pipeline)
  for i, step in ipairs(steps) do
    self.steps[i] = {step[1], step[2]}
    self.named_steps[step[1]] = step[2]
  end
  return self
end

-- not tail calls, so that errors point at the caller of either form
Pipeline.new = function(steps)
  local self = construct(steps, 2)
  return self
end
setmetatable(Pipeline, {__call = function(_, steps)
  local self = construct(steps, 2)
  return self
end})

--- make_pipeline(step, ...): a Pipeline whose names are the lower-case class names of the
-- steps ("standardscaler", "sequential"), numbered "-1", "-2"... where two share one.
function pipeline.make_pipeline(...)
  local ests = table.pack(...)
  if ests.n == 0 then error("make_pipeline: give at least one step", 2) end
  local names, count = {}, {}
  for i = 1, ests.n do
    if ests[i] == nil then error(("make_pipeline: step %d is nil"):format(i), 2) end
    names[i] = ests[i] == PASSTHROUGH and PASSTHROUGH or describe(ests[i]):lower()
    count[names[i]] = (count[names[i]] or 0) + 1
  end
  local steps, seen = {}, {}
  for i = 1, ests.n do
    local name = names[i]
    if count[name] > 1 then
      seen[name] = (seen[name] or 0) + 1
      name = name .. "-" .. seen[name]
    end
    steps[i] = {name, ests[i]}
  end
  local self = construct(steps, 2)
  return self
end

--- The last step (the estimator), or nil for "passthrough".
function Pipeline:final_estimator()
  local est = self.steps[#self.steps][2]
  if est == PASSTHROUGH then return nil end
  return est
end

-- The name of the step at position i, for messages.
function Pipeline:_where(i, method)
  return ("Pipeline.%s: step %d '%s'"):format(method, i, self.steps[i][1])
end

-- Calls obj[method](obj, ...); an error becomes "Pipeline.<m>: step i 'name': message" at
-- the pipeline caller's line.
local function call_step(self, i, method, pipeline_method, level, ...)
  local est = self.steps[i][2]
  local results = table.pack(pcall(est[method], est, ...))
  if not results[1] then
    local msg = text.message(results[2])
    error(self:_where(i, pipeline_method) .. ": " .. msg, level + 1)
  end
  return table.unpack(results, 2, results.n)
end

-- Fits steps 1..n-1 on (x, y) and returns what the last step gets: fit_transform on the
-- transformers, fit_resample on the samplers (which may change y too).
local function fit_intermediate(self, x, y, level, method)
  for i = 1, #self.steps - 1 do
    local est = self.steps[i][2]
    if est ~= PASSTHROUGH then
      if is_sampler(est) then
        x, y = call_step(self, i, "fit_resample", method, level + 1, x, y)
      elseif has(est, "fit_transform") then
        x = call_step(self, i, "fit_transform", method, level + 1, x, y)
      else
        call_step(self, i, "fit", method, level + 1, x, y)
        x = call_step(self, i, "transform", method, level + 1, x)
      end
    end
  end
  return x, y
end

-- Applies the fitted steps 1..n-1 to x (samplers are skipped: they act on training data).
local function transform_intermediate(self, x, level, method)
  for i = 1, #self.steps - 1 do
    local est = self.steps[i][2]
    if est ~= PASSTHROUGH and not is_sampler(est) then x = call_step(self, i, "transform", method, level + 1, x) end
  end
  return x
end

-- fit's options for the last step: a model's validation_data goes through the fitted
-- steps first, like any data the model sees.
local function final_fit_options(self, opts, level)
  if type(opts) ~= "table" or type(opts.validation_data) ~= "table" then return opts end
  local out = {}
  for k, v in pairs(opts) do out[k] = v end
  local vd = {}
  for k, v in pairs(opts.validation_data) do vd[k] = v end
  vd[1] = transform_intermediate(self, vd[1], level + 1, "fit")
  out.validation_data = vd
  return out
end

--- pipe:fit(x, y [, options]) -> pipe: fit_transform (or fit_resample) each intermediate
-- step on the output of the one before, then fit the last step; options go to the last
-- step's fit (a model's epochs, batch_size, ...). What the last step's fit returned (a
-- model's History) is kept as pipe.history.
function Pipeline:fit(x, y, opts)
  local xt, yt = fit_intermediate(self, x, y, 2, "fit")
  local last = self:final_estimator()
  if last then
    local result = call_step(self, #self.steps, "fit", "fit", 2, xt, yt, final_fit_options(self, opts, 2))
    self.history = result ~= last and result or nil
  end
  return self
end

--- pipe:transform(x): every step's transform (the last step must be a transformer).
function Pipeline:transform(x)
  local last = self:final_estimator()
  if last and not has(last, "transform") then
    error(("Pipeline.transform: the last step '%s' (a %s) has no transform"):format(self.steps[#self.steps][1],
      describe(last)), 2)
  end
  x = transform_intermediate(self, x, 2, "transform")
  if last then x = call_step(self, #self.steps, "transform", "transform", 2, x) end
  return x
end

--- pipe:fit_transform(x, y): fit then transform in one pass, each step's fit_transform.
function Pipeline:fit_transform(x, y, opts)
  local last = self:final_estimator()
  if last and not has(last, "transform") then
    error(("Pipeline.fit_transform: the last step '%s' (a %s) has no transform"):format(self.steps[#self.steps][1],
      describe(last)), 2)
  end
  local xt, yt = fit_intermediate(self, x, y, 2, "fit_transform")
  if not last then return xt end
  if has(last, "fit_transform") then
    return call_step(self, #self.steps, "fit_transform", "fit_transform", 2, xt, yt)
  end
  call_step(self, #self.steps, "fit", "fit_transform", 2, xt, yt, opts)
  return call_step(self, #self.steps, "transform", "fit_transform", 2, xt)
end

-- Runs method on the last step after transforming x through the others.
local function on_last(self, method, x, ...)
  local last = self:final_estimator()
  if not has(last, method) then
    error(("Pipeline.%s: the last step '%s' (a %s) has no %s"):format(method, self.steps[#self.steps][1],
      describe(last), method), 3)
  end
  local xt = transform_intermediate(self, x, 3, method)
  return call_step(self, #self.steps, method, method, 3, xt, ...)
end

--- pipe:predict(x [, options]): transform through the fitted steps, then the last step's
-- predict.
function Pipeline:predict(x, opts)
  local out = on_last(self, "predict", x, opts)
  return out
end

--- pipe:evaluate(x, y [, options]): a model's evaluate on the transformed x (the
-- dictionary of loss and metrics); cross_val_score scores a Pipeline through it.
function Pipeline:evaluate(x, y, opts)
  local out = on_last(self, "evaluate", x, y, opts)
  return out
end

--- pipe:score(x, y): the last step's score on the transformed x, or for a model its
-- accuracy from evaluate (compile it with metrics = {"accuracy"}).
function Pipeline:score(x, y, opts)
  local last = self:final_estimator()
  if has(last, "score") then
    local out = on_last(self, "score", x, y, opts)
    return out
  end
  if has(last, "evaluate") then
    local logs = on_last(self, "evaluate", x, y, opts or {verbose = 0})
    if logs.accuracy == nil then
      error(("Pipeline.score: the last step '%s' has no score(), and its evaluate() gives no accuracy: compile it "
        .. "with metrics = {\"accuracy\"}, or use pipe:evaluate(x, y)"):format(self.steps[#self.steps][1]), 2)
    end
    return logs.accuracy
  end
  error(("Pipeline.score: the last step '%s' (a %s) has neither score nor evaluate"):format(self.steps[#self.steps][1],
    describe(last)), 2)
end

function Pipeline:__tostring()
  local parts = {}
  for i, step in ipairs(self.steps) do
    local est = step[2]
    parts[i] = ("{'%s', %s}"):format(step[1], type(est) == "string" and ("'" .. est .. "'") or describe(est))
  end
  return "Pipeline{" .. table.concat(parts, ", ") .. "}"
end

-- ---- saving --------------------------------------------------------------------------------------

--- pipe:get_state() -> plain data: {class = "Pipeline", version = 1, steps = {{name,
-- state}, ...}}, each step's get_state() ("passthrough" stays a string). Every step must
-- have get_state: lurn's preprocessing and samplers do; models are saved their own way.
function Pipeline:get_state()
  local steps = {}
  for i, step in ipairs(self.steps) do
    local est = step[2]
    if est == PASSTHROUGH then
      steps[i] = {step[1], PASSTHROUGH}
    elseif not has(est, "get_state") then
      error(("Pipeline.get_state: step %d '%s' (a %s) has no get_state"):format(i, step[1], describe(est)), 2)
    else
      steps[i] = {step[1], call_step(self, i, "get_state", "get_state", 2)}
    end
  end
  return {class = "Pipeline", version = 1, steps = steps}
end

--- pipeline.from_state(state [, options]) -> the Pipeline get_state described, each step
-- rebuilt by lurn.preprocessing.from_state; options (by step name) give a step's options
-- that the state could not hold: {smote = {sampling_strategy = fn}}.
function pipeline.from_state(state, options)
  if type(state) ~= "table" or state.class ~= "Pipeline" or type(state.steps) ~= "table" then
    error("Pipeline.from_state: expected a table from pipe:get_state()", 2)
  end
  if state.version ~= nil and state.version ~= 1 then
    error(("Pipeline.from_state: state version %s is newer than this lurn reads (1)"):format(tostring(state.version)),
      2)
  end
  if options ~= nil and type(options) ~= "table" then
    error("Pipeline.from_state: options must be a table of step options by step name, got " .. type(options), 2)
  end
  local from_state = require("lurn.preprocessing").from_state
  local steps = {}
  for i, step in ipairs(state.steps) do
    if type(step) ~= "table" or type(step[1]) ~= "string" then
      error(("Pipeline.from_state: step %d is not a {name, state} pair"):format(i), 2)
    end
    local est = step[2]
    if est ~= PASSTHROUGH then
      local ok, obj = pcall(from_state, est, options and options[step[1]])
      if not ok then error(("Pipeline.from_state: step %d '%s': %s"):format(i, step[1],
        text.message(obj)), 2) end
      est = obj
    end
    steps[i] = {step[1], est}
  end
  local self = construct(steps, 2)
  return self
end
Pipeline.from_state = pipeline.from_state

--- True for a Pipeline.
function pipeline.is_pipeline(x) return getmetatable(x) == Pipeline end

return pipeline
