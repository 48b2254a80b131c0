/* The lurn.Tensor userdata: construction, element access, views and printing.
 * Positions and dimensions are 1-based here and 0-based in the C core. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "l_tensor.h"

typedef struct {
  lurn_tensor *t;
} tensor_box;

lurn_tensor *l_totensor(lua_State *L, int idx) {
  tensor_box *b = luaL_testudata(L, idx, LURN_TENSOR_MT);
  return b && b->t ? b->t : NULL;
}

lurn_tensor *l_checktensor(lua_State *L, int idx) {
  tensor_box *b = luaL_checkudata(L, idx, LURN_TENSOR_MT);
  if (!b->t) luaL_argerror(L, idx, "attempt to use a closed tensor");
  return b->t;
}

lurn_tensor *l_pin(lua_State *L, const lurn_tensor *t) {
  lurn_tensor *view = lurn_tensor_view(t);
  if (!view) luaL_error(L, "%s", lurn_last_error());
  /* as l_pushtensor, without its collector step: a view adds no memory */
  tensor_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->t = NULL;
  luaL_setmetatable(L, LURN_TENSOR_MT);
  b->t = view;
  return view;
}

void l_check(lua_State *L, lurn_status st) {
  if (st != LURN_OK) luaL_error(L, "%s", lurn_last_error());
}

void l_pushtensor(lua_State *L, lurn_tensor *t) {
  if (!t) luaL_error(L, "%s", lurn_last_error());
  tensor_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->t = NULL;
  luaL_setmetatable(L, LURN_TENSOR_MT);
  b->t = t;
  /* Lua cannot see the float buffer, so tell the collector about its size. */
  int64_t kb = lurn_tensor_numel(t) / 256;
  if (kb > 64) lua_gc(L, LUA_GCSTEP, (int)(kb > 1 << 20 ? 1 << 20 : kb));
}

lua_Integer l_checklen(lua_State *L, int idx, lua_Integer max, const char *what) {
  lua_Integer n = luaL_len(L, idx);
  if (n < 0 || n > max)
    luaL_argerror(L, idx, lua_pushfstring(L, "%s has %I entries, expected at most %I", what, n, max));
  return n;
}

/* The length of the shape table at idx, checked before it is cast or read. */
static int shape_len(lua_State *L, int idx) {
  lua_Integer n = luaL_len(L, idx);
  luaL_argcheck(L, n >= 1 && n <= LURN_MAX_DIMS, idx, "shape must have 1 to 8 sizes");
  return (int)n;
}

static int64_t check_size(lua_State *L, int arg, lua_Integer v) {
  if (v < 0) luaL_argerror(L, arg, lua_pushfstring(L, "sizes must be >= 0, got %I", v));
  return (int64_t)v;
}

int l_checkshape(lua_State *L, int idx, int64_t *shape) {
  int n;
  if (lua_istable(L, idx)) {
    n = shape_len(L, idx);
    for (int i = 0; i < n; i++) {
      lua_geti(L, idx, i + 1);
      int ok;
      lua_Integer v = lua_tointegerx(L, -1, &ok);
      if (!ok) luaL_argerror(L, idx, "shape sizes must be integers");
      shape[i] = check_size(L, idx, v);
      lua_pop(L, 1);
    }
    return n;
  }
  n = lua_gettop(L) - idx + 1;
  luaL_argcheck(L, n >= 1 && n <= LURN_MAX_DIMS, idx, "expected a shape: a table of sizes or sizes as arguments");
  for (int i = 0; i < n; i++) shape[i] = check_size(L, idx + i, luaL_checkinteger(L, idx + i));
  return n;
}

