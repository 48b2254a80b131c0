#!/usr/bin/env bash
# Proves that lurn works from its build tree and, after `cmake --install`, from the
# install prefix alone: the installed lurn command and plain lua5.4 load the installed
# Lua files and lurn/core.so, and the embedding example compiles and runs against the
# installed header and libraries (through the installed lurn.pc), shared and static;
# help() finds the API reference (docs/api.md) in the build tree and in the install.
# The build happens in a copy of the sources, so SOURCE_DIR is left as it was.
#   bash spec/integration/install.sh BUILD_DIR SOURCE_DIR      (run by ctest)
set -euo pipefail
source_dir=$(cd "$2" && pwd)

# A plain Release build of its own whatever the calling build is; under the sanitizer
# build it would only repeat the release build's run, at the same cost.
case "${LURN_SANITIZE:-OFF}" in
  [Oo][Nn] | [Yy][Ee][Ss] | [Tt][Rr][Uu][Ee] | [Yy] | 1)
    echo "skipped: the install is tested by the release build, not the sanitizer build"
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

# Runs a command quietly, showing its output only when it fails.
quiet() {
  if ! "$@" >"$tmp/step.log" 2>&1; then
    cat "$tmp/step.log"
    fail "$*"
  fi
}

# expect WHAT EXPECTED ACTUAL
expect() {
  [ "$3" = "$2" ] || fail "$1 printed
$3
expected
$2"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lurn-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/src" "$tmp/run"
copy_sources "$source_dir" "$tmp/src"
cp "$source_dir/examples/embed/host.c" "$tmp/run/host.c"

# ctest points these at the source tree and build/lib: they would hide what is tested.
unset LUA_PATH LUA_CPATH LUA_PATH_5_4 LUA_CPATH_5_4 LUA_INIT LUA_INIT_5_4 LURN_LUA_DIR
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
prefix="$tmp/prefix"
quiet cmake -S "$tmp/src" -B "$tmp/build" -DCMAKE_INSTALL_PREFIX="$prefix" -DLURN_BUILD_TESTS=OFF
quiet cmake --build "$tmp/build"
cd "$tmp/run"

probe='print(package.searchpath("lurn", package.path))
print(lurn.matmul(lurn.tensor{{1, 2}, {3, 4}}, lurn.ones{2, 2}):sum())'

# From the build tree, without installing: the sources' lua/ and the binary's lurn.core.
expect "build/lurn" "$tmp/src/lua/lurn/init.lua
20.0" "$("$tmp/build/lurn" -e "$probe")"
# help() reads docs/api.md: from the source tree here, installed beside the Lua files below.
help_of_dense() {
  local out
  out=$("$1" -e 'lurn.help("Dense")')
  case $out in *"Dense(units"*) ;; *) fail "help(\"Dense\") with $1 printed
$out" ;; esac
}
help_of_dense "$tmp/build/lurn"

quiet cmake --install "$tmp/build"
# Nothing below may lean on the sources or the build tree.
rm -rf "$tmp/src" "$tmp/build"

expect "installed lurn" "$prefix/bin/../share/lua/5.4/lurn/init.lua
20.0" "$("$prefix/bin/lurn" -e "$probe")"

help_of_dense "$prefix/bin/lurn"

# Plain lua5.4 with the install's module directories on its paths.
out=$(LUA_PATH="$prefix/share/lua/5.4/?.lua;$prefix/share/lua/5.4/?/init.lua;;" \
  LUA_CPATH="$(dirname "$(find "$prefix" -path '*/lua/5.4/lurn/core.so')")/../?.so;;" \
  lua5.4 -e 'local lurn = require "lurn"
    print(package.searchpath("lurn", package.path))
    print(lurn.matmul(lurn.ones{64, 128}, lurn.full({128, 32}, 0.5)):sum())')
expect "lua5.4 with the install's paths" "$prefix/share/lua/5.4/lurn/init.lua
131072.0" "$out"

# The embedding example against the installed lurn.h and libraries.
pcfile=$(find "$prefix" -name lurn.pc)
[ -n "$pcfile" ] || fail "no lurn.pc installed under $prefix"
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pcfile")
libdir=$(pkg-config --variable=libdir lurn)
read -ra cflags <<<"$(pkg-config --cflags lurn)"
read -ra libs <<<"$(pkg-config --libs lurn)"
quiet cc -o host_shared host.c "${cflags[@]}" "${libs[@]}" -Wl,-rpath,"$libdir"
# The C API alone (lurn.h and the headers it gathers from lurn/) compiles from the prefix.
printf '#include <lurn.h>\nint main(void) { lurn_tensor *t = lurn_tensor_zeros(1, (int64_t[]){3});\n'\
'  int ok = t && lurn_tensor_numel(t) == 3; lurn_tensor_free(t); return !ok; }\n' >c_api.c
quiet cc -Wall -Werror -o c_api c_api.c "${cflags[@]}" "${libs[@]}" -Wl,-rpath,"$libdir"
./c_api || fail "a program of the installed C API failed"
# The host checks its own predictions (C's against Lua's) and exits 1 when they differ; its
# first line is the snippet's result.
host_out=$(./host_shared) || fail "host linked with liblurn.so failed:
$host_out"
expect "host linked with liblurn.so" "sum = 20, shape = (2, 2)" "${host_out%%$'\n'*}"
# Static: liblurn_lua.a and liblurn.a, with what pkg-config --static says they need.
read -ra libs <<<"$(pkg-config --static --libs lurn)"
static=()
for l in "${libs[@]}"; do
  case $l in
    -llurn_lua | -llurn) static+=("$libdir/lib${l#-l}.a") ;;
    *) static+=("$l") ;;
  esac
done
quiet cc -o host_static host.c "${cflags[@]}" "${static[@]}"
ldd host_static | grep -q liblurn && fail "host_static still needs liblurn.so"
host_out=$(./host_static) || fail "host linked with liblurn.a failed:
$host_out"
expect "host linked with liblurn.a" "sum = 20, shape = (2, 2)" "${host_out%%$'\n'*}"

echo "ok: lurn runs from its build tree and from the install prefix; the embedding host builds against the install"
