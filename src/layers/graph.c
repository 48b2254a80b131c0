/* Graph: layers wired as a directed acyclic graph and run as one layer, the C half of
 * the functional API's Model. Node k (1-based, in the order added) runs its layer on
 * the outputs of earlier nodes, 0 naming the graph's input; the last node is the
 * graph's output. Nodes run in the order added, each into a buffer of its own; backward
 * runs them in reverse, summing the gradients of an output that feeds several nodes.
 * The graph holds a reference to each node's layer, so they live as long as it does. */
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

typedef struct {
  lurn_layer *layer;
  int merge; /* a merge layer: runs through lurn_merge_forward/_backward */
  int ninputs;
  int inputs[LURN_MERGE_MAX_INPUTS]; /* node numbers; 0 is the graph's input */
  int consumers;                     /* how many inputs of later nodes read this output */
  lurn_tensor *out, *dout;           /* output (not for the last node: it writes y) and dL/dout */
  const lurn_tensor *mask;           /* the mask its output carries, last forward (NULL: none) */
  int has_grad;                      /* dout holds a gradient in this backward pass */
  unsigned fuse;                     /* its part of the plan of fused steps (LURN_BACKWARD_*) */
} node;

typedef struct {
  int n, cap;
  node *nodes;
  int input_consumers, input_has_grad;
  lurn_tensor *scratch; /* one node's dL/dx, before it is added to what others sent */
  lurn_tensor *dtop;    /* dy plus the output layer's activity-penalty gradient */
} graph;

static const lurn_layer_ops graph_ops;

static int has_activity_penalty(const lurn_layer *l) {
  return l->activity_regularizer.l1 != 0 || l->activity_regularizer.l2 != 0;
}

static lurn_status batch_buffer(lurn_tensor **buf, int64_t batch, int ndim, const int64_t *shape) {
  int64_t full[LURN_MAX_DIMS];
  full[0] = batch;
  memcpy(full + 1, shape, sizeof(int64_t) * ndim);
  return lurn_buffer_ensure(buf, ndim + 1, full);
}

/* The value node `id` produced in the last forward (x for 0, y for the last node). */
static const lurn_tensor *value(const graph *g, const lurn_tensor *x, const lurn_tensor *y, int id) {
  if (id == 0) return x;
  return id == g->n ? y : g->nodes[id - 1].out;
}

lurn_layer *lurn_graph_new(void) {
  graph *g = calloc(1, sizeof *g);
  if (!g) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  lurn_layer *l = lurn_layer_alloc(&graph_ops, g);
  if (!l) free(g);
  return l;
}

lurn_status lurn_graph_add(lurn_layer *l, lurn_layer *layer, const int *inputs, int ninputs) {
  if (l->ops != &graph_ops) return lurn_fail(LURN_EINVAL, "%s is not a graph", l->ops->type);
  graph *g = l->impl;
  if (l->built) return lurn_fail(LURN_EINVAL, "Graph: cannot add a node to a graph that is already built");
  if (g->n == LURN_MAX_CHILDREN) return lurn_fail(LURN_EINVAL, "Graph: at most %d nodes", LURN_MAX_CHILDREN);
  if (layer == l) return lurn_fail(LURN_EINVAL, "Graph: a graph cannot contain itself");
  for (int i = 0; i < g->n; i++)
    if (g->nodes[i].layer == layer)
      return lurn_fail(
          LURN_EINVAL,
          "Graph: the %s layer already runs at node %d; a layer called twice (shared weights) is not "
          "supported yet",
          layer->ops->type, i + 1);
  int merge = lurn_layer_is_merge(layer);
  if (merge ? ninputs < 2 || ninputs > LURN_MERGE_MAX_INPUTS : ninputs != 1)
    return lurn_fail(LURN_EINVAL, "Graph: a %s node takes %s, got %d", layer->ops->type,
                     merge ? "2 or more inputs" : "one input", ninputs);
  for (int j = 0; j < ninputs; j++)
    if (inputs[j] < 0 || inputs[j] > g->n)
      return lurn_fail(LURN_EINVAL, "Graph: node %d cannot read node %d (only 0, the input, to %d)", g->n + 1,
                       inputs[j], g->n);
  if (g->n == g->cap) {
    int cap = g->cap ? g->cap * 2 : 16;
    node *nodes = realloc(g->nodes, sizeof(node) * (size_t)cap);
    if (!nodes) return lurn_fail(LURN_ENOMEM, "out of memory");
    g->nodes = nodes;
    g->cap = cap;
  }
  node *nd = &g->nodes[g->n];
  memset(nd, 0, sizeof *nd);
  nd->layer = lurn_layer_retain(layer);
  nd->merge = merge;
  nd->ninputs = ninputs;
  for (int j = 0; j < ninputs; j++) {
    nd->inputs[j] = inputs[j];
    if (inputs[j] == 0)
      g->input_consumers++;
    else
      g->nodes[inputs[j] - 1].consumers++;
  }
  g->n++;
  return LURN_OK;
}

