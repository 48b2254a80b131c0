/* The functional API's C pieces as lurn.Layer userdata: merge layers (built for, and run
 * on, lists of inputs), the slices of a packed output, and the graph container that wires
 * layers together.
 * Lists are read raw and the layer is taken last, so that no Lua code (a metamethod that
 * closes a layer or a tensor) runs between taking a pointer and using it. */
#include <string.h>

#include "l_tensor.h"
#include "lurn/layer_impl.h"

static const char *const merge_kinds[] = {"Add",     "Subtract", "Multiply",    "Average",
                                          "Maximum", "Minimum",  "Concatenate", "Pack", NULL};

/* core.merge_layer(kind[, axis]): kind a Keras class name; axis (Concatenate) 0-based per
 * sample, negative from the end. */
static int l_merge_layer(lua_State *L) {
  lurn_merge_kind kind = (lurn_merge_kind)luaL_checkoption(L, 1, NULL, merge_kinds);
  lua_Integer axis = luaL_optinteger(L, 2, -1);
  luaL_argcheck(L, axis >= -LURN_MAX_DIMS && axis < LURN_MAX_DIMS, 2, "axis out of range");
  return l_pushlayer(L, lurn_merge_new(kind, (int)axis), 0);
}

/* The length of the list at idx, checked against the merge limit. */
static int check_list(lua_State *L, int idx, const char *what) {
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_Integer n = luaL_len(L, idx); /* checked before the cast: 2^32 + 3 is not 3 */
  if (n < 1 || n > LURN_MERGE_MAX_INPUTS)
    luaL_argerror(L, idx, lua_pushfstring(L, "expected a list of 1 to %d %s", LURN_MERGE_MAX_INPUTS, what));
  return (int)n;
}

/* core.merge_build(layer, {shape, ...}) */
static int l_merge_build(lua_State *L) {
  l_checklayer(L, 1);
  int n = check_list(L, 2, "shapes");
  int ndim[LURN_MERGE_MAX_INPUTS];
  int64_t shapes[LURN_MERGE_MAX_INPUTS][LURN_MAX_DIMS];
  const int64_t *shape[LURN_MERGE_MAX_INPUTS];
  for (int j = 0; j < n; j++) {
    lua_geti(L, 2, j + 1);
    ndim[j] = l_checkshape(L, lua_gettop(L), shapes[j]);
    shape[j] = shapes[j];
    lua_pop(L, 1);
  }
  l_check(L, lurn_merge_build(l_checklayer(L, 1), n, ndim, shape));
  return 0;
}

static int check_tensors(lua_State *L, int idx, const lurn_tensor **xs) {
  int n = check_list(L, idx, "tensors");
  for (int j = 0; j < n; j++) {
    lua_rawgeti(L, idx, j + 1);
    xs[j] = l_checktensor(L, -1); /* the list keeps it alive */
    lua_pop(L, 1);
  }
  return n;
}

/* The batch shape (N, shape...) as a new zero tensor, left on the stack. */
static lurn_tensor *push_batch(lua_State *L, int64_t batch, int ndim, const int64_t *shape) {
  int64_t full[LURN_MAX_DIMS];
  full[0] = batch;
  memcpy(full + 1, shape, sizeof(int64_t) * ndim);
  lurn_tensor *t = lurn_tensor_zeros(ndim + 1, full);
  l_pushtensor(L, t);
  return t;
}

/* core.merge_forward(layer, {x, ...}) -> y (a new tensor); the inputs must be packed. */
static int l_merge_forward(lua_State *L) {
  l_checklayer(L, 1);
  const lurn_tensor *xs[LURN_MERGE_MAX_INPUTS];
  int n = check_tensors(L, 2, xs);
  lurn_layer *l = l_checklayer(L, 1);
  if (!l->built) luaL_error(L, "%s: build the layer before calling it", l->ops->type);
  lurn_tensor *y = push_batch(L, xs[0]->ndim ? xs[0]->shape[0] : 0, l->out_ndim, l->out_shape);
  l_check(L, lurn_merge_forward(l, xs, n, y));
  return 1;
}

/* core.merge_backward(layer, {x, ...}, y, dy) -> {dx, ...} (new tensors) */
static int l_merge_backward(lua_State *L) {
  l_checklayer(L, 1);
  const lurn_tensor *xs[LURN_MERGE_MAX_INPUTS];
  int n = check_tensors(L, 2, xs);
  lurn_tensor *y = l_checktensor(L, 3), *dy = l_checktensor(L, 4);
  lurn_layer *l = l_checklayer(L, 1);
  if (!l->built) luaL_error(L, "%s: build the layer before calling it", l->ops->type);
  lurn_tensor *dxs[LURN_MERGE_MAX_INPUTS];
  lua_createtable(L, n, 0);
  for (int j = 0; j < n; j++) {
    dxs[j] = lurn_tensor_zeros(xs[j]->ndim, xs[j]->shape);
    l_pushtensor(L, dxs[j]);
    lua_rawseti(L, -2, j + 1);
  }
  l_check(L, lurn_merge_backward(l, xs, n, y, dy, dxs));
  return 1;
}

