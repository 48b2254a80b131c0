/* What the recurrent layers share (see recurrent.h): config checks, parameters in Keras'
 * layout, the input projection of all timesteps as one GEMM, the output, and the
 * gradients of the input side as whole-sequence GEMMs. */
#include "layers/recurrent.h"

#include <stdlib.h>
#include <string.h>

#include "core/checked.h"

static int cell_activation(lurn_activation a) {
  return a == LURN_ACT_LINEAR || a == LURN_ACT_RELU || a == LURN_ACT_SIGMOID || a == LURN_ACT_TANH ||
         a == LURN_ACT_SOFTSIGN;
}

lurn_layer *lurn_rnn_new(const lurn_layer_ops *ops, const lurn_recurrent_config *c, int gates) {
  if (c->units < 1) {
    lurn_fail(LURN_EINVAL, "%s: units must be a positive integer, got %lld", ops->type, (long long)c->units);
    return NULL;
  }
  /* the gates' recurrent_activation only where there are gates (LSTM, GRU) */
  lurn_activation acts[2] = {c->activation, c->recurrent_activation};
  static const char *const keys[2] = {"activation", "recurrent_activation"};
  for (int i = 0; i < (gates > 1 ? 2 : 1); i++)
    if (!cell_activation(acts[i])) {
      lurn_fail(
          LURN_EINVAL,
          "%s: %s '%s' is not supported in recurrent cells (use tanh, sigmoid, relu, softsign or linear)",
          ops->type, keys[i], lurn_activation_name(acts[i]));
      return NULL;
    }
  if (!(c->dropout >= 0 && c->dropout < 1)) {
    lurn_fail(LURN_EINVAL, "%s: dropout must be in [0, 1), got %g", ops->type, (double)c->dropout);
    return NULL;
  }
  lurn_rnn *r = calloc(1, sizeof *r);
  if (!r) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  r->c = *c;
  if (!r->c.rng) r->c.rng = lurn_rng_global();
  r->gates = gates;
  lurn_layer *l = lurn_layer_alloc(ops, r);
  if (!l) free(r);
  return l;
}

void lurn_rnn_destroy(lurn_layer *l) {
  lurn_rnn *r = l->impl;
  lurn_tensor *bufs[] = {r->xw,      r->h,       r->dg,      r->dh,   r->dh_next, r->hprev,
                         r->cell[0], r->cell[1], r->cell[2], r->mask, r->xdrop};
  for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) lurn_tensor_free(bufs[i]);
  free(r);
}

lurn_status lurn_rnn_build(lurn_layer *l, lurn_rng *rng, int bias_rows) {
  lurn_rnn *r = l->impl;
  const char *type = l->ops->type;
  if (l->in_ndim != 2)
    return lurn_fail(LURN_EINVAL,
                     "%s: expected inputs (batch, timesteps, features), got a sample of %d dimension%s", type,
                     l->in_ndim, l->in_ndim == 1 ? "" : "s");
  if (l->in_shape[0] < 1 || l->in_shape[1] < 1)
    return lurn_fail(LURN_EINVAL,
                     "%s: the input needs at least one timestep and one feature, got (%lld, %lld)", type,
                     (long long)l->in_shape[0], (long long)l->in_shape[1]);
  int64_t units = r->c.units, width;
  if (!lurn_mul_i64(units, r->gates, &width))
    return lurn_fail(LURN_EINVAL, "%s: units = %lld is too large", type, (long long)units);
  int64_t kshape[2] = {l->in_shape[1], width}, rshape[2] = {units, width}, bshape[2] = {bias_rows, width};
  if (!lurn_layer_add_param(l, "kernel", 2, kshape, &r->c.kernel_initializer, rng, 1) ||
      !lurn_layer_add_param(l, "recurrent_kernel", 2, rshape, &r->c.recurrent_initializer, rng, 1))
    return LURN_ENOMEM;
  if (r->c.use_bias) {
    int nd = bias_rows > 1 ? 2 : 1;
    if (!lurn_layer_add_param(l, "bias", nd, nd == 2 ? bshape : bshape + 1, &r->c.bias_initializer, rng, 1))
      return LURN_ENOMEM;
  }
  l->out_ndim = r->c.return_sequences ? 2 : 1;
  l->out_shape[0] = r->c.return_sequences ? l->in_shape[0] : units;
  l->out_shape[1] = units;
  return LURN_OK;
}

