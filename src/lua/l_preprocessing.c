/* Bindings of the preprocessing and data-split kernels (src/preprocessing/): column
 * statistics, per-column maps, categories of numbers and texts, folds and splits.
 * Lua lists of texts are read into (pointer, length) arrays; false is a missing value.
 * Sample positions are 1-based float tensors here, 0-based int64 arrays in C. */
#include <math.h>
#include <string.h>

#include "core/checked.h"
#include "l_tensor.h"

/* A scratch array that the collector frees with the userdata left on the stack. */
static void *scratch(lua_State *L, int64_t count, size_t size) {
  size_t bytes = 0;
  if (!lurn_array_bytes(count ? count : 1, size, &bytes))
    luaL_error(L, "%I entries are too many to hold", (lua_Integer)count);
  return lua_newuserdatauv(L, bytes, 0);
}

/* Sample positions come back as float32 tensors, exact up to 2^24 samples: more are
 * refused, before anything is allocated for them. */
static void check_samples(lua_State *L, int arg, lua_Integer n) {
  if (n < 0) luaL_argerror(L, arg, "n must be >= 0");
  if (n > LURN_MAX_FLOAT_POSITION)
    luaL_argerror(L, arg,
                  lua_pushfstring(L,
                                  "%I samples: the float32 tensors of sample positions are exact only "
                                  "up to 2^24",
                                  n));
}

/* The generator for a shuffle: NULL when not shuffling, the process's when no seed is
 * given, else a fresh one seeded with it (a scratch userdata), so that a seed gives the
 * same split whatever lurn.manual_seed did. */
static lurn_rng *shuffle_rng(lua_State *L, int shuffle_idx, int seed_idx) {
  if (shuffle_idx && !lua_toboolean(L, shuffle_idx)) return NULL;
  if (lua_isnoneornil(L, seed_idx)) return lurn_rng_global();
  lua_Integer seed = luaL_checkinteger(L, seed_idx);
  lurn_rng *r = scratch(L, 1, sizeof *r);
  lurn_rng_seed(r, (uint64_t)seed);
  return r;
}

static lurn_tensor *positions_tensor(lua_State *L, const int64_t *pos, int64_t n) {
  lurn_tensor *t = lurn_tensor_empty(1, &n);
  if (!t) luaL_error(L, "%s", lurn_last_error());
  float *d = lurn_tensor_data(t);
  for (int64_t i = 0; i < n; i++) d[i] = (float)(pos[i] + 1);
  return t;
}

/* A (n,) tensor of whole numbers 0..k-1 at idx as an int64 array (scratch). */
static int64_t *check_codes(lua_State *L, int idx, int64_t k, int64_t *n) {
  lurn_tensor *t = l_checktensor(L, idx);
  luaL_argcheck(L, t->ndim == 1, idx, "class codes must be a 1-D tensor");
  l_check(L, lurn_check_codes(t, k, 0));
  *n = t->shape[0];
  check_samples(L, idx, *n);
  int64_t *codes = scratch(L, *n, sizeof *codes);
  for (int64_t i = 0; i < *n; i++) codes[i] = (int64_t)lurn_tensor_data(t)[i * t->stride[0]];
  return codes;
}

static int check_n_splits(lua_State *L, int idx) {
  lua_Integer k = luaL_checkinteger(L, idx);
  luaL_argcheck(L, k >= 0 && k <= 1 << 20, idx, "n_splits out of range");
  return (int)k;
}

/* ---- statistics and per-column maps --------------------------------------------- */

/* column_stats(x) -> {count =, mean =, var =, scale =, min =, max =}, each (k,). */
static int l_column_stats(lua_State *L) {
  lurn_tensor *x = l_checktensor(L, 1);
  lurn_column_stats s;
  l_check(L, lurn_column_stats_compute(x, &s));
  lurn_tensor *fields[] = {s.count, s.mean, s.var, s.scale, s.min, s.max};
  const char *names[] = {"count", "mean", "var", "scale", "min", "max"};
  lua_createtable(L, 0, 6);
  for (int i = 0; i < 6; i++) {
    l_pushtensor(L, fields[i]);
    lua_setfield(L, -2, names[i]);
  }
  return 1;
}

