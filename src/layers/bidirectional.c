/* Bidirectional: a recurrent layer and its twin that reads the sequence the other way
 * (Keras' Bidirectional), both on the same x (N, steps, features), their outputs merged:
 * concatenated on the last axis, summed, multiplied or averaged. A twin that returns
 * sequences gives them in the order it processed them (reversed time), so they are
 * reversed back first: step t of both outputs then describes step t of the input, as in
 * Keras.
 *
 * A mask (l->mask) goes to both layers as it is: each reads it in its own processing
 * order (states carried over masked steps). With return_sequences both outputs are 0 at
 * masked steps, and no gradient enters there: Keras' Bidirectional sets its layers'
 * zero_output_for_mask (a lone recurrent layer repeats its last output instead). The
 * wrapper does with a mask what its forward layer does (keeps it with return_sequences,
 * consumes it without).
 *
 * States, as Keras: with the layers' return_state, y is (N, P) packed per sample: the
 * merged output flattened, then the forward layer's h (and c), then the backward's; with
 * their initial_state, x is (N, T*F + 2*k*units): the sequence, then the forward layer's
 * states, then the backward's, and each layer reads the sequence and its own states
 * (copied into xf, xb). merge_mode none (Keras' None) packs the two outputs per sample,
 * forward's then backward's (in the input's time order), before any states.
 *
 * A container of its two layers (children()), whose parameters the model trains and
 * claims; like a graph, it tells their observers of their forward and backward. */
#include <stdlib.h>
#include <string.h>

#include "layers/recurrent.h" /* the layers' outputs and states, from their configs */
#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

typedef struct {
  lurn_layer *fwd, *bwd;
  lurn_bidirectional_merge merge;
  /* the layers' outputs as they wrote them (packed with their states under return_state)
   * and their gradients */
  lurn_tensor *yf_own, *yb_own, *dyf_own, *dyb_own;
  lurn_tensor *yf, *yb;   /* the two outputs alone, yb in the input's time order */
  lurn_tensor *dyf, *dyb; /* their gradients, dyb in the input's time order */
  lurn_tensor *xf, *xb;   /* with initial_state: the sequence and each layer's states */
  lurn_tensor *dxf, *dxb; /* the layers' dL/dx before they are summed into dx */
  int64_t steps;          /* of the outputs: 1 without return_sequences */
  int64_t units, states;  /* values of the states of one layer, per sample */
  int return_state, initial_state;
  int64_t seq_size; /* with initial_state: timesteps * features */
} bidirectional;

/* The recurrent layer's output and states (src/layers/recurrent.h), read from its config. */
static int layout_of(const lurn_layer *inner, int64_t *steps, int64_t *units, int64_t *states, int *ret,
                     int *init, int64_t *seq_size) {
  if (inner->ops->destroy != lurn_rnn_destroy) return 0;
  const lurn_rnn *r = inner->impl;
  *units = r->c.units;
  *steps = r->c.return_sequences ? (r->c.initial_state ? r->c.timesteps : inner->in_shape[0]) : 1;
  *states = r->nstates * r->c.units;
  *ret = r->c.return_state, *init = r->c.initial_state;
  *seq_size = r->c.initial_state ? r->c.timesteps * r->c.features : 0;
  return 1;
}

/* The values of one sample of the merged output, and of y's whole row. */
static int64_t merged_size(const bidirectional *b) {
  int64_t o = b->steps * b->units;
  return b->merge == LURN_BIDIRECTIONAL_CONCAT || b->merge == LURN_BIDIRECTIONAL_NONE ? 2 * o : o;
}
static int64_t row_size(const bidirectional *b) {
  return merged_size(b) + (b->return_state ? 2 * b->states : 0);
}