/* Draws the dropout mask (N, features) and writes xdrop = x * mask (the same mask at
 * every timestep), which the input projection and dL/dkernel then read instead of x. */
static lurn_status drop_inputs(lurn_rnn *r, const lurn_tensor *x) {
  int64_t n = r->n, steps = r->steps, f = r->features, mshape[2] = {n, f};
  lurn_status st = lurn_buffer_ensure(&r->mask, 2, mshape);
  if (!st) st = lurn_buffer_ensure(&r->xdrop, 3, x->shape);
  if (st) return st;
  /* as the Dropout layer: keep when a 32-bit uniform integer is >= rate * 2^32 */
  float *m = lurn_tensor_data(r->mask), scale = 1.0f / (1.0f - r->c.dropout);
  uint32_t threshold = (uint32_t)((double)r->c.dropout * 4294967296.0);
  lurn_rng_fill_u32(r->c.rng, (uint32_t *)m, n * f);
  for (int64_t i = 0; i < n * f; i++) {
    uint32_t bits;
    memcpy(&bits, &m[i], sizeof bits);
    m[i] = bits >= threshold ? scale : 0.0f;
  }
  const float *in = lurn_tensor_data(x);
  float *out = lurn_tensor_data(r->xdrop);
  for (int64_t i = 0; i < n; i++)
    for (int64_t t = 0; t < steps; t++)
      for (int64_t j = 0; j < f; j++)
        out[(i * steps + t) * f + j] = in[(i * steps + t) * f + j] * m[i * f + j];
  return LURN_OK;
}

lurn_status lurn_rnn_begin_forward(lurn_layer *l, const lurn_tensor *x, int training) {
  lurn_rnn *r = l->impl;
  r->n = x->shape[0];
  r->steps = x->shape[1];
  r->features = x->shape[2];
  int64_t units = r->c.units, width = r->gates * units, rows = r->n * r->steps;
  int64_t gshape[3] = {r->n, r->steps, width}, hshape[3] = {r->n, r->steps, units};
  lurn_status st = lurn_buffer_ensure(&r->xw, 3, gshape);
  if (!st) st = lurn_buffer_ensure(&r->h, 3, hshape);
  r->dropped = 0;
  if (st || rows == 0) return st;
  if (training && r->c.dropout > 0) {
    if ((st = drop_inputs(r, x))) return st;
    r->dropped = 1;
    x = r->xdrop;
  }
  float *xw = lurn_tensor_data(r->xw);
  const float *bias = r->c.use_bias ? lurn_tensor_data(l->params[2]) : NULL;
  if (bias) { /* start from the (input) bias so that sgemm accumulates onto it */
#pragma omp parallel for if (rows * width > LURN_PARALLEL_MIN) schedule(static)
    for (int64_t i = 0; i < rows; i++) memcpy(xw + i * width, bias, sizeof(float) * (size_t)width);
  }
  lurn_sgemm(0, 0, rows, width, r->features, 1.0f, lurn_tensor_data(x), r->features,
             lurn_tensor_data(l->params[0]), width, bias ? 1.0f : 0.0f, xw, width);
  return LURN_OK;
}

void lurn_rnn_write_output(const lurn_layer *l, lurn_tensor *y) {
  const lurn_rnn *r = l->impl;
  int64_t units = r->c.units;
  const float *h = lurn_tensor_data(r->h);
  float *out = lurn_tensor_data(y);
  if (r->c.return_sequences) {
    memcpy(out, h, sizeof(float) * (size_t)(r->n * r->steps * units));
    return;
  }
  for (int64_t i = 0; i < r->n; i++)
    memcpy(out + i * units, h + (i * r->steps + r->steps - 1) * units, sizeof(float) * (size_t)units);
}

