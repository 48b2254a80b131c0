/* Graph: layers wired as a directed acyclic graph and run as one layer, the C half of
 * the functional API's Model. Node k (1-based, in the order added) runs its layer on
 * the outputs of earlier nodes, 0 naming the graph's input; the last node is the
 * graph's output. Nodes run in the order added, each into a buffer of its own; backward
 * runs them in reverse, summing the gradients of an output that feeds several nodes.
 * The graph holds a reference to each node's layer, so they live as long as it does.
 *
 * Several inputs and outputs (lurn_graph_set_io) travel packed in one tensor each, so
 * that the model, the training loop and its batching see one x and one y as for any
 * model: the graph copies each input out of x into a buffer of its own (node -j for input
 * j) and each output into its columns of y. Copies cost a pass over the data against a
 * whole network's work; one input and one output cost nothing, as before. The loss of
 * several outputs runs here (lurn_graph_loss), where each output's own buffer and logits
 * are, and leaves each output's gradient in its buffer for backward. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
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

/* One of several inputs or outputs: its per-sample shape and its columns of the packed
 * x or y (offset, size). */
typedef struct {
  int ndim;
  int64_t shape[LURN_MAX_DIMS];
  int64_t offset, size;
} port;

typedef struct {
  int n, cap;
  node *nodes;
  int nin, nout;                  /* set_io; 0 until then: one input, the last node out */
  port in[LURN_GRAPH_MAX_IO], out[LURN_GRAPH_MAX_IO];
  int out_node[LURN_GRAPH_MAX_IO];  /* output k is node out_node[k] */
  unsigned out_fuse[LURN_GRAPH_MAX_IO]; /* LURN_BACKWARD_DY_IS_DZ where the loss was fused */
  int loss_grads;                 /* lurn_graph_loss left the outputs' gradients for backward */
  int input_consumers[LURN_GRAPH_MAX_IO], input_has_grad[LURN_GRAPH_MAX_IO];
  lurn_tensor *inputs[LURN_GRAPH_MAX_IO], *dinputs[LURN_GRAPH_MAX_IO]; /* several inputs: unpacked */
  lurn_tensor *scratch; /* one node's dL/dx, before it is added to what others sent */
  lurn_tensor *dtop;    /* dy plus the output layer's activity-penalty gradient */
  lurn_tensor *target, *logits_grad; /* lurn_graph_loss: one output's targets */
} graph;

/* Several inputs or outputs: packed (set_io with more than one of either). */
static int packed_inputs(const graph *g) { return g->nin > 1; }
static int packed_outputs(const graph *g) { return g->nout > 1; }

static int is_output(const graph *g, int id) {
  if (!g->nout) return id == g->n;
  for (int k = 0; k < g->nout; k++)
    if (g->out_node[k] == id) return 1;
  return 0;
}

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

/* The value node `id` produced in the last forward (x for 0, y for the last node; an
 * input's buffer for -j when inputs are packed). */
static const lurn_tensor *value(const graph *g, const lurn_tensor *x, const lurn_tensor *y, int id) {
  if (id <= 0) return packed_inputs(g) ? g->inputs[-id] : x;
  return id == g->n && !packed_outputs(g) ? y : g->nodes[id - 1].out;
}

/* The per-sample shape of node id's output (of input -j for id <= 0). */
static int id_ndim(const lurn_layer *l, const graph *g, int id) {
  if (id > 0) return g->nodes[id - 1].layer->out_ndim;
  return packed_inputs(g) ? g->in[-id].ndim : l->in_ndim;
}
static const int64_t *id_shape(const lurn_layer *l, const graph *g, int id) {
  if (id > 0) return g->nodes[id - 1].layer->out_shape;
  return packed_inputs(g) ? g->in[-id].shape : l->in_shape;
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
    if (inputs[j] <= -LURN_GRAPH_MAX_IO || inputs[j] > g->n)
      return lurn_fail(LURN_EINVAL, "Graph: node %d cannot read node %d (only the inputs 0, -1, ... and 1 to %d)",
                       g->n + 1, inputs[j], g->n);
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
    if (inputs[j] <= 0)
      g->input_consumers[-inputs[j]]++;
    else
      g->nodes[inputs[j] - 1].consumers++;
  }
  g->n++;
  return LURN_OK;
}

