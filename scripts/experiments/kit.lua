--- What the lessons on Fashion-MNIST share beyond lesson.lua (lessons 5 to 11 use it):
-- subsets of the data scaled to [0, 1], a fit recorded as plain numbers, plots written
-- into the lesson's folder (as gnuplot scripts when gnuplot is missing), and numbers as
-- the conclusions print them.
local lurn = require "lurn"

local kit = {}

kit.CLASSES = {"T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
               "ankle boot"}

local loaded  -- the four tensors, read once per process (the runner runs every lesson in one)

local function data()
  if not loaded then
    local ok, xt, yt, xs, ys = pcall(lurn.datasets.fashion_mnist.load_data)
    if not ok then
      error("Fashion-MNIST is not there (" .. tostring(xt):gsub("^[^\n]-:%d+: ", "")
        .. "); scripts/setup installs Debian's dataset-fashion-mnist", 0)
    end
    loaded = {x_train = xt, y_train = yt, x_test = xs, y_test = ys}
  end
  return loaded
end

local function part(x, y, first, n, shape)
  if n == nil or n == 0 then return nil end
  assert(first + n - 1 <= x:size(1), "kit.fashion: asks for more images than the set holds")
  local xs = x:narrow(1, first, n):contiguous()
  xs = (shape == "images" and xs:reshape(n, 28, 28, 1) or xs:reshape(n, 784)):div(255):contiguous()
  return {x = xs, y = y:narrow(1, first, n):contiguous()}
end

--- Parts of Fashion-MNIST, {train =, val =, test =}, each {x =, y =} with x in [0, 1] and
-- y the labels 0..9: train the first `sizes.train` images of the training set, val the
-- `sizes.val` after them (the same distribution, never trained on), test the first
-- `sizes.test` of the test set (nil when not asked for). shape = "flat" (N, 784, the
-- default) or "images" (N, 28, 28, 1).
function kit.fashion(sizes, shape)
  local d = data()
  return {train = part(d.x_train, d.y_train, 1, sizes.train, shape),
          val = part(d.x_train, d.y_train, sizes.train + 1, sizes.val, shape),
          test = part(d.x_test, d.y_test, 1, sizes.test, shape)}
end

--- Pins lurn to one thread for the lesson (run_all.lua restores the count after it): the
-- lessons' models are small, their numbers then repeat bit for bit on any machine, and two
-- threads that spin while waiting for each other ran these lessons 10 to 16 x slower than
-- one on a 2-core machine that something else kept busy (optimizers in quick mode: 184 s
-- against 15 s).
function kit.one_thread()
  lurn.set_num_threads(1)
end

local function finite(v) return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge end
kit.finite = finite

--- A number for a sentence: 3 significant digits, "NaN", "inf", "-" for none.
function kit.num(v, fmt)
  if v == nil then return "-" end
  if type(v) ~= "number" then return tostring(v) end
  if v ~= v then return "NaN" end
  if v == math.huge then return "inf" end
  if v == -math.huge then return "-inf" end
  if math.type(v) == "integer" then return tostring(v) end
  return (fmt or "%.3g"):format(v)
end

--- A share (0.253) as a percentage ("25.3%").
function kit.pct(v)
  if not finite(v) then return kit.num(v) end
  return ("%.1f%%"):format(100 * v)
end

--- A table cell: nil as "-", NaN and infinities written out (json and tables alike).
function kit.cell(v)
  if v == nil then return "-" end
  if type(v) == "number" and not finite(v) then return kit.num(v) end
  return v
end

--- The smallest finite value of a list and its position, or nil.
function kit.min(list)
  local best, at
  for i, v in ipairs(list or {}) do
    if finite(v) and (best == nil or v < best) then best, at = v, i end
  end
  return best, at
end

--- The largest finite value of a list and its position, or nil.
function kit.max(list)
  local best, at
  for i, v in ipairs(list or {}) do
    if finite(v) and (best == nil or v > best) then best, at = v, i end
  end
  return best, at
