/* lurn.load_npy(path) and t:save_npy(path). */
#include "l_tensor.h"

static int l_load_npy(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lurn_tensor *t;
  l_check(L, lurn_npy_load(path, &t));
  l_pushtensor(L, t);
  return 1;
}

static int l_save_npy(lua_State *L) {
  lurn_tensor *t = l_checktensor(L, 1);
  const char *path = luaL_checkstring(L, 2);
  l_check(L, lurn_npy_save(path, t));
  lua_settop(L, 1);
  return 1;
}

void l_npy_register(lua_State *L) {
  lua_pushcfunction(L, l_load_npy);
  lua_setfield(L, -2, "load_npy");
  luaL_getmetatable(L, LURN_TENSOR_MT);
  lua_getfield(L, -1, "__index");
  lua_pushcfunction(L, l_save_npy);
  lua_setfield(L, -2, "save_npy");
  lua_pop(L, 2);
}