lurn_status lurn_graph_set_io(lurn_layer *l, int ninputs, const int *in_ndim, const int64_t *const *in_shape,
                              int noutputs, const int *out_nodes) {
  if (l->ops != &graph_ops) return lurn_fail(LURN_EINVAL, "%s is not a graph", l->ops->type);
  graph *g = l->impl;
  if (l->built) return lurn_fail(LURN_EINVAL, "Graph: set the inputs and outputs before the graph is built");
  if (ninputs < 1 || ninputs > LURN_GRAPH_MAX_IO || noutputs < 1 || noutputs > LURN_GRAPH_MAX_IO)
    return lurn_fail(LURN_EINVAL, "Graph: 1 to %d inputs and outputs, got %d and %d", LURN_GRAPH_MAX_IO, ninputs,
                     noutputs);
  int64_t offset = 0;
  for (int j = 0; j < ninputs; j++) {
    port *p = &g->in[j];
    if (in_ndim[j] < 1 || in_ndim[j] >= LURN_MAX_DIMS)
      return lurn_fail(LURN_EINVAL, "Graph: input %d has %d dimensions per sample", j + 1, in_ndim[j]);
    p->ndim = in_ndim[j];
    p->size = 1;
    for (int d = 0; d < p->ndim; d++) {
      if (in_shape[j][d] < 1 || !lurn_mul_i64(p->size, in_shape[j][d], &p->size))
        return lurn_fail(LURN_EINVAL, "Graph: input %d has a bad shape", j + 1);
      p->shape[d] = in_shape[j][d];
    }
    p->offset = offset;
    if (!lurn_add_i64(offset, p->size, &offset)) return lurn_fail(LURN_EINVAL, "Graph: inputs too large");
  }
  for (int k = 0; k < noutputs; k++) {
    if (out_nodes[k] < 1 || out_nodes[k] > g->n)
      return lurn_fail(LURN_EINVAL, "Graph: output %d is node %d, not one of 1 to %d", k + 1, out_nodes[k], g->n);
    for (int i = 0; i < k; i++)
      if (out_nodes[i] == out_nodes[k])
        return lurn_fail(LURN_EINVAL, "Graph: node %d is output %d and %d", out_nodes[k], i + 1, k + 1);
    g->out_node[k] = out_nodes[k];
  }
  g->nin = ninputs;
  g->nout = noutputs;
  return LURN_OK;
}

int lurn_graph_noutputs(const lurn_layer *l) {
  if (!l || l->ops != &graph_ops) return 0;
  const graph *g = l->impl;
  return g->nout ? g->nout : 1;
}

/* A max pooling node applies the relu gradient of the node below it when it is that
 * node's only reader (a node read twice sums the gradients of its readers first); the
 * output node's DY_IS_DZ comes from whoever runs the graph. */
static void plan_fused_steps(graph *g) {
  for (int i = 0; i < g->n; i++) g->nodes[i].fuse = 0;
  for (int i = 0; i < g->n; i++) {
    node *nd = &g->nodes[i];
    if (nd->merge || nd->inputs[0] <= 0) continue; /* the graph's inputs (0, -1, ...) have no layer */
    node *below = &g->nodes[nd->inputs[0] - 1];
    /* an output's gradient also comes from the loss, without the relu applied */
    if (below->merge || below->consumers != 1 || is_output(g, nd->inputs[0]) ||
        !lurn_layer_relu_fusable(below->layer, nd->layer))
      continue;
    nd->fuse |= LURN_BACKWARD_MASK_DX_RELU;
    below->fuse |= LURN_BACKWARD_DY_IS_DZ;
  }
}

