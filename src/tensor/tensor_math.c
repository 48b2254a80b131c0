/* Elementwise math with numpy broadcasting: binary ops, unary ops, clamp. */
#include <math.h>
#include <string.h>

#include "lurn.h"
#include "tensor/tensor_internal.h"

static inline float binary_apply(lurn_binary_op op, float x, float y) {
  switch (op) {
    case LURN_ADD: return x + y;
    case LURN_SUB: return x - y;
    case LURN_MUL: return x * y;
    case LURN_DIV: return x / y;
    case LURN_POW: return powf(x, y);
    case LURN_MAXIMUM: return (x != x || x > y) ? x : y;  /* NaN propagates, as numpy */
    case LURN_MINIMUM: return (x != x || x < y) ? x : y;
    case LURN_GT: return x > y;
    case LURN_LT: return x < y;
    case LURN_GE: return x >= y;
    case LURN_LE: return x <= y;
    case LURN_EQ: return x == y;
    case LURN_NE: return x != y;
  }
  return 0;
}

static inline float unary_apply(lurn_unary_op op, float x) {
  switch (op) {
    case LURN_NEG: return -x;
    case LURN_EXP: return expf(x);
    case LURN_LOG: return logf(x);
    case LURN_SQRT: return sqrtf(x);
    case LURN_ABS: return fabsf(x);
    case LURN_SIGN: return (float)((x > 0) - (x < 0));
    case LURN_SQUARE: return x * x;
    case LURN_TANH: return tanhf(x);
    case LURN_SIGMOID: return x >= 0 ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x));
    case LURN_RELU: return x > 0 || x != x ? x : 0.0f; /* relu(NaN) is NaN, as numpy */
    case LURN_FLOOR: return floorf(x);
    case LURN_CEIL: return ceilf(x);
    case LURN_ROUND: return nearbyintf(x);  /* half to even, as numpy */
    case LURN_ISNAN: return x != x;
  }
  return 0;
}

int lurn_broadcast_shape(const lurn_tensor *a, const lurn_tensor *b, int *ndim, int64_t *shape) {
  int n = a->ndim > b->ndim ? a->ndim : b->ndim;
  for (int i = 0; i < n; i++) {
    int ia = i - (n - a->ndim), ib = i - (n - b->ndim);
    int64_t sa = ia >= 0 ? a->shape[ia] : 1, sb = ib >= 0 ? b->shape[ib] : 1;
    if (sa != sb && sa != 1 && sb != 1) return 0;
    shape[i] = sa == 1 ? sb : sa;
  }
  *ndim = n;
  return 1;
}

