-- The seeds' plateau on a real series: hourly pressure (~1017 hPa), temperature and wind
-- (~3.6) in Seattle (examples/data/seattle_weather_hourly.csv), windowed as Keras' weather
-- forecasting example (48 hours sampled every 2, the temperature 12 hours later). A tanh
-- network fed the raw windows stalls, its loss above the target's variance (pressure
-- saturates every unit); the same network on windows scaled by a MinMaxScaler fitted on the
-- training rows learns. Run with `build/lurn examples/weather_windows.lua`.
-- (With GRU/LSTM layers, the same story holds for a recurrent forecaster.)
local lurn = lurn or require "lurn"
local P = lurn.preprocessing

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

local function run(series, label)
  lurn.manual_seed(1)
  local train, val = windows(series, 1, split), windows(series, split + 1, n)
  local model = lurn.Sequential{
    lurn.layers.Flatten{input_shape = {past // step, 3}},
    lurn.layers.Dense(32, {activation = "tanh"}),
    lurn.layers.Dense(1),
  }
  model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.001}, loss = "mse"}
  local x_val, y_val = val:tensors()
  y_val = y_val:reshape{-1, 1}
  local history = model:fit(train, {epochs = 10, verbose = 0, validation_data = {x_val, y_val}})
  local loss = history.history.val_loss
  print(("%-7s validation mse / variance of the target: epoch 1 %.3f, epoch %d %.3f"):format(label,
    loss[1] / y_val:var(), #loss, loss[#loss] / y_val:var()))
end

print(("channel means: pressure %.1f, temperature %.1f, wind %.2f"):format(table.unpack(data:mean(1):totable())))
run(data, "raw")
run(P.MinMaxScaler():fit(data:narrow(1, 1, split)):transform(data), "scaled")