lurn_status lurn_rnn_begin_backward(lurn_layer *l) {
  lurn_rnn *r = l->impl;
  int64_t n = r->n, steps = r->steps, units = r->c.units, width = r->gates * units;
  int64_t gshape[3] = {n, steps, width}, hshape[2] = {n, units}, pshape[3] = {n, steps, units};
  lurn_status st = lurn_buffer_ensure(&r->dg, 3, gshape);
  if (!st) st = lurn_buffer_ensure(&r->dh, 2, hshape);
  if (!st) st = lurn_buffer_ensure(&r->dh_next, 2, hshape);
  if (!st) st = lurn_buffer_ensure(&r->hprev, 3, pshape);
  if (st) return st;
  lurn_tensor_fill(r->dh, 0);
  if (n * steps == 0) lurn_tensor_fill(l->grads[0], 0); /* the cells stop here */
  lurn_tensor_fill(l->grads[1], 0);
  if (r->c.use_bias) lurn_tensor_fill(l->grads[2], 0);
  const float *h = lurn_tensor_data(r->h);
  float *hp = lurn_tensor_data(r->hprev);
#pragma omp parallel for if (n * steps * units > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < n; i++)
    for (int64_t s = 0; s < steps; s++) {
      float *to = hp + (i * steps + lurn_rnn_time(r, s)) * units;
      if (s == 0)
        memset(to, 0, sizeof(float) * (size_t)units);
      else
        memcpy(to, h + (i * steps + s - 1) * units, sizeof(float) * (size_t)units);
    }
  return LURN_OK;
}

void lurn_rnn_add_dy(const lurn_rnn *r, const lurn_tensor *dy, int64_t s) {
  int64_t units = r->c.units;
  if (!r->c.return_sequences && s != r->steps - 1) return;
  const float *g = lurn_tensor_data(dy) + (r->c.return_sequences ? s * units : 0);
  int64_t stride = r->c.return_sequences ? r->steps * units : units;
  float *dh = lurn_tensor_data(r->dh);
  for (int64_t i = 0; i < r->n; i++)
    for (int64_t j = 0; j < units; j++) dh[i * units + j] += g[i * stride + j];
}

void lurn_rnn_dh_prev(lurn_layer *l, const float *dgates, int64_t ld, float *dh_next, float beta) {
  lurn_rnn *r = l->impl;
  int64_t units = r->c.units, width = r->gates * units;
  lurn_sgemm(0, 1, r->n, units, width, 1.0f, dgates, ld, lurn_tensor_data(l->params[1]), width, beta, dh_next,
             units);
}

void lurn_rnn_recurrent_grad(lurn_layer *l, const float *dgates) {
  lurn_rnn *r = l->impl;
  int64_t units = r->c.units, width = r->gates * units;
  lurn_sgemm(1, 0, units, width, r->n * r->steps, 1.0f, lurn_tensor_data(r->hprev), units, dgates, width,
             1.0f, lurn_tensor_data(l->grads[1]), width);
}

void lurn_rnn_finish_backward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *dx) {
  lurn_rnn *r = l->impl;
  if (r->dropped) x = r->xdrop;
  int64_t width = r->gates * r->c.units, rows = r->n * r->steps, f = r->features;
  const float *dg = lurn_tensor_data(r->dg);
  lurn_sgemm(1, 0, f, width, rows, 1.0f, lurn_tensor_data(x), f, dg, width, 0.0f,
             lurn_tensor_data(l->grads[0]), width);
  if (r->c.use_bias) { /* the input bias: row 0 of GRU's two */
    float *db = lurn_tensor_data(l->grads[2]);
    for (int64_t i = 0; i < rows; i++)
      for (int64_t j = 0; j < width; j++) db[j] += dg[i * width + j];
  }
  if (!dx) return;
  lurn_sgemm(0, 1, rows, f, width, 1.0f, dg, width, lurn_tensor_data(l->params[0]), width, 0.0f,
             lurn_tensor_data(dx), f);
  if (r->dropped) {
    const float *m = lurn_tensor_data(r->mask);
    float *d = lurn_tensor_data(dx);
    for (int64_t i = 0; i < r->n; i++)
      for (int64_t t = 0; t < r->steps; t++)
        for (int64_t j = 0; j < f; j++) d[(i * r->steps + t) * f + j] *= m[i * f + j];
  }
}
