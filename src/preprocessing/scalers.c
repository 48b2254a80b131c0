/* Column statistics and per-column maps for the scalers and the imputer, with
 * scikit-learn's semantics: statistics in double, NaN skipped in fit and kept in
 * transform, constant columns scaled by 1. Data is (N, k): N samples, k features. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "tensor/tensor_internal.h"

/* 1 if x is (N, k); else 0 with the error set. */
static int check_matrix(const lurn_tensor *x, const char *what) {
  if (x->ndim == 2) return 1;
  char buf[LURN_SHAPE_STR_MAX];
  lurn_fail(LURN_EINVAL, "%s: expected 2-D data (samples, features), got shape %s", what,
            lurn_shape_str(x, buf, sizeof buf));
  return 0;
}

/* 1 if p is NULL or a (k,) vector; else 0 with the error set. */
static int check_params(const lurn_tensor *p, int64_t k, const char *what) {
  if (!p || (p->ndim == 1 && p->shape[0] == k)) return 1;
  char buf[LURN_SHAPE_STR_MAX];
  lurn_fail(LURN_EINVAL, "%s: data has %lld features but the parameters have shape %s", what, (long long)k,
            lurn_shape_str(p, buf, sizeof buf));
  return 0;
}

/* A (k,) vector of p as doubles (default where p is NULL), or NULL if out of memory. */
static double *params_of(const lurn_tensor *p, int64_t k, double dflt) {
  double *v = malloc(sizeof(double) * (size_t)(k ? k : 1));
  if (!v) return NULL;
  for (int64_t j = 0; j < k; j++) v[j] = p ? lurn_tensor_data(p)[j * p->stride[0]] : dflt;
  return v;
}

static lurn_tensor *vector_of(const double *v, int64_t k) {
  lurn_tensor *t = lurn_tensor_empty(1, &k);
  if (!t) return NULL;
  float *d = lurn_tensor_data(t);
  for (int64_t j = 0; j < k; j++) d[j] = (float)v[j];
  return t;
}

void lurn_column_stats_free(lurn_column_stats *s) {
  lurn_tensor **all[] = {&s->count, &s->mean, &s->var, &s->scale, &s->min, &s->max};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    lurn_tensor_free(*all[i]);
    *all[i] = NULL;
  }
}

/* StandardScaler's test (sklearn's _is_constant_feature): a variance within the error
 * bound of the two-pass algorithm (Chan, Golub and LeVeque) is that of a constant. */
static int is_constant(double var, double mean, double n) {
  double bound = n * DBL_EPSILON * var + (n * mean * DBL_EPSILON) * (n * mean * DBL_EPSILON);
  return var <= bound;
}

/* As sklearn's _incremental_mean_and_var on one batch: mean from the NaN-skipping sum,
 * then the sum of squared deviations less the square of their sum (a correction for the
 * rounding of the mean), over the count. */
