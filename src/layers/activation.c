/* Activation: y = f(x) elementwise (softmax over the last dimension). */
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "lurn/layer_impl.h"

typedef struct {
  float alpha;
} activation_layer;

static lurn_status act_build(lurn_layer *l, lurn_rng *rng) {
  (void)rng;
  l->out_ndim = l->in_ndim;
  memcpy(l->out_shape, l->in_shape, sizeof(int64_t) * l->in_ndim);
  return LURN_OK;
}

static int64_t cols_of(const lurn_tensor *x) {
  return x->shape[x->ndim - 1];
}

static lurn_status act_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  (void)training;
  activation_layer *a = l->impl;
  int64_t cols = cols_of(x), rows = cols ? lurn_tensor_numel(x) / cols : 0;
  lurn_activation_forward(l->activation, a->alpha, lurn_tensor_data(x), lurn_tensor_data(y), rows, cols);
  l->preactivation = x;
  return LURN_OK;
}

static lurn_status act_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  activation_layer *a = l->impl;
  if (!dx) return LURN_OK;
  int64_t cols = cols_of(x), rows = cols ? lurn_tensor_numel(x) / cols : 0;
  if (fuse & LURN_BACKWARD_DY_IS_DZ) {
    memcpy(lurn_tensor_data(dx), lurn_tensor_data(dy), sizeof(float) * (size_t)lurn_tensor_numel(dy));
    return LURN_OK;
  }
  lurn_activation_backward(l->activation, a->alpha, lurn_tensor_data(x), lurn_tensor_data(y),
                           lurn_tensor_data(dy), lurn_tensor_data(dx), rows, cols);
  return LURN_OK;
}

static void act_destroy(lurn_layer *l) {
  free(l->impl);
}

static const lurn_layer_ops activation_ops = {.type = "Activation",
                                              .build = act_build,
                                              .forward = act_forward,
                                              .backward = act_backward,
                                              .destroy = act_destroy,
                                              .mask_rule = lurn_mask_keep};

lurn_layer *lurn_activation_layer_new(lurn_activation act, float alpha) {
  activation_layer *a = calloc(1, sizeof *a);
  if (!a) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  a->alpha = alpha;
  lurn_layer *l = lurn_layer_alloc(&activation_ops, a);
  if (!l) {
    free(a);
    return NULL;
  }
  l->activation = act;
  return l;
}
