--- The doctor's static checks of a compiled model (issue 19; docs/doctor.md, "Findings"):
-- read from its layers' configs and weights and its loss, no training.
--   loss_output_mismatch     the output activation and the loss disagree
--   symmetric_initialization a hidden layer's kernel holds one value: its units start alike
--   no_nonlinearity          kernel layers stacked with nothing nonlinear between them
--   bottleneck               a hidden layer narrower than the output needs
-- Internal: lurn.doctor.diagnose calls check(model) -> a report.
local Report = require "lurn.doctor.report"

local checks = {}

-- Layers with a kernel whose output is a linear map of their input before the activation.
local KERNEL = {Dense = true, Conv1D = true, Conv2D = true, DepthwiseConv2D = true}
-- Layers that apply an activation of their own (the Activation family).
local ACTIVATION = {Activation = true, ReLU = true, LeakyReLU = true, ELU = true, Softmax = true}
-- Layers that keep a linear map linear (rearranging, scaling, averaging, or an identity at
-- inference): they neither add a nonlinearity nor break a chain of linear kernels.
local LINEAR = {Dropout = true, Flatten = true, Reshape = true, BatchNormalization = true, InputLayer = true,
                AveragePooling1D = true, AveragePooling2D = true, GlobalAveragePooling1D = true,
                GlobalAveragePooling2D = true, ZeroPadding2D = true, UpSampling2D = true, SpatialDropout1D = true,
                SpatialDropout2D = true, GaussianNoise = true, Permute = true, RepeatVector = true}

