/* The lurn.Model userdata: a C Sequential model over lurn.Layer userdata (kept alive
 * in its user value), with one C call per batch for training, testing and predicting.
 * Losses are passed as small tables {kind =, from_logits =, delta =}. */
#include <string.h>

#include "l_tensor.h"

#define LURN_MODEL_MT "lurn.Model"

lurn_optimizer *l_checkoptimizer(lua_State *L, int idx);

typedef struct {
  lurn_model *m;
} model_box;

static lurn_model *check_model(lua_State *L, int idx) {
  return ((model_box *)luaL_checkudata(L, idx, LURN_MODEL_MT))->m;
}

static const char *const loss_kinds[] = {"binary_crossentropy", "categorical_crossentropy",
                                         "sparse_categorical_crossentropy", "mean_squared_error",
                                         "mean_absolute_error", "huber", NULL};

static lurn_loss check_loss(lua_State *L, int idx) {
  luaL_checktype(L, idx, LUA_TTABLE);
  lurn_loss loss = {0};
  lua_getfield(L, idx, "kind");
  loss.kind = (lurn_loss_kind)luaL_checkoption(L, -1, NULL, loss_kinds);
  lua_getfield(L, idx, "from_logits");
  loss.from_logits = lua_toboolean(L, -1);
  lua_getfield(L, idx, "delta");
  loss.delta = (float)luaL_optnumber(L, -1, 1.0);
  lua_pop(L, 3);
  return loss;
}

/* Sample weights: nil, or a tensor with one weight per sample of x. */
static const float *check_weights(lua_State *L, int idx, const lurn_tensor *x) {
  if (lua_isnoneornil(L, idx)) return NULL;
  lurn_tensor *w = l_checktensor(L, idx);
  if (w->ndim != 1 || w->shape[0] != x->shape[0] || !lurn_tensor_is_contiguous(w)) {
    char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
    luaL_error(L, "sample weights of shape %s do not match a batch of shape %s (one weight per sample)",
               lurn_shape_str(w, a, sizeof a), lurn_shape_str(x, b, sizeof b));
  }
  return lurn_tensor_data(w);
}

static lurn_tensor *check_packed(lua_State *L, int idx) {
  lurn_tensor *t = l_checktensor(L, idx);
  if (!lurn_tensor_is_contiguous(t)) luaL_argerror(L, idx, "expected a packed tensor (call contiguous())");
  return t;
}

static void check_batches(lua_State *L, const lurn_tensor *x, const lurn_tensor *y) {
  if (x->shape[0] != y->shape[0]) {
    char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
    luaL_error(L, "x and y have different numbers of samples: %s and %s", lurn_shape_str(x, a, sizeof a),
               lurn_shape_str(y, b, sizeof b));
  }
}

static int l_model_new(lua_State *L) {
  model_box *b = lua_newuserdatauv(L, sizeof *b, 1);
  b->m = NULL;
  luaL_setmetatable(L, LURN_MODEL_MT);
  b->m = lurn_model_new();
  if (!b->m) luaL_error(L, "%s", lurn_last_error());
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  return 1;
}

static int l_add(lua_State *L) {
  lurn_model *m = check_model(L, 1);
  lurn_layer *l = l_checklayer(L, 2);
  l_check(L, lurn_model_add(m, l));
  lua_getiuservalue(L, 1, 1);  /* keep the layer alive as long as the model */
  lua_pushvalue(L, 2);
  lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
  return 0;
}

static int l_build(lua_State *L) {
  lurn_model *m = check_model(L, 1);
  l_set_active_state(L);
  int64_t shape[LURN_MAX_DIMS];
  int n = l_checkshape(L, 2, shape);
  l_check(L, lurn_model_build(m, n, shape, lurn_rng_global()));
  return 0;
}

/* A view of a model buffer, valid until the next call on the model. */
static void push_view(lua_State *L, const lurn_tensor *t) { l_pushtensor(L, lurn_tensor_view(t)); }

/* m:forward(x[, training]) -> output (a view of the model's buffer) */
static int l_forward(lua_State *L) {
  lurn_model *m = check_model(L, 1);
  l_set_active_state(L);
  lurn_tensor *x = check_packed(L, 2);
  const lurn_tensor *out;
  l_check(L, lurn_model_forward(m, x, lua_toboolean(L, 3), &out));
  push_view(L, out);
  return 1;
}

/* m:train_step(loss, optimizer, x, y[, sample_weight]) -> loss value, predictions view */
static int l_train_step(lua_State *L) {
  lurn_model *m = check_model(L, 1);
  l_set_active_state(L);
  lurn_loss loss = check_loss(L, 2);
  lurn_optimizer *o = l_checkoptimizer(L, 3);
  lurn_tensor *x = check_packed(L, 4), *y = check_packed(L, 5);
  check_batches(L, x, y);
  const float *w = check_weights(L, 6, x);
  double value;
  const lurn_tensor *pred;
  l_check(L, lurn_model_train_step(m, &loss, o, x, y, w, &value, &pred));
  lua_pushnumber(L, value);
  push_view(L, pred);
  return 2;
}

