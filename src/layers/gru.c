/* GRU, as Keras 2's (gates z, r, h in the kernels' column blocks). With reset_after = true
 * (Keras 2's default, cuDNN's form), bias (2, 3*units): input bias, recurrent bias:
 *   xz, xr, xh = x @ kernel + bias[0];  rz, rr, rh = h(t-1) @ recurrent_kernel + bias[1]
 *   z = recurrent_activation(xz + rz);  r = recurrent_activation(xr + rr)
 *   hh = activation(xh + r * rh);       h(t) = z * h(t-1) + (1 - z) * hh
 * With reset_after = false (Keras 1's form), bias (3*units) on the input side only, and the
 * reset gate applies before the product: rh = (r * h(t-1)) @ recurrent_kernel[:, h block],
 * hh = activation(xh + rh); rz, rr as above without a bias. That takes two recurrent GEMMs
 * a step (the z, r blocks, then the h block on r * h(t-1)).
 * From h = 0 (or the initial state); the shared machinery is in recurrent.c. */
#include <string.h>

#include "layers/recurrent.h"

/* r->cell: rh per step (reset_after) or r * h(t-1) per step (not); one step's recurrent
 * projection (N, 3*units), or, backward without reset_after, dL/d(r * h(t-1)); with
 * reset_after, dL/d(the recurrent projection) (N, T, 3*units) by input time, like dg. */
enum { CELL_RH, CELL_REC, CELL_DREC };

static lurn_status gru_build(lurn_layer *l, lurn_rng *rng) {
  lurn_rnn *r = l->impl;
  return lurn_rnn_build(l, rng, r->c.reset_after ? 2 : 1);
}

/* reset_after = false: step s of the forward, xw's row blocks z, r, h becoming the gates. */
static void gru_step_reset_before(lurn_layer *l, int64_t s) {
  lurn_rnn *r = l->impl;
  int64_t n = r->n, steps = r->steps, u = r->c.units, w = 3 * u;
  const float *rk = lurn_tensor_data(l->params[1]);
  float *z = (float *)lurn_tensor_data(r->xw) + lurn_rnn_time(r, s) * w; /* row stride steps*w */
  float *h = lurn_tensor_data(r->h), *rhin = lurn_tensor_data(r->cell[CELL_RH]);
  float *rec = lurn_tensor_data(r->cell[CELL_REC]);
  lurn_activation act = r->c.activation, ract = r->c.recurrent_activation;
  for (int64_t i = 0; i < n; i++) memset(rec + i * w, 0, sizeof(float) * (size_t)(2 * u));
  lurn_rnn_begin_step(l, s);
  lurn_rnn_recurrent_product(l, s, 0, 2, rec, w);
  const float *hm = lurn_rnn_hprev_of(r, 2, s); /* h(t-1) through the h block's recurrent mask */
#pragma omp parallel for if (lurn_rnn_parallel(r)) schedule(static)
  for (int64_t i = 0; i < n; i++) {
    float *zi = z + i * steps * w;
    const float *ri = rec + i * w;
    int64_t at = (i * steps + s) * u;
    for (int64_t j = 0; j < 2 * u; j++) zi[j] += ri[j];
    lurn_rnn_act_array(ract, zi, zi, 2 * u); /* z, r: 8 at a time */
    for (int64_t j = 0; j < u; j++) rhin[at + j] = zi[u + j] * hm[i * steps * u + j];
  }
  lurn_sgemm(0, 0, n, u, u, 1.0f, rhin + s * u, steps * u, rk + 2 * u, w, 0.0f, rec + 2 * u, w);
#pragma omp parallel for if (lurn_rnn_parallel(r)) schedule(static)
  for (int64_t i = 0; i < n; i++) {
    float *zi = z + i * steps * w;
    int64_t at = (i * steps + s) * u;
    for (int64_t j = 0; j < u; j++) zi[2 * u + j] += rec[i * w + 2 * u + j];
    lurn_rnn_act_array(act, zi + 2 * u, zi + 2 * u, u);
    const float *hp = lurn_rnn_prev(r, h, 0, i, s);
    for (int64_t j = 0; j < u; j++) h[at + j] = zi[j] * (hp ? hp[j] : 0.0f) + (1.0f - zi[j]) * zi[2 * u + j];
  }
}

