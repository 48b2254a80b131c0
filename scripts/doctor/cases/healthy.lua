--- The corpus's healthy models, one or more on every shipped data set (examples/data/, and
-- Fashion-MNIST): no warning or error may come of them (docs/doctor.md, "The corpus").
return function(kit)
  local imputed = kit.imputed
  local lurn = rawget(_G, "lurn") or require "lurn"
  local L = kit.L
  local on, from = kit.on, kit.from
  local P = lurn.preprocessing

  -- The Seattle weather normals (8759 hours of pressure, temperature, wind): the temperature
  -- 6 hours after a day of readings (every 2nd hour, 36 values), by an MLP regressor; the
  -- first 70% of the hours train, the rest validate (a series is split in time); each
  -- channel standardized on the training hours.
  local function weather(epochs)
    local df = lurn.data.read_csv(("%s/examples/data/seattle_weather_hourly.csv"):format(kit.ROOT or "."))
    local data = df:to_tensor{columns = {"pressure", "temperature", "wind"}}
    local n, past, step, ahead = data:size(1), 24, 2, 6
    local cut = math.floor(0.7 * n)
    local scaler = P.StandardScaler()
    scaler:fit(data:narrow(1, 1, cut))
    local z = scaler:transform(data):totable()
    local function windows(from_, to)
      local xs, ys = {}, {}
      for t = from_, to - past - ahead + 1, 3 do
        local row = {}
        for k = 0, past - 1, step do
          for c = 1, 3 do row[#row + 1] = z[t + k][c] end
        end
        xs[#xs + 1], ys[#ys + 1] = row, z[t + past - 1 + ahead][2]
      end
      return lurn.tensor(xs), lurn.tensor(ys)
    end
    local xt, yt = windows(1, cut)
    local xv, yv = windows(cut + 1, n)
    lurn.manual_seed(kit.SEED)
    local m = lurn.Sequential{L.Dense(32, {activation = "relu", input_shape = {xt:size(2)}}), L.Dense(1)}
    m:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.001}, loss = "mse"}
    return m, xt, yt, {validation_data = {xv, yv}, epochs = epochs, batch_size = 32}
  end

  -- The spam subjects (4271 lines, 1 spam): a bag of words, TextVectorization's multi_hot
  -- over the 1000 most frequent words of the training lines, into an MLP.
  local function spam(epochs)
    local df = lurn.data.read_csv(("%s/examples/data/spam_subjects.csv"):format(kit.ROOT or "."))
    local texts, labels = df:column("text"), df:column("label")
    local n = #texts
    local cut = math.floor(0.75 * n)  -- the rows are shuffled already (README)
    local train, val = table.move(texts, 1, cut, 1, {}), table.move(texts, cut + 1, n, 1, {})
    local vec = L.TextVectorization{max_tokens = 1000, output_mode = "multi_hot"}
    vec:adapt(train)
    local xt, xv = vec(train), vec(val)
    local yt, yv = labels:narrow(1, 1, cut):contiguous(), labels:narrow(1, cut + 1, n - cut):contiguous()
    lurn.manual_seed(kit.SEED)
    local m = lurn.Sequential{L.Dense(16, {activation = "relu", input_shape = {xt:size(2)}}),
                              L.Dense(2, {activation = "softmax"})}
    m:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.001}, loss = "sparse_categorical_crossentropy",
              metrics = {"accuracy"}}
    return m, xt, yt, {validation_data = {xv, yv}, epochs = epochs, batch_size = 32}
  end

  return {
    {name = "breast_cancer_scaled", healthy = true, epochs = 8, build = on("breast_cancer", kit.scaled)},
    {name = "iris_scaled", healthy = true, twin_of = {"iris_lr_too_high", "iris_lr_too_low", "iris_constant_feature"},
     tiny = true, build = on("iris", kit.scaled)},
    {name = "wine_scaled_mlp", healthy = true, epochs = 20, build = on("wine", kit.scaled)},
    {name = "penguins_mlp", healthy = true, build = from(kit.penguins, imputed)},
    {name = "seattle_weather_mlp", healthy = true, epochs = 10, build = weather},
    {name = "spam_subjects_bag_of_words", healthy = true, epochs = 5, build = spam},
    {name = "fashion_mlp", healthy = true, epochs = 5,
     build = from(function() return kit.fashion(3000) end, function(xt, yt, xv, yv) return xt / 255, yt, xv / 255, yv end,
                  {units = 128, lr = 0.001})},
  }
end
