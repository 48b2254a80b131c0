--- Lesson 2, time_series: a recurrent forecaster on channels of very different magnitudes,
-- raw (the plateau) against MinMaxScaler.
--
-- The seeds' story of examples/weather_windows.lua, run as a lesson: hourly pressure
-- (~1017 hPa), temperature and wind (~3.6) in Seattle (examples/data/seattle_weather_hourly.csv),
-- windowed as Keras' weather forecasting example (48 hours sampled every 2, the temperature
-- 12 hours later; the first 71.5% of the hours for training, the rest for validation). A
-- GRU (and in quick and full modes an LSTM), then Dense(1), Adam at 0.01. Fed the raw
-- windows, pressure times any kernel weight saturates the gates: the recurrent layer
-- gives the same features for every window (their spread over the validation windows,
-- the mechanism, is measured), the head learns the mean and the loss settles at the
-- target's variance. Scaled by a MinMaxScaler fitted on the training rows, the same model
-- learns. Losses are shown relative to the baselines that make a plateau visible: the
-- training mse over the training targets' variance, the validation mse over that of
-- always answering the training mean.
--
--   build/lurn scripts/experiments/time_series.lua [--tiny|--quick|--full] [--out DIR]
package.path = "scripts/experiments/?.lua;" .. package.path
local lesson = require "lesson"
local lurn = require "lurn"
local P = lurn.preprocessing
local L = lurn.layers

local PAST, FUTURE, STEP = 48, 12, 2

local function windows(series, first, last, shuffle, seed)
  local target = series:select(2, 2)  -- temperature
  local count = last - first + 1 - (PAST + FUTURE)
  return P.timeseries_dataset_from_array(series:narrow(1, first, count),
    target:narrow(1, first + PAST + FUTURE, count), PAST // STEP,
    {sampling_rate = STEP, batch_size = 64, shuffle = shuffle, seed = seed})
end