static lurn_status bidirectional_build(lurn_layer *l, lurn_rng *rng) {
  bidirectional *b = l->impl;
  int64_t steps[2], units[2], states[2], seq[2];
  int ret[2], init[2];
  if (!layout_of(b->fwd, &steps[0], &units[0], &states[0], &ret[0], &init[0], &seq[0]) ||
      !layout_of(b->bwd, &steps[1], &units[1], &states[1], &ret[1], &init[1], &seq[1]))
    return lurn_fail(LURN_EINVAL, "Bidirectional: both layers must be recurrent (SimpleRNN, LSTM, GRU)");
  if (ret[0] != ret[1] || init[0] != init[1] || states[0] != states[1] || seq[0] != seq[1])
    return lurn_fail(LURN_EINVAL,
                     "Bidirectional: the forward and backward layers must agree on return_state, "
                     "initial_state and their states");
  b->return_state = ret[0], b->initial_state = init[0], b->states = states[0], b->seq_size = seq[0];
  int64_t inner_shape[1] = {seq[0] + states[0]};
  if (b->initial_state && (l->in_ndim != 1 || l->in_shape[0] != seq[0] + 2 * states[0]))
    return lurn_fail(LURN_EINVAL,
                     "Bidirectional: with initial_state, expected per sample the sequence and both layers' "
                     "states packed, %lld values",
                     (long long)(seq[0] + 2 * states[0]));
  int nd = b->initial_state ? 1 : l->in_ndim;
  const int64_t *shape = b->initial_state ? inner_shape : l->in_shape;
  lurn_status st = lurn_layer_build(b->fwd, nd, shape, rng);
  if (!st) st = lurn_layer_build(b->bwd, nd, shape, rng);
  if (st) return st;
  if (b->initial_state || b->return_state) { /* the steps of a sequence output */
    layout_of(b->fwd, &steps[0], &units[0], &states[0], &ret[0], &init[0], &seq[0]);
    layout_of(b->bwd, &steps[1], &units[1], &states[1], &ret[1], &init[1], &seq[1]);
  } else {
    steps[0] = b->fwd->out_ndim == 2 ? b->fwd->out_shape[0] : 1;
    steps[1] = b->bwd->out_ndim == 2 ? b->bwd->out_shape[0] : 1;
  }
  const lurn_rnn *rf = b->fwd->impl, *rb = b->bwd->impl;
  if (steps[0] != steps[1] || units[0] != units[1] || rf->c.return_sequences != rb->c.return_sequences)
    return lurn_fail(LURN_EINVAL,
                     "Bidirectional: the forward and backward layers must give the same (units) or "
                     "(steps, units) outputs");
  b->steps = rf->c.return_sequences ? steps[0] : 1;
  b->units = units[0];
  if (b->return_state || b->merge == LURN_BIDIRECTIONAL_NONE) { /* one packed row a sample */
    l->out_ndim = 1;
    l->out_shape[0] = row_size(b);
    return LURN_OK;
  }
  l->out_ndim = rf->c.return_sequences ? 2 : 1;
  l->out_shape[0] = rf->c.return_sequences ? b->steps : b->units;
  l->out_shape[1] = b->units;
  if (b->merge == LURN_BIDIRECTIONAL_CONCAT) l->out_shape[l->out_ndim - 1] *= 2;
  return LURN_OK;
}

static int sequences(const bidirectional *b) {
  const lurn_rnn *r = b->fwd->impl;
  return r->c.return_sequences;
}

static lurn_status batch_like(lurn_tensor **buf, int64_t n, const lurn_layer *inner) {
  int64_t shape[LURN_MAX_DIMS] = {n};
  memcpy(shape + 1, inner->out_shape, sizeof(int64_t) * (size_t)inner->out_ndim);
  return lurn_buffer_ensure(buf, inner->out_ndim + 1, shape);
}

/* (N, steps * units): one layer's output alone */
static lurn_status output_buffer(lurn_tensor **buf, int64_t n, const bidirectional *b) {
  int64_t shape[2] = {n, b->steps * b->units};
  return lurn_buffer_ensure(buf, 2, shape);
}

/* dst = src with the steps of each sample in reverse order ((N, steps, units) packed, rows
 * of src_row values a sample, the steps first). */
static void reverse_steps(float *dst, const float *src, int64_t n, int64_t steps, int64_t units,
                          int64_t src_row) {
#pragma omp parallel for if (n * steps * units > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < n; i++)
    for (int64_t t = 0; t < steps; t++)
      memcpy(dst + (i * steps + t) * units, src + i * src_row + (steps - 1 - t) * units,
             sizeof(float) * (size_t)units);
}

