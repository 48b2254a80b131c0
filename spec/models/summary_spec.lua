-- model:summary(): one printer (lua/lurn/models/summary.lua) lays out Sequential's table
-- and Functional's. The texts below are lurn's, exactly: Keras' layout (the model's name,
-- rules, Layer (type) / Output Shape / Param #, Connected to for a graph, the totals), and
-- a Sequential and the functional model of the same layers agree row for row.
local lurn = require "lurn"
local L = lurn.layers

local function summary_lines(model)
  local lines = {}
  model:summary(function(s) lines[#lines + 1] = s end)
  return lines
end

-- Layers of one stack: Dense with a ReLU, Dropout, BatchNormalization (8 non-trainable
-- moving statistics) and a Dense wide enough for a thousands separator.
local function stack_layers(first_opts)
  local first = {name = "hidden", activation = "relu"}
  for k, v in pairs(first_opts or {}) do first[k] = v end
  return {L.Dense(4, first), L.Dropout(0.5, {name = "drop"}), L.BatchNormalization{name = "norm"},
          L.Dense(1000, {name = "out"})}
end

local SEQUENTIAL = {
  'Model: "stack"',
  "___________________________________________________________________",
  "Layer (type)                  Output Shape                  Param #",
  "===================================================================",
  "hidden (Dense)                (None, 4)                          16",
  "___________________________________________________________________",
  "drop (Dropout)                (None, 4)                           0",
  "___________________________________________________________________",
  "norm (BatchNormalization)     (None, 4)                          16",
  "___________________________________________________________________",
  "out (Dense)                   (None, 1000)                    5,000",
  "===================================================================",
  "Total params: 5,032",
  "Trainable params: 5,024",
  "Non-trainable params: 8",
  "___________________________________________________________________",
}

local FUNCTIONAL = {
  'Model: "stack"',
  "_______________________________________________________________________________________",
  "Layer (type)                    Output Shape             Param #   Connected to",
  "=======================================================================================",
  "in (InputLayer)                 [(None, 3)]                    0",
  "_______________________________________________________________________________________",
  "hidden (Dense)                  (None, 4)                     16   in[0][0]",
  "_______________________________________________________________________________________",
  "drop (Dropout)                  (None, 4)                      0   hidden[0][0]",
  "_______________________________________________________________________________________",
  "norm (BatchNormalization)       (None, 4)                     16   drop[0][0]",
  "_______________________________________________________________________________________",
  "out (Dense)                     (None, 1000)               5,000   norm[0][0]",
  "=======================================================================================",
  "Total params: 5,032",
  "Trainable params: 5,024",
  "Non-trainable params: 8",
  "_______________________________________________________________________________________",
}

-- The cells of a layer row: "name (Type)", "(None, ...)", "1,234".
local function cells(row)
  return {row:match("^(%S+ %(%S+%))%s+(%b())%s+(%S+)")}
end

describe("model:summary()", function()
  before_each(function() lurn.manual_seed(5) end)

  it("prints a Sequential's table, exactly", function()
    local model = lurn.Sequential(stack_layers{input_shape = {3}}, {name = "stack"})
    assert.same(SEQUENTIAL, summary_lines(model))
  end)

  it("prints the functional model of the same layers with the same rows, an Input row and Connected to", function()
    local inp = lurn.Input{shape = {3}, name = "in"}
    local x = inp
    for _, layer in ipairs(stack_layers()) do x = layer(x) end
    local lines = summary_lines(lurn.Model(inp, x, {name = "stack"}))
    assert.same(FUNCTIONAL, lines)
    -- row for row, the Sequential's layer cells (the functional table has the Input first)
    for i = 5, 11, 2 do assert.same(cells(SEQUENTIAL[i]), cells(lines[i + 2])) end
    for i = 13, 15 do assert.equal(SEQUENTIAL[i], lines[i + 2]) end  -- the totals
  end)

  it("widens a column to its longest cell and lists each input of a merge on a line of its own", function()
    local long = "a_layer_name_longer_than_the_first_column"
    local seq = summary_lines(lurn.Sequential({L.Dense(4, {input_shape = {3}, name = long})}, {name = "wide"}))
    assert.same({
      'Model: "wide"',
      ("_"):rep(88),
      "Layer (type)                                       Output Shape                  Param #",
      ("="):rep(88),
      "a_layer_name_longer_than_the_first_column (Dense)  (None, 4)                          16",
    }, table.move(seq, 1, 5, 1, {}))
    local inp = lurn.Input{shape = {3}, name = "x"}
    local a = L.Dense(3, {name = long})(inp)
    local fn = summary_lines(lurn.Model(inp, L.Add{name = "sum"}({a, inp}), {name = "merge"}))
    assert.same({
      "sum (Add)                                          (None, 3)                      0   " .. long .. "[0][0]",
      "                                                                                      x[0][0]",
    }, table.move(fn, 9, 10, 1, {}))
    assert.equal(("_"):rep(#fn[9]), fn[2])  -- the rules are as wide as the widest row
  end)

  it("counts a frozen model's parameters as non-trainable", function()
    local model = lurn.Sequential(stack_layers{input_shape = {3}}, {name = "stack"})
    model.trainable = false
    local lines = summary_lines(model)
    assert.same({"Total params: 5,032", "Trainable params: 0", "Non-trainable params: 5,032"},
                table.move(lines, 13, 15, 1, {}))
  end)
end)
