/* The training step in two halves (lurn_model_compute_gradients, then
 * lurn_model_apply_gradients), the grads_ready hook backward calls after each layer, and
 * clipping that leaves the raw gradients as they were. */
#include <string.h>

#include "check.h"
#include "lurn.h"
#include "lurn/layer_impl.h"

enum { NLAYERS = 3, MAX_SEEN = 16 };

/* What the hook saw: the layers in call order, and a copy of each layer's gradients then. */
typedef struct {
  int order[MAX_SEEN];
  int calls;
  lurn_tensor *grads[NLAYERS][LURN_MAX_PARAMS];
} seen;

/* The hook names the layer; the test keeps its position in the model. */
static void record(lurn_model *m, lurn_layer *l, void *ud) {
  seen *s = ud;
  int layer = 0;
  while (layer < NLAYERS && lurn_model_layer(m, layer) != l) layer++;
  if (layer == NLAYERS) {
    CHECK(!"the hook names a layer of the model");
    return;
  }
  if (s->calls < MAX_SEEN) s->order[s->calls] = layer;
  s->calls++;
  for (int p = 0; p < l->nparams; p++) {
    lurn_tensor_free(s->grads[layer][p]);
    s->grads[layer][p] = lurn_tensor_clone(l->grads[p]);
  }
}

static lurn_model *small_model(void) {
  lurn_initializer glorot = {.kind = LURN_INIT_GLOROT_UNIFORM, .seeded = 1, .seed = 7};
  lurn_initializer zeros = {.kind = LURN_INIT_ZEROS};
  lurn_dense_config c1 = {.units = 5,
                          .activation = LURN_ACT_RELU,
                          .use_bias = 1,
                          .kernel_initializer = glorot,
                          .bias_initializer = zeros};
  lurn_dense_config c2 = {.units = 2,
                          .activation = LURN_ACT_LINEAR,
                          .use_bias = 1,
                          .kernel_initializer = glorot,
                          .bias_initializer = zeros};
  lurn_model *m = lurn_model_new();
  lurn_layer *layers[NLAYERS] = {lurn_dense_new(&c1), lurn_activation_layer_new(LURN_ACT_TANH, 0),
                                 lurn_dense_new(&c2)};
  for (int i = 0; i < NLAYERS; i++) {
    CHECK(lurn_model_add(m, layers[i]) == LURN_OK);
    lurn_layer_free(layers[i]); /* the model holds its own reference */
  }
  int64_t in_shape[1] = {4};
  CHECK(lurn_model_build(m, 1, in_shape, lurn_rng_global()) == LURN_OK);
  /* an L2 penalty on the first kernel: complete gradients include its share */
  lurn_model_layer(m, 0)->regularizers[0] = (lurn_regularizer){.l1 = 0, .l2 = 0.1f};
  return m;
}

static void batch(lurn_tensor **x, lurn_tensor **y) {
  int64_t xs[2] = {6, 4}, ys[2] = {6, 2};
  *x = lurn_tensor_zeros(2, xs);
  *y = lurn_tensor_zeros(2, ys);
  for (int i = 0; i < 24; i++) lurn_tensor_data(*x)[i] = (float)((i * 7) % 11) / 5.0f - 1.0f;
  for (int i = 0; i < 12; i++) lurn_tensor_data(*y)[i] = (float)((i * 3) % 5) / 4.0f;
}

static int same_values(const lurn_tensor *a, const lurn_tensor *b) {
  int64_t n = lurn_tensor_numel(a);
  return n == lurn_tensor_numel(b) &&
         memcmp(lurn_tensor_data(a), lurn_tensor_data(b), sizeof(float) * n) == 0;
}

