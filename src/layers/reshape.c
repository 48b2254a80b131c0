/* Reshape and Flatten: the same elements under another per-sample shape. Flatten is
 * Reshape to (-1). */
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

typedef struct {
  int ndim;
  int64_t shape[LURN_MAX_DIMS]; /* target per-sample shape; one size may be -1 */
} reshape;

static lurn_status reshape_build(lurn_layer *l, lurn_rng *rng) {
  (void)rng;
  reshape *r = l->impl;
  int64_t n = 1, known = 1;
  int infer = -1;
  for (int i = 0; i < l->in_ndim; i++) n *= l->in_shape[i];
  for (int i = 0; i < r->ndim; i++) {
    if (r->shape[i] == -1)
      infer = i;
    else if (known < 0 || !lurn_mul_i64(known, r->shape[i], &known))
      known = -1; /* sizes whose product overflows hold no input: refused below */
  }
  memcpy(l->out_shape, r->shape, sizeof(int64_t) * r->ndim);
  l->out_ndim = r->ndim;
  if (infer >= 0 && known > 0 && n % known == 0)
    l->out_shape[infer] = n / known;
  else if (infer >= 0)
    known = -1;
  if ((infer < 0 && known != n) || known < 0) {
    lurn_tensor in = {.ndim = l->in_ndim}, want = {.ndim = r->ndim};
    memcpy(in.shape, l->in_shape, sizeof(int64_t) * l->in_ndim);
    memcpy(want.shape, r->shape, sizeof(int64_t) * r->ndim);
    char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
    return lurn_fail(LURN_EINVAL, "%s: cannot reshape input of shape %s (%lld values per sample) to %s",
                     l->ops->type, lurn_shape_str(&in, a, sizeof a), (long long)n,
                     lurn_shape_str(&want, b, sizeof b));
  }
  return LURN_OK;
}

static lurn_status reshape_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  (void)l;
  (void)training;
  memcpy(lurn_tensor_data(y), lurn_tensor_data(x), sizeof(float) * (size_t)lurn_tensor_numel(x));
  return LURN_OK;
}

static lurn_status reshape_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                    const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  (void)l, (void)fuse;
  (void)x;
  (void)y;
  if (dx) memcpy(lurn_tensor_data(dx), lurn_tensor_data(dy), sizeof(float) * (size_t)lurn_tensor_numel(dy));
  return LURN_OK;
}

static void reshape_destroy(lurn_layer *l) {
  free(l->impl);
}

static const lurn_layer_ops reshape_ops = {.type = "Reshape",
                                           .build = reshape_build,
                                           .forward = reshape_forward,
                                           .backward = reshape_backward,
                                           .destroy = reshape_destroy};
static const lurn_layer_ops flatten_ops = {.type = "Flatten",
                                           .build = reshape_build,
                                           .forward = reshape_forward,
                                           .backward = reshape_backward,
                                           .destroy = reshape_destroy};

lurn_layer *lurn_reshape_new(const char *type, int ndim, const int64_t *shape) {
  int flatten = strcmp(type, "Flatten") == 0;
  if (flatten) ndim = 1;
  if (ndim < 1 || ndim >= LURN_MAX_DIMS) {
    lurn_fail(LURN_EINVAL, "Reshape: target shape must have 1 to %d sizes", LURN_MAX_DIMS - 1);
    return NULL;
  }
  reshape *r = calloc(1, sizeof *r);
  if (!r) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  r->ndim = ndim;
  int inferred = 0;
  for (int i = 0; i < ndim; i++) {
    r->shape[i] = flatten ? -1 : shape[i];
    if (r->shape[i] == -1) inferred++;
    if ((r->shape[i] < 1 && r->shape[i] != -1) || inferred > 1) {
      free(r);
      lurn_fail(LURN_EINVAL, "Reshape: sizes must be positive, with at most one -1");
      return NULL;
    }
  }
  lurn_layer *l = lurn_layer_alloc(flatten ? &flatten_ops : &reshape_ops, r);
  if (!l) free(r);
  return l;
}
