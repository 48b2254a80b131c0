/* Dropout (inverted): in training each element is kept with probability 1 - rate and
 * scaled by 1 / (1 - rate); in inference the layer is the identity. */
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "lurn/layer_impl.h"

typedef struct {
  float rate;
  lurn_rng *rng;
  lurn_tensor *mask; /* 0 or 1/(1-rate) per element of the last training batch */
  int masked;        /* whether the last forward applied the mask */
} dropout;

static lurn_status dropout_build(lurn_layer *l, lurn_rng *rng) {
  (void)rng;
  l->out_ndim = l->in_ndim;
  memcpy(l->out_shape, l->in_shape, sizeof(int64_t) * l->in_ndim);
  return LURN_OK;
}

static lurn_status dropout_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  dropout *d = l->impl;
  int64_t n = lurn_tensor_numel(x);
  const float *in = lurn_tensor_data(x);
  float *out = lurn_tensor_data(y);
  d->masked = training && d->rate > 0;
  if (!d->masked) {
    memcpy(out, in, sizeof(float) * (size_t)n);
    return LURN_OK;
  }
  lurn_status st = lurn_buffer_ensure(&d->mask, x->ndim, x->shape);
  if (st) return st;
  /* Keep an element when a 32-bit uniform integer is >= rate * 2^32. The draws are
   * written into the mask's own memory, then turned into its values in place (one
   * call for the batch: a generator call per pair of elements was 8% of an MLP step). */
  float *m = lurn_tensor_data(d->mask), scale = 1.0f / (1.0f - d->rate);
  uint32_t threshold = (uint32_t)((double)d->rate * 4294967296.0);
  lurn_rng_fill_u32(d->rng, (uint32_t *)m, n);
  for (int64_t i = 0; i < n; i++) {
    uint32_t bits;
    memcpy(&bits, &m[i], sizeof bits);
    m[i] = bits >= threshold ? scale : 0.0f;
    out[i] = in[i] * m[i];
  }
  return LURN_OK;
}

static lurn_status dropout_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                    const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  (void)x;
  (void)y, (void)fuse;
  dropout *d = l->impl;
  if (!dx) return LURN_OK;
  int64_t n = lurn_tensor_numel(dy);
  const float *g = lurn_tensor_data(dy);
  float *out = lurn_tensor_data(dx);
  if (!d->masked) {
    memcpy(out, g, sizeof(float) * (size_t)n);
    return LURN_OK;
  }
  const float *m = lurn_tensor_data(d->mask);
  for (int64_t i = 0; i < n; i++) out[i] = g[i] * m[i];
  return LURN_OK;
}

static void dropout_destroy(lurn_layer *l) {
  dropout *d = l->impl;
  lurn_tensor_free(d->mask);
  free(d);
}

static const lurn_layer_ops dropout_ops = {.type = "Dropout",
                                           .build = dropout_build,
                                           .forward = dropout_forward,
                                           .backward = dropout_backward,
                                           .destroy = dropout_destroy,
                                           .mask_rule = lurn_mask_keep};

lurn_layer *lurn_dropout_new(float rate, lurn_rng *rng) {
  if (!(rate >= 0 && rate < 1)) {
    lurn_fail(LURN_EINVAL, "Dropout: rate must be in [0, 1), got %g", rate);
    return NULL;
  }
  dropout *d = calloc(1, sizeof *d);
  if (!d) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  d->rate = rate;
  d->rng = rng;
  lurn_layer *l = lurn_layer_alloc(&dropout_ops, d);
  if (!l) free(d);
  return l;
}