static lurn_status gru_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  lurn_rnn *r = l->impl;
  lurn_status st = lurn_rnn_begin_forward(l, x, training);
  int64_t n = r->n, steps = r->steps, u = r->c.units, w = 3 * u;
  int64_t shape[3] = {n, steps, u}, rec_shape[2] = {n, w};
  if (!st) st = lurn_buffer_ensure(&r->cell[CELL_RH], 3, shape);
  if (!st) st = lurn_buffer_ensure(&r->cell[CELL_REC], 2, rec_shape);
  if (st || n == 0) return st;
  const float *rbias =
      r->c.use_bias && r->c.reset_after ? (const float *)lurn_tensor_data(l->params[2]) + w : NULL;
  float *h = lurn_tensor_data(r->h), *rh = lurn_tensor_data(r->cell[CELL_RH]),
        *rec = lurn_tensor_data(r->cell[CELL_REC]);
  lurn_activation act = r->c.activation, ract = r->c.recurrent_activation;
  for (int64_t s = 0; s < steps; s++) {
    if (!r->c.reset_after) {
      gru_step_reset_before(l, s);
      lurn_rnn_carry_masked(l, s, h, 0);
      continue;
    }
    float *z = (float *)lurn_tensor_data(r->xw) + lurn_rnn_time(r, s) * w; /* row stride steps*w */
    for (int64_t i = 0; i < n; i++) {
      if (rbias)
        memcpy(rec + i * w, rbias, sizeof(float) * (size_t)w);
      else
        memset(rec + i * w, 0, sizeof(float) * (size_t)w);
    }
    lurn_rnn_begin_step(l, s);
    lurn_rnn_recurrent_product(l, s, 0, 3, rec, w);
#pragma omp parallel for if (lurn_rnn_parallel(r)) schedule(static)
    for (int64_t i = 0; i < n; i++) {
      float *zi = z + i * steps * w;
      const float *ri = rec + i * w;
      int64_t at = (i * steps + s) * u;
      /* the gates activated in place (kept for backward), 8 at a time */
      for (int64_t j = 0; j < 2 * u; j++) zi[j] += ri[j];
      lurn_rnn_act_array(ract, zi, zi, 2 * u); /* z, r */
      for (int64_t j = 0; j < u; j++) {
        zi[2 * u + j] += zi[u + j] * ri[2 * u + j];
        rh[at + j] = ri[2 * u + j];
      }
      lurn_rnn_act_array(act, zi + 2 * u, zi + 2 * u, u); /* h candidate */
      const float *hp = lurn_rnn_prev(r, h, 0, i, s);
      for (int64_t j = 0; j < u; j++) h[at + j] = zi[j] * (hp ? hp[j] : 0.0f) + (1.0f - zi[j]) * zi[2 * u + j];
    }
    lurn_rnn_carry_masked(l, s, h, 0);
  }
  lurn_rnn_write_output(l, y, NULL);
  return LURN_OK;
}

/* reset_after = false: step s of the backward, from dh (r->dh) to dg's row blocks and
 * dh_next (written whole), the recurrent kernel's gradient accumulated. */
