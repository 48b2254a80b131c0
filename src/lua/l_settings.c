/* Process settings: the random seed, the thread count, the clock, and how much freed
 * memory malloc keeps. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "l_tensor.h"

static int l_manual_seed(lua_State *L) {
  lua_Integer seed = luaL_checkinteger(L, 1);
  lurn_manual_seed((uint64_t)seed);
  return 0;
}

/* set_num_threads(n) fixes the count; set_num_threads("auto") makes it automatic again */
static int l_set_num_threads(lua_State *L) {
  if (lua_type(L, 1) == LUA_TSTRING && strcmp(lua_tostring(L, 1), "auto") == 0) {
    lurn_set_num_threads(0);
    return 0;
  }
  int isnum = 0;
  lua_Integer n = lua_tointegerx(L, 1, &isnum);
  luaL_argcheck(L, isnum && n >= 1 && n <= 4096, 1, "thread count must be an integer between 1 and 4096, or \"auto\"");
  lurn_set_num_threads((int)n);
  return 0;
}

/* get_num_threads() -> the count now, and "fixed" or "auto" */
static int l_get_num_threads(lua_State *L) {
  lua_pushinteger(L, lurn_get_num_threads());
  lua_pushstring(L, lurn_num_threads_fixed() ? "fixed" : "auto");
  return 2;
}

static int l_clock(lua_State *L) {
  lua_pushnumber(L, lurn_clock());
  return 1;
}

/* isatty(fd): whether progress bars can redraw in place. */
static int l_isatty(lua_State *L) {
  lua_Integer fd = luaL_optinteger(L, 1, 1);
  lua_pushboolean(L, fd >= 0 && fd <= INT_MAX && isatty((int)fd));
  return 1;
}

/* core.rng_state() -> the process generator's state as 64 hex digits, and
 * core.set_rng_state(hex): what a model file keeps so that training resumes exactly. */
static int l_rng_state(lua_State *L) {
  const lurn_rng *r = lurn_rng_global();
  char hex[65];
  for (int i = 0; i < 4; i++) snprintf(hex + 16 * i, 17, "%016llx", (unsigned long long)r->s[i]);
  lua_pushlstring(L, hex, 64);
  return 1;
}

static int l_set_rng_state(lua_State *L) {
  size_t len;
  const char *hex = luaL_checklstring(L, 1, &len);
  lurn_rng r = {{0, 0, 0, 0}};
  luaL_argcheck(L, len == 64, 1, "a generator state is 64 hexadecimal digits");
  for (size_t i = 0; i < 64; i++) {
    char c = hex[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    luaL_argcheck(L, v >= 0, 1, "a generator state is 64 lowercase hexadecimal digits");
    r.s[i / 16] = r.s[i / 16] << 4 | (uint64_t)v;
  }
  /* xoshiro's one forbidden state: all zero would give zeros forever */
  luaL_argcheck(L, r.s[0] | r.s[1] | r.s[2] | r.s[3], 1, "a generator state cannot be all zero");
  *lurn_rng_global() = r;
  return 0;
}

/* core.rank_stream(rank) -> the shared state: the process generator (the same in every
 * process of a job) becomes stream `rank` of the family its next number seeds
 * (lurn_rng_split); the state returned is the one it had, which every process shares, for
 * core.set_rng_state once the rank's own draws are done. */
static int l_rank_stream(lua_State *L) {
  lua_Integer rank = luaL_checkinteger(L, 1);
  luaL_argcheck(L, rank >= 0 && rank < INT_MAX, 1, "not a rank");
  lurn_rng stream;
  lurn_rng_split(lurn_rng_global(), (int)rank, &stream);
  l_rng_state(L); /* pushes the shared state */
  *lurn_rng_global() = stream;
  return 1;
}

static const luaL_Reg settings_functions[] = {
    {"rank_stream", l_rank_stream},
    {"rng_state", l_rng_state},
    {"set_rng_state", l_set_rng_state},
    {"isatty", l_isatty},
    {"manual_seed", l_manual_seed},
    {"set_num_threads", l_set_num_threads},
    {"get_num_threads", l_get_num_threads},
    {"clock", l_clock},
    {NULL, NULL},
};

/* Lua's collector frees tensors in batches, some cycles after their last use. glibc
 * returns the top of its heap to the kernel as soon as more than twice the largest
 * block it has seen freed lies there (8 MiB once a 1024 x 1024 result is freed), so
 * every batch is handed back and the next results are written to fresh pages, a
 * page fault per 4 KiB: 8% of a 1024^3 matmul on one core. Blocks up to 32 MiB from
 * the heap and up to 64 MiB of freed memory kept mapped (glibc's own upper bounds
 * for these thresholds) remove that. A user who tunes malloc through
 * GLIBC_TUNABLES keeps their settings. */
static void keep_freed_memory(void) {
#ifdef __GLIBC__
  const char *tunables = getenv("GLIBC_TUNABLES");
  if (tunables && strstr(tunables, "glibc.malloc.")) return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

void l_settings_register(lua_State *L) {
  keep_freed_memory();
  luaL_setfuncs(L, settings_functions, 0);
}