int l_checkshape_signed(lua_State *L, int idx, int64_t *shape) {
  luaL_checktype(L, idx, LUA_TTABLE);
  int n = shape_len(L, idx);
  for (int i = 0; i < n; i++) {
    lua_geti(L, idx, i + 1);
    int ok;
    lua_Integer v = lua_tointegerx(L, -1, &ok);
    if (!ok || v < -1) luaL_argerror(L, idx, "shape sizes must be integers >= 0 (or -1 to infer one)");
    shape[i] = v;
    lua_pop(L, 1);
  }
  return n;
}

int l_checkdim(lua_State *L, int idx, const lurn_tensor *t) {
  lua_Integer d = luaL_checkinteger(L, idx);
  if (d < 0) d += t->ndim + 1;
  if (d < 1 || d > t->ndim) {
    char buf[LURN_SHAPE_STR_MAX];
    luaL_argerror(L, idx, lua_pushfstring(L, "dimension %I out of range 1..%d for shape %s",
                                          luaL_checkinteger(L, idx), t->ndim, lurn_shape_str(t, buf, sizeof buf)));
  }
  return (int)d - 1;
}

/* ---- construction -------------------------------------------------------------- */

/* Measures the nested table at idx (depth first) and checks it is rectangular. */
static int nested_shape(lua_State *L, int idx, int64_t *shape) {
  int ndim = 0;
  lua_pushvalue(L, idx);
  while (lua_istable(L, -1)) {
    if (ndim == LURN_MAX_DIMS) luaL_error(L, "tensor: more than %d nested levels", LURN_MAX_DIMS);
    lua_Integer len = luaL_len(L, -1);
    if (len < 0 || len > LURN_MAX_LIST)
      luaL_error(L, "tensor: a row of the nested table has %I entries, expected at most %I", len,
                 LURN_MAX_LIST);
    shape[ndim++] = len;
    if (shape[ndim - 1] == 0) break;
    lua_geti(L, -1, 1);
    lua_remove(L, -2);
  }
  lua_pop(L, 1);
  return ndim;
}

static void nested_fill(lua_State *L, int idx, int dim, int ndim, const int64_t *shape, float **out,
                        char *path, size_t pathlen) {
  lua_Integer n = luaL_len(L, idx);
  if (n != shape[dim])
    luaL_error(L, "tensor: ragged nested table: row %s has %I elements, expected %I", pathlen ? path : "{}",
               (lua_Integer)n, (lua_Integer)shape[dim]);
  for (int64_t i = 1; i <= n; i++) {
    lua_geti(L, idx, (lua_Integer)i);
    size_t room = 256 - pathlen;  /* pathlen stays below 256: the text is cut, never overrun */
    int w = snprintf(path + pathlen, room, "[%lld]", (long long)i);
    size_t len = pathlen + (w > 0 && (size_t)w < room ? (size_t)w : room - 1);
    if (dim + 1 < ndim) {
      if (!lua_istable(L, -1)) luaL_error(L, "tensor: ragged nested table: element %s is not a table", path);
      nested_fill(L, lua_gettop(L), dim + 1, ndim, shape, out, path, len);
    } else {
      int ok;
      lua_Number v = lua_tonumberx(L, -1, &ok);
      if (!ok) {
        if (lua_istable(L, -1)) luaL_error(L, "tensor: ragged nested table: element %s is a table, expected a number", path);
        luaL_error(L, "tensor: element %s is a %s, expected a number", path, luaL_typename(L, -1));
      }
      *(*out)++ = (float)v;
    }
    path[pathlen] = '\0';
    lua_pop(L, 1);
  }
}

