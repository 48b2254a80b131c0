/* Merge layers: one output from several inputs of a graph node, as Keras' Add,
 * Subtract, Multiply, Average, Maximum, Minimum (same shapes, elementwise) and
 * Concatenate (along one per-sample axis). They are lurn_layers (a type name, no
 * parameters) run by the graph container through lurn_merge_forward/_backward; their
 * one-input ops refuse to run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

typedef struct {
  lurn_merge_kind kind;
  int axis; /* Concatenate: per-sample axis as given (negative counts from the end) */
  int n;    /* inputs, once built */
  int ndim[LURN_MERGE_MAX_INPUTS];
  int64_t shape[LURN_MERGE_MAX_INPUTS][LURN_MAX_DIMS];
  int cat_axis; /* Concatenate: the 0-based per-sample axis, once built */
} merge;

/* "(None, 4), (None, 5)": input shapes with Keras' batch dimension, for messages. */
static const char *shapes_text(int n, const int *ndim, const int64_t *const *shape, char *buf, size_t size) {
  size_t at = 0;
  buf[0] = '\0';
  for (int j = 0; j < n; j++) {
    int k = snprintf(buf + at, size - at, "%s(None", j ? ", " : "");
    for (int d = 0; k >= 0 && (size_t)k < size - at && d < ndim[j]; d++)
      k += snprintf(buf + at + k, size - at - (size_t)k, ", %lld", (long long)shape[j][d]);
    if (k < 0 || (size_t)k + 1 >= size - at) break;
    at += (size_t)k;
    buf[at++] = ')';
    buf[at] = '\0';
  }
  return buf;
}

static lurn_status refuse_build(lurn_layer *l, lurn_rng *rng) {
  (void)rng;
  return lurn_fail(LURN_EINVAL, "%s: a merge layer takes a list of inputs", l->ops->type);
}

static lurn_status refuse_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  (void)x, (void)y, (void)training;
  return lurn_fail(LURN_EINVAL, "%s: a merge layer takes a list of inputs", l->ops->type);
}

static lurn_status refuse_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                   const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  (void)x, (void)y, (void)dy, (void)dx, (void)fuse;
  return lurn_fail(LURN_EINVAL, "%s: a merge layer takes a list of inputs", l->ops->type);
}

static void merge_destroy(lurn_layer *l) {
  free(l->impl);
}

#define MERGE_OPS(name)                                                                          \
  {                                                                                              \
    .type = name, .build = refuse_build, .forward = refuse_forward, .backward = refuse_backward, \
    .destroy = merge_destroy                                                                     \
  }
static const lurn_layer_ops merge_ops[] = {
    MERGE_OPS("Add"),     MERGE_OPS("Subtract"), MERGE_OPS("Multiply"),   MERGE_OPS("Average"),
    MERGE_OPS("Maximum"), MERGE_OPS("Minimum"),  MERGE_OPS("Concatenate"), MERGE_OPS("Pack")};

lurn_layer *lurn_merge_new(lurn_merge_kind kind, int axis) {
  if ((int)kind < 0 || kind > LURN_MERGE_PACK) {
    lurn_fail(LURN_EINVAL, "unknown merge kind %d", (int)kind);
    return NULL;
  }
  if (kind == LURN_MERGE_CONCATENATE && (axis >= LURN_MAX_DIMS - 1 || axis < -(LURN_MAX_DIMS - 1))) {
    lurn_fail(LURN_EINVAL, "Concatenate: axis %d is out of range", axis);
    return NULL;
  }
  merge *g = calloc(1, sizeof *g);
  if (!g) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  g->kind = kind;
  g->axis = axis;
  lurn_layer *l = lurn_layer_alloc(&merge_ops[kind], g);
  if (!l) free(g);
  return l;
}

int lurn_layer_is_merge(const lurn_layer *l) {
  return l->ops >= merge_ops && l->ops < merge_ops + sizeof merge_ops / sizeof merge_ops[0];
}

int lurn_merge_is_pack(const lurn_layer *l) {
  return l->ops == &merge_ops[LURN_MERGE_PACK];
}