-- The forecaster: a recurrent cell ("GRU", "LSTM") of `units`, then Dense(1); Adam at 0.01.
local function forecaster(cell, units)
  local model = lurn.Sequential{L[cell](units, {input_shape = {PAST // STEP, 3}}), L.Dense(1)}
  model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.01}, loss = "mse"}
  return model
end

-- One forecaster trained on `series` (raw or scaled) -> a record of plain numbers and the
-- validation forecasts (in time order).
local function train(ctx, cell, units, epochs, series, hours, label)
  lurn.manual_seed(ctx.seed)
  local split = math.floor(0.715 * hours)
  local train_ds = windows(series, 1, split, true, ctx.seed)
  local x_val, y_val = windows(series, split + 1, hours, false):tensors()
  y_val = y_val:reshape{-1, 1}
  local model = forecaster(cell, units)
  local started = lurn.clock()
  local history = model:fit(train_ds, {epochs = epochs, verbose = 0, validation_data = {x_val, y_val}})
  local seconds = lurn.clock() - started
  local _, y_train = train_ds:tensors()
  local variance = y_train:var()
  local mean_only = (y_val - y_train:mean()):pow(2):mean()
  local loss, val_loss = history.history.loss, history.history.val_loss
  local rel_train, rel_val = {}, {}
  for e = 1, #loss do rel_train[e], rel_val[e] = loss[e] / variance, val_loss[e] / mean_only end
  local spread = model.layers[1](x_val):std(1):mean()
  ctx.log("%s %s: training mse / variance %.3f, validation mse / the mean's %.3f, spread %.2g (%.1f s)", cell, label,
    rel_train[#rel_train], rel_val[#rel_val], spread, seconds)
  return {cell = cell, input = label, units = units, epochs = #loss, train_ratio = rel_train, val_ratio = rel_val,
          final_train_ratio = rel_train[#rel_train], final_val_ratio = rel_val[#rel_val], spread = spread,
          final_val_mse = val_loss[#val_loss], mean_only_mse = mean_only, seconds = seconds,
          forecast = model:predict(x_val, {verbose = 0}):reshape{-1}:totable(), actual = y_val:reshape{-1}:totable()}
end

-- lurn.plot[kind](spec) into ctx.out/file, or the gnuplot script where gnuplot is missing.
local function draw(ctx, kind, file, spec, caption)
  spec.file = ctx.out .. "/" .. file
  local ok, err = pcall(lurn.plot[kind], spec)
  if not ok and tostring(err):find("gnuplot was not found", 1, true) then
    file = file:gsub("%.%w+$", ".gp")
    spec.file = ctx.out .. "/" .. file
    lurn.plot[kind](spec)
  elseif not ok then
    error(err, 0)
  end
  return {file = file, caption = caption}
end

local function conclude(records)
  local out = {}
  local by = {}
  for _, r in ipairs(records) do
    by[r.cell] = by[r.cell] or {}
    by[r.cell][r.input] = r
  end
  local plateaus, shown = 0, 0
  for _, r in ipairs(records) do
    if r.input == "raw" then
      local raw, scaled = r, by[r.cell].scaled
      -- the same features for every window: whatever the head learns, it answers a constant
      local plateau = raw.spread < 1e-3
      local learned = scaled.final_val_ratio < 0.5 * raw.final_val_ratio
      if plateau then plateaus = plateaus + 1 end
      if plateau and learned then shown = shown + 1 end
      out[#out + 1] = ("%s raw: its training mse ended at %.3g x the targets' variance and its validation mse at "
        .. "%.3g x that of always answering the training mean, with recurrent features that spread by %.2g over the "
        .. "validation windows%s. Scaled: %.3g x and %.3g x (spread %.2g)."):format(r.cell, raw.final_train_ratio,
        raw.final_val_ratio, raw.spread, not plateau and " (no plateau: it learned something from the raw windows)"
        or raw.final_train_ratio < 1.1 and " (a plateau: it answers the mean, whatever the window)"
        or " (a plateau: one answer whatever the window, its bias still on its way to the mean)", scaled.final_train_ratio,
        scaled.final_val_ratio, scaled.spread)
      if learned then
        out[#out + 1] = ("Scaling cut the %s's validation mse %.3g-fold."):format(r.cell,
          raw.final_val_ratio / math.max(scaled.final_val_ratio, 1e-12))
      else
        out[#out + 1] = ("Scaling did not halve the %s's validation mse here: the expected effect is not shown by "
          .. "this run (more epochs may show it)."):format(r.cell)
      end
    end
  end
  if shown == #records // 2 and shown > 0 then
    out[#out + 1] = "Unscaled, pressure (about 1017) saturates the recurrent gates: scale each channel, fitting the scaler on the training rows."
  elseif plateaus == 0 then
    out[#out + 1] = "No raw run plateaued in this run: the evidence does not show the saturation here."
  end
  return table.concat(out, " ")
end

-- The hours of the three channels (pressure, temperature, wind), the first `hours` of the
-- file, raw and scaled by a MinMaxScaler fitted on the training hours.
local function series(hours)
  local df = lurn.data.read_csv("examples/data/seattle_weather_hourly.csv")
  local data = df:to_tensor{columns = {"pressure", "temperature", "wind"}}:narrow(1, 1, hours)
  local split = math.floor(0.715 * hours)
  return data, P.MinMaxScaler():fit(data:narrow(1, 1, split)):transform(data), split
end

-- The doctor's cases (lesson.lua): the GRU on the raw windows and on the scaled ones.
local function doctor(ctx)
  local hours = ctx.pick{tiny = 1500, quick = 4000, full = 8759}
  local raw, scaled, split = series(hours)
  local function case(name, data, expect)
    local x, y = windows(data, 1, split, false):tensors()
    local x_val, y_val = windows(data, split + 1, hours, false):tensors()
    return {name = name, expect = expect, fixed = not expect, build = function()
      return forecaster("GRU", 32), x, y:reshape{-1, 1}, {validation_data = {x_val, y_val:reshape{-1, 1}}, batch_size = 64}
    end}
  end
  return {case("GRU, raw channels", raw, "unscaled_features"), case("GRU, MinMaxScaler", scaled)}
end

local function run(ctx)
  local size = ctx.pick{
    tiny = {hours = 1500, epochs = 2, units = 8, cells = {"GRU"}},
    quick = {hours = 8759, epochs = 10, units = 32, cells = {"GRU", "LSTM"}},
    full = {hours = 8759, epochs = 30, units = 32, cells = {"GRU", "LSTM"}},
  }
  -- one thread: batches of 64 windows of a 32-unit cell are too small to share (two
  -- threads on two busy cores ran 5 x slower); run_all.lua restores the count
  lurn.set_num_threads(1)
  local data, scaled, split = series(size.hours)
  local mean, std = data:mean(1):totable(), data:std(1):totable()

  local records = {}
  for _, cell in ipairs(size.cells) do
    records[#records + 1] = train(ctx, cell, size.units, size.epochs, data, size.hours, "raw")
    records[#records + 1] = train(ctx, cell, size.units, size.epochs, scaled, size.hours, "scaled")
  end

  local rows, curves, results = {}, {}, {}
  for _, r in ipairs(records) do
    rows[#rows + 1] = {r.cell, r.input, r.train_ratio[1], r.final_train_ratio, r.val_ratio[1], r.final_val_ratio,
                       r.spread, r.seconds}
    curves[#curves + 1] = {y = r.val_ratio, label = ("%s %s"):format(r.cell, r.input)}
    results[#results + 1] = {cell = r.cell, input = r.input, train_ratio = r.train_ratio, val_ratio = r.val_ratio,
                             spread = r.spread, final_val_mse = r.final_val_mse, mean_only_mse = r.mean_only_mse,
                             seconds = r.seconds}
  end
  local plots = {draw(ctx, "lines", "val_ratio.png", {curves[1], table.unpack(curves, 2), logy = true,
    title = "validation mse / always answering the mean", xlabel = "epoch", ylabel = "ratio (1 = the mean)"},
    "Validation mse relative to always answering the training mean (1: the plateau)")}
  -- a week of validation forecasts, raw against scaled, for the first cell
  -- (the scaled model forecasts the scaled temperature: back to deg C through the training
  -- rows' range, which the MinMaxScaler mapped to [0, 1])
  local t_train = data:narrow(1, 1, split):select(2, 2)
  local t_min, t_range = t_train:min(), t_train:max() - t_train:min()
  for _, r in ipairs(records) do
    if r.input == "scaled" then
      for i, v in ipairs(r.forecast) do r.forecast[i] = v * t_range + t_min end
    end
  end
  local week = math.min(7 * 24, #records[1].actual)
  local function first(list) return table.move(list, 1, week, 1, {}) end
  plots[#plots + 1] = draw(ctx, "lines", "forecast.png", {
    {y = first(records[1].actual), label = "actual"},
    {y = first(records[1].forecast), label = records[1].cell .. " raw"},
    {y = first(records[2].forecast), label = records[2].cell .. " scaled"},
    title = "temperature 12 hours ahead, first validation week", xlabel = "window (hour)", ylabel = "deg C"},
    "The first validation week's forecasts: raw (flat: the mean) against scaled")

  return {
    compared = ("Hourly pressure, temperature and wind in Seattle (`examples/data/seattle_weather_hourly.csv`, "
      .. "the first %d hours): channel means %.1f hPa, %.1f deg C and %.2f, standard deviations %.2f, %.2f and %.2f. "
      .. "Windows of %d hours sampled every %d predict the temperature %d hours after; the first 71.5%% of the "
      .. "hours train, the rest validate. A %s(%d) then Dense(1), Adam at 0.01, %d epochs from the same seed, on the "
      .. "**raw** windows and on windows scaled by a **MinMaxScaler** fitted on the training rows. Ratios: training "
      .. "mse over the training targets' variance, validation mse over that of always answering the training mean "
      .. "(1 = the plateau); *spread*: the standard deviation of the recurrent layer's outputs over the validation "
      .. "windows, averaged over units (0: the same features for every window)."):format(size.hours,
      mean[1], mean[2], mean[3], std[1], std[2], std[3], PAST, STEP, FUTURE, table.concat(size.cells, " or "),
      size.units, size.epochs),
    tables = {{caption = "Raw against scaled windows (ratios after the first and the last epoch)",
               header = {"cell", "input", "train ratio, epoch 1", "train ratio, last", "val ratio, epoch 1",
                         "val ratio, last", "spread", "seconds"}, rows = rows}},
    plots = plots,
    conclusion = conclude(records),
    results = {hours = size.hours, epochs = size.epochs, units = size.units, runs = results},
  }
end

return lesson.main{name = "time_series", title = "Time series: a recurrent model on raw or scaled channels", run = run, doctor = doctor}
