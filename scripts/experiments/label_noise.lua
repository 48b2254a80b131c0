--- Lesson 17, label noise: wrong labels in the training data put a floor under the
-- training loss (the network cannot predict a label drawn at random) and a ceiling on the
-- validation accuracy, and a network that trains long enough memorises them. The wrong
-- samples can be found: a network that learned the rest disagrees with them confidently,
-- so their own loss is among the highest. Three versions of the same Fashion-MNIST
-- subset's labels: clean; a share of them flipped to another class at random; and one
-- class pair partly swapped (a share of the trousers labelled "bag" and of the bags
-- labelled "trouser", as a careless annotator or a mixed-up folder would). Each is given
-- to lurn.experiments.label_noise_check with the clean validation images: it trains, then
-- ranks the training samples by their own loss, each scored by a network that did not
-- train on it (cv folds) where the mode allows. Since the lesson made the noise, it knows
-- which labels are wrong: the table gives the share of the suspects that really are, the
-- training loss against the floor the noise puts under it (the entropy of the labels
-- given the true class), and the validation accuracy; the plots show the curves, the
-- sorted per-sample losses and the top suspects. The conclusion is computed from those
-- numbers, the clean run serving as the control (its suspects are hard samples, or labels
-- Fashion-MNIST itself got wrong).
--
--   build/lurn scripts/experiments/label_noise.lua [--tiny|--quick|--full] [--out DIR]
-- lesson.lua and lesson_kit.lua sit beside this file
package.path = (debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. "?.lua;" .. package.path
local lesson = require "lesson"
local kit = require "lesson_kit"
local lurn = require "lurn"
local L = lurn.layers

local CLASSES = 10
local PAIR = {1, 8}  -- trouser, bag
local SHORT = {"top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"}

local function build(units)
  return function()
    local model = lurn.Sequential{
      L.Dense(units, {input_shape = {784}, activation = "relu"}),
      L.Dense(10, {activation = "softmax"}),
    }
    return model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.001},
                         loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
  end
end

local function entropy(probs)
  local h = 0
  for _, p in ipairs(probs) do
    if p > 0 then h = h - p * math.log(p) end
  end
  return h
end

-- Labels with `share` of them flipped to one of the other classes at random (lurn's
-- generator, seeded) -> the new labels (a list), the set of positions changed, the floor.
local function flipped(labels, share, seed)
  lurn.manual_seed(seed)
  local n = #labels
  local order = lurn.randperm(n, "list")
  local m = math.floor(share * n + 0.5)
  local u = lurn.rand{math.max(m, 1)}:totable()
  local out, changed = table.move(labels, 1, n, 1, {}), {}
  for k = 1, m do
    local i = order[k]
    out[i] = (labels[i] + 1 + math.min(CLASSES - 2, math.floor(u[k] * (CLASSES - 1)))) % CLASSES
    changed[i] = true
  end
  -- the label is right with probability 1 - share, each other class share / 9
  local probs = {1 - share}
  for c = 2, CLASSES do probs[c] = share / (CLASSES - 1) end
  return out, changed, entropy(probs)
end