/* With initial_state: each layer's input, the sequence and its own states. */
static lurn_status split_input(bidirectional *b, const lurn_tensor *x) {
  const int64_t n = x->shape[0], sz = b->seq_size, s = b->states, in_row = sz + 2 * s;
  int64_t shape[2] = {n, sz + s};
  lurn_status st = lurn_buffer_ensure(&b->xf, 2, shape);
  if (!st) st = lurn_buffer_ensure(&b->xb, 2, shape);
  if (st) return st;
  const float *in = lurn_tensor_data(x);
  float *f = lurn_tensor_data(b->xf), *r = lurn_tensor_data(b->xb);
  for (int64_t i = 0; i < n; i++) {
    memcpy(f + i * (sz + s), in + i * in_row, sizeof(float) * (size_t)sz);
    memcpy(r + i * (sz + s), in + i * in_row, sizeof(float) * (size_t)sz);
    memcpy(f + i * (sz + s) + sz, in + i * in_row + sz, sizeof(float) * (size_t)s);
    memcpy(r + i * (sz + s) + sz, in + i * in_row + sz + s, sizeof(float) * (size_t)s);
  }
  return LURN_OK;
}

static lurn_status bidirectional_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  bidirectional *b = l->impl;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st) return st;
  const int64_t n = x->shape[0];
  if ((st = batch_like(&b->yf_own, n, b->fwd)) || (st = batch_like(&b->yb_own, n, b->bwd)) ||
      (st = output_buffer(&b->yf, n, b)) || (st = output_buffer(&b->yb, n, b)))
    return st;
  if (b->initial_state && (st = split_input(b, x))) return st;
  const lurn_tensor *xf = b->initial_state ? b->xf : x, *xb = b->initial_state ? b->xb : x;
  b->fwd->preactivation = b->bwd->preactivation = NULL;
  b->fwd->mask = b->bwd->mask = l->mask;
  st = b->fwd->ops->forward(b->fwd, xf, b->yf_own, training);
  if (!st) st = lurn_layer_forward_done(b->fwd, b->yf_own);
  if (!st) st = b->bwd->ops->forward(b->bwd, xb, b->yb_own, training);
  if (!st) st = lurn_layer_forward_done(b->bwd, b->yb_own);
  b->fwd->mask = b->bwd->mask = NULL;
  if (st) return st;
  l->nested_penalty = b->fwd->nested_penalty + b->bwd->nested_penalty;
  const int64_t units = b->units, steps = b->steps, size = steps * units;
  const int64_t own_row = size + (b->return_state ? b->states : 0), row = row_size(b);
  /* the outputs alone, the backward one in the input's time order */
  float *f = lurn_tensor_data(b->yf), *r = lurn_tensor_data(b->yb);
  const float *fo = lurn_tensor_data(b->yf_own), *ro = lurn_tensor_data(b->yb_own);
  for (int64_t i = 0; i < n; i++) memcpy(f + i * size, fo + i * own_row, sizeof(float) * (size_t)size);
  reverse_steps(r, ro, n, steps, units, own_row); /* one step: a copy */
  float *out = lurn_tensor_data(y);
  const lurn_bidirectional_merge merge = b->merge;
  /* (sample i, step t) is element i*steps + t of the (N, steps) mask */
  const float *m = l->mask && sequences(b) ? lurn_tensor_data(l->mask) : NULL;
#pragma omp parallel for if (n * size > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < n; i++)
    for (int64_t t = 0; t < steps; t++) {
      const int zero = m && m[i * steps + t] == 0;
      const float *a = f + i * size + t * units, *c = r + i * size + t * units;
      float *o = out + i * row;
      for (int64_t j = 0; j < units; j++) {
        float av = zero ? 0.0f : a[j], cv = zero ? 0.0f : c[j];
        switch (merge) {
          case LURN_BIDIRECTIONAL_CONCAT:
            o[t * 2 * units + j] = av, o[t * 2 * units + units + j] = cv;
            break;
          case LURN_BIDIRECTIONAL_NONE:
            o[t * units + j] = av, o[size + t * units + j] = cv;
            break;
          case LURN_BIDIRECTIONAL_SUM:
            o[t * units + j] = av + cv;
            break;
          case LURN_BIDIRECTIONAL_MUL:
            o[t * units + j] = av * cv;
            break;
          case LURN_BIDIRECTIONAL_AVE:
            o[t * units + j] = (av + cv) * 0.5f;
            break;
        }
      }
    }
  if (b->return_state) { /* the forward layer's states, then the backward's */
    const int64_t at = merged_size(b), s = b->states;
    for (int64_t i = 0; i < n; i++) {
      memcpy(out + i * row + at, fo + i * own_row + size, sizeof(float) * (size_t)s);
      memcpy(out + i * row + at + s, ro + i * own_row + size, sizeof(float) * (size_t)s);
    }
  }
  return LURN_OK;
}

