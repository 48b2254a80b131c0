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
 * A container of its two layers (children()), whose parameters the model trains and
 * claims; like a graph, it tells their observers of their forward and backward. */
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

typedef struct {
  lurn_layer *fwd, *bwd;
  lurn_bidirectional_merge merge;
  lurn_tensor *yf, *yb;   /* the two outputs, yb in the input's time order */
  lurn_tensor *dyf, *dyb; /* their gradients, dyb in the backward layer's order */
  lurn_tensor *dxb;       /* the backward layer's dL/dx, added to the forward's */
  lurn_tensor *yb_own;    /* the backward layer's output as it wrote it */
  lurn_tensor *dyb_time;  /* dyb in the input's time order, before the reversal */
} bidirectional;

static int sequences(const lurn_layer *inner) {
  return inner->out_ndim == 2;
}

static lurn_status bidirectional_build(lurn_layer *l, lurn_rng *rng) {
  bidirectional *b = l->impl;
  lurn_status st = lurn_layer_build(b->fwd, l->in_ndim, l->in_shape, rng);
  if (!st) st = lurn_layer_build(b->bwd, l->in_ndim, l->in_shape, rng);
  if (st) return st;
  const lurn_layer *f = b->fwd, *r = b->bwd;
  int same = f->out_ndim == r->out_ndim;
  for (int i = 0; same && i < f->out_ndim; i++) same = f->out_shape[i] == r->out_shape[i];
  if (!same || f->out_ndim > 2)
    return lurn_fail(LURN_EINVAL,
                     "Bidirectional: the forward and backward layers must give the same (units) or "
                     "(steps, units) outputs");
  l->out_ndim = f->out_ndim;
  memcpy(l->out_shape, f->out_shape, sizeof(int64_t) * (size_t)f->out_ndim);
  if (b->merge == LURN_BIDIRECTIONAL_CONCAT) l->out_shape[l->out_ndim - 1] *= 2;
  return LURN_OK;
}

static lurn_status batch_like(lurn_tensor **buf, int64_t n, const lurn_layer *inner) {
  int64_t shape[LURN_MAX_DIMS] = {n};
  memcpy(shape + 1, inner->out_shape, sizeof(int64_t) * (size_t)inner->out_ndim);
  return lurn_buffer_ensure(buf, inner->out_ndim + 1, shape);
}

/* dst = src with the steps of each sample in reverse order ((N, steps, units) packed). */
static void reverse_steps(float *dst, const float *src, int64_t n, int64_t steps, int64_t units) {
#pragma omp parallel for if (n * steps * units > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < n; i++)
    for (int64_t t = 0; t < steps; t++)
      memcpy(dst + (i * steps + t) * units, src + (i * steps + steps - 1 - t) * units,
             sizeof(float) * (size_t)units);
}

static lurn_status bidirectional_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  bidirectional *b = l->impl;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st) return st;
  const int64_t n = x->shape[0];
  if ((st = batch_like(&b->yf, n, b->fwd)) || (st = batch_like(&b->yb, n, b->bwd)) ||
      (st = batch_like(&b->yb_own, n, b->bwd)))
    return st;
  b->fwd->preactivation = b->bwd->preactivation = NULL;
  b->fwd->mask = b->bwd->mask = l->mask;
  st = b->fwd->ops->forward(b->fwd, x, b->yf, training);
  if (!st) st = lurn_layer_forward_done(b->fwd, b->yf);
  if (!st) st = b->bwd->ops->forward(b->bwd, x, b->yb_own, training);
  if (!st) st = lurn_layer_forward_done(b->bwd, b->yb_own);
  b->fwd->mask = b->bwd->mask = NULL;
  if (st) return st;
  l->nested_penalty = b->fwd->nested_penalty + b->bwd->nested_penalty;
  const int64_t units = b->fwd->out_shape[b->fwd->out_ndim - 1];
  const int64_t rows = units ? lurn_tensor_numel(b->yf) / units : 0;
  if (sequences(b->bwd))
    reverse_steps(lurn_tensor_data(b->yb), lurn_tensor_data(b->yb_own), n, b->bwd->out_shape[0], units);
  else
    memcpy(lurn_tensor_data(b->yb), lurn_tensor_data(b->yb_own), sizeof(float) * (size_t)(rows * units));
  const float *f = lurn_tensor_data(b->yf), *r = lurn_tensor_data(b->yb);
  float *out = lurn_tensor_data(y);
  const lurn_bidirectional_merge merge = b->merge;
  /* row i of the sequence outputs is (sample, step) i of the (N, steps) mask */
  const float *m = l->mask && sequences(b->fwd) ? lurn_tensor_data(l->mask) : NULL;
