/* Residual: y = F(x) + x, where F is a stack of layers run as an inner Sequential, or
 * y = F(x) + P(x) with a projection layer P when F changes the shape. A layer built on a
 * model (model.c), so it lives here in nn/ beside it: src/layers/ depends on nothing above
 * the layer interface. The block holds a
 * reference to P, and its inner model one to each inner layer, so they live as long as
 * the block. The inner model does not claim its layers: the model running the block
 * claims them all, from its forward to its backward (lurn_layer_claim). */
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

#define MAX_INNER 64

typedef struct {
  lurn_model *inner;
  lurn_layer *layers[MAX_INNER + 1];  /* the inner layers, then the projection */
  int n;
  lurn_layer *projection;
  lurn_tensor *shortcut;      /* P(x) of the last forward */
  lurn_tensor *shortcut_dx;   /* dL/dx through P */
} residual;

static int same_shape(int na, const int64_t *a, int nb, const int64_t *b) {
  if (na != nb) return 0;
  for (int i = 0; i < na; i++)
    if (a[i] != b[i]) return 0;
  return 1;
}

static const char *shape_text(int ndim, const int64_t *shape, char *buf, size_t size) {
  lurn_tensor t = {.ndim = ndim};
  memcpy(t.shape, shape, sizeof(int64_t) * ndim);
  return lurn_shape_str(&t, buf, size);
}

static lurn_status residual_build(lurn_layer *l, lurn_rng *rng) {
  residual *r = l->impl;
  lurn_status st = lurn_model_build(r->inner, l->in_ndim, l->in_shape, rng);
  if (st) return st;
  lurn_layer *top = lurn_model_layer(r->inner, lurn_model_size(r->inner) - 1);
  l->out_ndim = top->out_ndim;
  memcpy(l->out_shape, top->out_shape, sizeof(int64_t) * top->out_ndim);
  char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
  if (r->projection) {
    if ((st = lurn_layer_build(r->projection, l->in_ndim, l->in_shape, rng))) return st;
    if (!same_shape(r->projection->out_ndim, r->projection->out_shape, l->out_ndim, l->out_shape))
      return lurn_fail(LURN_EINVAL, "Residual: the projection gives shape %s but the block gives %s",
                       shape_text(r->projection->out_ndim, r->projection->out_shape, a, sizeof a),
                       shape_text(l->out_ndim, l->out_shape, b, sizeof b));
  } else if (!same_shape(l->in_ndim, l->in_shape, l->out_ndim, l->out_shape)) {
    return lurn_fail(LURN_EINVAL,
                     "Residual: the block maps shape %s to %s, so its input cannot be added to its output; "
                     "give a projection layer (e.g. a Dense or a 1x1 Conv2D)",
                     shape_text(l->in_ndim, l->in_shape, a, sizeof a), shape_text(l->out_ndim, l->out_shape, b, sizeof b));
  }
  return LURN_OK;
}

static lurn_status residual_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  residual *r = l->impl;
  const lurn_tensor *fx;
  lurn_status st = lurn_model_forward(r->inner, x, training, &fx);
  if (st) return st;
  l->nested_penalty = lurn_model_activity_penalty(r->inner);
  const lurn_tensor *shortcut = x;
  if (r->projection) {
    if ((st = lurn_buffer_ensure(&r->shortcut, y->ndim, y->shape))) return st;
    if ((st = r->projection->ops->forward(r->projection, x, r->shortcut, training))) return st;
    shortcut = r->shortcut;
  }
  const float *a = lurn_tensor_data(fx), *b = lurn_tensor_data(shortcut);
  float *out = lurn_tensor_data(y);
  int64_t n = lurn_tensor_numel(y);
#pragma omp parallel for if (n > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
  return LURN_OK;
}

static lurn_status residual_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y, const lurn_tensor *dy,
                                     lurn_tensor *dx) {
  (void)y;
  residual *r = l->impl;
  lurn_status st = lurn_model_backward(r->inner, x, dy, dx);
  if (st) return st;
  const float *extra = lurn_tensor_data(dy);  /* identity shortcut: dL/dx += dy */
  if (r->projection) {
    lurn_tensor *pdx = NULL;
    if (dx) {
      if ((st = lurn_buffer_ensure(&r->shortcut_dx, x->ndim, x->shape))) return st;
      pdx = r->shortcut_dx;
    }
    if ((st = r->projection->ops->backward(r->projection, x, r->shortcut, dy, pdx))) return st;
    extra = pdx ? lurn_tensor_data(pdx) : NULL;
  }
  if (dx && extra) {
    float *d = lurn_tensor_data(dx);
    int64_t n = lurn_tensor_numel(dx);
    for (int64_t i = 0; i < n; i++) d[i] += extra[i];
  }
  return LURN_OK;
}

static int residual_children(const lurn_layer *l, lurn_layer **out, int max) {
  const residual *r = l->impl;
  int n = r->n < max ? r->n : max;
  memcpy(out, r->layers, sizeof(lurn_layer *) * (size_t)n);
  return n;
}

static void residual_destroy(lurn_layer *l) {
  residual *r = l->impl;
  lurn_model_free(r->inner);
  lurn_layer_free(r->projection);
  lurn_tensor_free(r->shortcut);
  lurn_tensor_free(r->shortcut_dx);
  free(r);
}

static const lurn_layer_ops residual_ops = {.type = "Residual",
                                            .build = residual_build,
                                            .forward = residual_forward,
                                            .backward = residual_backward,
                                            .destroy = residual_destroy,
                                            .children = residual_children};

lurn_layer *lurn_residual_new(lurn_layer *const *layers, int n, lurn_layer *projection) {
  if (n < 1 || n > MAX_INNER) {
    lurn_fail(LURN_EINVAL, "Residual: a block holds 1 to %d layers, got %d", MAX_INNER, n);
    return NULL;
  }
  residual *r = calloc(1, sizeof *r);
  if (!r || !(r->inner = lurn_model_new())) {
    free(r);
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  lurn_model_set_inner(r->inner);
  for (int i = 0; i < n; i++) {
    if (lurn_model_add(r->inner, layers[i]) != LURN_OK) {
      residual_destroy(&(lurn_layer){.impl = r});
      return NULL;
    }
    r->layers[r->n++] = layers[i];
  }
  r->projection = lurn_layer_retain(projection);
  if (projection) r->layers[r->n++] = projection;
  lurn_layer *l = lurn_layer_alloc(&residual_ops, r);
  if (!l) residual_destroy(&(lurn_layer){.impl = r});
  return l;
}
