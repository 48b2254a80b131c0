#!/usr/bin/env bash
# Ctrl-C (SIGINT) during fit in a script run by the lurn command, as Keras users expect
# of KeyboardInterrupt: fit stops at the end of the current batch with an error that
# says so, the model keeps the weights of the last finished batch, and a script that
# does not catch the error ends with a non-zero status. A second Ctrl-C still ends a
# runaway script. (The REPL variant is in repl.sh.)
# Usage: bash spec/integration/interrupt.sh BUILD_DIR SOURCE_DIR
set -u

lurn=$(cd "$1" && pwd)/lurn
wait_s=20 # generous for the sanitizer build on a loaded machine
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[[ -x $lurn ]] || { echo "FAIL: no executable $lurn"; exit 1; }

fail() {
  echo "FAIL: $*"
  echo "---- stdout ----"; cat "$work/out"
  echo "---- stderr ----"; cat "$work/err"
  exit 1
}

# A model trained for "ever" on small batches; each batch end takes a snapshot of the
# predictions (predict from a callback, with another batch size, is allowed between
# batches) and prints "batch done" the first time.
cat >"$work/train.lua" <<'EOF'
lurn.manual_seed(3)
local L = lurn.layers
model = lurn.Sequential{L.Dense(16, {activation = "relu", input_shape = {8}}), L.Dense(1)}
model:compile{optimizer = "sgd", loss = "mse"}
local x, y = lurn.randn{64, 8}, lurn.randn{64, 1}
probe = lurn.randn{5, 8}
local announced = false
local snapshot = {on_train_batch_end = function()
  last = model:predict(probe, {batch_size = 2})
  local t = os.clock() + 0.01
  while os.clock() < t do end
  if not announced then
    announced = true
    print("batch done")
    io.stdout:flush()
  end
end}
function train() return model:fit(x, y, {epochs = 1000000, batch_size = 8, verbose = 0, callbacks = {snapshot}}) end
EOF

# Runs lurn on the script $1 in the background, waits for "$2" on its stdout, sends
# SIGINT, waits for "$3" (when given) and sends SIGINT again; sets $status.
run_interrupted() {
  rm -f "$work/out" "$work/err" # the last run's "batch done" must not be read as this one's
  "$lurn" "$1" >"$work/out" 2>"$work/err" &
  local pid=$! deadline=$((SECONDS + wait_s))
  until grep -qs -- "$2" "$work/out"; do
    ((SECONDS < deadline)) || { kill -9 $pid; fail "$1: no '$2' within ${wait_s}s"; }
    sleep 0.05
  done
  kill -INT $pid
  if [[ -n ${3:-} ]]; then
    until grep -qs -- "$3" "$work/out"; do
      ((SECONDS < deadline)) || { kill -9 $pid; fail "$1: no '$3' within ${wait_s}s"; }
      sleep 0.05
    done
    kill -INT $pid
  fi
  while kill -0 $pid 2>/dev/null; do
    ((SECONDS < deadline)) || { kill -9 $pid; fail "$1: still running ${wait_s}s after Ctrl-C"; }
    sleep 0.05
  done
  wait $pid
  status=$?
}

message='interrupted \(Ctrl-C\): training stopped after epoch [0-9]+, batch [0-9]+; the model keeps the weights of the last finished batch'

cat >"$work/uncaught.lua" <<EOF
dofile("$work/train.lua")
train()
print("not reached")
EOF
run_interrupted "$work/uncaught.lua" "batch done"
((status == 1)) || fail "an uncaught interrupt should end the script with status 1, got $status"
# the message may point at the user's line (script.lua:2: ...)
grep -Eq "^.*lurn: ([^ ]*:[0-9]+: )?$message" "$work/err" || fail "the interrupt message is missing"
grep -q "not reached" "$work/out" && fail "the script went on after the interrupt"
echo "ok - Ctrl-C stops fit at the end of a batch and ends the script with status 1"

cat >"$work/caught.lua" <<EOF
dofile("$work/train.lua")
local ok, err = pcall(train)
print("caught:", ok, err)
local diff = (model:predict(probe, {batch_size = 2}) - last):abs():max()
print("difference from the last finished batch: " .. diff)
local history = model:fit(lurn.randn{16, 8}, lurn.randn{16, 1}, {epochs = 2, verbose = 0})
print("fits again: " .. #history.history.loss .. " epochs")
EOF
run_interrupted "$work/caught.lua" "batch done"
((status == 0)) || fail "the script that catches the interrupt should end with status 0, got $status"
grep -Eq "^caught:	false	([^ ]*:[0-9]+: )?$message\$" "$work/out" || fail "pcall(fit) did not return the interrupt message"
grep -qx "difference from the last finished batch: 0.0" "$work/out" ||
  fail "the model does not predict as it did right after its last finished batch"
grep -qx "fits again: 2 epochs" "$work/out" || fail "the model does not train after the interrupt"
echo "ok - after a caught Ctrl-C the model keeps the weights of its last finished batch and trains again"

cat >"$work/runaway.lua" <<EOF
dofile("$work/train.lua")
print(pcall(train))
print("looping")
io.stdout:flush()
while true do end
EOF
run_interrupted "$work/runaway.lua" "batch done" "looping"
((status == 1)) || fail "a second Ctrl-C should end a runaway script with status 1, got $status"
grep -q "interrupted!" "$work/err" || fail "the second Ctrl-C did not interrupt the loop"
echo "ok - a second Ctrl-C ends a runaway script"

echo "all interrupt checks passed"