/* dx = the layers' dL/dx summed on the sequence, each one's dL/dstates after it. */
static void join_dx(const bidirectional *b, lurn_tensor *dx) {
  const int64_t n = dx->shape[0];
  float *d = lurn_tensor_data(dx);
  const float *f = lurn_tensor_data(b->dxf), *r = lurn_tensor_data(b->dxb);
  if (!b->initial_state) {
    const int64_t m = lurn_tensor_numel(dx);
#pragma omp parallel for if (m > LURN_PARALLEL_MIN) schedule(static)
    for (int64_t i = 0; i < m; i++) d[i] = f[i] + r[i];
    return;
  }
  const int64_t sz = b->seq_size, s = b->states, row = sz + 2 * s, inner = sz + s;
  for (int64_t i = 0; i < n; i++) {
    for (int64_t j = 0; j < sz; j++) d[i * row + j] = f[i * inner + j] + r[i * inner + j];
    memcpy(d + i * row + sz, f + i * inner + sz, sizeof(float) * (size_t)s);
    memcpy(d + i * row + sz + s, r + i * inner + sz, sizeof(float) * (size_t)s);
  }
}

static lurn_status bidirectional_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                          const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  (void)y, (void)fuse; /* linear activation, no fuses(): no flag applies */
  bidirectional *b = l->impl;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st) return st;
  const int64_t n = x->shape[0];
  if (!b->yf || b->yf->shape[0] != n)
    return lurn_fail(LURN_EINVAL, "Bidirectional: backward needs the forward of the same batch first");
  if ((st = batch_like(&b->dyf_own, n, b->fwd)) || (st = batch_like(&b->dyb_own, n, b->bwd)) ||
      (st = output_buffer(&b->dyf, n, b)) || (st = output_buffer(&b->dyb, n, b)))
    return st;
  const int64_t units = b->units, steps = b->steps, size = steps * units, row = row_size(b);
  const int64_t own_row = size + (b->return_state ? b->states : 0);
  const float *g = lurn_tensor_data(dy), *f = lurn_tensor_data(b->yf), *r = lurn_tensor_data(b->yb);
  float *df = lurn_tensor_data(b->dyf), *dr = lurn_tensor_data(b->dyb);
  const lurn_bidirectional_merge merge = b->merge;
  const float *m = l->mask && sequences(b) ? lurn_tensor_data(l->mask) : NULL;