static void grads_ready_is_called_once_per_layer_from_last_to_first_with_complete_gradients(void) {
  lurn_model *m = small_model();
  lurn_tensor *x, *y;
  batch(&x, &y);
  seen s = {0};
  lurn_model_on_grads_ready(m, record, &s);
  lurn_loss mse = {.kind = LURN_LOSS_MEAN_SQUARED_ERROR};
  double loss;
  CHECK(lurn_model_compute_gradients(m, &mse, x, y, NULL, &loss, NULL) == LURN_OK);
  CHECK(s.calls == NLAYERS);
  for (int i = 0; i < NLAYERS && i < s.calls; i++) CHECK(s.order[i] == NLAYERS - 1 - i);
  for (int i = 0; i < NLAYERS; i++) {
    lurn_layer *l = lurn_model_layer(m, i);
    for (int p = 0; p < l->nparams; p++) CHECK(s.grads[i][p] && same_values(s.grads[i][p], l->grads[p]));
  }
  /* removed: backward runs without it */
  lurn_model_on_grads_ready(m, NULL, NULL);
  CHECK(lurn_model_compute_gradients(m, &mse, x, y, NULL, &loss, NULL) == LURN_OK);
  CHECK(s.calls == NLAYERS);
  for (int i = 0; i < NLAYERS; i++)
    for (int p = 0; p < LURN_MAX_PARAMS; p++) lurn_tensor_free(s.grads[i][p]);
  lurn_tensor_free(x);
  lurn_tensor_free(y);
  lurn_model_free(m);
}

/* train_step on one model, compute + apply on a twin: the same weights, bit for bit; and
 * the twin's gradients are still the raw ones after a step that clipped hard. */
static void train_step_is_compute_then_apply_and_clipping_keeps_raw_gradients(void) {
  lurn_model *a = small_model(), *b = small_model();
  lurn_tensor *x, *y;
  batch(&x, &y);
  lurn_optimizer_config c = {.kind = LURN_OPT_ADAM,
                             .learning_rate = 0.01f,
                             .beta_1 = 0.9f,
                             .beta_2 = 0.999f,
                             .epsilon = 1e-7f,
                             .clipnorm = 1e-3f,
                             .clipvalue = 1e-4f};
  lurn_optimizer *oa = lurn_optimizer_new(&c), *ob = lurn_optimizer_new(&c);
  lurn_loss mse = {.kind = LURN_LOSS_MEAN_SQUARED_ERROR};
  for (int step = 0; step < 3; step++) {
    double la, lb;
    const lurn_tensor *pred;
    CHECK(lurn_model_train_step(a, &mse, oa, x, y, NULL, &la, &pred) == LURN_OK);
    CHECK(lurn_model_compute_gradients(b, &mse, x, y, NULL, &lb, NULL) == LURN_OK);
    CHECK(la == lb);
    lurn_tensor *raw = lurn_tensor_clone(lurn_model_layer(b, 0)->grads[0]);
    CHECK(lurn_model_apply_gradients(b, ob, NULL, 0) == LURN_OK);
    CHECK(same_values(raw, lurn_model_layer(b, 0)->grads[0]));
    lurn_tensor_free(raw);
  }
  lurn_model_weight wa[8], wb[8];
  int n = lurn_model_weights(a, wa, 8);
  CHECK(n == 4 && lurn_model_weights(b, wb, 8) == 4 && lurn_model_trainable_count(a) == 4);
  for (int i = 0; i < n; i++) CHECK(same_values(wa[i].param, wb[i].param));
  /* a wrong count of given gradients is refused */
  lurn_tensor *one[1] = {wb[0].grad};
  CHECK(lurn_model_apply_gradients(b, ob, one, 1) == LURN_EINVAL);
  lurn_optimizer_free(oa);
  lurn_optimizer_free(ob);
  lurn_tensor_free(x);
  lurn_tensor_free(y);
  lurn_model_free(a);
  lurn_model_free(b);
}

/* The layers of a graph (a functional model's, a Residual's) are reported one by one. */
typedef struct {
  lurn_layer *order[MAX_SEEN];
  int calls;
  lurn_tensor *grads[MAX_SEEN];
} seen_graph;

static void record_graph(lurn_model *m, lurn_layer *l, void *ud) {
  (void)m;
  seen_graph *s = ud;
  if (s->calls < MAX_SEEN) {
    s->order[s->calls] = l;
    s->grads[s->calls] = l->nparams ? lurn_tensor_clone(l->grads[0]) : NULL;
  }
  s->calls++;
}

/* A graph: input -> Dense(relu) -> Dense(tanh) -> Dense, and an Add of the last two
 * Dense outputs; an L1 + L2 penalty on the first kernel. */
