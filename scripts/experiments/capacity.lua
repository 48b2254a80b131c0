--- Lesson 7, capacity: how deep, how narrow, and how to shrink the image.
--
-- The seeds: "using a relatively shallow convolutional neural network initially yielded
-- unsatisfactory results. Increasing the depth of the network, adding residual
-- connections ... significantly improved performance"; "significant reductions in the
-- number of feature maps between layers can create information bottlenecks ... a gradual
-- reduction is generally preferred"; "consider ... strided convolutions to preserve more
-- spatial details". Three comparisons on a subset of Fashion-MNIST, all with Adam 0.001:
-- (1) depth (lurn.experiments.capacity_check): a too-shallow network (one convolution of
-- 4 filters, 4x4 max pooling), the seeds' adequate two-block CNN, a very deep plain
-- CNN (a stack of 3x3 convolutions), the same depth in residual blocks (lurn.layers.
-- Residual), and residual blocks with BatchNormalization; with each deep network's
-- per-layer gradient norms at step 0 (model:layer_stats), where a plain stack shows its
-- first layers starved; (2) a dense head that squeezes the 800 features through 4 units
-- against one that narrows gradually (256, 64); (3) 2x2 max pooling against stride-2
-- convolutions (the same output sizes and weights). The conclusion reads the verdicts,
-- accuracies, gradient ratios and times, and says where the expected effect is missing.
--
--   build/lurn scripts/experiments/capacity.lua [--tiny|--quick|--full] [--out DIR]
package.path = "scripts/experiments/?.lua;" .. package.path
local lesson = require "lesson"
local kit = require "kit"
local lurn = require "lurn"
local L = lurn.layers

local function compiled(layers)
  local m = lurn.Sequential(layers)
  return m:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.001}, loss = "sparse_categorical_crossentropy",
                   metrics = {"accuracy"}}
end

local function conv(filters, opts)
  opts = opts or {}
  return L.Conv2D(filters, opts.kernel or 3, {padding = "same", activation = opts.activation,
                                               strides = opts.strides, use_bias = opts.use_bias})
end

