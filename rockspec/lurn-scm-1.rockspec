-- LuaRocks: `luarocks --lua-version 5.4 make rockspec/lurn-scm-1.rockspec` from the
-- repository root builds the checkout (no fetch) with CMake in build.luarocks/ and
-- installs lurn/*.lua, lurn/core.so and the lurn command into the tree.
rockspec_format = "3.0"
package = "lurn"
version = "scm-1"

source = {
   url = "git+https://example.invalid/lurn.git",  -- placeholder: `luarocks make` builds the current directory
}

description = {
   summary = "A neural-network runtime in C, driven from Lua 5.4",
   license = "MIT",
   detailed = [[
lurn lets you write a deep-learning experiment in a few lines of Lua, in the Keras
vocabulary (Sequential, layers, compile/fit, callbacks), run it fast on the CPU
(OpenBLAS, OpenMP) and see why a network is not learning. The rock installs the
module (require "lurn") and the lurn command with its REPL.
]],
   labels = { "neural-networks", "machine-learning", "tensor" },
}

dependencies = {
   "lua >= 5.4",
}

-- Checked by LuaRocks before the build (set OPENBLAS_DIR / CSV_DIR to point elsewhere).
-- OpenBLAS by its library only: Debian keeps cblas.h in an include subdirectory
-- (/usr/include/<multiarch>/openblas-pthread) that LuaRocks does not search; CMake
-- finds it through pkg-config.
external_dependencies = {
   OPENBLAS = { library = "openblas" },
   CSV = { header = "csv.h", library = "csv" },
}

build = {
   type = "cmake",
   variables = {
      CMAKE_BUILD_TYPE = "Release",
      CMAKE_INSTALL_PREFIX = "$(PREFIX)",
      LURN_LUA_INSTALL_DIR = "$(LUADIR)",   -- lurn/init.lua -> $(LUADIR)/lurn/init.lua
      LURN_CMOD_INSTALL_DIR = "$(LIBDIR)",  -- lurn/core.so  -> $(LIBDIR)/lurn/core.so
      LURN_INSTALL_C_API = "OFF",           -- anything else under $(LIBDIR) would land on package.cpath
      LURN_BUILD_TESTS = "OFF",
      -- The prefixes LuaRocks found the libraries under, for CMake's own search (not
      -- the files themselves: LuaRocks may pick libcsv.a, which cannot go into core.so).
      CMAKE_PREFIX_PATH = "$(OPENBLAS_DIR);$(CSV_DIR)",
   },
}