static void gru_step_back_reset_before(lurn_layer *l, int64_t s) {
  lurn_rnn *r = l->impl;
  int64_t n = r->n, steps = r->steps, u = r->c.units, w = 3 * u, t = lurn_rnn_time(r, s);
  const float *rk = lurn_tensor_data(l->params[1]), *h = lurn_tensor_data(r->h);
  const float *rhin = lurn_tensor_data(r->cell[CELL_RH]), *dh = lurn_tensor_data(r->dh);
  const float *gates = (const float *)lurn_tensor_data(r->xw) + t * w;
  float *dz = (float *)lurn_tensor_data(r->dg) + t * w, *dh_next = lurn_tensor_data(r->dh_next);
  float *drhin = lurn_tensor_data(r->cell[CELL_REC]), *drk = lurn_tensor_data(l->grads[1]);
  lurn_activation act = r->c.activation, ract = r->c.recurrent_activation;
  const float *m = lurn_rnn_mask_of(l, r, s);
#pragma omp parallel for if (lurn_rnn_parallel(r)) schedule(static)
  for (int64_t i = 0; i < n; i++) {
    const float *g = gates + i * steps * w;
    float *d = dz + i * steps * w;
    if (m && m[i * steps] == 0) { /* a carried state: dL/dh goes on unchanged, no gate gradient */
      memset(d, 0, sizeof(float) * (size_t)w);
      memcpy(dh_next + i * u, dh + i * u, sizeof(float) * (size_t)u);
      continue;
    }
    const float *hp = lurn_rnn_prev(r, h, 0, i, s);
    for (int64_t j = 0; j < u; j++) {
      float zg = g[j], hh = g[2 * u + j], dhv = dh[i * u + j], hprev = hp ? hp[j] : 0.0f;
      d[j] = dhv * (hprev - hh) * lurn_rnn_act_grad(ract, zg);
      d[2 * u + j] = dhv * (1.0f - zg) * lurn_rnn_act_grad(act, hh);
      dh_next[i * u + j] = dhv * zg;
    }
  }
  /* through rh = (r * h(t-1)) @ recurrent_kernel[:, h block] */
  lurn_sgemm(0, 1, n, u, u, 1.0f, dz + 2 * u, steps * w, rk + 2 * u, w, 0.0f, drhin, u);
  lurn_sgemm(1, 0, u, u, n, 1.0f, rhin + s * u, steps * u, dz + 2 * u, steps * w, 1.0f, drk + 2 * u, w);
  const float *hm = lurn_rnn_hprev_of(r, 2, s); /* h(t-1) through the h block's recurrent mask */
  const float *rm = r->rec_masks ? (const float *)lurn_tensor_data(r->rmask) + 2 * n * u : NULL;
#pragma omp parallel for if (lurn_rnn_parallel(r)) schedule(static)
  for (int64_t i = 0; i < n; i++) {
    const float *g = gates + i * steps * w;
    float *d = dz + i * steps * w;
    if (m && m[i * steps] == 0) continue; /* its gates' rows stay zero */
    for (int64_t j = 0; j < u; j++) {
      float rg = g[u + j], dr = drhin[i * u + j];
      d[u + j] = dr * hm[i * steps * u + j] * lurn_rnn_act_grad(ract, rg);
      dh_next[i * u + j] += dr * rg * (rm ? rm[i * u + j] : 1.0f);
    }
  }
  /* through the z and r blocks of h(t-1) @ recurrent_kernel (their kernel's gradient over
   * the whole sequence, after the loop) */
  if (s > 0 || r->c.initial_state) lurn_rnn_dh_prev(l, dz, steps * w, 0, 2, dh_next, 1.0f);
}