static lurn_model *graph_model(lurn_layer **nodes) {
  lurn_initializer glorot = {.kind = LURN_INIT_GLOROT_UNIFORM, .seeded = 1, .seed = 3};
  lurn_initializer zeros = {.kind = LURN_INIT_ZEROS};
  lurn_dense_config c = {.units = 4, .activation = LURN_ACT_RELU, .use_bias = 1, .kernel_initializer = glorot,
                         .bias_initializer = zeros};
  nodes[0] = lurn_dense_new(&c);
  c.activation = LURN_ACT_TANH;
  nodes[1] = lurn_dense_new(&c);
  c.activation = LURN_ACT_LINEAR;
  nodes[2] = lurn_dense_new(&c);
  nodes[3] = lurn_merge_new(LURN_MERGE_ADD, 0);
  lurn_layer *g = lurn_graph_new();
  int in0[1] = {0}, in1[1] = {1}, in2[1] = {2}, add[2] = {3, 2};
  CHECK(lurn_graph_add(g, nodes[0], in0, 1) == LURN_OK);
  CHECK(lurn_graph_add(g, nodes[1], in1, 1) == LURN_OK);
  CHECK(lurn_graph_add(g, nodes[2], in2, 1) == LURN_OK);
  CHECK(lurn_graph_add(g, nodes[3], add, 2) == LURN_OK);
  lurn_model *m = lurn_model_new();
  CHECK(lurn_model_add(m, g) == LURN_OK);
  lurn_layer_free(g);
  int64_t in_shape[1] = {4};
  CHECK(lurn_model_build(m, 1, in_shape, lurn_rng_global()) == LURN_OK);
  nodes[0]->regularizers[0] = (lurn_regularizer){.l1 = 0.01f, .l2 = 0.1f};
  return m;
}

static void grads_ready_reports_each_layer_of_a_graph_with_complete_gradients(void) {
  lurn_layer *na[4], *nb[4];
  lurn_model *a = graph_model(na), *b = graph_model(nb);
  lurn_tensor *x, *y;
  batch(&x, &y);
  lurn_tensor_free(y);
  int64_t ys[2] = {6, 4};
  y = lurn_tensor_zeros(2, ys);
  for (int i = 0; i < 24; i++) lurn_tensor_data(y)[i] = (float)(i % 3) - 1.0f;
  seen_graph s = {0};
  lurn_model_on_grads_ready(b, record_graph, &s);
  lurn_loss mse = {.kind = LURN_LOSS_MEAN_SQUARED_ERROR};
  double la, lb;
  CHECK(lurn_model_compute_gradients(a, &mse, x, y, NULL, &la, NULL) == LURN_OK);
  CHECK(lurn_model_compute_gradients(b, &mse, x, y, NULL, &lb, NULL) == LURN_OK);
  CHECK(la == lb); /* the same loss, penalties included, bit for bit */
  /* the add, then the dense layers from last to first */
  CHECK(s.calls == 4);
  lurn_layer *want[4] = {nb[3], nb[2], nb[1], nb[0]};
  for (int i = 0; i < 4 && i < s.calls; i++) CHECK(s.order[i] == want[i]);
  /* complete when reported (the first kernel's penalty in), and as without the hook */
  for (int i = 1; i < 4 && i < s.calls; i++) {
    CHECK(same_values(s.grads[i], want[i]->grads[0]));
    CHECK(same_values(s.grads[i], na[3 - i]->grads[0]));
  }
  for (int i = 0; i < MAX_SEEN && i < s.calls; i++) lurn_tensor_free(s.grads[i]);
  lurn_tensor_free(x);
  lurn_tensor_free(y);
  lurn_model_free(a);
  lurn_model_free(b);
  for (int i = 0; i < 4; i++) lurn_layer_free(na[i]), lurn_layer_free(nb[i]);
}

int main(void) {
  RUN(grads_ready_is_called_once_per_layer_from_last_to_first_with_complete_gradients);
  RUN(grads_ready_reports_each_layer_of_a_graph_with_complete_gradients);
  RUN(train_step_is_compute_then_apply_and_clipping_keeps_raw_gradients);
  return check_summary();
}
