/* Optimizers: creation, slot state, gradient clipping, and the step that dispatches to
 * the update rule of each kind (sgd.c, adam.c, rmsprop.c, adagrad.c, nadam.c, adamax.c,
 * adadelta.c, ftrl.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "optim.h"

lurn_optimizer *lurn_optimizer_new(const lurn_optimizer_config *c) {
  if (!(c->learning_rate >= 0)) {
    lurn_fail(LURN_EINVAL, "optimizer: learning_rate must be >= 0, got %g", c->learning_rate);
    return NULL;
  }
  if (c->clipnorm < 0 || c->clipvalue < 0) {
    lurn_fail(LURN_EINVAL, "optimizer: clipnorm and clipvalue must be > 0");
    return NULL;
  }
  if (c->kind == LURN_OPT_FTRL) {
    if (!(c->learning_rate > 0)) {
      lurn_fail(LURN_EINVAL, "optimizer: Ftrl's learning_rate must be > 0, got %g", c->learning_rate);
      return NULL;
    }
    if (!(c->learning_rate_power <= 0)) {
      lurn_fail(LURN_EINVAL, "optimizer: learning_rate_power must be <= 0, got %g", c->learning_rate_power);
      return NULL;
    }
    if (!(c->initial_accumulator_value >= 0 && c->l1_regularization_strength >= 0 &&
          c->l2_regularization_strength >= 0 && c->l2_shrinkage_regularization_strength >= 0 &&
          c->beta >= 0)) {
      lurn_fail(LURN_EINVAL,
                "optimizer: Ftrl's initial_accumulator_value, regularization strengths and beta must be >= 0");
      return NULL;
    }
  }
  lurn_optimizer *o = calloc(1, sizeof *o);
  if (!o) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  o->c = *c;
  o->nadam_u_product = 1.0;
  return o;
}

static void free_slots(lurn_optimizer *o) {
  for (int i = 0; i < o->nslots; i++) {
    free(o->slots[i].m);
    free(o->slots[i].v);
    free(o->slots[i].vhat);
  }
  free(o->slots);
  o->slots = NULL;
  o->nslots = 0;
}

void lurn_optimizer_free(lurn_optimizer *o) {
  if (!o) return;
  free_slots(o);
  free(o->clipped);
  free(o);
}

lurn_optimizer_config *lurn_optimizer_config_of(lurn_optimizer *o) { return &o->c; }

int64_t lurn_optimizer_iterations(const lurn_optimizer *o) { return o->iterations; }

static lurn_status ensure_slots(lurn_optimizer *o, lurn_tensor *const *params, int n) {
  int fits = o->nslots == n;
  for (int i = 0; fits && i < n; i++) fits = o->slots[i].size == lurn_tensor_numel(params[i]);
  if (fits) return LURN_OK;
  if (o->nslots)
    return lurn_fail(LURN_EINVAL,
                     "optimizer: the parameters changed since its first step (a layer added after training?): "
                     "compile the model again with a new optimizer; one optimizer serves one model");
  o->slots = calloc((size_t)n, sizeof *o->slots);
  if (!o->slots) return lurn_fail(LURN_ENOMEM, "out of memory");
  o->nslots = n;
  int accumulates = o->c.kind == LURN_OPT_ADAGRAD || o->c.kind == LURN_OPT_FTRL;
  float init = accumulates ? o->c.initial_accumulator_value : 0.0f;
  for (int i = 0; i < n; i++) {
    int64_t size = lurn_tensor_numel(params[i]);
    lurn_slots *s = &o->slots[i];
    s->size = size;
    size_t bytes = sizeof(float) * (size_t)(size ? size : 1);
    s->m = calloc(1, bytes);
    s->v = calloc(1, bytes);
    s->vhat = o->c.amsgrad ? calloc(1, bytes) : NULL;
    if (!s->m || !s->v || (o->c.amsgrad && !s->vhat)) {
      free_slots(o);
      return lurn_fail(LURN_ENOMEM, "out of memory for optimizer state");
    }
    for (int64_t k = 0; init != 0 && k < size; k++) s->m[k] = init;
  }
  return LURN_OK;
}

static int clips(const lurn_optimizer_config *c) { return c->clipnorm > 0 || c->clipvalue > 0; }

/* The scratch a clipped gradient goes to: as large as the largest parameter, allocated on
 * the first step that clips and reused after. */