#pragma omp parallel for if (rows * units > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < units; j++) {
      const int zero = m && m[i] == 0;
      float a = zero ? 0.0f : f[i * units + j], c = zero ? 0.0f : r[i * units + j];
      switch (merge) {
        case LURN_BIDIRECTIONAL_CONCAT:
          out[i * 2 * units + j] = a, out[i * 2 * units + units + j] = c;
          break;
        case LURN_BIDIRECTIONAL_SUM:
          out[i * units + j] = a + c;
          break;
        case LURN_BIDIRECTIONAL_MUL:
          out[i * units + j] = a * c;
          break;
        case LURN_BIDIRECTIONAL_AVE:
          out[i * units + j] = (a + c) * 0.5f;
          break;
      }
    }
  return LURN_OK;
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
  if ((st = batch_like(&b->dyf, n, b->fwd)) || (st = batch_like(&b->dyb, n, b->bwd)) ||
      (st = batch_like(&b->dyb_time, n, b->bwd)))
    return st;
  const int64_t units = b->fwd->out_shape[b->fwd->out_ndim - 1];
  const int64_t rows = units ? lurn_tensor_numel(b->yf) / units : 0;
  const float *g = lurn_tensor_data(dy), *f = lurn_tensor_data(b->yf), *r = lurn_tensor_data(b->yb);
  float *df = lurn_tensor_data(b->dyf);
  float *dr = lurn_tensor_data(sequences(b->bwd) ? b->dyb_time : b->dyb);
  const lurn_bidirectional_merge merge = b->merge;
  const float *m = l->mask && sequences(b->fwd) ? lurn_tensor_data(l->mask) : NULL;
#pragma omp parallel for if (rows * units > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < units; j++) {
      const int64_t k = i * units + j;
      switch (merge) {
        case LURN_BIDIRECTIONAL_CONCAT:
          df[k] = g[i * 2 * units + j], dr[k] = g[i * 2 * units + units + j];
          break;
        case LURN_BIDIRECTIONAL_SUM:
          df[k] = dr[k] = g[k];
          break;
        case LURN_BIDIRECTIONAL_MUL:
          df[k] = g[k] * r[k], dr[k] = g[k] * f[k];
          break;
        case LURN_BIDIRECTIONAL_AVE:
          df[k] = dr[k] = g[k] * 0.5f;
          break;
      }
      if (m && m[i] == 0) df[k] = dr[k] = 0.0f; /* a zeroed output: no gradient enters there */
    }
  /* the backward layer's gradient in its own (processing) order */
  if (sequences(b->bwd)) reverse_steps(lurn_tensor_data(b->dyb), dr, n, b->bwd->out_shape[0], units);
  lurn_tensor *dxb = NULL;
  if (dx) {
    if ((st = lurn_buffer_ensure(&b->dxb, dx->ndim, dx->shape))) return st;
    dxb = b->dxb;
  }
  b->fwd->mask = b->bwd->mask = l->mask;
  st = b->fwd->ops->backward(b->fwd, x, b->yf, b->dyf, dx, 0);
  if (!st) {
    lurn_layer_backward_done(b->fwd);
    st = b->bwd->ops->backward(b->bwd, x, b->yb_own, b->dyb, dxb, 0);
  }
  b->fwd->mask = b->bwd->mask = NULL;
  if (st) return st;
  lurn_layer_backward_done(b->bwd);
  if (dx) {
    float *d = lurn_tensor_data(dx);
    const float *e = lurn_tensor_data(dxb);
    const int64_t m = lurn_tensor_numel(dx);
#pragma omp parallel for if (m > LURN_PARALLEL_MIN) schedule(static)
    for (int64_t i = 0; i < m; i++) d[i] += e[i];
  }
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
  lurn_tensor *bufs[] = {b->yf, b->yb, b->dyf, b->dyb, b->dxb, b->yb_own, b->dyb_time};
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
  if (merge < LURN_BIDIRECTIONAL_CONCAT || merge > LURN_BIDIRECTIONAL_AVE) {
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
