/* Views: reshape, transpose, permute, narrow and select share their input's storage. */
#include <string.h>

#include "core/checked.h"
#include "lurn.h"
#include "tensor/tensor_internal.h"

int lurn_check_dim(const lurn_tensor *t, int dim, const char *what) {
  if (dim >= 0 && dim < t->ndim) return 1;
  char buf[LURN_SHAPE_STR_MAX];
  lurn_fail(LURN_EINVAL, "%s: dimension %d out of range for a tensor of shape %s (1..%d)", what,
            dim + 1, lurn_shape_str(t, buf, sizeof buf), t->ndim);
  return 0;
}

lurn_tensor *lurn_tensor_reshape(const lurn_tensor *t, int ndim, const int64_t *shape) {
  if (ndim < 1 || ndim > LURN_MAX_DIMS) {
    lurn_fail(LURN_EINVAL, "reshape: tensors have 1 to %d dimensions, got %d", LURN_MAX_DIMS, ndim);
    return NULL;
  }
  int64_t resolved[LURN_MAX_DIMS], known = 1, n = lurn_tensor_numel(t);
  int infer = -1;
  for (int i = 0; i < ndim; i++) {
    resolved[i] = shape[i] == -1 && infer < 0 ? 1 : shape[i];
    if (shape[i] == -1 && infer < 0) infer = i;
    else if (shape[i] < 0) {
      lurn_fail(LURN_EINVAL, "reshape: invalid size %lld (only one -1 is allowed)", (long long)shape[i]);
      return NULL;
    }
  }
  /* Checked before multiplying: an empty tensor viewed as (0, 2^32, 2^32) has 0 elements
   * too, but strides past int64_t. */
  if (!lurn_check_shape(ndim, resolved) || !lurn_shape_numel(ndim, resolved, &known)) return NULL;
  if (infer >= 0) {
    if (known == 0 || n % known != 0) goto mismatch;
    resolved[infer] = n / known;
    known *= resolved[infer];
  }
  if (known != n) goto mismatch;

  lurn_tensor *src = lurn_tensor_contiguous(t);  /* reshape of a strided view copies */
  if (!src) return NULL;
  src->ndim = ndim;
  memcpy(src->shape, resolved, sizeof(int64_t) * ndim);
  lurn_set_contiguous_strides(src);
  return src;
mismatch: {
  char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
  lurn_tensor want = {.ndim = ndim};
  memcpy(want.shape, shape, sizeof(int64_t) * ndim);
  lurn_fail(LURN_EINVAL, "reshape: cannot view a tensor of shape %s (%lld elements) as %s",
            lurn_shape_str(t, a, sizeof a), (long long)n, lurn_shape_str(&want, b, sizeof b));
  return NULL;
}
}

lurn_tensor *lurn_tensor_transpose(const lurn_tensor *t, int d0, int d1) {
  if (!lurn_check_dim(t, d0, "transpose") || !lurn_check_dim(t, d1, "transpose")) return NULL;
  lurn_tensor *v = lurn_tensor_view(t);
  if (!v) return NULL;
  v->shape[d0] = t->shape[d1];
  v->shape[d1] = t->shape[d0];
  v->stride[d0] = t->stride[d1];
  v->stride[d1] = t->stride[d0];
  return v;
}

lurn_tensor *lurn_tensor_permute(const lurn_tensor *t, const int *dims) {
  int seen[LURN_MAX_DIMS] = {0};
  for (int i = 0; i < t->ndim; i++) {
    if (!lurn_check_dim(t, dims[i], "permute")) return NULL;
    if (seen[dims[i]]++) {
      lurn_fail(LURN_EINVAL, "permute: dimension %d appears twice", dims[i] + 1);
      return NULL;
    }
  }
  lurn_tensor *v = lurn_tensor_view(t);
  if (!v) return NULL;
  for (int i = 0; i < t->ndim; i++) {
    v->shape[i] = t->shape[dims[i]];
    v->stride[i] = t->stride[dims[i]];
  }
  return v;
}

lurn_tensor *lurn_tensor_narrow(const lurn_tensor *t, int dim, int64_t start, int64_t length) {
  if (!lurn_check_dim(t, dim, "narrow")) return NULL;
  int64_t size = t->shape[dim];
  if (start < 0 || length < 0 || start > size ||
      length > size - start) { /* no start + length: it may overflow */
    char buf[LURN_SHAPE_STR_MAX];
    lurn_fail(LURN_EINVAL,
              "narrow: start %lld and length %lld out of range for dimension %d of shape %s (1..%lld)",
              (long long)start + (start < INT64_MAX), (long long)length, dim + 1,
              lurn_shape_str(t, buf, sizeof buf), (long long)size);
    return NULL;
  }
  lurn_tensor *v = lurn_tensor_view(t);
  if (!v) return NULL;
  v->offset += start * t->stride[dim];
  v->shape[dim] = length;
  return v;
}

lurn_tensor *lurn_tensor_select(const lurn_tensor *t, int dim, int64_t index) {
  if (!lurn_check_dim(t, dim, "select")) return NULL;
  if (index < 0 || index >= t->shape[dim]) {
    char buf[LURN_SHAPE_STR_MAX];
    lurn_fail(LURN_EINVAL, "select: position %lld out of range for dimension %d of shape %s",
              (long long)index + (index < INT64_MAX), dim + 1, lurn_shape_str(t, buf, sizeof buf));
    return NULL;
  }
  if (t->ndim == 1) {  /* selecting from a vector leaves a 1-element vector */
    lurn_tensor *v = lurn_tensor_narrow(t, 0, index, 1);
    return v;
  }
  lurn_tensor *v = lurn_tensor_view(t);
  if (!v) return NULL;
  v->offset += index * t->stride[dim];
  for (int i = dim; i < t->ndim - 1; i++) {
    v->shape[i] = t->shape[i + 1];
    v->stride[i] = t->stride[i + 1];
  }
  v->ndim--;
  return v;
}