/* column_quantiles(x, {q, ...}) -> (nq, k); q in percent. */
static int l_column_quantiles(lua_State *L) {
  l_checktensor(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_Integer nq = luaL_len(L, 2);
  luaL_argcheck(L, nq >= 1 && nq <= 1024, 2, "expected 1 to 1024 quantiles");
  double q[1024];
  for (int i = 0; i < nq; i++) {
    lua_geti(L, 2, i + 1);
    int ok;
    q[i] = lua_tonumberx(L, -1, &ok);
    if (!ok) luaL_argerror(L, 2, "quantiles must be numbers");
    lua_pop(L, 1);
  }
  /* x taken after the list, whose metamethods may close it */
  l_pushtensor(L, lurn_column_quantiles(l_checktensor(L, 1), q, (int)nq));
  return 1;
}

static int l_column_mode(lua_State *L) {
  l_pushtensor(L, lurn_column_mode(l_checktensor(L, 1)));
  return 1;
}

static lurn_tensor *opt_tensor(lua_State *L, int idx) {
  return lua_isnoneornil(L, idx) ? NULL : l_checktensor(L, idx);
}

/* columns_affine(x, a, b, "sub_div" | "mul_add"): (x - a) / b or x * a + b per column. */
static int l_columns_affine(lua_State *L) {
  static const char *const ops[] = {"sub_div", "mul_add", NULL};
  lurn_tensor *x = l_checktensor(L, 1), *a = opt_tensor(L, 2), *b = opt_tensor(L, 3);
  lurn_affine_op op = luaL_checkoption(L, 4, NULL, ops) == 0 ? LURN_AFFINE_SUB_DIV : LURN_AFFINE_MUL_ADD;
  l_pushtensor(L, lurn_columns_affine(x, a, b, op));
  return 1;
}

/* columns_fill(x, missing, fill): values equal to missing (NaN matches NaN) -> fill[j]. */
static int l_columns_fill(lua_State *L) {
  lurn_tensor *x = l_checktensor(L, 1);
  float missing = (float)luaL_checknumber(L, 2);
  l_pushtensor(L, lurn_columns_fill(x, missing, l_checktensor(L, 3)));
  return 1;
}

/* normalize_rows(x, "l1" | "l2" | "max") -> rows / norms, norms. */
static int l_normalize_rows(lua_State *L) {
  static const char *const norms[] = {"l1", "l2", "max", NULL};
  static const lurn_norm kinds[] = {LURN_NORM_L1, LURN_NORM_L2, LURN_NORM_MAX};
  lurn_tensor *x = l_checktensor(L, 1), *nv = NULL;
  lurn_tensor *y = lurn_rows_normalize(x, kinds[luaL_checkoption(L, 2, "l2", norms)], &nv);
  l_pushtensor(L, y);
  l_pushtensor(L, nv);
  return 2;
}

/* ---- categories ---------------------------------------------------------------------- */

/* unique(x) -> sorted distinct values (NaN last), their counts. */
static int l_unique(lua_State *L) {
  lurn_tensor *values, *counts;
  l_check(L, lurn_unique(l_checktensor(L, 1), &values, &counts));
  l_pushtensor(L, values);
  l_pushtensor(L, counts);
  return 2;
}

/* encode(x, classes, allow_unknown) -> 0-based codes of x's shape (-1: unknown). */
static int l_encode(lua_State *L) {
  lurn_tensor *x = l_checktensor(L, 1), *classes = l_checktensor(L, 2);
  l_pushtensor(L, lurn_encode(x, classes, lua_toboolean(L, 3)));
  return 1;
}

/* check_codes(codes, k, allow_unknown): raises unless every code is in 0..k-1 (or -1). */
static int l_check_codes(lua_State *L) {
  lurn_tensor *codes = l_checktensor(L, 1);
  l_check(L, lurn_check_codes(codes, luaL_checkinteger(L, 2), lua_toboolean(L, 3)));
  return 0;
}

/* one_hot(codes, num_classes, allow_unknown) -> (n, num_classes). */
static int l_one_hot(lua_State *L) {
  lurn_tensor *codes = l_checktensor(L, 1);
  l_pushtensor(L, lurn_one_hot(codes, luaL_checkinteger(L, 2), lua_toboolean(L, 3)));
  return 1;
}

/* The list of texts at idx (false: missing) as lurn_str (scratch). The texts are kept
 * in an anchor table left on the stack: a list whose __index makes fresh strings holds
 * no reference to them, and the collector would free what v points at. */
static lurn_str *check_texts(lua_State *L, int idx, int64_t *n) {
  luaL_checktype(L, idx, LUA_TTABLE);
  *n = l_checklen(L, idx, LURN_MAX_LIST, "the list of texts");
  lurn_str *v = scratch(L, *n, sizeof *v);
  lua_createtable(L, 0, 0);
  int anchor = lua_gettop(L);
  for (int64_t i = 0; i < *n; i++) {
    int type = lua_geti(L, idx, (lua_Integer)i + 1);
    if (type == LUA_TSTRING) {
      lua_pushvalue(L, -1);
      lua_rawseti(L, anchor, (lua_Integer)i + 1);
      v[i].s = lua_tolstring(L, -1, &v[i].len);
    } else if (type == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
      v[i].s = NULL;
      v[i].len = 0;
    } else {
      luaL_error(L, "element %I of the list is a %s, expected a string (or false for a missing value)",
                 (lua_Integer)i + 1, luaL_typename(L, -1));
    }
    lua_pop(L, 1);
  }
  return v;
}

/* unique_strings(list) -> sorted distinct texts (false last), their counts (a tensor). */
static int l_unique_strings(lua_State *L) {
  int64_t n, k;
  const lurn_str *v = check_texts(L, 1, &n);
  int64_t *first = scratch(L, n, sizeof *first), *counts = scratch(L, n, sizeof *counts);
  l_check(L, lurn_unique_strings(v, n, first, counts, &k));
  lua_createtable(L, (int)k, 0);
  lurn_tensor *c = lurn_tensor_empty(1, &k);
  if (!c) luaL_error(L, "%s", lurn_last_error());
  for (int64_t j = 0; j < k; j++) {
    lua_geti(L, 1, (lua_Integer)first[j] + 1);
    lua_seti(L, -2, (lua_Integer)j + 1);
    lurn_tensor_data(c)[j] = (float)counts[j];
  }
  l_pushtensor(L, c);
  return 2;
}

/* encode_strings(list, classes, allow_unknown) -> (n,) codes. */
static int l_encode_strings(lua_State *L) {
  int64_t n, k;
  const lurn_str *v = check_texts(L, 1, &n), *classes = check_texts(L, 2, &k);
  int allow_unknown = lua_toboolean(L, 3);
  lurn_tensor *codes = lurn_tensor_empty(1, &n);
  l_pushtensor(L, codes);
  l_check(L, lurn_encode_strings(v, n, classes, k, allow_unknown, lurn_tensor_data(codes)));
  return 1;
}

/* take(list, codes) -> {list[code + 1] ...}, false where a code is -1. */
static int l_take(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lurn_tensor *codes = l_checktensor(L, 2);
  int64_t k = l_checklen(L, 1, LURN_MAX_LIST, "the list"), n = lurn_tensor_numel(codes);
  luaL_argcheck(L, n <= LURN_MAX_LIST, 2, "more codes than a list can hold");
  l_check(L, lurn_check_codes(codes, k, 1));
  lurn_tensor *c = lurn_tensor_contiguous(codes);
  l_pushtensor(L, c);
  lua_createtable(L, (int)n, 0);
  for (int64_t i = 0; i < n; i++) {
    float code = lurn_tensor_data(c)[i];
    if (code < 0)
      lua_pushboolean(L, 0);
    else
      lua_geti(L, 1, (lua_Integer)code + 1);
    lua_seti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* ---- splits ---------------------------------------------------------------------------- */

/* permutation(n [, seed]) -> 1..n in random order (the process generator without a seed). */
static int l_permutation(lua_State *L) {
  lua_settop(L, 2); /* scratch arrays go above the arguments, not where a missing seed is read */
  lua_Integer n = luaL_checkinteger(L, 1);
  check_samples(L, 1, n);
  lurn_rng *rng = shuffle_rng(L, 0, 2);
  int64_t *perm = scratch(L, n, sizeof *perm);
  lurn_randperm(perm, n, rng);
  l_pushtensor(L, positions_tensor(L, perm, n));
  return 1;
}

/* Pushes {{train, test}, ...}: 1-based positions per fold, ascending. */
static void push_folds(lua_State *L, const int64_t *fold, int64_t n, int n_splits) {
  int64_t *train = scratch(L, n, sizeof *train), *test = scratch(L, n, sizeof *test);
  lua_createtable(L, n_splits, 0);
  for (int f = 0; f < n_splits; f++) {
    int64_t n_train, n_test;
    lurn_fold_positions(fold, n, f, train, &n_train, test, &n_test);
    lua_createtable(L, 2, 0);
    l_pushtensor(L, positions_tensor(L, train, n_train));
    lua_seti(L, -2, 1);
    l_pushtensor(L, positions_tensor(L, test, n_test));
    lua_seti(L, -2, 2);
    lua_seti(L, -2, f + 1);
  }
}

/* kfold(n, n_splits, shuffle, seed) -> {{train, test}, ...}. */
static int l_kfold(lua_State *L) {
  lua_settop(L, 4); /* scratch arrays go above the arguments, not where a missing seed is read */
  lua_Integer n = luaL_checkinteger(L, 1);
  check_samples(L, 1, n);
  int n_splits = check_n_splits(L, 2);
  lurn_rng *rng = shuffle_rng(L, 3, 4);
  int64_t *fold = scratch(L, n, sizeof *fold);
  l_check(L, lurn_kfold(n, n_splits, rng, fold));
  push_folds(L, fold, n, n_splits);
  return 1;
}

/* stratified_kfold(codes, k, n_splits, shuffle, seed) -> {{train, test}, ...}. */
static int l_stratified_kfold(lua_State *L) {
  lua_settop(L, 5); /* scratch arrays go above the arguments, not where a missing seed is read */
  lua_Integer k = luaL_checkinteger(L, 2);
  luaL_argcheck(L, k >= 1, 2, "expected at least one class");
  int64_t n;
  const int64_t *codes = check_codes(L, 1, k, &n);
  int n_splits = check_n_splits(L, 3);
  lurn_rng *rng = shuffle_rng(L, 4, 5);
  int64_t *fold = scratch(L, n, sizeof *fold);
  l_check(L, lurn_stratified_kfold(codes, n, k, n_splits, rng, fold));
  push_folds(L, fold, n, n_splits);
  return 1;
}

/* stratified_split(codes, k, n_train, n_test, seed) -> train, test (1-based positions). */
static int l_stratified_split(lua_State *L) {
  lua_settop(L, 5); /* scratch arrays go above the arguments, not where a missing seed is read */
  lua_Integer k = luaL_checkinteger(L, 2);
  luaL_argcheck(L, k >= 1, 2, "expected at least one class");
  int64_t n;
  const int64_t *codes = check_codes(L, 1, k, &n);
  lua_Integer n_train = luaL_checkinteger(L, 3), n_test = luaL_checkinteger(L, 4);
  luaL_argcheck(L, n_train >= 0 && n_train <= n, 3, "train size out of range");
  luaL_argcheck(L, n_test >= 0 && n_test <= n, 4, "test size out of range");
  lurn_rng *rng = shuffle_rng(L, 0, 5);
  int64_t *train = scratch(L, n_train, sizeof *train), *test = scratch(L, n_test, sizeof *test);
  l_check(L, lurn_stratified_split(codes, n, k, n_train, n_test, rng, train, test));
  l_pushtensor(L, positions_tensor(L, train, n_train));
  l_pushtensor(L, positions_tensor(L, test, n_test));
  return 2;
}

static const luaL_Reg preprocessing_functions[] = {
    {"column_stats", l_column_stats},
    {"column_quantiles", l_column_quantiles},
    {"column_mode", l_column_mode},
    {"columns_affine", l_columns_affine},
    {"columns_fill", l_columns_fill},
    {"normalize_rows", l_normalize_rows},
    {"unique", l_unique},
    {"encode", l_encode},
    {"check_codes", l_check_codes},
    {"one_hot", l_one_hot},
    {"unique_strings", l_unique_strings},
    {"encode_strings", l_encode_strings},
    {"take", l_take},
    {"permutation", l_permutation},
    {"kfold", l_kfold},
    {"stratified_kfold", l_stratified_kfold},
    {"stratified_split", l_stratified_split},
    {NULL, NULL},
};

void l_preprocessing_register(lua_State *L) {
  luaL_setfuncs(L, preprocessing_functions, 0);
}
