/* What every layer type shares: allocation, building, parameters, reusable buffers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "core/checked.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

lurn_layer *lurn_layer_alloc(const lurn_layer_ops *ops, void *impl) {
  lurn_layer *l = calloc(1, sizeof *l);
  if (!l) {
    lurn_fail(LURN_ENOMEM, "out of memory creating a %s layer", ops->type);
    return NULL;
  }
  l->ops = ops;
  l->impl = impl;
  l->activation = LURN_ACT_LINEAR;
  l->refs = 1;
  return l;
}

lurn_layer *lurn_layer_retain(lurn_layer *l) {
  if (l) l->refs++;
  return l;
}

void lurn_layer_free(lurn_layer *l) {
  if (!l || --l->refs > 0) return;
  if (l->ops->destroy) l->ops->destroy(l);
  for (int i = 0; i < l->nparams; i++) {
    lurn_tensor_free(l->params[i]);
    lurn_tensor_free(l->grads[i]);
  }
  free(l);
}

#define MAX_CHILDREN LURN_MAX_CHILDREN

lurn_status lurn_layer_claim(lurn_layer *l, const void *run) {
  if (l->claimed_by && l->claimed_by != run)
    return lurn_fail(LURN_EINVAL,
                     "%s layer is running (called from inside a forward or backward pass that uses it, e.g. "
                     "from a Lambda layer's function): use it after that pass returns",
                     l->ops->type);
  l->claimed_by = run;
  if (l->ops->children) {
    lurn_layer *kids[MAX_CHILDREN];
    int k = l->ops->children(l, kids, MAX_CHILDREN);
    for (int i = 0; i < k; i++) {
      lurn_status st = lurn_layer_claim(kids[i], run);
      if (st) {
        lurn_layer_unclaim(l, run);
        return st;
      }
    }
  }
  return LURN_OK;
}

void lurn_layer_unclaim(lurn_layer *l, const void *run) {
  if (l->claimed_by != run) return;
  l->claimed_by = NULL;
  if (l->ops->children) {
    lurn_layer *kids[MAX_CHILDREN];
    int k = l->ops->children(l, kids, MAX_CHILDREN);
    for (int i = 0; i < k; i++) lurn_layer_unclaim(kids[i], run);
  }
}

lurn_status lurn_layer_build(lurn_layer *l, int ndim, const int64_t *in_shape, lurn_rng *rng) {
  if (ndim < 1 || ndim >= LURN_MAX_DIMS)
    return lurn_fail(LURN_EINVAL, "%s: input must have 1 to %d dimensions per sample", l->ops->type,
                     LURN_MAX_DIMS - 1);
  if (l->built) {  /* rebuilding with the same shape keeps the weights */
    int same = ndim == l->in_ndim;
    for (int i = 0; same && i < ndim; i++) same = in_shape[i] == l->in_shape[i];
    if (same) return LURN_OK;
    lurn_tensor in = {.ndim = ndim}, had = {.ndim = l->in_ndim};
    memcpy(in.shape, in_shape, sizeof(int64_t) * ndim);
    memcpy(had.shape, l->in_shape, sizeof(int64_t) * l->in_ndim);
    char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
    return lurn_fail(LURN_EINVAL, "%s: already built for input shape %s, cannot take %s", l->ops->type,
                     lurn_shape_str(&had, a, sizeof a), lurn_shape_str(&in, b, sizeof b));
  }
  /* Checked once here, so that every layer's build can multiply its input sizes freely:
   * their product (a sample's values) is below 2^61, as for any tensor. */
  if (!lurn_check_shape(ndim, in_shape)) {
    char why[256];
    snprintf(why, sizeof why, "%s", lurn_last_error());
    return lurn_fail(LURN_EINVAL, "%s: input of one sample: %s", l->ops->type, why);
  }
  l->in_ndim = ndim;
  memcpy(l->in_shape, in_shape, sizeof(int64_t) * ndim);
  lurn_status st = l->ops->build(l, rng);
  if (st == LURN_OK) l->built = 1;
  return st;
}

/* The parameter values layers may still create (-1: no limit). Set by lurn_set_param_budget. */
static int64_t param_budget = -1;

void lurn_set_param_budget(int64_t values) { param_budget = values < 0 ? -1 : values; }

int64_t lurn_param_budget(void) { return param_budget; }

lurn_tensor *lurn_layer_add_param(lurn_layer *l, const char *name, int ndim, const int64_t *shape,
                                  const lurn_initializer *init, lurn_rng *rng, int trainable) {
  if (l->nparams == LURN_MAX_PARAMS) {
    lurn_fail(LURN_EINVAL, "%s: too many parameters", l->ops->type);
    return NULL;
  }
  if (init->kind == LURN_INIT_ORTHOGONAL && ndim < 2) { /* as Keras */
    lurn_fail(LURN_EINVAL, "%s: the orthogonal initializer needs a weight of at least two dimensions, %s has one",
              l->ops->type, name);
    return NULL;
  }
  if (param_budget >= 0) { /* checked before anything is allocated */
    int64_t numel;
    if (!lurn_shape_numel(ndim, shape, &numel) || numel > param_budget) {
      lurn_fail(LURN_EINVAL, "%s: its %s would hold more values than the %lld the model file has left for it",
                l->ops->type, name, (long long)param_budget);
      return NULL;
    }
    param_budget -= numel;
  }
  lurn_tensor *p = lurn_tensor_empty(ndim, shape), *g = lurn_tensor_zeros(ndim, shape);
  if (!p || !g) {
    lurn_tensor_free(p);
    lurn_tensor_free(g);
    return NULL;
  }
  lurn_rng own;
  if (init->seeded) {
    lurn_rng_seed(&own, init->seed);
    rng = &own;
  }
  lurn_initialize(p, init, rng);
  int i = l->nparams++;
  l->params[i] = p;
  l->grads[i] = g;
  l->param_names[i] = name;
  l->trainable[i] = trainable;
  return p;
}

