/* Dense: y = activation(x @ kernel + bias) over the last dimension of x.
 * kernel (in, units) as Keras lays it out; x (N, ..., in) is treated as (rows, in).
 * Forward and backward are whole-batch lurn_sgemm calls. */
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

typedef struct {
  lurn_dense_config c;
  lurn_tensor *z;  /* pre-activation, kept for backward when there is an activation */
  lurn_tensor *dz; /* work buffer for dL/dz */
} dense;

static int64_t rows_of(const lurn_tensor *x) {
  return lurn_tensor_numel(x) / x->shape[x->ndim - 1];
}

static lurn_status dense_build(lurn_layer *l, lurn_rng *rng) {
  dense *d = l->impl;
  int64_t in = l->in_shape[l->in_ndim - 1];
  if (in < 1) return lurn_fail(LURN_EINVAL, "Dense: input has no features (last dimension is 0)");
  int64_t kshape[2] = {in, d->c.units};
  if (!lurn_layer_add_param(l, "kernel", 2, kshape, &d->c.kernel_initializer, rng, 1)) return LURN_ENOMEM;
  if (d->c.use_bias && !lurn_layer_add_param(l, "bias", 1, &d->c.units, &d->c.bias_initializer, rng, 1))
    return LURN_ENOMEM;
  l->out_ndim = l->in_ndim;
  memcpy(l->out_shape, l->in_shape, sizeof(int64_t) * l->in_ndim);
  l->out_shape[l->out_ndim - 1] = d->c.units;
  return LURN_OK;
}

static lurn_status dense_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  (void)training;
  dense *d = l->impl;
  int64_t rows = rows_of(x), in = x->shape[x->ndim - 1], units = d->c.units;
  float *out = lurn_tensor_data(y);
  if (d->c.activation != LURN_ACT_LINEAR) {
    lurn_status st = lurn_buffer_ensure(&d->z, y->ndim, y->shape);
    if (st) return st;
    out = lurn_tensor_data(d->z);
  }
  const float *bias = d->c.use_bias ? lurn_tensor_data(l->params[1]) : NULL;
  if (bias) { /* start from the bias so that sgemm accumulates onto it (beta = 1) */
    LURN_FOR(rows * units > LURN_PARALLEL_MIN, r, rows, memcpy(out + r * units, bias, sizeof(float) * (size_t)units));
  }
  if (rows > 0)
    lurn_sgemm(0, 0, rows, units, in, 1.0f, lurn_tensor_data(x), in, lurn_tensor_data(l->params[0]), units,
               bias ? 1.0f : 0.0f, out, units);
  if (d->c.activation != LURN_ACT_LINEAR) {
    lurn_activation_forward(d->c.activation, d->c.alpha, out, lurn_tensor_data(y), rows, units);
    l->preactivation = d->z;
  } else {
    l->preactivation = y;
  }
  return LURN_OK;
}

static lurn_status dense_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                  const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  dense *d = l->impl;
  int64_t rows = rows_of(x), in = x->shape[x->ndim - 1], units = d->c.units;
  const float *dz = lurn_tensor_data(dy);
  if (d->c.activation != LURN_ACT_LINEAR && !(fuse & LURN_BACKWARD_DY_IS_DZ)) {
    lurn_status st = lurn_buffer_ensure(&d->dz, dy->ndim, dy->shape);
    if (st) return st;
    lurn_activation_backward(d->c.activation, d->c.alpha, lurn_tensor_data(d->z), lurn_tensor_data(y), dz,
                             lurn_tensor_data(d->dz), rows, units);
    dz = lurn_tensor_data(d->dz);
  }
  /* kernel gradient: x^T @ dz */
  lurn_sgemm(1, 0, in, units, rows, 1.0f, lurn_tensor_data(x), in, dz, units, 0.0f,
             lurn_tensor_data(l->grads[0]), units);
  if (d->c.use_bias) {
    float *db = lurn_tensor_data(l->grads[1]);
    memset(db, 0, sizeof(float) * (size_t)units);
    for (int64_t r = 0; r < rows; r++)
      for (int64_t u = 0; u < units; u++) db[u] += dz[r * units + u];
  }
  if (dx)
    lurn_sgemm(0, 1, rows, in, units, 1.0f, dz, units, lurn_tensor_data(l->params[0]), units, 0.0f,
               lurn_tensor_data(dx), in);
  return LURN_OK;
}

static void dense_destroy(lurn_layer *l) {
  dense *d = l->impl;
  lurn_tensor_free(d->z);
  lurn_tensor_free(d->dz);
  free(d);
}

static const lurn_layer_ops dense_ops = {.type = "Dense",
                                         .build = dense_build,
                                         .forward = dense_forward,
                                         .backward = dense_backward,
                                         .destroy = dense_destroy,
                                         .mask_rule = lurn_mask_keep};

lurn_layer *lurn_dense_new(const lurn_dense_config *c) {
  if (c->units < 1) {
    lurn_fail(LURN_EINVAL, "Dense: units must be a positive integer, got %lld", (long long)c->units);
    return NULL;
  }
  dense *d = calloc(1, sizeof *d);
  if (!d) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  d->c = *c;
  lurn_layer *l = lurn_layer_alloc(&dense_ops, d);
  if (!l) {
    free(d);
    return NULL;
  }
  l->activation = c->activation;
  return l;
}
