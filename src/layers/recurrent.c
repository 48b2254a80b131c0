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
  if (!(c->dropout >= 0 && c->dropout < 1) || !(c->recurrent_dropout >= 0 && c->recurrent_dropout < 1)) {
    int rec = !(c->recurrent_dropout >= 0 && c->recurrent_dropout < 1);
    lurn_fail(LURN_EINVAL, "%s: %s must be in [0, 1), got %g", ops->type,
              rec ? "recurrent_dropout" : "dropout", (double)(rec ? c->recurrent_dropout : c->dropout));
    return NULL;
  }
  if (c->initial_state && (c->timesteps < 1 || c->features < 1 || c->timesteps > ((int64_t)1 << 40) ||
                           c->features > ((int64_t)1 << 40))) {
    lurn_fail(LURN_EINVAL,
              "%s: initial_state needs the sequence's timesteps and features (positive), got %lld, %lld", ops->type,
              (long long)c->timesteps, (long long)c->features);
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
  r->nstates = gates == 4 ? 2 : 1; /* the LSTM carries c beside h */
  lurn_layer *l = lurn_layer_alloc(ops, r);
  if (!l) free(r);
  return l;
}

void lurn_rnn_destroy(lurn_layer *l) {
  lurn_rnn *r = l->impl;
  lurn_tensor *bufs[] = {r->xw,      r->h,         r->dg,      r->dh,    r->dh_next, r->hprev,
                         r->cell[0], r->cell[1],   r->cell[2], r->mask,  r->xdrop,   r->rmask,
                         r->tmp,     r->step_mask, r->xseq,    r->dxseq, r->init};
  for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) lurn_tensor_free(bufs[i]);
  free(r);
}

lurn_status lurn_rnn_build(lurn_layer *l, lurn_rng *rng, int bias_rows) {
  lurn_rnn *r = l->impl;
  const char *type = l->ops->type;
  int64_t units = r->c.units, width, seq[2] = {l->in_shape[0], l->in_shape[1]};
  if (!lurn_mul_i64(units, r->gates, &width))
    return lurn_fail(LURN_EINVAL, "%s: units = %lld is too large", type, (long long)units);
  if (r->c.initial_state) { /* x packs the sequence and the initial states */
    int64_t want = 0, states = 0;
    seq[0] = r->c.timesteps, seq[1] = r->c.features;
    int ok = lurn_mul_i64(seq[0], seq[1], &want) && lurn_mul_i64(units, r->nstates, &states) &&
             lurn_add_i64(want, states, &want);
    if (!ok || l->in_ndim != 1 || l->in_shape[0] != want)
      return lurn_fail(LURN_EINVAL,
                       "%s: with initial_state, expected per sample the sequence (%lld, %lld) and %d state%s of "
                       "%lld units packed, %lld values",
                       type, (long long)seq[0], (long long)seq[1], r->nstates, r->nstates == 1 ? "" : "s",
                       (long long)units, (long long)want);
  } else if (l->in_ndim != 2) {
    return lurn_fail(LURN_EINVAL,
                     "%s: expected inputs (batch, timesteps, features), got a sample of %d dimension%s", type,
                     l->in_ndim, l->in_ndim == 1 ? "" : "s");
  }
  if (seq[0] < 1 || seq[1] < 1)
    return lurn_fail(LURN_EINVAL,
                     "%s: the input needs at least one timestep and one feature, got (%lld, %lld)", type,
                     (long long)seq[0], (long long)seq[1]);
  int64_t kshape[2] = {seq[1], width}, rshape[2] = {units, width}, bshape[2] = {bias_rows, width};
  if (!lurn_layer_add_param(l, "kernel", 2, kshape, &r->c.kernel_initializer, rng, 1) ||
      !lurn_layer_add_param(l, "recurrent_kernel", 2, rshape, &r->c.recurrent_initializer, rng, 1))
    return LURN_ENOMEM;
  if (r->c.use_bias) {
    int nd = bias_rows > 1 ? 2 : 1;
    if (!lurn_layer_add_param(l, "bias", nd, nd == 2 ? bshape : bshape + 1, &r->c.bias_initializer, rng, 1))
      return LURN_ENOMEM;
  }
  l->out_ndim = r->c.return_sequences ? 2 : 1;
  l->out_shape[0] = r->c.return_sequences ? seq[0] : units;
  l->out_shape[1] = units;
  if (r->c.return_state) { /* the output, then the states, packed (T*units stays below 2^61: x's T*F does) */
    l->out_ndim = 1;
    l->out_shape[0] = (r->c.return_sequences ? seq[0] * units : units) + r->nstates * units;
  }
  return LURN_OK;
}

