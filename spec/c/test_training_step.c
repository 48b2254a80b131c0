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

static void record(lurn_model *m, int layer, void *ud) {
  seen *s = ud;
  if (s->calls < MAX_SEEN) s->order[s->calls] = layer;
  s->calls++;
  lurn_layer *l = lurn_model_layer(m, layer);
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

int main(void) {
  RUN(grads_ready_is_called_once_per_layer_from_last_to_first_with_complete_gradients);
  RUN(train_step_is_compute_then_apply_and_clipping_keeps_raw_gradients);
  return check_summary();
}
