/* LSTM, as Keras' (gates i, f, c, o in the kernels' column blocks):
 *   i, f, o = recurrent_activation(x @ kernel + h(t-1) @ recurrent_kernel + bias)[block]
 *   g = activation(...)[c block];  c(t) = f * c(t-1) + i * g;  h(t) = o * activation(c(t))
 * from h = c = 0 (or the initial states); the shared machinery is in recurrent.c. */
#include <string.h>

#include "layers/recurrent.h"

enum { CELL_C, CELL_AC, CELL_DC }; /* r->cell: c and activation(c) per step, dL/dc carried back */

static lurn_status lstm_build(lurn_layer *l, lurn_rng *rng) {
  lurn_rnn *r = l->impl;
  lurn_status st = lurn_rnn_build(l, rng, 1);
  if (st || !r->c.use_bias || !r->c.unit_forget_bias) return st;
  /* Keras' unit_forget_bias: bias_initializer on an (units) weight for the i block and on a
   * (2*units) one for the c, o blocks (their fans, for the variance-scaling ones), ones for
   * the f block */
  int64_t u = r->c.units, two_u = 2 * u;
  lurn_tensor *i_block = lurn_tensor_empty(1, &u), *co_blocks = lurn_tensor_empty(1, &two_u);
  if (!i_block || !co_blocks) {
    lurn_tensor_free(i_block);
    lurn_tensor_free(co_blocks);
    return LURN_ENOMEM;
  }
  lurn_rng own;
  if (r->c.bias_initializer.seeded) {
    lurn_rng_seed(&own, r->c.bias_initializer.seed);
    rng = &own;
  }
  lurn_initialize(i_block, &r->c.bias_initializer, rng);
  lurn_initialize(co_blocks, &r->c.bias_initializer, rng);
  float *b = lurn_tensor_data(l->params[2]);
  memcpy(b, lurn_tensor_data(i_block), sizeof(float) * (size_t)u);
  for (int64_t j = 0; j < u; j++) b[u + j] = 1.0f;
  memcpy(b + 2 * u, lurn_tensor_data(co_blocks), sizeof(float) * (size_t)two_u);
  lurn_tensor_free(i_block);
  lurn_tensor_free(co_blocks);
  return LURN_OK;
}

static lurn_status lstm_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  lurn_rnn *r = l->impl;
  lurn_status st = lurn_rnn_begin_forward(l, x, training);
  int64_t n = r->n, steps = r->steps, u = r->c.units, w = 4 * u;
  int64_t shape[3] = {n, steps, u};
  if (!st) st = lurn_buffer_ensure(&r->cell[CELL_C], 3, shape);
  if (!st) st = lurn_buffer_ensure(&r->cell[CELL_AC], 3, shape);
  if (st || n == 0) return st;
  float *h = lurn_tensor_data(r->h), *c = lurn_tensor_data(r->cell[CELL_C]),
        *ac = lurn_tensor_data(r->cell[CELL_AC]);
  lurn_activation act = r->c.activation, ract = r->c.recurrent_activation;
  for (int64_t s = 0; s < steps; s++) {
    float *z = (float *)lurn_tensor_data(r->xw) + lurn_rnn_time(r, s) * w; /* row stride steps*w */
    lurn_rnn_begin_step(l, s);
    lurn_rnn_recurrent_product(l, s, 0, 4, z, steps * w);
    /* the gates activated in place (kept for backward), each block a pass of its own so
     * that the activations run 8 at a time (lurn_rnn_act_array) */
#pragma omp parallel for if (lurn_rnn_parallel(r)) schedule(static)
    for (int64_t i = 0; i < n; i++) {
      float *zi = z + i * steps * w;
      int64_t at = (i * steps + s) * u;
      lurn_rnn_act_array(ract, zi, zi, 2 * u); /* i, f */
      lurn_rnn_act_array(act, zi + 2 * u, zi + 2 * u, u); /* c candidate */
      lurn_rnn_act_array(ract, zi + 3 * u, zi + 3 * u, u); /* o */
      const float *cp = lurn_rnn_prev(r, c, 1, i, s);
      for (int64_t j = 0; j < u; j++) c[at + j] = zi[j] * zi[2 * u + j] + (cp ? zi[u + j] * cp[j] : 0.0f);
      lurn_rnn_act_array(act, c + at, ac + at, u);
      for (int64_t j = 0; j < u; j++) h[at + j] = zi[3 * u + j] * ac[at + j];
    }
    lurn_rnn_carry_masked(l, s, h, 0);
    lurn_rnn_carry_masked(l, s, c, 1);
  }
  lurn_rnn_write_output(l, y, c);
  return LURN_OK;
}