/* count dropout multipliers: 0, or 1 / (1 - rate) with probability 1 - rate (as the Dropout
 * layer: kept when a 32-bit uniform integer is >= rate * 2^32). */
static void draw_mask(lurn_rng *rng, float rate, float *m, int64_t count) {
  float scale = 1.0f / (1.0f - rate);
  uint32_t threshold = (uint32_t)((double)rate * 4294967296.0);
  lurn_rng_fill_u32(rng, (uint32_t *)m, count);
  for (int64_t i = 0; i < count; i++) {
    uint32_t bits;
    memcpy(&bits, &m[i], sizeof bits);
    m[i] = bits >= threshold ? scale : 0.0f;
  }
}

/* Draws in_masks input masks (N, features) and writes xdrop: x through each, the same
 * mask at every timestep. The input projection and dL/dkernel then read xdrop. */
static lurn_status drop_inputs(lurn_rnn *r, const lurn_tensor *x) {
  int64_t k = r->in_masks, n = r->n, steps = r->steps, f = r->features;
  int64_t mshape[3] = {k, n, f}, xshape[4] = {k, n, steps, f};
  lurn_status st = lurn_buffer_ensure(&r->mask, 3, mshape);
  if (!st) st = lurn_buffer_ensure(&r->xdrop, 4, xshape);
  if (st) return st;
  float *m = lurn_tensor_data(r->mask), *out = lurn_tensor_data(r->xdrop);
  draw_mask(r->c.rng, r->c.dropout, m, k * n * f);
  const float *in = lurn_tensor_data(x);
  for (int64_t g = 0; g < k; g++)
    for (int64_t i = 0; i < n; i++)
      for (int64_t t = 0; t < steps; t++)
        for (int64_t j = 0; j < f; j++)
          out[((g * n + i) * steps + t) * f + j] = in[(i * steps + t) * f + j] * m[(g * n + i) * f + j];
  return LURN_OK;
}

/* With initial_state: x (N, T*F + nstates*units) into xseq (N, T, F) and init. */
static lurn_status unpack_input(lurn_rnn *r, const lurn_tensor *x) {
  int64_t n = x->shape[0], tf = r->c.timesteps * r->c.features, su = r->nstates * r->c.units;
  int64_t xshape[3] = {n, r->c.timesteps, r->c.features}, ishape[2] = {n, su};
  lurn_status st = lurn_buffer_ensure(&r->xseq, 3, xshape);
  if (!st) st = lurn_buffer_ensure(&r->init, 2, ishape);
  if (st) return st;
  const float *in = lurn_tensor_data(x);
  float *seq = lurn_tensor_data(r->xseq), *init = lurn_tensor_data(r->init);
  for (int64_t i = 0; i < n; i++) {
    memcpy(seq + i * tf, in + i * (tf + su), sizeof(float) * (size_t)tf);
    memcpy(init + i * su, in + i * (tf + su) + tf, sizeof(float) * (size_t)su);
  }
  return LURN_OK;
}

