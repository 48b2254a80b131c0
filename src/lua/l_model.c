/* The lurn.Model userdata: a C Sequential model over lurn.Layer userdata, with one C call
 * per batch for training, testing and predicting. Losses are passed as small tables
 * {kind =, from_logits =, delta =}.
 * Lifetime: the C model holds a reference to each C layer, so it runs whatever order
 * the collector finalizes the userdata in; its user value keeps the layer userdata
 * alive too, for the Lua functions of Lambda layers. A C call on the model may run Lua
 * (a Lambda layer): it reads every other argument first, pins the tensors it was given
 * (l_pin), and marks the model and the optimizer in use, so that Lua code run inside
 * can close none of them under it (__gc refuses; a nested call on the same model gets
 * the C core's "model is running" error). */
#include <limits.h>
#include <string.h>

#include "core/checked.h"
#include "l_tensor.h"
#include "lurn/layer_impl.h"

#define LURN_MODEL_MT "lurn.Model"

lurn_optimizer *l_checkoptimizer(lua_State *L, int idx);
lurn_optimizer *l_use_optimizer(lua_State *L, int idx);
void l_done_with_optimizer(lua_State *L, int idx);

typedef struct {
  lurn_model *m;
  lurn_data_parallel *dp; /* the data-parallel step's buffers, or NULL */
  int in_use; /* C calls on the model now running (Lua may run inside them) */
} model_box;

static model_box *check_box(lua_State *L, int idx) {
  model_box *b = luaL_checkudata(L, idx, LURN_MODEL_MT);
  if (!b->m) luaL_argerror(L, idx, "attempt to use a closed model");
  return b;
}

static lurn_model *check_model(lua_State *L, int idx) { return check_box(L, idx)->m; }

/* The model at idx for a C call that may run Lua; pair with done_with. No Lua error may
 * be raised in between. */
static lurn_model *use_model(lua_State *L, int idx) {
  model_box *b = check_box(L, idx);
  b->in_use++;
  return b->m;
}

static void done_with(lua_State *L, int idx) { ((model_box *)lua_touserdata(L, idx))->in_use--; }

static const char *const loss_kinds[] = {"binary_crossentropy", "categorical_crossentropy",
                                         "sparse_categorical_crossentropy", "mean_squared_error",
                                         "mean_absolute_error", "huber", NULL};

/* A loss as the C core takes it, with room for one loss per output of a functional model
 * with several outputs. */
typedef struct {
  lurn_loss loss;
  lurn_output_loss outputs[LURN_GRAPH_MAX_IO];
} loss_arg;