-- The layers that run, containers expanded (as layer_stats lists them).
local function leaves(layers, out)
  for _, layer in ipairs(layers) do
    if layer._sublayers then
      leaves(layer:_sublayers(), out)
    elseif layer.layers then
      leaves(layer.layers, out)
    else
      out[#out + 1] = layer
    end
  end
  return out
end
checks.leaves = leaves

-- The last dimension of a shape (units, channels), or nil.
local function width_of(shape)
  if type(shape) ~= "table" then return nil end
  local w = shape[#shape]
  return math.type(w) == "integer" and w or nil
end

-- The values a layer's output holds per sample (the product of its output shape), or nil.
local function values_of(shape)
  if type(shape) ~= "table" or #shape == 0 then return nil end
  local n = 1
  for _, d in ipairs(shape) do
    if math.type(d) ~= "integer" then return nil end
    n = n * d
  end
  return n
end

--- The model's chain of layers seen by the checks: one entry per kernel layer {layer =,
-- name =, activation = (its effective activation: its own, or that of an Activation layer
-- right after it when its own is linear), width = (units or channels), passes = (the
-- fewest values per sample it and the layers up to the next kernel layer pass on: a
-- convolution passes its whole feature map, a global pooling after it only its channels),
-- kernel = (its first weight tensor or nil)}, and whether something nonlinear that is not
-- an activation (a pooling max, a recurrent layer, a merge) came after it: `broken_after`.
function checks.chain(model)
  local list = {}
  for _, layer in ipairs(leaves(model.layers, {})) do
    local cls = layer.class_name
    local last = list[#list]
    local values = values_of(layer.output_shape)
    if KERNEL[cls] then
      local w = layer.built and layer:get_weights() or {}
      list[#list + 1] = {layer = layer, name = layer.name, class_name = cls, activation = layer.activation or "linear",
                         width = width_of(layer.output_shape) or layer.units or layer.filters, passes = values,
                         kernel = w[1], bias = w[2]}
    else
      if last and not last.broken_after and values and last.passes then last.passes = math.min(last.passes, values) end
      if ACTIVATION[cls] then
        if last and last.activation == "linear" and not last.broken_after then last.activation = layer.activation end
      elseif not LINEAR[cls] then
        if last then last.broken_after = true end
        if #list == 0 then list.before = true end
      end
    end
  end
  return list
end

local NONLINEAR_OUTPUT = {softmax = true, sigmoid = true}

-- loss_output_mismatch: the loss reads the output as what the activation does not make.
local function check_loss_output(model, chain, report)
  local loss = model.loss
  if type(loss) ~= "table" or not loss.kind then return end
  local out = chain[#chain]
  if not out or out.broken_after then return end
  local act, units = out.activation, width_of(model.output_shape) or out.width
  local kind, logits = loss.kind, loss.from_logits
  local evidence = {activation = act, loss = kind, from_logits = logits and "true" or "false", units = units}
  local function add(severity, message, fix)
    report:add{code = "loss_output_mismatch", severity = severity, layer = out.name, evidence = evidence,
               message = message, fix = fix}
  end
  local categorical = kind == "categorical_crossentropy" or kind == "sparse_categorical_crossentropy"
  if categorical then
    if units == 1 then
      return add("error", ("%s over a single output unit: a softmax of one value is always 1, the loss is constant "
        .. "and nothing is learned"):format(kind),
        "for two classes use Dense(1, {activation = \"sigmoid\"}) with loss = \"binary_crossentropy\"; "
        .. "for C classes Dense(C, {activation = \"softmax\"})")
    end
    if logits and NONLINEAR_OUTPUT[act] then
      return add("error", ("the output is already probabilities (%s) but the loss has from_logits = true: it applies "
        .. "a softmax again, squashing them into a nearly uniform distribution"):format(act),
        ("Dense(%d) (linear) with from_logits = true, or keep %s and use from_logits = false"):format(units, act))
    end
    if not logits and act == "sigmoid" then
      return add("warning", ("sigmoid outputs with %s: the units do not sum to 1 (what predict returns is no "
        .. "distribution; the loss renormalizes them), and a wrong class's unit saturated near 1 passes almost no "
        .. "gradient (sigmoid's slope there), so the loss cannot push it down"):format(kind),
        ("Dense(%d, {activation = \"softmax\"})"):format(units))
    end
    if not logits and act ~= "softmax" then
      return add("error", ("a %s output fed to %s, which expects probabilities: its values are clipped into (0, 1] "
        .. "and renormalized, so the gradient is wrong or zero"):format(act, kind),
        ("Dense(%d, {activation = \"softmax\"}), or loss = lurn.losses.%s{from_logits = true}"):format(units,
          kind == "categorical_crossentropy" and "CategoricalCrossentropy" or "SparseCategoricalCrossentropy"))
    end
  elseif kind == "binary_crossentropy" then
    if act == "softmax" then
      if units == 1 then
        return add("error", "a softmax over a single output unit is always 1: binary cross-entropy gets a constant "
          .. "and nothing is learned", "Dense(1, {activation = \"sigmoid\"})")
      end
      return add("warning", ("softmax over %d units with binary cross-entropy: each unit is scored as an independent "
        .. "yes/no, but the softmax ties them to sum to 1"):format(units),
        ("for one class per sample: loss = \"categorical_crossentropy\" (one-hot) or \"sparse_categorical_crossentropy\"; "
          .. "for several labels per sample: Dense(%d, {activation = \"sigmoid\"})"):format(units))
    end
    if logits and act == "sigmoid" then
      return add("error", "the output is already probabilities (sigmoid) but the loss has from_logits = true: it "
        .. "applies a sigmoid again, squashing them into (0.5, 0.73)",
        ("Dense(%d) (linear) with from_logits = true, or keep sigmoid with from_logits = false"):format(units))
    end
    if not logits and act ~= "sigmoid" then
      return add("error", ("a %s output fed to binary cross-entropy, which expects probabilities: values outside "
        .. "(0, 1) are clipped and get no gradient"):format(act),
        ("Dense(%d, {activation = \"sigmoid\"}), or loss = lurn.losses.BinaryCrossentropy{from_logits = true}"):format(
          units))
    end
  end
end

-- Whether every value of a tensor is the same.
local function constant(t)
  if t == nil or t:numel() < 2 then return false end
  return t:max() == t:min()
end

-- symmetric_initialization: a hidden kernel layer whose kernel holds a single value. Its
-- units compute the same function and get gradients that differ only through the next
-- layer's weights: if those are constant too, the units stay identical forever.
local function check_symmetry(chain, report)
  for i = 1, #chain - 1 do
    local e = chain[i]
    if e.width and e.width > 1 and constant(e.kernel) then
      local value = e.kernel:max()
      -- a rectifier of a zero kernel outputs relu(bias) for every sample: with the bias at 0
      -- its gradient is 0 too, and nothing ever moves
      local stuck = value == 0 and (e.activation == "relu") and (e.bias == nil or e.bias:max() <= 0)
      local next_constant = constant(chain[i + 1].kernel) or stuck
      report:add{code = "symmetric_initialization", severity = next_constant and "error" or "warning", layer = e.name,
                 evidence = {kernel_value = value, units = e.width, next_layer_constant = next_constant and 1 or 0},
                 message = ("every weight of %s's kernel is %g: its %d units start as copies of one unit and receive "
                   .. "the same gradient%s"):format(e.name, value, e.width,
                   stuck and " of 0 forever (relu(0) passes no gradient)"
                   or next_constant and " forever (the next layer's kernel is constant too)"
                   or " up to the next layer's weights, so they stay nearly alike"),
                 fix = ("kernel_initializer = \"%s\" (the default glorot_uniform, or he_normal for relu) instead of a "
                   .. "constant"):format(e.activation == "relu" and "he_normal" or "glorot_uniform")}
    end
  end
end

-- no_nonlinearity: kernel layers stacked with only linear steps between them compose to
-- one linear map: the extra layers add parameters, not expressive power.
local function check_nonlinearity(chain, report)
  local run = {}
  local function close()
    if #run >= 2 then
      local names = {}
      for i, e in ipairs(run) do names[i] = e.name end
      report:add{code = "no_nonlinearity", severity = "warning", layer = run[1].name,
                 evidence = {layers = names, linear_layers = #run - 1},
                 message = ("%s are stacked with no nonlinearity between them: together they are one linear map, as "
                   .. "a single layer would be"):format(table.concat(names, ", ")),
                 fix = ("activation = \"relu\" on %s"):format(table.concat(names, ", ", 1, #names - 1))}
    end
    run = {}
  end
  for _, e in ipairs(chain) do
    run[#run + 1] = e
    if e.activation ~= "linear" or e.broken_after then close() end
  end
  close()
end

-- The number of independent directions the output needs: a softmax over C classes is
-- unchanged by adding one value to all logits (C - 1); other outputs need one each.
local function needed_width(model, out)
  local units = width_of(model.output_shape) or out.width
  if not units then return nil end
  local kind = type(model.loss) == "table" and model.loss.kind
  if out.activation == "softmax" or (model.loss and model.loss.from_logits and kind ~= "binary_crossentropy") then
    return units - 1, units
  end
  return units, units
end

-- bottleneck: every path from the input to the output goes through a hidden layer that
-- passes on w values per sample, so the output's values are a function of w numbers: right
-- before the output they lie in a w-dimensional affine subspace, further on on a
-- w-dimensional surface. With w below the directions the output needs, some class scores
-- can never be set independently. A layer narrows only below the input: with d values per
-- sample, everything is a function of d numbers already, so w is compared with the smaller
-- of d and what the output needs.
local function check_bottleneck(model, chain, report)
  local out = chain[#chain]
  if not out or #chain < 2 or out.broken_after then return end
  local needed, units = needed_width(model, out)
  if not needed or needed < 2 then return end
  local limit = math.min(needed, values_of(model.input_shape) or needed)
  for i = 1, #chain - 1 do
    local e = chain[i]
    local w = e.passes or e.width
    if w and w < limit and not e.broken_after then
      -- the width suggested (what repair sets): one unit per output value, which clears
      -- the C - 1 a softmax needs by one, a margin for a rectifier unit that is off
      local suggested = math.max(units, needed)
      report:add{code = "bottleneck", severity = "warning", layer = e.name,
                 evidence = {width = e.width, passes = w, output_units = units, needed = needed,
                             input_values = values_of(model.input_shape), suggested_width = suggested},
                 message = ("%s passes on %d values per sample but the output's %d values need %d independent "
                   .. "directions: everything after it is a function of %d numbers"):format(e.name, w, units, needed, w),
                 fix = ("%d %s or more for %s (one per output value; the output needs at least %d)"):format(
                   suggested, e.class_name == "Dense" and "units" or "filters", e.name, needed)}
    end
  end
end

--- The static checks of a compiled model -> a report.
function checks.check(model)
  local report = Report.new()
  local chain = checks.chain(model)
  check_loss_output(model, chain, report)
  check_symmetry(chain, report)
  check_nonlinearity(chain, report)
  check_bottleneck(model, chain, report)
  return report
end

return checks