lurn_status lurn_rnn_begin_forward(lurn_layer *l, const lurn_tensor *x, int training) {
  lurn_rnn *r = l->impl;
  /* the step mask of this forward, kept so that backward can insist on the same one */
  r->had_mask = l->mask != NULL;
  if (l->mask) {
    lurn_status st = lurn_buffer_ensure(&r->step_mask, 2, l->mask->shape);
    if (st || (st = lurn_tensor_copy_into(r->step_mask, l->mask))) return st;
  }
  r->n = x->shape[0];
  if (r->c.initial_state) {
    lurn_status st = unpack_input(r, x);
    if (st) return st;
    x = r->xseq;
  }
  r->steps = x->shape[1];
  r->features = x->shape[2];
  if (l->mask && (l->mask->ndim != 2 || l->mask->shape[0] != r->n || l->mask->shape[1] != r->steps))
    return lurn_fail(LURN_EINVAL, "%s: the mask must be (batch, steps) = (%lld, %lld)", l->ops->type,
                     (long long)r->n, (long long)r->steps);
  int drop = training && r->c.dropout > 0, rdrop = training && r->c.recurrent_dropout > 0;
  r->in_masks = drop ? (rdrop ? r->gates : 1) : 0;
  r->rec_masks = rdrop ? r->gates : 0;
  int64_t n = r->n, units = r->c.units, width = r->gates * units, rows = n * r->steps, f = r->features;
  int64_t gshape[3] = {n, r->steps, width}, hshape[3] = {n, r->steps, units};
  int64_t pshape[4] = {r->rec_masks ? r->rec_masks : 1, n, r->steps, units},
          rshape[3] = {r->rec_masks, n, units};
  lurn_status st = lurn_buffer_ensure(&r->xw, 3, gshape);
  if (!st) st = lurn_buffer_ensure(&r->h, 3, hshape);
  if (!st) st = lurn_buffer_ensure(&r->hprev, 4, pshape);
  if (!st && r->rec_masks) st = lurn_buffer_ensure(&r->rmask, 3, rshape);
  if (st || rows == 0) return st;
  if (r->rec_masks)
    draw_mask(r->c.rng, r->c.recurrent_dropout, lurn_tensor_data(r->rmask), r->rec_masks * n * units);
  if (r->in_masks && (st = drop_inputs(r, x))) return st;
  float *xw = lurn_tensor_data(r->xw);
  const float *bias = r->c.use_bias ? lurn_tensor_data(l->params[2]) : NULL,
              *kernel = lurn_tensor_data(l->params[0]);
  if (bias) { /* start from the (input) bias so that sgemm accumulates onto it */
#pragma omp parallel for if (rows * width > LURN_PARALLEL_MIN) schedule(static)
    for (int64_t i = 0; i < rows; i++) memcpy(xw + i * width, bias, sizeof(float) * (size_t)width);
  }
  if (r->in_masks <= 1) {
    const float *in = lurn_tensor_data(r->in_masks ? r->xdrop : x);
    lurn_sgemm(0, 0, rows, width, f, 1.0f, in, f, kernel, width, bias ? 1.0f : 0.0f, xw, width);
  } else { /* each gate's block from its own masked inputs */
    for (int64_t g = 0; g < r->gates; g++)
      lurn_sgemm(0, 0, rows, units, f, 1.0f, (const float *)lurn_tensor_data(r->xdrop) + g * rows * f, f,
                 kernel + g * units, width, bias ? 1.0f : 0.0f, xw + g * units, width);
  }
  return LURN_OK;
}

void lurn_rnn_begin_step(lurn_layer *l, int64_t s) {
  lurn_rnn *r = l->impl;
  int64_t n = r->n, steps = r->steps, u = r->c.units, t = lurn_rnn_time(r, s),
          slots = r->rec_masks ? r->rec_masks : 1;
  const float *h = lurn_tensor_data(r->h), *rm = r->rec_masks ? lurn_tensor_data(r->rmask) : NULL;
  float *hp = lurn_tensor_data(r->hprev);
  for (int64_t g = 0; g < slots; g++)
    for (int64_t i = 0; i < n; i++) {
      float *to = hp + ((g * n + i) * steps + t) * u;
      const float *from = lurn_rnn_prev(r, h, 0, i, s);
      if (!from) {
        memset(to, 0, sizeof(float) * (size_t)u);
        continue;
      }
      if (!rm)
        memcpy(to, from, sizeof(float) * (size_t)u);
      else
        for (int64_t j = 0; j < u; j++) to[j] = from[j] * rm[(g * n + i) * u + j];
    }
}

