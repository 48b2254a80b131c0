-- The seeds' plateau on a real series: hourly pressure (~1017 hPa), temperature and wind
-- (~3.6) in Seattle (examples/data/seattle_weather_hourly.csv), windowed as Keras' weather
-- forecasting example (48 hours sampled every 2, the temperature 12 hours later; the first
-- 71.5% of the hours for training, the rest for validation). A recurrent forecaster, LSTM(32)
-- as Keras' example or GRU(32), then Dense(1), fed the raw windows stalls: pressure times any
-- kernel weight saturates every gate, the recurrent layer gives the same features for every
-- window, the head learns only the mean and the loss settles at the target's variance. The
-- same model on windows scaled by a MinMaxScaler fitted on the training rows learns.
-- Adam(0.01) so that the raw model reaches its plateau in a few epochs (at Keras' 0.001 it
-- is still walking its bias toward the mean after 10 epochs: LSTM training mse / variance
-- 5.42, 3.36, 1.86 after epochs 1, 5, 10, features' spread 6e-8). Run with `build/lurn examples/weather_windows.lua` (the spec
-- spec/preprocessing/timeseries_weather_spec.lua runs a small version).
-- Measured (2026-12-07, 2 shared cores, 1 thread, 10.4 s in all), after epochs 1, 5 and 10:
--   LSTM raw     training mse / variance 3.420, 1.000, 1.001; validation mse / the mean's 0.555, 1.005, 0.977
--   LSTM scaled  training mse / variance 0.209, 0.004, 0.002; validation mse / the mean's 0.015, 0.009, 0.007
--   GRU  raw     training mse / variance 2.398, 1.001, 1.001; validation mse / the mean's 0.720, 1.006, 0.965
--   GRU  scaled  training mse / variance 0.143, 0.003, 0.002; validation mse / the mean's 0.024, 0.007, 0.003
-- "The mean's" is the validation mse of always answering the training targets' mean: raw,
-- the model is that answer (its epoch 1 is lower only because its bias, on its way up to the
-- training mean, passes the colder validation months' mean). The spread of the recurrent
-- features over the validation windows is 0 raw (1.4e-18 for the LSTM), 0.05 scaled. The
-- series is climate normals (30-year averages per hour of the year), smooth, hence the
-- scaled model's near-perfect forecast; the raw model's plateau is the point.
local lurn = lurn or require "lurn"
local P = lurn.preprocessing
local L = lurn.layers

lurn.set_num_threads(1)  -- the numbers above, whatever the machine
local root = os.getenv("LURN_SOURCE_DIR") or "."
local df = lurn.data.read_csv(root .. "/examples/data/seattle_weather_hourly.csv")
local data = df:to_tensor{columns = {"pressure", "temperature", "wind"}}
local n = data:size(1)
local past, future, step = 48, 12, 2
local split = math.floor(0.715 * n)  -- Keras' example's training fraction

local function windows(series, first, last)
  local target = series:select(2, 2)  -- temperature
  local count = last - first + 1 - (past + future)
  return P.timeseries_dataset_from_array(series:narrow(1, first, count),
    target:narrow(1, first + past + future, count), past // step,
    {sampling_rate = step, batch_size = 64, shuffle = true, seed = 1})
end

local function run(cell, series, label)
  lurn.manual_seed(1)
  local train, val = windows(series, 1, split), windows(series, split + 1, n)
  local model = lurn.Sequential{L[cell](32, {input_shape = {past // step, 3}}), L.Dense(1)}
  model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.01}, loss = "mse"}
  local x_val, y_val = val:tensors()
  y_val = y_val:reshape{-1, 1}
  local history = model:fit(train, {epochs = 10, verbose = 0, validation_data = {x_val, y_val}})
  local _, y_train = train:tensors()
  local loss, val_loss = history.history.loss, history.history.val_loss
  -- the plateau: always answering the training targets' mean
  local mean_only = (y_val - y_train:mean()):pow(2):mean()
  -- how much the recurrent features move from one validation window to the next
  local spread = model.layers[1](x_val):std(1):mean()
  print(("%-4s %-6s training mse / variance %.3f, %.3f, %.3f; validation mse / the mean's %.3f, %.3f, %.3f; spread %.2g")
    :format(cell, label, loss[1] / y_train:var(), loss[5] / y_train:var(), loss[10] / y_train:var(),
            val_loss[1] / mean_only, val_loss[5] / mean_only, val_loss[10] / mean_only, spread))
end

print(("channel means: pressure %.1f, temperature %.1f, wind %.2f"):format(table.unpack(data:mean(1):totable())))
local t0 = lurn.clock()
local scaled = P.MinMaxScaler():fit(data:narrow(1, 1, split)):transform(data)
for _, cell in ipairs{"LSTM", "GRU"} do
  run(cell, data, "raw")
  run(cell, scaled, "scaled")
end
print(("%.1f s"):format(lurn.clock() - t0))
