/* Reductions over a whole tensor or one dimension, accumulated in double. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "lurn.h"
#include "tensor/tensor_internal.h"

static const char *const reduce_names[] = {"sum", "mean", "max", "min", "argmax", "argmin", "var", "std"};

/* Reduces n elements x[0], x[step], ... ; arg ops give a 0-based position. */
static double reduce_strided(lurn_reduce_op op, const float *x, int64_t n, int64_t step, int ddof) {
  switch (op) {
    case LURN_SUM:
    case LURN_MEAN: {
      double s = 0;
      for (int64_t i = 0; i < n; i++) s += x[i * step];
      return op == LURN_SUM ? s : s / (double)n;
    }
    case LURN_MAX:
    case LURN_MIN:
    case LURN_ARGMAX:
    case LURN_ARGMIN: {
      int want_max = op == LURN_MAX || op == LURN_ARGMAX;
      int64_t best = 0;
      float bv = x[0];
      for (int64_t i = 1; i < n && bv == bv; i++) {  /* a NaN wins and stops, as numpy */
        float v = x[i * step];
        if (v != v || (want_max ? v > bv : v < bv)) {
          bv = v;
          best = i;
        }
      }
      return (op == LURN_MAX || op == LURN_MIN) ? (double)bv : (double)best;
    }
    case LURN_VAR:
    case LURN_STD: {
      double mean = 0, ss = 0;
      for (int64_t i = 0; i < n; i++) mean += x[i * step];
      mean /= (double)n;
      for (int64_t i = 0; i < n; i++) {
        double d = x[i * step] - mean;
        ss += d * d;
      }
      double var = n - ddof > 0 ? ss / (double)(n - ddof) : NAN;
      return op == LURN_VAR ? var : sqrt(var);
    }
  }
  return 0;
}

static int check_count(lurn_reduce_op op, int64_t n, int ddof) {
  if (ddof < 0) {
    lurn_fail(LURN_EINVAL, "%s: ddof must be >= 0, got %d", reduce_names[op], ddof);
    return 0;
  }
  if (n == 0 && op != LURN_SUM && op != LURN_MEAN) {
    lurn_fail(LURN_EINVAL, "%s of an empty tensor is undefined", reduce_names[op]);
    return 0;
  }
  return 1;
}

lurn_status lurn_reduce_all(lurn_reduce_op op, const lurn_tensor *t, int ddof, double *out) {
  int64_t n = lurn_tensor_numel(t);
  if (!check_count(op, n, ddof)) return LURN_EINVAL;
  lurn_tensor *c = lurn_tensor_contiguous(t);
  if (!c) return LURN_ENOMEM;
  *out = reduce_strided(op, lurn_tensor_data(c), n, 1, ddof);
  lurn_tensor_free(c);
  return LURN_OK;
}

lurn_tensor *lurn_reduce_dim(lurn_reduce_op op, const lurn_tensor *t, int dim, int keepdim, int ddof) {
  if (!lurn_check_dim(t, dim, reduce_names[op])) return NULL;
  int64_t n = t->shape[dim];
  if (!check_count(op, n, ddof)) return NULL;

  int64_t shape[LURN_MAX_DIMS], outer = 1, inner = 1;
  int ndim = 0;
  for (int i = 0; i < t->ndim; i++) {
    if (i < dim) outer *= t->shape[i];
    if (i > dim) inner *= t->shape[i];
    if (i != dim) shape[ndim++] = t->shape[i];
    else if (keepdim) shape[ndim++] = 1;
  }
  if (ndim == 0) shape[ndim++] = 1;  /* a reduced vector stays a 1-element vector */

  lurn_tensor *c = lurn_tensor_contiguous(t);
  if (!c) return NULL;
  lurn_tensor *out = lurn_tensor_empty(ndim, shape);
  if (!out) {
    lurn_tensor_free(c);
    return NULL;
  }
  const float *x = lurn_tensor_data(c);
  float *o = lurn_tensor_data(out);
  int64_t cells = outer * inner;
#pragma omp parallel for if (cells * n > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t k = 0; k < cells; k++) {
    int64_t oi = k / inner, ii = k % inner;
    o[k] = (float)reduce_strided(op, x + oi * n * inner + ii, n, inner, ddof);
  }
  lurn_tensor_free(c);
  return out;
}

/* One read-only pass that vectorises (a compare and an or per element), in parallel for
 * large tensors; only a tensor that has a non-finite value is scanned again for where. */
int64_t lurn_first_nonfinite(const float *x, int64_t n) {
  int bad = 0;
  if (n > LURN_PARALLEL_MIN) { /* not an if clause: a false one still starts a team (LURN_FOR) */
#pragma omp parallel for reduction(| : bad) schedule(static)
    for (int64_t i = 0; i < n; i++) bad |= !(fabsf(x[i]) <= FLT_MAX);
  } else {
    for (int64_t i = 0; i < n; i++) bad |= !(fabsf(x[i]) <= FLT_MAX);
  }
  if (!bad) return -1;
  for (int64_t i = 0; i < n; i++)
    if (!(fabsf(x[i]) <= FLT_MAX)) return i;
  return -1;
}

lurn_status lurn_tensor_first_nonfinite(const lurn_tensor *t, int64_t *pos) {
  if (!lurn_tensor_is_contiguous(t))
    return lurn_fail(LURN_EINVAL, "first_nonfinite: expected a packed tensor");
  *pos = lurn_first_nonfinite(lurn_tensor_data(t), lurn_tensor_numel(t));
  return LURN_OK;
}
