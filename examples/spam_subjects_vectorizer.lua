-- The seeds' tokenization bug on real text: e-mail subjects (examples/data/spam_subjects.csv,
-- spam or ham), turned into bags of words by TextVectorization. Adapting one vectorizer on
-- the training texts and applying it to the test texts keeps each word's column; adapting a
-- second one on the test texts gives the same words other columns, and the classifier
-- trained on the first reads nonsense. Run with `build/lurn examples/spam_subjects_vectorizer.lua`.
-- (With Embedding and LSTM, the same story holds for the "int" ids.)
local lurn = lurn or require "lurn"

lurn.manual_seed(3)
local root = os.getenv("LURN_SOURCE_DIR") or "."
local df = lurn.data.read_csv(root .. "/examples/data/spam_subjects.csv")
local texts, labels = df:column("text"), df:column("label"):reshape{-1, 1}
local n_train = 3000
local train = table.move(texts, 1, n_train, 1, {})
local test = table.move(texts, n_train + 1, #texts, 1, {})
local y_train, y_test = labels:narrow(1, 1, n_train), labels:narrow(1, n_train + 1, #test)

local function vectorizer(data)
  local v = lurn.layers.TextVectorization{max_tokens = 1000, output_mode = "multi_hot"}
  v:adapt(data)
  return v
end
local on_train, on_test = vectorizer(train), vectorizer(test)

local model = lurn.Sequential{
  lurn.layers.Dense(16, {input_shape = {1000}, activation = "relu"}),
  lurn.layers.Dense(1, {activation = "sigmoid"}),
}
model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.005}, loss = "binary_crossentropy",
              metrics = {"accuracy"}}
model:fit(on_train(train), y_train, {epochs = 8, batch_size = 64, verbose = 0})

local majority = 1 - y_test:mean()
print(("test accuracy, the training vectorizer applied to the test texts: %.3f"):format(
  model:evaluate(on_train(test), y_test, {verbose = 0}).accuracy))
print(("test accuracy, a second vectorizer adapted on the test texts:     %.3f (always 'ham': %.3f)"):format(
  model:evaluate(on_test(test), y_test, {verbose = 0}).accuracy, majority))
local words = {}
for i, w in ipairs(on_train:get_vocabulary()) do if i <= 8 then words[#words + 1] = w end end
print("training vocabulary, most frequent first: " .. table.concat(words, " "))
words = {}
for i, w in ipairs(on_test:get_vocabulary()) do if i <= 8 then words[#words + 1] = w end end
print("test vocabulary, most frequent first:     " .. table.concat(words, " "))