static lurn_loss check_one_loss(lua_State *L, int idx) {
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

/* A loss table {kind =, from_logits =, delta =}, or for several outputs {outputs = {{loss
 * = <loss table>, weight = w}, ...}} (lurn/models/outputs.lua makes it). */
static const lurn_loss *check_loss(lua_State *L, int idx, loss_arg *a) {
  luaL_checktype(L, idx, LUA_TTABLE);
  if (lua_getfield(L, idx, "outputs") == LUA_TNIL) {
    lua_pop(L, 1);
    a->loss = check_one_loss(L, idx);
    return &a->loss;
  }
  luaL_checktype(L, -1, LUA_TTABLE);
  lua_Integer n = luaL_len(L, -1);
  luaL_argcheck(L, n >= 1 && n <= LURN_GRAPH_MAX_IO, idx, "a loss for 1 to 32 outputs expected");
  memset(a, 0, sizeof *a);
  for (int k = 0; k < (int)n; k++) {
    lua_geti(L, -1, k + 1);
    luaL_checktype(L, -1, LUA_TTABLE);
    lua_getfield(L, -1, "loss");
    a->outputs[k].loss = check_one_loss(L, lua_gettop(L));
    lua_getfield(L, -2, "weight");
    a->outputs[k].weight = (float)luaL_optnumber(L, -1, 1.0);
    lua_pop(L, 3);
  }
  lua_pop(L, 1);
  a->loss.noutputs = (int)n;
  a->loss.outputs = a->outputs;
  return &a->loss;
}

/* After a step with several outputs: each output's loss into its entry of the loss table
 * (outputs[k].value), raw, so that no metamethod runs. */
static void set_output_values(lua_State *L, int idx, const lurn_loss *loss) {
  if (!loss->noutputs) return;
  lua_getfield(L, idx, "outputs");
  for (int k = 0; k < loss->noutputs; k++) {
    lua_rawgeti(L, -1, k + 1);
    lua_pushnumber(L, loss->outputs[k].value);
    lua_setfield(L, -2, "value");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
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

/* check_weights, then pinned (l_pin) for a call that may run Lua. Each tensor argument is
 * pinned as soon as it is checked, and the model and optimizer are taken last: pinning
 * allocates, and the collector may then run a finalizer that closes an object. */
static const float *pin_weights(lua_State *L, int idx, const lurn_tensor *x) {
  return check_weights(L, idx, x) ? lurn_tensor_data(l_pin(L, l_checktensor(L, idx))) : NULL;
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
  b->dp = NULL;
  b->in_use = 0;
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
  check_model(L, 1);
  int64_t shape[LURN_MAX_DIMS];
  int n = l_checkshape(L, 2, shape);
  l_set_active_state(L);
  lurn_model *m = use_model(L, 1);
  lurn_status st = lurn_model_build(m, n, shape, lurn_rng_global());
  done_with(L, 1);
  l_check(L, st);
  return 0;
}

/* A view of a model buffer, valid until the next call on the model. */
static void push_view(lua_State *L, const lurn_tensor *t) { l_pushtensor(L, lurn_tensor_view(t)); }

lurn_model *lurn_lua_tomodel(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  int pushed = 0;
  if (lua_istable(L, idx)) { /* a lurn model object: its C model is its _core */
    lua_getfield(L, idx, "_core");
    idx = lua_gettop(L);
    pushed = 1;
  }
  model_box *b = luaL_testudata(L, idx, LURN_MODEL_MT);
  lurn_model *m = b ? b->m : NULL;
  if (pushed) lua_pop(L, 1);
  return m;
}

/* m:forward(x[, training]) -> output (a view of the model's buffer) */
static int l_forward(lua_State *L) {
  lua_settop(L, 3); /* absent arguments as nil: pins go above them */
  check_model(L, 1);
  int training = lua_toboolean(L, 3);
  lurn_tensor *x = l_pin(L, check_packed(L, 2));
  l_set_active_state(L);
  lurn_model *m = use_model(L, 1);
  const lurn_tensor *out;
  lurn_status st = lurn_model_forward(m, x, training, &out);
  if (!st) push_view(L, out);
  done_with(L, 1);
  l_check(L, st);
  return 1;
}

/* The model's data-parallel state (its flat buffer), made on first use. */
static lurn_data_parallel *data_parallel_of(lua_State *L, int idx) {
  model_box *b = check_box(L, idx);
  if (!b->dp && !(b->dp = lurn_data_parallel_new())) luaL_error(L, "%s", lurn_last_error());
  return b->dp;
}

/* A training step: train_step, or with data_parallel the data-parallel step of this
 * process's shard of a global batch of global_batch samples (lurn_data_parallel_step). */
static int run_train_step(lua_State *L, int data_parallel, int64_t global_batch) {
  check_model(L, 1);
  lurn_data_parallel *dp = data_parallel ? data_parallel_of(L, 1) : NULL;
  loss_arg loss_space;
  const lurn_loss *loss = check_loss(L, 2, &loss_space);
  l_checkoptimizer(L, 3);
  lurn_tensor *x = l_pin(L, check_packed(L, 4)), *y = l_pin(L, check_packed(L, 5));
  check_batches(L, x, y);
  const float *w = pin_weights(L, 6, x);
  l_set_active_state(L);
  check_model(L, 1); /* either may raise: both before either is marked in use */
  l_checkoptimizer(L, 3);
  lurn_model *m = use_model(L, 1);
  lurn_optimizer *o = l_use_optimizer(L, 3);
  double value, global = 0;
  const lurn_tensor *pred;
  lurn_status st = dp ? lurn_data_parallel_step(dp, m, loss, o, x, y, w, global_batch, &value, &global, &pred)
                      : lurn_model_train_step(m, loss, o, x, y, w, &value, &pred);
  if (!st) {
    set_output_values(L, 2, loss);
    lua_pushnumber(L, value);
    if (pred) push_view(L, pred);
    else lua_pushnil(L);
    if (dp) lua_pushnumber(L, global);
  }
  l_done_with_optimizer(L, 3);
  done_with(L, 1);
  l_check(L, st);
  return dp ? 3 : 2;
}

/* m:train_step(loss, optimizer, x, y[, sample_weight]) -> loss value, predictions view */
static int l_train_step(lua_State *L) {
  lua_settop(L, 6); /* absent arguments as nil: pins go above them */
  return run_train_step(L, 0, 0);
}

/* m:data_parallel_step(loss, optimizer, x, y, sample_weight | nil, global_batch (0: the
 * sum of the shards)) -> this
 * shard's loss, a view of its predictions (nil for an empty shard), the global batch's
 * loss: the step of one process of a data-parallel job on its shard of a global batch. */
static int l_data_parallel_step(lua_State *L) {
  lua_settop(L, 7);
  lua_Integer global = luaL_checkinteger(L, 7);
  luaL_argcheck(L, global >= 0, 7, "the global batch size must not be negative (0: the sum of the shards)");
  lua_settop(L, 6); /* pins go above the arguments */
  return run_train_step(L, 1, (int64_t)global);
}

/* m:broadcast_weights(root): every parameter of root's model into this process's. */
static int l_broadcast_weights(lua_State *L) {
  lurn_data_parallel *dp = data_parallel_of(L, 1);
  lua_Integer root = luaL_checkinteger(L, 2);
  luaL_argcheck(L, root >= 0 && root < INT_MAX, 2, "not a rank");
  lurn_model *m = use_model(L, 1);
  lurn_status st = lurn_data_parallel_broadcast_weights(dp, m, (int)root);
  done_with(L, 1);
  l_check(L, st);
  return 0;
}

/* m:average_statistics(): BatchNormalization's moving statistics averaged over the
 * processes of the job. */
static int l_average_statistics(lua_State *L) {
  lurn_data_parallel *dp = data_parallel_of(L, 1);
  lurn_model *m = use_model(L, 1);
  lurn_status st = lurn_data_parallel_average_statistics(dp, m);
  done_with(L, 1);
  l_check(L, st);
  return 0;
}

/* A step that computes a loss over a batch (sample_weight optional) and returns it with a
 * view of the predictions: test_step, or compute_gradients. */
typedef lurn_status (*loss_step)(lurn_model *m, const lurn_loss *loss, const lurn_tensor *x, const lurn_tensor *y,
                                 const float *sample_weight, double *loss_value, const lurn_tensor **pred);

static int run_loss_step(lua_State *L, loss_step step) {
  lua_settop(L, 5); /* absent arguments as nil: pins go above them */
  check_model(L, 1);
  loss_arg loss_space;
  const lurn_loss *loss = check_loss(L, 2, &loss_space);
  lurn_tensor *x = l_pin(L, check_packed(L, 3)), *y = l_pin(L, check_packed(L, 4));
  check_batches(L, x, y);
  const float *w = pin_weights(L, 5, x);
  l_set_active_state(L);
  lurn_model *m = use_model(L, 1);
  double value;
  const lurn_tensor *pred;
  lurn_status st = step(m, loss, x, y, w, &value, &pred);
  if (!st) {
    set_output_values(L, 2, loss);
    lua_pushnumber(L, value);
    push_view(L, pred);
  }
  done_with(L, 1);
  l_check(L, st);
  return 2;
}

/* m:compute_gradients(loss, x, y[, sample_weight]) -> loss value, predictions view: the
 * first half of train_step; the raw gradients stay in the layers (m:weights(true)). */
static int l_compute_gradients(lua_State *L) { return run_loss_step(L, lurn_model_compute_gradients); }

/* The weights of the model at idx (lurn_model_weights) in a block the collector frees.
 * The model is checked again after the allocation, which may run a finalizer. */
static lurn_model_weight *model_weights(lua_State *L, int idx, int *n) {
  *n = lurn_model_weights(check_model(L, idx), NULL, 0);
  lurn_model_weight *ws = lua_newuserdatauv(L, sizeof *ws * (size_t)(*n ? *n : 1), 0);
  lurn_model_weights(check_model(L, idx), ws, *n);
  return ws;
}

/* m:weights([grads]) -> {views}, {"dense/kernel", ...}, {trainable, ...}: every parameter
 * (or, with grads, its gradient of the last backward), in lurn_model_weights order. */
static int l_weights(lua_State *L) {
  int grads = lua_toboolean(L, 2);
  int n;
  lurn_model_weight *ws = model_weights(L, 1, &n);
  lua_createtable(L, n, 0);
  lua_createtable(L, n, 0);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    l_pushtensor(L, lurn_tensor_view(grads ? ws[i].grad : ws[i].param));
    lua_rawseti(L, -4, i + 1);
    lua_pushfstring(L, "%s/%s", ws[i].layer->name, ws[i].name);
    lua_rawseti(L, -3, i + 1);
    lua_pushboolean(L, ws[i].trainable);
    lua_rawseti(L, -2, i + 1);
  }
  return 3;
}

/* m:apply_gradients(optimizer[, grads]): the second half of train_step, with the given
 * gradients (a list, one per trainable weight in m:weights() order) or the model's own. */
static int l_apply_gradients(lua_State *L) {
  lua_settop(L, 3);
  check_model(L, 1);
  l_checkoptimizer(L, 2);
  lurn_tensor **grads = NULL;
  int ngrads = 0;
  if (!lua_isnil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    size_t slots = (size_t)lurn_model_trainable_count(check_model(L, 1)) + 1;
    grads = lua_newuserdatauv(L, sizeof *grads * slots, 0);
    int n;
    lurn_model_weight *ws = model_weights(L, 1, &n); /* no allocation from here to the C call */
    int want = lurn_model_trainable_count(check_model(L, 1));
    ngrads = (int)lua_rawlen(L, 3);
    if (ngrads != want)
      luaL_error(L, "apply_gradients: expected %d gradients (one per trainable weight), got %d", want,
                 ngrads);
    for (int i = 0, k = 0; i < n; i++) {
      if (!ws[i].trainable) continue;
      lua_rawgeti(L, 3, k + 1);
      lurn_tensor *g = l_totensor(L, -1);
      lua_pop(L, 1);
      if (!g)
        luaL_error(L, "apply_gradients: gradient %d (for %s/%s) must be a tensor", k + 1, ws[i].layer->name,
                   ws[i].name);
      if (!lurn_tensor_same_shape(g, ws[i].param)) {
        char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
        luaL_error(L, "apply_gradients: gradient %d (for %s/%s) must have shape %s, got %s", k + 1,
                   ws[i].layer->name, ws[i].name, lurn_shape_str(ws[i].param, a, sizeof a),
                   lurn_shape_str(g, b, sizeof b));
      }
      if (!lurn_tensor_is_contiguous(g))
        luaL_error(L, "apply_gradients: gradient %d (for %s/%s) must be a packed tensor (call contiguous())",
                   k + 1, ws[i].layer->name, ws[i].name);
      grads[k++] = g;
    }
  }
  check_model(L, 1);
  l_checkoptimizer(L, 2);
  lurn_model *m = use_model(L, 1);
  lurn_optimizer *o = l_use_optimizer(L, 2);
  lurn_status st = lurn_model_apply_gradients(m, o, grads, ngrads);
  l_done_with_optimizer(L, 2);
  done_with(L, 1);
  l_check(L, st);
  return 0;
}

/* m:test_step(loss, x, y[, sample_weight]) -> loss value, predictions view */
static int l_test_step(lua_State *L) { return run_loss_step(L, lurn_model_test_step); }

/* m:gradients(loss, x, y[, sample_weight]) -> loss value, dL/dx; layer grads are filled */
static int l_gradients(lua_State *L) {
  lua_settop(L, 5); /* absent arguments as nil: pins go above them */
  check_model(L, 1);
  loss_arg loss_space;
  const lurn_loss *loss = check_loss(L, 2, &loss_space);
  lurn_tensor *x = l_pin(L, check_packed(L, 3)), *y = l_pin(L, check_packed(L, 4));
  check_batches(L, x, y);
  const float *w = pin_weights(L, 5, x);
  lurn_tensor *dx = lurn_tensor_zeros(x->ndim, x->shape);
  l_pushtensor(L, dx);
  l_set_active_state(L);
  lurn_model *m = use_model(L, 1);
  double value;
  lurn_status st = lurn_model_gradients(m, loss, x, y, w, &value, dx);
  done_with(L, 1);
  l_check(L, st);
  set_output_values(L, 2, loss);
  lua_pushnumber(L, value);
  lua_insert(L, -2);
  return 2;
}

/* m:record_stats(on): while on, training runs record per-layer statistics. */
static int l_record_stats(lua_State *L) {
  lurn_model *m = check_model(L, 1);
  luaL_checktype(L, 2, LUA_TBOOLEAN);
  lurn_model_record_stats(m, lua_toboolean(L, 2));
  return 0;
}

/* m:output_mask([k]) -> a copy of the mask (N, steps) the output of the last call carried (the
 * one its loss left the padded steps out by), or nil: the metrics weigh the steps by it.
 * k (1-based): output k of a model of several outputs (a functional graph's). */
static int l_output_mask(lua_State *L) {
  lurn_model *m = check_model(L, 1);
  const lurn_tensor *mask;
  if (lua_isnoneornil(L, 2)) {
    mask = lurn_model_output_mask(m);
  } else {
    lua_Integer k = luaL_checkinteger(L, 2);
    lurn_layer *top = lurn_model_size(m) == 1 ? lurn_model_layer(m, 0) : NULL;
    luaL_argcheck(L, k >= 1 && k <= lurn_graph_noutputs(top), 2, "not an output of the model");
    mask = lurn_graph_output_mask(top, (int)k - 1);
  }
  if (!mask) {
    lua_pushnil(L);
    return 1;
  }
  l_pushtensor(L, lurn_tensor_clone(mask));
  return 1;
}

static void set_number(lua_State *L, const char *key, double v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, key);
}

/* m:layer_stats() -> {{id =, type =, name =, act_mean =, ...}, ...}: the rows of the last
 * recorded run (lurn_model_layer_stats), a value absent where it does not apply; id is
 * the layer (a light userdata, as layer:id() gives it). */
static int l_layer_stats(lua_State *L) {
  lurn_model *m = check_model(L, 1);
  int n = lurn_model_layer_stats(m, NULL, 0);
  lurn_layer_stats *rows = lua_newuserdatauv(L, sizeof(lurn_layer_stats) * (size_t)(n ? n : 1), 0);
  lurn_model_layer_stats(m, rows, n);
  lua_createtable(L, n, 0);
  for (int k = 0; k < n; k++) {
    const lurn_layer_stats *s = &rows[k];
    lua_createtable(L, 0, 10);
    lua_pushlightuserdata(L, (void *)s->layer);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, s->layer->ops->type);
    lua_setfield(L, -2, "type");
    lua_pushstring(L, s->layer->name);
    lua_setfield(L, -2, "name");
    if (s->has & LURN_STATS_OUTPUT) set_number(L, "act_mean", s->act_mean), set_number(L, "act_std", s->act_std);
    if (s->has & LURN_STATS_DEAD) set_number(L, "dead_fraction", s->dead_fraction);
    if (s->has & LURN_STATS_SATURATED) set_number(L, "saturated_fraction", s->saturated_fraction);
    if (s->has & LURN_STATS_PARAMS)
      set_number(L, "grad_norm", s->grad_norm), set_number(L, "weight_norm", s->weight_norm);
    if (s->has & LURN_STATS_UPDATE) set_number(L, "update_ratio", s->update_ratio);
    lua_rawseti(L, -2, k + 1);
  }
  return 1;
}

