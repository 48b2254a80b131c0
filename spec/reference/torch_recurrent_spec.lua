-- Numerical agreement of SimpleRNN, LSTM and GRU with PyTorch's nn.RNN, nn.LSTM and nn.GRU
-- (spec/reference/torch_recurrent.py, float64): PyTorch weights drawn here go to lurn
-- through the conversion helper (Cls.weights_from_torch) and to PyTorch through .npy; the
-- outputs, input gradients and weight gradients (PyTorch's, converted the same way) agree
-- to 1e-4 relative. Cases with `states` run lurn's return_state and initial_state against
-- PyTorch's (h_n, c_n) and (h_0, c_0): lurn's output packs y and the final states, its
-- input the sequence and the initial states, so y and dL/dx cover h_n, c_n and dL/dh_0,
-- dL/dc_0. Pending when no python3 can import torch (LURN_TORCH_PYTHON names the
-- interpreter, "" to skip), as spec/reference/torch_reference_spec.lua.
local lurn = require "lurn"
local L = lurn.layers

local TOLERANCE = 1e-4
local SKIPPED = "torch reference skipped: python3-torch is not installed"
local source_dir = os.getenv("LURN_SOURCE_DIR") or "."
local script = source_dir .. "/spec/reference/torch_recurrent.py"

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- {name, class, units, {batch, timesteps, features}, options}
local cases = {
  {"SimpleRNN, last output", "SimpleRNN", 5, {3, 6, 4}, {}},
  {"SimpleRNN relu, sequences, go_backwards", "SimpleRNN", 4, {2, 5, 3},
   {activation = "relu", return_sequences = true, go_backwards = true}},
  {"SimpleRNN no bias, sequences", "SimpleRNN", 3, {2, 4, 2}, {use_bias = false, return_sequences = true}},
  {"LSTM, last output", "LSTM", 5, {3, 7, 4}, {}},
  {"LSTM, sequences", "LSTM", 6, {2, 5, 3}, {return_sequences = true}},
  {"LSTM go_backwards, no bias", "LSTM", 4, {3, 6, 2}, {go_backwards = true, use_bias = false}},
  {"GRU, last output", "GRU", 5, {3, 7, 4}, {}},
  {"GRU, sequences, go_backwards", "GRU", 6, {2, 5, 3}, {return_sequences = true, go_backwards = true}},
  {"GRU no bias, sequences", "GRU", 3, {2, 4, 5}, {use_bias = false, return_sequences = true}},
  {"SimpleRNN, initial state and final state", "SimpleRNN", 4, {3, 5, 3}, {states = true}},
  {"LSTM, (h_0, c_0) in, (h_n, c_n) out, sequences", "LSTM", 5, {3, 6, 4}, {states = true, return_sequences = true}},
  {"LSTM go_backwards, states", "LSTM", 3, {2, 5, 2}, {states = true, go_backwards = true}},
  {"GRU, states, sequences, go_backwards", "GRU", 4, {3, 5, 3},
   {states = true, return_sequences = true, go_backwards = true}},
}

local function json(v)
  local t = type(v)
  if t == "string" then return '"' .. v .. '"' end
  if t == "number" or t == "boolean" then return tostring(v) end
  local parts = {}
  if #v > 0 then
    for _, x in ipairs(v) do parts[#parts + 1] = json(x) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  for k, x in pairs(v) do parts[#parts + 1] = json(k) .. ":" .. json(x) end
  return "{" .. table.concat(parts, ",") .. "}"
end

local NAMES = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}
local GATES = {SimpleRNN = 1, LSTM = 4, GRU = 3}

local function run_lurn(dir)
  local manifest, results = {}, {}
  for i, case in ipairs(cases) do
    local name, class_name, units, shape, opts = table.unpack(case)
    lurn.manual_seed(2000 + i)
    local k, features = GATES[class_name], shape[3]
    local state = {weight_ih_l0 = lurn.randn{k * units, features} * 0.5, weight_hh_l0 = lurn.randn{k * units, units} * 0.5}
    if opts.use_bias ~= false then
      state.bias_ih_l0, state.bias_hh_l0 = lurn.randn{k * units} * 0.5, lurn.randn{k * units} * 0.5
    end
    local layer_opts = {}
    for key, v in pairs(opts) do if key ~= "states" then layer_opts[key] = v end end
    layer_opts.return_state = opts.states or nil
    local layer = L[class_name](units, layer_opts)
    local nstates = class_name == "LSTM" and 2 or 1
    local seq = lurn.randn(shape)
    local x, initial = seq, {}
    if opts.states then  -- the input packs the sequence, h0 (and c0)
      layer:_set_sequence{shape[2], features}
      layer:build{shape[2] * features + nstates * units}
      local pieces = {seq:reshape{shape[1], shape[2] * features}}
      for s = 1, nstates do
        initial[s] = lurn.randn{shape[1], units}
        pieces[s + 1] = initial[s]
      end
      x = lurn.cat(pieces, 2):contiguous()
    else
      layer:build{shape[2], features}
    end
    layer:set_weights(L[class_name].weights_from_torch(state))
    local y = layer._core:forward(x, true)
    local dy = lurn.randn(y:shape())
    local dx = layer._core:backward(x, y, dy)
    local grads = {}
    for j, g in ipairs(layer:gradients()) do grads[j] = g:clone() end
    local id = ("case%02d"):format(i)
    local d = dir .. "/" .. id
    assert(os.execute("mkdir " .. quote(d)))
    seq:save_npy(d .. "/x.npy")
    for s, t in ipairs(initial) do t:save_npy(("%s/%s0.npy"):format(d, s == 1 and "h" or "c")) end
    dy:save_npy(d .. "/dy.npy")
    for key, t in pairs(state) do t:save_npy(("%s/%s.npy"):format(d, key)) end
    manifest[i] = {id = id, class_name = class_name, units = units, features = features,
                   activation = opts.activation or "tanh", use_bias = opts.use_bias ~= false,
                   return_sequences = opts.return_sequences == true, go_backwards = opts.go_backwards == true,
                   states = opts.states == true}
    results[i] = {name = name, dir = d, class_name = class_name, y = y, dx = dx, grads = grads,
                  use_bias = opts.use_bias ~= false}
  end
  local f = assert(io.open(dir .. "/cases.json", "w"))
  f:write(json{cases = manifest})
  f:close()
  return results
end

local function run_torch(python, dir)
  local log = dir .. "/torch_recurrent.log"
  local cmd = ("env -u LD_PRELOAD -u ASAN_OPTIONS OMP_NUM_THREADS=1 %s %s %s >%s 2>&1"):format(
    quote(python), quote(script), quote(dir), quote(log))
  local ok, how, code = os.execute(cmd)
  if ok then return true end
  if how == "exit" and (code == 77 or code == 127) then return false end
  local f = io.open(log)
  local text = f and f:read("a") or ""
  if f then f:close() end
  error(("torch reference failed (%s %s): %s\n%s"):format(how, tostring(code), cmd, text), 0)
end

local state
local function results()
  if not state then
    local p = io.popen("mktemp -d " .. quote((os.getenv("TMPDIR") or "/tmp") .. "/lurn-torch-rnn.XXXXXX"))
    local dir = p:read("l")
    p:close()
    state = {dir = dir}
    local ok, err = pcall(function()
      local res = run_lurn(dir)
      local env = os.getenv("LURN_TORCH_PYTHON")
      local pythons = env and (env ~= "" and {env} or {}) or {"python3", "/usr/bin/python3"}
      for _, python in ipairs(pythons) do
        if run_torch(python, dir) then
          state.results = res
          return
        end
      end
      print(SKIPPED)
      state.skipped = SKIPPED
    end)
    if not ok then state.error = tostring(err) end
  end
  if state.error then error(state.error, 0) end
  if state.skipped then pending(state.skipped) end
  return state.results
end

local function relative_error(a, b)
  assert.same(b:shape(), a:shape())
  local bv, av = b:contiguous():reshape{-1}, a:contiguous():reshape{-1}
  local diff, scale = 0, 0
  for i = 1, bv:numel() do
    local x, y = av:get(i), bv:get(i)
    diff = math.max(diff, math.abs(x - y))
    if x ~= x then diff = math.huge end
    scale = math.max(scale, math.abs(y))
  end
  return diff / math.max(scale, 1e-6)
end

local function check(r, what, ours, ref)
  local err = relative_error(ours, ref)
  assert(err <= TOLERANCE, ("%s: %s differs from PyTorch by %.3g relative (tolerance %g)"):format(
    r.name, what, err, TOLERANCE))
end

describe("recurrent layers agree with PyTorch (float64) to 1e-4 relative", function()
  lazy_teardown(function()
    if state and state.dir then os.execute("rm -rf " .. quote(state.dir)) end
  end)

  for i, case in ipairs(cases) do
    it(case[1] .. ": output, input gradient and weight gradients", function()
      local all = results()
      if not all then return end
      local r = all[i]
      local function ref(name) return lurn.load_npy(("%s/ref_%s.npy"):format(r.dir, name)) end
      check(r, "the output", r.y, ref("y"))
      check(r, "dL/dx", r.dx, ref("dx"))
      -- PyTorch's weight gradients in Keras' layout, through the same conversion; lurn's one
      -- bias is PyTorch's two summed (LSTM, SimpleRNN), so its gradient is either one's.
      local g = {weight_ih_l0 = ref("weight_ih_l0"), weight_hh_l0 = ref("weight_hh_l0")}
      if r.use_bias then
        g.bias_ih_l0 = ref("bias_ih_l0")
        g.bias_hh_l0 = r.class_name == "GRU" and ref("bias_hh_l0") or lurn.zeros(g.bias_ih_l0:shape())
      end
      local expected = L[r.class_name].weights_from_torch(g)
      assert.equal(#expected, #r.grads)
      for j, name in ipairs{"kernel", "recurrent_kernel", "bias"} do
        if expected[j] then check(r, "dL/d" .. name, r.grads[j], expected[j]) end
      end
    end)
  end
end)
