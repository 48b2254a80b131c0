/* MaxPooling1D, AveragePooling1D and their global forms over sequences: x (N, steps, C)
 * -> y (N, out_steps, C), or (N, C) for the global ones ((N, 1, C) with keepdims).
 *
 * A sequence is an image one row high: the layer runs the 2-D pooling (pooling.c) with a
 * (1, pool_size) window on x seen as (N, 1, steps, C), so the rules ("same" pools the
 * elements inside the sequence only, as TensorFlow) and the speed are the 2-D ones. */
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

typedef struct {
  lurn_pool1d_config c;
  lurn_layer *pool; /* the 2-D pooling doing the work */
} pool1d;

/* t seen with another shape of the same count (a header on the same storage, not owned). */
static lurn_tensor reshaped(const lurn_tensor *t, int ndim, const int64_t *shape) {
  lurn_tensor v = {.storage = t->storage, .offset = t->offset, .ndim = ndim};
  memcpy(v.shape, shape, sizeof(int64_t) * (size_t)ndim);
  lurn_set_contiguous_strides(&v);
  return v;
}

static lurn_status pool1d_build(lurn_layer *l, lurn_rng *rng) {
  pool1d *p = l->impl;
  const char *type = l->ops->type;
  lurn_tensor in = {.ndim = l->in_ndim};
  memcpy(in.shape, l->in_shape, sizeof(int64_t) * (size_t)l->in_ndim);
  char s[LURN_SHAPE_STR_MAX];
  lurn_shape_str(&in, s, sizeof s);
  if (l->in_ndim != 2)
    return lurn_fail(LURN_EINVAL, "%s: expects input of shape (steps, channels) per sample, got %s", type, s);
  const int64_t steps = l->in_shape[0], ch = l->in_shape[1];
  if (steps < 1 || ch < 1) return lurn_fail(LURN_EINVAL, "%s: input shape %s has a zero size", type, s);
  if (!p->c.global && !p->c.padding_same && p->c.pool_size > steps)
    return lurn_fail(LURN_EINVAL,
                     "%s: pool_size %lld is larger than the input's %lld steps (input shape %s, "
                     "padding 'valid')",
                     type, (long long)p->c.pool_size, (long long)steps, s);
  int64_t image[3] = {1, steps, ch};
  lurn_status st = lurn_layer_build(p->pool, 3, image, rng);
  if (st) return st;
  if (p->c.global) {
    l->out_ndim = p->c.keepdims ? 2 : 1;
    l->out_shape[0] = p->c.keepdims ? 1 : ch;
    l->out_shape[1] = ch;
    return LURN_OK;
  }
  l->out_ndim = 2;
  l->out_shape[0] = p->pool->out_shape[1];
  l->out_shape[1] = ch;
  return LURN_OK;
}

/* The 2-D pooling's shapes of a batch of n: input (n, 1, steps, C), output (n, ...). */
static void image_shapes(const lurn_layer *l, int64_t n, int64_t in[4], int64_t out[4]) {
  const pool1d *p = l->impl;
  in[0] = out[0] = n, in[1] = 1, in[2] = l->in_shape[0], in[3] = l->in_shape[1];
  for (int i = 0; i < p->pool->out_ndim; i++) out[i + 1] = p->pool->out_shape[i];
}

/* GlobalAveragePooling1D with a mask (Keras'): each channel's mean over the real steps
 * only, sum_t m[t] x[t] / sum_t m[t]; a sequence with no real step gives 0/0 = NaN, as in
 * Keras. Backward: dx[t] = m[t] dy / sum_t m[t]. */
static void masked_mean(const lurn_tensor *mask, const float *x, float *y, int64_t n, int64_t steps, int64_t ch) {
  const float *m = lurn_tensor_data(mask);
#pragma omp parallel for if (n * steps * ch > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < n; i++) {
    float *out = y + i * ch;
    double real = 0;
    for (int64_t c = 0; c < ch; c++) out[c] = 0;
    for (int64_t t = 0; t < steps; t++) {
      if (m[i * steps + t] == 0) continue;
      real += 1;
      for (int64_t c = 0; c < ch; c++) out[c] += x[(i * steps + t) * ch + c];
    }
    for (int64_t c = 0; c < ch; c++) out[c] = (float)(out[c] / real);
  }
}

static void masked_mean_backward(const lurn_tensor *mask, const float *dy, float *dx, int64_t n, int64_t steps,
                                 int64_t ch) {
  const float *m = lurn_tensor_data(mask);
#pragma omp parallel for if (n * steps * ch > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < n; i++) {
    double real = 0;
    for (int64_t t = 0; t < steps; t++) real += m[i * steps + t] != 0;
    for (int64_t t = 0; t < steps; t++)
      for (int64_t c = 0; c < ch; c++)
        dx[(i * steps + t) * ch + c] = m[i * steps + t] != 0 ? (float)(dy[i * ch + c] / real) : 0.0f;
  }
}

