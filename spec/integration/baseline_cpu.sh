#!/usr/bin/env bash
# One binary on a CPU without AVX (issue 20: the portable build dispatches lurn's own
# kernels on the CPU's features, src/kernels/cpu.h): the default build's lurn run on
# Debian's qemu-user emulating a Nehalem (SSE4.2, no AVX), where lurn, OpenBLAS and oneDNN
# must all take their generic paths. lurn says it runs its baseline kernels; the kernel
# test passes there; a small CNN (Conv2D, MaxPooling2D, Dense, Adam and AMSGrad) trains
# there as it does natively: its losses fall, and agree with the native run's to float
# rounding (OpenBLAS and oneDNN round differently per CPU, so not bit for bit; lurn's own
# copies are compared bit for bit by spec/c/test_isa_kernels.c).
# Usage: bash spec/integration/baseline_cpu.sh BUILD_DIR SOURCE_DIR
set -u

build=$(cd "$1" && pwd)
lurn=$build/lurn
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

if [ "$(uname -m)" != x86_64 ]; then echo "ok: not an x86-64 machine, no AVX to leave out"; exit 0; fi
if [ "${LURN_SANITIZE:-OFF}" = ON ]; then
  # AddressSanitizer's shadow memory does not map under qemu-user; the kernel test runs natively there
  echo "ok: sanitizer build, not emulated"
  exit 0
fi
command -v qemu-x86_64 >/dev/null || fail "qemu-x86_64 is missing: apt-get install qemu-user (scripts/test installs it)"
[[ -x $lurn ]] || fail "no executable $lurn"

# The libraries choose from the (emulated) CPU, not from a setting in the environment.
unset OPENBLAS_CORETYPE DNNL_MAX_CPU_ISA DNNL_CPU_ISA_HINTS
emulated() { qemu-x86_64 -cpu Nehalem "$@"; }

version=$(emulated "$lurn" --version) || fail "lurn --version on the emulated CPU: status $?"
[[ $version == *"kernels: baseline"* ]] || fail "the emulated CPU should run the baseline kernels: $version"
echo "ok: $version"

emulated "$build/spec/test_isa_kernels" >"$work/kernels" 2>&1 || { cat "$work/kernels"; fail "test_isa_kernels on the emulated CPU"; }
grep -q "kernels: baseline" "$work/kernels" || fail "test_isa_kernels did not run the baseline copy"
echo "ok: test_isa_kernels on the emulated CPU: $(tail -n 1 "$work/kernels")"

cat >"$work/train.lua" <<'EOF'
-- which half of a 10x10 image holds the bright square: a CNN learns it in a few epochs
lurn.set_num_threads(1)
lurn.manual_seed(5)
local L = lurn.layers
local n = 96
local x, y = lurn.zeros(n, 10, 10, 1), lurn.zeros(n)
for i = 1, n do
  local right = i % 2
  local r, c = 2 + (i * 7) % 6, 1 + (i * 3) % 3 + right * 5
  for dr = 0, 1 do for dc = 0, 1 do x:set(i, r + dr, c + dc, 1, 1) end end
  y:set(i, right)
end
for _, amsgrad in ipairs{false, true} do
  local m = lurn.Sequential{L.Conv2D(8, {3, 3}, {activation = "relu", padding = "same", input_shape = {10, 10, 1}}),
                            L.MaxPooling2D({2, 2}), L.Conv2D(20, {3, 3}, {activation = "relu"}),
                            L.MaxPooling2D({2, 2}, {padding = "same"}), L.Flatten(), L.Dense(2, {activation = "softmax"})}
  m:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.002, amsgrad = amsgrad}, loss = "sparse_categorical_crossentropy"}
  local losses = m:fit(x, y, {epochs = 4, batch_size = 16, verbose = 0, shuffle = false}).history.loss
  local p = m:predict(x:narrow(1, 1, 4))
  print(("amsgrad=%s first=%.6f last=%.6f p=%.6f,%.6f"):format(tostring(amsgrad), losses[1], losses[#losses], p:get(1, 2), p:get(2, 1)))
end
EOF
"$lurn" "$work/train.lua" >"$work/native" 2>&1 || { cat "$work/native"; fail "training natively"; }
emulated "$lurn" "$work/train.lua" >"$work/emulated" 2>&1 || { cat "$work/emulated"; fail "training on the emulated CPU"; }
echo "native:"; cat "$work/native"
echo "emulated:"; cat "$work/emulated"
lua5.4 - "$work/native" "$work/emulated" <<'EOF' || fail "the emulated run differs from the native one beyond rounding"
local function read(path)
  local rows = {}
  for line in io.lines(path) do
    local row = {}
    for k, v in line:gmatch("(%w+)=([^%s,]+)") do row[k] = tonumber(v) or v end
    local p1, p2 = line:match("p=(%S+),(%S+)")
    row.p1, row.p2 = tonumber(p1), tonumber(p2)
    rows[#rows + 1] = row
  end
  return rows
end
local native, emulated = read(arg[1]), read(arg[2])
assert(#native == 2 and #emulated == 2, "two runs each")
for i = 1, 2 do
  local a, b = native[i], emulated[i]
  assert(b.last < 0.75 * b.first, "the emulated run learns: loss " .. b.first .. " -> " .. b.last)
  for _, k in ipairs{"first", "last", "p1", "p2"} do
    assert(math.abs(a[k] - b[k]) <= 1e-3 * math.max(1, math.abs(a[k])), k .. ": " .. a[k] .. " vs " .. b[k])
  end
end
EOF
echo "ok: the CNN trains on the emulated CPU as natively"
