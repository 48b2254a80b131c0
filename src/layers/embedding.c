/* Embedding: token ids x (N, d1, ...) stored as floats -> y (N, d1, ..., output_dim),
 * y[..., :] = embeddings[x[...], :] with embeddings (input_dim, output_dim) as Keras.
 *
 * Ids are checked (finite integers in [0, input_dim)) before anything is written: a bad
 * id is an error naming its sample and position, never a read outside the table.
 * Backward scatter-adds dy's rows onto the rows of the embeddings' gradient. Two tokens
 * may share an id, so tokens never run in parallel; columns do instead, each thread
 * owning a band of every row: no two threads ever add to the same float. The ids get no
 * gradient (dx is zero). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

typedef struct {
  lurn_embedding_config c;
  lurn_tensor *mask; /* mask_zero: (N, steps), 0 where the id is 0, of the last forward */
} embedding;

static lurn_status embedding_build(lurn_layer *l, lurn_rng *rng) {
  embedding *e = l->impl;
  if (l->in_ndim + 1 >= LURN_MAX_DIMS)
    return lurn_fail(LURN_EINVAL, "Embedding: input must have at most %d dimensions per sample",
                     LURN_MAX_DIMS - 2);
  if (e->c.mask_zero && l->in_ndim != 1)
    return lurn_fail(LURN_EINVAL, "Embedding: mask_zero needs ids of shape (steps) per sample, got %d dimensions",
                     l->in_ndim);
  int64_t shape[2] = {e->c.input_dim, e->c.output_dim};
  if (!lurn_layer_add_param(l, "embeddings", 2, shape, &e->c.embeddings_initializer, rng, 1))
    return LURN_ENOMEM;
  l->out_ndim = l->in_ndim + 1;
  memcpy(l->out_shape, l->in_shape, sizeof(int64_t) * (size_t)l->in_ndim);
  l->out_shape[l->in_ndim] = e->c.output_dim;
  return LURN_OK;
}

/* LURN_OK when every id of x (n tokens) is an integer in [0, input_dim); else an error
 * naming the first bad one by sample and (1-based) position within the sample. */
static lurn_status check_ids(const lurn_layer *l, const float *x, int64_t n) {
  const embedding *e = l->impl;
  const double top = (double)e->c.input_dim;
  int64_t bad = -1;
  for (int64_t i = 0; i < n && bad < 0; i++) {
    const double v = x[i];
    if (!(v >= 0 && v < top && v == floor(v))) bad = i; /* NaN fails every comparison */
  }
  if (bad < 0) return LURN_OK;
  int64_t per_sample = 1;
  for (int d = 0; d < l->in_ndim; d++) per_sample *= l->in_shape[d];
  char id[32];
  if (isnan(x[bad]))
    snprintf(id, sizeof id, "NaN");
  else
    snprintf(id, sizeof id, "%g", (double)x[bad]);
  return lurn_fail(LURN_EINVAL,
                   "Embedding: token id %s at sample %lld of the batch, position %lld is not an integer in [0, %lld) "
                   "(input_dim %lld; ids are 0-based, 0 is padding)",
                   id, (long long)(bad / per_sample + 1), (long long)(bad % per_sample + 1),
                   (long long)e->c.input_dim, (long long)e->c.input_dim);
}

static lurn_status embedding_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  (void)training;
  embedding *e = l->impl;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st) return st;
  const int64_t n = lurn_tensor_numel(x), dim = e->c.output_dim;
  const float *ids = lurn_tensor_data(x), *table = lurn_tensor_data(l->params[0]);
  if ((st = check_ids(l, ids, n))) return st;
  if (e->c.mask_zero) {
    if ((st = lurn_buffer_ensure(&e->mask, 2, x->shape))) return st;
    float *m = lurn_tensor_data(e->mask);
    for (int64_t i = 0; i < n; i++) m[i] = ids[i] != 0;
  }
  float *out = lurn_tensor_data(y);
#pragma omp parallel for if (n * dim > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < n; i++)
    memcpy(out + i * dim, table + (int64_t)ids[i] * dim, sizeof(float) * (size_t)dim);
  return LURN_OK;
}

static lurn_status embedding_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                      const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  (void)y, (void)fuse;
  const embedding *e = l->impl;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st) return st;
  const int64_t n = lurn_tensor_numel(x), dim = e->c.output_dim;
  const float *ids = lurn_tensor_data(x), *grad = lurn_tensor_data(dy);
  if ((st = check_ids(l, ids, n))) return st;
  float *table = lurn_tensor_data(l->grads[0]);
  lurn_tensor_fill(l->grads[0], 0);
  /* bands of at least 16 columns, one per thread: disjoint, so no two threads add to one float */
  const int threads = n * dim > LURN_PARALLEL_MIN ? lurn_get_num_threads() : 1;
  const int64_t bands = dim / 16 < threads ? (dim / 16 > 0 ? dim / 16 : 1) : threads;
#pragma omp parallel for num_threads(threads) if (bands > 1) schedule(static, 1)
  for (int64_t b = 0; b < bands; b++) {
    const int64_t c0 = dim * b / bands, c1 = dim * (b + 1) / bands;
    for (int64_t i = 0; i < n; i++) {
      float *row = table + (int64_t)ids[i] * dim;
      const float *g = grad + i * dim;
      for (int64_t c = c0; c < c1; c++) row[c] += g[c];
    }
  }
  if (dx) lurn_tensor_fill(dx, 0);
  return LURN_OK;
}

static void embedding_destroy(lurn_layer *l) {
  embedding *e = l->impl;
  lurn_tensor_free(e->mask);
  free(e);
}

/* With mask_zero the layer makes the mask of its output; without, it takes none. */
static lurn_mask_rule embedding_mask_rule(const lurn_layer *l) {
  const embedding *e = l->impl;
  return e->c.mask_zero ? LURN_MASK_MAKE : LURN_MASK_REFUSE;
}

static const lurn_tensor *embedding_output_mask(const lurn_layer *l) {
  const embedding *e = l->impl;
  return e->mask;
}

static const lurn_layer_ops embedding_ops = {.type = "Embedding",
                                             .build = embedding_build,
                                             .forward = embedding_forward,
                                             .backward = embedding_backward,
                                             .destroy = embedding_destroy,
                                             .mask_rule = embedding_mask_rule,
                                             .output_mask = embedding_output_mask};

lurn_layer *lurn_embedding_new(const lurn_embedding_config *c) {
  if (c->input_dim < 1 || c->output_dim < 1) {
    lurn_fail(LURN_EINVAL, "Embedding: input_dim and output_dim must be positive, got %lld and %lld",
              (long long)c->input_dim, (long long)c->output_dim);
    return NULL;
  }
  int64_t table[2] = {c->input_dim, c->output_dim};
  if (!lurn_check_shape(2, table)) {
    lurn_fail(LURN_EINVAL, "Embedding: a table of %lld x %lld is too large", (long long)c->input_dim,
              (long long)c->output_dim);
    return NULL;
  }
  embedding *e = calloc(1, sizeof *e);
  if (!e) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  e->c = *c;
  lurn_layer *l = lurn_layer_alloc(&embedding_ops, e);
  if (!l) free(e);
  return l;
}