void lurn_rnn_recurrent_product(lurn_layer *l, int64_t s, int g0, int ng, float *out, int64_t ldo) {
  lurn_rnn *r = l->impl;
  if (s == 0 && !r->c.initial_state) return;
  int64_t n = r->n, u = r->c.units, width = r->gates * u, ld = r->steps * u;
  const float *rk = lurn_tensor_data(l->params[1]);
  if (!r->rec_masks) {
    lurn_sgemm(0, 0, n, ng * u, u, 1.0f, lurn_rnn_hprev_of(r, 0, s), ld, rk + g0 * u, width, 1.0f, out, ldo);
    return;
  }
  for (int g = g0; g < g0 + ng; g++)
    lurn_sgemm(0, 0, n, u, u, 1.0f, lurn_rnn_hprev_of(r, g, s), ld, rk + g * u, width, 1.0f,
               out + (g - g0) * u, ldo);
}

/* The values of one sample's output without the states, and with them (y's row). */
static int64_t output_size(const lurn_rnn *r) {
  return r->c.return_sequences ? r->steps * r->c.units : r->c.units;
}
static int64_t row_size(const lurn_rnn *r) {
  return output_size(r) + (r->c.return_state ? r->nstates * r->c.units : 0);
}

void lurn_rnn_write_output(const lurn_layer *l, lurn_tensor *y, const float *c) {
  const lurn_rnn *r = l->impl;
  int64_t units = r->c.units, steps = r->steps, out_size = output_size(r), row = row_size(r);
  const float *h = lurn_tensor_data(r->h);
  float *out = lurn_tensor_data(y);
  for (int64_t i = 0; i < r->n; i++) {
    const float *last = h + (i * steps + steps - 1) * units;
    float *to = out + i * row;
    memcpy(to, r->c.return_sequences ? h + i * steps * units : last, sizeof(float) * (size_t)out_size);
    if (!r->c.return_state) continue;
    memcpy(to + out_size, last, sizeof(float) * (size_t)units);
    if (c) memcpy(to + out_size + units, c + (i * steps + steps - 1) * units, sizeof(float) * (size_t)units);
  }
}

lurn_mask_rule lurn_rnn_mask_rule(const lurn_layer *l) {
  const lurn_rnn *r = l->impl;
  return r->c.return_sequences ? LURN_MASK_KEEP : LURN_MASK_CONSUME;
}

void lurn_rnn_carry_masked(const lurn_layer *l, int64_t s, float *state, int k) {
  const lurn_rnn *r = l->impl;
  const float *m = lurn_rnn_mask_of(l, r, s);
  const int64_t width = r->c.units;
  if (!m) return;
  for (int64_t i = 0; i < r->n; i++) {
    if (m[i * r->steps] != 0) continue;
    float *to = state + (i * r->steps + s) * width;
    const float *from = lurn_rnn_prev(r, state, k, i, s);
    if (!from)
      memset(to, 0, sizeof(float) * (size_t)width);
    else
      memcpy(to, from, sizeof(float) * (size_t)width);
  }
}

void lurn_rnn_carry_dh_masked(lurn_layer *l, int64_t s) {
  lurn_rnn *r = l->impl;
  const float *m = lurn_rnn_mask_of(l, r, s);
  int64_t u = r->c.units;
  const float *dh = lurn_tensor_data(r->dh);
  float *next = lurn_tensor_data(r->dh_next);
  for (int64_t i = 0; i < r->n; i++)
    if (m[i * r->steps] == 0) memcpy(next + i * u, dh + i * u, sizeof(float) * (size_t)u);
  lurn_tensor *swap = r->dh;
  r->dh = r->dh_next, r->dh_next = swap;
}

