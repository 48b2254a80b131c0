#!/usr/bin/env bash
# Data-parallel fit (issue 21) under `mpirun -np 2` on this machine: a model without
# BatchNormalization or Dropout (Conv2D, Dense, Adam) trained with global batch B in two
# processes gives the weights and the logs of one process with batch B, to float
# rounding, with batches the two processes shard unevenly (B = 7: 4 + 3) and a last batch
# of one sample (one process's shard empty); both ranks end with the same weights and
# logs, bit for bit; only rank 0 prints and writes (the progress bar, a CSV log); the same
# seed gives the same bytes on a second run, even when rank 1 draws numbers of its own
# before fit (fit takes rank 0's generator); a fit rank 0 runs alone (run_alone) ends;
# with BatchNormalization{synchronized = true}, with a sequence output whose padded steps
# a mask leaves out, with a model of two inputs and two outputs, sample weights and an
# EarlyStopping, and with a generator on each rank giving its part of every batch, two
# processes match one too. Skipped (77, ctest's
# SKIP_RETURN_CODE) when lurn was built without Open MPI or mpirun is missing.
#
# Tolerance 1e-5 (absolute, on weights of order 0.1-1 and on the logged numbers): the two
# runs sum the same float32 gradients in another order (each process's shard mean times
# its share n_r / B, then the sum over the processes, against one mean over the whole
# batch), which changes the last bits of each step's gradient (about 1e-7 relative); a
# dozen Adam steps carry that into the weights without growing it past 1e-6 here.
# Usage: bash spec/integration/mpi_fit_equivalence.sh BUILD_DIR SOURCE_DIR
source "$(dirname "$0")/../helpers/mpi_fit.bash"

# save.lua: save(model, history, tag) writes result_TAG_rankR.txt, "name value" lines:
# every weight, then each logged value of each epoch (keys sorted)
cat >save.lua <<'EOF'
local dist = require "lurn.distributed"
return function(model, history, tag)
  local out = assert(io.open(("result_%s_rank%d.txt"):format(tag, dist.rank()), "w"))
  for _, w in ipairs(model:get_weights()) do
    for _, v in ipairs(w:reshape{w:numel()}:totable()) do out:write(("w %.9g\n"):format(v)) end
  end
  local keys = {}
  for k in pairs(history.history) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    for e, v in ipairs(history.history[k]) do out:write(("%s%d %.9g\n"):format(k, e, v)) end
  end
  out:close()
end
EOF

# 37 samples, validation_split 0.2: 29 train (batches 7, 7, 7, 7, 1), 8 validate.
cat >train.lua <<'EOF'
local dist = require "lurn.distributed"
local L = lurn.layers
local tag = arg[1]
lurn.manual_seed(42)
local n = 37
local x = lurn.randn{n, 6, 6, 1}
local labels = {}
for i = 1, n do labels[i] = (i * 7) % 3 end
local y = lurn.tensor(labels)
local model, optimizer
if tag:match("^sync") then  -- the global batch's statistics: one process's model
  model = lurn.Sequential{
    L.Conv2D(4, 3, {input_shape = {6, 6, 1}}),
    L.BatchNormalization{synchronized = true},
    L.Activation("relu"),
    L.Flatten(),
    L.Dense(3, {activation = "softmax"}),
  }
  optimizer = lurn.optimizers.SGD{learning_rate = 0.1}
else
  model = lurn.Sequential{
    L.Conv2D(4, 3, {activation = "relu", input_shape = {6, 6, 1}}),
    L.Flatten(),
    L.Dense(8, {activation = "relu"}),
    L.Dense(3, {activation = "softmax"}),
  }
  optimizer = lurn.optimizers.Adam{learning_rate = 0.01}
