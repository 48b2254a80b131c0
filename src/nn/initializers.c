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
  }
}
