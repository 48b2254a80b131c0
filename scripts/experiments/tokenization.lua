--- Lesson 4, tokenization: one TextVectorization adapted on the training texts and applied
-- to the test texts, against a second one adapted on the test texts.
--
-- The seeds' story of examples/spam_subjects_vectorizer.lua, run as a lesson: e-mail
-- subjects (examples/data/spam_subjects.csv, spam or ham) classified by Embedding + LSTM on
-- TextVectorization's ids. One vectorizer keeps each word's id between training and test;
-- a second vectorizer adapted on the test texts numbers the words by their frequency in
-- those texts, so the same word gets another id and the model trained on the first
-- numbering reads other words. The section measures the mechanism (the share of the words
-- both vocabularies hold that keep their id) and the cost (test accuracy against always
-- answering the majority class).
--
--   build/lurn scripts/experiments/tokenization.lua [--tiny|--quick|--full] [--out DIR]
package.path = "scripts/experiments/?.lua;" .. package.path
local lesson = require "lesson"
local lurn = require "lurn"
local L = lurn.layers

local MAX_TOKENS, LENGTH = 10000, 16

local function vectorizer(texts)
  local v = L.TextVectorization{max_tokens = MAX_TOKENS}
  v:adapt(texts)
  return v
end

-- The ids of `texts` through `v`, padded at the front to LENGTH (longer subjects keep their
-- first words): masks do not flow between layers yet, so the LSTM, reading left to right,
-- should end on the words.
local function sequences(v, texts)
  local rows = {}
  for i, row in ipairs(v(texts):totable()) do
    local words = {}
    for _, id in ipairs(row) do if id ~= 0 then words[#words + 1] = id end end
    rows[i] = words
  end
  return lurn.preprocessing.sequence.pad_sequences(rows, {maxlen = LENGTH, truncating = "post"})
end

-- Words both vocabularies hold, and how many of them keep their id.
local function overlap(a, b)
  local id_a = {}
  for i, w in ipairs(a:get_vocabulary(false)) do id_a[w] = i end
  local shared, same = 0, 0
  for i, w in ipairs(b:get_vocabulary(false)) do
    if id_a[w] then
      shared = shared + 1
      if id_a[w] == i then same = same + 1 end
    end
  end
  return shared, same
end

local function first_words(v, n)
  local words = {}
  for i, w in ipairs(v:get_vocabulary(false)) do
    if i > n then break end
    words[#words + 1] = w
  end
  return words
end

local function run(ctx)
  local size = ctx.pick{tiny = {train = 2000, test = 600, epochs = 2, units = 16},
                        quick = {train = 3000, test = 1271, epochs = 4, units = 32},
                        full = {train = 3000, test = 1271, epochs = 10, units = 32}}
  lurn.set_num_threads(1)  -- batches of 64 subjects: one thread is faster (run_all.lua restores the count)
  local df = lurn.data.read_csv("examples/data/spam_subjects.csv")
  local texts, labels = df:column("text"), df:column("label"):reshape{-1, 1}
  local train = table.move(texts, 1, size.train, 1, {})
  local test = table.move(texts, size.train + 1, size.train + size.test, 1, {})
  local y_train, y_test = labels:narrow(1, 1, size.train), labels:narrow(1, size.train + 1, size.test)
  ctx.log("%d training and %d test subjects, %d epoch(s)", #train, #test, size.epochs)

  local on_train, on_test = vectorizer(train), vectorizer(test)
  local model = lurn.Sequential{
    L.Embedding(MAX_TOKENS, 32, {input_shape = {LENGTH}}),
    L.LSTM(size.units),
    L.Dense(1, {activation = "sigmoid"}),
  }
  model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.005}, loss = "binary_crossentropy",
                metrics = {"accuracy"}}
  local x_one = sequences(on_train, test)
  local h = model:fit(sequences(on_train, train), y_train, {epochs = size.epochs, batch_size = 64, verbose = 0,
                                                            validation_data = {x_one, y_test}}).history
  local one = model:evaluate(x_one, y_test, {verbose = 0})
  local two = model:evaluate(sequences(on_test, test), y_test, {verbose = 0})
  local spam_share = y_test:mean()
  local majority = math.max(spam_share, 1 - spam_share)
  local shared, same = overlap(on_train, on_test)
  local vocab_train, vocab_test = #on_train:get_vocabulary(false), #on_test:get_vocabulary(false)
  ctx.log("test accuracy %.3f with one vectorizer, %.3f with two (majority %.3f)", one.accuracy, two.accuracy, majority)

  -- the conclusion, from the numbers
  local out = {}
  out[#out + 1] = ("Of the %d words both vocabularies hold, %d (%s) keep their id in the second one."):format(shared,
    same, shared > 0 and ("%.1f%%"):format(100 * same / shared) or "-")
  if one.accuracy > majority + 0.02 then
    out[#out + 1] = ("With the training vectorizer the model reads the test subjects: accuracy %.3f, above the %.3f "
      .. "of always answering the majority class."):format(one.accuracy, majority)
  else
    out[#out + 1] = ("With the training vectorizer the model reached only %.3f against the majority's %.3f: it has "
      .. "not learned enough in this run to show the contrast clearly."):format(one.accuracy, majority)
  end
  if two.accuracy < one.accuracy - 0.05 then
    out[#out + 1] = ("With a second vectorizer adapted on the test texts the same model scores %.3f (%.3f lower)%s: "
      .. "it reads other words under the ids it learned. Adapt one vectorizer on the training texts and apply it "
      .. "to every later text."):format(two.accuracy, one.accuracy - two.accuracy,
      two.accuracy <= majority + 0.02 and ", no better than always answering the majority" or "")
  else
    out[#out + 1] = ("The second vectorizer cost little here (%.3f against %.3f): the expected drop is not shown "
      .. "by this run."):format(two.accuracy, one.accuracy)
  end

  local bars_file = "accuracy.png"
  local spec = {{labels = {"one vectorizer", "two vectorizers", "majority class"},
                 values = {one.accuracy, two.accuracy, majority}, label = "test accuracy"},
                file = ctx.out .. "/" .. bars_file, title = "test accuracy", ylabel = "accuracy"}
  local ok, err = pcall(lurn.plot.bars, spec)
  if not ok and tostring(err):find("gnuplot was not found", 1, true) then
    bars_file = "accuracy.gp"
    spec.file = ctx.out .. "/" .. bars_file
    lurn.plot.bars(spec)
  elseif not ok then
    error(err, 0)
  end

  local w_train, w_test = first_words(on_train, 12), first_words(on_test, 12)
  local word_rows = {}
  for i = 1, math.max(#w_train, #w_test) do word_rows[i] = {i, w_train[i] or "", w_test[i] or ""} end
  return {
    compared = ("E-mail subjects (`examples/data/spam_subjects.csv`): the first %d to train, the next %d to test "
      .. "(%.1f%% spam). TextVectorization (max_tokens %d) ids, padded at the front to %d, into Embedding(%d, 32), "
      .. "LSTM(%d) and a sigmoid; Adam at 0.005, %d epoch(s). The model is trained once, on the ids of a "
      .. "vectorizer adapted on the training texts (%d words); the test texts are then given the ids of **that "
      .. "vectorizer** (one vectorizer) or of **a second one adapted on the test texts** (%d words; two "
      .. "vectorizers)."):format(#train, #test, 100 * spam_share, MAX_TOKENS, LENGTH, MAX_TOKENS, size.units,
      size.epochs, vocab_train, vocab_test),
    tables = {
      {caption = "Test accuracy", header = {"test texts through", "test loss", "test accuracy"},
       rows = {{"the training vectorizer (one)", one.loss, one.accuracy},
               {"a vectorizer adapted on the test texts (two)", two.loss, two.accuracy},
               {"(always the majority class)", "-", majority}}},
      {caption = ("The vocabularies: %d shared words, %d with the same id"):format(shared, same),
       header = {"id", "training vocabulary", "test vocabulary"}, rows = word_rows},
    },
    plots = {{file = bars_file, caption = "Test accuracy: one vectorizer, two, and the majority class"}},
    conclusion = table.concat(out, " "),
    results = {train = #train, test = #test, epochs = size.epochs, one_vectorizer = one, two_vectorizers = two,
               majority = majority, shared_words = shared, same_id = same, training_vocabulary = vocab_train,
               test_vocabulary = vocab_test, loss = h.loss, val_accuracy = h.val_accuracy},
  }
end

return lesson.main{name = "tokenization", title = "Tokenization: one text vectorizer or two", run = run}
