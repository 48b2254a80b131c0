#!/usr/bin/env bash
# The data-parallel step's gradient all-reduce overlapped with backward (issue 21: chunks
# of the flat buffer started as backward completes their layers, src/nn/data_parallel.c)
# gives, under `mpirun -np 2`, the weights and logs of the all-reduce after backward
# (LURN_DP_OVERLAP=0) bit for bit: a model whose gradient makes several chunks (a Dense of
# 128 x 160 values), with an L2 penalty (added as each layer completes), a frozen layer (no
# slot in the buffer), batches the two processes shard unevenly (7: 4 + 3) and a last batch
# of one sample (one shard empty: no backward, its chunks zeros started after); with
# BatchNormalization{synchronized = true} (its sums inside backward, between the chunks);
# and with a sequence output whose padded steps a mask leaves out (the shards weigh by real
# steps, summed at the first layer backward completes). Skipped (77) without Open MPI.
# Usage: bash spec/integration/mpi_fit_overlap.sh BUILD_DIR SOURCE_DIR
source "$(dirname "$0")/../helpers/mpi_fit.bash"

cat >train.lua <<'EOF'
local dist = require "lurn.distributed"
local L = lurn.layers
local case, tag = arg[1], arg[2]
lurn.manual_seed(7)
local model, x, y
if case == "masked" then
  local n, steps = 23, 5
  x, y = lurn.randn{n, steps, 2}, lurn.randn{n, steps, 1}
  for i = 1, n do
    for t = 2 + (i * 3) % steps, steps do x:narrow(1, i, 1):narrow(2, t, 1):fill(0) end
  end
  model = lurn.Sequential{
    L.Masking{mask_value = 0, input_shape = {steps, 2}},
    L.SimpleRNN(4, {return_sequences = true}),
    L.TimeDistributed(L.Dense(1)),
  }
  model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.01}, loss = "mse"}
else
  local n = 29
  x = lurn.randn{n, 6, 6, 1}
  local labels = {}
  for i = 1, n do labels[i] = (i * 7) % 3 end
  y = lurn.tensor(labels)
  model = lurn.Sequential{
    L.Conv2D(4, 3, {input_shape = {6, 6, 1}}),
    case == "sync" and L.BatchNormalization{synchronized = true} or L.Activation("relu"),
    L.Flatten(),
    L.Dense(128, {activation = "relu", kernel_regularizer = lurn.regularizers.l2(0.01)}),
    L.Dense(160, {activation = "relu"}),
    L.Dense(16, {activation = "relu", trainable = false}),
    L.Dense(3, {activation = "softmax"}),
  }
  model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.01}, loss = "sparse_categorical_crossentropy",
                metrics = {"accuracy"}}
end
local h = model:fit(x, y, {epochs = 3, batch_size = 7, verbose = 0})
local out = assert(io.open(("result_%s_%s_rank%d.txt"):format(case, tag, dist.rank()), "w"))
for _, w in ipairs(model:get_weights()) do
  for _, v in ipairs(w:reshape{w:numel()}:totable()) do out:write(("w %.9g\n"):format(v)) end
end
for e, v in ipairs(h.history.loss) do out:write(("loss%d %.9g\n"):format(e, v)) end
out:close()
EOF

for case in plain sync masked; do
  run_mpi 2 train.lua "$case" overlap || fail "$case: mpirun -np 2 failed (overlapped)"
  LURN_DP_OVERLAP=0 run_mpi 2 train.lua "$case" after || fail "$case: mpirun -np 2 failed (after backward)"
  cmp -s "result_${case}_overlap_rank0.txt" "result_${case}_overlap_rank1.txt" ||
    fail "$case: the ranks ended with other weights (overlapped)"
  cmp -s "result_${case}_overlap_rank0.txt" "result_${case}_after_rank0.txt" ||
    fail "$case: the overlapped all-reduce gave other bits than the one after backward"
  echo "ok: $case"
done
echo "PASS: the all-reduce overlapped with backward gives the bits of the one after backward"