static lurn_status ensure_clip_scratch(lurn_optimizer *o, lurn_tensor *const *params, int n) {
  int64_t largest = 1;
  for (int i = 0; i < n; i++)
    if (lurn_tensor_numel(params[i]) > largest) largest = lurn_tensor_numel(params[i]);
  if (largest <= o->clipped_size) return LURN_OK;
  size_t bytes;
  if (!lurn_array_bytes(largest, sizeof(float), &bytes)) return lurn_fail(LURN_ENOMEM, "out of memory");
  float *buf = malloc(bytes);
  if (!buf) return lurn_fail(LURN_ENOMEM, "out of memory for clipped gradients");
  free(o->clipped);
  o->clipped = buf;
  o->clipped_size = largest;
  return LURN_OK;
}

/* Keras clips each variable's gradient on its own (clipnorm), then by value. Reads g,
 * writes the clipped gradient to out (g itself is never changed). */
static const float *clip(const lurn_optimizer_config *c, const float *g, float *out, int64_t n) {
  memcpy(out, g, sizeof(float) * (size_t)n);
  if (c->clipnorm > 0) {
    double ss = 0;
    for (int64_t i = 0; i < n; i++) ss += (double)out[i] * out[i];
    double norm = sqrt(ss);
    if (norm > c->clipnorm) {
      float scale = (float)(c->clipnorm / norm);
      for (int64_t i = 0; i < n; i++) out[i] *= scale;
    }
  }
  if (c->clipvalue > 0)
    for (int64_t i = 0; i < n; i++) out[i] = fminf(fmaxf(out[i], -c->clipvalue), c->clipvalue);
  return out;
}

lurn_status lurn_optimizer_step_frozen(lurn_optimizer *o, lurn_tensor *const *params, lurn_tensor *const *grads,
                                       const unsigned char *frozen, int n) {
  lurn_status st = ensure_slots(o, params, n);
  if (st) return st;
  /* learning_rate may have been set to 0 since creation: Ftrl divides by it */
  if (o->c.kind == LURN_OPT_FTRL && !(o->c.learning_rate > 0))
    return lurn_fail(LURN_EINVAL, "optimizer: Ftrl's learning_rate must be > 0, got %g", o->c.learning_rate);
  /* clipnorm may be set between steps (the config is live) */
  if (clips(&o->c) && (st = ensure_clip_scratch(o, params, n))) return st;
  int64_t t = ++o->iterations;
  if (o->c.kind == LURN_OPT_NADAM) o->nadam_u_product *= lurn_nadam_momentum(&o->c, t);
  for (int i = 0; i < n; i++) {
    if (frozen && frozen[i]) continue; /* every rule below, and any added, skips it */
    float *w = lurn_tensor_data(params[i]);
    const float *g = lurn_tensor_data(grads[i]);
    int64_t size = lurn_tensor_numel(params[i]);
    if (clips(&o->c)) g = clip(&o->c, g, o->clipped, size);
    switch (o->c.kind) {
      case LURN_OPT_SGD: lurn_sgd_update(&o->c, w, g, &o->slots[i], size); break;
      case LURN_OPT_ADAMW:
        /* AdamW is Adam after a decoupled weight decay */
        for (int64_t k = 0; k < size; k++) w[k] -= w[k] * o->c.weight_decay * o->c.learning_rate;
        __attribute__((fallthrough));
      case LURN_OPT_ADAM: lurn_adam_update(&o->c, t, w, g, &o->slots[i], size); break;
      case LURN_OPT_RMSPROP: lurn_rmsprop_update(&o->c, w, g, &o->slots[i], size); break;
      case LURN_OPT_ADAGRAD: lurn_adagrad_update(&o->c, w, g, &o->slots[i], size); break;
      case LURN_OPT_NADAM: lurn_nadam_update(&o->c, t, o->nadam_u_product, w, g, &o->slots[i], size); break;
      case LURN_OPT_ADAMAX: lurn_adamax_update(&o->c, t, w, g, &o->slots[i], size); break;
      case LURN_OPT_ADADELTA: lurn_adadelta_update(&o->c, w, g, &o->slots[i], size); break;
      case LURN_OPT_FTRL: lurn_ftrl_update(&o->c, w, g, &o->slots[i], size); break;
    }
  }
  return LURN_OK;
}

