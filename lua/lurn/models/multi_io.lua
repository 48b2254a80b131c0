--- Functional models of several inputs or outputs (lists, as Keras'). The C model takes
-- one x and one y, so the data lists are packed side by side, each tensor flattened per
-- sample (x: (N, sum of the inputs' sizes)), and predictions unpacked again; the C graph
-- reads and writes them packed (src/layers/graph.c). compile takes a loss, loss_weights
-- and metrics per output as Keras 2 does (one for all, a list in output order, or a table
-- by output name), and the logs name them as Keras 2: "loss" (the weighted sum, with the
-- penalties), "<output>_loss" (each output's own), "<output>_<metric>".
local core = require "lurn.core"
local losses = require "lurn.losses"
local metrics_lib = require "lurn.metrics"
local symbolic = require "lurn.symbolic"
local text = require "lurn.text"
local shapes = require "lurn.shape"

local multi_io = {}

local numel = require("lurn.shape").numel

local function copy(list) return table.move(list, 1, #list, 1, {}) end

-- The ports of a list of symbolic tensors: name (the layer's; a name met again gets _1,
-- _2, ... as Keras 2 names the outputs of one layer), per-sample shape and size, offset in
-- the packed tensor.
local function ports(tensors)
  local list, used, offset = {}, {}, 0
  for i, t in ipairs(tensors) do
    local name, count = t.layer.name, 0
    while used[name] do
      count = count + 1
      name = t.layer.name .. "_" .. count
    end
    used[name] = true
    list[i] = {name = name, shape = copy(t.shape), size = numel(t.shape), offset = offset}
    offset = offset + list[i].size
  end
  return list, offset
end

--- Called by Functional.new for several inputs or outputs: Keras' input_shape and
-- output_shape (lists of shapes), input_names and output_names, and the packed shapes.
function multi_io.setup(model, inputs, outputs)
  local ins, in_total = ports(inputs)
  local outs, out_total = ports(outputs)
  model._io = {inputs = ins, outputs = outs}
  -- one input (or output) goes as it is: only several are packed (src/layers/graph.c)
  model._packed_input_shape = #ins == 1 and copy(ins[1].shape) or {in_total}
  model._packed_output_shape = #outs == 1 and copy(outs[1].shape) or {out_total}
  model.input_shape, model.output_shape, model.input_names, model.output_names = {}, {}, {}, {}
  for j, p in ipairs(ins) do model.input_shape[j], model.input_names[j] = copy(p.shape), p.name end
  for k, p in ipairs(outs) do model.output_shape[k], model.output_names[k] = copy(p.shape), p.name end
  -- as Keras: one input's (output's) shape is the shape itself, not a list of one
  if #ins == 1 then model.input_shape = model.input_shape[1] end
  if #outs == 1 then model.output_shape = model.output_shape[1] end
end

local function names_of(list)
  local names = {}
  for i, p in ipairs(list) do names[i] = p.name end
  return table.concat(names, ", ")
end

-- The entries of `v` for each port: a list in port order, or a table keyed by port names
-- (Keras' dicts). A lone value is one entry (for one port); `broadcast` lets a lone value
-- stand for every port; `partial` lets a table name only some ports (the others nil).
local function per_port(v, list, what, level, broadcast, partial)
  local one = type(v) ~= "table" or core.is_tensor(v) or getmetatable(v) ~= nil or v.kind or v.update
  if one then
    if #list == 1 or broadcast then
      local all = {}
      for i = 1, #list do all[i] = v end
      return all
    end
    error(("%s: the model has %d %s (%s): give a list of %d, one per %s, or a table by name"):format(what, #list,
      list.plural, names_of(list), #list, list.singular), level + 1)
  end
  local out, n = {}, 0
  for key in pairs(v) do
    n = n + 1
    if math.type(key) ~= "integer" then
      local found
      for i, p in ipairs(list) do if p.name == key then found = i end end
      if not found then
        error(("%s: no %s named '%s' (%s: %s)"):format(what, list.singular, tostring(key), list.plural,
          names_of(list)), level + 1)
      end
      out[found] = v[key]
    elseif key < 1 or key > #list then
      error(("%s: the model has %d %s, got an entry at position %d"):format(what, #list, list.plural, key), level + 1)
    else
      out[key] = v[key]
    end
  end
  if n ~= #list and not partial then
    error(("%s: the model has %d %s (%s), got %d"):format(what, #list, list.plural, names_of(list), n), level + 1)
  end
  return out
end

local function port_list(model, which)
  local list = model._io[which]
  list.plural, list.singular = which, which:sub(1, -2)
  return list
end

-- Packs `v` (a list of tensors, or a table by name) for the ports of `which` side by side:
-- (N, sum of widths); one port's tensor goes as it is. width(t, p, k, n) raises unless t (of
-- n samples) fits port p (the k-th) and gives its width. `what` names the caller and `name`
-- the data ("x", "y") in errors.
local function pack(model, which, v, what, name, level, width)
  local list = port_list(model, which)
  local vs = per_port(v, list, what .. ": " .. name, level + 1)
  local parts, n = {}, nil
  for k, p in ipairs(list) do
    local t = vs[k]
    if not core.is_tensor(t) then
      error(("%s: %s for %s '%s' must be a tensor, got %s"):format(what, name, list.singular, p.name,
        symbolic.describe(t)), level + 1)
    end
    n = n or (t:dim() > 0 and t:size(1) or 0)
    local w = width(t, p, k, n)
    parts[k] = #list == 1 and t:contiguous() or t:contiguous():reshape{n, w}
  end
  return #parts == 1 and parts[1] or core.cat(parts, 2)
end

--- The inputs x (a list of tensors, or a table by input name) packed as the C model takes
-- them, checked against the inputs' shapes: (N, sum of sizes). `what` names the caller.
function multi_io.pack_inputs(model, x, what, level)
  return pack(model, "inputs", x, what, "x", level + 1, function(t, p, _, n)
    local s = t:shape()
    local sample = table.move(s, 2, #s, 1, {})
    if #s < 2 or s[1] ~= n or not shapes.same(sample, p.shape) then
      error(("%s: x for input '%s' has shape %s; expected %s%s"):format(what, p.name, text.shape(s),
        text.batch_shape(p.shape), s[1] ~= n and (" with " .. n .. " samples, as the first input") or ""), level + 3)
    end
    return p.size
  end)
end

-- The loss of output k: one of several, or the model's one loss (one output, several
-- inputs: the model's loss as for any model, fused with the output's softmax in C).
local function loss_of(model, k)
  return model.loss.outputs and model.loss.outputs[k].loss or model.loss
end

-- A target's width in the packed y: a label per row of the output's last axis for a
-- sparse cross-entropy, else one value per output value (what src/layers/graph.c reads).
local function target_width(p, loss)
  if loss.kind == "sparse_categorical_crossentropy" then return p.size // p.shape[#p.shape] end
  return p.size
end

--- The targets y (a list of tensors, or a table by output name) packed after compile's
-- losses: (N, sum of the targets' widths).
function multi_io.pack_targets(model, y, what, level)
  return pack(model, "outputs", y, what, "y", level + 1, function(t, p, k, n)
    local width = target_width(p, loss_of(model, k))
    if t:dim() < 1 or t:size(1) ~= n or t:numel() ~= n * width then
      error(("%s: y for output '%s' has shape %s; the output is %s and its loss (%s) takes %d value%s per sample%s")
        :format(what, p.name, text.shape(t:shape()), text.batch_shape(p.shape), loss_of(model, k).name,
          width, width == 1 and "" or "s", t:size(1) ~= n and (" and " .. n .. " samples, as the first") or ""),
        level + 3)
    end
    return width
  end)
end

--- The packed predictions (N, sum of sizes) as a list of tensors, one per output (one
-- output: its tensor, as Keras).
function multi_io.unpack_outputs(model, packed)
  if #model._io.outputs == 1 then return packed end
  local n, list = packed:size(1), {}
  for k, p in ipairs(model._io.outputs) do
    local shape = {n}
    for _, s in ipairs(p.shape) do shape[#shape + 1] = s end
    list[k] = packed:narrow(2, p.offset + 1, p.size):contiguous():reshape(shape)
  end
  return list
end

-- The columns of output k's targets in the packed y: offset, width.
local function target_columns(model, k)
  local offset = 0
  for i = 1, k - 1 do offset = offset + target_width(model._io.outputs[i], loss_of(model, i)) end
  return offset, target_width(model._io.outputs[k], loss_of(model, k))
end

--- compile's loss, loss_weights and metrics, per output: model.loss becomes the loss the
-- C model takes ({outputs = {{loss =, weight =}, ...}}), model._output_metric_specs the
-- metric specs of each output.
function multi_io.compile(model, opts, level)
  local list = port_list(model, "outputs")
  local given = per_port(opts.loss, list, "compile: loss", level + 1, true)
  -- as Keras 2, loss_weights and metrics may name some outputs only (weight 1, no metrics)
  local weights = opts.loss_weights and per_port(opts.loss_weights, list, "compile: loss_weights", level + 1, false,
    true) or {}
  local loss = {outputs = {}, name = "multi_output"}
  for k, p in ipairs(list) do
    if given[k] == nil then error(("compile: no loss for output '%s'"):format(p.name), level + 1) end
    local w = weights[k] == nil and 1 or weights[k]
    if type(w) ~= "number" or w ~= w or w == math.huge or w == -math.huge then
      error(("compile: loss_weights for output '%s' must be a finite number, got %s"):format(p.name, tostring(w)),
        level + 1)
    end
    loss.outputs[k] = {loss = losses.get(given[k]), weight = w}
  end
  model.loss = #list > 1 and loss or loss.outputs[1].loss
  if #list == 1 and loss.outputs[1].weight ~= 1 then
    error("compile: loss_weights weigh the losses of several outputs; this model has one", level + 1)
  end
  -- metrics: a flat list of names applies to every output (Keras 2 broadcasts it); a list
  -- of lists or a table by output name gives each its own
  local specs = opts.metrics or {}
  if type(specs) ~= "table" then error("compile: metrics must be a list", level + 1) end
  local nested = false
  for key, v in pairs(specs) do
    if math.type(key) ~= "integer" or (type(v) == "table" and not v.update) then nested = true end
  end
  local per = {}
  if nested then
    per = per_port(specs, list, "compile: metrics", level + 1, false, true)
  else
    for k = 1, #list do per[k] = specs end
    if #list > 1 then
      for _, spec in ipairs(specs) do
        if type(spec) == "table" then
          error("compile: a metric object cannot be shared by several outputs: give a list of metrics per output "
            .. "(or a table by output name)", level + 1)
        end
      end
    end
  end
  model._output_metric_specs = {}
  for k, p in ipairs(list) do
    local s = per[k] or {}
    if type(s) ~= "table" or s.update then s = {s} end
    for _, spec in ipairs(s) do metrics_lib.get(spec, loss.outputs[k].loss.kind) end
    model._output_metric_specs[k] = s
  end
  model._metric_specs = #list == 1 and model._output_metric_specs[1] or {}
end

-- A metric of one output: the output's columns of the packed predictions and targets go
-- to the inner metric; its log keys are prefixed with the output's name.
local OutputMetric = {}
OutputMetric.__index = OutputMetric

function OutputMetric:reset() self.inner:reset() end
function OutputMetric:result() return self.inner:result() end
function OutputMetric:_state() return metrics_lib._state(self.inner) end
function OutputMetric:_set_state(s) metrics_lib._set_state(self.inner, s) end
function OutputMetric:log_keys()
  local keys = {}
  for i, key in ipairs(metrics_lib._log_keys(self.inner)) do keys[i] = self.prefix .. key end
  return keys
end
function OutputMetric:update(pred, y, sw)
  if not self.several then return self.inner:update(pred, y, sw) end  -- the one output: all of it
  local n = pred:size(1)
  local shape = {n}
  for _, s in ipairs(self.port.shape) do shape[#shape + 1] = s end
  local p = pred:narrow(2, self.port.offset + 1, self.port.size):contiguous():reshape(shape)
  local t = y:narrow(2, self.y_offset + 1, self.y_width):contiguous()
  -- the padded steps of an output that carries a mask count for nothing, as its loss
  metrics_lib._update({self.inner}, p, t, sw, self.core:output_mask(self.k))
end

-- An output's loss as Keras 2 logs it: the mean over the batches of that output's loss
-- (weighted by batch size), read from the loss table the C step fills.
local OutputLoss = {}
OutputLoss.__index = OutputLoss
function OutputLoss:reset() self.num, self.den = 0, 0 end
function OutputLoss:result() return self.den > 0 and self.num / self.den or 0 end
function OutputLoss:_state() return {self.num, self.den} end
function OutputLoss:_set_state(s) self.num, self.den = s[1], s[2] end
function OutputLoss:update(pred)
  local n = pred:size(1)
  self.num, self.den = self.num + self.entry.value * n, self.den + n
end

--- The metrics of one pass: each output's loss, then each output's metrics (named as
-- Keras 2 names them: with one output, as for any model: "accuracy", no "<output>_loss").
function multi_io.new_metrics(model)
  local list, several = {}, #model._io.outputs > 1
  for k, p in ipairs(several and model._io.outputs or {}) do
    local m = setmetatable({name = p.name .. "_loss", entry = model.loss.outputs[k]}, OutputLoss)
    m:reset()
    list[#list + 1] = m
  end
  for k, p in ipairs(model._io.outputs) do
    local y_offset, y_width = target_columns(model, k)
    local prefix = several and (p.name .. "_") or ""
    for _, spec in ipairs(model._output_metric_specs[k]) do
      local inner = metrics_lib.get(spec, loss_of(model, k).kind, p.shape[#p.shape])
      if type(spec) == "table" then inner:reset() end
      list[#list + 1] = setmetatable({name = prefix .. inner.name, inner = inner, port = p, prefix = prefix,
                                      y_offset = y_offset, y_width = y_width, k = k, several = several,
                                      core = model._core}, OutputMetric)
    end
  end
  return list
end

--- The packed targets of every sparse cross-entropy output, checked as labels (0-based
-- class numbers below the output's width) by check(labels, classes, what).
function multi_io.check_labels(model, y, what, check)
  for k, p in ipairs(model._io.outputs) do
    if loss_of(model, k).kind == "sparse_categorical_crossentropy" then
      local offset, width = target_columns(model, k)
      check(y:narrow(2, offset + 1, width):contiguous(), p.shape[#p.shape], ("%s (output '%s')"):format(what, p.name))
    end
  end
end

return multi_io
