/* Lambda layers: a C callback layer whose build/forward/backward call Lua functions
 * (lua/lurn/layers/lambda.lua provides them, with gradients from lurn.autograd).
 * Lua errors inside a callback come back as a failed status, so they never unwind
 * through the C core; the binding that started the C call raises them. */
#include <string.h>

#include "l_tensor.h"


static const char *const callbacks_key = "lurn.lambda_callbacks";  /* weak ud -> {build, forward, backward} */

/* Pushes callbacks[ud][name]; 0 if missing. */
static int push_callback(lua_State *L, void *ud, const char *name) {
  lua_getfield(L, LUA_REGISTRYINDEX, callbacks_key);
  lua_rawgetp(L, -1, ud);
  lua_remove(L, -2);
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  return lua_isfunction(L, -1);
}

static lurn_status call(lua_State *L, int nargs, int nresults) {
  int status = lua_pcall(L, nargs, nresults, 0);
  l_set_active_state(L); /* a call into lurn from the function (maybe in a coroutine) moved it */
  if (status == LUA_OK) return LURN_OK;
  const char *msg = lua_tostring(L, -1);
  lurn_status st = lurn_fail(LURN_EINVAL, "Lambda: %s", msg ? msg : "error in a Lua callback");
  lua_pop(L, 1);
  return st;
}

static void push_view(lua_State *L, const lurn_tensor *t) { l_pushtensor(L, lurn_tensor_view(t)); }

/* Copies the tensor on top of the stack into dst, which fixes the expected shape. */
static lurn_status take_result(lua_State *L, lurn_tensor *dst, const char *what) {
  lurn_tensor *t = l_totensor(L, -1);
  lurn_status st = LURN_OK;
  if (!t) {
    st = lurn_fail(LURN_EINVAL, "Lambda: the %s must return a tensor, got %s", what, luaL_typename(L, -1));
  } else if (!lurn_tensor_same_shape(t, dst)) {
    char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
    st = lurn_fail(LURN_EINVAL, "Lambda: the %s returned shape %s, expected %s", what, lurn_shape_str(t, a, sizeof a),
                   lurn_shape_str(dst, b, sizeof b));
  } else {
    st = lurn_tensor_copy_into(dst, t);
  }
  lua_pop(L, 1);
  return st;
}

static lurn_status lambda_build(void *ud, int in_ndim, const int64_t *in_shape, int *out_ndim, int64_t *out_shape) {
  lua_State *L = l_active_state();
  if (!L || !push_callback(L, ud, "build")) return lurn_fail(LURN_EINVAL, "Lambda: no build callback");
  lua_createtable(L, in_ndim, 0);
  for (int i = 0; i < in_ndim; i++) {
    lua_pushinteger(L, in_shape[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lurn_status st = call(L, 1, 1);
  if (st) return st;
  int n = lua_istable(L, -1) ? (int)lua_rawlen(L, -1) : 0;
  if (n < 1 || n >= LURN_MAX_DIMS) {
    lua_pop(L, 1);
    return lurn_fail(LURN_EINVAL, "Lambda: the output shape must be a table of 1 to %d sizes", LURN_MAX_DIMS - 1);
  }
  for (int i = 0; i < n; i++) {
    lua_rawgeti(L, -1, i + 1);
    out_shape[i] = (int64_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (out_shape[i] < 1) {
      lua_pop(L, 1);
      return lurn_fail(LURN_EINVAL, "Lambda: output sizes must be positive integers");
    }
  }
  *out_ndim = n;
  lua_pop(L, 1);
  return LURN_OK;
}

static lurn_status lambda_forward(void *ud, const lurn_tensor *x, lurn_tensor *y, int training) {
  lua_State *L = l_active_state();
  if (!L || !push_callback(L, ud, "forward")) return lurn_fail(LURN_EINVAL, "Lambda: no forward callback");
  push_view(L, x);
  lua_pushboolean(L, training);
  lurn_status st = call(L, 2, 1);
  return st ? st : take_result(L, y, "function");
}

static lurn_status lambda_backward(void *ud, const lurn_tensor *x, const lurn_tensor *y, const lurn_tensor *dy,
                                   lurn_tensor *dx) {
  lua_State *L = l_active_state();
  if (!L || !push_callback(L, ud, "backward")) return lurn_fail(LURN_EINVAL, "Lambda: no backward callback");
  push_view(L, x);
  push_view(L, y);
  push_view(L, dy);
  lurn_status st = call(L, 3, 1);
  return st ? st : take_result(L, dx, "gradient");
}

static const lurn_callback_ops lambda_ops = {lambda_build, lambda_forward, lambda_backward, NULL};

/* core.lambda_layer{build = fn(in_shape) -> out_shape, forward = fn(x, training) -> y,
 *                   backward = fn(x, y, dy) -> dx} */
static int l_lambda_layer(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  l_set_active_state(L);
  /* the layer userdata keeps the callbacks table alive; the registry maps to it weakly */
  lurn_layer *l = lurn_callback_layer_new(&lambda_ops, NULL);
  if (!l) return luaL_error(L, "%s", lurn_last_error());
  l_pushlayer(L, l, 1);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  /* The callback ud is the layer itself: unique and as long-lived as the userdata. */
  lurn_callback_layer_set_ud(l, l);
  if (luaL_getsubtable(L, LUA_REGISTRYINDEX, callbacks_key) == 0) {
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
  }
  lua_pushvalue(L, 1);
  lua_rawsetp(L, -2, l);
  lua_pop(L, 1);
  return 1;
}

void l_lambda_register(lua_State *L) {
  lua_pushcfunction(L, l_lambda_layer);
  lua_setfield(L, -2, "lambda_layer");
}