#pragma omp parallel for if (n * size > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < n; i++)
    for (int64_t t = 0; t < steps; t++) {
      const float *gi = g + i * row;
      for (int64_t j = 0; j < units; j++) {
        const int64_t k = i * size + t * units + j, at = t * units + j;
        switch (merge) {
          case LURN_BIDIRECTIONAL_CONCAT:
            df[k] = gi[t * 2 * units + j], dr[k] = gi[t * 2 * units + units + j];
            break;
          case LURN_BIDIRECTIONAL_NONE:
            df[k] = gi[at], dr[k] = gi[size + at];
            break;
          case LURN_BIDIRECTIONAL_SUM:
            df[k] = dr[k] = gi[at];
            break;
          case LURN_BIDIRECTIONAL_MUL:
            df[k] = gi[at] * r[k], dr[k] = gi[at] * f[k];
            break;
          case LURN_BIDIRECTIONAL_AVE:
            df[k] = dr[k] = gi[at] * 0.5f;
            break;
        }
        if (m && m[i * steps + t] == 0) df[k] = dr[k] = 0.0f; /* a zeroed output: no gradient enters there */
      }
    }
  /* each layer's gradient in its own layout: the backward one's steps in its (processing)
   * order, then the gradients of its states */
  float *dfo = lurn_tensor_data(b->dyf_own), *dro = lurn_tensor_data(b->dyb_own);
  for (int64_t i = 0; i < n; i++) memcpy(dfo + i * own_row, df + i * size, sizeof(float) * (size_t)size);
  if (own_row == size) {
    reverse_steps(dro, dr, n, steps, units, size);
  } else {
    for (int64_t i = 0; i < n; i++)
      for (int64_t t = 0; t < steps; t++)
        memcpy(dro + i * own_row + t * units, dr + i * size + (steps - 1 - t) * units,
               sizeof(float) * (size_t)units);
    const int64_t at = merged_size(b), s = b->states;
    for (int64_t i = 0; i < n; i++) {
      memcpy(dfo + i * own_row + size, g + i * row + at, sizeof(float) * (size_t)s);
      memcpy(dro + i * own_row + size, g + i * row + at + s, sizeof(float) * (size_t)s);
    }
  }
  const lurn_tensor *xf = b->initial_state ? b->xf : x, *xb = b->initial_state ? b->xb : x;
  if (dx) {
    if ((st = lurn_buffer_ensure(&b->dxf, xf->ndim, xf->shape)) ||
        (st = lurn_buffer_ensure(&b->dxb, xb->ndim, xb->shape)))
      return st;
  }
  b->fwd->mask = b->bwd->mask = l->mask;
  st = b->fwd->ops->backward(b->fwd, xf, b->yf_own, b->dyf_own, dx ? b->dxf : NULL, 0);
  if (!st) {
    lurn_layer_backward_done(b->fwd);
    st = b->bwd->ops->backward(b->bwd, xb, b->yb_own, b->dyb_own, dx ? b->dxb : NULL, 0);
  }
  b->fwd->mask = b->bwd->mask = NULL;
  if (st) return st;
  lurn_layer_backward_done(b->bwd);
  if (dx) join_dx(b, dx);
  return LURN_OK;
}

static int bidirectional_children(const lurn_layer *l, lurn_layer **out, int max) {
  const bidirectional *b = l->impl;
  int n = 0;
  if (n < max) out[n++] = b->fwd;
  if (n < max) out[n++] = b->bwd;
  return n;
}

static lurn_mask_rule bidirectional_mask_rule(const lurn_layer *l) {
  const bidirectional *b = l->impl;
  return lurn_layer_mask_rule(b->fwd);
}

static void bidirectional_destroy(lurn_layer *l) {
  bidirectional *b = l->impl;
  lurn_layer_free(b->fwd);
  lurn_layer_free(b->bwd);
  lurn_tensor *bufs[] = {b->yf_own, b->yb_own, b->dyf_own, b->dyb_own, b->yf,  b->yb,
                         b->dyf,    b->dyb,    b->xf,      b->xb,      b->dxf, b->dxb};
  for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) lurn_tensor_free(bufs[i]);
  free(b);
}

static const lurn_layer_ops bidirectional_ops = {.type = "Bidirectional",
                                                 .build = bidirectional_build,
                                                 .forward = bidirectional_forward,
                                                 .backward = bidirectional_backward,
                                                 .destroy = bidirectional_destroy,
                                                 .children = bidirectional_children,
                                                 .mask_rule = bidirectional_mask_rule};

lurn_layer *lurn_bidirectional_new(lurn_layer *forward, lurn_layer *backward,
                                   lurn_bidirectional_merge merge) {
  if (!forward || !backward || forward == backward) {
    lurn_fail(LURN_EINVAL, "Bidirectional: expected two different layers, forward and backward");
    return NULL;
  }
  if (merge < LURN_BIDIRECTIONAL_CONCAT || merge > LURN_BIDIRECTIONAL_NONE) {
    lurn_fail(LURN_EINVAL, "Bidirectional: unknown merge mode %d", (int)merge);
    return NULL;
  }
  bidirectional *b = calloc(1, sizeof *b);
  if (!b) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  b->fwd = lurn_layer_retain(forward);
  b->bwd = lurn_layer_retain(backward);
  b->merge = merge;
  lurn_layer *l = lurn_layer_alloc(&bidirectional_ops, b);
  if (!l) {
    lurn_layer_free(forward);
    lurn_layer_free(backward);
    free(b);
  }
  return l;
}