static lurn_status graph_build(lurn_layer *l, lurn_rng *rng) {
  graph *g = l->impl;
  if (g->n == 0) return lurn_fail(LURN_EINVAL, "Graph: the graph has no nodes");
  if (!g->nout) {
    g->nin = g->nout = 1;
    g->out_node[0] = g->n;
  }
  for (int j = 0; j < g->nin; j++)
    if (g->input_consumers[j] == 0) return lurn_fail(LURN_EINVAL, "Graph: no node reads the graph's input %d", j + 1);
  for (int j = g->nin; j < LURN_GRAPH_MAX_IO; j++)
    if (g->input_consumers[j])
      return lurn_fail(LURN_EINVAL, "Graph: a node reads input %d of a graph of %d inputs", j + 1, g->nin);
  if (packed_inputs(g)) {
    const port *last = &g->in[g->nin - 1];
    if (l->in_ndim != 1 || l->in_shape[0] != last->offset + last->size)
      return lurn_fail(LURN_EINVAL, "Graph: %d inputs are read packed, %lld values per sample", g->nin,
                       (long long)(last->offset + last->size));
  }
  if (!packed_outputs(g) && g->out_node[0] != g->n)
    return lurn_fail(LURN_EINVAL, "Graph: the one output must be the last node, got node %d", g->out_node[0]);
  for (int i = 0; i < g->n; i++)
    if (g->nodes[i].consumers == 0 && !is_output(g, i + 1))
      return lurn_fail(LURN_EINVAL, "Graph: node %d (%s) feeds no other node and is not an output", i + 1,
                       g->nodes[i].layer->ops->type);
  for (int i = 0; i < g->n; i++) {
    node *nd = &g->nodes[i];
    int ndim[LURN_MERGE_MAX_INPUTS];
    const int64_t *shape[LURN_MERGE_MAX_INPUTS];
    for (int j = 0; j < nd->ninputs; j++) {
      ndim[j] = id_ndim(l, g, nd->inputs[j]);
      shape[j] = id_shape(l, g, nd->inputs[j]);
    }
    lurn_status st = nd->merge ? lurn_merge_build(nd->layer, nd->ninputs, ndim, shape)
                               : lurn_layer_build(nd->layer, ndim[0], shape[0], rng);
    if (st) return st;
  }
  plan_fused_steps(g);
  if (packed_outputs(g)) {
    int64_t offset = 0;
    for (int k = 0; k < g->nout; k++) {
      const lurn_layer *o = g->nodes[g->out_node[k] - 1].layer;
      port *p = &g->out[k];
      p->ndim = o->out_ndim;
      memcpy(p->shape, o->out_shape, sizeof(int64_t) * o->out_ndim);
      p->size = 1;
      for (int d = 0; d < p->ndim; d++)
        if (!lurn_mul_i64(p->size, p->shape[d], &p->size)) return lurn_fail(LURN_EINVAL, "Graph: outputs too large");
      p->offset = offset;
      if (!lurn_add_i64(offset, p->size, &offset)) return lurn_fail(LURN_EINVAL, "Graph: outputs too large");
    }
    l->out_ndim = 1;
    l->out_shape[0] = offset;
    l->activation = LURN_ACT_LINEAR; /* each output's own, in lurn_graph_loss */
    return LURN_OK;
  }
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
    *mask = nd->inputs[0] > 0 ? g->nodes[nd->inputs[0] - 1].mask : NULL;
    return LURN_OK;
  }
  for (int j = 0; j < nd->ninputs; j++) {
    const lurn_tensor *m = nd->inputs[j] > 0 ? g->nodes[nd->inputs[j] - 1].mask : NULL;
    if (!m) continue;
    if (*mask && *mask != m)
      return lurn_fail(LURN_EINVAL, "%s '%s': merging inputs with different masks is not supported yet",
                       nd->layer->ops->type, nd->layer->name);
    *mask = m;
  }
  if (*mask && nd->merge) {
    /* the steps of the first input (the graph's own input, or a node's output) */
    const int id = nd->inputs[0];
    const int ndim = id_ndim(l, g, id);
    const int64_t steps = id_shape(l, g, id)[0];
    if (nd->layer->out_ndim < 2 || ndim < 2 || nd->layer->out_shape[0] != steps)
      return lurn_fail(LURN_EINVAL, "%s '%s': its output does not keep the steps its masked inputs have",
                       nd->layer->ops->type, nd->layer->name);
  }
  return LURN_OK;
}

/* Columns [offset, offset + size) of each row of the packed (N, width) t, to or from the
 * packed (N, size) part. */
