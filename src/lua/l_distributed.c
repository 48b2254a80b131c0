/* Processes of one job (src/dist/dist.h) for lua/lurn/distributed.lua: core.dist_*.
 *   dist_built() -> boolean          dist_init()
 *   dist_rank(), dist_size() -> integer
 *   dist_barrier()
 *   dist_allreduce(t)                 t (contiguous) becomes the sum over the ranks
 *   dist_broadcast(t, root)           t (contiguous) becomes root's
 *   dist_gather(s, root) -> list|nil  every rank's string, in rank order, on root
 *   dist_broadcast_string(s, root) -> root's string on every rank (s: anything elsewhere) */
#include <stdint.h>
#include <stdlib.h>

#include "dist/dist.h"
#include "l_tensor.h"

static int l_dist_built(lua_State *L) {
  lua_pushboolean(L, lurn_dist_built());
  return 1;
}

static int l_dist_init(lua_State *L) {
  l_check(L, lurn_dist_init());
  return 0;
}

static int l_dist_rank(lua_State *L) {
  lua_pushinteger(L, lurn_dist_rank());
  return 1;
}

static int l_dist_size(lua_State *L) {
  lua_pushinteger(L, lurn_dist_size());
  return 1;
}

static int l_dist_barrier(lua_State *L) {
  l_check(L, lurn_dist_barrier());
  return 0;
}

/* The tensor at idx, which a collective writes in place: its own elements, packed. */
static lurn_tensor *in_place_tensor(lua_State *L, int idx, const char *what) {
  lurn_tensor *t = l_totensor(L, idx);
  if (!t) luaL_error(L, "%s: the first argument must be a tensor, got %s", what, luaL_typename(L, idx));
  if (!lurn_tensor_is_contiguous(t))
    luaL_error(L, "%s writes the tensor in place: give a contiguous one (t:contiguous(), then use that copy)",
               what);
  return t;
}

static int check_root(lua_State *L, int idx, const char *what) {
  lua_Integer root = luaL_optinteger(L, idx, 0);
  int size = lurn_dist_size();
  if (root < 0 || root >= size)
    luaL_error(L, "%s: root must be a rank of the job, 0 .. %d, got %I", what, size - 1, root);
  return (int)root;
}

static int l_dist_allreduce(lua_State *L) {
  lurn_tensor *t = in_place_tensor(L, 1, "allreduce");
  l_check(L, lurn_dist_allreduce_sum_f32(lurn_tensor_data(t), lurn_tensor_numel(t)));
  lua_settop(L, 1);
  return 1;
}

static int l_dist_broadcast(lua_State *L) {
  lurn_tensor *t = in_place_tensor(L, 1, "broadcast");
  int root = check_root(L, 2, "broadcast");
  l_check(L, lurn_dist_broadcast(lurn_tensor_data(t), lurn_tensor_numel(t) * (int64_t)sizeof(float), root));
  lua_settop(L, 1);
  return 1;
}

/* The gathered buffer is owned by a userdata on the stack while Lua strings are made of
 * it, so that a memory error there does not leak it. */
typedef struct gathered {
  void *all;
  int64_t *counts;
} gathered;

static int gathered_gc(lua_State *L) {
  gathered *g = lua_touserdata(L, 1);
  free(g->all), free(g->counts);
  g->all = NULL, g->counts = NULL;
  return 0;
}

static int l_dist_gather(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  int root = check_root(L, 2, "gather");
  int size = lurn_dist_size();
  gathered *g = lua_newuserdatauv(L, sizeof *g, 0);
  g->all = NULL;
  g->counts = calloc((size_t)size, sizeof *g->counts);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, gathered_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  if (!g->counts) luaL_error(L, "gather: out of memory");
  l_check(L, lurn_dist_gather_bytes(s, (int64_t)len, root, &g->all, g->counts));
  if (!g->all) {
    lua_pushnil(L);
    return 1;
  }
  lua_createtable(L, size, 0);
  const char *at = g->all;
  for (int r = 0; r < size; at += g->counts[r], r++) {
    lua_pushlstring(L, at, (size_t)g->counts[r]);
    lua_rawseti(L, -2, r + 1);
  }
  return 1;
}

static int l_dist_broadcast_string(lua_State *L) {
  int root = check_root(L, 2, "broadcast_string");
  size_t len = 0;
  const char *s = lurn_dist_rank() == root ? luaL_checklstring(L, 1, &len) : NULL;
  int64_t n = (int64_t)len;
  l_check(L, lurn_dist_broadcast(&n, sizeof n, root));
  if (n < 0 || (uint64_t)n > (uint64_t)SIZE_MAX / 2)
    luaL_error(L, "broadcast_string: a length of %I", (lua_Integer)n);
  if (s) {
    l_check(L, lurn_dist_broadcast((void *)s, n, root)); /* root only reads it */
    lua_pushvalue(L, 1);
    return 1;
  }
  luaL_Buffer b;
  char *buf = luaL_buffinitsize(L, &b, (size_t)n);
  l_check(L, lurn_dist_broadcast(buf, n, root));
  luaL_pushresultsize(&b, (size_t)n);
  return 1;
}

static const luaL_Reg dist_functions[] = {
    {"dist_built", l_dist_built},
    {"dist_init", l_dist_init},
    {"dist_rank", l_dist_rank},
    {"dist_size", l_dist_size},
    {"dist_barrier", l_dist_barrier},
    {"dist_allreduce", l_dist_allreduce},
    {"dist_broadcast", l_dist_broadcast},
    {"dist_gather", l_dist_gather},
    {"dist_broadcast_string", l_dist_broadcast_string},
    {NULL, NULL},
};

void l_distributed_register(lua_State *L) {
  luaL_setfuncs(L, dist_functions, 0);
}