-- The depth variants: name -> a builder. `depth` is the number of 3x3 convolutions of the
-- deep stack (at 7x7, 16 filters), between the stem (two convolutions, each with 2x2 max
-- pooling) and the head.
local function depth_builders(depth)
  local function stem()
    return {L.Conv2D(16, 3, {padding = "same", activation = "relu", input_shape = {28, 28, 1}}), L.MaxPooling2D(2),
            conv(16, {activation = "relu"}), L.MaxPooling2D(2)}
  end
  local function head(list)
    list[#list + 1] = L.Flatten()
    list[#list + 1] = L.Dense(10, {activation = "softmax"})
    return compiled(list)
  end
  return {
    shallow = function()
      return compiled{L.Conv2D(4, 3, {activation = "relu", input_shape = {28, 28, 1}}), L.MaxPooling2D(4), L.Flatten(),
                      L.Dense(10, {activation = "softmax"})}
    end,
    adequate = function()
      return compiled{L.Conv2D(16, 3, {activation = "relu", input_shape = {28, 28, 1}}), L.MaxPooling2D(2),
                      L.Conv2D(32, 3, {activation = "relu"}), L.MaxPooling2D(2), L.Flatten(),
                      L.Dense(10, {activation = "softmax"})}
    end,
    ["deep plain"] = function()
      local list = stem()
      for _ = 1, depth do list[#list + 1] = conv(16, {activation = "relu"}) end
      return head(list)
    end,
    ["deep residual"] = function()
      local list = stem()
      for _ = 1, depth // 2 do
        list[#list + 1] = L.Residual{conv(16, {activation = "relu"}), conv(16)}
        list[#list + 1] = L.ReLU()
      end
      return head(list)
    end,
    ["deep residual+BN"] = function()
      local list = stem()
      for _ = 1, depth // 2 do
        -- momentum 0.9: the moving statistics settle within the few hundred steps of a short run
        list[#list + 1] = L.Residual{conv(16, {use_bias = false}), L.BatchNormalization{momentum = 0.9}, L.ReLU(),
                                     conv(16, {use_bias = false}), L.BatchNormalization{momentum = 0.9}}
        list[#list + 1] = L.ReLU()
      end
      return head(list)
    end,
  }
end

local DEPTH_ORDER = {"shallow", "adequate", "deep plain", "deep residual", "deep residual+BN"}

local function features()
  return {L.Conv2D(16, 3, {activation = "relu", input_shape = {28, 28, 1}}), L.MaxPooling2D(2),
          L.Conv2D(32, 3, {activation = "relu"}), L.MaxPooling2D(2), L.Flatten()}
end

local function with_head(widths)
  local list = features()
  for _, w in ipairs(widths) do list[#list + 1] = L.Dense(w, {activation = "relu"}) end
  list[#list + 1] = L.Dense(10, {activation = "softmax"})
  return compiled(list)
end

local function downsampling(kind)
  if kind == "max pooling" then
    return compiled{L.Conv2D(16, 3, {padding = "same", activation = "relu", input_shape = {28, 28, 1}}),
                    L.MaxPooling2D(2), conv(32, {activation = "relu"}), L.MaxPooling2D(2), L.Flatten(),
                    L.Dense(10, {activation = "softmax"})}
  end
  return compiled{L.Conv2D(16, 3, {padding = "same", activation = "relu", strides = 2, input_shape = {28, 28, 1}}),
                  conv(32, {activation = "relu", strides = 2}), L.Flatten(), L.Dense(10, {activation = "softmax"})}
end

-- The gradient norms of a model's Conv2D rows at step 0, in order (rows of layer_stats).
local function conv_grads(model, x, y)
  local out = {}
  for _, row in ipairs(model:layer_stats(x, y)) do
    if row.type == "Conv2D" and row.grad_norm then out[#out + 1] = row.grad_norm end
  end
  return out
end

local function by_name(records)
  local t = {}
  for _, r in ipairs(records) do t[r.name] = r end
  return t
end

-- The doctor's cases (lesson.lua): the deep plain stack against residual blocks with
-- BatchNormalization, and the dense head that squeezes 800 features through 4 units
-- against the gradual one.
local function doctor(ctx)
  local d = kit.fashion({train = ctx.doctor.train, val = ctx.doctor.val}, "images")
  local builders = depth_builders(ctx.pick{tiny = 4, quick = 12, full = 20})
  local function case(name, make, expect)
    return {name = name, expect = expect, fixed = not expect, build = function()
      return make(), d.train.x, d.train.y, {validation_data = {d.val.x, d.val.y}}
    end}
  end
  return {case("deep plain", builders["deep plain"], "vanishing_gradients"),
          case("deep residual+BN", builders["deep residual+BN"]),
          case("bottleneck 800-4-64-10", function() return with_head{4, 64} end, "bottleneck"),
          case("gradual 800-256-64-10", function() return with_head{256, 64} end)}
end

local function run(ctx)
  kit.one_thread()
  local sizes = ctx.pick{
    tiny = {train = 200, val = 100, epochs = 1, depth = 4},
    quick = {train = 4000, val = 1000, epochs = 5, depth = 12},
    full = {train = 50000, val = 10000, epochs = 15, depth = 20},
  }
  local d = kit.fashion({train = sizes.train, val = sizes.val}, "images")
  local common = {epochs = sizes.epochs, seed = ctx.seed, validation_data = {d.val.x, d.val.y}}
  local s, plots, tables, results = {}, {}, {}, {}

  -- 1. depth
  ctx.log("depth: 5 networks, %d epochs on %d images", sizes.epochs, sizes.train)
  local builders = depth_builders(sizes.depth)
  local dir = ctx.out .. "/depth"
  lesson.mkdir(dir)
  local opts = {sizes = DEPTH_ORDER, plots = dir}
  for k, v in pairs(common) do opts[k] = v end
  local cap = lurn.experiments.capacity_check(function(name) return builders[name]() end, d.train.x, d.train.y, opts)
  local grads = {}
  local probe = {x = d.train.x:narrow(1, 1, 64):contiguous(), y = d.train.y:narrow(1, 1, 64):contiguous()}
  for _, name in ipairs{"deep plain", "deep residual", "deep residual+BN"} do
    lurn.manual_seed(ctx.seed)
    local g = conv_grads(builders[name](), probe.x, probe.y)
    -- g[1], g[2]: the stem; g[3]: the stack's first convolution
    grads[name] = {first = g[3], last = g[#g], ratio = g[3] and g[#g] and g[#g] > 0 and g[3] / g[#g], norms = g}
  end
  local rows = {}
  for _, r in ipairs(cap.runs) do
    local g = grads[r.name]
    rows[#rows + 1] = {r.name, r.params, kit.cell(r.final_loss), kit.cell(r.best_val_loss), kit.cell(r.final_val_metric),
                       kit.cell(r.seconds_per_epoch), r.verdict, g and kit.cell(g.ratio) or "-"}
  end
  tables[#tables + 1] = {caption = ("depth: %d 3x3 convolutions in each deep network's stack"):format(sizes.depth),
    header = {"network", "parameters", "final loss", "best val loss", "final val accuracy", "seconds per epoch",
              "verdict", "grad norm, first / last conv of the stack, step 0"}, rows = rows}
  for _, p in ipairs(kit.experiment_plots(ctx, cap.plots, "capacity_check", {
    val_loss = "depth: validation loss per epoch", loss = "depth: training loss per epoch",
    final_loss = "depth: final training and validation loss per network"})) do plots[#plots + 1] = p end
  local gseries = {}
  for _, name in ipairs{"deep plain", "deep residual", "deep residual+BN"} do
    gseries[#gseries + 1] = {y = grads[name].norms, label = name}
  end
  plots[#plots + 1] = kit.plot(ctx, "lines", "grad_norms_step0.png", {logy = true, xlabel = "convolution (input side first)",
    ylabel = "gradient norm at step 0", title = "per-layer gradient norm before training", table.unpack(gseries)},
    "depth: gradient norm of each convolution at step 0 (log scale)")

  local rec = by_name(cap.runs)
  local function acc(name) return rec[name] and rec[name].final_val_metric end
  local order = {}
  for _, name in ipairs(DEPTH_ORDER) do order[#order + 1] = ("%s %s"):format(name, kit.pct(acc(name))) end
  s[#s + 1] = ("Depth: final validation accuracy %s."):format(table.concat(order, ", "))
  local sh, ad = acc("shallow"), acc("adequate")
  if kit.finite(sh) and kit.finite(ad) then
    if ad - sh >= 0.02 then
      s[#s + 1] = ("The shallow network stayed %.1f points below the adequate one%s."):format(100 * (ad - sh),
        rec.shallow.verdict == "underfitting" and ", with a training loss that marks it as underfitting: too little capacity"
        or "")
    else
      s[#s + 1] = ("The shallow network came within %.1f points of the adequate one: in this run more capacity "
        .. "did not pay."):format(100 * (ad - sh))
    end
  end
  local plain, res, bn = acc("deep plain"), acc("deep residual"), acc("deep residual+BN")
  if kit.finite(plain) and kit.finite(ad) then
    if ad - plain >= 0.02 then
      local ratio = rec["deep plain"].params / rec.adequate.params
      s[#s + 1] = ("The deep plain stack did worse than the adequate network (%.1f points lower) %s: depth alone made "
        .. "it harder to train."):format(100 * (ad - plain), ratio >= 1.5 and ("despite %.0f x its parameters"):format(ratio)
        or ("with %s x its parameters"):format(kit.num(ratio)))
    else
      s[#s + 1] = ("The deep plain stack reached %s against the adequate network's %s: at %d convolutions it still "
        .. "trained here."):format(kit.pct(plain), kit.pct(ad), sizes.depth)
    end
  end
  local gp, gr = grads["deep plain"].ratio, grads["deep residual"].ratio
  if kit.finite(gp) then
    s[#s + 1] = ("At step 0 the plain stack's first convolution had %s the gradient norm of its last (%s in the "
      .. "residual stack, %s with BatchNormalization)%s."):format(
      gp >= 1 and (kit.num(gp) .. " x") or ("1/" .. kit.num(1 / gp) .. " of"), kit.num(gr), kit.num(grads["deep residual+BN"].ratio),
      gp < 0.1 and (": the gradient vanished on its way down" .. (kit.finite(gr) and gr >= 10 * gp
        and ", and the skip connections carried it past" or "")) or
        (gp < 0.5 and ": a gradient fading with depth" or ": no clear vanishing at this depth"))
  end
  for _, pair in ipairs{{"deep residual", res}, {"deep residual+BN", bn}} do
    local name, v = pair[1], pair[2]
    if kit.finite(v) and kit.finite(plain) then
      local diff = v - plain
      s[#s + 1] = ("The %s network %s (%s against %s)."):format(name,
        diff >= 0.01 and ("beat the plain stack by %.1f points"):format(100 * diff)
          or (diff <= -0.01 and ("did %.1f points worse than the plain stack"):format(-100 * diff)
          or "matched the plain stack within a point"), kit.pct(v), kit.pct(plain))
    end
  end
  results.depth = {stack_convolutions = sizes.depth, runs = {}, grad_norms_step0 = grads}
  for i, r in ipairs(cap.runs) do
    results.depth.runs[i] = {name = r.name, params = r.params, verdict = r.verdict, final_loss = r.final_loss,
                             best_val_loss = r.best_val_loss, final_val_accuracy = r.final_val_metric,
                             seconds_per_epoch = r.seconds_per_epoch, history = r.history}
  end

  -- 2. bottleneck against gradual reduction; 3. pooling against strided convolution
  local function compare(title, folder, configs)
    local cdir = ctx.out .. "/" .. folder
    lesson.mkdir(cdir)
    local o = {plots = cdir, title = title}
    for k, v in pairs(common) do o[k] = v end
    return lurn.experiments.compare(configs, d.train.x, d.train.y, o)
  end
  ctx.log("bottleneck and downsampling: 4 networks")
  local heads = compare("Bottleneck", "bottleneck", {
    {name = "bottleneck 800-4-64-10", build = function() return with_head{4, 64} end},
    {name = "gradual 800-256-64-10", build = function() return with_head{256, 64} end},
  })
  local pools = compare("Downsampling", "downsampling", {
    {name = "max pooling", build = function() return downsampling("max pooling") end},
    {name = "strided convolution", build = function() return downsampling("strided") end},
  })
  local function rows_of(result)
    local out = {}
    for _, r in ipairs(result.runs) do
      out[#out + 1] = {r.name, r.params, kit.cell(r.final_loss), kit.cell(r.best_val_loss), kit.cell(r.final_val_metric),
                       kit.cell(r.seconds_per_epoch)}
    end
    return out
  end
  local header = {"network", "parameters", "final loss", "best val loss", "final val accuracy", "seconds per epoch"}
  tables[#tables + 1] = {caption = "bottleneck against gradual reduction (the same convolutions, the dense head differs)",
                         header = header, rows = rows_of(heads)}
  tables[#tables + 1] = {caption = "max pooling against stride-2 convolutions (same output sizes and weights)",
                         header = header, rows = rows_of(pools)}
  for _, p in ipairs(kit.experiment_plots(ctx, heads.plots, "compare", {
    val_loss = "bottleneck: validation loss per epoch", loss = "bottleneck: training loss per epoch"})) do
    plots[#plots + 1] = p
  end
  for _, p in ipairs(kit.experiment_plots(ctx, pools.plots, "compare", {
    val_loss = "downsampling: validation loss per epoch", loss = "downsampling: training loss per epoch"})) do
    plots[#plots + 1] = p
  end

  local b, g = heads.runs[1], heads.runs[2]
  if kit.finite(b.final_val_metric) and kit.finite(g.final_val_metric) then
    local diff = g.final_val_metric - b.final_val_metric
    if diff >= 0.01 then
      s[#s + 1] = ("Squeezing 800 features through 4 units cost %.1f points of validation accuracy against the "
        .. "gradual head (%s against %s; training loss %s against %s): an information bottleneck."):format(100 * diff,
        kit.pct(b.final_val_metric), kit.pct(g.final_val_metric), kit.num(b.final_loss), kit.num(g.final_loss))
    else
      s[#s + 1] = ("The 4-unit bottleneck ended %s against the gradual head's %s: no clear loss from the bottleneck "
        .. "in this run."):format(kit.pct(b.final_val_metric), kit.pct(g.final_val_metric))
    end
  end
  local mp, st = pools.runs[1], pools.runs[2]
  if kit.finite(mp.final_val_metric) and kit.finite(st.final_val_metric) then
    local diff = st.final_val_metric - mp.final_val_metric
    local speed = mp.seconds_per_epoch and st.seconds_per_epoch and st.seconds_per_epoch > 0
      and mp.seconds_per_epoch / st.seconds_per_epoch
    s[#s + 1] = ("Strided convolutions %s (%s against max pooling's %s)%s."):format(
      math.abs(diff) < 0.01 and "matched max pooling within a point" or
        (diff > 0 and ("beat max pooling by %.1f points"):format(100 * diff) or
         ("trailed max pooling by %.1f points"):format(-100 * diff)),
      kit.pct(st.final_val_metric), kit.pct(mp.final_val_metric),
      speed and (", at %s x the speed per epoch (each convolution computes a quarter of the positions)"):format(
        kit.num(speed)) or "")
  end
  local function plain_runs(result)
    local out = {}
    for i, r in ipairs(result.runs) do
      out[i] = {name = r.name, params = r.params, final_loss = r.final_loss, best_val_loss = r.best_val_loss,
                final_val_accuracy = r.final_val_metric, seconds_per_epoch = r.seconds_per_epoch, history = r.history}
    end
    return out
  end
  results.bottleneck, results.downsampling = plain_runs(heads), plain_runs(pools)

  return {
    compared = ("Fashion-MNIST, %d training and %d validation images, every network trained %d epochs with Adam "
      .. "0.001 from the same seed. Depth (`lurn.experiments.capacity_check`): *shallow*, one convolution of 4 filters "
      .. "and 4x4 max pooling; *adequate*, the seeds' two blocks (16 and 32 filters, max pooling); *deep plain*, the "
      .. "adequate network's two blocks (16 filters each) followed by %d 3x3 convolutions of 16 filters at 7x7; *deep "
      .. "residual*, the same convolutions in pairs inside `lurn.layers.Residual` (y = relu(x + F(x))); *deep "
      .. "residual+BN*, with BatchNormalization (momentum 0.9) after each convolution. Verdicts are capacity_check's rules (underfitting: training loss well above the lowest; "
      .. "overfitting: validation loss 10%% above its best). The gradient norms come from `model:layer_stats` on 64 "
      .. "images before any update. Then a dense head after the two blocks that squeezes 800 features through 4 units "
      .. "against one that narrows gradually, and 2x2 max pooling against stride-2 convolutions "
      .. "(`lurn.experiments.compare`)."):format(sizes.train, sizes.val, sizes.epochs, sizes.depth),
    tables = tables,
    plots = plots,
    conclusion = kit.join(s),
    results = results,
  }
end

return lesson.main{name = "capacity", title = "Capacity and architecture", run = run, doctor = doctor}
