-- The real series for the seeds' plateau story, examples/data/seattle_weather_hourly.csv
-- (hourly pressure in hPa, temperature in deg C, wind speed): channels two to three orders
-- of magnitude apart, windowed as Keras' weather forecasting example windows Jena's
-- climate (a past of `past` hours sampled every `step`, the target `future` hours after
-- the past ends, x and y cut at the training split); the windows line up with the rows,
-- and MinMaxScaler fitted on the training rows brings every channel to [0, 1] without
-- moving them; a GRU or LSTM forecaster stalls on the raw windows (its loss at the
-- target's variance) and learns on the scaled ones.
local lurn = require "lurn"
local P = lurn.preprocessing

local DATA = (os.getenv("LURN_SOURCE_DIR") or ".") .. "/examples/data/seattle_weather_hourly.csv"
local CHANNELS = {"pressure", "temperature", "wind"}

describe("the weather series (seattle_weather_hourly.csv)", function()
  local df = lurn.data.read_csv(DATA)
  local data = df:to_tensor{columns = CHANNELS}
  local n = data:size(1)

  it("holds 8759 hours of three channels two to three orders of magnitude apart", function()
    assert.equal(8759, n)
    assert.same({"date", "pressure", "temperature", "wind"}, df.columns)
    assert.equal("2010-01-01T01:00:00", df:column("date")[1])
    assert.equal(0, data:isnan():sum())
    local mean = data:mean(1):totable()
    assert.is_true(mean[1] > 1000 and mean[1] < 1030, "pressure " .. mean[1])
    assert.is_true(mean[3] > 2 and mean[3] < 6, "wind " .. mean[3])
    assert.is_true(mean[1] / mean[3] > 100)
    -- and pressure barely moves: its range is a fraction of a percent of its value
    local p = df:column("pressure")
    assert.is_true((p:max() - p:min()) / p:mean() < 0.01)
  end)

  it("is windowed as Keras' weather example: the target comes `future` hours after the past", function()
    local past, future, step = 48, 12, 2
    local train_split = math.floor(0.715 * n)
    local start = past + future  -- Keras: y_train = features.iloc[start:start + train_split]
    local temperature = df:column("temperature")
    local x_train = data:narrow(1, 1, train_split)
    local y_train = temperature:narrow(1, start + 1, train_split)
    local ds = P.timeseries_dataset_from_array(x_train, y_train, past // step,
                                               {sampling_rate = step, batch_size = 256})
    local windows = train_split - (past // step - 1) * step
    assert.equal(windows, ds.n)
    assert.equal(math.ceil(windows / 256), ds:len())
    local xb, yb = ds()
    assert.same({256, 24, 3}, xb:shape())
    assert.same({256}, yb:shape())
    local x, y = ds:tensors()
    assert.same({windows, 24, 3}, x:shape())
    local rows, temps, xt, yt = data:totable(), temperature:totable(), x:totable(), y:totable()
    for _, i in ipairs{1, 2, 1000, windows} do
      for k = 1, 24 do assert.same(rows[i + (k - 1) * step], xt[i][k]) end
      assert.equal(temps[i + past + future], yt[i])
    end
  end)

  it("MinMaxScaler fitted on the training rows puts each channel in [0, 1] and keeps the windows", function()
    local train_split = math.floor(0.715 * n)
    local scaler = P.MinMaxScaler():fit(data:narrow(1, 1, train_split))
    local scaled = scaler:transform(data)
    local train = scaled:narrow(1, 1, train_split)
    for c = 1, 3 do
      local col = train:select(2, c)
      -- float32: pressure's 1017 leaves about 1e-5 of rounding after x * scale_ + min_
      assert.near(0, col:min(), 1e-4)
      assert.near(1, col:max(), 1e-4)
    end
    local raw_x = P.timeseries_dataset_from_array(data, nil, 24, {sampling_rate = 2}):tensors()
    local x = P.timeseries_dataset_from_array(scaled, nil, 24, {sampling_rate = 2}):tensors()
    assert.same(raw_x:shape(), x:shape())
    local again = scaler:transform(raw_x:reshape{-1, 3}):reshape(raw_x:shape())
    assert.same(x:totable()[500], again:totable()[500])
  end)

  it("stalls a GRU or LSTM forecaster fed raw windows at the target's variance, and it learns once scaled", function()
    -- The seed's plateau: a recurrent layer (16 units) then Dense(1) forecasting the
    -- temperature 12 h after 48 h of windows. Raw, pressure (~1017 hPa) times any kernel
    -- weight saturates every gate, so the recurrent layer gives the same features for every
    -- window: the head can learn only the mean, and the loss settles at the target's
    -- variance (mse / variance -> 1) however long it trains. With the channels scaled to
    -- [0, 1] by a MinMaxScaler fitted on the training rows, the same model at the same
    -- seed and learning rate falls to a few percent of it. Adam(0.01) so that the raw
    -- model reaches its plateau (the mean) within the few epochs of a spec; at 0.001 it
    -- is still walking its bias toward the mean after 12 epochs (mse / variance 4.2).
    local past, future, step, split = 48, 12, 2, 2000
    local threads = lurn.get_num_threads()
    lurn.set_num_threads(1)  -- one summation order: the same numbers on every machine
    local function forecast(cell, series)
      lurn.manual_seed(1)
      local target = series:select(2, 2)
      local ds = P.timeseries_dataset_from_array(series:narrow(1, 1, split),
        target:narrow(1, past + future + 1, split), past // step,
        {sampling_rate = step, batch_size = 64, shuffle = true, seed = 1})
      local model = lurn.Sequential{lurn.layers[cell](16, {input_shape = {past // step, 3}}),
                                    lurn.layers.Dense(1)}
      model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.01}, loss = "mse"}
      local history = model:fit(ds, {epochs = 8, verbose = 0}).history.loss
      local x, y = ds:tensors()
      local variance = y:var()
      return {
        loss = model:evaluate(x, y:reshape{-1, 1}, {verbose = 0}).loss / variance,
        last_epochs = {history[7] / variance, history[8] / variance},
        -- how much the recurrent features move from window to window (std over windows)
        spread = model.layers[1](x):std(1):mean(),
      }
    end
    local ok, err = pcall(function()
      local scaled_data = P.MinMaxScaler():fit(data:narrow(1, 1, split)):transform(data)
      for _, cell in ipairs{"GRU", "LSTM"} do
        local raw, scaled = forecast(cell, data), forecast(cell, scaled_data)
        local what = ("%s raw: mse / variance %.4f (last epochs %.4f, %.4f), feature spread %.2g; " ..
                      "scaled: %.4f, spread %.2g"):format(cell, raw.loss, raw.last_epochs[1],
                      raw.last_epochs[2], raw.spread, scaled.loss, scaled.spread)
        -- raw: stalled on the plateau, the features constant (measured: spread 0)
        assert.is_true(math.abs(raw.loss - 1) < 0.05, what)
        assert.is_true(math.abs(raw.last_epochs[1] - 1) < 0.1 and math.abs(raw.last_epochs[2] - 1) < 0.1, what)
        assert.is_true(raw.spread < 1e-3, what)
        -- scaled: learns (measured about 0.01), its features follow the windows
        assert.is_true(scaled.loss < 0.1, what)
        assert.is_true(scaled.spread > 0.02, what)
      end
    end)
    lurn.set_num_threads(threads)
    assert(ok, err)
  end)
end)
