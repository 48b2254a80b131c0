-- docs/api.md documents every public name, and help() prints it.
--
-- The walk: every key of `lurn` and of its public module tables (lurn.layers,
-- lurn.optimizers, lurn.preprocessing, ...), the methods of tensors, models, layers,
-- optimizers, pipelines, and of every class those tables hold (StandardScaler:fit,
-- SMOTE:fit_resample, ...). A name passes when help.lookup finds it in a code span of
-- docs/api.md (`Dense(...)`, `model:build`), the way help() finds it. Names starting with
-- "_" are private; lurn.core (the C bindings behind lurn.*) is the one exception below.
local lurn = require "lurn"
local help = require "lurn.help"

-- Public by Lua's rules but not part of the API, with the reason.
local NOT_API = {
  ["lurn.core"] = "the C bindings the Lua modules are written on; users reach them through lurn.*",
}

local function is_public(k) return type(k) == "string" and k:sub(1, 1) ~= "_" and not k:match("^__") end

local function is_class(v)
  if type(v) ~= "table" then return false end
  if type(rawget(v, "class_name")) == "string" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and type(rawget(mt, "class_name")) == "string"
end

-- The functions reachable from t by its keys and its metatables' __index tables.
local function methods(t, out, seen)
  seen = seen or {}
  if type(t) ~= "table" or seen[t] then return out end
  seen[t] = true
  for k, v in pairs(t) do
    if is_public(k) and type(v) == "function" and out[k] == nil then out[k] = v end
  end
  local mt = getmetatable(t)
  if type(mt) == "table" and type(rawget(mt, "__index")) == "table" then methods(rawget(mt, "__index"), out, seen) end
  return out
end

-- Every public name, qualified as docs/api.md would write it.
local function public_names()
  local names = {}
  local function add(name) if not NOT_API[name] then names[#names + 1] = name end end
  local classes = {}
  local _ = lurn.experiments  -- loaded on first use: touched so that the walk below sees it
  for k, v in pairs(lurn) do
    if is_public(k) then
      add("lurn." .. k)
      if type(v) == "table" and k ~= "core" and not is_class(v) then
        for k2, v2 in pairs(v) do
          if is_public(k2) then
            add(("lurn.%s.%s"):format(k, k2))
            if is_class(v2) then classes[#classes + 1] = {v2, k2} end
          end
        end
      elseif is_class(v) then
        classes[#classes + 1] = {v, k}
      end
    end
  end
  -- the preprocessing submodules are tables inside lurn.preprocessing, loaded on first use
  for _, sub in ipairs{"image", "sequence", "text", "timeseries"} do
    for k, v in pairs(lurn.preprocessing[sub]) do
      if is_public(k) then add(("lurn.preprocessing.%s.%s"):format(sub, k)) end
      if is_class(v) then classes[#classes + 1] = {v, k} end
    end
  end
  local instances = {
    {lurn.zeros{1}, "t"},
    {lurn.Sequential(), "model"},
    {lurn.Model, "model"},
    {lurn.layers.Dense(1), "layer"},
    {lurn.optimizers.Adam(), "optimizer"},
    {lurn.pipeline.Pipeline{{"scale", lurn.preprocessing.StandardScaler()}}, "pipe"},
  }
  for _, c in ipairs(classes) do instances[#instances + 1] = c end
  for _, inst in ipairs(instances) do
    local obj, prefix = inst[1], inst[2]
    for k in pairs(methods(obj, {})) do add(prefix .. ":" .. k) end
  end
  table.sort(names)
  return names
end

describe("docs/api.md", function()
  it("is found where help looks for it", function()
    local text, where = help.doc_text()
    assert.is_truthy(text, "no api.md at " .. tostring(where))
    assert.matches("^# The lurn API", text)
  end)

  it("mentions every public name", function()
    local missing = {}
    local names = public_names()
    assert.is_true(#names > 300, "the walk found only " .. #names .. " names")
    for _, name in ipairs(names) do
      if #help.lookup(name) == 0 then missing[#missing + 1] = name end
    end
    assert(#missing == 0, "docs/api.md does not mention these public names (document each in its section, "
      .. "in a code span):\n  " .. table.concat(missing, "\n  "))
  end)

  it("mentions the names the issue found missing", function()
    for _, name in ipairs{"lurn.layers.BatchNormalization", "lurn.layers.Residual", "model:build",
                          "lurn.optimizers.Nadam", "lurn.pipeline.Pipeline"} do
      local found = help.lookup(name)
      assert.is_true(#found > 0 and found[1].rank == 2, name .. " is not defined in docs/api.md")
    end
  end)
end)

describe("help", function()
  local function captured(...)
    local lines = {}
    local saved = print
    _G.print = function(...)
      local parts = {}
      for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
      lines[#lines + 1] = table.concat(parts, "\t")
    end
    local ok, err = pcall(help.help, ...)
    _G.print = saved
    assert(ok, err)
    return table.concat(lines, "\n")
  end

  it("prints a class's entry from its object, its name or its qualified name", function()
    local by_object = captured(lurn.layers.Dense)
    assert.matches("## Layers", by_object, 1, true)
    assert.matches("`Dense(units, {activation, use_bias,", by_object, 1, true)
    assert.equal(by_object, captured("Dense"))
    assert.equal(by_object, captured("lurn.layers.Dense"))
    assert.matches("BatchNormalization{momentum = 0.99", captured(lurn.layers.BatchNormalization), 1, true)
  end)

  it("prints a method's entry from the function", function()
    local out = captured(lurn.Sequential().fit)
    assert.matches("## Models", out, 1, true)
    assert.matches("`model:fit(x, y, {epochs = 1", out, 1, true)
    assert.equal(out, captured("model:fit"))
    assert.matches("model:build(input_shape)", captured(lurn.Sequential.build), 1, true)
    assert.matches("t:shape()", captured(lurn.zeros{1}.shape), 1, true)
  end)

  it("prints an object's class entry, and optimizers and pipelines too", function()
    assert.matches("Nadam{learning_rate = 0.001", captured(lurn.optimizers.Nadam), 1, true)
    assert.matches("Adam{learning_rate = 0.001", captured(lurn.optimizers.Adam()), 1, true)
    assert.matches("Pipeline{{name, step}, ...}", captured(lurn.pipeline.Pipeline), 1, true)
    assert.matches("## Tensors", captured(lurn.ones{2}), 1, true)
  end)

  it("says so when there is nothing, and how to use it", function()
    assert.matches("nothing about 'no_such_thing'", captured("no_such_thing"), 1, true)
    assert.matches("got nil: is the name spelt right", captured(nil), 1, true)
    assert.matches("help(lurn.layers.Dense)", captured(), 1, true)
    assert.matches("no documentation for this function", captured(function() end), 1, true)
    assert.error_matches(function() help.help(1, 2) end, "give one thing to document")
  end)

  it("is lurn.help", function()
    assert.equal(help.help, lurn.help)
  end)
end)
