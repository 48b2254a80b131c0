/* The lurn.Optimizer userdata: a C optimizer whose settings (learning_rate first) can
 * be read and changed while training: opt:get("learning_rate"), opt:set(...). */
#include <string.h>

#include "l_tensor.h"

#define LURN_OPTIMIZER_MT "lurn.Optimizer"

typedef struct {
  lurn_optimizer *o;
  int in_use; /* training steps now running with it (Lua may run inside them) */
} optimizer_box;

static optimizer_box *check_box(lua_State *L, int idx) {
  optimizer_box *b = luaL_checkudata(L, idx, LURN_OPTIMIZER_MT);
  if (!b->o) luaL_argerror(L, idx, "attempt to use a closed optimizer");
  return b;
}

lurn_optimizer *l_checkoptimizer(lua_State *L, int idx) {
  return check_box(L, idx)->o;
}

/* In the order of lurn_optimizer_kind. */
static const char *const kinds[] = {"sgd",   "adam",   "adamw",    "rmsprop", "adagrad",
                                    "nadam", "adamax", "adadelta", "ftrl",    NULL};

/* The float settings by name, as offsets into the config. */
static float *setting(lurn_optimizer_config *c, const char *name) {
  if (strcmp(name, "learning_rate") == 0) return &c->learning_rate;
  if (strcmp(name, "momentum") == 0) return &c->momentum;
  if (strcmp(name, "beta_1") == 0) return &c->beta_1;
  if (strcmp(name, "beta_2") == 0) return &c->beta_2;
  if (strcmp(name, "epsilon") == 0) return &c->epsilon;
  if (strcmp(name, "rho") == 0) return &c->rho;
  if (strcmp(name, "initial_accumulator_value") == 0) return &c->initial_accumulator_value;
  if (strcmp(name, "weight_decay") == 0) return &c->weight_decay;
  if (strcmp(name, "clipnorm") == 0) return &c->clipnorm;
  if (strcmp(name, "clipvalue") == 0) return &c->clipvalue;
  if (strcmp(name, "learning_rate_power") == 0) return &c->learning_rate_power;
  if (strcmp(name, "l1_regularization_strength") == 0) return &c->l1_regularization_strength;
  if (strcmp(name, "l2_regularization_strength") == 0) return &c->l2_regularization_strength;
  if (strcmp(name, "l2_shrinkage_regularization_strength") == 0)
    return &c->l2_shrinkage_regularization_strength;
  if (strcmp(name, "beta") == 0) return &c->beta;
  return NULL;
}

/* core.optimizer{kind = "adam", learning_rate = ..., ...}: the Lua side fills defaults. */
static int l_optimizer_new(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lurn_optimizer_config c = {0};
  lua_getfield(L, 1, "kind");
  c.kind = (lurn_optimizer_kind)luaL_checkoption(L, -1, NULL, kinds);
  lua_pop(L, 1);
  static const char *const floats[] = {"learning_rate", "momentum", "beta_1", "beta_2", "epsilon", "rho",
                                       "initial_accumulator_value", "weight_decay", "clipnorm", "clipvalue",
                                       "learning_rate_power", "l1_regularization_strength",
                                       "l2_regularization_strength", "l2_shrinkage_regularization_strength", "beta"};
  for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++) {
    lua_getfield(L, 1, floats[i]);
    if (!lua_isnil(L, -1)) {
      int ok;
      lua_Number v = lua_tonumberx(L, -1, &ok);
      if (!ok) luaL_error(L, "optimizer option '%s' must be a number, got %s", floats[i], luaL_typename(L, -1));
      *setting(&c, floats[i]) = (float)v;
    }
    lua_pop(L, 1);
  }
  lua_getfield(L, 1, "nesterov");
  c.nesterov = lua_toboolean(L, -1);
  lua_getfield(L, 1, "amsgrad");
  c.amsgrad = lua_toboolean(L, -1);
  lua_pop(L, 2);
  optimizer_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->o = NULL;
  b->in_use = 0;
  luaL_setmetatable(L, LURN_OPTIMIZER_MT);
  b->o = lurn_optimizer_new(&c);
  if (!b->o) luaL_error(L, "%s", lurn_last_error());
  return 1;
}

static int l_get(lua_State *L) {
  lurn_optimizer *o = l_checkoptimizer(L, 1);
  const char *name = luaL_checkstring(L, 2);
  if (strcmp(name, "iterations") == 0) {
    lua_pushinteger(L, lurn_optimizer_iterations(o));
    return 1;
  }
  float *v = setting(lurn_optimizer_config_of(o), name);
  if (!v) return luaL_argerror(L, 2, lua_pushfstring(L, "unknown optimizer setting '%s'", name));
  lua_pushnumber(L, *v);
  return 1;
}

static int l_set(lua_State *L) {
  lurn_optimizer *o = l_checkoptimizer(L, 1);
  const char *name = luaL_checkstring(L, 2);
  lua_Number value = luaL_checknumber(L, 3);
  float *v = setting(lurn_optimizer_config_of(o), name);
  if (!v) return luaL_argerror(L, 2, lua_pushfstring(L, "unknown optimizer setting '%s'", name));
  /* Ftrl's learning_rate_power is the one setting that is <= 0 */
  if (strcmp(name, "learning_rate_power") == 0) {
    if (!(value <= 0)) return luaL_argerror(L, 3, "learning_rate_power must be a number <= 0");
  } else if (value != value || value < 0) {
    return luaL_argerror(L, 3, "optimizer settings must be numbers >= 0");
  }
  *v = (float)value;
  return 0;
}