/* The io argument of graph_layer: {inputs = {shape, ...}, outputs = {node, ...}}. */
static void set_io(lua_State *L, int idx, lurn_layer *g) {
  int64_t shapes[LURN_GRAPH_MAX_IO][LURN_MAX_DIMS];
  const int64_t *shape[LURN_GRAPH_MAX_IO];
  int ndim[LURN_GRAPH_MAX_IO], out_nodes[LURN_GRAPH_MAX_IO];
  lua_getfield(L, idx, "inputs");
  luaL_checktype(L, -1, LUA_TTABLE);
  lua_Integer nin = luaL_len(L, -1);
  if (nin < 1 || nin > LURN_GRAPH_MAX_IO) luaL_argerror(L, idx, "1 to 32 inputs");
  for (int j = 0; j < (int)nin; j++) {
    lua_geti(L, -1, j + 1);
    ndim[j] = l_checkshape(L, lua_gettop(L), shapes[j]);
    shape[j] = shapes[j];
    lua_pop(L, 1);
  }
  lua_getfield(L, idx, "outputs");
  luaL_checktype(L, -1, LUA_TTABLE);
  lua_Integer nout = luaL_len(L, -1);
  if (nout < 1 || nout > LURN_GRAPH_MAX_IO) luaL_argerror(L, idx, "1 to 32 outputs");
  for (int k = 0; k < (int)nout; k++) {
    lua_geti(L, -1, k + 1);
    lua_Integer node = luaL_checkinteger(L, -1);
    if (node < 1 || node > LURN_MAX_CHILDREN) luaL_argerror(L, idx, "output node numbers are 1 to 1024");
    out_nodes[k] = (int)node;
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
  l_check(L, lurn_graph_set_io(g, (int)nin, ndim, shape, (int)nout, out_nodes));
}

/* core.graph_layer({layer, ...}, {{input, ...}, ...}[, io]): node k runs layers[k] on the
 * outputs of nodes inputs[k] (0: the graph's input; with io's several inputs, -j is input
 * j + 1). io = {inputs = {shape, ...}, outputs = {node, ...}} for several inputs or
 * outputs (lurn_graph_set_io). The C graph holds a reference to each C layer; the user
 * value keeps the layer userdata (Lambda functions) alive. */
static int l_graph_layer(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 3); /* the graph goes above io */
  lua_Integer len = luaL_len(L, 1);
  luaL_argcheck(L, len >= 1 && len <= LURN_MAX_CHILDREN, 1, "a graph holds 1 to 1024 layers");
  int n = (int)len;
  luaL_argcheck(L, luaL_len(L, 2) == n, 2, "one list of inputs per layer");
  lurn_layer *g = lurn_graph_new();
  l_pushlayer(L, g, 1);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  for (int k = 1; k <= n; k++) {
    lua_geti(L, 2, k);
    if (!lua_istable(L, -1)) luaL_argerror(L, 2, "each node's inputs must be a list of node numbers");
    lua_Integer m = luaL_len(L, -1);
    int inputs[LURN_MERGE_MAX_INPUTS];
    if (m < 1 || m > LURN_MERGE_MAX_INPUTS) luaL_argerror(L, 2, "a node takes 1 to 32 inputs");
    for (int j = 0; j < m; j++) {
      lua_geti(L, -1, j + 1);
      lua_Integer node = luaL_checkinteger(L, -1);
      if (node <= -LURN_GRAPH_MAX_IO || node > LURN_MAX_CHILDREN) luaL_argerror(L, 2, "node numbers are -31 to 1024");
      inputs[j] = (int)node;
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_rawgeti(L, 1, k); /* raw, and just before the graph takes its reference */
    lurn_layer *layer = l_checklayer(L, -1);
    lua_pop(L, 1);
    l_check(L, lurn_graph_add(g, layer, inputs, (int)m));
  }
  if (!lua_isnoneornil(L, 3)) set_io(L, 3, g);
  return 1;
}

/* core.slice_layer(offset, shape[, keep_mask]): one part of a packed per-sample output
 * (offset 0-based, in values), seen as shape */
static int l_slice_layer(lua_State *L) {
  lua_Integer offset = luaL_checkinteger(L, 1);
  luaL_argcheck(L, offset >= 0, 1, "offset must be >= 0");
  int64_t shape[LURN_MAX_DIMS];
  int ndim = l_checkshape(L, 2, shape);
  int keep = lua_toboolean(L, 3);
  return l_pushlayer(L, lurn_slice_new(offset, ndim, shape, keep), 0);
}

static const luaL_Reg graph_functions[] = {
    {"slice_layer", l_slice_layer},
    {"merge_layer", l_merge_layer},
    {"merge_build", l_merge_build},
    {"merge_forward", l_merge_forward},
    {"merge_backward", l_merge_backward},
    {"graph_layer", l_graph_layer},
    {NULL, NULL},
};

void l_graph_register(lua_State *L) {
  luaL_setfuncs(L, graph_functions, 0);
}
