/* Residual: y = F(x) + x, where F is a stack of layers, or y = F(x) + P(x) with a
 * projection layer P when F changes the shape. The block is a graph (graph.c) of the
 * chain, the projection and an Add, run as one layer: no layer owns a model. The graph
 * holds a reference to every layer in it, so they live as long as the block; the model
 * running the block claims them all, through children(), from its forward to its
 * backward (lurn_layer_claim). */
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

#define MAX_INNER 64

typedef struct {
  lurn_layer *graph;                  /* the inner layers, the projection and an Add, wired as a graph */
  lurn_layer *layers[MAX_INNER + 1];  /* the inner layers, then the projection (not owned: the graph is) */
  int n;
  lurn_layer *projection;
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

/* Builds the chain and the projection first, to say in the block's own words why its
 * input cannot be added to its output; then the graph (the same shapes: nothing rebuilt). */
static lurn_status residual_build(lurn_layer *l, lurn_rng *rng) {
  residual *r = l->impl;
  int nd = l->in_ndim;
  const int64_t *shape = l->in_shape;
  int chain = r->projection ? r->n - 1 : r->n;
  for (int i = 0; i < chain; i++) {
    lurn_status st = lurn_layer_build(r->layers[i], nd, shape, rng);
    if (st) return st;
    nd = r->layers[i]->out_ndim;
    shape = r->layers[i]->out_shape;
  }
  char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
  if (r->projection) {
    lurn_status st = lurn_layer_build(r->projection, l->in_ndim, l->in_shape, rng);
    if (st) return st;
    if (!same_shape(r->projection->out_ndim, r->projection->out_shape, nd, shape))
      return lurn_fail(LURN_EINVAL, "Residual: the projection gives shape %s but the block gives %s",
                       shape_text(r->projection->out_ndim, r->projection->out_shape, a, sizeof a),
                       shape_text(nd, shape, b, sizeof b));
  } else if (!same_shape(l->in_ndim, l->in_shape, nd, shape)) {
    return lurn_fail(LURN_EINVAL,
                     "Residual: the block maps shape %s to %s, so its input cannot be added to its output; "
                     "give a projection layer (e.g. a Dense or a 1x1 Conv2D)",
                     shape_text(l->in_ndim, l->in_shape, a, sizeof a), shape_text(nd, shape, b, sizeof b));
  }
  lurn_status st = lurn_layer_build(r->graph, l->in_ndim, l->in_shape, rng);
  if (st) return st;
  l->out_ndim = r->graph->out_ndim;
  memcpy(l->out_shape, r->graph->out_shape, sizeof(int64_t) * (size_t)l->out_ndim);
  return LURN_OK;
}

static lurn_status residual_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  residual *r = l->impl;
  lurn_status st = r->graph->ops->forward(r->graph, x, y, training);
  l->nested_penalty = r->graph->nested_penalty;
  return st;
}

static lurn_status residual_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y, const lurn_tensor *dy,
                                     lurn_tensor *dx, unsigned fuse) {
  residual *r = l->impl;
  return r->graph->ops->backward(r->graph, x, y, dy, dx, fuse);
}

/* The layers the block runs, as its graph lists them: the inner layers, the projection,
 * the Add (no parameters). */
static int residual_children(const lurn_layer *l, lurn_layer **out, int max) {
  const residual *r = l->impl;
  return r->graph->ops->children(r->graph, out, max);
}

static void residual_destroy(lurn_layer *l) {
  residual *r = l->impl;
  lurn_layer_free(r->graph);
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
  lurn_layer *add = lurn_merge_new(LURN_MERGE_ADD, 0);
  if (!r || !add || !(r->graph = lurn_graph_new())) {
    free(r);
    lurn_layer_free(add);
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  /* node i + 1 runs layers[i] on node i (0: the block's input); then the projection on
   * the input, if any; last, the Add of the chain's output and the shortcut */
  lurn_status st = LURN_OK;
  for (int i = 0; i < n && !st; i++) {
    int from = i;
    st = lurn_graph_add(r->graph, layers[i], &from, 1);
    r->layers[r->n++] = layers[i];
  }
  int shortcut = 0;
  if (!st && projection) {
    st = lurn_graph_add(r->graph, projection, &shortcut, 1);
    r->layers[r->n++] = projection;
    shortcut = n + 1;
  }
  int sum[2] = {n, shortcut};
  if (!st) st = lurn_graph_add(r->graph, add, sum, 2);
  lurn_layer_free(add); /* the graph holds it */
  r->projection = projection;
  lurn_layer *l = st ? NULL : lurn_layer_alloc(&residual_ops, r);
  if (!l) residual_destroy(&(lurn_layer){.impl = r});
  return l;
}
