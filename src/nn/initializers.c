/* Weight initializers with Keras' formulas: variance scaling over fan_in/fan_out
 * computed from the weight shape, truncated normals cut at two standard deviations. */
#include <math.h>

#include "lurn.h"

/* Keras _compute_fans: (in, out) for a matrix; kernels multiply by the receptive field. */
static void fans(const lurn_tensor *t, double *fan_in, double *fan_out) {
  if (t->ndim == 1) {
    *fan_in = *fan_out = (double)t->shape[0];
    return;
  }
  double receptive = 1;
  for (int i = 0; i < t->ndim - 2; i++) receptive *= (double)t->shape[i];
  *fan_in = (double)t->shape[t->ndim - 2] * receptive;
  *fan_out = (double)t->shape[t->ndim - 1] * receptive;
}

static void fill_uniform(float *d, int64_t n, lurn_rng *rng, double lo, double hi) {
  for (int64_t i = 0; i < n; i++) d[i] = (float)(lo + (hi - lo) * lurn_rng_uniform(rng));
}

static void fill_truncated_normal(float *d, int64_t n, lurn_rng *rng, double mean, double stddev) {
  for (int64_t i = 0; i < n; i++) {
    double v;
    do v = lurn_rng_normal(rng);
    while (fabs(v) > 2.0);
    d[i] = (float)(mean + stddev * v);
  }
}

/* Keras' Orthogonal: a normal matrix of shape (max(rows, cols), min(rows, cols)), with
 * rows = the product of all dimensions but the last, cols = the last; its QR factor q with
 * the signs of diag(r) folded in (the QR whose r has a positive diagonal), transposed when
 * rows < cols, times gain. That q is what Gram-Schmidt gives, so the columns of the normal
 * matrix are orthonormalised in place (modified Gram-Schmidt, twice for float32 accuracy,
 * sums in double): when rows >= cols they are d's columns, else d's rows (the transpose).
 * A 1-D tensor is taken as one row (Keras refuses it; lurn_layer_add_param does too). */
static void fill_orthogonal(float *d, const lurn_tensor *t, lurn_rng *rng, double gain) {
  int64_t cols = t->ndim ? t->shape[t->ndim - 1] : 1, rows = lurn_tensor_numel(t) / (cols ? cols : 1);
  int64_t m = rows >= cols ? rows : cols, n = rows >= cols ? cols : rows;
  /* element (i, j) of the m x n matrix a, i < m, j < n, lives at d[at(i, j)] */
  int64_t row_step = rows >= cols ? n : 1, col_step = rows >= cols ? 1 : m;
#define AT(i, j) d[(i) * row_step + (j) * col_step]
  for (int64_t i = 0; i < m; i++) /* drawn in a's row-major order, as Keras draws */
    for (int64_t j = 0; j < n; j++) AT(i, j) = (float)lurn_rng_normal(rng);
  for (int64_t j = 0; j < n; j++) {
    for (int pass = 0; pass < 2; pass++)
      for (int64_t k = 0; k < j; k++) {
        double dot = 0;
        for (int64_t i = 0; i < m; i++) dot += (double)AT(i, k) * AT(i, j);
        for (int64_t i = 0; i < m; i++) AT(i, j) = (float)(AT(i, j) - dot * AT(i, k));
      }
    double norm = 0;
    for (int64_t i = 0; i < m; i++) norm += (double)AT(i, j) * AT(i, j);
    norm = sqrt(norm);
    for (int64_t i = 0; i < m; i++) AT(i, j) = (float)(norm > 0 ? AT(i, j) / norm : 0);
  }
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) AT(i, j) = (float)(gain * AT(i, j));
#undef AT
}

void lurn_initialize(lurn_tensor *t, const lurn_initializer *init, lurn_rng *rng) {
  /* Parameters are always packed; they are created by lurn_layer_add_param. */
  float *d = lurn_tensor_data(t);
  int64_t n = lurn_tensor_numel(t);
  double fan_in, fan_out;
  fans(t, &fan_in, &fan_out);
  double avg = (fan_in + fan_out) / 2;
  /* stddev of a unit normal truncated at +-2, to keep the variance Keras aims for */
  const double truncation = 0.87962566103423978;
  switch (init->kind) {
    case LURN_INIT_ZEROS: lurn_tensor_fill(t, 0); break;
    case LURN_INIT_ONES: lurn_tensor_fill(t, 1); break;
    case LURN_INIT_CONSTANT: lurn_tensor_fill(t, init->a); break;
    case LURN_INIT_RANDOM_NORMAL:
      for (int64_t i = 0; i < n; i++) d[i] = (float)(init->a + init->b * lurn_rng_normal(rng));
      break;
    case LURN_INIT_TRUNCATED_NORMAL: fill_truncated_normal(d, n, rng, init->a, init->b); break;
    case LURN_INIT_RANDOM_UNIFORM: fill_uniform(d, n, rng, init->a, init->b); break;
    case LURN_INIT_GLOROT_UNIFORM: {
      double limit = sqrt(3.0 / avg);
      fill_uniform(d, n, rng, -limit, limit);
      break;
    }
    case LURN_INIT_GLOROT_NORMAL: fill_truncated_normal(d, n, rng, 0, sqrt(1.0 / avg) / truncation); break;
    case LURN_INIT_HE_NORMAL: fill_truncated_normal(d, n, rng, 0, sqrt(2.0 / fan_in) / truncation); break;
    case LURN_INIT_HE_UNIFORM: {
      double limit = sqrt(6.0 / fan_in);
      fill_uniform(d, n, rng, -limit, limit);
      break;
    }
    case LURN_INIT_LECUN_NORMAL: fill_truncated_normal(d, n, rng, 0, sqrt(1.0 / fan_in) / truncation); break;
    case LURN_INIT_LECUN_UNIFORM: {
      double limit = sqrt(3.0 / fan_in);
      fill_uniform(d, n, rng, -limit, limit);
      break;
    }
    case LURN_INIT_ORTHOGONAL: fill_orthogonal(d, t, rng, init->a); break;
  }
}
