/* Tensor math from Lua: operators, elementwise functions, reductions, matmul.
 * Each entry point works as a method (t:exp()) and a function (lurn.exp(t)). */
#include <math.h>

#include "l_tensor.h"

/* a op b where either side may be a number. */
static int binary(lua_State *L, lurn_binary_op op) {
  lurn_tensor *a = l_totensor(L, 1), *b = l_totensor(L, 2);
  if (a && b) {
    l_pushtensor(L, lurn_binary(op, a, b));
  } else if (a) {
    l_pushtensor(L, lurn_binary_scalar(op, a, (float)luaL_checknumber(L, 2), 0));
  } else if (b) {
    l_pushtensor(L, lurn_binary_scalar(op, b, (float)luaL_checknumber(L, 1), 1));
  } else {
    return luaL_error(L, "expected a tensor operand, got %s and %s", luaL_typename(L, 1), luaL_typename(L, 2));
  }
  return 1;
}

#define BINARY(name, op) \
  static int tm_##name(lua_State *L) { return binary(L, op); }
BINARY(add, LURN_ADD)
BINARY(sub, LURN_SUB)
BINARY(mul, LURN_MUL)
BINARY(div, LURN_DIV)
BINARY(pow, LURN_POW)
BINARY(maximum, LURN_MAXIMUM)
BINARY(minimum, LURN_MINIMUM)
BINARY(gt, LURN_GT)
BINARY(lt, LURN_LT)
BINARY(ge, LURN_GE)
BINARY(le, LURN_LE)
BINARY(eq, LURN_EQ)
BINARY(ne, LURN_NE)

/* t:add_(b) etc.: in place, returning t (b a tensor that broadcasts to t, or a number). */
static int inplace(lua_State *L, lurn_binary_op op) {
  lurn_tensor *a = l_checktensor(L, 1), *b = l_totensor(L, 2);
  if (b) l_check(L, lurn_binary_inplace(op, a, b));
  else lurn_binary_scalar_inplace(op, a, (float)luaL_checknumber(L, 2));
  lua_settop(L, 1);
  return 1;
}

#define INPLACE(name, op) \
  static int tm_##name##_(lua_State *L) { return inplace(L, op); }
INPLACE(add, LURN_ADD)
INPLACE(sub, LURN_SUB)
INPLACE(mul, LURN_MUL)
INPLACE(div, LURN_DIV)

#define UNARY(name, op) \
  static int tm_##name(lua_State *L) { \
    l_pushtensor(L, lurn_unary(op, l_checktensor(L, 1))); \
    return 1; \
  }
UNARY(neg, LURN_NEG)
UNARY(exp, LURN_EXP)
UNARY(log, LURN_LOG)
UNARY(sqrt, LURN_SQRT)
UNARY(abs, LURN_ABS)
UNARY(sign, LURN_SIGN)
UNARY(square, LURN_SQUARE)
UNARY(tanh, LURN_TANH)
UNARY(sigmoid, LURN_SIGMOID)
UNARY(relu, LURN_RELU)
UNARY(floor, LURN_FLOOR)
UNARY(ceil, LURN_CEIL)
UNARY(round, LURN_ROUND)
UNARY(isnan, LURN_ISNAN)

static int tm_clamp(lua_State *L) {
  lurn_tensor *t = l_checktensor(L, 1);
  float lo = (float)luaL_optnumber(L, 2, -HUGE_VAL), hi = (float)luaL_optnumber(L, 3, HUGE_VAL);
  l_pushtensor(L, lurn_clamp(t, lo, hi));
  return 1;
}