end
model:compile{optimizer = optimizer, loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
-- the second run: rank 1 draws numbers of its own before fit, which takes rank 0's generator
if tag == "again" and dist.rank() == 1 then lurn.randn{5} end
local h = model:fit(x, y, {epochs = 3, batch_size = 7, verbose = 2, validation_split = 0.2,
                           callbacks = {lurn.callbacks.CSVLogger(("log_%s_rank%d.csv"):format(tag, dist.rank()))}})
dofile("save.lua")(model, h, tag)
-- a fit that rank 0 runs by itself (a hang without run_alone: rank 1 never joins)
if dist.is_main() then dist.run_alone(function() model:fit(x, y, {epochs = 1, verbose = 0}) end) end
EOF

"$lurn" train.lua one >out 2>err || fail "one process failed"
cp out one.out
run_mpi 2 train.lua two || fail "mpirun -np 2 failed"
cp out two.out
run_mpi 2 train.lua again || fail "the second mpirun -np 2 failed"

cmp -s result_two_rank0.txt result_two_rank1.txt || fail "the two ranks ended with other weights or logs"
cmp -s result_two_rank0.txt result_again_rank0.txt ||
  fail "a second run with the same seed (rank 1 drawing numbers of its own before fit) gave other bytes"
# close A B: the weights and logs of A and B, line by line, within 1e-5 of each other
close() {
  awk 'NR == FNR { a[FNR] = $2; k[FNR] = $1; lines = FNR; next }
       { if (k[FNR] != $1) { print "line " FNR ": " k[FNR] " against " $1; bad = 1; exit }
         d = a[FNR] - $2; if (d < 0) d = -d; if (d > m) m = d }
       END { if (bad) exit 1
             if (FNR != lines) { print lines " lines against " FNR; exit 1 }
             print "largest difference from one process: " m; exit !(m <= 1e-5) }' "$1" "$2"
}
close result_one_rank0.txt result_two_rank0.txt || fail "two processes differ from one by more than 1e-5"

epochs=$(grep -c "^Epoch 1/3" two.out)
[[ $epochs == 1 ]] || fail "'Epoch 1/3' printed $epochs times under two processes (rank 0 alone prints)"
[[ -f log_two_rank0.csv && ! -e log_two_rank1.csv ]] || fail "rank 1 wrote its CSV log (rank 0 alone writes)"
cmp -s <(cut -d, -f2- log_one_rank0.csv | head -1) <(cut -d, -f2- log_two_rank0.csv | head -1) ||
  fail "the CSV log's columns differ from one process's"
# BatchNormalization{synchronized = true}: two processes normalise with the statistics of
# the global batch, as one process does (SGD: Adam would turn the rounding noise of the
# Conv2D bias's gradient, zero in exact arithmetic under a BatchNormalization, into steps)
"$lurn" train.lua syncone >out 2>err || fail "one process failed (synchronized)"
run_mpi 2 train.lua synctwo || fail "mpirun -np 2 failed (synchronized)"
cmp -s result_synctwo_rank0.txt result_synctwo_rank1.txt || fail "synchronized: the ranks ended with other weights"
close result_syncone_rank0.txt result_synctwo_rank0.txt || fail "synchronized: two processes differ from one"

# A sequence output with padded steps (Masking): the loss is the mean over the real steps,
# so each shard weighs by its real steps, not its samples (0.04 apart from one process
# when it weighed by samples)
cat >masked.lua <<'EOF'
local L = lurn.layers
lurn.manual_seed(9)
local n, steps = 23, 5
local x, y = lurn.randn{n, steps, 2}, lurn.randn{n, steps, 1}
for i = 1, n do  -- sample i: 1 + (i * 3) % steps real steps, then padding
  for t = 2 + (i * 3) % steps, steps do x:narrow(1, i, 1):narrow(2, t, 1):fill(0) end
end
local model = lurn.Sequential{
  L.Masking{mask_value = 0, input_shape = {steps, 2}},
  L.SimpleRNN(4, {return_sequences = true}),
  L.TimeDistributed(L.Dense(1)),
}
model:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0.1}, loss = "mse"}
local h = model:fit(x, y, {epochs = 3, batch_size = 5, verbose = 0})
dofile("save.lua")(model, h, arg[1])
EOF
"$lurn" masked.lua maskone >out 2>err || fail "one process failed (masked)"
run_mpi 2 masked.lua masktwo || fail "mpirun -np 2 failed (masked)"
close result_maskone_rank0.txt result_masktwo_rank0.txt || fail "masked: two processes differ from one"

