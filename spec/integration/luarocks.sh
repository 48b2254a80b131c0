#!/usr/bin/env bash
# Proves that `luarocks make rockspec/lurn-scm-1.rockspec` installs lurn into a tree,
# offline, and that plain lua5.4 with that tree's paths can `require "lurn"` and
# compute with it; also that the tree's own `lurn` command finds its Lua files, and
# that help() finds the API reference the rock installs.
# The build happens in a copy of the sources, so SOURCE_DIR is left as it was.
#   bash spec/integration/luarocks.sh BUILD_DIR SOURCE_DIR      (run by ctest)
set -euo pipefail
source_dir=$(cd "$2" && pwd)

# The rock is its own plain Release build whatever the calling build is; under the
# sanitizer build it would only repeat the release build's run, at the same cost.
case "${LURN_SANITIZE:-OFF}" in
  [Oo][Nn] | [Yy][Ee][Ss] | [Tt][Rr][Uu][Ee] | [Yy] | 1)
    echo "skipped: the LuaRocks install is tested by the release build, not the sanitizer build"
    exit 0 ;;
esac

fail() { echo "FAIL: $*" >&2; exit 1; }

# Copies the sources (tracked and untracked files git does not ignore: no build
# directories) from $1 into the existing directory $2.
copy_sources() {
  if git -C "$1" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$1" && git ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do if [ -f "$f" ]; then printf '%s\0' "$f"; fi; done |
      xargs -0 cp --parents -t "$2")
  else
    tar -C "$1" --exclude='./build*' --exclude='./.git' -cf - . | tar -C "$2" -xf -
  fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lurn-luarocks.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/src" "$tmp/home" "$tmp/run"
copy_sources "$source_dir" "$tmp/src"

# ctest sets these to the source tree and build/lib: they would win over the tree.
unset LUA_PATH_5_4 LUA_CPATH_5_4 LUA_INIT LUA_INIT_5_4 LURN_LUA_DIR
# A home of its own keeps a personal LuaRocks config out; proxies that cannot be
# reached make any download fail at once, so passing proves the install is offline.
export HOME="$tmp/home"
export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9
export HTTP_PROXY=$http_proxy HTTPS_PROXY=$https_proxy ALL_PROXY=$http_proxy
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}

tree="$tmp/tree"
if ! (cd "$tmp/src" && luarocks --lua-version 5.4 make rockspec/lurn-scm-1.rockspec --tree "$tree") \
    >"$tmp/make.log" 2>&1; then
  cat "$tmp/make.log"
  fail "luarocks make failed"
fi
# Nothing below may lean on the sources or the build the rock was made from.
rm -rf "$tmp/src"

eval "$(luarocks --lua-version 5.4 --tree "$tree" path)"
cd "$tmp/run"

out=$(lua5.4 -e '
local lurn = require "lurn"
print(package.searchpath("lurn", package.path))
print(package.searchpath("lurn.core", package.cpath))
-- (64 x 128 ones) @ (128 x 32 halves): every entry 64, through cblas_sgemm.
local y = lurn.matmul(lurn.ones{64, 128}, lurn.full({128, 32}, 0.5))
local shape = y:shape()
print(shape[1], shape[2], y:sum(), y:min(), y:max())
lurn.manual_seed(7)
local x = lurn.randn{1000, 4}
print(x:shape()[1], math.abs(x:mean()) < 0.1, math.abs(x:std() - 1) < 0.1)
')
expected="$tree/share/lua/5.4/lurn/init.lua
$tree/lib/lua/5.4/lurn/core.so
64	32	131072.0	64.0	64.0
1000	true	true"
[ "$out" = "$expected" ] || fail "lua5.4 with the tree's paths printed
$out
expected
$expected"

# The lurn command LuaRocks put in the tree finds the tree's Lua files by itself.
out=$(env -u LUA_PATH -u LUA_CPATH "$tree/bin/lurn" -e 'print(package.searchpath("lurn", package.path)); print(lurn.matmul(lurn.tensor{{1, 2}, {3, 4}}, lurn.ones{2, 2}):sum())')
expected="$tree/bin/../share/lua/5.4/lurn/init.lua
20.0"
[ "$out" = "$expected" ] || fail "$tree/bin/lurn printed
$out
expected
$expected"

# help() reads docs/api.md, which the rock installs beside the Lua files.
out=$(lua5.4 -e 'require("lurn").help("Dense")')
case $out in *"Dense(units"*) ;; *) fail "help(\"Dense\") from the rock printed
$out" ;; esac

echo "ok: luarocks make installed lurn into a tree; lua5.4 and the tree's lurn use it; help finds the docs"