lurn_status lurn_optimizer_step(lurn_optimizer *o, lurn_tensor *const *params, lurn_tensor *const *grads, int n) {
  return lurn_optimizer_step_frozen(o, params, grads, NULL, n);
}

/* ---- the state, for model files ------------------------------------------------------- */

int lurn_optimizer_slots_per_param(const lurn_optimizer *o) { return o->c.amsgrad ? 3 : 2; }

int lurn_optimizer_nparams(const lurn_optimizer *o) { return o->nslots; }

double lurn_optimizer_nadam_product(const lurn_optimizer *o) { return o->nadam_u_product; }

static float *slot_of(const lurn_slots *s, int j) { return j == 0 ? s->m : j == 1 ? s->v : s->vhat; }

lurn_tensor *lurn_optimizer_slot(const lurn_optimizer *o, int k) {
  int per = lurn_optimizer_slots_per_param(o);
  if (k < 0 || k >= o->nslots * per) {
    lurn_fail(LURN_EINVAL, "optimizer: slot %d does not exist (%d parameters, %d slots each)", k, o->nslots, per);
    return NULL;
  }
  const lurn_slots *s = &o->slots[k / per];
  int64_t size = s->size;
  lurn_tensor *t = lurn_tensor_empty(1, &size);
  if (!t) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  if (size) memcpy(lurn_tensor_data(t), slot_of(s, k % per), sizeof(float) * (size_t)size);
  return t;
}

lurn_status lurn_optimizer_restore(lurn_optimizer *o, int64_t iterations, double nadam_u_product,
                                   lurn_tensor *const *slots, int n) {
  int per = lurn_optimizer_slots_per_param(o);
  if (iterations < 0) return lurn_fail(LURN_EINVAL, "optimizer: iterations must be >= 0, got %lld", (long long)iterations);
  if (n < 0 || n % per != 0)
    return lurn_fail(LURN_EINVAL, "optimizer: %d slot tensors given; this optimizer keeps %d per parameter", n, per);
  for (int k = 0; k < n; k++) {
    if (slots[k]->ndim != 1)
      return lurn_fail(LURN_EINVAL, "optimizer: slot tensor %d is not 1-D", k + 1);
    if (lurn_tensor_numel(slots[k]) != lurn_tensor_numel(slots[k - k % per]))
      return lurn_fail(LURN_EINVAL, "optimizer: the slots of parameter %d have different sizes", k / per + 1);
  }
  lurn_slots *fresh = calloc((size_t)(n / per ? n / per : 1), sizeof *fresh);
  if (!fresh) return lurn_fail(LURN_ENOMEM, "out of memory");
  for (int i = 0; i < n / per; i++) {
    int64_t size = lurn_tensor_numel(slots[i * per]);
    size_t bytes = sizeof(float) * (size_t)(size ? size : 1);
    lurn_slots *s = &fresh[i];
    s->size = size;
    s->m = malloc(bytes);
    s->v = malloc(bytes);
    s->vhat = per == 3 ? malloc(bytes) : NULL;
    int ok = s->m && s->v && (per < 3 || s->vhat);
    for (int j = 0; ok && j < per; j++) {
      lurn_tensor *packed = lurn_tensor_contiguous(slots[i * per + j]);
      if (!packed) {
        ok = 0;
        break;
      }
      if (size) memcpy(slot_of(s, j), lurn_tensor_data(packed), sizeof(float) * (size_t)size);
      lurn_tensor_free(packed);
    }
    if (!ok) {
      for (int k = 0; k <= i; k++) {
        free(fresh[k].m);
        free(fresh[k].v);
        free(fresh[k].vhat);
      }
      free(fresh);
      return lurn_fail(LURN_ENOMEM, "out of memory for optimizer state");
    }
  }
  free_slots(o);
  o->slots = fresh;
  o->nslots = n / per;
  if (o->nslots == 0) { /* no step yet: the first step allocates them */
    free(fresh);
    o->slots = NULL;
  }
  o->iterations = iterations;
  o->nadam_u_product = nadam_u_product;
  return LURN_OK;
}