static lurn_status gru_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  (void)y, (void)fuse;
  lurn_rnn *r = l->impl;
  lurn_status st = lurn_rnn_begin_backward(l, x);
  int64_t n = r->n, steps = r->steps, u = r->c.units, w = 3 * u;
  int64_t dshape[3] = {n, steps, w};
  if (!st && r->c.reset_after) st = lurn_buffer_ensure(&r->cell[CELL_DREC], 3, dshape);
  if (st || n == 0) return st;
  const float *h = lurn_tensor_data(r->h), *rh = lurn_tensor_data(r->cell[CELL_RH]);
  float *drec = r->c.reset_after ? lurn_tensor_data(r->cell[CELL_DREC]) : NULL;
  float *drbias = r->c.use_bias && r->c.reset_after ? (float *)lurn_tensor_data(l->grads[2]) + w : NULL;
  lurn_activation act = r->c.activation, ract = r->c.recurrent_activation;
  for (int64_t s = steps - 1; s >= 0; s--) {
    lurn_rnn_add_dy(r, dy, s);
    if (!r->c.reset_after) {
      gru_step_back_reset_before(l, s);
      lurn_tensor *swap = r->dh;
      r->dh = r->dh_next, r->dh_next = swap;
      continue;
    }
    int64_t t = lurn_rnn_time(r, s);
    const float *gates = (const float *)lurn_tensor_data(r->xw) + t * w;
    float *dz = (float *)lurn_tensor_data(r->dg) + t * w, *dzrec = drec + t * w;
    const float *dh = lurn_tensor_data(r->dh);
    float *dh_next = lurn_tensor_data(r->dh_next);
    const float *m = lurn_rnn_mask_of(l, r, s);
#pragma omp parallel for if (lurn_rnn_parallel(r)) schedule(static)
    for (int64_t i = 0; i < n; i++) {
      const float *g = gates + i * steps * w;
      float *d = dz + i * steps * w, *dr = dzrec + i * steps * w;
      int64_t at = (i * steps + s) * u;
      if (m && m[i * steps] == 0) { /* a carried state: dL/dh goes on unchanged, no gate gradient */
        memset(d, 0, sizeof(float) * (size_t)w);
        memset(dr, 0, sizeof(float) * (size_t)w);
        memcpy(dh_next + i * u, dh + i * u, sizeof(float) * (size_t)u);
        continue;
      }
      const float *hp = lurn_rnn_prev(r, h, 0, i, s);
      for (int64_t j = 0; j < u; j++) {
        float zg = g[j], rg = g[u + j], hh = g[2 * u + j];
        float dhv = dh[i * u + j], hprev = hp ? hp[j] : 0.0f;
        float dzz = dhv * (hprev - hh) * lurn_rnn_act_grad(ract, zg);
        float dah = dhv * (1.0f - zg) * lurn_rnn_act_grad(act, hh);
        float dzr = dah * rh[at + j] * lurn_rnn_act_grad(ract, rg);
        d[j] = dr[j] = dzz;
        d[u + j] = dr[u + j] = dzr;
        d[2 * u + j] = dah;
        dr[2 * u + j] = dah * rg;
        dh_next[i * u + j] = dhv * zg;
      }
    }
    if (s > 0 || r->c.initial_state) lurn_rnn_dh_prev(l, dzrec, steps * w, 0, 3, dh_next, 1.0f);
    lurn_tensor *swap = r->dh;
    r->dh = r->dh_next, r->dh_next = swap;
  }
  if (!drec) lurn_rnn_recurrent_grad(l, lurn_tensor_data(r->dg), w, 0, 2); /* the z, r blocks */
  if (drec) { /* over the whole sequence: the recurrent kernel's and the recurrent bias's gradients */
    lurn_rnn_recurrent_grad(l, drec, w, 0, 3);
    if (drbias)
      for (int64_t i = 0; i < n * steps; i++)
        for (int64_t j = 0; j < w; j++) drbias[j] += drec[i * w + j];
  }
  lurn_rnn_finish_backward(l, x, dx, NULL);
  return LURN_OK;
}

static const lurn_layer_ops gru_ops = {.type = "GRU",
                                       .build = gru_build,
                                       .forward = gru_forward,
                                       .backward = gru_backward,
                                       .destroy = lurn_rnn_destroy,
                                       .mask_rule = lurn_rnn_mask_rule};

lurn_layer *lurn_gru_new(const lurn_recurrent_config *c) {
  return lurn_rnn_new(&gru_ops, c, 3);
}