static void copy_columns(float *packed, int64_t width, int64_t offset, float *part, int64_t size, int64_t batch,
                         int to_part) {
#pragma omp parallel for if (batch * size > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t b = 0; b < batch; b++) {
    float *row = packed + b * width + offset, *p = part + b * size;
    if (to_part)
      memcpy(p, row, sizeof(float) * (size_t)size);
    else
      memcpy(row, p, sizeof(float) * (size_t)size);
  }
}

static lurn_status unpack_inputs(graph *g, const lurn_tensor *x) {
  int64_t batch = x->shape[0], width = lurn_tensor_numel(x) / (batch ? batch : 1);
  for (int j = 0; j < g->nin; j++) {
    port *p = &g->in[j];
    lurn_status st = batch_buffer(&g->inputs[j], batch, p->ndim, p->shape);
    if (st) return st;
    copy_columns((float *)lurn_tensor_data(x), width, p->offset, lurn_tensor_data(g->inputs[j]), p->size, batch, 1);
  }
  return LURN_OK;
}

static void pack_outputs(graph *g, lurn_tensor *y) {
  int64_t batch = y->shape[0], width = y->shape[1];
  for (int k = 0; k < g->nout; k++)
    copy_columns(lurn_tensor_data(y), width, g->out[k].offset, lurn_tensor_data(g->nodes[g->out_node[k] - 1].out),
                 g->out[k].size, batch, 0);
}