static int l_tensor_new(lua_State *L) {
  if (lua_isnumber(L, 1)) {  /* lurn.tensor(3.5): a 1-element vector */
    int64_t one = 1;
    lurn_tensor *t = lurn_tensor_full(1, &one, (float)lua_tonumber(L, 1));
    l_pushtensor(L, t);
    return 1;
  }
  lurn_tensor *src = l_totensor(L, 1);
  if (src) {
    l_pushtensor(L, lurn_tensor_clone(src));
    return 1;
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  int64_t shape[LURN_MAX_DIMS];
  int ndim = nested_shape(L, 1, shape);
  /* Every row is visited even when the innermost size is 0: {{}, {}, ...} of 2^40 rows is
   * refused here rather than walked. */
  int64_t rows = 1;
  for (int i = 0; i + 1 < ndim; i++)
    if (!lurn_mul_i64(rows, shape[i], &rows) || rows > LURN_MAX_LIST)
      luaL_error(L, "tensor: the nested table has more than %I rows", LURN_MAX_LIST);
  lurn_tensor *t = lurn_tensor_empty(ndim, shape);
  l_pushtensor(L, t);
  float *p = lurn_tensor_data(t);
  char path[256] = "";
  nested_fill(L, 1, 0, ndim, shape, &p, path, 0);
  return 1;
}

static int l_zeros(lua_State *L) {
  int64_t shape[LURN_MAX_DIMS];
  int n = l_checkshape(L, 1, shape);
  l_pushtensor(L, lurn_tensor_zeros(n, shape));
  return 1;
}

static int l_ones(lua_State *L) {
  int64_t shape[LURN_MAX_DIMS];
  int n = l_checkshape(L, 1, shape);
  l_pushtensor(L, lurn_tensor_full(n, shape, 1.0f));
  return 1;
}

static int l_full(lua_State *L) {
  int64_t shape[LURN_MAX_DIMS];
  luaL_checktype(L, 1, LUA_TTABLE);
  int n = l_checkshape(L, 1, shape);
  float v = (float)luaL_checknumber(L, 2);
  l_pushtensor(L, lurn_tensor_full(n, shape, v));
  return 1;
}

/* arange(stop) or arange(start, stop[, step]), stop exclusive, as numpy. */
static int l_arange(lua_State *L) {
  double start = 0, stop, step = 1;
  if (lua_gettop(L) <= 1) {
    stop = luaL_checknumber(L, 1);
  } else {
    start = luaL_checknumber(L, 1);
    stop = luaL_checknumber(L, 2);
    step = luaL_optnumber(L, 3, 1);
  }
  l_pushtensor(L, lurn_tensor_arange(start, stop, step));
  return 1;
}

static int random_tensor(lua_State *L, int normal) {
  int64_t shape[LURN_MAX_DIMS];
  int n = l_checkshape(L, 1, shape);
  lurn_tensor *t = lurn_tensor_empty(n, shape);
  l_pushtensor(L, t);
  if (normal) lurn_tensor_randn(t, lurn_rng_global(), 0.0f, 1.0f);
  else lurn_tensor_rand(t, lurn_rng_global(), 0.0f, 1.0f);
  return 1;
}

static int l_rand(lua_State *L) { return random_tensor(L, 0); }
static int l_randn(lua_State *L) { return random_tensor(L, 1); }

/* ---- metadata and element access -------------------------------------------------- */

static int l_shape(lua_State *L) {
  lurn_tensor *t = l_checktensor(L, 1);
  lua_createtable(L, t->ndim, 0);
  for (int i = 0; i < t->ndim; i++) {
    lua_pushinteger(L, t->shape[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int l_size(lua_State *L) {
  lurn_tensor *t = l_checktensor(L, 1);
  if (lua_isnoneornil(L, 2)) return l_shape(L);
  lua_pushinteger(L, t->shape[l_checkdim(L, 2, t)]);
  return 1;
}

static int l_dim(lua_State *L) {
  lua_pushinteger(L, l_checktensor(L, 1)->ndim);
  return 1;
}

static int l_numel(lua_State *L) {
  lua_pushinteger(L, lurn_tensor_numel(l_checktensor(L, 1)));
  return 1;
}

static int l_len(lua_State *L) {
  lua_pushinteger(L, l_checktensor(L, 1)->shape[0]);
  return 1;
}

/* The element addressed by the positions at arguments 2..ndim+1. */
static float *element(lua_State *L, lurn_tensor *t, int nargs) {
  if (nargs != t->ndim) {
    char buf[LURN_SHAPE_STR_MAX];
    luaL_error(L, "expected %d positions for a tensor of shape %s, got %d", t->ndim,
               lurn_shape_str(t, buf, sizeof buf), nargs);
  }
  int64_t off = 0;
  for (int i = 0; i < t->ndim; i++) {
    lua_Integer p = luaL_checkinteger(L, i + 2);
    if (p < 1 || p > t->shape[i]) {
      char buf[LURN_SHAPE_STR_MAX];
      luaL_error(L, "position %I out of range 1..%I in dimension %d of shape %s", p, (lua_Integer)t->shape[i],
                 i + 1, lurn_shape_str(t, buf, sizeof buf));
    }
    off += (p - 1) * t->stride[i];
  }
  return lurn_tensor_data(t) + off;
}

static int l_get(lua_State *L) {
  lurn_tensor *t = l_checktensor(L, 1);
  lua_pushnumber(L, *element(L, t, lua_gettop(L) - 1));
  return 1;
}

static int l_set(lua_State *L) {
  lurn_tensor *t = l_checktensor(L, 1);
  int top = lua_gettop(L);
  float v = (float)luaL_checknumber(L, top);
  *element(L, t, top - 2) = v;
  lua_settop(L, 1);
  return 1;
}

static void push_nested(lua_State *L, const lurn_tensor *t, int dim, const float *x) {
  lua_createtable(L, (int)t->shape[dim], 0);
  for (int64_t i = 0; i < t->shape[dim]; i++) {
    const float *xi = x + i * t->stride[dim];
    if (dim + 1 < t->ndim) push_nested(L, t, dim + 1, xi);
    else lua_pushnumber(L, *xi);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

static int l_totable(lua_State *L) {
  lurn_tensor *t = l_checktensor(L, 1);
  /* One Lua table per row, even when the last size is 0: (2^40, 0) is refused, not walked. */
  int64_t tables = 1;
  for (int i = 0; i < t->ndim; i++)
    if (t->shape[i] > LURN_MAX_LIST ||
        (i + 1 < t->ndim && (!lurn_mul_i64(tables, t->shape[i], &tables) || tables > LURN_MAX_LIST))) {
      char buf[LURN_SHAPE_STR_MAX];
      luaL_error(L, "totable: a tensor of shape %s makes more than %I Lua tables or entries",
                 lurn_shape_str(t, buf, sizeof buf), LURN_MAX_LIST);
    }
  luaL_checkstack(L, t->ndim + 4, "tensor too deep");
  push_nested(L, t, 0, lurn_tensor_data(t));
  return 1;
}

/* t:item(): the value of a 1-element tensor. */
static int l_item(lua_State *L) {
  lurn_tensor *t = l_checktensor(L, 1);
  if (lurn_tensor_numel(t) != 1) {
    char buf[LURN_SHAPE_STR_MAX];
    luaL_error(L, "item: expected a 1-element tensor, got shape %s", lurn_shape_str(t, buf, sizeof buf));
  }
  lua_pushnumber(L, *lurn_tensor_data(t));
  return 1;
}

static int l_tostring(lua_State *L) {
  lurn_tensor *t = l_checktensor(L, 1);
  char *s = lurn_tensor_format(t);
  if (!s) luaL_error(L, "out of memory printing a tensor");
  lua_pushstring(L, s);
  free(s);
  return 1;
}

static int l_gc(lua_State *L) {
  tensor_box *b = luaL_checkudata(L, 1, LURN_TENSOR_MT);
  lurn_tensor_free(b->t);
  b->t = NULL;
  return 0;
}

/* ---- copies and views -------------------------------------------------------------- */

/* The tensor itself when it is packed already (as PyTorch's contiguous()): no new view to
 * allocate on every predict. */
static int l_contiguous(lua_State *L) {
  lurn_tensor *t = l_checktensor(L, 1);
  if (lurn_tensor_is_contiguous(t)) {
    lua_settop(L, 1);
    return 1;
  }
  l_pushtensor(L, lurn_tensor_contiguous(t));
  return 1;
}

static int l_is_contiguous(lua_State *L) {
  lua_pushboolean(L, lurn_tensor_is_contiguous(l_checktensor(L, 1)));
  return 1;
}

static int l_clone(lua_State *L) {
  l_pushtensor(L, lurn_tensor_clone(l_checktensor(L, 1)));
  return 1;
}

/* t:copy() returns a packed copy; t:copy(src) copies src into t (Torch7) and returns t. */
static int l_copy(lua_State *L) {
  lurn_tensor *t = l_checktensor(L, 1);
  if (lua_isnoneornil(L, 2)) return l_clone(L);
  l_check(L, lurn_tensor_copy_into(t, l_checktensor(L, 2)));
  lua_settop(L, 1);
  return 1;
}

static int l_fill(lua_State *L) {
  lurn_tensor *t = l_checktensor(L, 1);
  lurn_tensor_fill(t, (float)luaL_checknumber(L, 2));
  lua_settop(L, 1);
  return 1;
}

static int l_reshape(lua_State *L) {
  l_checktensor(L, 1);
  int64_t shape[LURN_MAX_DIMS];
  int n;
  if (lua_istable(L, 2)) {
    n = shape_len(L, 2);
    for (int i = 0; i < n; i++) {
      lua_geti(L, 2, i + 1);
      shape[i] = luaL_checkinteger(L, -1);
      lua_pop(L, 1);
    }
  } else {
    n = lua_gettop(L) - 1;
    luaL_argcheck(L, n >= 1 && n <= LURN_MAX_DIMS, 2, "expected a shape");
    for (int i = 0; i < n; i++) shape[i] = luaL_checkinteger(L, i + 2);
  }
  /* taken after the shape table, whose metamethods may close it */
  l_pushtensor(L, lurn_tensor_reshape(l_checktensor(L, 1), n, shape));
  return 1;
}

static int l_transpose(lua_State *L) {
  lurn_tensor *t = l_checktensor(L, 1);
  if (lua_isnoneornil(L, 2)) {
    if (t->ndim != 2) {
      char buf[LURN_SHAPE_STR_MAX];
      luaL_error(L, "transpose: give two dimensions for a tensor of shape %s", lurn_shape_str(t, buf, sizeof buf));
    }
    l_pushtensor(L, lurn_tensor_transpose(t, 0, 1));
    return 1;
  }
  int d0 = l_checkdim(L, 2, t), d1 = l_checkdim(L, 3, t);
  l_pushtensor(L, lurn_tensor_transpose(t, d0, d1));
  return 1;
}

static int l_permute(lua_State *L) {
  int ndim = l_checktensor(L, 1)->ndim;
  int dims[LURN_MAX_DIMS];
  int table = lua_istable(L, 2);
  lua_Integer n = table ? luaL_len(L, 2) : lua_gettop(L) - 1;
  if (n != ndim) luaL_error(L, "permute: expected %d dimensions, got %I", ndim, n);
  int base = 2;
  if (table) { /* the entries on the stack first: reading them may run metamethods */
    luaL_checkstack(L, (int)n, "permute");
    base = lua_gettop(L) + 1;
    for (int i = 0; i < n; i++) lua_geti(L, 2, i + 1);
  }
  lurn_tensor *t = l_checktensor(L, 1); /* taken after any Lua code, which may close it */
  for (int i = 0; i < n; i++) dims[i] = l_checkdim(L, base + i, t);
  l_pushtensor(L, lurn_tensor_permute(t, dims));
  return 1;
}

/* Positions are checked here, 1-based as the user wrote them, before the shift to 0-based
 * that math.mininteger would overflow. */
static int l_narrow(lua_State *L) {
  lurn_tensor *t = l_checktensor(L, 1);
  int dim = l_checkdim(L, 2, t);
  lua_Integer start = luaL_checkinteger(L, 3), length = luaL_checkinteger(L, 4), size = t->shape[dim];
  if (start < 1 || start > size + 1 || length < 0 || length > size - (start - 1)) {
    char buf[LURN_SHAPE_STR_MAX];
    luaL_error(L,
               "narrow: start %I and length %I out of range for dimension %d of shape %s (positions 1..%I)",
               start, length, dim + 1, lurn_shape_str(t, buf, sizeof buf), size);
  }
  l_pushtensor(L, lurn_tensor_narrow(t, dim, start - 1, length));
  return 1;
}

static int l_select(lua_State *L) {
  lurn_tensor *t = l_checktensor(L, 1);
  int dim = l_checkdim(L, 2, t);
  lua_Integer pos = luaL_checkinteger(L, 3);
  if (pos < 1 || pos > t->shape[dim]) {
    char buf[LURN_SHAPE_STR_MAX];
    luaL_error(L, "select: position %I out of range 1..%I for dimension %d of shape %s", pos,
               (lua_Integer)t->shape[dim], dim + 1, lurn_shape_str(t, buf, sizeof buf));
  }
  l_pushtensor(L, lurn_tensor_select(t, dim, pos - 1));
  return 1;
}

/* t:index(dim, positions[, out]): positions as a table or a tensor of 1-based integers;
 * with out (packed, of the result's shape) the slices are written there, no allocation. */
static int l_index(lua_State *L) {
  lua_settop(L, 4); /* scratch pushed below lands above the arguments */
  lurn_tensor *t = l_checktensor(L, 1);
  int dim = l_checkdim(L, 2, t);
  lurn_tensor *pos = l_totensor(L, 3);
  if (!lua_isnoneornil(L, 4)) l_checktensor(L, 4);
  int64_t n, size = t->shape[dim];
  if (pos) {
    if (pos->ndim != 1) luaL_argerror(L, 3, "positions must be a 1-D tensor");
    n = pos->shape[0];
  } else {
    luaL_checktype(L, 3, LUA_TTABLE);
    n = l_checklen(L, 3, LURN_MAX_LIST, "the list of positions");
  }
  size_t bytes = 0;
  if (!lurn_array_bytes(n, sizeof(int64_t), &bytes))
    luaL_error(L, "index: %I positions are too many", (lua_Integer)n);
  int64_t small[256];
  int64_t *index = n <= 256 ? small : lua_newuserdatauv(L, bytes, 0);
  /* A list's metamethods may run Lua code that closes the tensors: none is used while the
   * list is read, and they are taken again after it. */
  if (!pos) t = NULL;
  for (int64_t i = 0; i < n; i++) {
    double v;
    if (pos) {
      v = lurn_tensor_data(pos)[i * pos->stride[0]];
    } else {
      lua_geti(L, 3, (lua_Integer)i + 1);
      int ok;
      v = lua_tonumberx(L, -1, &ok);
      if (!ok) luaL_error(L, "index: position %I is not a number", (lua_Integer)i + 1);
      lua_pop(L, 1);
    }
    int64_t p = 0;
    if (v != floor(v)) luaL_error(L, "index: position %f is not an integer", v); /* NaN and fractions */
    int whole = lurn_i64_from_double(v, &p); /* checked before the cast and the shift */
    if (!whole || p < 1 || p > size) {
      char buf[LURN_SHAPE_STR_MAX];
      if (whole)
        lua_pushfstring(L, "%I", (lua_Integer)p);
      else
        lua_pushfstring(L, "%f", v);
      luaL_error(L, "index: position %s out of range 1..%I for dimension %d of shape %s", lua_tostring(L, -1),
                 (lua_Integer)size, dim + 1, lurn_shape_str(l_checktensor(L, 1), buf, sizeof buf));
    }
    index[i] = p - 1;
  }
  t = l_checktensor(L, 1);
  lurn_tensor *out = lua_isnoneornil(L, 4) ? NULL : l_checktensor(L, 4);
  if (out) {
    l_check(L, lurn_tensor_index_into(out, t, dim, index, n));
    lua_pushvalue(L, 4);
    return 1;
  }
  l_pushtensor(L, lurn_tensor_index(t, dim, index, n));
  return 1;
}

/* lurn.randperm(n [, "list"]): the positions 1..n in random order (seeded generator), as a
 * tensor, or as a Lua list of integers. A float32 tensor holds every whole number only up
 * to 2^24, so past that positions would repeat: the tensor form is refused there, the list
 * form stays exact. */
static int l_randperm(lua_State *L) {
  static const char *const forms[] = {"tensor", "list", NULL};
  lua_Integer n = luaL_checkinteger(L, 1);
  int list = luaL_checkoption(L, 2, "tensor", forms) == 1;
  luaL_argcheck(L, n >= 0, 1, "n must be >= 0");
  if (!list && n > LURN_MAX_FLOAT_POSITION)
    luaL_argerror(L, 1,
                  lua_pushfstring(L,
                                  "n = %I is past 2^24, beyond which a float32 tensor cannot hold every "
                                  "position; lurn.randperm(n, \"list\") gives them exactly",
                                  n));
  if (list && n > LURN_MAX_LIST)
    luaL_argerror(L, 1, lua_pushfstring(L, "n = %I is past the longest list, %I", n, LURN_MAX_LIST));
  int64_t *index = lua_newuserdatauv(L, sizeof(int64_t) * (size_t)(n ? n : 1), 0); /* n <= 2^31 */
  lurn_randperm(index, n, lurn_rng_global());
  if (list) {
    lua_createtable(L, (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
      lua_pushinteger(L, index[i] + 1);
      lua_rawseti(L, -2, i + 1);
    }
    return 1;
  }
  int64_t len = n;
  lurn_tensor *t = lurn_tensor_empty(1, &len);
  l_pushtensor(L, t);
  float *d = lurn_tensor_data(t);
  for (int64_t i = 0; i < n; i++) d[i] = (float)(index[i] + 1);
  return 1;
}

/* Collects the tensors of the table at idx into a userdata-held array. */
static const lurn_tensor **tensor_list(lua_State *L, int idx, int *n) {
  luaL_checktype(L, idx, LUA_TTABLE);
  *n = (int)l_checklen(L, idx, LURN_MAX_TENSOR_LIST, "the list of tensors");
  if (*n < 1) luaL_argerror(L, idx, "expected a non-empty list of tensors");
  const lurn_tensor **ts = lua_newuserdatauv(L, sizeof(*ts) * (size_t)*n, 0);
  for (int i = 0; i < *n; i++) {
    lua_rawgeti(L, idx, i + 1); /* raw: no Lua code may close ts[0..i-1] before they are used */
    ts[i] = l_totensor(L, -1);
    if (!ts[i])
      luaL_error(L, "element %d of the list is %s, expected a tensor", i + 1,
                 luaL_testudata(L, -1, LURN_TENSOR_MT) ? "a closed tensor"
                                                       : lua_pushfstring(L, "a %s", luaL_typename(L, -1)));
    lua_pop(L, 1);  /* still referenced by the table */
  }
  return ts;
}

static int l_cat(lua_State *L) {
  int n;
  lua_Integer d = luaL_optinteger(L, 2, 1);
  lua_settop(L, 1);
  const lurn_tensor **ts = tensor_list(L, 1, &n);
  int ndim = ts[0]->ndim;
  if (d < 0) d += ndim + 1;
  luaL_argcheck(L, d >= 1 && d <= ndim, 2, "dimension out of range");
  l_pushtensor(L, lurn_tensor_cat(ts, n, (int)d - 1));
  return 1;
}

static int l_stack(lua_State *L) {
  int n;
  lua_Integer d = luaL_optinteger(L, 2, 1);
  lua_settop(L, 1);
  const lurn_tensor **ts = tensor_list(L, 1, &n);
  int ndim = ts[0]->ndim + 1;
  if (d < 0) d += ndim + 1;
  luaL_argcheck(L, d >= 1 && d <= ndim, 2, "dimension out of range");
  l_pushtensor(L, lurn_tensor_stack(ts, n, (int)d - 1));
  return 1;
}

static const luaL_Reg tensor_methods[] = {
    {"shape", l_shape},
    {"size", l_size},
    {"dim", l_dim},
    {"numel", l_numel},
    {"get", l_get},
    {"set", l_set},
    {"item", l_item},
    {"totable", l_totable},
    {"contiguous", l_contiguous},
    {"is_contiguous", l_is_contiguous},
    {"clone", l_clone},
    {"copy", l_copy},
    {"fill", l_fill},
    {"reshape", l_reshape},
    {"view", l_reshape},
    {"transpose", l_transpose},
    {"t", l_transpose},
    {"permute", l_permute},
    {"narrow", l_narrow},
    {"select", l_select},
    {"index", l_index},
    {NULL, NULL},
};

static const luaL_Reg tensor_meta[] = {
    {"__len", l_len},
    {"__tostring", l_tostring},
    {"__gc", l_gc},
    {"__close", l_gc},
    {NULL, NULL},
};

static const luaL_Reg tensor_functions[] = {
    {"tensor", l_tensor_new},
    {"zeros", l_zeros},
    {"ones", l_ones},
    {"full", l_full},
    {"arange", l_arange},
    {"rand", l_rand},
    {"randn", l_randn},
    {"randperm", l_randperm},
    {"cat", l_cat},
    {"stack", l_stack},
    {NULL, NULL},
};

static int l_is_tensor(lua_State *L) {
  lua_pushboolean(L, l_totensor(L, 1) != NULL);
  return 1;
}

/* t[i] and t[i] = v, which numpy and PyTorch users write: an error that says how lurn reads
 * and writes elements, at the user's line, instead of Lua's "attempt to index a nil value".
 * Other unknown keys stay nil (a missing method is Lua's own error). */
static int index_hint(lua_State *L, int assigning) {
  luaL_where(L, 1);
  lua_pushfstring(L, "%sa tensor's elements are not %s with t[i]: use t:get(i, j, ...) and t:set(i, j, ..., v) "
                  "(positions 1-based), or t:select(1, i) for the i-th row",
                  lua_tostring(L, -1), assigning ? "assigned" : "read");
  return lua_error(L);
}

static int l_missing_method(lua_State *L) {
  if (lua_type(L, 2) == LUA_TNUMBER) return index_hint(L, 0);
  return 0;
}

static int l_newindex(lua_State *L) {
  if (lua_type(L, 2) == LUA_TNUMBER) return index_hint(L, 1);
  return luaL_error(L, "a tensor has no fields to set ('%s'); its methods are read-only", luaL_tolstring(L, 2, NULL));
}

void l_tensor_register(lua_State *L) {
  luaL_newmetatable(L, LURN_TENSOR_MT);
  luaL_setfuncs(L, tensor_meta, 0);
  lua_pushcfunction(L, l_newindex);
  lua_setfield(L, -2, "__newindex");
  luaL_newlib(L, tensor_methods);
  lua_newtable(L); /* the methods' own metatable: t[i] explained */
  lua_pushcfunction(L, l_missing_method);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "lurn.Tensor");
  lua_setfield(L, -2, "__name");
  lua_setfield(L, -2, "Tensor");  /* lurn.core.Tensor: the metatable, for extensions */
  luaL_setfuncs(L, tensor_functions, 0);
  lua_pushcfunction(L, l_is_tensor);
  lua_setfield(L, -2, "is_tensor");
}
