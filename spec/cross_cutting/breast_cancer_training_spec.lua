-- A real data set end to end: examples/data/breast_cancer.csv (Wisconsin diagnostic,
-- 569 tumours, 30 features) read with lurn.data.read_csv, standardised with tensor ops,
-- split deterministically, and a small Sequential network trained on it with Adam.
local lurn = require "lurn"

local DATA = (os.getenv("LURN_SOURCE_DIR") or ".") .. "/examples/data/breast_cancer.csv"

-- Rows 4, 8, 12, ... for testing (142), the others for training (427).
local function split_every_4th(n)
  local train, test = {}, {}
  for i = 1, n do
    if i % 4 == 0 then test[#test + 1] = i else train[#train + 1] = i end
  end
  return train, test
end

describe("training on examples/data/breast_cancer.csv", function()
  it("Dense(16, relu) -> Dense(1, sigmoid) with Adam reaches >= 95% test accuracy in 20 epochs", function()
    local t0 = lurn.clock()
    local df = lurn.data.read_csv(DATA)
    local x = df:to_tensor{columns = table.move(df.columns, 1, 30, 1, {})}
    local y = df:to_tensor{columns = {"target"}} -- (569, 1): 0 malignant, 1 benign
    local train, test = split_every_4th(df:nrows())
    local x_train, y_train = x:index(1, train), y:index(1, train)
    local x_test, y_test = x:index(1, test), y:index(1, test)

    -- Standardise with the training rows' statistics only (area is in the thousands,
    -- smoothness in hundredths: unscaled, the network would hardly learn).
    local mean, std = x_train:mean(1), x_train:std(1)
    x_train = (x_train - mean) / std
    x_test = (x_test - mean) / std
    assert.near(0, x_train:mean(), 1e-4)

    lurn.manual_seed(0)
    local model = lurn.Sequential {
      lurn.layers.Dense(16, {activation = "relu", input_shape = {30}}),
      lurn.layers.Dense(1, {activation = "sigmoid"}),
    }
    model:compile {optimizer = lurn.optimizers.Adam {learning_rate = 0.01}, loss = "binary_crossentropy",
                   metrics = {"accuracy"}}
    local history = model:fit(x_train, y_train, {epochs = 20, batch_size = 32, verbose = 0})
    assert.is_true(history.history.loss[20] < history.history.loss[1])

    local pred = model:predict(x_test)
    local accuracy = pred:gt(0.5):eq(y_test):mean()
    assert.is_true(accuracy >= 0.95, ("test accuracy %.3f < 0.95"):format(accuracy))
    assert.near(accuracy, model:evaluate(x_test, y_test, {verbose = 0}).accuracy, 1e-6)
    assert.is_true(lurn.clock() - t0 < 2, "training took more than 2 s")
  end)
end)
