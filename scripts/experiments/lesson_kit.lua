--- What the bundled lessons 12 to 18 share beside lesson.lua: the real data they train on
-- (Fashion-MNIST subsets through kit.lua, the CSV sets of examples/data/), a fit that records its curves
-- and wall-clock time per epoch, plots written under the lesson's folder, and numbers as
-- the sections print them. Loaded with require "lesson_kit" (lesson.lua puts
-- scripts/experiments/ on package.path).
local lurn = require "lurn"
local base = require "kit"

-- what kit.lua has (min, max, one_thread, ...) is kit.lua's; below, what only 12 to 18 use
local kit = setmetatable({}, {__index = base})

kit.FASHION_CLASSES = base.CLASSES

--- A Fashion-MNIST class's name from its label (0..9).
function kit.fashion_name(label) return kit.FASHION_CLASSES[math.tointeger(label) + 1] end

--- Fashion-MNIST subsets {train = n, val = n, test = n, flat = true}, through kit.lua's
-- kit.fashion (lessons 5 to 11 use it), so that a runner reads Debian's files once for all
-- lessons: the training part is the first `train` images of the training file, the
-- validation part the `val` images after them (never trained on), the test part the
-- first `test` images of the test file. -> {x_train, y_train, x_val, y_val, x_test,
-- y_test} (the parts asked for), x in [0, 1], (n, 784) when flat, else (n, 28, 28, 1).
function kit.fashion(sizes)
  local parts = base.fashion({train = sizes.train, val = sizes.val, test = sizes.test},
    sizes.flat and "flat" or "images")
  local out = {}
  for _, name in ipairs{"train", "val", "test"} do
    if parts[name] then out["x_" .. name], out["y_" .. name] = parts[name].x, parts[name].y end
  end
  return out
end

--- The 1-based positions of the labels in `classes` (a set {[label] = true}) of a label
-- tensor, in order, at most `limit` of them per class (nil: all).
function kit.positions_of(y, classes, limit)
  local out, taken = {}, {}
  for i, v in ipairs(y:totable()) do
    local c = math.tointeger(v)
    if classes[c] and (limit == nil or (taken[c] or 0) < (type(limit) == "table" and limit[c] or limit)) then
      out[#out + 1] = i
      taken[c] = (taken[c] or 0) + 1
    end
  end
  return out
end

--- Rows of a tensor at 1-based positions (a list), contiguous.
function kit.rows(t, positions)
  return t:index(1, lurn.tensor(positions)):contiguous()
end

--- examples/data/NAME.csv as x (N, features) and y (N) of class labels: every float
-- column but `target` (default "target") as a feature.
function kit.csv(name, target)
  target = target or "target"
  local df = lurn.data.read_csv(("examples/data/%s.csv"):format(name))
  local features = {}
  for _, c in ipairs(df.columns) do
    if c ~= target and df.dtypes[c] == "float" then features[#features + 1] = c end
  end
  return df:to_tensor{columns = features}, df:column(target), features
end

--- model:fit(x, y, fit_opts) with the wall-clock time of each epoch's training batches
-- (lurn.clock, a monotonic clock; validation excluded) -> the History's lists and the
-- epoch times: {history =, epoch_seconds =, epochs_run =, seconds =}.
function kit.fit(model, x, y, fit_opts)
  local clock, start, last, times = lurn.clock, nil, nil, {}
  local timer = {
    on_epoch_begin = function() start, last = clock(), nil end,
    on_train_batch_end = function() last = clock() end,
    on_epoch_end = function() times[#times + 1] = (last or clock()) - start end,
  }
  local opts = {verbose = 0}
  for k, v in pairs(fit_opts) do opts[k] = v end
  local cbs = {timer}
  for _, cb in ipairs(fit_opts.callbacks or {}) do cbs[#cbs + 1] = cb end
  opts.callbacks = cbs
  local t0 = clock()
  local h = model:fit(x, y, opts)
  local total = 0
  for _, s in ipairs(times) do total = total + s end
  return {history = h.history, epoch_seconds = times, epochs_run = #(h.history.loss or {}), seconds = clock() - t0,
          seconds_per_epoch = #times > 0 and total / #times or nil}
end

--- The last value of a list.
function kit.last(list) return list and list[#list] end

--- A number as the sections print it (4 significant digits; "-" for nil).
function kit.num(v, fmt)
  if v == nil then return "-" end
  if type(v) ~= "number" then return tostring(v) end
  if v ~= v then return "NaN" end
  if math.type(v) == "integer" then return tostring(v) end
  return (fmt or "%.4g"):format(v)
end

--- A share as a percentage ("12.5%").
function kit.pct(v) return v == nil and "-" or ("%.1f%%"):format(100 * v) end

--- Draws lurn.plot[kind](spec) into ctx.out/NAME.png and returns the plot entry of the
-- section {file = NAME.png, caption =}; where gnuplot is missing, the .gp script with
-- the numbers is written instead (the caption says so). `plots` (a list) gets the entry.
function kit.plot(ctx, plots, name, kind, spec, caption)
  local function draw(ext)
    local s = {}
    for k, v in pairs(spec) do s[k] = v end
    s.file = ("%s/%s.%s"):format(ctx.out, name, ext)
    if kind == "history" or kind == "images" or kind == "heatmap" then
      local data = s.data
      s.data = nil
      return pcall(lurn.plot[kind], data, s)
    end
    return pcall(lurn.plot[kind], s)
  end
  local ok, err = draw("png")
  local file = name .. ".png"
  if not ok and tostring(err):find("gnuplot was not found", 1, true) then
    ok, err = draw("gp")
    file, caption = name .. ".gp", caption .. " (gnuplot script: gnuplot was not found)"
  end
  if not ok then error(("%s: plot %s: %s"):format(ctx.name, name, tostring(err)), 0) end
  local entry = {file = file, caption = caption}
  plots[#plots + 1] = entry
  return entry
end

kit.sentences = base.join  -- sentences joined into the conclusion's paragraph

return kit
