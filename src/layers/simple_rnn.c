/* SimpleRNN, as Keras': h(t) = activation(x(t) @ kernel + h(t-1) @ recurrent_kernel + bias)
 * from h = 0 (or the initial state); the shared machinery is in recurrent.c. */
#include <string.h>

#include "layers/recurrent.h"

static lurn_status simple_rnn_build(lurn_layer *l, lurn_rng *rng) {
  return lurn_rnn_build(l, rng, 1);
}

static lurn_status simple_rnn_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  lurn_rnn *r = l->impl;
  lurn_status st = lurn_rnn_begin_forward(l, x, training);
  if (st || r->n == 0) return st;
  int64_t n = r->n, steps = r->steps, units = r->c.units;
  float *h = lurn_tensor_data(r->h);
  for (int64_t s = 0; s < steps; s++) {
    float *z = (float *)lurn_tensor_data(r->xw) + lurn_rnn_time(r, s) * units; /* row stride steps*units */
    lurn_rnn_begin_step(l, s);
    lurn_rnn_recurrent_product(l, s, 0, 1, z, steps * units);
#pragma omp parallel for if (lurn_rnn_parallel(r)) schedule(static)
    for (int64_t i = 0; i < n; i++)
      lurn_rnn_act_array(r->c.activation, z + i * steps * units, h + (i * steps + s) * units, units);
    lurn_rnn_carry_masked(l, s, h, 0);
  }
  lurn_rnn_write_output(l, y, NULL);
  return LURN_OK;
}

static lurn_status simple_rnn_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                       const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  (void)y, (void)fuse;
  lurn_rnn *r = l->impl;
  lurn_status st = lurn_rnn_begin_backward(l, x);
  if (st || r->n == 0) return st;
  int64_t n = r->n, steps = r->steps, units = r->c.units;
  const float *h = lurn_tensor_data(r->h);
  for (int64_t s = steps - 1; s >= 0; s--) {
    lurn_rnn_add_dy(r, dy, s);
    float *dz = (float *)lurn_tensor_data(r->dg) + lurn_rnn_time(r, s) * units;
    float *dh = lurn_tensor_data(r->dh);
    const float *m = lurn_rnn_mask_of(l, r, s);
#pragma omp parallel for if (lurn_rnn_parallel(r)) schedule(static)
    for (int64_t i = 0; i < n; i++) {
      if (m && m[i * steps] == 0) { /* a carried state: no gradient to this step's gates */
        memset(dz + i * steps * units, 0, sizeof(float) * (size_t)units);
        continue;
      }
      for (int64_t j = 0; j < units; j++)
        dz[i * steps * units + j] =
            dh[i * units + j] * lurn_rnn_act_grad(r->c.activation, h[(i * steps + s) * units + j]);
    }
    if (s == 0 && !r->c.initial_state) break; /* else on to dL/dh0 */
    if (!m) {
      lurn_rnn_dh_prev(l, dz, steps * units, 0, 1, dh, 0.0f);
      continue;
    }
    lurn_rnn_dh_prev(l, dz, steps * units, 0, 1, lurn_tensor_data(r->dh_next), 0.0f);
    lurn_rnn_carry_dh_masked(l, s);
  }
  lurn_rnn_recurrent_grad(l, lurn_tensor_data(r->dg), units, 0, 1);
  lurn_rnn_finish_backward(l, x, dx, NULL);
  return LURN_OK;
}

static const lurn_layer_ops simple_rnn_ops = {.type = "SimpleRNN",
                                              .build = simple_rnn_build,
                                              .forward = simple_rnn_forward,
                                              .backward = simple_rnn_backward,
                                              .destroy = lurn_rnn_destroy,
                                              .mask_rule = lurn_rnn_mask_rule};

lurn_layer *lurn_simple_rnn_new(const lurn_recurrent_config *c) {
  return lurn_rnn_new(&simple_rnn_ops, c, 1);
}
