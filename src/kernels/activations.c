/* Activation functions by Keras name, forward and backward, over (rows, cols) data.
 * Every one propagates NaN, as TensorFlow and numpy: f(NaN) is NaN, never a number
 * (relu(NaN) = 0 would hide a broken input behind a normal-looking loss). */
#include <math.h>
#include <string.h>

#include "lurn.h"
#include "tensor/tensor_internal.h"

#define SELU_ALPHA 1.6732632423543772f
#define SELU_SCALE 1.0507009873554805f

static const char *const names[LURN_ACT_COUNT] = {
    "linear", "relu", "sigmoid", "tanh", "softmax", "softplus", "softsign", "selu", "elu", "leaky_relu", "gelu",
};

int lurn_activation_from_name(const char *name, lurn_activation *act) {
  for (int i = 0; i < LURN_ACT_COUNT; i++) {
    if (strcmp(name, names[i]) == 0) {
      *act = (lurn_activation)i;
      return 1;
    }
  }
  lurn_fail(LURN_EINVAL,
            "unknown activation '%s' (known: linear, relu, sigmoid, tanh, softmax, softplus, softsign, selu, "
            "elu, leaky_relu, gelu)",
            name);
  return 0;
}

const char *lurn_activation_name(lurn_activation act) {
  return act >= 0 && act < LURN_ACT_COUNT ? names[act] : "?";
}

static inline float sigmoid(float z) {
  if (z >= 0) return 1.0f / (1.0f + expf(-z));
  float e = expf(z);
  return e / (1.0f + e);
}

static inline float elementwise(lurn_activation act, float alpha, float z) {
  switch (act) {
    case LURN_ACT_RELU: return z > 0 || z != z ? z : 0.0f;
    case LURN_ACT_SIGMOID: return sigmoid(z);
    case LURN_ACT_TANH: return tanhf(z);
    case LURN_ACT_SOFTPLUS: return (z > 0 ? z : 0.0f) + log1pf(expf(-fabsf(z))); /* NaN: log1pf(NaN) */
    case LURN_ACT_SOFTSIGN: return z / (1.0f + fabsf(z));
    case LURN_ACT_SELU: return z > 0 ? SELU_SCALE * z : SELU_SCALE * SELU_ALPHA * expm1f(z);
    case LURN_ACT_ELU: return z > 0 ? z : alpha * expm1f(z);
    case LURN_ACT_LEAKY_RELU: return z > 0 ? z : alpha * z;
    case LURN_ACT_GELU: return 0.5f * z * (1.0f + erff(z * (float)M_SQRT1_2));
    default: return z;
  }
}

/* f'(z), given z and a = f(z). */
static inline float derivative(lurn_activation act, float alpha, float z, float a) {
  switch (act) {
    case LURN_ACT_RELU: return z > 0 ? 1.0f : 0.0f;
    case LURN_ACT_SIGMOID: return a * (1.0f - a);
    case LURN_ACT_TANH: return 1.0f - a * a;
    case LURN_ACT_SOFTPLUS: return sigmoid(z);
    case LURN_ACT_SOFTSIGN: {
      float d = 1.0f + fabsf(z);
      return 1.0f / (d * d);
    }
    case LURN_ACT_SELU: return z > 0 ? SELU_SCALE : a + SELU_SCALE * SELU_ALPHA;
    case LURN_ACT_ELU: return z > 0 ? 1.0f : a + alpha;
    case LURN_ACT_LEAKY_RELU: return z > 0 ? 1.0f : alpha;
    case LURN_ACT_GELU:
      return 0.5f * (1.0f + erff(z * (float)M_SQRT1_2)) + z * expf(-0.5f * z * z) * (float)(0.5 * M_2_SQRTPI * M_SQRT1_2);
    default: return 1.0f;
  }
}

static void softmax_row(const float *zr, float *ar, int64_t cols) {
  float m = zr[0];
  for (int64_t c = 1; c < cols; c++) m = zr[c] > m ? zr[c] : m; /* a NaN anywhere makes the sum NaN */
  float s = 0;
  for (int64_t c = 0; c < cols; c++) s += (ar[c] = expf(zr[c] - m));
  float inv = 1.0f / s;
  for (int64_t c = 0; c < cols; c++) ar[c] *= inv;
}

static void softmax_backward_row(const float *ar, const float *dar, float *dzr, int64_t cols) {
  float dot = 0;
  for (int64_t c = 0; c < cols; c++) dot += ar[c] * dar[c];
  for (int64_t c = 0; c < cols; c++) dzr[c] = ar[c] * (dar[c] - dot);
}

void lurn_activation_forward(lurn_activation act, float alpha, const float *z, float *a, int64_t rows,
                             int64_t cols) {
  int64_t n = rows * cols;
  const int big = n > LURN_PARALLEL_MIN;
  if (act == LURN_ACT_SOFTMAX) {
    LURN_FOR(big, r, rows, softmax_row(z + r * cols, a + r * cols, cols));
    return;
  }
  if (act == LURN_ACT_LINEAR) {
    if (a != z) memcpy(a, z, sizeof(float) * (size_t)n);
    return;
  }
  if (act == LURN_ACT_RELU) {  /* the common case, as its own loop so that it vectorises */
    LURN_FOR(big, i, n, a[i] = z[i] > 0 || z[i] != z[i] ? z[i] : 0.0f);
    return;
  }
  LURN_FOR(big, i, n, a[i] = elementwise(act, alpha, z[i]));
}

void lurn_activation_backward(lurn_activation act, float alpha, const float *z, const float *a,
                              const float *da, float *dz, int64_t rows, int64_t cols) {
  int64_t n = rows * cols;
  const int big = n > LURN_PARALLEL_MIN;
  if (act == LURN_ACT_SOFTMAX) {
    LURN_FOR(big, r, rows, softmax_backward_row(a + r * cols, da + r * cols, dz + r * cols, cols));
    return;
  }
  if (act == LURN_ACT_LINEAR) {
    if (dz != da) memcpy(dz, da, sizeof(float) * (size_t)n);
    return;
  }
  if (act == LURN_ACT_RELU) {
    LURN_FOR(big, i, n, dz[i] = (z[i] > 0 ? 1.0f : 0.0f) * da[i]);
    return;
  }
  LURN_FOR(big, i, n, dz[i] = derivative(act, alpha, z[i], a[i]) * da[i]);
}