end

--- One fit on train, validated on val -> a record of plain numbers: history (the History's
-- lists), epochs_run, final_loss, final_val_loss, best_val_loss and best_epoch, final and
-- best val_accuracy, seconds (wall clock of the whole fit), nan (fit's message, if any).
-- opts: epochs, batch_size, callbacks.
function kit.fit(model, train, val, opts)
  local t0 = lurn.clock()
  local h = model:fit(train.x, train.y, {epochs = opts.epochs, batch_size = opts.batch_size or 32, verbose = 0,
                                         validation_data = val and {val.x, val.y} or nil,
                                         callbacks = opts.callbacks})
  local hist = h.history
  local r = {history = hist, epochs_run = #(hist.loss or {}), seconds = lurn.clock() - t0,
             nan = h.nan and h.nan.message or nil}
  r.final_loss = hist.loss and hist.loss[#hist.loss]
  r.final_val_loss = hist.val_loss and hist.val_loss[#hist.val_loss]
  r.best_val_loss, r.best_epoch = kit.min(hist.val_loss)
  r.final_val_accuracy = hist.val_accuracy and hist.val_accuracy[#hist.val_accuracy]
  r.best_val_accuracy = kit.max(hist.val_accuracy)
  return r
end

--- The part of path under the lesson's folder (the section names plots relative to it).
function kit.rel(ctx, path)
  local prefix = ctx.out:gsub("/+$", "") .. "/"
  if path:sub(1, #prefix) == prefix then return path:sub(#prefix + 1) end
  return path
end

--- lurn.plot[kind](spec) written to ctx.out/file -> {file =, caption =} for the section
-- (kind "history": spec.history is the History's lists, the rest its options). Without
-- gnuplot the script with the numbers (.gp) is written instead.
function kit.plot(ctx, kind, file, spec, caption)
  local copy = {}
  for k, v in pairs(spec) do copy[k] = v end
  local history = copy.history
  copy.history = nil
  local function draw()
    copy.file = ctx.out .. "/" .. file
    if kind == "history" then return pcall(lurn.plot.history, history, copy) end
    return pcall(lurn.plot[kind], copy)
  end
  local ok, err = draw()
  if not ok and tostring(err):find("gnuplot was not found", 1, true) then
    file = file:gsub("%.%w+$", ".gp")
    ok, err = draw()
  end
  if not ok then error(err, 0) end
  return {file = file, caption = caption}
end

--- lurn.plot.layer_stats(records, {stat =, ...}) written to ctx.out/file -> {file =, caption =}.
function kit.plot_layer_stats(ctx, records, file, opts, caption)
  local copy = {}
  for k, v in pairs(opts) do copy[k] = v end
  copy.file = ctx.out .. "/" .. file
  local ok, err = pcall(lurn.plot.layer_stats, records, copy)
  if not ok and tostring(err):find("gnuplot was not found", 1, true) then
    file = file:gsub("%.%w+$", ".gp")
    copy.file = ctx.out .. "/" .. file
    ok, err = pcall(lurn.plot.layer_stats, records, copy)
  end
  if not ok then error(err, 0) end
  return {file = file, caption = caption}
end

--- The plots experiment `who` of lurn.experiments wrote (result.plots, full paths), as
-- section entries, captioned by captions[name] (name: the file's name after "who_").
function kit.experiment_plots(ctx, files, who, captions)
  local out = {}
  for _, path in ipairs(files or {}) do
    local file = kit.rel(ctx, path)
    local key = file:match("[^/]+$"):gsub("%.%w+$", "")
    if key:sub(1, #who + 1) == who .. "_" then key = key:sub(#who + 2) end
    out[#out + 1] = {file = file, caption = captions and captions[key] or key}
  end
  return out
end

--- The sentences of a conclusion as one paragraph.
function kit.join(sentences) return table.concat(sentences, " ") end

return kit
