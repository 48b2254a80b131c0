/* The plan of fused steps (LURN_BACKWARD_* flags) that the model and the graph pass to
 * backward: spy layers record the flags they get. A relu layer under a layer that offers
 * LURN_BACKWARD_MASK_DX_RELU gets DY_IS_DZ, and its reader MASK_DX_RELU; not when the relu
 * output has an activity penalty, nor in a graph when it has a second reader; the last
 * layer gets DY_IS_DZ from a softmax + cross-entropy loss, through a graph to its output
 * node. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lurn.h"
#include "lurn/layer_impl.h"

#define F 6

typedef struct {
  unsigned got; /* the flags of the last backward */
  int calls;
} spy;

static lurn_status spy_build(lurn_layer *l, lurn_rng *rng) {
  (void)rng;
  l->out_ndim = l->in_ndim;
  memcpy(l->out_shape, l->in_shape, sizeof(int64_t) * (size_t)l->in_ndim);
  return LURN_OK;
}

/* identity (no parameters); preactivation is x, as an Activation layer's */
static lurn_status spy_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  (void)training;
  l->preactivation = x;
  return lurn_tensor_copy_into(y, x);
}

static lurn_status spy_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  (void)x, (void)y;
  spy *s = l->impl;
  s->got = fuse;
  s->calls++;
  return dx ? lurn_tensor_copy_into(dx, dy) : LURN_OK;
}

static void spy_destroy(lurn_layer *l) {
  free(l->impl);
}

static unsigned offers_mask(const lurn_layer *l) {
  (void)l;
  return LURN_BACKWARD_MASK_DX_RELU;
}

static const lurn_layer_ops plain_ops = {.type = "Spy",
                                         .build = spy_build,
                                         .forward = spy_forward,
                                         .backward = spy_backward,
                                         .destroy = spy_destroy};
static const lurn_layer_ops masking_ops = {.type = "MaskingSpy",
                                           .build = spy_build,
                                           .forward = spy_forward,
                                           .backward = spy_backward,
                                           .destroy = spy_destroy,
                                           .fuses = offers_mask};

static lurn_layer *spy_new(const lurn_layer_ops *ops, lurn_activation act) {
  lurn_layer *l = lurn_layer_alloc(ops, calloc(1, sizeof(spy)));
  l->activation = act;
  return l;
}

static unsigned got(const lurn_layer *l) {
  return ((const spy *)l->impl)->got;
}

static lurn_tensor *batch(void) {
  int64_t shape[2] = {3, F};
  lurn_tensor *t = lurn_tensor_zeros(2, shape);
  for (int i = 0; i < 3 * F; i++) lurn_tensor_data(t)[i] = (float)(i % 5) - 2.0f;
  return t;
}

/* compute_gradients with mse (no fused loss) or categorical cross-entropy */
static void step(lurn_model *m, int cross_entropy) {
  lurn_tensor *x = batch(), *y = batch();
  for (int i = 0; i < 3 * F; i++) lurn_tensor_data(y)[i] = i % F == 0;
  lurn_loss loss = {.kind =
                        cross_entropy ? LURN_LOSS_CATEGORICAL_CROSSENTROPY : LURN_LOSS_MEAN_SQUARED_ERROR};
  double value;
  CHECK(lurn_model_compute_gradients(m, &loss, x, y, NULL, &value, NULL) == LURN_OK);
  lurn_tensor_free(x);
  lurn_tensor_free(y);
}

static lurn_model *model_of(lurn_layer **layers, int n) {
  lurn_model *m = lurn_model_new();
  for (int i = 0; i < n; i++) {
    CHECK(lurn_model_add(m, layers[i]) == LURN_OK);
    lurn_layer_free(layers[i]); /* the model holds its own reference */
  }
  lurn_rng rng;
  lurn_rng_seed(&rng, 1);
  int64_t in[1] = {F};
  CHECK(lurn_model_build(m, 1, in, &rng) == LURN_OK);
  return m;
}

static void test_model_plan(void) {
  lurn_layer *l[4] = {spy_new(&plain_ops, LURN_ACT_RELU), spy_new(&masking_ops, LURN_ACT_LINEAR),
                      spy_new(&plain_ops, LURN_ACT_RELU), spy_new(&plain_ops, LURN_ACT_SOFTMAX)};
  lurn_model *m = model_of(l, 4);
  step(m, 0);
  CHECK(got(l[0]) == LURN_BACKWARD_DY_IS_DZ);
  CHECK(got(l[1]) == LURN_BACKWARD_MASK_DX_RELU);
  CHECK(got(l[2]) == 0); /* relu under a layer that offers nothing */
  CHECK(got(l[3]) == 0); /* mse: no fused loss */
  step(m, 1);
  CHECK(got(l[3]) == LURN_BACKWARD_DY_IS_DZ);
  /* an activity penalty on the relu output needs its dL/dy: no fusion */
  l[0]->activity_regularizer.l2 = 0.5f;
  step(m, 0);
  CHECK(got(l[0]) == 0);
  CHECK(got(l[1]) == 0);
  lurn_model_free(m);
}

static void test_graph_plan(void) {
  /* node 1 relu, node 2 masking reader of 1, node 3 softmax reader of 2 (the output) */
  lurn_layer *relu = spy_new(&plain_ops, LURN_ACT_RELU), *pool = spy_new(&masking_ops, LURN_ACT_LINEAR);
  lurn_layer *top = spy_new(&plain_ops, LURN_ACT_SOFTMAX);
  lurn_layer *g = lurn_graph_new();
  int in0[1] = {0}, in1[1] = {1}, in2[1] = {2};
  CHECK(lurn_graph_add(g, relu, in0, 1) == LURN_OK);
  CHECK(lurn_graph_add(g, pool, in1, 1) == LURN_OK);
  CHECK(lurn_graph_add(g, top, in2, 1) == LURN_OK);
  lurn_layer *layers[1] = {g};
  lurn_model *m = model_of(layers, 1);
  step(m, 1);
  CHECK(got(relu) == LURN_BACKWARD_DY_IS_DZ);
  CHECK(got(pool) == LURN_BACKWARD_MASK_DX_RELU);
  CHECK(got(top) == LURN_BACKWARD_DY_IS_DZ); /* the loss's, passed to the output node */
  step(m, 0);
  CHECK(got(top) == 0);
  lurn_model_free(m);
  lurn_layer_free(relu);
  lurn_layer_free(pool);
  lurn_layer_free(top);

  /* the relu output read twice: its gradient is a sum, no reader may apply relu's for it */
  relu = spy_new(&plain_ops, LURN_ACT_RELU);
  pool = spy_new(&masking_ops, LURN_ACT_LINEAR);
  lurn_layer *add = lurn_merge_new(LURN_MERGE_ADD, 0);
  g = lurn_graph_new();
  int in_add[2] = {2, 1};
  CHECK(lurn_graph_add(g, relu, in0, 1) == LURN_OK);
  CHECK(lurn_graph_add(g, pool, in1, 1) == LURN_OK);
  CHECK(lurn_graph_add(g, add, in_add, 2) == LURN_OK);
  layers[0] = g;
  m = model_of(layers, 1);
  step(m, 0);
  CHECK(((spy *)relu->impl)->calls == 1 && got(relu) == 0);
  CHECK(((spy *)pool->impl)->calls == 1 && got(pool) == 0);
  lurn_model_free(m);
  lurn_layer_free(relu);
  lurn_layer_free(pool);
  lurn_layer_free(add);
}

int main(void) {
  RUN(test_model_plan);
  RUN(test_graph_plan);
  return check_summary();
}