lurn_status lurn_column_stats_compute(const lurn_tensor *x, lurn_column_stats *out) {
  memset(out, 0, sizeof *out);
  if (!check_matrix(x, "column statistics")) return LURN_EINVAL;
  int64_t n = x->shape[0], k = x->shape[1];
  lurn_tensor *c = lurn_tensor_contiguous(x);
  double *acc = calloc((size_t)(k ? k : 1) * 7, sizeof(double));
  if (!c || !acc) {
    lurn_tensor_free(c);
    free(acc);
    return lurn_fail(LURN_ENOMEM, "column statistics: out of memory");
  }
  double *cnt = acc, *sum = acc + k, *mean = acc + 2 * k, *var = acc + 3 * k, *scale = acc + 4 * k,
         *lo = acc + 5 * k, *hi = acc + 6 * k;
  for (int64_t j = 0; j < k; j++) lo[j] = hi[j] = NAN;
  const float *d = lurn_tensor_data(c);
  for (int64_t i = 0; i < n; i++) {
    const float *row = d + i * k;
    for (int64_t j = 0; j < k; j++) {
      float v = row[j];
      if (v != v) continue;
      if (cnt[j] == 0 || v < lo[j]) lo[j] = v;
      if (cnt[j] == 0 || v > hi[j]) hi[j] = v;
      cnt[j] += 1;
      sum[j] += v;
    }
  }
  for (int64_t j = 0; j < k; j++) mean[j] = cnt[j] > 0 ? sum[j] / cnt[j] : NAN;
  double *dev = scale; /* scratch: the sums of deviations, before scale is written */
  for (int64_t i = 0; i < n; i++) {
    const float *row = d + i * k;
    for (int64_t j = 0; j < k; j++) {
      if (row[j] != row[j]) continue;
      double t = row[j] - mean[j];
      dev[j] += t;
      var[j] += t * t;
    }
  }
  for (int64_t j = 0; j < k; j++) {
    if (cnt[j] == 0) {
      var[j] = scale[j] = NAN;
      continue;
    }
    var[j] = (var[j] - dev[j] * dev[j] / cnt[j]) / cnt[j];
    scale[j] = is_constant(var[j], mean[j], cnt[j]) ? 1.0 : sqrt(var[j]);
  }
  out->count = vector_of(cnt, k);
  out->mean = vector_of(mean, k);
  out->var = vector_of(var, k);
  out->scale = vector_of(scale, k);
  out->min = vector_of(lo, k);
  out->max = vector_of(hi, k);
  lurn_tensor_free(c);
  free(acc);
  if (!out->count || !out->mean || !out->var || !out->scale || !out->min || !out->max) {
    lurn_column_stats_free(out);
    return lurn_fail(LURN_ENOMEM, "column statistics: out of memory");
  }
  return LURN_OK;
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static void swap_float(float *a, float *b) {
  float t = *a;
  *a = *b;
  *b = t;
}

/* Rearranges v[0..n) so that v[k] is the k-th smallest (0-based), nothing larger before
 * it and nothing smaller after it (quickselect, median-of-three pivots). No NaN in v. */
static void select_kth(float *v, int64_t n, int64_t k) {
  int64_t lo = 0, hi = n - 1;
  while (hi > lo) {
    int64_t mid = lo + (hi - lo) / 2;
    if (v[mid] < v[lo]) swap_float(&v[mid], &v[lo]);
    if (v[hi] < v[lo]) swap_float(&v[hi], &v[lo]);
    if (v[hi] < v[mid]) swap_float(&v[hi], &v[mid]);
    float pivot = v[mid];
    int64_t i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) swap_float(&v[i++], &v[j--]);
    }
    if (k <= j)
      hi = j;
    else if (k >= i)
      lo = i;
    else
      return; /* j < k < i: v[k] equals the pivot */
  }
}

/* numpy's "linear" quantile of the m values in v (reordered): the value at virtual index
 * q (m - 1), interpolated with numpy's _lerp (from the upper neighbour when the fraction
 * is >= 0.5). */