/* Checks the input shapes and sets the output shape. */
static lurn_status check_shapes(lurn_layer *l, merge *g, int n, const int *ndim,
                                const int64_t *const *shape) {
  const char *type = l->ops->type;
  char buf[LURN_MERGE_MAX_INPUTS * (LURN_SHAPE_STR_MAX + 8)];
  if (g->kind == LURN_MERGE_SUBTRACT && n != 2)
    return lurn_fail(LURN_EINVAL, "Subtract: takes exactly 2 inputs, got %d", n);
  if (n < 2 || n > LURN_MERGE_MAX_INPUTS)
    return lurn_fail(LURN_EINVAL, "%s: a merge layer takes 2 to %d inputs, got %d", type,
                     LURN_MERGE_MAX_INPUTS, n);
  for (int j = 0; j < n; j++)
    if (ndim[j] < 1 || ndim[j] >= LURN_MAX_DIMS)
      return lurn_fail(LURN_EINVAL, "%s: input %d must have 1 to %d dimensions per sample", type, j + 1,
                       LURN_MAX_DIMS - 1);
  if (g->kind == LURN_MERGE_PACK) { /* every input flattened, one after another */
    int64_t total = 0;
    for (int j = 0; j < n; j++) {
      int64_t size = 1;
      for (int d = 0; d < ndim[j]; d++) size *= shape[j][d]; /* each below 2^61: checked at its build */
      total += size;
    }
    l->out_ndim = 1;
    l->out_shape[0] = total;
    return LURN_OK;
  }
  if (g->kind != LURN_MERGE_CONCATENATE) {
    for (int j = 1; j < n; j++) {
      int same = ndim[j] == ndim[0];
      for (int d = 0; same && d < ndim[0]; d++) same = shape[j][d] == shape[0][d];
      if (!same)
        return lurn_fail(LURN_EINVAL, "%s: inputs must all have the same shape, got %s", type,
                         shapes_text(n, ndim, shape, buf, sizeof buf));
    }
    l->out_ndim = ndim[0];
    memcpy(l->out_shape, shape[0], sizeof(int64_t) * ndim[0]);
    return LURN_OK;
  }
  int rank = ndim[0];
  int axis = g->axis < 0 ? rank + g->axis : g->axis;
  int same_rank = 1;
  for (int j = 1; j < n; j++) same_rank = same_rank && ndim[j] == rank;
  if (!same_rank)
    return lurn_fail(LURN_EINVAL, "Concatenate: inputs must have the same rank, got %s",
                     shapes_text(n, ndim, shape, buf, sizeof buf));
  if (axis < 0 || axis >= rank)
    return lurn_fail(LURN_EINVAL, "Concatenate: axis %d is out of range for inputs of shape %s", g->axis,
                     shapes_text(n, ndim, shape, buf, sizeof buf));
  int64_t total = 0;
  for (int j = 0; j < n; j++) {
    for (int d = 0; d < rank; d++)
      if (d != axis && shape[j][d] != shape[0][d])
        return lurn_fail(
            LURN_EINVAL,
            "Concatenate: inputs must have the same shape except along the concatenation axis, got %s",
            shapes_text(n, ndim, shape, buf, sizeof buf));
    total += shape[j][axis];
  }
  g->cat_axis = axis;
  l->out_ndim = rank;
  memcpy(l->out_shape, shape[0], sizeof(int64_t) * rank);
  l->out_shape[axis] = total;
  return LURN_OK;
}

lurn_status lurn_merge_build(lurn_layer *l, int n, const int *ndim, const int64_t *const *shape) {
  if (!lurn_layer_is_merge(l)) return lurn_fail(LURN_EINVAL, "%s is not a merge layer", l->ops->type);
  merge *g = l->impl;
  if (l->built) { /* rebuilding with the same shapes keeps the layer */
    int same = n == g->n;
    for (int j = 0; same && j < n; j++) {
      same = ndim[j] == g->ndim[j];
      for (int d = 0; same && d < ndim[j]; d++) same = shape[j][d] == g->shape[j][d];
    }
    if (same) return LURN_OK;
    char a[LURN_MERGE_MAX_INPUTS * (LURN_SHAPE_STR_MAX + 8)],
        b[LURN_MERGE_MAX_INPUTS * (LURN_SHAPE_STR_MAX + 8)];
    const int64_t *had[LURN_MERGE_MAX_INPUTS];
    for (int j = 0; j < g->n; j++) had[j] = g->shape[j];
    return lurn_fail(
        LURN_EINVAL, "%s: already built for inputs %s, cannot take %s", l->ops->type,
        shapes_text(g->n, g->ndim, had, a, sizeof a),
        shapes_text(n < LURN_MERGE_MAX_INPUTS ? n : LURN_MERGE_MAX_INPUTS, ndim, shape, b, sizeof b));
  }
  lurn_status st = check_shapes(l, g, n, ndim, shape);
  if (st) return st;
  g->n = n;
  for (int j = 0; j < n; j++) {
    g->ndim[j] = ndim[j];
    memcpy(g->shape[j], shape[j], sizeof(int64_t) * ndim[j]);
  }
  l->in_ndim = ndim[0]; /* the first input's shape stands for them all */
  memcpy(l->in_shape, shape[0], sizeof(int64_t) * ndim[0]);
  l->built = 1;
  return LURN_OK;
}

