/* The lurn.Layer userdata: C layers created from Lua option tables, built for an
 * input shape, run forward/backward on their own (tests, Lambda, diagnosis), and their
 * parameters exposed as tensors that share storage with the layer.
 * The userdata holds one reference to its C layer (see lurn_layer_retain): __gc releases
 * it and closes the userdata, while models and containers holding the layer keep their
 * own references, whatever order the collector finalizes them in. */
#include <string.h>

#include "l_tensor.h"
#include "lurn/layer_impl.h"

#define LURN_LAYER_MT "lurn.Layer"

typedef struct {
  lurn_layer *l;
} layer_box;

lurn_layer *l_checklayer(lua_State *L, int idx) {
  layer_box *b = luaL_checkudata(L, idx, LURN_LAYER_MT);
  if (!b->l) luaL_argerror(L, idx, "attempt to use a closed layer");
  return b->l;
}

int l_pushlayer(lua_State *L, lurn_layer *l, int nuvalue) {
  if (!l) return luaL_error(L, "%s", lurn_last_error());
  layer_box *b = lua_newuserdatauv(L, sizeof *b, nuvalue);
  b->l = l;
  luaL_setmetatable(L, LURN_LAYER_MT);
  return 1;
}

static float opt_float(lua_State *L, int t, const char *key, float def) {
  lua_getfield(L, t, key);
  float v = def;
  if (!lua_isnil(L, -1)) {
    int ok;
    v = (float)lua_tonumberx(L, -1, &ok);
    if (!ok) luaL_error(L, "option '%s' must be a number, got %s", key, luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  return v;
}

static int opt_bool(lua_State *L, int t, const char *key, int def) {
  lua_getfield(L, t, key);
  int v = lua_isnil(L, -1) ? def : lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

static const char *const init_names[] = {
    "zeros", "ones", "constant", "random_normal", "random_uniform", "truncated_normal", "glorot_uniform",
    "glorot_normal", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform", "orthogonal", NULL};

/* {kind = "glorot_uniform", a =, b =, seed =} (the Lua side fills Keras defaults) */
static lurn_initializer check_initializer(lua_State *L, int t, const char *key) {
  lurn_initializer init = {0};
  lua_getfield(L, t, key);
  if (!lua_istable(L, -1)) luaL_error(L, "option '%s' must be an initializer table", key);
  int it = lua_gettop(L);
  lua_getfield(L, it, "kind");
  const char *kind = lua_tostring(L, -1);
  int found = -1;
  for (int i = 0; kind && init_names[i]; i++)
    if (strcmp(kind, init_names[i]) == 0) found = i;
  if (found < 0) luaL_error(L, "unknown initializer '%s'", kind ? kind : "?");
  lua_pop(L, 1);
  init.kind = (lurn_init_kind)found;
  init.a = opt_float(L, it, "a", 0);
  init.b = opt_float(L, it, "b", 0);
  lua_getfield(L, it, "seed");
  if (!lua_isnil(L, -1)) {
    init.seeded = 1;
    init.seed = (uint64_t)luaL_checkinteger(L, -1);
  }
  lua_pop(L, 2);
  return init;
}

static lurn_activation check_activation(lua_State *L, const char *name) {
  lurn_activation act;
  if (!lurn_activation_from_name(name, &act)) luaL_error(L, "%s", lurn_last_error());
  return act;
}

/* t.activation: a name, or nil for linear. */
static lurn_activation opt_activation(lua_State *L, int t) {
  lua_getfield(L, t, "activation");
  lurn_activation act = lua_isnil(L, -1) ? LURN_ACT_LINEAR : check_activation(L, luaL_checkstring(L, -1));
  lua_pop(L, 1);
  return act;
}

/* t[key]: a positive integer, or dflt when nil (dflt 0: the option is required). */
static lua_Integer positive_option(lua_State *L, int t, const char *key, lua_Integer dflt, const char *layer) {
  lua_getfield(L, t, key);
  int ok = 1;
  lua_Integer v = lua_isnil(L, -1) && dflt > 0 ? dflt : lua_tointegerx(L, -1, &ok);
  if (!ok || v < 1) luaL_error(L, "%s: %s must be a positive integer", layer, key);
  lua_pop(L, 1);
  return v;
}

/* core.dense_layer{units=, activation=, alpha=, use_bias=, kernel_initializer=, bias_initializer=} */
static int l_dense_layer(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lurn_dense_config c = {0};
  c.units = positive_option(L, 1, "units", 0, "Dense");
  c.activation = opt_activation(L, 1);
  c.alpha = opt_float(L, 1, "alpha", 0.2f);
  c.use_bias = opt_bool(L, 1, "use_bias", 1);
  c.kernel_initializer = check_initializer(L, 1, "kernel_initializer");
  c.bias_initializer = check_initializer(L, 1, "bias_initializer");
  return l_pushlayer(L, lurn_dense_new(&c), 0);
}

/* core.recurrent_layer("SimpleRNN" | "LSTM" | "GRU", {units=, activation=,
 * recurrent_activation=, use_bias=, kernel_initializer=, recurrent_initializer=,
 * bias_initializer=, unit_forget_bias=, reset_after=, return_sequences=, go_backwards=,
 * dropout=, recurrent_dropout=, return_state=, initial_state=, timesteps=, features=}):
 * with initial_state, the input packs the sequence (timesteps, features) and the states */
static int l_recurrent_layer(lua_State *L) {
  static const char *const kinds[] = {"SimpleRNN", "LSTM", "GRU", NULL};
  int kind = luaL_checkoption(L, 1, NULL, kinds);
  luaL_checktype(L, 2, LUA_TTABLE);
  lurn_recurrent_config c = {0};
  c.units = positive_option(L, 2, "units", 0, kinds[kind]);
  lua_getfield(L, 2, "activation");
  c.activation = check_activation(L, luaL_optstring(L, -1, "tanh"));
  lua_getfield(L, 2, "recurrent_activation");
  c.recurrent_activation = check_activation(L, luaL_optstring(L, -1, "sigmoid"));
  lua_pop(L, 2);
  c.use_bias = opt_bool(L, 2, "use_bias", 1);
  c.kernel_initializer = check_initializer(L, 2, "kernel_initializer");
  c.recurrent_initializer = check_initializer(L, 2, "recurrent_initializer");
  c.bias_initializer = check_initializer(L, 2, "bias_initializer");
  c.unit_forget_bias = opt_bool(L, 2, "unit_forget_bias", 1);
  c.reset_after = opt_bool(L, 2, "reset_after", 1);
  c.return_sequences = opt_bool(L, 2, "return_sequences", 0);
  c.go_backwards = opt_bool(L, 2, "go_backwards", 0);
  c.dropout = opt_float(L, 2, "dropout", 0);
  c.recurrent_dropout = opt_float(L, 2, "recurrent_dropout", 0);
  c.return_state = opt_bool(L, 2, "return_state", 0);
  c.initial_state = opt_bool(L, 2, "initial_state", 0);
  if (c.initial_state) {
    c.timesteps = positive_option(L, 2, "timesteps", 0, kinds[kind]);
    c.features = positive_option(L, 2, "features", 0, kinds[kind]);
  }
  c.rng = lurn_rng_global();
  lurn_layer *(*const make[])(const lurn_recurrent_config *) = {lurn_simple_rnn_new, lurn_lstm_new, lurn_gru_new};
  return l_pushlayer(L, make[kind](&c), 0);
}

/* core.batchnorm_layer{momentum=, epsilon=, center=, scale=, beta_initializer=, gamma_initializer=,
 * synchronized=} */
static int l_batchnorm_layer(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lurn_batchnorm_config c = {0};
  c.momentum = opt_float(L, 1, "momentum", 0.99f);
  c.epsilon = opt_float(L, 1, "epsilon", 1e-3f);
  c.center = opt_bool(L, 1, "center", 1);
  c.scale = opt_bool(L, 1, "scale", 1);
  c.beta_initializer = check_initializer(L, 1, "beta_initializer");
  c.gamma_initializer = check_initializer(L, 1, "gamma_initializer");
  c.synchronized = opt_bool(L, 1, "synchronized", 0);
  return l_pushlayer(L, lurn_batchnorm_new(&c), 0);
}

/* core.residual_layer({layer, ...}[, projection]): the layers stay alive as long as
 * the block, through its user value. */
static int l_residual_layer(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer n = luaL_len(L, 1); /* checked before any cast */
  luaL_argcheck(L, n >= 1 && n <= 64, 1, "a Residual block holds 1 to 64 layers");
  lurn_layer *layers[64];
  /* raw reads: no Lua code (a metamethod closing a layer) runs before the block holds them */
  for (int i = 0; i < n; i++) {
    lua_rawgeti(L, 1, i + 1);
    layers[i] = l_checklayer(L, -1);
    lua_pop(L, 1);
  }
  lurn_layer *projection = lua_isnoneornil(L, 2) ? NULL : l_checklayer(L, 2);
  l_pushlayer(L, lurn_residual_new(layers, (int)n, projection), 1);
  lua_createtable(L, 2, 0);
  lua_pushvalue(L, 1);
  lua_rawseti(L, -2, 1);
  lua_pushvalue(L, 2);
  lua_rawseti(L, -2, 2);
  lua_setiuservalue(L, -2, 1);
  return 1;
}

static int l_activation_layer(lua_State *L) {
  lurn_activation act = check_activation(L, luaL_checkstring(L, 1));
  return l_pushlayer(L, lurn_activation_layer_new(act, (float)luaL_optnumber(L, 2, 0.2)), 0);
}

static int l_dropout_layer(lua_State *L) {
  return l_pushlayer(L, lurn_dropout_new((float)luaL_checknumber(L, 1), lurn_rng_global()), 0);
}

/* core.reshape_layer("Reshape" | "Flatten", {sizes}) */
static int l_reshape_layer(lua_State *L) {
  const char *type = luaL_checkstring(L, 1);
  int64_t shape[LURN_MAX_DIMS] = {-1};
  int n = 1;
  if (!lua_isnoneornil(L, 2)) n = l_checkshape_signed(L, 2, shape);
  return l_pushlayer(L, lurn_reshape_new(type, n, shape), 0);
}

/* A (height, width) option: a positive integer for both, or a pair {h, w}. */
static void check_pair(lua_State *L, int t, const char *key, int64_t *pair) {
  lua_getfield(L, t, key);
  int ok = lua_isinteger(L, -1) || lua_istable(L, -1);
  for (int i = 0; ok && i < 2; i++) {
    if (lua_istable(L, -1))
      lua_geti(L, -1, i + 1);
    else
      lua_pushvalue(L, -1);
    lua_Integer v = lua_tointegerx(L, -1, &ok);
    ok = ok && v >= 1;
    pair[i] = v;
    lua_pop(L, 1);
  }
  if (!ok) luaL_error(L, "option '%s' must be a positive integer or a pair {height, width}", key);
  lua_pop(L, 1);
}

static int check_padding(lua_State *L, int t) {
  static const char *const names[] = {"valid", "same", NULL};
  lua_getfield(L, t, "padding");
  int same = luaL_checkoption(L, -1, "valid", names);
  lua_pop(L, 1);
  return same;
}

/* core.conv2d_layer{filters=, kernel_size=, strides=, dilation_rate=, padding=, activation=,
 * alpha=, use_bias=, kernel_initializer=, bias_initializer=} */
static int l_conv2d_layer(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lurn_conv2d_config c = {0};
  c.filters = positive_option(L, 1, "filters", 0, "Conv2D");
  check_pair(L, 1, "kernel_size", c.kernel_size);
  check_pair(L, 1, "strides", c.strides);
  check_pair(L, 1, "dilation_rate", c.dilation_rate);
  c.padding_same = check_padding(L, 1);
  c.activation = opt_activation(L, 1);
  c.alpha = opt_float(L, 1, "alpha", 0.2f);
  c.use_bias = opt_bool(L, 1, "use_bias", 1);
  c.kernel_initializer = check_initializer(L, 1, "kernel_initializer");
  c.bias_initializer = check_initializer(L, 1, "bias_initializer");
  return l_pushlayer(L, lurn_conv2d_new(&c), 0);
}

/* core.pool2d_layer{kind = "max" | "average", global=, keepdims=, pool_size=, strides=, padding=} */
static int l_pool2d_layer(lua_State *L) {
  static const char *const kinds[] = {"max", "average", NULL};
  luaL_checktype(L, 1, LUA_TTABLE);
  lurn_pool2d_config c = {0};
  lua_getfield(L, 1, "kind");
  c.kind = luaL_checkoption(L, -1, NULL, kinds) == 0 ? LURN_POOL_MAX : LURN_POOL_AVERAGE;
  lua_pop(L, 1);
  c.global = opt_bool(L, 1, "global", 0);
  c.keepdims = opt_bool(L, 1, "keepdims", 0);
  if (!c.global) {
    check_pair(L, 1, "pool_size", c.pool_size);
    check_pair(L, 1, "strides", c.strides);
    c.padding_same = check_padding(L, 1);
  }
  return l_pushlayer(L, lurn_pool2d_new(&c), 0);
}

/* core.zero_padding2d_layer{padding = {{top, bottom}, {left, right}}} (Keras' normalised form) */
static int l_zero_padding2d_layer(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  int64_t pad[4];
  lua_getfield(L, 1, "padding");
  int ok = lua_istable(L, -1);
  for (int i = 0; ok && i < 4; i++) {
    lua_geti(L, -1, i / 2 + 1);
    ok = lua_istable(L, -1);
    if (ok) {
      lua_geti(L, -1, i % 2 + 1);
      lua_Integer v = lua_tointegerx(L, -1, &ok);
      ok = ok && v >= 0;
      pad[i] = v;
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  if (!ok)
    luaL_error(L, "ZeroPadding2D: padding must be {{top, bottom}, {left, right}} of non-negative integers");
  lua_pop(L, 1);
  lurn_zero_padding2d_config c = {.top = pad[0], .bottom = pad[1], .left = pad[2], .right = pad[3]};
  return l_pushlayer(L, lurn_zero_padding2d_new(&c), 0);
}

/* core.upsampling2d_layer{size =, interpolation = "nearest" | "bilinear"} */
static int l_upsampling2d_layer(lua_State *L) {
  static const char *const names[] = {"nearest", "bilinear", NULL};
  luaL_checktype(L, 1, LUA_TTABLE);
  lurn_upsampling2d_config c = {0};
  check_pair(L, 1, "size", c.size);
  lua_getfield(L, 1, "interpolation");
  c.interpolation =
      luaL_checkoption(L, -1, "nearest", names) == 0 ? LURN_INTERP_NEAREST : LURN_INTERP_BILINEAR;
  lua_pop(L, 1);
  return l_pushlayer(L, lurn_upsampling2d_new(&c), 0);
}

/* core.depthwise_conv2d_layer{kernel_size=, strides=, dilation_rate=, padding=, depth_multiplier=,
 * activation=, alpha=, use_bias=, depthwise_initializer=, bias_initializer=} */
static int l_depthwise_conv2d_layer(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lurn_depthwise_conv2d_config c = {0};
  check_pair(L, 1, "kernel_size", c.kernel_size);
  check_pair(L, 1, "strides", c.strides);
  check_pair(L, 1, "dilation_rate", c.dilation_rate);
  c.padding_same = check_padding(L, 1);
  c.depth_multiplier = positive_option(L, 1, "depth_multiplier", 1, "DepthwiseConv2D");
  c.activation = opt_activation(L, 1);
  c.alpha = opt_float(L, 1, "alpha", 0.2f);
  c.use_bias = opt_bool(L, 1, "use_bias", 1);
  c.depthwise_initializer = check_initializer(L, 1, "depthwise_initializer");
  c.bias_initializer = check_initializer(L, 1, "bias_initializer");
  return l_pushlayer(L, lurn_depthwise_conv2d_new(&c), 0);
}

/* core.conv1d_layer{filters=, kernel_size=, strides=, dilation_rate=, padding = "valid" |
 * "same" | "causal", activation=, alpha=, use_bias=, kernel_initializer=, bias_initializer=} */
static int l_conv1d_layer(lua_State *L) {
  static const char *const paddings[] = {"valid", "same", "causal", NULL};
  luaL_checktype(L, 1, LUA_TTABLE);
  lurn_conv1d_config c = {0};
  c.filters = positive_option(L, 1, "filters", 0, "Conv1D");
  c.kernel_size = positive_option(L, 1, "kernel_size", 0, "Conv1D");
  c.strides = positive_option(L, 1, "strides", 1, "Conv1D");
  c.dilation_rate = positive_option(L, 1, "dilation_rate", 1, "Conv1D");
  lua_getfield(L, 1, "padding");
  c.padding = (lurn_conv1d_padding)luaL_checkoption(L, -1, "valid", paddings);
  lua_pop(L, 1);
  c.activation = opt_activation(L, 1);
  c.alpha = opt_float(L, 1, "alpha", 0.2f);
  c.use_bias = opt_bool(L, 1, "use_bias", 1);
  c.kernel_initializer = check_initializer(L, 1, "kernel_initializer");
  c.bias_initializer = check_initializer(L, 1, "bias_initializer");
  return l_pushlayer(L, lurn_conv1d_new(&c), 0);
}

/* core.pool1d_layer{kind = "max" | "average", global=, keepdims=, pool_size=, strides=, padding=} */
static int l_pool1d_layer(lua_State *L) {
  static const char *const kinds[] = {"max", "average", NULL};
  luaL_checktype(L, 1, LUA_TTABLE);
  lurn_pool1d_config c = {0};
  lua_getfield(L, 1, "kind");
  c.kind = luaL_checkoption(L, -1, NULL, kinds) == 0 ? LURN_POOL_MAX : LURN_POOL_AVERAGE;
  lua_pop(L, 1);
  c.global = opt_bool(L, 1, "global", 0);
  c.keepdims = opt_bool(L, 1, "keepdims", 0);
  if (!c.global) {
    c.pool_size = positive_option(L, 1, "pool_size", 2, "Pooling1D");
    c.strides = positive_option(L, 1, "strides", c.pool_size, "Pooling1D");
    c.padding_same = check_padding(L, 1);
  }
  return l_pushlayer(L, lurn_pool1d_new(&c), 0);
}

/* core.embedding_layer{input_dim=, output_dim=, embeddings_initializer=} */
static int l_embedding_layer(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lurn_embedding_config c = {0};
  c.input_dim = positive_option(L, 1, "input_dim", 0, "Embedding");
  c.output_dim = positive_option(L, 1, "output_dim", 0, "Embedding");
  c.embeddings_initializer = check_initializer(L, 1, "embeddings_initializer");
  c.mask_zero = opt_bool(L, 1, "mask_zero", 0);
  return l_pushlayer(L, lurn_embedding_new(&c), 0);
}

/* core.masking_layer(mask_value) */
static int l_masking_layer(lua_State *L) {
  float v = (float)luaL_checknumber(L, 1);
  return l_pushlayer(L, lurn_masking_new(v), 0);
}

/* core.time_distributed_layer(layer): the inner layer stays alive as long as the
 * container, through its user value. */
static int l_time_distributed_layer(lua_State *L) {
  lurn_layer *inner = l_checklayer(L, 1);
  l_pushlayer(L, lurn_time_distributed_new(inner), 1);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  return 1;
}

/* core.bidirectional_layer(forward, backward, merge_mode): both layers stay alive as long
 * as the container's userdata */
static int l_bidirectional_layer(lua_State *L) {
  static const char *const modes[] = {"concat", "sum", "mul", "ave", "none", NULL};
  lurn_layer *forward = l_checklayer(L, 1), *backward = l_checklayer(L, 2);
  lurn_bidirectional_merge merge = (lurn_bidirectional_merge)luaL_checkoption(L, 3, "concat", modes);
  l_pushlayer(L, lurn_bidirectional_new(forward, backward, merge), 2);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, -2, 2);
  return 1;
}

static void push_shape(lua_State *L, int ndim, const int64_t *shape) {
  lua_createtable(L, ndim, 0);
  for (int i = 0; i < ndim; i++) {
    lua_pushinteger(L, shape[i]);
    lua_rawseti(L, -2, i + 1);
  }
}

/* A call on one layer outside a model may run Lua (a Lambda layer's functions, or a
 * container holding one). For its duration the call holds a reference to the layer, so
 * that closing the layer's userdata cannot free it, and claims it for `run` (the address
 * of the binding's frame, unique while it runs), so that running it again from inside
 * fails (lurn_layer_claim). No Lua error may be raised between begin_call and end_call. */
static lurn_layer *begin_call(lua_State *L, lurn_layer *l, const void *run) {
  l_check(L, lurn_layer_claim(l, run));
  return lurn_layer_retain(l);
}

static lurn_status end_call(lurn_layer *l, const void *run, lurn_status st) {
  lurn_layer_unclaim(l, run);
  lurn_layer_free(l);
  return st;
}

static int l_build(lua_State *L) {
  l_checklayer(L, 1);
  int64_t shape[LURN_MAX_DIMS];
  int n = l_checkshape(L, 2, shape);
  lurn_layer *l = l_checklayer(L, 1);
  l_set_active_state(L);
  char run;
  begin_call(L, l, &run);
  l_check(L, end_call(l, &run, lurn_layer_build(l, n, shape, lurn_rng_global())));
  return 0;
}

static int l_built(lua_State *L) {
  lua_pushboolean(L, l_checklayer(L, 1)->built);
  return 1;
}

static int l_output_shape(lua_State *L) {
  lurn_layer *l = l_checklayer(L, 1);
  if (!l->built) return 0;
  push_shape(L, l->out_ndim, l->out_shape);
  return 1;
}

static int l_type(lua_State *L) {
  lua_pushstring(L, l_checklayer(L, 1)->ops->type);
  return 1;
}

/* layer:params() -> {kernel_view, bias_view}, {"kernel", "bias"}, {true, true} */
static int l_params(lua_State *L) {
  lurn_layer *l = l_checklayer(L, 1);
  int grads = lua_toboolean(L, 2);
  lua_createtable(L, l->nparams, 0);
  lua_createtable(L, l->nparams, 0);
  lua_createtable(L, l->nparams, 0);
  for (int i = 0; i < l->nparams; i++) {
    l_pushtensor(L, lurn_tensor_view(grads ? l->grads[i] : l->params[i]));
    lua_rawseti(L, -4, i + 1);
    lua_pushstring(L, l->param_names[i]);
    lua_rawseti(L, -3, i + 1);
    lua_pushboolean(L, l->trainable[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 3;
}

static int l_set_regularizer(lua_State *L) {
  lurn_layer *l = l_checklayer(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2);
  luaL_argcheck(L, i >= 1 && i <= LURN_MAX_PARAMS, 2, "parameter position out of range");
  l->regularizers[i - 1].l1 = (float)luaL_checknumber(L, 3);
  l->regularizers[i - 1].l2 = (float)luaL_checknumber(L, 4);
  return 0;
}

/* layer:set_name(name): the Lua layer's name, for the C core's messages and the names of
 * a model's weights ("dense/kernel"); cut to fit the struct's field */
static int l_set_name(lua_State *L) {
  lurn_layer *l = l_checklayer(L, 1);
  snprintf(l->name, sizeof l->name, "%s", luaL_checkstring(L, 2));
  return 0;
}

/* layer:set_frozen(bool): Keras' trainable = false, combined with the containers' */
static int l_set_frozen(lua_State *L) {
  lurn_layer *l = l_checklayer(L, 1);
  luaL_checktype(L, 2, LUA_TBOOLEAN);
  l->frozen = lua_toboolean(L, 2);
  return 0;
}

static int l_set_activity_regularizer(lua_State *L) {
  lurn_layer *l = l_checklayer(L, 1);
  l->activity_regularizer.l1 = (float)luaL_checknumber(L, 2);
  l->activity_regularizer.l2 = (float)luaL_checknumber(L, 3);
  return 0;
}

/* The batch shape (N, shape...) of a per-sample shape. */
static lurn_tensor *batch_tensor(lua_State *L, int64_t n, int ndim, const int64_t *shape) {
  int64_t full[LURN_MAX_DIMS];
  full[0] = n;
  memcpy(full + 1, shape, sizeof(int64_t) * ndim);
  /* uninitialised, as a model's reused buffers are: a layer must write all of y and dx */
  lurn_tensor *t = lurn_tensor_empty(ndim + 1, full);
  l_pushtensor(L, t);
  return t;
}

static void check_batch(lua_State *L, const lurn_layer *l, const lurn_tensor *x, int arg) {
  int ok = x->ndim == l->in_ndim + 1 && lurn_tensor_is_contiguous(x);
  for (int i = 0; ok && i < l->in_ndim; i++) ok = x->shape[i + 1] == l->in_shape[i];
  if (!ok) {
    char buf[LURN_SHAPE_STR_MAX];
    luaL_argerror(L, arg, lua_pushfstring(L, "%s expects a packed batch of its input shape, got %s", l->ops->type,
                                          lurn_shape_str(x, buf, sizeof buf)));
  }
}

/* The optional mask at idx for a call on x: nil, or a packed (N, steps) tensor of 0 and 1
 * for a layer that reads masks (lurn_mask_rule). */
static const lurn_tensor *opt_mask(lua_State *L, int idx, const lurn_layer *l, const lurn_tensor *x) {
  if (lua_isnoneornil(L, idx)) return NULL;
  lurn_tensor *m = l_pin(L, l_checktensor(L, idx));
  lurn_mask_rule rule = lurn_layer_mask_rule(l);
  if (rule != LURN_MASK_KEEP && rule != LURN_MASK_CONSUME)
    luaL_error(L, "%s does not take a mask", l->ops->type);
  /* a packed input (a sequence with its initial states) has no steps axis: the layer checks them */
  int packed = x->ndim == 2 && l->in_ndim == 1;
  if (m->ndim != 2 || x->ndim < 2 || m->shape[0] != x->shape[0] || (!packed && m->shape[1] != x->shape[1]) ||
      !lurn_tensor_is_contiguous(m))
    luaL_argerror(L, idx, "the mask must be a packed (batch, steps) tensor of x's first two sizes");
  const float *v = lurn_tensor_data(m);
  for (int64_t i = 0, n = lurn_tensor_numel(m); i < n; i++)
    if (v[i] != 0 && v[i] != 1) luaL_argerror(L, idx, "the mask must hold 0 (padding) and 1 (a real step)");
  return m;
}

/* layer:forward(x[, training [, mask]]) -> y (a new tensor). The layer is taken again
 * after each allocation (pinning x, making y): the collector may run a finalizer that
 * closes it. */
static int l_forward(lua_State *L) {
  lua_settop(L, 4); /* absent arguments as nil: pins go above them */
  l_checklayer(L, 1);
  lurn_tensor *x = l_pin(L, l_checktensor(L, 2));
  int training = lua_toboolean(L, 3);
  lurn_layer *l = l_checklayer(L, 1);
  if (!l->built) luaL_error(L, "%s: build the layer before calling forward", l->ops->type);
  check_batch(L, l, x, 2);
  const lurn_tensor *mask = opt_mask(L, 4, l, x);
  lurn_tensor *y = batch_tensor(L, x->shape[0], l->out_ndim, l->out_shape);
  l = l_checklayer(L, 1);
  l_set_active_state(L);
  char run;
  begin_call(L, l, &run);
  l->mask = mask;
  lurn_status st = l->ops->forward(l, x, y, training);
  l->mask = NULL;
  l_check(L, end_call(l, &run, st));
  return 1;
}

/* layer:backward(x, y, dy [, mask]) -> dx; fills the parameter gradients */
static int l_backward(lua_State *L) {
  lua_settop(L, 5); /* absent arguments as nil: pins go above them */
  l_checklayer(L, 1);
  lurn_tensor *x = l_pin(L, l_checktensor(L, 2)), *y = l_pin(L, l_checktensor(L, 3));
  lurn_tensor *dy = l_pin(L, l_checktensor(L, 4));
  lurn_layer *l = l_checklayer(L, 1);
  if (!l->built) luaL_error(L, "%s: build the layer before calling backward", l->ops->type);
  check_batch(L, l, x, 2);
  if (!lurn_tensor_same_shape(y, dy) || !lurn_tensor_is_contiguous(dy) || y->shape[0] != x->shape[0])
    luaL_argerror(L, 4, "dy must be a packed tensor of y's shape");
  const lurn_tensor *mask = opt_mask(L, 5, l, x);
  lurn_tensor *dx = batch_tensor(L, x->shape[0], l->in_ndim, l->in_shape);
  l = l_checklayer(L, 1);
  l_set_active_state(L);
  char run;
  begin_call(L, l, &run);
  l->mask = mask;
  lurn_status st = l->ops->backward(l, x, y, dy, dx, 0);
  l->mask = NULL;
  l_check(L, end_call(l, &run, st));
  return 1;
}

/* Releases the userdata's reference; a second call finds it closed and does nothing. */
static int l_layer_gc(lua_State *L) {
  layer_box *b = luaL_checkudata(L, 1, LURN_LAYER_MT);
  lurn_layer_free(b->l);
  b->l = NULL;
  return 0;
}

/* layer:id() -> a light userdata naming the C layer, as rows of model:layer_stats() do */
static int l_id(lua_State *L) {
  lua_pushlightuserdata(L, l_checklayer(L, 1));
  return 1;
}

static const luaL_Reg layer_methods[] = {
    {"id", l_id},
    {"build", l_build},
    {"built", l_built},
    {"output_shape", l_output_shape},
    {"type", l_type},
    {"params", l_params},
    {"set_name", l_set_name},
    {"set_regularizer", l_set_regularizer},
    {"set_activity_regularizer", l_set_activity_regularizer},
    {"set_frozen", l_set_frozen},
    {"forward", l_forward},
    {"backward", l_backward},
    {NULL, NULL},
};

static const luaL_Reg layer_functions[] = {
    {"dense_layer", l_dense_layer},
    {"recurrent_layer", l_recurrent_layer},
    {"batchnorm_layer", l_batchnorm_layer},
    {"residual_layer", l_residual_layer},
    {"activation_layer", l_activation_layer},
    {"dropout_layer", l_dropout_layer},
    {"reshape_layer", l_reshape_layer},
    {"conv2d_layer", l_conv2d_layer},
    {"pool2d_layer", l_pool2d_layer},
    {"zero_padding2d_layer", l_zero_padding2d_layer},
    {"upsampling2d_layer", l_upsampling2d_layer},
    {"depthwise_conv2d_layer", l_depthwise_conv2d_layer},
    {"conv1d_layer", l_conv1d_layer},
    {"pool1d_layer", l_pool1d_layer},
    {"embedding_layer", l_embedding_layer},
    {"masking_layer", l_masking_layer},
    {"time_distributed_layer", l_time_distributed_layer},
    {"bidirectional_layer", l_bidirectional_layer},
    {NULL, NULL},
};

void l_layer_register(lua_State *L) {
  luaL_newmetatable(L, LURN_LAYER_MT);
  lua_pushcfunction(L, l_layer_gc);
  lua_setfield(L, -2, "__gc");
  luaL_newlib(L, layer_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_setfuncs(L, layer_functions, 0);
}
