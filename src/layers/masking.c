/* Masking (Keras'): x (N, steps, features) -> y, the same but 0 at the steps whose
 * features all equal mask_value, and a mask (N, steps) marking those steps as padding for
 * the layers after it (lurn_mask_rule: it makes the mask). A NaN never equals mask_value:
 * its step stays real. Backward: dx = dy at real steps, 0 at padding. */
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

typedef struct {
  float value;
  lurn_tensor *mask; /* (N, steps) of the last forward */
} masking;

static lurn_status masking_build(lurn_layer *l, lurn_rng *rng) {
  (void)rng;
  if (l->in_ndim != 2)
    return lurn_fail(LURN_EINVAL,
                     "Masking: expects input of shape (steps, features) per sample, got %d dimensions",
                     l->in_ndim);
  l->out_ndim = 2;
  memcpy(l->out_shape, l->in_shape, sizeof(int64_t) * 2);
  return LURN_OK;
}

static lurn_status masking_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  (void)training;
  masking *k = l->impl;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st || (st = lurn_buffer_ensure(&k->mask, 2, x->shape))) return st;
  const int64_t rows = x->shape[0] * x->shape[1], f = x->shape[2];
  const float *in = lurn_tensor_data(x);
  float *out = lurn_tensor_data(y), *m = lurn_tensor_data(k->mask);
#pragma omp parallel for if (rows * f > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    int real = 0;
    for (int64_t j = 0; j < f && !real; j++) real = in[r * f + j] != k->value;
    m[r] = (float)real;
    for (int64_t j = 0; j < f; j++) out[r * f + j] = real ? in[r * f + j] : 0.0f;
  }
  return LURN_OK;
}

static lurn_status masking_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                    const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  (void)y, (void)fuse;
  masking *k = l->impl;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st || !dx) return st;
  if (!k->mask || k->mask->shape[0] != x->shape[0])
    return lurn_fail(LURN_EINVAL, "Masking: backward needs the forward of the same batch first");
  const int64_t rows = x->shape[0] * x->shape[1], f = x->shape[2];
  const float *g = lurn_tensor_data(dy), *m = lurn_tensor_data(k->mask);
  float *out = lurn_tensor_data(dx);
#pragma omp parallel for if (rows * f > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = 0; j < f; j++) out[r * f + j] = m[r] != 0 ? g[r * f + j] : 0.0f;
  return LURN_OK;
}

static void masking_destroy(lurn_layer *l) {
  masking *k = l->impl;
  lurn_tensor_free(k->mask);
  free(k);
}

static lurn_mask_rule masking_mask_rule(const lurn_layer *l) {
  (void)l;
  return LURN_MASK_MAKE;
}

static const lurn_tensor *masking_output_mask(const lurn_layer *l) {
  const masking *k = l->impl;
  return k->mask;
}

static const lurn_layer_ops masking_ops = {.type = "Masking",
                                           .build = masking_build,
                                           .forward = masking_forward,
                                           .backward = masking_backward,
                                           .destroy = masking_destroy,
                                           .mask_rule = masking_mask_rule,
                                           .output_mask = masking_output_mask};

lurn_layer *lurn_masking_new(float mask_value) {
  masking *k = calloc(1, sizeof *k);
  if (!k) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  k->value = mask_value;
  lurn_layer *l = lurn_layer_alloc(&masking_ops, k);
  if (!l) free(k);
  return l;
}