-- Labels with `share` of each class of PAIR labelled as the other -> labels, changed, floor.
local function swapped(labels, share, seed)
  lurn.manual_seed(seed)
  local a, b = PAIR[1], PAIR[2]
  local out, changed = table.move(labels, 1, #labels, 1, {}), {}
  local of = {[a] = {}, [b] = {}}
  for i, c in ipairs(labels) do
    if of[c] then of[c][#of[c] + 1] = i end
  end
  local in_pair = 0
  for c, list in pairs(of) do
    in_pair = in_pair + #list
    local order = lurn.randperm(#list, "list")
    for k = 1, math.floor(share * #list + 0.5) do
      local i = list[order[k]]
      out[i] = c == a and b or a
      changed[i] = true
    end
  end
  return out, changed, in_pair / #labels * entropy({1 - share, share})
end

local function count(set)
  local n = 0
  for _ in pairs(set) do n = n + 1 end
  return n
end

-- The doctor's cases (lesson.lua): the clean labels and the lesson's two kinds of noise.
local function doctor(ctx)
  local d = kit.fashion{train = ctx.doctor.train, val = ctx.doctor.val, flat = true}
  local clean = {}
  for i, v in ipairs(d.y_train:totable()) do clean[i] = math.tointeger(v) end
  local function case(name, labels, expect)
    return {name = name, expect = expect, fixed = not expect, build = function()
      return build(128)(), d.x_train, lurn.tensor(labels), {validation_data = {d.x_val, d.y_val}}
    end}
  end
  local seed = ctx.seed + 7919
  return {case("20% flipped", (flipped(clean, 0.2, seed)), "label_noise"),
          case(("%s/%s 30%% swapped"):format(kit.fashion_name(PAIR[1]), kit.fashion_name(PAIR[2])),
               (swapped(clean, 0.3, seed)), "label_noise"),
          case("clean", clean)}
end

local function run(ctx)
  -- small dense networks: one thread is as fast as two here, and keeps its pace when other programs are
  -- busy on the cores (lurn's threads spin while they wait); run_all.lua restores the count
  lurn.set_num_threads(1)
  local size = ctx.pick{
    tiny = {train = 400, val = 200, units = 32, epochs = 3, cv = nil, flip = 0.2, swap = 0.3},
    quick = {train = 12000, val = 2000, units = 128, epochs = 20, cv = 3, flip = 0.2, swap = 0.3},
    full = {train = 20000, val = 10000, units = 256, epochs = 30, cv = 5, flip = 0.2, swap = 0.3},
  }
  local d = kit.fashion{train = size.train, val = size.val, flat = true}
  local clean = {}
  for i, v in ipairs(d.y_train:totable()) do clean[i] = math.tointeger(v) end
  local versions = {{name = "clean", labels = clean, changed = {}, floor = 0}}
  -- the noise from a seed of its own: KFold{random_state = seed} would otherwise shuffle with the very
  -- permutation that chose the flipped samples, and put them all in one fold
  local noise_seed = ctx.seed + 7919
  local fl, fc, ff = flipped(clean, size.flip, noise_seed)
  versions[2] = {name = ("%.0f%% flipped"):format(100 * size.flip), labels = fl, changed = fc, floor = ff}
  local sl, sc, sf = swapped(clean, size.swap, noise_seed)
  versions[3] = {name = ("%s/%s %.0f%% swapped"):format(kit.fashion_name(PAIR[1]), kit.fashion_name(PAIR[2]),
    100 * size.swap), labels = sl, changed = sc, floor = sf}

  local rows, suspect_rows, loss_curves, acc_curves, val_curves, sorted_curves = {}, {}, {}, {}, {}, {}
  local results = {sizes = size, runs = {}}
  local plots = {}
  for i, v in ipairs(versions) do
    local wrong = count(v.changed)
    v.wrong = wrong
    local top = wrong > 0 and wrong or count(versions[2].changed)  -- the clean control: as many as flipped
    local r = lurn.experiments.label_noise_check(build(size.units), d.x_train, lurn.tensor(v.labels), {
      epochs = size.epochs, batch_size = 32, seed = ctx.seed, cv = size.cv, top = top,
      validation_data = {d.x_val, d.y_val}})
    v.result = r
    local hits = 0
    for _, s in ipairs(r.suspects) do
      if v.changed[s.index] then hits = hits + 1 end
    end
    v.top, v.hits = top, hits
    v.precision = #r.suspects > 0 and hits / #r.suspects or 0
    v.base_rate = wrong / size.train
    local h = r.history
    v.final_loss, v.val_accuracy = kit.last(h.loss), kit.last(h.val_accuracy)
    v.best_val_accuracy = kit.max(h.val_accuracy)
    ctx.log("%s: %d wrong labels, %d of the top %d suspects wrong, validation accuracy %.4f", v.name, wrong, hits, top,
      v.val_accuracy)
    rows[i] = {v.name, wrong, v.floor, v.final_loss, v.val_accuracy, top, hits, wrong > 0 and v.precision or "-",
               r.median_loss}
    loss_curves[i] = {y = h.loss, label = v.name}
    acc_curves[i] = {y = h.accuracy, label = v.name}
    val_curves[i] = {y = h.val_accuracy, label = v.name}
    local sorted = {}
    for k, pos in ipairs(r.ranking) do sorted[k] = r.losses[pos] end
    sorted_curves[i] = {y = sorted, label = v.name}
    -- the first suspects, named
    if wrong > 0 then
      for k = 1, math.min(5, #r.suspects) do
        local s = r.suspects[k]
        suspect_rows[#suspect_rows + 1] = {v.name, k, s.index, kit.fashion_name(s.label), kit.fashion_name(s.predicted),
                                           s.confidence, s.loss, kit.fashion_name(clean[s.index]),
                                           v.changed[s.index] and "yes" or "no"}
      end
    end
    results.runs[i] = {name = v.name, wrong = wrong, floor = v.floor, final_loss = v.final_loss,
                       val_accuracy = v.val_accuracy, top = top, hits = hits, precision = v.precision,
                       median_loss = r.median_loss, loss = h.loss, val_accuracy_curve = h.val_accuracy,
                       conclusion = table.concat(r.conclusion, " ")}
  end

  kit.plot(ctx, plots, "training_loss", "lines", {loss_curves[1], loss_curves[2], loss_curves[3], xlabel = "epoch",
    ylabel = "training loss (on the labels given)", title = "the plateau: training loss per epoch"},
    "Training loss per epoch on the labels each run was given" .. (size.cv and " (the first fold's network)" or "") .. ".")
  kit.plot(ctx, plots, "val_accuracy", "lines", {val_curves[1], val_curves[2], val_curves[3], xlabel = "epoch",
    ylabel = "validation accuracy (clean labels)", title = "validation accuracy per epoch"},
    "Validation accuracy per epoch, on clean validation labels.")
  kit.plot(ctx, plots, "sorted_losses", "lines", {sorted_curves[1], sorted_curves[2], sorted_curves[3], logy = true,
    xlabel = "rank", ylabel = "the sample's own loss", title = "per-sample losses, highest first"},
    "Each training sample's own loss" .. (size.cv and ", out of fold" or "") .. ", sorted: the noisy runs' heads are "
      .. "their wrong labels.")
  -- the top suspects of the flipped run as images
  local flip = versions[2]
  local show = math.min(16, #flip.result.suspects)
  if show > 0 then
    local pos, names = {}, {}
    for k = 1, show do
      local s = flip.result.suspects[k]
      pos[k] = s.index
      names[k] = ("%s/%s%s"):format(SHORT[s.label + 1], SHORT[s.predicted + 1], flip.changed[s.index] and "" or " *")
    end
    kit.plot(ctx, plots, "suspects", "images", {data = kit.rows(d.x_train, pos):reshape(show, 28, 28),
      labels = names, cols = 4, title = "top suspects: label given / predicted"},
      ("The %d highest-loss samples of the flipped run: the label given / the network's prediction (* where the "
        .. "label is Fashion-MNIST's own, not one this lesson flipped)."):format(show))
  end

  -- the conclusion, from the numbers
  local out = {}
  local c = versions[1]
  for k = 2, 3 do
    local v = versions[k]
    local lift = v.base_rate > 0 and v.precision / v.base_rate or 0
    out[#out + 1] = ("With %s (%d wrong labels, %s of the samples), %d of the %d highest-loss samples were wrong "
      .. "labels: %s, %.1f x what picking at random would find."):format(v.name, v.wrong, kit.pct(v.base_rate), v.hits,
      v.top, kit.pct(v.precision), lift)
    local rise = v.final_loss - c.final_loss
    if v.floor > 0.01 and v.final_loss < 0.8 * v.floor then
      out[#out + 1] = ("Its training loss ended at %s, below the floor of %s the noise puts under it: the network is "
        .. "memorising the wrong labels."):format(kit.num(v.final_loss), kit.num(v.floor))
    elseif v.floor > 0.01 and rise > 0.5 * v.floor then
      out[#out + 1] = ("Its training loss plateaued at %s against the clean run's %s: the noise alone puts a floor "
        .. "of %s under it."):format(kit.num(v.final_loss), kit.num(v.final_loss - rise), kit.num(v.floor))
    elseif v.floor > 0.01 then
      out[#out + 1] = ("Its training loss ended at %s, %s above the clean run's, under half the floor of %s the noise "
        .. "sets: at this length of training the plateau does not show yet."):format(kit.num(v.final_loss),
        kit.num(rise), kit.num(v.floor))
    end
    local drop = c.val_accuracy - v.val_accuracy
    out[#out + 1] = drop > 0.01
      and ("Validation accuracy (clean labels) ended %.1f points below the clean run's (%s against %s)."):format(
        100 * drop, kit.num(v.val_accuracy, "%.3f"), kit.num(c.val_accuracy, "%.3f"))
      or ("Validation accuracy (clean labels) ended within a point of the clean run's (%s against %s): the network "
        .. "learned past this noise."):format(kit.num(v.val_accuracy, "%.3f"), kit.num(c.val_accuracy, "%.3f"))
  end
  -- the swapped pair: among the suspects the network disagrees with, the pair's confusions; and the samples
  -- labelled as one of the pair ranked by loss among themselves (what one does once the pair is suspected)
  local sv = versions[3]
  local in_pair, pair_real, wrong_seen = 0, 0, 0
  for _, s in ipairs(sv.result.suspects) do
    if s.predicted ~= s.label then
      wrong_seen = wrong_seen + 1
      if (s.label == PAIR[1] and s.predicted == PAIR[2]) or (s.label == PAIR[2] and s.predicted == PAIR[1]) then
        in_pair = in_pair + 1
        if sv.changed[s.index] then pair_real = pair_real + 1 end
      end
    end
  end
  local labelled = {}
  for i, c in ipairs(sv.labels) do
    if c == PAIR[1] or c == PAIR[2] then labelled[#labelled + 1] = i end
  end
  local losses = sv.result.losses
  table.sort(labelled, function(a, b) return losses[a] > losses[b] or (losses[a] == losses[b] and a < b) end)
  local within = 0
  for k = 1, math.min(sv.wrong, #labelled) do
    if sv.changed[labelled[k]] then within = within + 1 end
  end
  sv.pair_confusions, sv.pair_confusions_real, sv.within_pair_hits = in_pair, pair_real, within
  if wrong_seen > 0 then
    out[#out + 1] = ("In the swapped run, %d of the %d suspects the network disagrees with are %s/%s confusions (%d "
      .. "of them really swapped)."):format(in_pair, wrong_seen, kit.fashion_name(PAIR[1]), kit.fashion_name(PAIR[2]),
      pair_real)
  end
  out[#out + 1] = ("Ranked among the %d samples labelled %s or %s alone, the %d highest losses hold %d of the %d "
    .. "swapped labels (%s): %s."):format(#labelled, kit.fashion_name(PAIR[1]), kit.fashion_name(PAIR[2]), sv.wrong,
    within, sv.wrong, kit.pct(sv.wrong > 0 and within / sv.wrong or 0), within > 0.5 * sv.wrong
      and "a systematic swap hides among the hard samples of other classes, but not within its own pair"
      or "even within the pair the swapped labels do not stand out: the network learned the swap as a rate")
  out[#out + 1] = ("In the clean control the %d highest losses still run from %s to %s (the median %s): hard or "
    .. "mislabelled samples exist in the clean set too, so a suspect is a sample to look at, not one to drop."):format(
    c.top, kit.num(c.result.suspects[#c.result.suspects].loss), kit.num(c.result.suspects[1].loss),
    kit.num(c.result.median_loss))
  results.pair = {classes = PAIR, confusions_in_suspects = sv.pair_confusions,
                  confusions_really_swapped = sv.pair_confusions_real, within_pair_hits = sv.within_pair_hits,
                  swapped = sv.wrong}
  return {
    compared = ("A multilayer perceptron (784-%d-10, Adam 0.001, batch 32, %d epochs) on %d Fashion-MNIST training "
      .. "images, validated on %d other training-file images with their clean labels, trained three times by "
      .. "lurn.experiments.label_noise_check (seed %d%s): on the clean labels, with %s of them flipped to a random "
      .. "other class, and with %s of the trousers labelled \"bag\" and of the bags \"trouser\". The floor is the "
      .. "entropy of the given labels knowing the true class: the lowest training loss the labels allow without "
      .. "memorising."):format(size.units, size.epochs, size.train, size.val, ctx.seed,
      size.cv and (", each sample scored out of fold, %d folds"):format(size.cv) or "", kit.pct(size.flip),
      kit.pct(size.swap)),
    tables = {{caption = "The three label sets: the plateau and the suspects found",
               header = {"labels", "wrong labels", "loss floor from the noise", "final training loss",
                         "final val accuracy", "suspects listed", "suspects really wrong", "share really wrong",
                         "median sample loss"}, rows = rows},
              {caption = "The first suspects of the noisy runs (sample: 1-based position in the subset)",
               header = {"labels", "rank", "sample", "label given", "predicted", "probability", "loss", "true label",
                         "made wrong here"}, rows = suspect_rows}},
    plots = plots,
    conclusion = kit.sentences(out),
    results = results,
  }
end

return lesson.main{name = "label_noise", title = "Label noise: the plateau it causes and the samples that give it away",
                   run = run, doctor = doctor}