lurn_status lurn_buffer_ensure(lurn_tensor **buf, int ndim, const int64_t *shape) {
  if (!lurn_check_shape(ndim, shape)) return LURN_EINVAL;
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  lurn_tensor *b = *buf;
  if (b && b->offset == 0 && lurn_tensor_storage_size(b) >= n) {
    b->ndim = ndim;
    memcpy(b->shape, shape, sizeof(int64_t) * ndim);
    lurn_set_contiguous_strides(b);
    return LURN_OK;
  }
  lurn_tensor *fresh = lurn_tensor_empty(ndim, shape);
  if (!fresh) return LURN_ENOMEM;
  lurn_tensor_free(b);
  *buf = fresh;
  return LURN_OK;
}

lurn_status lurn_layer_check_image_input(const lurn_layer *l) {
  if (l->in_ndim == 3) return LURN_OK;
  lurn_tensor in = {.ndim = l->in_ndim};
  memcpy(in.shape, l->in_shape, sizeof(int64_t) * l->in_ndim);
  char s[LURN_SHAPE_STR_MAX];
  return lurn_fail(LURN_EINVAL, "%s: expects input of shape (height, width, channels) per sample, got %s",
                   l->ops->type, lurn_shape_str(&in, s, sizeof s));
}

lurn_status lurn_layer_check_batch(const lurn_layer *l, const lurn_tensor *x) {
  int ok = x->ndim == l->in_ndim + 1 && lurn_tensor_is_contiguous(x);
  for (int i = 0; ok && i < l->in_ndim; i++) ok = x->shape[i + 1] == l->in_shape[i];
  if (ok) return LURN_OK;
  lurn_tensor want = {.ndim = l->in_ndim};
  memcpy(want.shape, l->in_shape, sizeof(int64_t) * l->in_ndim);
  char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
  return lurn_fail(LURN_EINVAL, "%s: expects a packed batch (N, %s, got %s", l->ops->type,
                   lurn_shape_str(&want, a, sizeof a) + 1, lurn_shape_str(x, b, sizeof b));
}

int lurn_layer_relu_fusable(const lurn_layer *below, const lurn_layer *above) {
  return above->ops->fuses && (above->ops->fuses(above) & LURN_BACKWARD_MASK_DX_RELU) &&
         below->activation == LURN_ACT_RELU && below->activity_regularizer.l1 == 0 &&
         below->activity_regularizer.l2 == 0;
}

int lurn_layer_loss_fusable(const lurn_layer *top, const lurn_loss *loss) {
  if (loss->noutputs || loss->from_logits || !top->preactivation) return 0;
  if (top->activity_regularizer.l1 != 0 || top->activity_regularizer.l2 != 0) return 0;
  if (top->activation == LURN_ACT_SOFTMAX)
    return loss->kind == LURN_LOSS_CATEGORICAL_CROSSENTROPY || loss->kind == LURN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  if (top->activation == LURN_ACT_SIGMOID) return loss->kind == LURN_LOSS_BINARY_CROSSENTROPY;
  return 0;
}

lurn_status lurn_layer_forward_done(lurn_layer *l, const lurn_tensor *y) {
  return l->observer ? l->observer->forward_done(l->observer, l, y) : LURN_OK;
}

void lurn_layer_backward_done(lurn_layer *l) {
  if (l->observer) l->observer->backward_done(l->observer, l);
}

lurn_mask_rule lurn_mask_keep(const lurn_layer *l) {
  (void)l;
  return LURN_MASK_KEEP;
}

lurn_mask_rule lurn_layer_mask_rule(const lurn_layer *l) {
  return l->ops->mask_rule ? l->ops->mask_rule(l) : LURN_MASK_REFUSE;
}

lurn_status lurn_layer_take_mask(lurn_layer *l, const lurn_tensor *mask) {
  if (mask && lurn_layer_mask_rule(l) == LURN_MASK_REFUSE) {
    l->mask = NULL;
    return lurn_fail(LURN_EINVAL,
                     "%s '%s' does not support masking: the mask of Embedding(mask_zero = true) or Masking "
                     "reaches it; consume it first (a recurrent layer without return_sequences, "
                     "GlobalAveragePooling1D) or drop mask_zero",
                     l->ops->type, l->name);
  }
  l->mask = mask;
  return LURN_OK;
}

const lurn_tensor *lurn_layer_mask_out(const lurn_layer *l, const lurn_tensor *mask) {
  switch (lurn_layer_mask_rule(l)) {
    case LURN_MASK_KEEP: return mask;
    case LURN_MASK_MAKE: return l->ops->output_mask ? l->ops->output_mask(l) : NULL;
    default: return NULL;
  }
}