# Two inputs and two outputs, per-output losses, weights and metrics, sample weights, a
# validation tail and an EarlyStopping that stops both ranks at the same epoch
cat >multi.lua <<'EOF'
local L = lurn.layers
lurn.manual_seed(3)
local n = 41
local a_in, b_in = lurn.Input{shape = {4}, name = "a"}, lurn.Input{shape = {3}, name = "b"}
local h = L.Concatenate()({L.Dense(6, {activation = "relu"})(a_in), b_in})
local model = lurn.Model{inputs = {a_in, b_in}, outputs = {L.Dense(3, {activation = "softmax", name = "label"})(h),
                                                           L.Dense(1, {name = "score"})(h)}}
model:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0.05},
              loss = {label = "sparse_categorical_crossentropy", score = "mse"}, loss_weights = {label = 1, score = 0.5},
              metrics = {label = {"accuracy"}, score = {"mae"}}}
local labels = {}
for i = 1, n do labels[i] = (i * 5) % 3 end
local h = model:fit({lurn.randn{n, 4}, lurn.randn{n, 3}}, {lurn.tensor(labels), lurn.randn{n, 1}},
                    {epochs = 6, batch_size = 6, verbose = 0, validation_split = 0.25, sample_weight = lurn.rand{n} + 0.5,
                     callbacks = {lurn.callbacks.EarlyStopping{monitor = "val_loss", patience = 1}}})
dofile("save.lua")(model, h, arg[1])
EOF
"$lurn" multi.lua multione >out 2>err || fail "one process failed (two outputs)"
run_mpi 2 multi.lua multitwo || fail "mpirun -np 2 failed (two outputs)"
cmp -s result_multitwo_rank0.txt result_multitwo_rank1.txt || fail "two outputs: the ranks ended with other weights or logs"
close result_multione_rank0.txt result_multitwo_rank0.txt || fail "two outputs: two processes differ from one"

# A generator on each rank giving that rank's part of every global batch (Horovod's way):
# the same weights as one process whose generator gives the whole batches; a rank whose
# generator ends early ends the epoch for both
cat >gen.lua <<'EOF'
local dist = require "lurn.distributed"
local tag, rank, size = arg[1], dist.rank(), dist.size()
lurn.manual_seed(8)
local n, batch = 30, 7 -- 5 global batches: 7, 7, 7, 7, 2
local x, y = lurn.randn{n, 5}, lurn.randn{n, 2}
local b, calls = 0, 0
local function part() -- this rank's contiguous part of global batch b (all of it in one process)
  calls = calls + 1
  if tag == "genshort" and rank == 1 and calls == 8 then return nil end -- ends in epoch 2
  b = b % 5 + 1
  local start = (b - 1) * batch + 1
  local whole = math.min(batch, n - start + 1)
  local base, extra = whole // size, whole % size
  local first, count = start + rank * base + math.min(rank, extra), base + (rank < extra and 1 or 0)
  return x:narrow(1, first, count), y:narrow(1, first, count)
end
local model = lurn.Sequential{lurn.layers.Dense(4, {activation = "relu", input_shape = {5}}), lurn.layers.Dense(2)}
model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.01}, loss = "mse", metrics = {"mae"}}
local h = model:fit(part, {epochs = 3, steps_per_epoch = 5, verbose = 0})
dofile("save.lua")(model, h, tag)
EOF
"$lurn" gen.lua genone >out 2>err || fail "one process failed (generator)"
run_mpi 2 gen.lua gentwo || fail "mpirun -np 2 failed (generator)"
cmp -s result_gentwo_rank0.txt result_gentwo_rank1.txt || fail "generator: the ranks ended with other weights or logs"
close result_genone_rank0.txt result_gentwo_rank0.txt || fail "generator: two processes differ from one"
run_mpi 2 gen.lua genshort || fail "mpirun -np 2 failed (a generator that ends early on rank 1)"
cmp -s result_genshort_rank0.txt result_genshort_rank1.txt || fail "generator ending early: the ranks differ"

echo "PASS: two processes match one (within 1e-5), both ranks and both runs bit for bit, rank 0 alone printed and wrote"