/* opt:step({params...}, {grads...}): one update, for tests and custom loops. */
static int l_step(lua_State *L) {
  l_checkoptimizer(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_Integer n = l_checklen(L, 2, LURN_MAX_TENSOR_LIST, "the parameter list");
  lua_Integer n_grads = luaL_len(L, 3);
  if (n != n_grads) luaL_error(L, "step: %I parameters but %I gradients", n, n_grads);
  lurn_tensor **ps = lua_newuserdatauv(L, sizeof(lurn_tensor *) * 2 * (size_t)(n ? n : 1), 0);
  lurn_tensor **gs = ps + n;
  /* raw reads, and the optimizer taken last: no Lua code may close what is already read */
  for (int i = 0; i < n; i++) {
    lua_rawgeti(L, 2, i + 1);
    ps[i] = l_checktensor(L, -1);
    lua_rawgeti(L, 3, i + 1);
    gs[i] = l_checktensor(L, -1);
    lua_pop(L, 2);
    if (!lurn_tensor_same_shape(ps[i], gs[i]) || !lurn_tensor_is_contiguous(ps[i]) || !lurn_tensor_is_contiguous(gs[i]))
      luaL_error(L, "step: parameter %d and its gradient must be packed tensors of the same shape", i + 1);
  }
  l_check(L, lurn_optimizer_step(l_checkoptimizer(L, 1), ps, gs, (int)n));
  return 0;
}

/* The optimizer at idx for a C call that may run Lua (a training step through a Lambda
 * layer): __gc refuses to free it until l_done_with_optimizer. */
lurn_optimizer *l_use_optimizer(lua_State *L, int idx) {
  optimizer_box *b = check_box(L, idx);
  b->in_use++;
  return b->o;
}

void l_done_with_optimizer(lua_State *L, int idx) {
  ((optimizer_box *)lua_touserdata(L, idx))->in_use--;
}

/* Frees the C optimizer and closes the userdata; a second call does nothing. Refused while
 * a training step uses it (a Lambda layer's function calling __gc by hand). */
static int l_optimizer_gc(lua_State *L) {
  optimizer_box *b = luaL_checkudata(L, 1, LURN_OPTIMIZER_MT);
  if (b->in_use) return luaL_error(L, "cannot close an optimizer while a training step uses it");
  lurn_optimizer_free(b->o);
  b->o = NULL;
  return 0;
}

/* opt:state() -> iterations, nadam's momentum product, {slot tensors} (copies, in the
 * order lurn_optimizer_slot numbers them): what a model file keeps of an optimizer. */
static int l_state(lua_State *L) {
  lurn_optimizer *o = l_checkoptimizer(L, 1);
  int n = lurn_optimizer_nparams(o) * lurn_optimizer_slots_per_param(o);
  lua_pushinteger(L, lurn_optimizer_iterations(o));
  lua_pushnumber(L, lurn_optimizer_nadam_product(o));
  lua_createtable(L, n, 0);
  for (int k = 0; k < n; k++) {
    lurn_tensor *t = lurn_optimizer_slot(o, k);
    if (!t) return luaL_error(L, "%s", lurn_last_error());
    l_pushtensor(L, t);
    lua_rawseti(L, -2, k + 1);
  }
  return 3;
}

/* opt:restore(iterations, nadam_product, {slot tensors}): the state state() gave. */
static int l_restore(lua_State *L) {
  l_checkoptimizer(L, 1);
  lua_Integer iterations = luaL_checkinteger(L, 2);
  lua_Number product = luaL_checknumber(L, 3);
  luaL_checktype(L, 4, LUA_TTABLE);
  lua_Integer n = l_checklen(L, 4, LURN_MAX_TENSOR_LIST, "the slot list");
  lurn_tensor **ts = lua_newuserdatauv(L, sizeof *ts * (size_t)(n ? n : 1), 0);
  for (lua_Integer k = 0; k < n; k++) {
    lua_rawgeti(L, 4, k + 1);
    ts[k] = l_checktensor(L, -1);
    lua_pop(L, 1); /* the list in argument 4 keeps it alive */
  }
  l_check(L, lurn_optimizer_restore(l_checkoptimizer(L, 1), iterations, product, ts, (int)n));
  return 0;
}

static const luaL_Reg optimizer_methods[] = {{"get", l_get}, {"set", l_set}, {"step", l_step},
                                            {"state", l_state},     {"restore", l_restore}, {NULL, NULL}};

void l_optimizer_register(lua_State *L) {
  luaL_newmetatable(L, LURN_OPTIMIZER_MT);
  lua_pushcfunction(L, l_optimizer_gc);
  lua_setfield(L, -2, "__gc");
  luaL_newlib(L, optimizer_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_optimizer_new);
  lua_setfield(L, -2, "optimizer");
}
