/* Tensors: shape + strides + offset over a reference-counted float storage.
 * Views share storage; only contiguous()/clone() copy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "lurn.h"
#include "tensor/tensor_internal.h"

struct lurn_storage {
  float *data;
  int64_t size;
  int refcount;
};

static lurn_storage *storage_new(int64_t size) {
  lurn_storage *s = malloc(sizeof *s);
  if (!s) return NULL;
  /* 64-byte alignment for SIMD loads; at least one element so data is never NULL. */
  size_t bytes = ((size_t)(size > 0 ? size : 1) * sizeof(float) + 63) & ~(size_t)63;
  s->data = aligned_alloc(64, bytes);
  if (!s->data) {
    free(s);
    return NULL;
  }
  s->size = size;
  s->refcount = 1;
  return s;
}

static void storage_release(lurn_storage *s) {
  if (s && --s->refcount == 0) {
    free(s->data);
    free(s);
  }
}

/* The largest span (product of the sizes, zeros counted as 1) a tensor may have: its
 * strides, offsets and byte count stay within int64_t and size_t. A zero size does not
 * make the others harmless: (0, 2^40, 2^40) has strides of 2^40 and 2^80. */
#define MAX_SPAN (INT64_MAX / (int64_t)sizeof(float))

int lurn_check_shape(int ndim, const int64_t *shape) {
  if (ndim < 1 || ndim > LURN_MAX_DIMS) {
    lurn_fail(LURN_EINVAL, "tensors have 1 to %d dimensions, got %d", LURN_MAX_DIMS, ndim);
    return 0;
  }
  int64_t span = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0) {
      lurn_fail(LURN_EINVAL, "size of dimension %d is negative (%lld)", i + 1, (long long)shape[i]);
      return 0;
    }
    if (!lurn_mul_i64(span, shape[i] > 0 ? shape[i] : 1, &span) || span > MAX_SPAN) {
      char buf[LURN_SHAPE_STR_MAX];
      lurn_tensor tmp = {.ndim = ndim};
      memcpy(tmp.shape, shape, sizeof(int64_t) * (size_t)ndim);
      lurn_fail(LURN_EINVAL, "tensor of shape %s is too large: its sizes multiply to 2^61 elements or more",
                lurn_shape_str(&tmp, buf, sizeof buf));
      return 0;
    }
  }
  return 1;
}

void lurn_set_contiguous_strides(lurn_tensor *t) {
  int64_t s = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    t->stride[i] = s;
    s *= t->shape[i];
  }
}

lurn_tensor *lurn_tensor_empty(int ndim, const int64_t *shape) {
  if (!lurn_check_shape(ndim, shape)) return NULL;
  lurn_tensor *t = calloc(1, sizeof *t);
  if (!t) goto oom;
  t->ndim = ndim;
  memcpy(t->shape, shape, sizeof(int64_t) * ndim);
  lurn_set_contiguous_strides(t);
  t->storage = storage_new(lurn_tensor_numel(t));
  if (!t->storage) {
    free(t);
    goto oom;
  }
  return t;
oom: {
  char buf[LURN_SHAPE_STR_MAX];
  lurn_tensor tmp = {.ndim = ndim};
  memcpy(tmp.shape, shape, sizeof(int64_t) * ndim);
  lurn_fail(LURN_ENOMEM, "out of memory allocating a tensor of shape %s",
            lurn_shape_str(&tmp, buf, sizeof buf));
  return NULL;
}
}

lurn_tensor *lurn_tensor_zeros(int ndim, const int64_t *shape) {
  lurn_tensor *t = lurn_tensor_empty(ndim, shape);
  if (t) memset(t->storage->data, 0, sizeof(float) * (size_t)lurn_tensor_numel(t));
  return t;
}

lurn_tensor *lurn_tensor_full(int ndim, const int64_t *shape, float value) {
  lurn_tensor *t = lurn_tensor_empty(ndim, shape);
  if (t) lurn_tensor_fill(t, value);
  return t;
}

lurn_tensor *lurn_tensor_arange(double start, double stop, double step) {
  if (step == 0 || !isfinite(start) || !isfinite(stop) || !isfinite(step)) {
    lurn_fail(LURN_EINVAL, "arange: step must be non-zero and start, stop and step finite");
    return NULL;
  }
  double count = ceil((stop - start) / step); /* stop is exclusive */
  int64_t n = 0;
  if (count > 0 && !lurn_i64_from_double(count, &n)) {
    lurn_fail(LURN_EINVAL, "arange: %g to %g by %g gives too many elements", start, stop, step);
    return NULL;
  }
  lurn_tensor *t = lurn_tensor_empty(1, &n);
  if (!t) return NULL;
  float *d = lurn_tensor_data(t);
  for (int64_t i = 0; i < n; i++) d[i] = (float)(start + (double)i * step);
  return t;
}

lurn_tensor *lurn_tensor_view(const lurn_tensor *t) {
  lurn_tensor *v = malloc(sizeof *v);
  if (!v) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  *v = *t;
  v->storage->refcount++;
  return v;
}

