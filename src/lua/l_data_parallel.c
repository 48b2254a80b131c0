/* What data-parallel fit (lua/lurn/training/data_parallel.lua) needs of the job beyond
 * the model's own step: core.allreduce_numbers, the sums over every process of a list of
 * numbers (the running loss and the metrics' states), in double precision so that counts
 * and sums of a long epoch stay exact. The model's methods (data_parallel_step,
 * broadcast_weights, average_statistics) are in l_model.c. */
#include <string.h>

#include "dist/dist.h"
#include "l_tensor.h"

/* core.allreduce_numbers({a, b, ...}) -> {sum of every process's a, ...}; every process
 * must give as many numbers. */
static int l_allreduce_numbers(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer n = luaL_len(L, 1);
  luaL_argcheck(L, n >= 0 && n <= (1 << 24), 1, "too many numbers");
  double *v = lua_newuserdatauv(L, sizeof(double) * (size_t)(n ? n : 1), 0);
  for (lua_Integer i = 0; i < n; i++) {
    lua_geti(L, 1, i + 1);
    int ok;
    v[i] = lua_tonumberx(L, -1, &ok);
    if (!ok) luaL_error(L, "allreduce_numbers: entry %d is not a number", (int)(i + 1));
    lua_pop(L, 1);
  }
  l_check(L, lurn_dist_allreduce_sum_f64(v, (int64_t)n));
  lua_createtable(L, (int)n, 0);
  for (lua_Integer i = 0; i < n; i++) {
    lua_pushnumber(L, v[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static const luaL_Reg data_parallel_functions[] = {
    {"allreduce_numbers", l_allreduce_numbers},
    {NULL, NULL},
};

void l_data_parallel_register(lua_State *L) {
  luaL_setfuncs(L, data_parallel_functions, 0);
}