static lurn_status graph_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  graph *g = l->impl;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st) return st;
  if (l->mask)
    return lurn_fail(LURN_EINVAL, "a mask reaching a model used as a layer (or a Residual block) is not supported yet");
  int64_t batch = x->shape[0];
  double penalty = 0;
  g->loss_grads = 0;
  if (packed_inputs(g) && (st = unpack_inputs(g, x))) return st;
  for (int i = 0; i < g->n; i++) {
    node *nd = &g->nodes[i];
    lurn_layer *layer = nd->layer;
    lurn_tensor *out = y;
    if (i + 1 < g->n || packed_outputs(g)) {
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
  if (packed_outputs(g)) {
    pack_outputs(g, y);
    l->preactivation = NULL;
    return LURN_OK;
  }
  lurn_layer *top = g->nodes[g->n - 1].layer;
  /* an activity penalty on the output needs dL/dy, which the fused path never forms */
  l->preactivation = has_activity_penalty(top) ? NULL : top->preactivation;
  return LURN_OK;
}

/* Where the gradient for node id's output goes (dx for the graph's input, maybe NULL;
 * an input's own buffer when inputs are packed and dx is wanted). */
static lurn_tensor *grad_target(graph *g, lurn_tensor *dx, int id) {
  if (id > 0) return g->nodes[id - 1].dout;
  return packed_inputs(g) && dx ? g->dinputs[-id] : dx;
}

static int *has_grad(graph *g, int id) {
  return id > 0 ? &g->nodes[id - 1].has_grad : &g->input_has_grad[-id];
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

/* No input has a gradient yet; with packed inputs and dx wanted, each gets a buffer. */
static lurn_status begin_input_grads(graph *g, int64_t batch, const lurn_tensor *dx) {
  for (int j = 0; j < g->nin; j++) {
    g->input_has_grad[j] = 0;
    lurn_status st;
    if (packed_inputs(g) && dx && (st = batch_buffer(&g->dinputs[j], batch, g->in[j].ndim, g->in[j].shape)))
      return st;
  }
  return LURN_OK;
}

/* With packed inputs, dx gathers the inputs' gradients (zero for one no node sends one). */
static lurn_status pack_input_grads(graph *g, lurn_tensor *dx) {
  if (!packed_inputs(g) || !dx) return LURN_OK;
  int64_t batch = dx->shape[0], width = lurn_tensor_numel(dx) / (batch ? batch : 1);
  for (int j = 0; j < g->nin; j++) {
    if (!g->input_has_grad[j]) lurn_tensor_fill(g->dinputs[j], 0);
    copy_columns(lurn_tensor_data(dx), width, g->in[j].offset, lurn_tensor_data(g->dinputs[j]), g->in[j].size,
                 batch, 0);
  }
  return LURN_OK;
}

/* Backward with several outputs: each output's gradient is in its buffer, put there by
 * lurn_graph_loss (or taken from the packed dy), and the nodes that read an output add
 * theirs to it; every node is then an inner node. */
static lurn_status backward_packed(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y, const lurn_tensor *dy,
                                   lurn_tensor *dx) {
  graph *g = l->impl;
  int64_t batch = x->shape[0];
  lurn_status st;
  for (int i = 0; i < g->n; i++) {
    node *nd = &g->nodes[i];
    if ((st = batch_buffer(&nd->dout, batch, nd->layer->out_ndim, nd->layer->out_shape))) return st;
    nd->has_grad = 0;
  }
  for (int k = 0; k < g->nout; k++) {
    node *nd = &g->nodes[g->out_node[k] - 1];
    if (!g->loss_grads) {
      g->out_fuse[k] = 0;
      if (!lurn_tensor_is_contiguous(dy) || lurn_tensor_numel(dy) != batch * l->out_shape[0])
        return lurn_fail(LURN_EINVAL, "Graph: dy must be packed (N, %lld)", (long long)l->out_shape[0]);
      copy_columns((float *)lurn_tensor_data(dy), l->out_shape[0], g->out[k].offset, lurn_tensor_data(nd->dout),
                   g->out[k].size, batch, 1);
    }
    nd->has_grad = 1;
  }
  g->loss_grads = 0; /* used once */
  if ((st = begin_input_grads(g, batch, dx))) return st;
  for (int i = g->n - 1; i >= 0; i--) {
    node *nd = &g->nodes[i];
    lurn_layer *layer = nd->layer;
    const lurn_tensor *ny = nd->out;
    unsigned fuse = nd->fuse;
    for (int k = 0; k < g->nout; k++)
      if (g->out_node[k] == i + 1) fuse |= g->out_fuse[k];
    if (!nd->has_grad) lurn_tensor_fill(nd->dout, 0); /* not reached by the loss: cannot happen once built */
    if (batch > 0 && has_activity_penalty(layer)) {
      lurn_regularizer r = layer->activity_regularizer;
      r.l1 /= (float)batch;
      r.l2 /= (float)batch;
      lurn_regularize(&r, ny, nd->dout);
    }
    st = nd->merge ? backward_merge(g, nd, x, y, ny, nd->dout, dx)
                   : backward_layer(g, nd, x, y, ny, nd->dout, dx, fuse);
    if (st) return st;
    lurn_layer_backward_done(layer);
  }
  return pack_input_grads(g, dx);
}

static lurn_status graph_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                  const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  graph *g = l->impl;
  int64_t batch = x->shape[0];
  lurn_status st;
  if (packed_outputs(g)) return backward_packed(l, x, y, dy, dx);
  for (int i = 0; i + 1 < g->n; i++) {
    node *nd = &g->nodes[i];
    if ((st = batch_buffer(&nd->dout, batch, nd->layer->out_ndim, nd->layer->out_shape))) return st;
    nd->has_grad = 0;
  }
  if ((st = begin_input_grads(g, batch, dx))) return st;
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
  return pack_input_grads(g, dx);
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
  for (int j = 0; j < LURN_GRAPH_MAX_IO; j++) {
    lurn_tensor_free(g->inputs[j]);
    lurn_tensor_free(g->dinputs[j]);
  }
  lurn_tensor_free(g->scratch);
  lurn_tensor_free(g->dtop);
  lurn_tensor_free(g->target);
  lurn_tensor_free(g->logits_grad);
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
  return g->n && !packed_outputs(g) ? g->nodes[g->n - 1].mask : NULL;
}

const lurn_tensor *lurn_graph_output_mask(const lurn_layer *l, int k) {
  if (!l || l->ops != &graph_ops) return NULL;
  const graph *g = l->impl;
  if (!packed_outputs(g)) return k == 0 ? graph_output_mask(l) : NULL;
  return k >= 0 && k < g->nout ? g->nodes[g->out_node[k] - 1].mask : NULL;
}

/* The width of output k's targets in the packed y: a label per row of its last axis for
 * a sparse cross-entropy, else one value per output value. */
static int64_t target_width(const port *p, const lurn_loss *loss) {
  if (loss->kind != LURN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY) return p->size;
  return p->shape[p->ndim - 1] ? p->size / p->shape[p->ndim - 1] : 0;
}

lurn_status lurn_graph_loss(lurn_layer *l, const lurn_loss *loss, const lurn_tensor *y, const float *sample_weight,
                            double *value, int with_grad) {
  if (l->ops != &graph_ops || !l->built) return lurn_fail(LURN_EINVAL, "lurn_graph_loss: not a built graph");
  graph *g = l->impl;
  if (!packed_outputs(g) || loss->noutputs != g->nout || !loss->outputs)
    return lurn_fail(LURN_EINVAL, "the model has %d outputs, the loss is for %d", lurn_graph_noutputs(l),
                     loss->noutputs);
  const lurn_tensor *first = g->nodes[g->out_node[0] - 1].out;
  int64_t batch = first ? first->shape[0] : -1, width = 0;
  for (int k = 0; k < g->nout; k++) {
    if (loss->outputs[k].loss.noutputs) return lurn_fail(LURN_EINVAL, "output %d: a loss of one output expected", k + 1);
    width += target_width(&g->out[k], &loss->outputs[k].loss);
  }
  if (batch < 0 || !lurn_tensor_is_contiguous(y) || y->shape[0] != batch || lurn_tensor_numel(y) != batch * width)
    return lurn_fail(LURN_EINVAL, "the targets of %d outputs must be packed (batch %lld, %lld values per sample)",
                     g->nout, (long long)batch, (long long)width);
  double total = 0;
  int64_t at = 0;
  for (int k = 0; k < g->nout; k++) {
    lurn_output_loss *part = &loss->outputs[k];
    node *nd = &g->nodes[g->out_node[k] - 1];
    int64_t tw = target_width(&g->out[k], &part->loss), shape[2] = {batch, tw};
    lurn_status st = lurn_buffer_ensure(&g->target, 2, shape);
    if (st) return st;
    copy_columns((float *)lurn_tensor_data(y), width, at, lurn_tensor_data(g->target), tw, batch, 1);
    at += tw;
    /* fused only for an output no other node reads: their dL/dy would be added to dL/dz */
    int fused = nd->consumers == 0 && lurn_layer_loss_fusable(nd->layer, &part->loss);
    lurn_loss logits_loss = part->loss;
    logits_loss.from_logits = 1;
    lurn_tensor *grad = NULL;
    if (with_grad) {
      int64_t full[LURN_MAX_DIMS];
      full[0] = batch;
      memcpy(full + 1, g->out[k].shape, sizeof(int64_t) * (size_t)g->out[k].ndim);
      if ((st = lurn_buffer_ensure(&nd->dout, g->out[k].ndim + 1, full))) return st;
      grad = nd->dout;
    }
    /* an output that carries a mask leaves its padded steps out, as the model's one does */
    st = lurn_loss_compute_masked(fused ? &logits_loss : &part->loss, fused ? nd->layer->preactivation : nd->out,
                                  g->target, sample_weight, nd->mask, &part->value, grad);
    if (st) {
      char why[256]; /* lurn_fail writes the buffer lurn_last_error reads */
      snprintf(why, sizeof why, "%s", lurn_last_error());
      return lurn_fail(st, "output %d: %s", k + 1, why);
    }
    if (grad && part->weight != 1) {
      float *d = lurn_tensor_data(grad);
      int64_t n = lurn_tensor_numel(grad);
      for (int64_t i = 0; i < n; i++) d[i] *= part->weight;
    }
    g->out_fuse[k] = fused ? LURN_BACKWARD_DY_IS_DZ : 0;
    total += (double)part->weight * part->value;
  }
  g->loss_grads = with_grad;
  *value = total;
  return LURN_OK;
}

static const lurn_layer_ops graph_ops = {.type = "Graph",
                                         .build = graph_build,
                                         .forward = graph_forward,
                                         .backward = graph_backward,
                                         .destroy = graph_destroy,
                                         .children = graph_children,
                                         .mask_rule = graph_mask_rule,
                                         .output_mask = graph_output_mask};