void lurn_tensor_free(lurn_tensor *t) {
  if (!t) return;
  storage_release(t->storage);
  free(t);
}

int64_t lurn_tensor_storage_size(const lurn_tensor *t) { return t->storage->size; }

float *lurn_tensor_data(const lurn_tensor *t) { return t->storage->data + t->offset; }

int64_t lurn_tensor_numel(const lurn_tensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
  return n;
}

int lurn_tensor_is_contiguous(const lurn_tensor *t) {
  int64_t s = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    if (t->shape[i] != 1 && t->stride[i] != s) return 0;
    s *= t->shape[i];
  }
  return 1;
}

int lurn_tensor_same_shape(const lurn_tensor *a, const lurn_tensor *b) {
  if (a->ndim != b->ndim) return 0;
  for (int i = 0; i < a->ndim; i++)
    if (a->shape[i] != b->shape[i]) return 0;
  return 1;
}

char *lurn_shape_str(const lurn_tensor *t, char *buf, size_t size) {
  size_t used = (size_t)snprintf(buf, size, "(");
  for (int i = 0; i < t->ndim && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, i ? ", %lld" : "%lld", (long long)t->shape[i]);
  if (used < size) snprintf(buf + used, size - used, t->ndim == 1 ? ",)" : ")");
  return buf;
}

/* dst[i] = src[i] for every position i of `shape`, each side addressed through its
 * own strides (a stride of 0 repeats an element: broadcasting). */
void lurn_strided_copy(float *dst, const int64_t *dst_stride, const float *src,
                       const int64_t *src_stride, int ndim, const int64_t *shape) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  if (n == 0) return;
  int64_t idx[LURN_MAX_DIMS] = {0};
  int last = ndim - 1;
  int64_t inner = shape[last], ds = dst_stride[last], ss = src_stride[last];
  int64_t doff = 0, soff = 0;
  for (;;) {
    for (int64_t k = 0; k < inner; k++) dst[doff + k * ds] = src[soff + k * ss];
    int d = last - 1;
    for (; d >= 0; d--) {
      idx[d]++;
      doff += dst_stride[d];
      soff += src_stride[d];
      if (idx[d] < shape[d]) break;
      doff -= dst_stride[d] * shape[d];
      soff -= src_stride[d] * shape[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

lurn_tensor *lurn_tensor_clone(const lurn_tensor *t) {
  lurn_tensor *c = lurn_tensor_empty(t->ndim, t->shape);
  if (!c) return NULL;
  lurn_strided_copy(lurn_tensor_data(c), c->stride, lurn_tensor_data(t), t->stride, t->ndim, t->shape);
  return c;
}

lurn_tensor *lurn_tensor_contiguous(const lurn_tensor *t) {
  return lurn_tensor_is_contiguous(t) ? lurn_tensor_view(t) : lurn_tensor_clone(t);
}

lurn_status lurn_tensor_copy_into(lurn_tensor *dst, const lurn_tensor *src) {
  int64_t bstride[LURN_MAX_DIMS];
  if (!lurn_broadcast_strides(src, dst->ndim, dst->shape, bstride)) {
    char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
    return lurn_fail(LURN_EINVAL, "copy: source of shape %s does not fit destination of shape %s",
                     lurn_shape_str(src, a, sizeof a), lurn_shape_str(dst, b, sizeof b));
  }
  if (dst->storage == src->storage) {  /* overlapping views: go through a copy */
    lurn_tensor *tmp = lurn_tensor_clone(src);
    if (!tmp) return LURN_ENOMEM;
    lurn_strided_copy(lurn_tensor_data(dst), dst->stride, lurn_tensor_data(tmp), bstride, dst->ndim, dst->shape);
    lurn_tensor_free(tmp);
    return LURN_OK;
  }
  lurn_strided_copy(lurn_tensor_data(dst), dst->stride, lurn_tensor_data(src), bstride, dst->ndim, dst->shape);
  return LURN_OK;
}

void lurn_tensor_fill(lurn_tensor *t, float value) {
  if (lurn_tensor_is_contiguous(t)) {
    float *d = lurn_tensor_data(t);
    int64_t n = lurn_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) d[i] = value;
    return;
  }
  int64_t zero[LURN_MAX_DIMS] = {0};
  lurn_strided_copy(lurn_tensor_data(t), t->stride, &value, zero, t->ndim, t->shape);
}

int lurn_broadcast_strides(const lurn_tensor *t, int ndim, const int64_t *shape, int64_t *stride) {
  if (t->ndim > ndim) return 0;
  int lead = ndim - t->ndim;
  for (int i = 0; i < ndim; i++) {
    if (i < lead) {
      stride[i] = 0;
      continue;
    }
    int64_t s = t->shape[i - lead];
    if (s == shape[i]) stride[i] = t->stride[i - lead];
    else if (s == 1) stride[i] = 0;
    else return 0;
  }
  return 1;
}
