/* lurn_open: makes `require "lurn"` work in any lua_State (the lurn command, a host
 * application) and sets the global `lurn`. lurn.core comes from this binary; the Lua
 * files come from, in order: $LURN_LUA_DIR, the source tree when the executable runs
 * from the build tree, the install tree next to the running executable (as configured,
 * then the standard <tree>/share/lua/5.4 where LuaRocks deploys them), the install
 * prefix, the source tree this binary was built from. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "l_tensor.h"
#include "lurn_lua.h"
#include "lurn_paths.h"

static int has_lurn(const char *dir) {
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/lurn/init.lua", dir) >= (int)sizeof path) return 0;
  return access(path, R_OK) == 0;
}

/* Writes the directory holding lurn/init.lua into dir; 0 if none is found. */
static int find_lua_dir(char *dir, size_t size) {
  const char *env = getenv("LURN_LUA_DIR");
  if (env && *env) {
    snprintf(dir, size, "%s", env);
    return has_lurn(dir);
  }
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) {
      *slash = '\0';
      /* Run from the build tree (build/lurn, build/examples/...): use the sources. */
      if (strncmp(exe, LURN_MODULE_BUILD_DIR, strlen(LURN_MODULE_BUILD_DIR)) == 0) {
        snprintf(dir, size, "%s", LURN_LUA_SOURCE_DIR);
        if (has_lurn(dir)) return 1;
      }
      /* Installed: <prefix>/bin -> <prefix>/<lua dir> */
      int n = LURN_LUA_INSTALL_DIR[0] == '/' ? snprintf(dir, size, "%s", LURN_LUA_INSTALL_DIR)
                                             : snprintf(dir, size, "%.3000s/../%s", exe, LURN_LUA_INSTALL_DIR);
      if (n > 0 && (size_t)n < size && has_lurn(dir)) return 1;
      /* A LuaRocks tree: <tree>/bin/lurn and <tree>/share/lua/5.4/lurn/init.lua, while
       * LURN_LUA_INSTALL_DIR named the rock's own directory, emptied by the deploy. */
      n = snprintf(dir, size, "%.3000s/../share/lua/" LUA_VERSION_MAJOR "." LUA_VERSION_MINOR, exe);
      if (n > 0 && (size_t)n < size && has_lurn(dir)) return 1;
    }
  }
  if (LURN_LUA_INSTALL_DIR[0] == '/') snprintf(dir, size, "%s", LURN_LUA_INSTALL_DIR);
  else snprintf(dir, size, "%s/%s", LURN_INSTALL_PREFIX, LURN_LUA_INSTALL_DIR);
  if (has_lurn(dir)) return 1;
  snprintf(dir, size, "%s", LURN_LUA_SOURCE_DIR);
  return has_lurn(dir);
}

static int open_lurn(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_lurn_core);
  lua_setfield(L, -2, "lurn.core");
  lua_pop(L, 1);

  char dir[PATH_MAX];
  if (find_lua_dir(dir, sizeof dir)) {
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", dir, dir, lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 2);
  }
  lua_getglobal(L, "require");
  lua_pushliteral(L, "lurn");
  lua_call(L, 1, 1);
  lua_pushvalue(L, -1);
  lua_setglobal(L, "lurn");
  return 1;
}

int lurn_open(lua_State *L) {
  lua_pushcfunction(L, open_lurn);
  int st = lua_pcall(L, 0, 1, 0);
  if (st == LUA_OK) lua_pop(L, 1);
  return st;
}