/* A max pooling node applies the relu gradient of the node below it when it is that
 * node's only reader (a node read twice sums the gradients of its readers first); the
 * output node's DY_IS_DZ comes from whoever runs the graph. */
static void plan_fused_steps(graph *g) {
  for (int i = 0; i < g->n; i++) g->nodes[i].fuse = 0;
  for (int i = 0; i < g->n; i++) {
    node *nd = &g->nodes[i];
    if (nd->merge || nd->inputs[0] == 0) continue;
    node *below = &g->nodes[nd->inputs[0] - 1];
    if (below->merge || below->consumers != 1 || !lurn_layer_relu_fusable(below->layer, nd->layer)) continue;
    nd->fuse |= LURN_BACKWARD_MASK_DX_RELU;
    below->fuse |= LURN_BACKWARD_DY_IS_DZ;
  }
}

static lurn_status graph_build(lurn_layer *l, lurn_rng *rng) {
  graph *g = l->impl;
  if (g->n == 0) return lurn_fail(LURN_EINVAL, "Graph: the graph has no nodes");
  if (g->input_consumers == 0) return lurn_fail(LURN_EINVAL, "Graph: no node reads the graph's input");
  for (int i = 0; i + 1 < g->n; i++)
    if (g->nodes[i].consumers == 0)
      return lurn_fail(LURN_EINVAL,
                       "Graph: node %d (%s) feeds no other node; only the last node is the output", i + 1,
                       g->nodes[i].layer->ops->type);
  for (int i = 0; i < g->n; i++) {
    node *nd = &g->nodes[i];
    int ndim[LURN_MERGE_MAX_INPUTS];
    const int64_t *shape[LURN_MERGE_MAX_INPUTS];
    for (int j = 0; j < nd->ninputs; j++) {
      const lurn_layer *src = nd->inputs[j] ? g->nodes[nd->inputs[j] - 1].layer : l;
      ndim[j] = nd->inputs[j] ? src->out_ndim : l->in_ndim;
      shape[j] = nd->inputs[j] ? src->out_shape : l->in_shape;
    }
    lurn_status st = nd->merge ? lurn_merge_build(nd->layer, nd->ninputs, ndim, shape)
                               : lurn_layer_build(nd->layer, ndim[0], shape[0], rng);
    if (st) return st;
  }
  plan_fused_steps(g);
  const lurn_layer *top = g->nodes[g->n - 1].layer;
  l->out_ndim = top->out_ndim;
  memcpy(l->out_shape, top->out_shape, sizeof(int64_t) * top->out_ndim);
  /* the graph's activation is its output's, for the fused paths above it (the loss, a max
   * pooling), which an activity penalty on the output rules out: it needs dL/dy */
  l->activation = has_activity_penalty(top) ? LURN_ACT_LINEAR : top->activation;
  return LURN_OK;
}

static lurn_status run_node(graph *g, node *nd, const lurn_tensor *x, const lurn_tensor *y, lurn_tensor *out,
                            int training) {
  nd->layer->preactivation = NULL;
  if (!nd->merge) return nd->layer->ops->forward(nd->layer, value(g, x, y, nd->inputs[0]), out, training);
  const lurn_tensor *xs[LURN_MERGE_MAX_INPUTS];
  for (int j = 0; j < nd->ninputs; j++) xs[j] = value(g, x, y, nd->inputs[j]);
  return lurn_merge_forward(nd->layer, xs, nd->ninputs, out);
}

/* The mask reaching node nd: its input's; for a merge, the one mask its inputs carry (an
 * input without one counts as all steps real, as Keras' AND of masks), kept only where the
 * merge keeps the steps. */