static double quantile_of(float *v, int64_t m, double q) {
  double pos = q * (double)(m - 1), below = floor(pos);
  int64_t i = (int64_t)below;
  if (i >= m - 1) i = m - 1;
  select_kth(v, m, i);
  if (i == m - 1) return v[i];
  float next = v[i + 1];
  for (int64_t j = i + 2; j < m; j++)
    if (v[j] < next) next = v[j];
  double t = pos - below, a = v[i], b = next, diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/* Work on the values of each column apart: fn(values, m, j, ctx) gets the m values of
 * column j that are not NaN, in a buffer it may reorder, and writes column j's results.
 * Columns are gathered CHUNK at a time in one pass over the rows (x is row-major), and
 * the chunks are spread over lurn's threads. */
typedef void (*column_fn)(float *values, int64_t m, int64_t j, void *ctx);
#define CHUNK 16

static lurn_status each_column(const lurn_tensor *x, const char *what, column_fn fn, void *ctx) {
  if (!check_matrix(x, what)) return LURN_EINVAL;
  int64_t n = x->shape[0], k = x->shape[1], chunks = (k + CHUNK - 1) / CHUNK;
  lurn_tensor *c = lurn_tensor_contiguous(x);
  if (!c) return LURN_ENOMEM;
  const float *d = lurn_tensor_data(c);
  int failed = 0;
  int threads = n * k > LURN_PARALLEL_MIN ? lurn_get_num_threads() : 1;
#pragma omp parallel num_threads(threads)
  {
    float *buf = malloc(sizeof(float) * (size_t)(n ? n : 1) * CHUNK);
    if (!buf) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(dynamic)
    for (int64_t b = 0; b < chunks; b++) {
      if (!buf) continue;
      int64_t j0 = b * CHUNK, width = k - j0 < CHUNK ? k - j0 : CHUNK, m[CHUNK] = {0};
      for (int64_t i = 0; i < n; i++) {
        const float *row = d + i * k + j0;
        for (int64_t c2 = 0; c2 < width; c2++)
          if (row[c2] == row[c2]) buf[c2 * n + m[c2]++] = row[c2];
      }
      for (int64_t c2 = 0; c2 < width; c2++) fn(buf + c2 * n, m[c2], j0 + c2, ctx);
    }
    free(buf);
  }
  lurn_tensor_free(c);
  return failed ? lurn_fail(LURN_ENOMEM, "%s: out of memory", what) : LURN_OK;
}

typedef struct {
  const double *q;
  int nq;
  int64_t k;
  float *out;
} quantile_ctx;

static void quantiles_of(float *v, int64_t m, int64_t j, void *ctx) {
  quantile_ctx *c = ctx;
  for (int i = 0; i < c->nq; i++) c->out[i * c->k + j] = m ? (float)quantile_of(v, m, c->q[i] / 100.0) : NAN;
}

lurn_tensor *lurn_column_quantiles(const lurn_tensor *x, const double *q, int nq) {
  for (int i = 0; i < nq; i++)
    if (!(q[i] >= 0 && q[i] <= 100)) {
      lurn_fail(LURN_EINVAL, "quantiles: %g is not a percentage in [0, 100]", q[i]);
      return NULL;
    }
  if (nq < 1 || !check_matrix(x, "quantiles")) {
    if (nq < 1) lurn_fail(LURN_EINVAL, "quantiles: no quantile asked for");
    return NULL;
  }
  int64_t shape[2] = {nq, x->shape[1]};
  lurn_tensor *out = lurn_tensor_empty(2, shape);
  if (!out) return NULL;
  quantile_ctx ctx = {q, nq, shape[1], lurn_tensor_data(out)};
  if (each_column(x, "quantiles", quantiles_of, &ctx) != LURN_OK) {
    lurn_tensor_free(out);
    return NULL;
  }
  return out;
}

/* The longest run of the sorted values; the first (smallest) wins ties. */
static void mode_of(float *v, int64_t m, int64_t j, void *ctx) {
  float *out = ctx, best = NAN;
  int64_t best_run = 0;
  qsort(v, (size_t)m, sizeof *v, cmp_float);
  for (int64_t i = 0; i < m;) {
    int64_t e = i;
    while (e < m && v[e] == v[i]) e++;
    if (e - i > best_run) {
      best_run = e - i;
      best = v[i];
    }
    i = e;
  }
  out[j] = best;
}

lurn_tensor *lurn_column_mode(const lurn_tensor *x) {
  if (!check_matrix(x, "mode")) return NULL;
  int64_t k = x->shape[1];
  lurn_tensor *out = lurn_tensor_empty(1, &k);
  if (!out) return NULL;
  if (each_column(x, "mode", mode_of, lurn_tensor_data(out)) != LURN_OK) {
    lurn_tensor_free(out);
    return NULL;
  }
  return out;
}

lurn_tensor *lurn_columns_affine(const lurn_tensor *x, const lurn_tensor *a, const lurn_tensor *b,
                                 lurn_affine_op op) {
  if (!check_matrix(x, "scale columns")) return NULL;
  int64_t n = x->shape[0], k = x->shape[1];
  if (!check_params(a, k, "scale columns") || !check_params(b, k, "scale columns")) return NULL;
  int sub_div = op == LURN_AFFINE_SUB_DIV;
  double *pa = params_of(a, k, sub_div ? 0.0 : 1.0), *pb = params_of(b, k, sub_div ? 1.0 : 0.0);
  lurn_tensor *c = lurn_tensor_contiguous(x);
  lurn_tensor *out = c ? lurn_tensor_empty(2, x->shape) : NULL;
  if (!pa || !pb || !out) {
    if (!pa || !pb) lurn_fail(LURN_ENOMEM, "scale columns: out of memory");
    free(pa);
    free(pb);
    lurn_tensor_free(c);
    lurn_tensor_free(out);
    return NULL;
  }
  const float *src = lurn_tensor_data(c);
  float *dst = lurn_tensor_data(out);
#pragma omp parallel for if (n * k > LURN_PARALLEL_MIN)
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < k; j++) {
      double v = src[i * k + j];
      dst[i * k + j] = (float)(sub_div ? (v - pa[j]) / pb[j] : v * pa[j] + pb[j]);
    }
  free(pa);
  free(pb);
  lurn_tensor_free(c);
  return out;
}

