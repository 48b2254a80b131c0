/* A host application embedding lurn: it opens a Lua state, loads lurn into it, runs
 * a snippet that builds a tensor, and reads the result back in C.
 * Build: part of the CMake build (build/examples/embed_host). */
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>

#include "lurn_lua.h"

static const char *snippet =
    "local a = lurn.tensor{{1, 2}, {3, 4}}\n"
    "local b = lurn.ones{2, 2}\n"
    "return lurn.matmul(a, b):sum(), a:shape()\n";

int main(void) {
  lua_State *L = luaL_newstate();
  if (!L) return 1;
  luaL_openlibs(L);
  if (lurn_open(L) != LUA_OK) {
    fprintf(stderr, "embed_host: cannot open lurn: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return 1;
  }
  if (luaL_dostring(L, snippet) != LUA_OK) {
    fprintf(stderr, "embed_host: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return 1;
  }
  double total = lua_tonumber(L, -2);  /* [[1,2],[3,4]] @ ones = [[3,3],[7,7]] */
  lua_geti(L, -1, 1);
  lua_geti(L, -2, 2);
  printf("sum = %g, shape = (%lld, %lld)\n", total, (long long)lua_tointeger(L, -2), (long long)lua_tointeger(L, -1));
  lua_close(L);
  return total == 20.0 ? 0 : 1;
}
