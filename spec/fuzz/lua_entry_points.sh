#!/usr/bin/env bash
# Runs the fuzzer of the Lua entry points (lua_entry_points.lua) in a temporary folder,
# which is where every file it makes lands, and names the call a crash or hang interrupted.
#   bash spec/fuzz/lua_entry_points.sh SECONDS [SEED [OPTIONS...]]
# (ctest: seed 1; scripts/fuzz: a random one). OPTIONS go to the fuzzer (--no-skip, --trace).
# It needs the environment the specs get from ctest (LUA_PATH_5_4, LUA_CPATH_5_4 and, in the
# sanitizer build, LD_PRELOAD of the sanitizer runtimes).
set -euo pipefail
source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=$1
seed=${2:-1}
shift $(($# < 2 ? $# : 2))
work=$(mktemp -d "${TMPDIR:-/tmp}/lurn-fuzz-lua.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/files"

# An allocation above 2 GiB fails (lurn raises "out of memory") instead of being reserved
# and then filled, which would only measure the machine's memory.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_allocation_size_mb=2048"
unset LURN_DATA
status=0
(cd "$work/files" && timeout $((seconds + 60)) lua5.4 "$source_dir/spec/fuzz/lua_entry_points.lua" \
  --seed "$seed" --seconds "$seconds" --last-call "$work/last_call" --report "$work/report" "$@" \
  >/dev/null 2>"$work/stderr") || status=$?
if [ -f "$work/report" ]; then cat "$work/report"; fi
if [ "$status" != 0 ]; then
  tail -n 60 "$work/stderr"
  if [ "$status" = 124 ]; then
    echo "FAIL: the Lua entry-point fuzzer did not finish within $((seconds + 60)) s: a call hangs in C" >&2
  else
    echo "FAIL: the Lua entry-point fuzzer stopped with exit status $status (the report above: a sanitizer's, or an error of the fuzzer itself)" >&2
  fi
  last=$(cat "$work/last_call" 2>/dev/null || echo '(none yet)')
  calls=$(sed -n 's/^seed [0-9]*, call \([0-9]*\):.*/\1/p' <<<"$last")
  echo "  interrupted call: $last" >&2
  echo "  replay (in an empty folder, with the environment above):" >&2
  echo "    lua5.4 $source_dir/spec/fuzz/lua_entry_points.lua --seed $seed --calls ${calls:-N} --trace" >&2
  exit 1
fi
