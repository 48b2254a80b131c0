/* lurn.core.load_idx(path): an IDX file (MNIST format, plain or gzip'd) as a float32 tensor. */
#include "l_tensor.h"

static int l_load_idx(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lurn_tensor *t;
  l_check(L, lurn_idx_load(path, &t));
  l_pushtensor(L, t);
  return 1;
}

void l_idx_register(lua_State *L) {
  lua_pushcfunction(L, l_load_idx);
  lua_setfield(L, -2, "load_idx");
}