lurn_tensor *lurn_binary(lurn_binary_op op, const lurn_tensor *a, const lurn_tensor *b) {
  int ndim;
  int64_t shape[LURN_MAX_DIMS], sa[LURN_MAX_DIMS], sb[LURN_MAX_DIMS];
  if (!lurn_broadcast_shape(a, b, &ndim, shape)) {
    char x[LURN_SHAPE_STR_MAX], y[LURN_SHAPE_STR_MAX];
    lurn_fail(LURN_EINVAL, "shapes %s and %s cannot be broadcast together",
              lurn_shape_str(a, x, sizeof x), lurn_shape_str(b, y, sizeof y));
    return NULL;
  }
  lurn_tensor *out = lurn_tensor_empty(ndim, shape);
  if (!out) return NULL;
  float *o = lurn_tensor_data(out);
  const float *pa = lurn_tensor_data(a), *pb = lurn_tensor_data(b);
  int64_t n = lurn_tensor_numel(out);

  if (lurn_tensor_same_shape(a, b) && lurn_tensor_is_contiguous(a) && lurn_tensor_is_contiguous(b)) {
#pragma omp parallel for if (n > LURN_PARALLEL_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++) o[i] = binary_apply(op, pa[i], pb[i]);
    return out;
  }
  lurn_broadcast_strides(a, ndim, shape, sa);
  lurn_broadcast_strides(b, ndim, shape, sb);
  if (n == 0) return out;
  /* Walk the output in order; inner dimension as a plain loop. */
  int64_t idx[LURN_MAX_DIMS] = {0}, oa = 0, ob = 0, inner = shape[ndim - 1];
  int64_t ia = sa[ndim - 1], ib = sb[ndim - 1];
  for (int64_t base = 0; base < n; base += inner) {
    for (int64_t k = 0; k < inner; k++) o[base + k] = binary_apply(op, pa[oa + k * ia], pb[ob + k * ib]);
    for (int d = ndim - 2; d >= 0; d--) {
      idx[d]++;
      oa += sa[d];
      ob += sb[d];
      if (idx[d] < shape[d]) break;
      oa -= sa[d] * shape[d];
      ob -= sb[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

lurn_tensor *lurn_binary_scalar(lurn_binary_op op, const lurn_tensor *a, float s, int scalar_first) {
  lurn_tensor *out = lurn_tensor_contiguous(a);
  if (!out) return NULL;
  lurn_tensor *res = lurn_tensor_empty(a->ndim, a->shape);
  if (!res) {
    lurn_tensor_free(out);
    return NULL;
  }
  const float *x = lurn_tensor_data(out);
  float *o = lurn_tensor_data(res);
  int64_t n = lurn_tensor_numel(a);
  if (scalar_first) {
#pragma omp parallel for if (n > LURN_PARALLEL_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++) o[i] = binary_apply(op, s, x[i]);
  } else {
#pragma omp parallel for if (n > LURN_PARALLEL_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++) o[i] = binary_apply(op, x[i], s);
  }
  lurn_tensor_free(out);
  return res;
}

lurn_status lurn_binary_inplace(lurn_binary_op op, lurn_tensor *a, const lurn_tensor *b) {
  int64_t sb[LURN_MAX_DIMS];
  if (!lurn_broadcast_strides(b, a->ndim, a->shape, sb)) {
    char x[LURN_SHAPE_STR_MAX], y[LURN_SHAPE_STR_MAX];
    return lurn_fail(LURN_EINVAL, "in-place: shape %s cannot be broadcast to %s", lurn_shape_str(b, x, sizeof x),
                     lurn_shape_str(a, y, sizeof y));
  }
  lurn_tensor *bc = NULL;
  if (a->storage == b->storage) {  /* b may overlap a: read it from a copy */
    if (!(bc = lurn_tensor_clone(b))) return LURN_ENOMEM;
    lurn_broadcast_strides(bc, a->ndim, a->shape, sb);
  }
  const float *pb = lurn_tensor_data(bc ? bc : b);
  float *pa = lurn_tensor_data(a);
  int64_t n = lurn_tensor_numel(a);
  if (n > 0) {
    int nd = a->ndim;
    int64_t idx[LURN_MAX_DIMS] = {0}, oa = 0, ob = 0, inner = a->shape[nd - 1];
    int64_t ia = a->stride[nd - 1], ib = sb[nd - 1];
    for (int64_t base = 0; base < n; base += inner) {
      for (int64_t k = 0; k < inner; k++) pa[oa + k * ia] = binary_apply(op, pa[oa + k * ia], pb[ob + k * ib]);
      for (int d = nd - 2; d >= 0; d--) {
        idx[d]++;
        oa += a->stride[d];
        ob += sb[d];
        if (idx[d] < a->shape[d]) break;
        oa -= a->stride[d] * a->shape[d];
        ob -= sb[d] * a->shape[d];
        idx[d] = 0;
      }
    }
  }
  lurn_tensor_free(bc);
  return LURN_OK;
}

void lurn_binary_scalar_inplace(lurn_binary_op op, lurn_tensor *a, float s) {
  if (lurn_tensor_is_contiguous(a)) {
    float *x = lurn_tensor_data(a);
    int64_t n = lurn_tensor_numel(a);
#pragma omp parallel for if (n > LURN_PARALLEL_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++) x[i] = binary_apply(op, x[i], s);
    return;
  }
  int64_t one = 1;
  lurn_tensor *st = lurn_tensor_full(1, &one, s);
  if (st) lurn_binary_inplace(op, a, st);
  lurn_tensor_free(st);
}

lurn_tensor *lurn_unary(lurn_unary_op op, const lurn_tensor *a) {
  lurn_tensor *res = lurn_tensor_clone(a);
  if (!res) return NULL;
  float *o = lurn_tensor_data(res);
  int64_t n = lurn_tensor_numel(res);
#pragma omp parallel for if (n > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < n; i++) o[i] = unary_apply(op, o[i]);
  return res;
}

lurn_tensor *lurn_clamp(const lurn_tensor *a, float lo, float hi) {
  if (lo > hi) {
    lurn_fail(LURN_EINVAL, "clamp: min (%g) is greater than max (%g)", lo, hi);
    return NULL;
  }
  lurn_tensor *res = lurn_tensor_clone(a);
  if (!res) return NULL;
  float *o = lurn_tensor_data(res);
  int64_t n = lurn_tensor_numel(res);
#pragma omp parallel for if (n > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < n; i++) o[i] = o[i] < lo ? lo : (o[i] > hi ? hi : o[i]);
  return res;
}