/* Frees the C model (the layers keep their other references) and closes the userdata; a
 * second call does nothing. Refused while a C call runs on the model: only a Lambda
 * layer's function calling __gc by hand, or a finalizer of a resurrected model, gets
 * there. */
static int l_model_gc(lua_State *L) {
  model_box *b = luaL_checkudata(L, 1, LURN_MODEL_MT);
  if (b->in_use) return luaL_error(L, "cannot close a model while it is running");
  lurn_model_free(b->m);
  lurn_data_parallel_free(b->dp);
  b->m = NULL;
  b->dp = NULL;
  return 0;
}

/* core.loss_value(loss, pred, target[, sample_weight[, mask]]) -> value, dL/dpred; mask
 * (N, steps): the loss over a masked output (lurn_loss_compute_masked) */
static int l_loss_value(lua_State *L) {
  lurn_loss loss = check_one_loss(L, 1);
  lurn_tensor *pred = check_packed(L, 2), *target = check_packed(L, 3);
  check_batches(L, pred, target);
  const float *w = check_weights(L, 4, pred);
  lurn_tensor *mask = lua_isnoneornil(L, 5) ? NULL : l_checktensor(L, 5);
  lurn_tensor *grad = lurn_tensor_zeros(pred->ndim, pred->shape);
  l_pushtensor(L, grad);
  double value;
  l_check(L, lurn_loss_compute_masked(&loss, pred, target, w, mask, &value, grad));
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

/* core.metric_f1_counts(pred, target, sparse[, sample_weight[, threshold]]) -> a list of
 * tp, fp, fn, support for each class in turn (Keras' F1Score, one batch). */
static int l_metric_f1_counts(lua_State *L) {
  lurn_tensor *pred = check_packed(L, 1), *target = check_packed(L, 2);
  int sparse = lua_toboolean(L, 3);
  check_batches(L, pred, target);
  const float *w = check_weights(L, 4, pred);
  float threshold = (float)luaL_optnumber(L, 5, 0);
  int64_t cols = pred->ndim > 1 ? pred->shape[pred->ndim - 1] : 1, k = 0;
  if (!lurn_mul_i64(cols, 4, &k) || cols > (1 << 20)) luaL_argerror(L, 1, "too many classes");
  double *counts = lua_newuserdatauv(L, sizeof(double) * (size_t)(k + 1), 0);
  memset(counts, 0, sizeof(double) * (size_t)k);
  l_check(L, lurn_metric_f1_counts(pred, target, w, lua_isnoneornil(L, 5) ? NULL : &threshold, sparse, counts));
  lua_createtable(L, (int)k, 0);
  for (int64_t i = 0; i < k; i++) {
    lua_pushnumber(L, counts[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static const luaL_Reg model_methods[] = {
    {"add", l_add},
    {"build", l_build},
    {"forward", l_forward},
    {"train_step", l_train_step},
    {"data_parallel_step", l_data_parallel_step},
    {"broadcast_weights", l_broadcast_weights},
    {"average_statistics", l_average_statistics},
    {"test_step", l_test_step},
    {"gradients", l_gradients},
    {"compute_gradients", l_compute_gradients},
    {"apply_gradients", l_apply_gradients},
    {"weights", l_weights},
    {"record_stats", l_record_stats},
    {"layer_stats", l_layer_stats},
    {"output_mask", l_output_mask},
    {NULL, NULL},
};

static const luaL_Reg model_functions[] = {
    {"model", l_model_new},
    {"loss_value", l_loss_value},
    {"metric_batch", l_metric_batch},
    {"metric_confusion", l_metric_confusion},
    {"metric_f1_counts", l_metric_f1_counts},
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
