#!/usr/bin/env bash
# Data-parallel fit (issue 21) under `mpirun -np 2` with the layers that make processes
# differ (BatchNormalization on each shard's statistics, Dropout on each rank's own stream)
# and BackupAndRestore: both ranks end with the same weights (the moving statistics
# averaged over the ranks after every epoch) and the same logs, bit for bit; a rerun with
# the same seed gives the same bytes; a job that a rank's error ends at epoch 3, started
# again, resumes from the last backup (written by rank 0, read by every rank) and ends
# with the weights of the uninterrupted job, bit for bit. Skipped (77, ctest's
# SKIP_RETURN_CODE) when lurn was built without Open MPI or mpirun is missing.
# Usage: bash spec/integration/mpi_fit_restore.sh BUILD_DIR SOURCE_DIR
source "$(dirname "$0")/../helpers/mpi_fit.bash"

# train.lua TAG [EPOCH]: 5 epochs, a backup in backup_TAG... (the folder named by the
# first word of TAG), rank 1 failing at the end of EPOCH (0-based) when given.
cat >train.lua <<'EOF'
local dist = require "lurn.distributed"
local L = lurn.layers
local tag, fail_at = arg[1], tonumber(arg[2])
lurn.manual_seed(7)
local n = 45
local x = lurn.randn{n, 5}
local labels = {}
for i = 1, n do labels[i] = (i * 5) % 2 end
local y = lurn.tensor(labels)
local model = lurn.Sequential{
  L.Dense(8, {input_shape = {5}}),
  L.BatchNormalization(),
  L.Activation("relu"),
  L.Dropout(0.3),
  L.Dense(2, {activation = "softmax"}),
}
model:compile{optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
local breaker = lurn.callbacks.LambdaCallback{on_epoch_end = function(epoch)
  if epoch == fail_at and dist.rank() == 1 then error("rank 1 fails at epoch " .. epoch) end
end}
local backup = lurn.callbacks.BackupAndRestore("backup_" .. tag:match("^%a+"))
local h = model:fit(x, y, {epochs = 5, batch_size = 9, verbose = 0, validation_split = 0.2,
                           callbacks = {backup, breaker}})
local out = assert(io.open(("weights_%s_rank%d.txt"):format(tag, dist.rank()), "w"))
for _, w in ipairs(model:get_weights()) do
  for _, v in ipairs(w:reshape{w:numel()}:totable()) do out:write(("%.9g\n"):format(v)) end
end
out:close()
out = assert(io.open(("logs_%s_rank%d.txt"):format(tag, dist.rank()), "w"))
for _, k in ipairs{"loss", "accuracy", "val_loss", "val_accuracy"} do
  for e, v in ipairs(h.history[k]) do out:write(("%s%d %.9g\n"):format(k, e, v)) end
end
out:close()
EOF

run_mpi 2 train.lua whole || fail "the job failed"
cmp -s weights_whole_rank0.txt weights_whole_rank1.txt || fail "the ranks ended with other weights"
cmp -s logs_whole_rank0.txt logs_whole_rank1.txt || fail "the ranks logged other numbers"
run_mpi 2 train.lua wholeagain || fail "the second job failed"
cmp -s weights_whole_rank0.txt weights_wholeagain_rank0.txt || fail "a rerun with the same seed gave other weights"

run_mpi 2 train.lua cut 2 && fail "the job that rank 1 breaks ended with status 0"
grep -q "rank 1 fails at epoch 2" err || fail "the error of rank 1 is not on stderr"
[[ -f backup_cut/backup.lurn ]] || fail "no backup left by the job that failed"
run_mpi 2 train.lua cut || fail "the job started again failed"
cmp -s weights_whole_rank0.txt weights_cut_rank0.txt || fail "the resumed job ended with other weights than the whole one"
cmp -s weights_cut_rank0.txt weights_cut_rank1.txt || fail "the resumed ranks ended with other weights"
[[ ! -e backup_cut/backup.lurn ]] || fail "the finished job left its backup"
echo "PASS: BatchNormalization and Dropout: ranks and reruns bit for bit; a broken job resumes from its backup to the same weights"
