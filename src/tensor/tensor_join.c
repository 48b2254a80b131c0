/* Joining (cat, stack) and gathering (index) into new packed tensors. */
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "lurn.h"
#include "tensor/tensor_internal.h"

lurn_tensor *lurn_tensor_cat(const lurn_tensor *const *ts, int n, int dim) {
  if (n < 1) {
    lurn_fail(LURN_EINVAL, "cat: expected at least one tensor");
    return NULL;
  }
  const lurn_tensor *first = ts[0];
  if (!lurn_check_dim(first, dim, "cat")) return NULL;
  int64_t shape[LURN_MAX_DIMS];
  memcpy(shape, first->shape, sizeof shape);
  shape[dim] = 0;
  for (int i = 0; i < n; i++) {
    int ok = ts[i]->ndim == first->ndim;
    for (int d = 0; ok && d < first->ndim; d++) ok = d == dim || ts[i]->shape[d] == first->shape[d];
    if (!ok) {
      char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
      lurn_fail(LURN_EINVAL, "cat: tensor %d has shape %s, which does not match %s outside dimension %d",
                i + 1, lurn_shape_str(ts[i], a, sizeof a), lurn_shape_str(first, b, sizeof b), dim + 1);
      return NULL;
    }
    if (!lurn_add_i64(shape[dim], ts[i]->shape[dim], &shape[dim])) {
      lurn_fail(LURN_EINVAL, "cat: the sizes along dimension %d add up past 2^63", dim + 1);
      return NULL;
    }
  }
  lurn_tensor *out = lurn_tensor_empty(first->ndim, shape);
  if (!out) return NULL;
  int64_t at = 0;
  for (int i = 0; i < n; i++) {
    lurn_tensor *part = lurn_tensor_narrow(out, dim, at, ts[i]->shape[dim]);
    if (!part) {
      lurn_tensor_free(out);
      return NULL;
    }
    lurn_strided_copy(lurn_tensor_data(part), part->stride, lurn_tensor_data(ts[i]), ts[i]->stride,
                      part->ndim, part->shape);
    lurn_tensor_free(part);
    at += ts[i]->shape[dim];
  }
  return out;
}

lurn_tensor *lurn_tensor_stack(const lurn_tensor *const *ts, int n, int dim) {
  if (n < 1) {
    lurn_fail(LURN_EINVAL, "stack: expected at least one tensor");
    return NULL;
  }
  if (dim < 0 || dim > ts[0]->ndim || ts[0]->ndim + 1 > LURN_MAX_DIMS) {
    lurn_fail(LURN_EINVAL, "stack: dimension %d out of range 1..%d", dim + 1, ts[0]->ndim + 1);
    return NULL;
  }
  for (int i = 1; i < n; i++) {
    if (!lurn_tensor_same_shape(ts[i], ts[0])) {
      char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
      lurn_fail(LURN_EINVAL, "stack: tensor %d has shape %s but tensor 1 has shape %s", i + 1,
                lurn_shape_str(ts[i], a, sizeof a), lurn_shape_str(ts[0], b, sizeof b));
      return NULL;
    }
  }
  /* Stacking is concatenating views that have a size-1 dimension inserted at dim. */
  lurn_tensor *views = malloc(sizeof(lurn_tensor) * (size_t)n);
  const lurn_tensor **ptrs = malloc(sizeof(*ptrs) * (size_t)n);
  if (!views || !ptrs) {
    free(views);
    free(ptrs);
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  for (int i = 0; i < n; i++) {
    lurn_tensor v = *ts[i];
    for (int d = v.ndim; d > dim; d--) {
      v.shape[d] = v.shape[d - 1];
      v.stride[d] = v.stride[d - 1];
    }
    v.shape[dim] = 1;
    v.stride[dim] = 0;
    v.ndim++;
    views[i] = v;
    ptrs[i] = &views[i];
  }
  lurn_tensor *out = lurn_tensor_cat(ptrs, n, dim);
  free(views);
  free(ptrs);
  return out;
}

lurn_status lurn_tensor_index_into(lurn_tensor *out, const lurn_tensor *t, int dim, const int64_t *index, int64_t n) {
  if (!lurn_check_dim(t, dim, "index")) return LURN_EINVAL;
  for (int64_t i = 0; i < n; i++) {
    if (index[i] < 0 || index[i] >= t->shape[dim]) {
      char buf[LURN_SHAPE_STR_MAX];
      return lurn_fail(LURN_EINVAL, "index: position %lld out of range 1..%lld for dimension %d of shape %s",
                       (long long)index[i] + 1, (long long)t->shape[dim], dim + 1, lurn_shape_str(t, buf, sizeof buf));
    }
  }
  int ok = out->ndim == t->ndim;
  for (int d = 0; ok && d < t->ndim; d++) ok = out->shape[d] == (d == dim ? n : t->shape[d]);
  if (ok && !lurn_tensor_is_contiguous(out))
    return lurn_fail(LURN_EINVAL, "index: the output must be contiguous (a transposed or strided view is not): "
                                  "gather without an output and copy the result into the view");
  if (!ok) {
    char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
    return lurn_fail(LURN_EINVAL, "index: output of shape %s cannot hold %lld slices of %s along dimension %d",
                     lurn_shape_str(out, a, sizeof a), (long long)n, lurn_shape_str(t, b, sizeof b), dim + 1);
  }
  if (n == 0) return LURN_OK;
  if (out->storage == t->storage) { /* out may overlap t: gather into a copy first, rows would mix */
    lurn_tensor *tmp = lurn_tensor_index(t, dim, index, n);
    if (!tmp) return LURN_ENOMEM;
    lurn_status st = lurn_tensor_copy_into(out, tmp);
    lurn_tensor_free(tmp);
    return st;
  }
  const float *s = lurn_tensor_data(t);
  float *o = lurn_tensor_data(out);
  if (t->ndim == 1) {  /* gathering from a vector: one element per index */
    for (int64_t i = 0; i < n; i++) o[i] = s[index[i] * t->stride[0]];
    return LURN_OK;
  }
  /* Copy one slice per index: out.select(dim, i) = t.select(dim, index[i]). */
  lurn_tensor src = *t, dst = *out;
  for (int d = dim; d < t->ndim - 1; d++) {
    src.shape[d] = t->shape[d + 1];
    src.stride[d] = t->stride[d + 1];
    dst.stride[d] = out->stride[d + 1];
  }
  int slice_ndim = t->ndim - 1;
#pragma omp parallel for if (lurn_tensor_numel(out) > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < n; i++)
    lurn_strided_copy(o + i * out->stride[dim], dst.stride, s + index[i] * t->stride[dim], src.stride, slice_ndim,
                      src.shape);
  return LURN_OK;
}

lurn_tensor *lurn_tensor_index(const lurn_tensor *t, int dim, const int64_t *index, int64_t n) {
  if (!lurn_check_dim(t, dim, "index")) return NULL;
  int64_t shape[LURN_MAX_DIMS];
  memcpy(shape, t->shape, sizeof shape);
  shape[dim] = n;
  lurn_tensor *out = lurn_tensor_empty(t->ndim, shape);
  if (!out) return NULL;
  if (lurn_tensor_index_into(out, t, dim, index, n) != LURN_OK) {
    lurn_tensor_free(out);
    return NULL;
  }
  return out;
}