/* m:test_step(loss, x, y[, sample_weight]) -> loss value, predictions view */
static int l_test_step(lua_State *L) {
  lurn_model *m = check_model(L, 1);
  l_set_active_state(L);
  lurn_loss loss = check_loss(L, 2);
  lurn_tensor *x = check_packed(L, 3), *y = check_packed(L, 4);
  check_batches(L, x, y);
  const float *w = check_weights(L, 5, x);
  double value;
  const lurn_tensor *pred;
  l_check(L, lurn_model_test_step(m, &loss, x, y, w, &value, &pred));
  lua_pushnumber(L, value);
  push_view(L, pred);
  return 2;
}

/* m:gradients(loss, x, y[, sample_weight]) -> loss value, dL/dx; layer grads are filled */
static int l_gradients(lua_State *L) {
  lurn_model *m = check_model(L, 1);
  l_set_active_state(L);
  lurn_loss loss = check_loss(L, 2);
  lurn_tensor *x = check_packed(L, 3), *y = check_packed(L, 4);
  check_batches(L, x, y);
  const float *w = check_weights(L, 5, x);
  lurn_tensor *dx = lurn_tensor_zeros(x->ndim, x->shape);
  l_pushtensor(L, dx);
  double value;
  l_check(L, lurn_model_gradients(m, &loss, x, y, w, &value, dx));
  lua_pushnumber(L, value);
  lua_insert(L, -2);
  return 2;
}

static int l_model_gc(lua_State *L) {
  model_box *b = luaL_checkudata(L, 1, LURN_MODEL_MT);
  lurn_model_free(b->m);
  b->m = NULL;
  return 0;
}

/* core.loss_value(loss, pred, target[, sample_weight]) -> value, dL/dpred */
static int l_loss_value(lua_State *L) {
  lurn_loss loss = check_loss(L, 1);
  lurn_tensor *pred = check_packed(L, 2), *target = check_packed(L, 3);
  check_batches(L, pred, target);
  const float *w = check_weights(L, 4, pred);
  lurn_tensor *grad = lurn_tensor_zeros(pred->ndim, pred->shape);
  l_pushtensor(L, grad);
  double value;
  l_check(L, lurn_loss_compute(&loss, pred, target, w, &value, grad));
  lua_pushnumber(L, value);
  lua_insert(L, -2);
  return 2;
}

/* core.first_nonfinite(t) -> the 1-based flat position of t's first NaN or infinity and
 * that value, or nil: the data check before fit, evaluate and predict. */
static int l_first_nonfinite(lua_State *L) {
  lurn_tensor *t = check_packed(L, 1);
  int64_t pos;
  l_check(L, lurn_tensor_first_nonfinite(t, &pos));
  if (pos < 0) return 0;
  lua_pushinteger(L, (lua_Integer)pos + 1);
  lua_pushnumber(L, lurn_tensor_data(t)[pos]);
  return 2;
}

static const char *const metric_kinds[] = {"binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
                                           "mse", "mae", NULL};

/* core.metric_batch(kind, pred, target[, sample_weight]) -> weighted sum, weight */
static int l_metric_batch(lua_State *L) {
  lurn_metric_kind kind = (lurn_metric_kind)luaL_checkoption(L, 1, NULL, metric_kinds);
  lurn_tensor *pred = check_packed(L, 2), *target = check_packed(L, 3);
  check_batches(L, pred, target);
  const float *w = check_weights(L, 4, pred);
  double num = 0, den = 0;
  l_check(L, lurn_metric_batch(kind, pred, target, w, &num, &den));
  lua_pushnumber(L, num);
  lua_pushnumber(L, den);
  return 2;
}

/* core.metric_confusion(pred, target, thresholds_tensor, counts_tensor[, sample_weight]):
 * adds tp, fp, tn, fn per threshold into counts (thresholds x 4). */
static int l_metric_confusion(lua_State *L) {
  lurn_tensor *pred = check_packed(L, 1), *target = check_packed(L, 2);
  lurn_tensor *th = check_packed(L, 3), *counts = check_packed(L, 4);
  check_batches(L, pred, target);
  const float *w = check_weights(L, 5, pred);
  int64_t k = lurn_tensor_numel(th);
  if (lurn_tensor_numel(counts) != 4 * k) luaL_argerror(L, 4, "counts must hold 4 numbers per threshold");
  double acc[4 * 256];
  if (k > 256) luaL_argerror(L, 3, "at most 256 thresholds");
  memset(acc, 0, sizeof(double) * 4 * (size_t)k);
  l_check(L, lurn_metric_confusion(pred, target, w, lurn_tensor_data(th), (int)k, acc));
  float *c = lurn_tensor_data(counts);
  for (int64_t i = 0; i < 4 * k; i++) c[i] += (float)acc[i];
  return 0;
}

static const luaL_Reg model_methods[] = {
    {"add", l_add},
    {"build", l_build},
    {"forward", l_forward},
    {"train_step", l_train_step},
    {"test_step", l_test_step},
    {"gradients", l_gradients},
    {NULL, NULL},
};

static const luaL_Reg model_functions[] = {
    {"model", l_model_new},
    {"loss_value", l_loss_value},
    {"metric_batch", l_metric_batch},
    {"metric_confusion", l_metric_confusion},
    {"first_nonfinite", l_first_nonfinite},
    {NULL, NULL},
};

void l_model_register(lua_State *L) {
  luaL_newmetatable(L, LURN_MODEL_MT);
  lua_pushcfunction(L, l_model_gc);
  lua_setfield(L, -2, "__gc");
  luaL_newlib(L, model_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_setfuncs(L, model_functions, 0);
  l_optimizer_register(L);
}
