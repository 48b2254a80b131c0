-- An encoder-decoder (sequence to sequence) in the Keras 2 idiom: the encoder LSTM reads a
-- sequence and hands its final states (return_state) to the decoder LSTM as its
-- initial_state; the decoder, fed the target shifted by one step (teacher forcing),
-- predicts the target one step at a time. Two inputs, one output: a functional model of
-- several inputs (docs/api.md, Functional models).
--
-- The task is made here (a documented generator, no data file): reverse a sequence of
-- digits 1..9 of length T. Token 0 starts the decoder's input.
--   build/lurn examples/encoder_decoder.lua [epochs]
local lurn = require "lurn"
local L = lurn.layers

local T, DIGITS, UNITS = 6, 10, 64  -- DIGITS one-hot classes: 0 (start) and 1..9
local epochs = tonumber(arg and arg[1]) or 6
lurn.manual_seed(1)

-- n sequences: the encoder's input, the decoder's input (start token then the reversed
-- sequence but its last digit) and the target (the reversed sequence), as class numbers.
local function make(n)
  local src, dec, tgt = {}, {}, {}
  for i = 1, n do
    local s = {}
    for t = 1, T do s[t] = math.random(1, DIGITS - 1) end
    src[i], dec[i], tgt[i] = {}, {0}, {}
    for t = 1, T do
      src[i][t] = s[t]
      tgt[i][t] = s[T - t + 1]
      if t < T then dec[i][t + 1] = s[T - t + 1] end
    end
  end
  return lurn.tensor(src), lurn.tensor(dec), lurn.tensor(tgt)
end
math.randomseed(1)
local src, dec, tgt = make(8000)
local src_test, dec_test, tgt_test = make(1000)

local enc_in = lurn.Input{shape = {T}, name = "source"}
local dec_in = lurn.Input{shape = {T}, name = "decoder_input"}
local _, h, c = table.unpack(L.LSTM(UNITS, {return_state = true, name = "encoder"})(
  L.Embedding(DIGITS, 16, {name = "source_embedding"})(enc_in)))
local seq = L.LSTM(UNITS, {return_sequences = true, name = "decoder"})(
  L.Embedding(DIGITS, 16, {name = "target_embedding"})(dec_in), {initial_state = {h, c}})
local out = L.TimeDistributed(L.Dense(DIGITS, {activation = "softmax"}), {name = "digit"})(seq)
local model = lurn.Model{inputs = {enc_in, dec_in}, outputs = out}
model:summary()
model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.005}, loss = "sparse_categorical_crossentropy",
              metrics = {"accuracy"}}
model:fit({src, dec}, tgt, {epochs = epochs, batch_size = 64, validation_split = 0.1, verbose = 1})
local scores = model:evaluate({source = src_test, decoder_input = dec_test}, tgt_test, {verbose = 0})
print(("test: loss %.4f, per-digit accuracy %.4f (teacher forcing)"):format(scores.loss, scores.accuracy))

-- Greedy decoding without the targets: each predicted digit becomes the next input.
local n = 5
local d = lurn.zeros{n, T}
local first = src_test:narrow(1, 1, n)
for t = 1, T do
  local p = model:predict({first, d}, {verbose = 0})
  local step = p:select(2, t):argmax(2) - 1  -- class numbers are 0-based
  if t < T then d:select(2, t + 1):copy(step:reshape{n}) end
  if t == T then
    for i = 1, n do
      local got, want = {}, {}
      for k = 1, T do
        got[k] = k < T and math.tointeger(d:get(i, k + 1)) or math.tointeger(step:get(i))
        want[k] = math.tointeger(first:get(i, T - k + 1))
      end
      print(("%s -> %s (want %s)"):format(table.concat(first:select(1, i):totable(), " "):gsub("%.0", ""),
        table.concat(got, " "), table.concat(want, " ")))
    end
  end
end