static lurn_status node_mask(const lurn_layer *l, const graph *g, const node *nd, const lurn_tensor **mask) {
  *mask = NULL;
  if (nd->merge && lurn_merge_is_pack(nd->layer)) { /* a sequence and its initial states: the sequence's */
    *mask = nd->inputs[0] ? g->nodes[nd->inputs[0] - 1].mask : NULL;
    return LURN_OK;
  }
  for (int j = 0; j < nd->ninputs; j++) {
    const lurn_tensor *m = nd->inputs[j] ? g->nodes[nd->inputs[j] - 1].mask : NULL;
    if (!m) continue;
    if (*mask && *mask != m)
      return lurn_fail(LURN_EINVAL, "%s '%s': merging inputs with different masks is not supported yet",
                       nd->layer->ops->type, nd->layer->name);
    *mask = m;
  }
  if (*mask && nd->merge) {
    /* the steps of the first input (the graph's own input, or a node's output) */
    const int id = nd->inputs[0];
    const int ndim = id ? g->nodes[id - 1].layer->out_ndim : l->in_ndim;
    const int64_t steps = id ? g->nodes[id - 1].layer->out_shape[0] : l->in_shape[0];
    if (nd->layer->out_ndim < 2 || ndim < 2 || nd->layer->out_shape[0] != steps)
      return lurn_fail(LURN_EINVAL, "%s '%s': its output does not keep the steps its masked inputs have",
                       nd->layer->ops->type, nd->layer->name);
  }
  return LURN_OK;
}

static lurn_status graph_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  graph *g = l->impl;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st) return st;
  if (l->mask)
    return lurn_fail(LURN_EINVAL, "a mask reaching a model used as a layer (or a Residual block) is not supported yet");
  int64_t batch = x->shape[0];
  double penalty = 0;
  for (int i = 0; i < g->n; i++) {
    node *nd = &g->nodes[i];
    lurn_layer *layer = nd->layer;
    lurn_tensor *out = y;
    if (i + 1 < g->n) {
      if ((st = batch_buffer(&nd->out, batch, layer->out_ndim, layer->out_shape))) return st;
      out = nd->out;
    }
    const lurn_tensor *mask;
    if ((st = node_mask(l, g, nd, &mask))) return st;
    if (!nd->merge && (st = lurn_layer_take_mask(layer, mask))) return st;
    if ((st = run_node(g, nd, x, y, out, training))) return st;
    nd->mask = nd->merge ? mask : lurn_layer_mask_out(layer, mask);
    if ((st = lurn_layer_forward_done(layer, out))) return st;
    if (batch > 0 && has_activity_penalty(layer))
      penalty += lurn_regularize(&layer->activity_regularizer, out, NULL) / (double)batch;
    penalty += layer->nested_penalty;
  }
  l->nested_penalty = penalty;
  lurn_layer *top = g->nodes[g->n - 1].layer;
  /* an activity penalty on the output needs dL/dy, which the fused path never forms */
  l->preactivation = has_activity_penalty(top) ? NULL : top->preactivation;
  return LURN_OK;
}

/* Where the gradient for node id's output goes (dx for the graph's input, maybe NULL). */
static lurn_tensor *grad_target(graph *g, lurn_tensor *dx, int id) {
  return id ? g->nodes[id - 1].dout : dx;
}

static int *has_grad(graph *g, int id) {
  return id ? &g->nodes[id - 1].has_grad : &g->input_has_grad;
}

/* dst += src, elementwise over same-shaped packed tensors. */
static void add_into(lurn_tensor *dst, const lurn_tensor *src) {
  float *d = lurn_tensor_data(dst);
  const float *s = lurn_tensor_data(src);
  int64_t n = lurn_tensor_numel(dst);
#pragma omp parallel for if (n > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < n; i++) d[i] += s[i];
}

static lurn_status backward_merge(graph *g, node *nd, const lurn_tensor *x, const lurn_tensor *y,
                                  const lurn_tensor *ny, const lurn_tensor *ndy, lurn_tensor *dx) {
  const lurn_tensor *xs[LURN_MERGE_MAX_INPUTS];
  lurn_tensor *dxs[LURN_MERGE_MAX_INPUTS];
  for (int j = 0; j < nd->ninputs; j++) {
    int id = nd->inputs[j];
    xs[j] = value(g, x, y, id);
    dxs[j] = grad_target(g, dx, id);
    if (dxs[j] && !*has_grad(g, id)) { /* merges add into their targets */
      lurn_tensor_fill(dxs[j], 0);
      *has_grad(g, id) = 1;
    }
  }
  return lurn_merge_backward(nd->layer, xs, nd->ninputs, ny, ndy, dxs);
}

