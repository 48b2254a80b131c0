/* Callback layers: forward and backward supplied by the embedding language (the Lua
 * bindings use this for Lambda layers and Lua-function activations). The C core only
 * routes the calls and keeps the shapes. */
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "lurn/layer_impl.h"

typedef struct {
  lurn_callback_ops ops;
  void *ud;
} callback;

static lurn_status callback_build(lurn_layer *l, lurn_rng *rng) {
  (void)rng;
  callback *c = l->impl;
  return c->ops.build(c->ud, l->in_ndim, l->in_shape, &l->out_ndim, l->out_shape);
}

static lurn_status callback_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  callback *c = l->impl;
  return c->ops.forward(c->ud, x, y, training);
}

static lurn_status callback_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                     const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  (void)fuse; /* no activation of its own, nothing offered */
  callback *c = l->impl;
  if (!dx) return LURN_OK;
  return c->ops.backward(c->ud, x, y, dy, dx);
}

static void callback_destroy(lurn_layer *l) {
  callback *c = l->impl;
  if (c->ops.destroy) c->ops.destroy(c->ud);
  free(c);
}

static const lurn_layer_ops callback_layer_ops = {.type = "Lambda",
                                                  .build = callback_build,
                                                  .forward = callback_forward,
                                                  .backward = callback_backward,
                                                  .destroy = callback_destroy};

lurn_layer *lurn_callback_layer_new(const lurn_callback_ops *ops, void *ud) {
  callback *c = calloc(1, sizeof *c);
  if (!c) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  c->ops = *ops;
  c->ud = ud;
  lurn_layer *l = lurn_layer_alloc(&callback_layer_ops, c);
  if (!l) free(c);
  return l;
}

void lurn_callback_layer_set_ud(lurn_layer *l, void *ud) {
  ((callback *)l->impl)->ud = ud;
}