lurn_status lurn_rnn_begin_backward(lurn_layer *l, const lurn_tensor *x) {
  lurn_rnn *r = l->impl;
  if (x->shape[0] != r->n)
    return lurn_fail(LURN_EINVAL, "%s: backward needs the forward of the same batch first (forward saw %lld samples, "
                     "backward got %lld)", l->ops->type, (long long)r->n, (long long)x->shape[0]);
  if (r->had_mask != (l->mask != NULL) ||
      (l->mask && memcmp(lurn_tensor_data(l->mask), lurn_tensor_data(r->step_mask),
                         sizeof(float) * (size_t)lurn_tensor_numel(l->mask)) != 0))
    return lurn_fail(LURN_EINVAL, "%s: backward needs the mask of its forward (%s)", l->ops->type,
                     r->had_mask ? "the forward had one" : "the forward had none");
  int64_t n = r->n, steps = r->steps, units = r->c.units, width = r->gates * units;
  int64_t gshape[3] = {n, steps, width}, hshape[2] = {n, units};
  /* before a mask: a step's dL/dh(t-1) for one gate, or dL/dx for one gate's inputs */
  int64_t tshape[1] = {n * (r->in_masks > 1 && steps * r->features > units ? steps * r->features : units)};
  lurn_status st = lurn_buffer_ensure(&r->dg, 3, gshape);
  if (!st) st = lurn_buffer_ensure(&r->dh, 2, hshape);
  if (!st) st = lurn_buffer_ensure(&r->dh_next, 2, hshape);
  if (!st && (r->rec_masks || r->in_masks > 1)) st = lurn_buffer_ensure(&r->tmp, 1, tshape);
  int64_t xshape[3] = {n, steps, r->features};
  if (!st && r->c.initial_state) st = lurn_buffer_ensure(&r->dxseq, 3, xshape);
  if (st) return st;
  lurn_tensor_fill(r->dh, 0);
  if (n * steps == 0) lurn_tensor_fill(l->grads[0], 0); /* the cells stop here */
  lurn_tensor_fill(l->grads[1], 0);
  if (r->c.use_bias) lurn_tensor_fill(l->grads[2], 0);
  return LURN_OK;
}

void lurn_rnn_add_dy(const lurn_rnn *r, const lurn_tensor *dy, int64_t s) {
  int64_t units = r->c.units;
  if (!r->c.return_sequences && s != r->steps - 1) return;
  const float *g = lurn_tensor_data(dy) + (r->c.return_sequences ? s * units : 0);
  int64_t stride = row_size(r);
  float *dh = lurn_tensor_data(r->dh);
  for (int64_t i = 0; i < r->n; i++)
    for (int64_t j = 0; j < units; j++) dh[i * units + j] += g[i * stride + j];
  if (r->c.return_state && s == r->steps - 1) lurn_rnn_add_state_grad(r, dy, 0, dh);
}

void lurn_rnn_add_state_grad(const lurn_rnn *r, const lurn_tensor *dy, int k, float *into) {
  int64_t units = r->c.units, stride = row_size(r);
  const float *g = (const float *)lurn_tensor_data(dy) + output_size(r) + k * units;
  for (int64_t i = 0; i < r->n; i++)
    for (int64_t j = 0; j < units; j++) into[i * units + j] += g[i * stride + j];
}

void lurn_rnn_dh_prev(lurn_layer *l, const float *dgates, int64_t ld, int g0, int ng, float *dh_next,
                      float beta) {
  lurn_rnn *r = l->impl;
  int64_t n = r->n, u = r->c.units, width = r->gates * u;
  const float *rk = lurn_tensor_data(l->params[1]);
  if (!r->rec_masks) {
    lurn_sgemm(0, 1, n, u, ng * u, 1.0f, dgates, ld, rk + g0 * u, width, beta, dh_next, u);
    return;
  }
  float *tmp = lurn_tensor_data(r->tmp);
  const float *rm = lurn_tensor_data(r->rmask);
  for (int g = g0; g < g0 + ng; g++) {
    lurn_sgemm(0, 1, n, u, u, 1.0f, dgates + (g - g0) * u, ld, rk + g * u, width, 0.0f, tmp, u);
    int overwrite = g == g0 && beta == 0.0f;
    const float *m = rm + g * n * u;
    for (int64_t i = 0; i < n * u; i++) dh_next[i] = (overwrite ? 0.0f : dh_next[i]) + tmp[i] * m[i];
  }
}

void lurn_rnn_recurrent_grad(lurn_layer *l, const float *dgates, int64_t ld, int g0, int ng) {
  lurn_rnn *r = l->impl;
  int64_t u = r->c.units, width = r->gates * u, rows = r->n * r->steps;
  const float *hp = lurn_tensor_data(r->hprev);
  float *grk = lurn_tensor_data(l->grads[1]);
  if (!r->rec_masks) {
    lurn_sgemm(1, 0, u, ng * u, rows, 1.0f, hp, u, dgates, ld, 1.0f, grk + g0 * u, width);
    return;
  }
  for (int g = g0; g < g0 + ng; g++)
    lurn_sgemm(1, 0, u, u, rows, 1.0f, hp + g * rows * u, u, dgates + (g - g0) * u, ld, 1.0f, grk + g * u,
               width);
}