static lurn_status backward_layer(graph *g, node *nd, const lurn_tensor *x, const lurn_tensor *y,
                                  const lurn_tensor *ny, const lurn_tensor *ndy, lurn_tensor *dx,
                                  unsigned fuse) {
  int id = nd->inputs[0];
  const lurn_tensor *in = value(g, x, y, id);
  lurn_tensor *target = grad_target(g, dx, id);
  lurn_layer *layer = nd->layer;
  if (!target || !*has_grad(g, id)) {
    if (target) *has_grad(g, id) = 1;
    return layer->ops->backward(layer, in, ny, ndy, target, fuse);
  }
  lurn_status st = lurn_buffer_ensure(&g->scratch, in->ndim, in->shape);
  if (st) return st;
  if ((st = layer->ops->backward(layer, in, ny, ndy, g->scratch, fuse))) return st;
  add_into(target, g->scratch);
  return LURN_OK;
}

static lurn_status graph_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                  const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  graph *g = l->impl;
  int64_t batch = x->shape[0];
  lurn_status st;
  for (int i = 0; i + 1 < g->n; i++) {
    node *nd = &g->nodes[i];
    if ((st = batch_buffer(&nd->dout, batch, nd->layer->out_ndim, nd->layer->out_shape))) return st;
    nd->has_grad = 0;
  }
  g->input_has_grad = 0;
  for (int i = g->n - 1; i >= 0; i--) {
    node *nd = &g->nodes[i];
    lurn_layer *layer = nd->layer;
    int top = i == g->n - 1;
    const lurn_tensor *ny = value(g, x, y, i + 1);
    lurn_tensor *ndy = nd->dout;
    if (top) {
      if (!has_activity_penalty(layer)) {
        ndy = NULL;
      } else {
        if ((st = lurn_buffer_ensure(&g->dtop, dy->ndim, dy->shape))) return st;
        if ((st = lurn_tensor_copy_into(g->dtop, dy))) return st;
        ndy = g->dtop;
      }
    }
    if (ndy && batch > 0 && has_activity_penalty(layer)) {
      /* d(penalty / batch)/dy added onto dy (never fused: see graph_forward) */
      lurn_regularizer r = layer->activity_regularizer;
      r.l1 /= (float)batch;
      r.l2 /= (float)batch;
      lurn_regularize(&r, ny, ndy);
    }
    const lurn_tensor *d = ndy ? ndy : dy;
    unsigned node_fuse = nd->fuse | (top ? fuse & LURN_BACKWARD_DY_IS_DZ : 0);
    st = nd->merge ? backward_merge(g, nd, x, y, ny, d, dx)
                   : backward_layer(g, nd, x, y, ny, d, dx, node_fuse);
    if (st) return st;
    lurn_layer_backward_done(layer);
  }
  return LURN_OK;
}

static int graph_children(const lurn_layer *l, lurn_layer **out, int max) {
  const graph *g = l->impl;
  int n = g->n < max ? g->n : max;
  for (int i = 0; i < n; i++) out[i] = g->nodes[i].layer;
  return n;
}

static void graph_destroy(lurn_layer *l) {
  graph *g = l->impl;
  for (int i = 0; i < g->n; i++) {
    lurn_tensor_free(g->nodes[i].out);
    lurn_tensor_free(g->nodes[i].dout);
    lurn_layer_free(g->nodes[i].layer);
  }
  free(g->nodes);
  lurn_tensor_free(g->scratch);
  lurn_tensor_free(g->dtop);
  free(g);
}

/* A graph hands on the mask its output node's output carries (Embedding(mask_zero) inside
 * a functional model): to the model, which refuses a loss over it, or to the layer after. */
static lurn_mask_rule graph_mask_rule(const lurn_layer *l) {
  (void)l;
  return LURN_MASK_MAKE;
}

static const lurn_tensor *graph_output_mask(const lurn_layer *l) {
  const graph *g = l->impl;
  return g->n ? g->nodes[g->n - 1].mask : NULL;
}

static const lurn_layer_ops graph_ops = {.type = "Graph",
                                         .build = graph_build,
                                         .forward = graph_forward,
                                         .backward = graph_backward,
                                         .destroy = graph_destroy,
                                         .children = graph_children,
                                         .mask_rule = graph_mask_rule,
                                         .output_mask = graph_output_mask};