/* Every x[j] a packed batch of input j's shape, y (and dy) a packed batch of the output's. */
static lurn_status check_batches(const lurn_layer *l, const merge *g, const lurn_tensor *const *xs, int n,
                                 const lurn_tensor *y) {
  if (!l->built) return lurn_fail(LURN_EINVAL, "%s: build the layer before running it", l->ops->type);
  if (n != g->n) return lurn_fail(LURN_EINVAL, "%s: built for %d inputs, got %d", l->ops->type, g->n, n);
  int64_t batch = y->shape[0];
  char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
  for (int j = 0; j < n; j++) {
    const lurn_tensor *x = xs[j];
    int ok = x->ndim == g->ndim[j] + 1 && x->shape[0] == batch && lurn_tensor_is_contiguous(x);
    for (int d = 0; ok && d < g->ndim[j]; d++) ok = x->shape[d + 1] == g->shape[j][d];
    const int64_t *want = g->shape[j];
    if (!ok)
      return lurn_fail(LURN_EINVAL,
                       "%s: input %d must be a packed batch of shape %s and %lld samples, got %s",
                       l->ops->type, j + 1, shapes_text(1, &g->ndim[j], &want, a, sizeof a), (long long)batch,
                       lurn_shape_str(x, b, sizeof b));
  }
  int ok = y->ndim == l->out_ndim + 1 && lurn_tensor_is_contiguous(y);
  for (int d = 0; ok && d < l->out_ndim; d++) ok = y->shape[d + 1] == l->out_shape[d];
  if (!ok)
    return lurn_fail(LURN_EINVAL, "%s: the output buffer has shape %s", l->ops->type,
                     lurn_shape_str(y, a, sizeof a));
  return LURN_OK;
}

/* Concatenate moves blocks: each of `outer` rows of y (all axes before the concatenation
 * axis, batch included) holds input 0's block, then input 1's, ... */
static void concat_layout(const merge *g, int64_t batch, int64_t *outer, int64_t *block, int64_t *row) {
  *outer = batch;
  if (g->kind == LURN_MERGE_PACK) { /* one row a sample, each input's block its whole sample */
    *row = 0;
    for (int j = 0; j < g->n; j++) {
      block[j] = 1;
      for (int d = 0; d < g->ndim[j]; d++) block[j] *= g->shape[j][d];
      *row += block[j];
    }
    return;
  }
  for (int d = 0; d < g->cat_axis; d++) *outer *= g->shape[0][d];
  int64_t inner = 1;
  for (int d = g->cat_axis + 1; d < g->ndim[0]; d++) inner *= g->shape[0][d];
  *row = 0;
  for (int j = 0; j < g->n; j++) {
    block[j] = g->shape[j][g->cat_axis] * inner;
    *row += block[j];
  }
}

static void concat_forward(const merge *g, const lurn_tensor *const *xs, lurn_tensor *y) {
  int64_t outer, row, block[LURN_MERGE_MAX_INPUTS];
  concat_layout(g, y->shape[0], &outer, block, &row);
  float *out = lurn_tensor_data(y);
  int64_t off = 0;
  for (int j = 0; j < g->n; off += block[j], j++) {
    const float *in = lurn_tensor_data(xs[j]);
    int64_t b = block[j], o = off;
#pragma omp parallel for if (outer * b > LURN_PARALLEL_MIN) schedule(static)
    for (int64_t r = 0; r < outer; r++) memcpy(out + r * row + o, in + r * b, sizeof(float) * (size_t)b);
  }
}

static void concat_backward(const merge *g, const lurn_tensor *dy, lurn_tensor *const *dxs) {
  int64_t outer, row, block[LURN_MERGE_MAX_INPUTS];
  concat_layout(g, dy->shape[0], &outer, block, &row);
  const float *d = lurn_tensor_data(dy);
  int64_t off = 0;
  for (int j = 0; j < g->n; off += block[j], j++) {
    if (!dxs[j]) continue;
    float *dx = lurn_tensor_data(dxs[j]);
    int64_t b = block[j], o = off;
#pragma omp parallel for if (outer * b > LURN_PARALLEL_MIN) schedule(static)
    for (int64_t r = 0; r < outer; r++)
      for (int64_t i = 0; i < b; i++) dx[r * b + i] += d[r * row + o + i];
  }
}