lurn_tensor *lurn_columns_fill(const lurn_tensor *x, float missing, const lurn_tensor *fill) {
  if (!check_matrix(x, "fill columns")) return NULL;
  int64_t n = x->shape[0], k = x->shape[1];
  if (!fill) {
    lurn_fail(LURN_EINVAL, "fill columns: no fill values");
    return NULL;
  }
  if (!check_params(fill, k, "fill columns")) return NULL;
  lurn_tensor *out = lurn_tensor_clone(x);
  if (!out) return NULL;
  float *d = lurn_tensor_data(out);
  int nan = missing != missing;
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < k; j++) {
      float v = d[i * k + j];
      if (nan ? v != v : v == missing) d[i * k + j] = lurn_tensor_data(fill)[j * fill->stride[0]];
    }
  return out;
}

lurn_tensor *lurn_rows_normalize(const lurn_tensor *x, lurn_norm norm, lurn_tensor **norms) {
  if (!check_matrix(x, "normalize")) return NULL;
  int64_t n = x->shape[0], k = x->shape[1];
  lurn_tensor *out = lurn_tensor_clone(x);
  lurn_tensor *nv = out ? lurn_tensor_empty(1, &n) : NULL;
  if (!nv) {
    lurn_tensor_free(out);
    return NULL;
  }
  float *d = lurn_tensor_data(out), *nd = lurn_tensor_data(nv);
  for (int64_t i = 0; i < n; i++) {
    float *row = d + i * k;
    double s = 0;
    for (int64_t j = 0; j < k; j++) {
      double v = row[j];
      if (!isfinite(v)) {
        lurn_fail(LURN_EINVAL, "normalize: row %lld holds %s at column %lld", (long long)i + 1,
                  v != v ? "NaN" : "an infinite value", (long long)j + 1);
        lurn_tensor_free(out);
        lurn_tensor_free(nv);
        return NULL;
      }
      if (norm == LURN_NORM_L1)
        s += fabs(v);
      else if (norm == LURN_NORM_L2)
        s += v * v;
      else if (fabs(v) > s)
        s = fabs(v);
    }
    float r = (float)(norm == LURN_NORM_L2 ? sqrt(s) : s);
    if (r < 10 * FLT_EPSILON) r = 1; /* sklearn's _handle_zeros_in_scale for float32 */
    nd[i] = r;
    for (int64_t j = 0; j < k; j++) row[j] = (float)(row[j] / (double)r);
  }
  if (norms)
    *norms = nv;
  else
    lurn_tensor_free(nv);
  return out;
}
