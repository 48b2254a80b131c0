-- Object lifetime: a C model, Residual block or graph keeps the layers it runs alive
-- whatever Lua collects or closes, and every lurn.core object whose __gc already ran
-- (called by hand, or met again through a finalizer that resurrects it) refuses to be
-- used with a clear error instead of touching freed memory; __gc twice does nothing.
local lurn = require "lurn"
local core = require "lurn.core"

local mse = {kind = "mean_squared_error"}

local function dense(units, seed)
  return core.dense_layer{units = units, kernel_initializer = {kind = "glorot_uniform", seed = seed},
                          bias_initializer = {kind = "zeros"}}
end

local function close_by_hand(obj) getmetatable(obj).__gc(obj) end

local function collect()
  collectgarbage("collect")
  collectgarbage("collect")
end

local function assert_same(a, b)
  local diff = (a - b):abs():max()
  assert(diff == 0, ("outputs differ by %g"):format(diff))
end

local function assert_error(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error matching '" .. pattern .. "'")
  assert(tostring(err):find(pattern), ("error '%s' does not match '%s'"):format(tostring(err), pattern))
end

describe("a container keeps its layers alive", function()
  before_each(function() lurn.manual_seed(13) end)

  it("a model runs, trains and predicts after its layers' Lua objects are closed and collected", function()
    local m = core.model()
    local d1, d2 = dense(6, 1), dense(2, 2)
    m:add(d1)
    m:add(d2)
    m:build{3}
    local x = core.randn{5, 3}
    local before = m:forward(x):clone()
    close_by_hand(d1)
    close_by_hand(d2)
    d1, d2 = nil, nil
    collect()
    assert_same(before, m:forward(x))
    local opt = core.optimizer{kind = "sgd", learning_rate = 0.1}
    local first = m:train_step(mse, opt, x, core.zeros{5, 2})
    local second = m:train_step(mse, opt, x, core.zeros{5, 2})
    assert(second < first, "training after the layers were closed does not lower the loss")
  end)

  it("a Residual block runs after every Lua reference to its inner layers and projection is gone", function()
    local list = {dense(4, 3), dense(4, 4)}
    local projection = dense(4, 5)
    local block = core.residual_layer(list, projection)
    local m = core.model()
    m:add(block)
    m:build{3}
    local x = core.randn{7, 3}
    local before = m:forward(x):clone()
    -- the block's user value holds the list: empty it, and close the layers by hand
    for i = #list, 1, -1 do
      close_by_hand(list[i])
      list[i] = nil
    end
    close_by_hand(projection)
    projection = nil
    collect()
    assert_same(before, m:forward(x))
    local _, dx = m:gradients(mse, x, core.zeros{7, 4})
    assert(dx:abs():max() > 0)
  end)

  it("a graph runs after every Lua reference to its layers is gone", function()
    local layers = {dense(4, 6), dense(4, 7), core.merge_layer("Add")}
    local inputs = {{0}, {0}, {1, 2}}
    local g = core.graph_layer(layers, inputs)
    local m = core.model()
    m:add(g)
    m:build{3}
    local x = core.randn{4, 3}
    local before = m:forward(x):clone()
    for i = #layers, 1, -1 do
      close_by_hand(layers[i])
      layers[i] = nil
    end
    collect()
    assert_same(before, m:forward(x))
  end)

  it("a Sequential predicts and fits after the C layers of its Lua layers are closed", function()
    local model = lurn.Sequential{lurn.layers.Dense(4, {input_shape = {3}}), lurn.layers.Dense(1)}
    model:compile{optimizer = "sgd", loss = "mse"}
    local x, y = lurn.randn{8, 3}, lurn.randn{8, 1}
    local before = model:predict(x)
    for _, layer in ipairs(model.layers) do close_by_hand(layer._core) end
    collect()
    assert_same(before, model:predict(x))
    model:fit(x, y, {epochs = 2, verbose = 0})
    assert_error("attempt to use a closed layer", function() return model.layers[1]:get_weights() end)
  end)
end)

describe("a closed object refuses to be used", function()
  it("a layer", function()
    local d = dense(2, 1)
    d:build{3}
    close_by_hand(d)
    close_by_hand(d) -- a second __gc does nothing
    local x = core.randn{2, 3}
    assert_error("attempt to use a closed layer", d.forward, d, x)
    assert_error("attempt to use a closed layer", d.params, d)
    assert_error("attempt to use a closed layer", d.output_shape, d)
    assert_error("attempt to use a closed layer", core.residual_layer, {d})
    assert_error("attempt to use a closed layer", core.graph_layer, {d}, {{0}})
    assert_error("attempt to use a closed layer", core.model().add, core.model(), d)
  end)

  it("a merge layer", function()
    local add = core.merge_layer("Add")
    close_by_hand(add)
    assert_error("attempt to use a closed layer", core.merge_build, add, {{2}, {2}})
    assert_error("attempt to use a closed layer", core.merge_forward, add, {core.zeros{1, 2}, core.zeros{1, 2}})
  end)

  it("a model", function()
    local m = core.model()
    m:add(dense(2, 1))
    m:build{3}
    close_by_hand(m)
    close_by_hand(m)
    assert_error("attempt to use a closed model", m.forward, m, core.randn{2, 3})
    assert_error("attempt to use a closed model", m.add, m, dense(2, 2))
    assert_error("attempt to use a closed model", m.test_step, m, mse, core.randn{2, 3}, core.zeros{2, 2})
  end)

  it("an optimizer", function()
    local opt = core.optimizer{kind = "adam", learning_rate = 0.01}
    close_by_hand(opt)
    close_by_hand(opt)
    assert_error("attempt to use a closed optimizer", opt.get, opt, "learning_rate")
    assert_error("attempt to use a closed optimizer", opt.step, opt, {core.zeros{2}}, {core.zeros{2}})
    local m = core.model()
    m:add(dense(2, 1))
    m:build{3}
    assert_error("attempt to use a closed optimizer", m.train_step, m, mse, opt, core.randn{2, 3}, core.zeros{2, 2})
  end)

  it("a tensor", function()
    local t = core.ones{2, 2}
    close_by_hand(t)
    close_by_hand(t)
    assert_error("attempt to use a closed tensor", t.sum, t)
    assert_error("attempt to use a closed tensor", t.add_, t, 1)
    assert_error("element 2 of the list is a closed tensor", core.cat, {core.ones{2}, t})
  end)

  it("an augmenter", function()
    local aug = core.augmenter({width_shift_range = {-1, 0, 1}}, 1)
    close_by_hand(aug)
    close_by_hand(aug)
    assert_error("attempt to use a closed augmenter", aug.draw, aug, 4, 4)
    assert_error("attempt to use a closed augmenter", aug.augment, aug, core.zeros{1, 4, 4, 1},
                 core.zeros{1, 4, 4, 1})
  end)

  it("a closed tensor given to fit, evaluate or predict is named as such", function()
    local model = lurn.Sequential{lurn.layers.Dense(1, {input_shape = {2}})}
    model:compile{optimizer = "sgd", loss = "mse"}
    local x, y = core.ones{4, 2}, core.ones{4, 1}
    close_by_hand(x)
    assert.error_matches(function() model:predict(x) end, "predict: x must be a tensor, got a closed tensor")
    close_by_hand(y)
    assert.error_matches(function() model:fit(core.ones{4, 2}, y, {verbose = 0}) end,
      "fit: y must be a tensor, got a closed tensor")
  end)

  it("a standardize statistic given as a closed tensor is an error, not ignored", function()
    local mean = core.ones{1}
    close_by_hand(mean)
    assert_error("mean is a closed tensor", core.image_standardize, core.ones{2, 2, 1}, {mean = mean})
  end)

  it("a tensor closed by the metamethods of a list read after it", function()
    local x = core.ones{4, 2}
    local quantiles = setmetatable({}, {__len = function() close_by_hand(x); return 1 end,
                                        __index = function() return 50 end})
    assert_error("attempt to use a closed tensor", core.column_quantiles, x, quantiles)
    -- a list whose __index closes the tensor it is read for, then frees memory
    local function closing(t, n, value)
      return setmetatable({}, {__len = function() return n end,
                               __index = function() close_by_hand(t); collect(); return value end})
    end
    local t = core.zeros{4, 3}
    assert_error("attempt to use a closed tensor", t.index, t, 1, closing(t, 2, 1))
    t = core.zeros{4, 3}
    assert_error("attempt to use a closed tensor", t.reshape, t, closing(t, 2, 6))
    t = core.zeros{4, 3}
    assert_error("attempt to use a closed tensor", t.permute, t, closing(t, 2, 1))
  end)

  it("a sampler's per-class counts are read raw, so no metamethod runs once the data is taken", function()
    local x, y = core.ones{5, 2}, core.tensor{0, 0, 1, 2, 2}
    -- class 1 is absent from the table: reading it through __index would close x
    local counts = setmetatable({[0] = 3, [2] = 3}, {__index = function() close_by_hand(x); collect() end})
    local want = core.random_oversample(core.ones{5, 2}, y, {[0] = 3, [2] = 3}, 1)
    assert.same(want:totable(), core.random_oversample(x, y, counts, 1):totable())
  end)

  it("texts made fresh by a list's __index stay alive while C reads them", function()
    local n = 300
    local texts = setmetatable({}, {__len = function() return n end, __index = function(_, i)
      local s = ("text %03d "):format(i % 7) .. ("x"):rep(100)  -- a fresh string, long enough to be freed
      if i == n then collect() end
      return s
    end})
    local unique, counts = core.unique_strings(texts)
    assert.equal(7, #unique)
    assert.equal(("text 000 " .. ("x"):rep(100)), unique[1])
    assert.equal(n, counts:sum())
  end)

  it("objects met again through a finalizer that resurrects them", function()
    local saved
    do
      local m = core.model()
      local d = dense(2, 1)
      local opt = core.optimizer{kind = "sgd"}
      m:add(d)
      m:build{3}
      -- made last, finalized first: it hands the others back after their __gc is due
      setmetatable({}, {__gc = function() saved = {m = m, d = d, opt = opt} end})
    end
    collect()
    assert(saved, "the finalizer did not run")
    collect()
    assert_error("attempt to use a closed model", saved.m.forward, saved.m, core.randn{1, 3})
    assert_error("attempt to use a closed layer", saved.d.params, saved.d)
    assert_error("attempt to use a closed optimizer", saved.opt.get, saved.opt, "learning_rate")
  end)
end)