/* y = x0 op x1 op ... elementwise. */
static void elementwise_forward(const merge *g, const lurn_tensor *const *xs, lurn_tensor *y) {
  int n = g->n;
  const float *in[LURN_MERGE_MAX_INPUTS];
  for (int j = 0; j < n; j++) in[j] = lurn_tensor_data(xs[j]);
  float *out = lurn_tensor_data(y);
  int64_t count = lurn_tensor_numel(y);
  lurn_merge_kind kind = g->kind;
#pragma omp parallel for if (count * n > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < count; i++) {
    float v = in[0][i];
    for (int j = 1; j < n; j++) {
      float u = in[j][i];
      switch (kind) {
        case LURN_MERGE_ADD:
        case LURN_MERGE_AVERAGE:
          v += u;
          break;
        case LURN_MERGE_SUBTRACT:
          v -= u;
          break;
        case LURN_MERGE_MULTIPLY:
          v *= u;
          break;
        case LURN_MERGE_MAXIMUM:
          v = u > v ? u : v;
          break;
        case LURN_MERGE_MINIMUM:
          v = u < v ? u : v;
          break;
        default:
          break;
      }
    }
    out[i] = kind == LURN_MERGE_AVERAGE ? v / (float)n : v;
  }
}

/* dxs[j] += dL/dx_j. Maximum and Minimum send the gradient to the first input that holds
 * the extreme value, as TensorFlow's chain of maximum(a, b) does on ties. */
static void elementwise_backward(const merge *g, const lurn_tensor *const *xs, const lurn_tensor *y,
                                 const lurn_tensor *dy, lurn_tensor *const *dxs) {
  int n = g->n;
  const float *in[LURN_MERGE_MAX_INPUTS];
  float *dx[LURN_MERGE_MAX_INPUTS];
  for (int j = 0; j < n; j++) {
    in[j] = lurn_tensor_data(xs[j]);
    dx[j] = dxs[j] ? lurn_tensor_data(dxs[j]) : NULL;
  }
  const float *d = lurn_tensor_data(dy), *out = lurn_tensor_data(y);
  int64_t count = lurn_tensor_numel(dy);
  lurn_merge_kind kind = g->kind;
  float inv_n = 1.0f / (float)n;
#pragma omp parallel for if (count * n > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < count; i++) {
    float gi = d[i];
    switch (kind) {
      case LURN_MERGE_ADD:
        for (int j = 0; j < n; j++)
          if (dx[j]) dx[j][i] += gi;
        break;
      case LURN_MERGE_AVERAGE:
        for (int j = 0; j < n; j++)
          if (dx[j]) dx[j][i] += gi * inv_n;
        break;
      case LURN_MERGE_SUBTRACT:
        if (dx[0]) dx[0][i] += gi;
        if (dx[1]) dx[1][i] -= gi;
        break;
      case LURN_MERGE_MULTIPLY:
        for (int j = 0; j < n; j++) {
          if (!dx[j]) continue;
          float p = gi;
          for (int k = 0; k < n; k++)
            if (k != j) p *= in[k][i];
          dx[j][i] += p;
        }
        break;
      case LURN_MERGE_MAXIMUM:
      case LURN_MERGE_MINIMUM:
        for (int j = 0; j < n; j++)
          if (in[j][i] == out[i]) {
            if (dx[j]) dx[j][i] += gi;
            break;
          }
        break;
      default:
        break;
    }
  }
}

lurn_status lurn_merge_forward(lurn_layer *l, const lurn_tensor *const *xs, int n, lurn_tensor *y) {
  if (!lurn_layer_is_merge(l)) return lurn_fail(LURN_EINVAL, "%s is not a merge layer", l->ops->type);
  merge *g = l->impl;
  lurn_status st = check_batches(l, g, xs, n, y);
  if (st) return st;
  if (g->kind == LURN_MERGE_CONCATENATE || g->kind == LURN_MERGE_PACK)
    concat_forward(g, xs, y);
  else
    elementwise_forward(g, xs, y);
  return LURN_OK;
}

lurn_status lurn_merge_backward(lurn_layer *l, const lurn_tensor *const *xs, int n, const lurn_tensor *y,
                                const lurn_tensor *dy, lurn_tensor *const *dxs) {
  if (!lurn_layer_is_merge(l)) return lurn_fail(LURN_EINVAL, "%s is not a merge layer", l->ops->type);
  merge *g = l->impl;
  lurn_status st = check_batches(l, g, xs, n, y);
  if (st) return st;
  if (!lurn_tensor_same_shape(dy, y) || !lurn_tensor_is_contiguous(dy))
    return lurn_fail(LURN_EINVAL, "%s: dy must be a packed tensor of the output's shape", l->ops->type);
  for (int j = 0; j < n; j++)
    if (dxs[j] && (!lurn_tensor_same_shape(dxs[j], xs[j]) || !lurn_tensor_is_contiguous(dxs[j])))
      return lurn_fail(LURN_EINVAL, "%s: dx %d must be a packed tensor of input %d's shape", l->ops->type,
                       j + 1, j + 1);
  if (g->kind == LURN_MERGE_CONCATENATE || g->kind == LURN_MERGE_PACK)
    concat_backward(g, dy, dxs);
  else
    elementwise_backward(g, xs, y, dy, dxs);
  return LURN_OK;
}
