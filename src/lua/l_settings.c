/* Process settings: the random seed, the thread count and the clock. */
#include "l_tensor.h"

static int l_manual_seed(lua_State *L) {
  lua_Integer seed = luaL_checkinteger(L, 1);
  lurn_manual_seed((uint64_t)seed);
  return 0;
}

static int l_set_num_threads(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 1 && n <= 4096, 1, "thread count must be between 1 and 4096");
  lurn_set_num_threads((int)n);
  return 0;
}

static int l_get_num_threads(lua_State *L) {
  lua_pushinteger(L, lurn_get_num_threads());
  return 1;
}

static int l_clock(lua_State *L) {
  lua_pushnumber(L, lurn_clock());
  return 1;
}

static const luaL_Reg settings_functions[] = {
    {"manual_seed", l_manual_seed},
    {"set_num_threads", l_set_num_threads},
    {"get_num_threads", l_get_num_threads},
    {"clock", l_clock},
    {NULL, NULL},
};

void l_settings_register(lua_State *L) { luaL_setfuncs(L, settings_functions, 0); }