/* t:sum() -> number; t:sum(dim[, keepdim]) -> tensor. var/std take ddof after keepdim. */
static int reduce(lua_State *L, lurn_reduce_op op) {
  lurn_tensor *t = l_checktensor(L, 1);
  lua_Integer ddof = luaL_optinteger(L, 4, 0);
  if (ddof < 0 || ddof > INT_MAX) /* before the cast: 2^32 would wrap to 0 */
    luaL_argerror(L, 4, lua_pushfstring(L, "ddof must be >= 0 and at most %d, got %I", INT_MAX, ddof));
  if (lua_isnoneornil(L, 2)) {
    double v;
    l_check(L, lurn_reduce_all(op, t, (int)ddof, &v));
    if (op == LURN_ARGMAX || op == LURN_ARGMIN) lua_pushinteger(L, (lua_Integer)v + 1);
    else lua_pushnumber(L, v);
    return 1;
  }
  int dim = l_checkdim(L, 2, t);
  int keepdim = lua_toboolean(L, 3);
  if ((op == LURN_ARGMAX || op == LURN_ARGMIN) && t->shape[dim] > LURN_MAX_FLOAT_POSITION) {
    char buf[LURN_SHAPE_STR_MAX];
    luaL_error(L,
               "%s: dimension %d of shape %s is past 2^24, beyond which a float32 tensor cannot hold every "
               "position",
               op == LURN_ARGMAX ? "argmax" : "argmin", dim + 1, lurn_shape_str(t, buf, sizeof buf));
  }
  lurn_tensor *r = lurn_reduce_dim(op, t, dim, keepdim, (int)ddof);
  l_pushtensor(L, r);
  if (op == LURN_ARGMAX || op == LURN_ARGMIN) {  /* 1-based positions, as everywhere in Lua */
    float *d = lurn_tensor_data(r);
    for (int64_t i = 0, n = lurn_tensor_numel(r); i < n; i++) d[i] += 1.0f;
  }
  return 1;
}

#define REDUCE(name, op) \
  static int tm_##name(lua_State *L) { return reduce(L, op); }
REDUCE(sum, LURN_SUM)
REDUCE(mean, LURN_MEAN)
REDUCE(max, LURN_MAX)
REDUCE(min, LURN_MIN)
REDUCE(argmax, LURN_ARGMAX)
REDUCE(argmin, LURN_ARGMIN)
REDUCE(var, LURN_VAR)
REDUCE(std, LURN_STD)

/* matmul(a, b[, transpose_a[, transpose_b]]) */
static int tm_matmul(lua_State *L) {
  lurn_tensor *a = l_checktensor(L, 1), *b = l_checktensor(L, 2);
  l_pushtensor(L, lurn_matmul(a, b, lua_toboolean(L, 3), lua_toboolean(L, 4)));
  return 1;
}

static const luaL_Reg math_functions[] = {
    {"add", tm_add},         {"sub", tm_sub},       {"mul", tm_mul},         {"div", tm_div},
    {"pow", tm_pow},         {"maximum", tm_maximum}, {"minimum", tm_minimum}, {"gt", tm_gt},
    {"lt", tm_lt},           {"ge", tm_ge},         {"le", tm_le},           {"eq", tm_eq},
    {"ne", tm_ne},           {"neg", tm_neg},       {"exp", tm_exp},         {"log", tm_log},
    {"sqrt", tm_sqrt},       {"abs", tm_abs},       {"sign", tm_sign},       {"square", tm_square},
    {"tanh", tm_tanh},       {"sigmoid", tm_sigmoid}, {"relu", tm_relu},     {"floor", tm_floor},
    {"ceil", tm_ceil},       {"round", tm_round},   {"isnan", tm_isnan},     {"clamp", tm_clamp},
    {"sum", tm_sum},         {"mean", tm_mean},     {"max", tm_max},         {"min", tm_min},
    {"argmax", tm_argmax},   {"argmin", tm_argmin}, {"var", tm_var},         {"std", tm_std},
    {"matmul", tm_matmul},   {NULL, NULL},
};

static const luaL_Reg inplace_methods[] = {
    {"add_", tm_add_}, {"sub_", tm_sub_}, {"mul_", tm_mul_}, {"div_", tm_div_}, {NULL, NULL},
};

static const luaL_Reg math_meta[] = {
    {"__add", tm_add}, {"__sub", tm_sub}, {"__mul", tm_mul}, {"__div", tm_div},
    {"__pow", tm_pow}, {"__unm", tm_neg}, {NULL, NULL},
};

void l_tensor_math_register(lua_State *L) {
  luaL_setfuncs(L, math_functions, 0);  /* lurn.core.exp(t) ... */
  luaL_getmetatable(L, LURN_TENSOR_MT);
  luaL_setfuncs(L, math_meta, 0);
  lua_getfield(L, -1, "__index");
  luaL_setfuncs(L, math_functions, 0);  /* t:exp() ... */
  luaL_setfuncs(L, inplace_methods, 0);
  lua_pop(L, 2);
}
