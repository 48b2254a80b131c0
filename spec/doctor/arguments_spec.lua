-- Every public doctor entry point (check_data, diagnose, Monitor, report:has / get /
-- write_html / repair, and the result.transform a repair returns) reports a bad argument as an error at the line of the user's script
-- that made the call, whatever the shape of the call: a statement, a tail call inside a
-- function, an assignment. The script is a file, loaded as `lurn SCRIPT.lua` loads it.
local lurn = require "lurn"
local L = lurn.layers

local function write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- The fixtures a script receives as `...`: a report, a compiled and an uncompiled model, x,
-- y, lurn (the global `lurn SCRIPT.lua` sets) and the result.transform of a repair that
-- fitted a scaler.
local function fixtures()
  lurn.manual_seed(1)
  local function model()
    return lurn.Sequential{L.Dense(4, {activation = "relu", input_shape = {3}}), L.Dense(2, {activation = "softmax"})}
  end
  local compiled = model():compile{optimizer = "adam", loss = "sparse_categorical_crossentropy"}
  local x = lurn.randn{40, 3}
  local labels = {}
  for i = 1, 40 do labels[i] = i % 2 end
  local y = lurn.tensor(labels)
  local big = x * 1000 + 5000
  local _, result = lurn.doctor.check_data(big, y):repair(compiled, {x = big})
  return lurn.doctor.check_data(x, y), compiled, model(), x, y, lurn, result.transform
end

-- The call on line 2 of a script file, in three shapes -> the error of each run.
local SHAPES = {
  statement = "%s",
  tail_call = "local ok, err = pcall(function() return %s end) if not ok then error(err, 0) end",
  assignment = "local v = %s",
}

local function errors_of(call)
  local out = {}
  for shape, template in pairs(SHAPES) do
    local path = os.tmpname()
    write_file(path, "local r, m, bare, x, y, lurn, transform = ...\n" .. template:format(call) .. "\n")
    local chunk = assert(loadfile(path))
    local ok, err = pcall(chunk, fixtures())
    os.remove(path)
    out[shape] = {ok = ok, err = tostring(err), path = path}
  end
  return out
end

local CALLS = {
  {"lurn.doctor.Monitor{evry = 5}", "Monitor: unknown option 'evry'"},
  {"lurn.doctor.Monitor{every = 0}", "Monitor: every must be a positive integer"},
  {"lurn.doctor.Monitor{every = \"5\"}", "got the string \"5\""},
  {"lurn.doctor.Monitor(7)", "Monitor: options must be a table"},
  {"lurn.doctor.check_data(x, y, {validaton_data = {x, y}})", "check_data: unknown option 'validaton_data'"},
  {"lurn.doctor.check_data(\"x\", y)", "check_data: x must be a tensor"},
  {"lurn.doctor.diagnose(m, x, y, {epochs = \"10\"})", "diagnose: epochs must be a positive integer, got the string \"10\""},
  {"lurn.doctor.diagnose(m, x, y, {epoch = 10})", "diagnose: unknown option 'epoch'"},
  {"lurn.doctor.diagnose(bare, x, y)", "diagnose: the model must be compiled"},
  {"r:repair(bare)", "repair: the model must be compiled"},
  {"r:repair(function() return bare end)", "repair: the model must be compiled"},
  {"r:repair(m, {z = 1})", "repair: unknown option 'z'"},
  {"r:repair(42)", "repair: give a compiled model or a function"},
  {"r:write_html(\"\")", "write_html: path must be a file name"},
  {"r:write_html(\"/nonexistent/dir/x.html\")", "write_html: cannot write"},
  {"r:has(\"dead_relus\")", "report:has: unknown code 'dead_relus'"},
  {"r:has(\"dead_relu\", \"fatal\")", "report:has: severity must be"},
  {"r:get(\"dead_relus\")", "report:get: unknown code 'dead_relus'"},
  {"transform(\"x\")", "transform: x must be a tensor, got string"},
  {"transform(lurn.randn{5, 4})", "x has 4 features, but StandardScaler was fitted with 3"},
}

describe("the doctor's argument errors", function()
  for _, c in ipairs(CALLS) do
    it("point at the user's line: " .. c[1], function()
      lurn.set_num_threads(1)
      for shape, res in pairs(errors_of(c[1])) do
        assert.is_false(res.ok, shape)
        local where = res.path .. ":2: "
        assert.equal(where, res.err:sub(1, #where), ("%s: %s"):format(shape, res.err))
        assert.truthy(res.err:find(c[2], 1, true), ("%s: %s"):format(shape, res.err))
      end
    end)
  end
end)
