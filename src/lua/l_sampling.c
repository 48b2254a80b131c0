/* lurn.core functions behind lurn.sampling: class counts, k nearest neighbours, SMOTE and
 * random over- and under-sampling. Per-class numbers arrive as Lua tables {[class] = n};
 * the generator is a local one seeded by random_state, or lurn's global one. */
#include <stdlib.h>

#include "core/checked.h"
#include "l_tensor.h"

/* Largest class number accepted in a per-class table (labels stay below 2^24). */
#define MAX_CLASS 16777216

/* An optional integer seed at idx: a generator seeded with it in *local, else the global one. */
static lurn_rng *opt_rng(lua_State *L, int idx, lurn_rng *local) {
  if (lua_isnoneornil(L, idx)) return lurn_rng_global();
  lurn_rng_seed(local, (uint64_t)luaL_checkinteger(L, idx));
  return local;
}

/* A table {[class] = n} at idx as an array (scratch userdata, left on the stack) of
 * *n entries, classes missing from the table set to `absent`. */
static int64_t *check_per_class(lua_State *L, int idx, int64_t absent, int64_t *n) {
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_Integer top = -1;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int ok;
    lua_Integer c = lua_tointegerx(L, -2, &ok);
    luaL_argcheck(L, ok && c >= 0 && c < MAX_CLASS, idx, "classes must be whole numbers from 0");
    lua_tointegerx(L, -1, &ok);
    luaL_argcheck(L, ok, idx, "sample counts must be whole numbers");
    if (c > top) top = c;
    lua_pop(L, 1);
  }
  *n = top + 1;
  int64_t *a = lua_newuserdatauv(L, sizeof(int64_t) * (size_t)(top + 2), 0);
  for (lua_Integer c = 0; c <= top; c++) {
    lua_rawgeti(L, idx, c); /* raw, as lua_next above: no metamethod may close a tensor taken already */
    a[c] = lua_isnil(L, -1) ? absent : (int64_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  return a;
}

/* class_counts(y) -> {[class] = count} for the classes present. */
static int l_class_counts(lua_State *L) {
  int64_t *counts, n;
  l_check(L, lurn_class_counts(l_checktensor(L, 1), &counts, &n));
  lua_createtable(L, 0, (int)(n < 64 ? n : 64));
  for (int64_t c = 0; c < n; c++)
    if (counts[c] > 0) {
      lua_pushinteger(L, counts[c]);
      lua_seti(L, -2, c);
    }
  free(counts);
  return 1;
}

/* kneighbors(ref, k [, query]) -> positions (nq, k), 1-based, and distances (nq, k). Without
 * query, each row of ref among the others. */
static int l_kneighbors(lua_State *L) {
  lurn_tensor *ref = l_checktensor(L, 1), *query = lua_isnoneornil(L, 3) ? NULL : l_checktensor(L, 3);
  lua_Integer k = luaL_checkinteger(L, 2);
  luaL_argcheck(L, k >= 1 && k <= (1 << 20), 2, "k must be between 1 and 2^20");
  luaL_argcheck(L, ref->ndim == 2, 1, "expected a 2-D tensor (samples, features)");
  luaL_argcheck(L, !query || (query->ndim == 2 && query->shape[1] == ref->shape[1]), 3,
                "expected a 2-D tensor with as many features as the reference");
  luaL_argcheck(L, ref->shape[0] <= MAX_CLASS, 1,
                "more than 2^24 rows: positions would not fit a float32 tensor");
  int64_t nref = ref->shape[0], d = ref->shape[1], nq = query ? query->shape[0] : nref;
  int64_t shape[2] = {nq, k};
  lurn_tensor *pos = lurn_tensor_empty(2, shape), *dist = lurn_tensor_empty(2, shape);
  lurn_tensor *r = lurn_tensor_contiguous(ref), *q = query ? lurn_tensor_contiguous(query) : NULL;
  int64_t pairs = 0; /* the tensors above refuse nq * k past 2^61, but are made first */
  size_t bytes = 0;
  int64_t *index = lurn_mul_i64(nq, k, &pairs) && lurn_array_bytes(pairs + 1, sizeof(int64_t), &bytes)
                       ? malloc(bytes)
                       : NULL;
  lurn_status st;
  if (!pos || !dist)
    st = LURN_EINVAL; /* lurn_last_error() says why: too large, or out of memory */
  else if (!r || (query && !q) || !index)
    st = lurn_fail(LURN_ENOMEM, "kneighbors: out of memory for %lld x %lld neighbours", (long long)nq,
                   (long long)k);
  else
    st = lurn_knn(lurn_tensor_data(r), nref, q ? lurn_tensor_data(q) : NULL, nq, d, (int)k, index,
                  lurn_tensor_data(dist));
  if (st == LURN_OK) {
    float *p = lurn_tensor_data(pos);
    for (int64_t i = 0; i < nq * k; i++) p[i] = (float)(index[i] + 1);
  }
  free(index);
  lurn_tensor_free(r);
  lurn_tensor_free(q);
  if (st != LURN_OK) {
    lurn_tensor_free(pos);
    lurn_tensor_free(dist);
    return luaL_error(L, "%s", lurn_last_error());
  }
  l_pushtensor(L, pos);
  l_pushtensor(L, dist);
  return 2;
}

/* smote(x, y, {[class] = n_new}, k [, seed]) -> x_out, y_out. */
static int l_smote(lua_State *L) {
  lua_settop(L, 5); /* the scratch arrays go above the arguments, not where a missing seed would be */
  lurn_tensor *x = l_checktensor(L, 1), *y = l_checktensor(L, 2);
  int64_t n;
  int64_t *n_new = check_per_class(L, 3, 0, &n);
  lua_Integer k = luaL_checkinteger(L, 4);
  luaL_argcheck(L, k >= 1 && k <= (1 << 20), 4, "k_neighbors must be between 1 and 2^20");
  lurn_rng local, *rng = opt_rng(L, 5, &local);
  lurn_tensor *xo, *yo;
  l_check(L, lurn_smote(x, y, n_new, n, (int)k, rng, &xo, &yo));
  l_pushtensor(L, xo);
  l_pushtensor(L, yo);
  return 2;
}

/* Gathers rows `index` (m) of x and y and pushes them with the positions: a float tensor,
 * 1-based (exact up to 2^24 rows), as lurn.model_selection gives them. Frees index. */
static int push_gathered(lua_State *L, lurn_tensor *x, lurn_tensor *y, int64_t *index, int64_t m) {
  int64_t shape[1] = {m};
  lurn_tensor *xo = lurn_tensor_index(x, 0, index, m);
  lurn_tensor *yo = xo ? lurn_tensor_index(y, 0, index, m) : NULL;
  lurn_tensor *pos = yo ? lurn_tensor_empty(1, shape) : NULL;
  if (pos) {
    float *p = lurn_tensor_data(pos);
    for (int64_t i = 0; i < m; i++) p[i] = (float)(index[i] + 1);
  }
  free(index);
  if (!pos) {
    lurn_tensor_free(xo);
    lurn_tensor_free(yo);
    return luaL_error(L, "%s", lurn_last_error());
  }
  l_pushtensor(L, xo);
  l_pushtensor(L, yo);
  l_pushtensor(L, pos);
  return 3;
}

static void check_rows(lua_State *L, lurn_tensor *x, lurn_tensor *y, const char *who) {
  if (x->ndim < 1 || y->ndim < 1 || x->shape[0] != y->shape[0])
    luaL_error(L, "%s: x has %I samples but y has %I", who, (lua_Integer)(x->ndim ? x->shape[0] : 0),
               (lua_Integer)(y->ndim ? y->shape[0] : 0));
}

/* The samplers give back positions in a float32 tensor, exact up to 2^24: refuses a result
 * that would hold at least `rows` plus the positive entries of n (count entries) samples
 * when that passes 2^24, before the C core allocates and draws them. */
static void check_positions(lua_State *L, const char *who, int64_t rows, const int64_t *n, int64_t count) {
  int64_t total = rows;
  int fits = 1;
  for (int64_t c = 0; c < count && fits; c++) fits = n[c] <= 0 || lurn_add_i64(total, n[c], &total);
  if (!fits || total > LURN_MAX_FLOAT_POSITION)
    luaL_error(L,
               "%s: %s samples asked in all; the float32 tensor of their positions is exact only up to 2^24",
               who, fits ? lua_pushfstring(L, "%I", (lua_Integer)total) : "more than 2^63");
}

/* random_oversample(x, y, {[class] = n_new} [, seed]) -> x_out, y_out, positions. */
static int l_random_oversample(lua_State *L) {
  lua_settop(L, 4);
  lurn_tensor *x = l_checktensor(L, 1), *y = l_checktensor(L, 2);
  check_rows(L, x, y, "RandomOverSampler");
  int64_t n, *index, m;
  int64_t *n_new = check_per_class(L, 3, 0, &n);
  check_positions(L, "RandomOverSampler", x->shape[0], n_new, n);
  lurn_rng local, *rng = opt_rng(L, 4, &local);
  l_check(L, lurn_random_oversample(y, n_new, n, rng, &index, &m));
  return push_gathered(L, x, y, index, m);
}

/* random_undersample(x, y, {[class] = n_keep}, replacement [, seed]) -> x_out, y_out, positions. */
static int l_random_undersample(lua_State *L) {
  lua_settop(L, 5);
  lurn_tensor *x = l_checktensor(L, 1), *y = l_checktensor(L, 2);
  check_rows(L, x, y, "RandomUnderSampler");
  int64_t n, *index, m;
  int64_t *n_keep = check_per_class(L, 3, -1, &n);
  int replacement = lua_toboolean(L, 4);
  check_positions(L, "RandomUnderSampler", x->shape[0], NULL, 0);          /* the positions kept */
  if (replacement) check_positions(L, "RandomUnderSampler", 0, n_keep, n); /* at least as many as asked */
  lurn_rng local, *rng = opt_rng(L, 5, &local);
  l_check(L, lurn_random_undersample(y, n_keep, n, replacement, rng, &index, &m));
  return push_gathered(L, x, y, index, m);
}

static const luaL_Reg sampling_functions[] = {
    {"class_counts", l_class_counts},
    {"kneighbors", l_kneighbors},
    {"smote", l_smote},
    {"random_oversample", l_random_oversample},
    {"random_undersample", l_random_undersample},
    {NULL, NULL},
};

void l_sampling_register(lua_State *L) {
  luaL_setfuncs(L, sampling_functions, 0);
}