/* With initial_state: dx (N, T*F + nstates*units) from dxseq, dL/dh0 (r->dh) and dc0. */
static void pack_dx(lurn_rnn *r, lurn_tensor *dx, const float *dc0) {
  int64_t n = r->n, u = r->c.units, tf = r->steps * r->features, su = r->nstates * u;
  const float *dseq = lurn_tensor_data(r->dxseq), *dh0 = lurn_tensor_data(r->dh);
  float *d = lurn_tensor_data(dx);
  for (int64_t i = 0; i < n; i++) {
    float *row = d + i * (tf + su);
    memcpy(row, dseq + i * tf, sizeof(float) * (size_t)tf);
    memcpy(row + tf, dh0 + i * u, sizeof(float) * (size_t)u);
    if (r->nstates > 1) {
      if (dc0)
        memcpy(row + tf + u, dc0 + i * u, sizeof(float) * (size_t)u);
      else
        memset(row + tf + u, 0, sizeof(float) * (size_t)u);
    }
  }
}

static void finish_seq(lurn_layer *l, const lurn_tensor *x, lurn_tensor *dx);

void lurn_rnn_finish_backward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *dx, const float *dc0) {
  lurn_rnn *r = l->impl;
  if (r->c.initial_state && dx) { /* dxseq: sized by begin_backward */
    finish_seq(l, lurn_rnn_seq(r, x), r->dxseq);
    pack_dx(r, dx, dc0);
    return;
  }
  finish_seq(l, lurn_rnn_seq(r, x), dx);
}

/* dL/dkernel, dL/dbias[0] and dL/dx from dg, x the sequence (N, T, F). */
static void finish_seq(lurn_layer *l, const lurn_tensor *x, lurn_tensor *dx) {
  lurn_rnn *r = l->impl;
  int64_t n = r->n, steps = r->steps, u = r->c.units, width = r->gates * u, rows = n * steps, f = r->features;
  const float *dg = lurn_tensor_data(r->dg), *kernel = lurn_tensor_data(l->params[0]);
  const float *in = lurn_tensor_data(r->in_masks ? r->xdrop : x);
  float *gk = lurn_tensor_data(l->grads[0]);
  if (r->in_masks <= 1)
    lurn_sgemm(1, 0, f, width, rows, 1.0f, in, f, dg, width, 0.0f, gk, width);
  else
    for (int64_t g = 0; g < r->gates; g++)
      lurn_sgemm(1, 0, f, u, rows, 1.0f, in + g * rows * f, f, dg + g * u, width, 0.0f, gk + g * u, width);
  if (r->c.use_bias) { /* the input bias: row 0 of GRU's two */
    float *db = lurn_tensor_data(l->grads[2]);
    for (int64_t i = 0; i < rows; i++)
      for (int64_t j = 0; j < width; j++) db[j] += dg[i * width + j];
  }
  if (!dx) return;
  float *d = lurn_tensor_data(dx);
  const float *m = r->in_masks ? lurn_tensor_data(r->mask) : NULL;
  if (r->in_masks <= 1) {
    lurn_sgemm(0, 1, rows, f, width, 1.0f, dg, width, kernel, width, 0.0f, d, f);
    if (m)
      for (int64_t i = 0; i < n; i++)
        for (int64_t t = 0; t < steps; t++)
          for (int64_t j = 0; j < f; j++) d[(i * steps + t) * f + j] *= m[i * f + j];
    return;
  }
  float *tmp = lurn_tensor_data(r->tmp);
  for (int64_t g = 0; g < r->gates; g++) { /* each gate's inputs through its own mask */
    lurn_sgemm(0, 1, rows, f, u, 1.0f, dg + g * u, width, kernel + g * u, width, 0.0f, tmp, f);
    for (int64_t i = 0; i < n; i++)
      for (int64_t t = 0; t < steps; t++)
        for (int64_t j = 0; j < f; j++) {
          int64_t at = (i * steps + t) * f + j;
          d[at] = (g == 0 ? 0.0f : d[at]) + tmp[at] * m[(g * n + i) * f + j];
        }
  }
}
