/* TimeDistributed: the same inner layer applied to every step of a sequence, x (N, steps,
 * ...) -> y (N, steps, ...inner output). The batch is handed to the inner layer as
 * (N * steps, ...), a view of the same memory: one call, no copies.
 *
 * A container: the inner layer's parameters are its own, reached through children() so
 * that the model trains, regularizes and claims them; the container tells the inner
 * layer's observer of its forward and backward as a graph does. The inner layer's own
 * fused paths are not used (the container's activation is linear, so dy is dL/dy).
 * An activity_regularizer on the inner layer is divided by N * steps, the batch the inner
 * layer sees, as in Keras (whose TimeDistributed calls the layer on the reshaped batch):
 * its value goes to nested_penalty, its gradient onto a copy of dy. */
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

typedef struct {
  lurn_layer *inner;
  lurn_tensor *dy; /* dy plus the inner activity penalty's gradient */
} time_distributed;

static int has_activity_penalty(const lurn_layer *l) {
  return l->activity_regularizer.l1 != 0 || l->activity_regularizer.l2 != 0;
}

/* t's first two dimensions (N, steps) as one, the rest per_ndim sizes from per. */
static lurn_tensor merged(const lurn_tensor *t, int per_ndim, const int64_t *per) {
  lurn_tensor v = {.storage = t->storage, .offset = t->offset, .ndim = per_ndim + 1};
  v.shape[0] = t->shape[0] * t->shape[1];
  memcpy(v.shape + 1, per, sizeof(int64_t) * (size_t)per_ndim);
  lurn_set_contiguous_strides(&v);
  return v;
}

static lurn_status time_distributed_build(lurn_layer *l, lurn_rng *rng) {
  time_distributed *t = l->impl;
  lurn_layer *in = t->inner;
  if (l->in_ndim < 2) {
    lurn_tensor s = {.ndim = l->in_ndim, .shape = {l->in_shape[0]}};
    char buf[LURN_SHAPE_STR_MAX];
    return lurn_fail(LURN_EINVAL,
                     "TimeDistributed: expects input of shape (steps, ...) per sample with at least one size "
                     "after the steps, got %s",
                     lurn_shape_str(&s, buf, sizeof buf));
  }
  lurn_status st = lurn_layer_build(in, l->in_ndim - 1, l->in_shape + 1, rng);
  if (st) return st;
  /* a mask the inner layer makes would be (N * steps, inner steps): lurn's masks are (N,
   * steps), so it would be lost, and what reads the steps after would average padding */
  if (lurn_layer_mask_rule(in) == LURN_MASK_MAKE)
    return lurn_fail(LURN_EINVAL, "TimeDistributed: a %s that makes a mask (mask_zero, Masking) cannot run inside it yet",
                     in->ops->type);
  if (in->out_ndim + 1 >= LURN_MAX_DIMS)
    return lurn_fail(LURN_EINVAL, "TimeDistributed: the inner %s layer's output has too many dimensions",
                     in->ops->type);
  l->out_ndim = in->out_ndim + 1;
  l->out_shape[0] = l->in_shape[0];
  memcpy(l->out_shape + 1, in->out_shape, sizeof(int64_t) * (size_t)in->out_ndim);
  return LURN_OK;
}

static lurn_status time_distributed_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y,
                                            int training) {
  time_distributed *t = l->impl;
  lurn_layer *in = t->inner;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st) return st;
  lurn_tensor xv = merged(x, in->in_ndim, in->in_shape), yv = merged(y, in->out_ndim, in->out_shape);
  if ((st = in->ops->forward(in, &xv, &yv, training))) return st;
  in->preactivation = NULL; /* may point at yv, which dies here; nobody fuses through it */
  l->nested_penalty = in->nested_penalty;
  if (yv.shape[0] > 0 && has_activity_penalty(in))
    l->nested_penalty += lurn_regularize(&in->activity_regularizer, &yv, NULL) / (double)yv.shape[0];
  return lurn_layer_forward_done(in, &yv);
}

static lurn_status time_distributed_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                             const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  (void)fuse; /* linear activation and no fuses(): no flag applies */
  time_distributed *t = l->impl;
  lurn_layer *in = t->inner;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st) return st;
  lurn_tensor xv = merged(x, in->in_ndim, in->in_shape), yv = merged(y, in->out_ndim, in->out_shape);
  lurn_tensor dyv = merged(dy, in->out_ndim, in->out_shape);
  if (yv.shape[0] > 0 && has_activity_penalty(in)) {
    /* d(penalty / (N * steps))/dy added onto a copy of dy */
    if ((st = lurn_buffer_ensure(&t->dy, dyv.ndim, dyv.shape))) return st;
    if ((st = lurn_tensor_copy_into(t->dy, &dyv))) return st;
    lurn_regularizer r = in->activity_regularizer;
    r.l1 /= (float)yv.shape[0];
    r.l2 /= (float)yv.shape[0];
    lurn_regularize(&r, &yv, t->dy);
    dyv = *t->dy;
  }
  lurn_tensor dxv = dx ? merged(dx, in->in_ndim, in->in_shape) : (lurn_tensor){0};
  if ((st = in->ops->backward(in, &xv, &yv, &dyv, dx ? &dxv : NULL, 0))) return st;
  lurn_layer_backward_done(in);
  return LURN_OK;
}

static int time_distributed_children(const lurn_layer *l, lurn_layer **out, int max) {
  const time_distributed *t = l->impl;
  if (max < 1) return 0;
  out[0] = t->inner;
  return 1;
}

static void time_distributed_destroy(lurn_layer *l) {
  time_distributed *t = l->impl;
  lurn_layer_free(t->inner);
  lurn_tensor_free(t->dy);
  free(t);
}

static const lurn_layer_ops time_distributed_ops = {.type = "TimeDistributed",
                                                    .build = time_distributed_build,
                                                    .forward = time_distributed_forward,
                                                    .backward = time_distributed_backward,
                                                    .destroy = time_distributed_destroy,
                                                    .children = time_distributed_children,
                                                    .mask_rule = lurn_mask_keep};

lurn_layer *lurn_time_distributed_new(lurn_layer *inner) {
  if (!inner) {
    lurn_fail(LURN_EINVAL, "TimeDistributed: expected a layer");
    return NULL;
  }
  if (lurn_layer_is_merge(inner)) {
    lurn_fail(LURN_EINVAL, "TimeDistributed: a %s layer takes several inputs; wrap a layer of one input",
              inner->ops->type);
    return NULL;
  }
  time_distributed *t = calloc(1, sizeof *t);
  if (!t) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  t->inner = lurn_layer_retain(inner);
  lurn_layer *l = lurn_layer_alloc(&time_distributed_ops, t);
  if (!l) {
    lurn_layer_free(inner);
    free(t);
  }
  return l;
}