static lurn_status pool1d_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  pool1d *p = l->impl;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st) return st;
  if (l->mask) { /* only GlobalAveragePooling1D takes one (pool1d_mask_rule) */
    masked_mean(l->mask, lurn_tensor_data(x), lurn_tensor_data(y), x->shape[0], l->in_shape[0], l->in_shape[1]);
    return LURN_OK;
  }
  int64_t ishape[4], oshape[4];
  image_shapes(l, x->shape[0], ishape, oshape);
  lurn_tensor in = reshaped(x, 4, ishape), out = reshaped(y, p->pool->out_ndim + 1, oshape);
  return p->pool->ops->forward(p->pool, &in, &out, training);
}

static lurn_status pool1d_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                   const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  pool1d *p = l->impl;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st) return st;
  if (l->mask) {
    if (dx) masked_mean_backward(l->mask, lurn_tensor_data(dy), lurn_tensor_data(dx), x->shape[0], l->in_shape[0],
                                 l->in_shape[1]);
    return LURN_OK;
  }
  int64_t ishape[4], oshape[4];
  image_shapes(l, x->shape[0], ishape, oshape);
  const int ond = p->pool->out_ndim + 1;
  lurn_tensor in = reshaped(x, 4, ishape), out = reshaped(y, ond, oshape), dout = reshaped(dy, ond, oshape);
  lurn_tensor din = dx ? reshaped(dx, 4, ishape) : (lurn_tensor){0};
  return p->pool->ops->backward(p->pool, &in, &out, &dout, dx ? &din : NULL, fuse);
}

static void pool1d_destroy(lurn_layer *l) {
  pool1d *p = l->impl;
  lurn_layer_free(p->pool);
  free(p);
}

/* Whatever the 2-D pooling fuses (max pooling: a relu's gradient below it). */
static unsigned pool1d_fuses(const lurn_layer *l) {
  const pool1d *p = l->impl;
  return p->pool->ops->fuses ? p->pool->ops->fuses(p->pool) : 0;
}

/* GlobalAveragePooling1D consumes a mask (the mean of the real steps), with keepdims too
 * (Keras 2.13: the same masked sum over the steps, keepdims kept; (N, 1, C) has (N, C)'s
 * layout); the others refuse one, as Keras 2's do (GlobalMaxPooling1D does not support
 * masking: a mask reaching it is an error there too). */
static lurn_mask_rule pool1d_mask_rule(const lurn_layer *l) {
  const pool1d *p = l->impl;
  return p->c.global && p->c.kind == LURN_POOL_AVERAGE ? LURN_MASK_CONSUME : LURN_MASK_REFUSE;
}

#define POOL1D_OPS(name, type_name)                                \
  static const lurn_layer_ops name = {.type = type_name,           \
                                      .build = pool1d_build,       \
                                      .forward = pool1d_forward,   \
                                      .backward = pool1d_backward, \
                                      .destroy = pool1d_destroy,   \
                                      .fuses = pool1d_fuses,       \
                                      .mask_rule = pool1d_mask_rule}
POOL1D_OPS(max_ops, "MaxPooling1D");
POOL1D_OPS(average_ops, "AveragePooling1D");
POOL1D_OPS(global_max_ops, "GlobalMaxPooling1D");
POOL1D_OPS(global_average_ops, "GlobalAveragePooling1D");

lurn_layer *lurn_pool1d_new(const lurn_pool1d_config *c) {
  const int max = c->kind == LURN_POOL_MAX;
  const lurn_layer_ops *ops =
      c->global ? (max ? &global_max_ops : &global_average_ops) : (max ? &max_ops : &average_ops);
  if (!c->global && (c->pool_size < 1 || c->strides < 1)) {
    lurn_fail(LURN_EINVAL, "%s: pool_size and strides must be positive, got pool_size %lld, strides %lld",
              ops->type, (long long)c->pool_size, (long long)c->strides);
    return NULL;
  }
  lurn_pool2d_config c2 = {.kind = c->kind,
                           .global = c->global,
                           .keepdims = c->keepdims,
                           .pool_size = {1, c->pool_size},
                           .strides = {1, c->strides},
                           .padding_same = c->padding_same};
  pool1d *p = calloc(1, sizeof *p);
  if (!p) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  p->c = *c;
  if (!(p->pool = lurn_pool2d_new(&c2))) {
    free(p);
    return NULL;
  }
  lurn_layer *l = lurn_layer_alloc(ops, p);
  if (!l) {
    lurn_layer_free(p->pool);
    free(p);
  }
  return l;
}
