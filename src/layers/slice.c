/* Slice: one part of a packed per-sample output, as its own tensor (the functional API's
 * tensor_index: a recurrent layer's return_state gives (N, output + states) packed, and
 * each of Keras' output tensors is a slice of it). y = x[:, offset : offset + size] seen as
 * (N, shape...); backward writes that part of dL/dx and zeros elsewhere (a graph sums what
 * the slices of one output send back). */
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

typedef struct {
  int64_t offset, size;
  int ndim;
  int64_t shape[LURN_MAX_DIMS];
  int keep_mask; /* the part keeps the steps: a mask goes on */
} slice;

static lurn_status slice_build(lurn_layer *l, lurn_rng *rng) {
  (void)rng;
  const slice *s = l->impl;
  if (l->in_ndim != 1 || s->offset + s->size > l->in_shape[0])
    return lurn_fail(LURN_EINVAL, "Slice: expected a packed input of at least %lld values per sample",
                     (long long)(s->offset + s->size));
  l->out_ndim = s->ndim;
  memcpy(l->out_shape, s->shape, sizeof(int64_t) * (size_t)s->ndim);
  return LURN_OK;
}

static lurn_status slice_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  (void)training;
  const slice *s = l->impl;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st) return st;
  const int64_t n = x->shape[0], width = l->in_shape[0], size = s->size;
  const float *in = lurn_tensor_data(x);
  float *out = lurn_tensor_data(y);
  for (int64_t i = 0; i < n; i++)
    memcpy(out + i * size, in + i * width + s->offset, sizeof(float) * (size_t)size);
  return LURN_OK;
}

static lurn_status slice_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                  const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  (void)y, (void)fuse;
  const slice *s = l->impl;
  if (!dx) return LURN_OK;
  const int64_t n = x->shape[0], width = l->in_shape[0], size = s->size;
  const float *g = lurn_tensor_data(dy);
  float *d = lurn_tensor_data(dx);
  lurn_tensor_fill(dx, 0);
  for (int64_t i = 0; i < n; i++)
    memcpy(d + i * width + s->offset, g + i * size, sizeof(float) * (size_t)size);
  return LURN_OK;
}

static lurn_mask_rule slice_mask_rule(const lurn_layer *l) {
  const slice *s = l->impl;
  return s->keep_mask ? LURN_MASK_KEEP : LURN_MASK_CONSUME;
}

static void slice_destroy(lurn_layer *l) {
  free(l->impl);
}

static const lurn_layer_ops slice_ops = {.type = "Slice",
                                         .build = slice_build,
                                         .forward = slice_forward,
                                         .backward = slice_backward,
                                         .destroy = slice_destroy,
                                         .mask_rule = slice_mask_rule};

lurn_layer *lurn_slice_new(int64_t offset, int ndim, const int64_t *shape, int keep_mask) {
  int64_t size = 1;
  int ok = offset >= 0 && ndim >= 1 && ndim < LURN_MAX_DIMS;
  for (int d = 0; ok && d < ndim; d++) {
    ok = shape[d] >= 1 && shape[d] < ((int64_t)1 << 40);
    size *= ok ? shape[d] : 1;
    ok = ok && size < ((int64_t)1 << 61);
  }
  if (!ok || offset >= ((int64_t)1 << 61)) {
    lurn_fail(LURN_EINVAL, "Slice: expected an offset >= 0 and a shape of 1 to %d positive sizes",
              LURN_MAX_DIMS - 1);
    return NULL;
  }
  slice *s = calloc(1, sizeof *s);
  if (!s) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  s->offset = offset, s->size = size, s->ndim = ndim, s->keep_mask = keep_mask;
  memcpy(s->shape, shape, sizeof(int64_t) * (size_t)ndim);
  lurn_layer *l = lurn_layer_alloc(&slice_ops, s);
  if (!l) free(s);
  return l;
}