static lurn_status lstm_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                 const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  (void)y, (void)fuse;
  lurn_rnn *r = l->impl;
  lurn_status st = lurn_rnn_begin_backward(l, x);
  int64_t n = r->n, steps = r->steps, u = r->c.units, w = 4 * u;
  int64_t shape[2] = {n, u};
  if (!st) st = lurn_buffer_ensure(&r->cell[CELL_DC], 2, shape);
  if (st || n == 0) return st;
  lurn_tensor_fill(r->cell[CELL_DC], 0);
  if (r->c.return_state) lurn_rnn_add_state_grad(r, dy, 1, lurn_tensor_data(r->cell[CELL_DC]));
  const float *c = lurn_tensor_data(r->cell[CELL_C]), *ac = lurn_tensor_data(r->cell[CELL_AC]);
  float *dc = lurn_tensor_data(r->cell[CELL_DC]);
  lurn_activation act = r->c.activation, ract = r->c.recurrent_activation;
  for (int64_t s = steps - 1; s >= 0; s--) {
    lurn_rnn_add_dy(r, dy, s);
    int64_t t = lurn_rnn_time(r, s);
    const float *gates = (const float *)lurn_tensor_data(r->xw) + t * w;
    float *dz = (float *)lurn_tensor_data(r->dg) + t * w, *dh = lurn_tensor_data(r->dh);
    const float *m = lurn_rnn_mask_of(l, r, s);
#pragma omp parallel for if (lurn_rnn_parallel(r)) schedule(static)
    for (int64_t i = 0; i < n; i++) {
      const float *g = gates + i * steps * w;
      float *d = dz + i * steps * w;
      if (m && m[i * steps] == 0) { /* carried h and c: dL/dh, dL/dc go on unchanged, no gate gradient */
        memset(d, 0, sizeof(float) * (size_t)w);
        continue;
      }
      int64_t at = (i * steps + s) * u;
      const float *cp = lurn_rnn_prev(r, c, 1, i, s);
      for (int64_t j = 0; j < u; j++) {
        float ig = g[j], fg = g[u + j], gg = g[2 * u + j], og = g[3 * u + j];
        float dhv = dh[i * u + j], acv = ac[at + j], cprev = cp ? cp[j] : 0.0f;
        float dcv = dc[i * u + j] + dhv * og * lurn_rnn_act_grad(act, acv);
        d[j] = dcv * gg * lurn_rnn_act_grad(ract, ig);
        d[u + j] = dcv * cprev * lurn_rnn_act_grad(ract, fg);
        d[2 * u + j] = dcv * ig * lurn_rnn_act_grad(act, gg);
        d[3 * u + j] = dhv * acv * lurn_rnn_act_grad(ract, og);
        dc[i * u + j] = dcv * fg;
      }
    }
    if (s == 0 && !r->c.initial_state) break; /* else on to dL/dh0 */
    if (!m) {
      lurn_rnn_dh_prev(l, dz, steps * w, 0, 4, dh, 0.0f);
      continue;
    }
    lurn_rnn_dh_prev(l, dz, steps * w, 0, 4, lurn_tensor_data(r->dh_next), 0.0f);
    lurn_rnn_carry_dh_masked(l, s);
  }
  lurn_rnn_recurrent_grad(l, lurn_tensor_data(r->dg), w, 0, 4);
  lurn_rnn_finish_backward(l, x, dx, dc); /* dc: dL/dc0 now */
  return LURN_OK;
}

static const lurn_layer_ops lstm_ops = {.type = "LSTM",
                                        .build = lstm_build,
                                        .forward = lstm_forward,
                                        .backward = lstm_backward,
                                        .destroy = lurn_rnn_destroy,
                                        .mask_rule = lurn_rnn_mask_rule};

lurn_layer *lurn_lstm_new(const lurn_recurrent_config *c) {
  return lurn_rnn_new(&lstm_ops, c, 4);
}
