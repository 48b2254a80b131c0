/* Sequential models: an ordered list of layers run forward and backward over whole
 * batches in C. Activations and gradients live in buffers sized on the first batch
 * and reused, so a training step allocates nothing once the first batch has run.
 * The model holds a reference to each of its layers (lurn_layer_retain). Each call is
 * a run that claims the model and its layers (lurn_layer_claim): a Lambda layer's Lua
 * function that calls the model again, or another model sharing a layer, gets an error
 * instead of resizing buffers the outer run still reads. Between runs (a callback
 * between batches) any call is fine: every run sizes its buffers for its own batch. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

struct lurn_model {
  int n, cap;
  lurn_layer **layers;
  lurn_tensor **out;   /* out[i]: output of layer i */
  lurn_tensor **dout;  /* dout[i]: dL/d out[i] */
  int built;
  int in_ndim;
  int64_t in_shape[LURN_MAX_DIMS];
  int ntrain;  /* trainable parameters, in layer order, for the optimizer */
  lurn_tensor **train_params, **train_grads;
  lurn_layer **train_owner;     /* the layer of each, whose frozen flag is read each step */
  unsigned char *train_frozen;  /* filled from train_owner before each update */
  lurn_tensor **apply_grads;    /* the gradients apply_gradients hands the optimizer */
  double activity_penalty;  /* of the last training forward */
  double *weight_penalty;   /* weight_penalty[i]: layer i's, of the last training backward */
  lurn_grads_ready_fn grads_ready; /* called after each layer's backward, or NULL */
  void *grads_ready_ud;
  /* Watches the layers that are not containers in a training run that records statistics
   * or reports complete gradients (the layers of Residual blocks and graphs too). */
  lurn_layer_observer observer;
  int running;  /* inside a call: see begin_run */
  const lurn_tensor *out_mask; /* the mask the last layer's output carries, last forward */
  /* Statistics (lurn_model_record_stats): a row per layer that runs, kept between runs
   * (update_ratio outlives the run that recorded it); each trainable parameter's row, and
   * a copy of the weights before a recorded update. */
  int recording, nstats;
  lurn_layer_stats *stats;
  lurn_layer **stats_layer; /* stats[k]'s layer: the layers that are not containers */
  int *train_row;
  float *before_update;  /* made by the first recorded update */
  double *update_sums;   /* per row: squared update, squared weights before it */
  int update_is_last;    /* the rows' update_ratio is of the last update made */
  lurn_tensor *predict_in; /* lurn_model_predict's copy of the host's samples, reused */
};

lurn_model *lurn_model_new(void) {
  lurn_model *m = calloc(1, sizeof *m);
  if (!m) lurn_fail(LURN_ENOMEM, "out of memory");
  return m;
}

/* The rows of statistics (stats_rows), remade after every build. */
static void free_stats_rows(lurn_model *m) {
  free(m->stats);
  free(m->stats_layer);
  free(m->update_sums);
  free(m->train_row);
  free(m->before_update);
  m->stats = NULL, m->stats_layer = NULL, m->update_sums = NULL, m->train_row = NULL, m->before_update = NULL;
  m->nstats = 0;
}

/* The arrays build sizes for the trainable parameters (remade by every build). */
static void free_train_arrays(lurn_model *m) {
  free_stats_rows(m);
  free(m->train_params);
  free(m->train_grads);
  free(m->train_owner);
  free(m->train_frozen);
  free(m->apply_grads);
  free(m->weight_penalty);
}

void lurn_model_free(lurn_model *m) {
  if (!m) return;
  for (int i = 0; i < m->n; i++) {
    lurn_tensor_free(m->out[i]);
    lurn_tensor_free(m->dout[i]);
    lurn_layer_free(m->layers[i]);
  }
  free(m->layers);
  free(m->out);
  free(m->dout);
  free_train_arrays(m);
  lurn_tensor_free(m->predict_in);
  free(m);
}

lurn_status lurn_model_add(lurn_model *m, lurn_layer *l) {
  if (m->built) return lurn_fail(LURN_EINVAL, "cannot add a layer to a model that is already built");
  if (m->n == m->cap) {
    int cap = m->cap ? m->cap * 2 : 8;
    lurn_layer **layers = realloc(m->layers, sizeof(*layers) * (size_t)cap);
    if (layers) m->layers = layers;
    lurn_tensor **out = realloc(m->out, sizeof(*out) * (size_t)cap);
    if (out) m->out = out;
    lurn_tensor **dout = realloc(m->dout, sizeof(*dout) * (size_t)cap);
    if (dout) m->dout = dout;
    if (!layers || !out || !dout) return lurn_fail(LURN_ENOMEM, "out of memory");
    m->cap = cap;
  }
  m->layers[m->n] = lurn_layer_retain(l);
  m->out[m->n] = m->dout[m->n] = NULL;
  m->n++;
  return LURN_OK;
}

int lurn_model_size(const lurn_model *m) { return m->n; }

static void unclaim_layers(lurn_model *m) {
  for (int i = 0; i < m->n; i++) lurn_layer_unclaim(m->layers[i], m);
}

/* Starts a call on the model: fails if one is already running (re-entered from a Lambda
 * layer's function) or if a layer is claimed by another run. Every begin_run that
 * succeeds is paired with end_run. */
static lurn_status begin_run(lurn_model *m) {
  if (m->running)
    return lurn_fail(LURN_EINVAL,
                     "the model is running (called from inside its own forward or backward pass, e.g. from a "
                     "Lambda layer's function): call it after that pass returns");
  for (int i = 0; i < m->n; i++) {
    lurn_status st = lurn_layer_claim(m->layers[i], m);
    if (st) {
      unclaim_layers(m);
      return st;
    }
  }
  m->running = 1;
  lurn_threads_adapt();  /* the automatic thread count follows the machine's load */
  return LURN_OK;
}

static lurn_status end_run(lurn_model *m, lurn_status st) {
  m->running = 0;
  unclaim_layers(m);
  return st;
}

lurn_layer *lurn_model_layer(const lurn_model *m, int i) { return i >= 0 && i < m->n ? m->layers[i] : NULL; }

#define MAX_CHILDREN LURN_MAX_CHILDREN

/* Counts (and with store, lists) the trainable parameters of l and of the layers it
 * contains, depth first in layer order. */
static int collect_params(lurn_layer *l, lurn_tensor **params, lurn_tensor **grads, lurn_layer **owner, int store) {
  int n = 0;
  for (int p = 0; p < l->nparams; p++) {
    if (!l->trainable[p]) continue;
    if (store) {
      params[n] = l->params[p];
      grads[n] = l->grads[p];
      owner[n] = l;
    }
    n++;
  }
  if (l->ops->children) {
    lurn_layer *kids[MAX_CHILDREN];
    int k = l->ops->children(l, kids, MAX_CHILDREN);
    for (int i = 0; i < k; i++)
      n += collect_params(kids[i], store ? params + n : NULL, store ? grads + n : NULL, store ? owner + n : NULL,
                          store);
  }
  return n;
}

static lurn_status build(lurn_model *m, int ndim, const int64_t *in_shape, lurn_rng *rng) {
  int nd = ndim;
  const int64_t *shape = in_shape;
  m->out_mask = NULL; /* a rebuilt layer may free the mask it made */
  for (int i = 0; i < m->n; i++) {
    lurn_status st = lurn_layer_build(m->layers[i], nd, shape, rng);
    if (st) return st;
    nd = m->layers[i]->out_ndim;
    shape = m->layers[i]->out_shape;
  }
  int count = 0;
  for (int i = 0; i < m->n; i++) count += collect_params(m->layers[i], NULL, NULL, NULL, 0);
  /* unbuilt until the new arrays are filled: a failed allocation leaves no stale count */
  m->built = 0;
  m->ntrain = 0;
  free_train_arrays(m);
  size_t slots = (size_t)(count ? count : 1);
  m->train_params = malloc(sizeof(lurn_tensor *) * slots);
  m->train_grads = malloc(sizeof(lurn_tensor *) * slots);
  m->train_owner = malloc(sizeof(lurn_layer *) * slots);
  m->train_frozen = calloc(slots, 1);
  m->apply_grads = malloc(sizeof(lurn_tensor *) * slots);
  m->weight_penalty = calloc((size_t)m->n, sizeof(double));
  if (!m->train_params || !m->train_grads || !m->train_owner || !m->train_frozen || !m->apply_grads ||
      !m->weight_penalty)
    return lurn_fail(LURN_ENOMEM, "out of memory");
  for (int i = 0; i < m->n; i++)
    m->ntrain += collect_params(m->layers[i], m->train_params + m->ntrain, m->train_grads + m->ntrain,
                                m->train_owner + m->ntrain, 1);
  m->in_ndim = ndim;
  memcpy(m->in_shape, in_shape, sizeof(int64_t) * ndim);
  m->built = 1;
  return LURN_OK;
}

lurn_status lurn_model_build(lurn_model *m, int ndim, const int64_t *in_shape, lurn_rng *rng) {
  if (m->n == 0) return lurn_fail(LURN_EINVAL, "the model has no layers");
  lurn_status st = begin_run(m);
  return st ? st : end_run(m, build(m, ndim, in_shape, rng));
}

static const char *param_name(const lurn_layer *l, const lurn_tensor *p) {
  for (int i = 0; i < l->nparams; i++)
    if (l->params[i] == p) return l->param_names[i] ? l->param_names[i] : "weight";
  return "weight";
}

/* Lists (with out) every parameter of l and of the layers it contains, depth first in
 * layer order, as collect_params does; returns the count. */
static int list_weights(lurn_layer *l, lurn_model_weight *out, int at, int max) {
  int n = 0;
  for (int p = 0; p < l->nparams; p++, n++) {
    if (at + n >= max) continue;
    out[at + n] = (lurn_model_weight){.param = l->params[p],
                                      .grad = l->grads[p],
                                      .layer = l,
                                      .name = l->param_names[p] ? l->param_names[p] : "weight",
                                      .trainable = l->trainable[p] && !l->frozen};
  }
  if (l->ops->children) {
    lurn_layer *kids[MAX_CHILDREN];
    int k = l->ops->children(l, kids, MAX_CHILDREN);
    for (int i = 0; i < k; i++) n += list_weights(kids[i], out, at + n, max);
  }
  return n;
}

int lurn_model_weights(const lurn_model *m, lurn_model_weight *out, int max) {
  int n = 0;
  for (int i = 0; m->built && i < m->n; i++) n += list_weights(m->layers[i], out, n, out ? max : 0);
  return n;
}

int lurn_model_trainable_count(const lurn_model *m) {
  int n = 0;
  for (int i = 0; m->built && i < m->ntrain; i++) n += !m->train_owner[i]->frozen;
  return n;
}

static lurn_status check_input(const lurn_model *m, const lurn_tensor *x) {
  int ok = m->built && x->ndim == m->in_ndim + 1;
  for (int i = 0; ok && i < m->in_ndim; i++) ok = x->shape[i + 1] == m->in_shape[i];
  if (ok && lurn_tensor_is_contiguous(x)) return LURN_OK;
  if (!m->built) return lurn_fail(LURN_EINVAL, "the model is not built: give the first layer an input_shape");
  if (ok) return lurn_fail(LURN_EINVAL, "model input must be a packed tensor (call contiguous())");
  char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
  lurn_tensor want = {.ndim = m->in_ndim};
  memcpy(want.shape, m->in_shape, sizeof(int64_t) * m->in_ndim);
  return lurn_fail(LURN_EINVAL, "input of shape %s does not match the model's input shape (batch, %s)",
                   lurn_shape_str(x, a, sizeof a), lurn_shape_str(&want, b, sizeof b) + 1);
}

static lurn_status layer_buffers(lurn_model *m, int i, int64_t batch, int with_grad) {
  lurn_layer *l = m->layers[i];
  int64_t shape[LURN_MAX_DIMS];
  shape[0] = batch;
  memcpy(shape + 1, l->out_shape, sizeof(int64_t) * l->out_ndim);
  lurn_status st = lurn_buffer_ensure(&m->out[i], l->out_ndim + 1, shape);
  if (!st && with_grad) st = lurn_buffer_ensure(&m->dout[i], l->out_ndim + 1, shape);
  return st;
}

static lurn_status forward(lurn_model *m, const lurn_tensor *x, int training, int with_grad) {
  lurn_status st = check_input(m, x);
  if (st) return st;
  int64_t batch = x->shape[0];
  const lurn_tensor *in = x, *mask = NULL;
  m->activity_penalty = 0;
  m->out_mask = NULL; /* a forward that fails leaves no mask of an earlier batch */
  for (int i = 0; i < m->n; i++) {
    lurn_layer *l = m->layers[i];
    if ((st = layer_buffers(m, i, batch, with_grad))) return st;
    l->preactivation = NULL;
    if ((st = lurn_layer_take_mask(l, mask))) return st;
    l->forward_only = !with_grad;
    st = l->ops->forward(l, in, m->out[i], training);
    l->forward_only = 0;
    if (st) return st;
    mask = lurn_layer_mask_out(l, mask);
    if ((st = lurn_layer_forward_done(l, m->out[i]))) return st;
    if (batch > 0 && (l->activity_regularizer.l1 != 0 || l->activity_regularizer.l2 != 0))
      m->activity_penalty += lurn_regularize(&l->activity_regularizer, m->out[i], NULL) / (double)batch;
    m->activity_penalty += l->nested_penalty;
    in = m->out[i];
  }
  m->out_mask = mask;
  return LURN_OK;
}

/* The loss of the last forward (without penalties) into *value, and with with_grad its
 * dL/d(output) into the last layer's dout: on the output, or on its logits when a
 * softmax/sigmoid feeds a cross-entropy (*fused); for several outputs, the graph's. An
 * output that still carries a mask has its padded steps left out, as Keras 2.13-2.15
 * (lurn_loss_compute_masked). Every path that computes a loss (training, test, gradients,
 * statistics) comes here. */
static lurn_status model_loss(lurn_model *m, const lurn_loss *loss, const lurn_tensor *y,
                              const float *sample_weight, double *value, int with_grad, int *fused) {
  int last = m->n - 1;
  lurn_layer *top = m->layers[last];
  *fused = 0;
  if (loss->noutputs) {
    if (m->n != 1 || lurn_graph_noutputs(top) != loss->noutputs)
      return lurn_fail(LURN_EINVAL, "a loss for %d outputs needs a functional model with %d outputs",
                       loss->noutputs, loss->noutputs);
    return lurn_graph_loss(top, loss, y, sample_weight, value, with_grad);
  }
  if (lurn_graph_noutputs(top) > 1)
    return lurn_fail(LURN_EINVAL, "the model has %d outputs: it needs one loss per output",
                     lurn_graph_noutputs(top));
  *fused = lurn_layer_loss_fusable(top, loss);
  lurn_loss logits_loss = *loss;
  logits_loss.from_logits = 1;
  return lurn_loss_compute_masked(*fused ? &logits_loss : loss, *fused ? top->preactivation : m->out[last], y,
                                  sample_weight, m->out_mask, value, with_grad ? m->dout[last] : NULL);
}

const lurn_tensor *lurn_model_output_mask(const lurn_model *m) { return m->out_mask; }

/* Values per sample: the product of a shape without its batch axis. */
static int64_t per_sample(int ndim, const int64_t *shape) {
  int64_t size = 1;
  for (int i = 0; i < ndim; i++) size *= shape[i];
  return size;
}

int64_t lurn_model_input_size(const lurn_model *m) {
  return m->built ? per_sample(m->in_ndim, m->in_shape) : 0;
}

int64_t lurn_model_output_size(const lurn_model *m) {
  if (!m->built || m->n == 0) return 0;
  const lurn_layer *top = m->layers[m->n - 1];
  return per_sample(top->out_ndim, top->out_shape);
}

lurn_status lurn_model_predict(lurn_model *m, const float *x, int64_t n, float *out, int64_t out_len) {
  if (!m || !m->built) return lurn_fail(LURN_EINVAL, "predict: the model is not built");
  if (!x || !out) return lurn_fail(LURN_EINVAL, "predict: x and out must not be NULL");
  if (n < 1) return lurn_fail(LURN_EINVAL, "predict: n must be at least 1, got %lld", (long long)n);
  const int64_t in = lurn_model_input_size(m), per_out = lurn_model_output_size(m);
  if (n > INT64_MAX / in || n > INT64_MAX / per_out)
    return lurn_fail(LURN_EINVAL, "predict: %lld samples are too many", (long long)n);
  if (out_len < n * per_out)
    return lurn_fail(LURN_EINVAL, "predict: out holds %lld floats, %lld samples' outputs need %lld",
                     (long long)out_len, (long long)n, (long long)(n * per_out));
  int64_t bad = lurn_first_nonfinite(x, n * in);
  if (bad >= 0)
    return lurn_fail(LURN_EINVAL, "predict: x holds %g at sample %lld, value %lld (1-based): the outputs would be "
                     "NaN", (double)x[bad], (long long)(bad / in + 1), (long long)(bad % in + 1));
  int64_t shape[LURN_MAX_DIMS + 1];
  shape[0] = n;
  memcpy(shape + 1, m->in_shape, sizeof(int64_t) * (size_t)m->in_ndim);
  lurn_status st = lurn_buffer_ensure(&m->predict_in, m->in_ndim + 1, shape);
  if (st) return st;
  memcpy(lurn_tensor_data(m->predict_in), x, sizeof(float) * (size_t)(n * in));
  const lurn_tensor *y;
  if ((st = lurn_model_forward(m, m->predict_in, 0, &y))) return st;
  memcpy(out, lurn_tensor_data(y), sizeof(float) * (size_t)(n * per_out));
  return LURN_OK;
}

lurn_status lurn_model_forward(lurn_model *m, const lurn_tensor *x, int training, const lurn_tensor **out) {
  lurn_status st = begin_run(m);
  if (st) return st;
  st = end_run(m, forward(m, x, training, training));  /* training keeps buffers for backward */
  if (!st) *out = m->out[m->n - 1];
  return st;
}



static double layer_penalties(lurn_layer *l, int with_grad) {
  double total = 0;
  for (int p = 0; p < l->nparams; p++)
    total += lurn_regularize(&l->regularizers[p], l->params[p], with_grad ? l->grads[p] : NULL);
  if (l->ops->children) {
    lurn_layer *kids[MAX_CHILDREN];
    int k = l->ops->children(l, kids, MAX_CHILDREN);
    for (int i = 0; i < k; i++) total += layer_penalties(kids[i], with_grad);
  }
  return total;
}

static double weight_penalties(lurn_model *m, int with_grad) {
  double total = 0;
  for (int i = 0; i < m->n; i++) total += layer_penalties(m->layers[i], with_grad);
  return total;
}

static lurn_status backward_layers(lurn_model *m, const lurn_tensor *x, lurn_tensor *dx, int fused,
                                   int top_model);

/* Lists in layers[at..] the layers l runs that are not containers (l itself if it is not
 * one), in the order they run; returns the count (layers may be NULL to count). */
static int leaf_layers(lurn_layer *l, lurn_layer **layers, int at) {
  if (!l->ops->children) {
    if (layers) layers[at] = l;
    return 1;
  }
  lurn_layer *kids[MAX_CHILDREN];
  int k = l->ops->children(l, kids, MAX_CHILDREN), n = 0;
  for (int i = 0; i < k; i++) n += leaf_layers(kids[i], layers, at + n);
  return n;
}

/* The rows of statistics, made once per build: a row per leaf layer, the row of each
 * trainable parameter. */
static lurn_status stats_rows(lurn_model *m) {
  if (m->stats) return LURN_OK;
  int n = 0;
  for (int i = 0; i < m->n; i++) n += leaf_layers(m->layers[i], NULL, 0);
  m->stats = calloc((size_t)(n ? n : 1), sizeof *m->stats);
  m->stats_layer = calloc((size_t)(n ? n : 1), sizeof *m->stats_layer);
  m->update_sums = calloc((size_t)(n ? n : 1) * 2, sizeof(double));
  m->train_row = calloc((size_t)(m->ntrain ? m->ntrain : 1), sizeof(int));
  if (!m->stats || !m->stats_layer || !m->update_sums || !m->train_row) {
    free_stats_rows(m);
    return lurn_fail(LURN_ENOMEM, "layer statistics: out of memory");
  }
  n = 0;
  for (int i = 0; i < m->n; i++) n += leaf_layers(m->layers[i], m->stats_layer, n);
  for (int k = 0; k < n; k++) m->stats[k].layer = m->stats_layer[k];
  for (int i = 0; i < m->ntrain; i++) {
    m->train_row[i] = -1;
    for (int k = 0; k < n && m->train_row[i] < 0; k++)
      if (m->stats_layer[k] == m->train_owner[i]) m->train_row[i] = k;
  }
  m->nstats = n;
  return LURN_OK;
}

static lurn_status run_forward_backward(lurn_model *m, const lurn_loss *loss, const lurn_tensor *x,
                                        const lurn_tensor *y, const float *sample_weight, double *loss_value,
                                        lurn_tensor *dx);

static lurn_model *watching(lurn_layer_observer *o) {
  return (lurn_model *)((char *)o - offsetof(lurn_model, observer));
}

/* The model's observer: a layer's output statistics into its row, while recording. */
static lurn_status layer_forward_done(lurn_layer_observer *o, lurn_layer *l, const lurn_tensor *y) {
  lurn_model *m = watching(o);
  for (int k = 0; m->recording && k < m->nstats; k++)
    if (m->stats_layer[k] == l) return lurn_layer_stats_of_output(&m->stats[k], l, y);
  return LURN_OK;
}

/* The model's observer: with the grads_ready hook, a layer's weight penalties go into its
 * gradients now (their values are summed after backward, in layer order, as always), and
 * the hook hears that they are complete. */
static void layer_backward_done(lurn_layer_observer *o, lurn_layer *l) {
  lurn_model *m = watching(o);
  if (!m->grads_ready) return;
  for (int p = 0; p < l->nparams; p++) lurn_regularize(&l->regularizers[p], l->params[p], l->grads[p]);
  m->grads_ready(m, l, m->grads_ready_ud);
}

/* Forward, loss, backward. Leaves the parameter gradients in the layers; while recording,
 * the statistics of every layer in its row (the update_ratio of the last update kept);
 * with the grads_ready hook, reports each layer's gradients as soon as they are complete.
 * Nobody watching, the layers run with no observer at all. */
static lurn_status forward_backward(lurn_model *m, const lurn_loss *loss, const lurn_tensor *x,
                                    const lurn_tensor *y, const float *sample_weight, double *loss_value,
                                    lurn_tensor *dx) {
  if (!m->recording && !m->grads_ready)
    return run_forward_backward(m, loss, x, y, sample_weight, loss_value, dx);
  lurn_status st = stats_rows(m);
  if (st) return st;
  m->observer =
      (lurn_layer_observer){.forward_done = layer_forward_done, .backward_done = layer_backward_done};
  for (int k = 0; k < m->nstats; k++) {
    if (m->recording) m->stats[k].has &= LURN_STATS_UPDATE;
    m->stats_layer[k]->observer = &m->observer;
  }
  st = run_forward_backward(m, loss, x, y, sample_weight, loss_value, dx);
  for (int k = 0; k < m->nstats; k++) {
    m->stats_layer[k]->observer = NULL;
    if (!st && m->recording) lurn_layer_stats_of_params(&m->stats[k], m->stats_layer[k]);
  }
  return st;
}

void lurn_model_record_stats(lurn_model *m, int on) { m->recording = on != 0; }

int lurn_model_set_data_parallel(lurn_model *m, int on) {
  int synced = 0;
  for (int i = 0; i < m->n; i++) {
    int k = leaf_layers(m->layers[i], NULL, 0);
    lurn_layer *small[16], **leaves = k <= 16 ? small : malloc(sizeof *leaves * (size_t)k);
    if (!leaves) return lurn_fail(LURN_ENOMEM, "out of memory"), -1;
    leaf_layers(m->layers[i], leaves, 0);
    for (int j = 0; j < k; j++) {
      leaves[j]->data_parallel = on != 0;
      synced += leaves[j]->syncs_batch;
    }
    if (leaves != small) free(leaves);
  }
  return synced;
}

int lurn_model_layer_stats(const lurn_model *m, lurn_layer_stats *out, int max) {
  for (int k = 0; k < m->nstats && k < max; k++) {
    out[k] = m->stats[k];
    if (!m->update_is_last) out[k].has &= ~(unsigned)LURN_STATS_UPDATE; /* an unrecorded one came since */
  }
  return m->nstats;
}

static lurn_status run_forward_backward(lurn_model *m, const lurn_loss *loss, const lurn_tensor *x,
                                        const lurn_tensor *y, const float *sample_weight, double *loss_value,
                                        lurn_tensor *dx) {
  lurn_status st = forward(m, x, 1, 1);
  int fused = 0;
  if (st || (st = model_loss(m, loss, y, sample_weight, loss_value, 1, &fused))) return st;
  if ((st = backward_layers(m, x, dx, fused, 1))) return st;
  double penalties = 0; /* summed in layer order, as test_step does */
  for (int i = 0; i < m->n; i++) penalties += m->weight_penalty[i];
  *loss_value += m->activity_penalty + penalties;
  return LURN_OK;
}

/* Layer i's part of the plan of fused steps (LURN_BACKWARD_* flags): the last layer's
 * softmax/sigmoid applied by the loss, and a relu applied by the max pooling above it. */
static unsigned fused_steps(const lurn_model *m, int i, int fused_loss) {
  unsigned fuse = 0;
  if ((i == m->n - 1 && fused_loss) ||
      (i + 1 < m->n && lurn_layer_relu_fusable(m->layers[i], m->layers[i + 1])))
    fuse |= LURN_BACKWARD_DY_IS_DZ;
  if (i > 0 && lurn_layer_relu_fusable(m->layers[i - 1], m->layers[i])) fuse |= LURN_BACKWARD_MASK_DX_RELU;
  return fuse;
}

/* Runs the layers backward from dout[last], adding activity-penalty gradients. The model
 * that trains (top_model: not lurn_model_backward) also adds each layer's weight
 * penalties to its gradients right after its backward; with the grads_ready hook, the
 * observer has already added those of every layer inside it, as each completed. */
static lurn_status backward_layers(lurn_model *m, const lurn_tensor *x, lurn_tensor *dx, int fused,
                                   int top_model) {
  int last = m->n - 1;
  lurn_status st;
  int64_t batch = x->shape[0];
  for (int i = last; i >= 0; i--) {
    lurn_layer *l = m->layers[i];
    if (batch > 0 && (l->activity_regularizer.l1 != 0 || l->activity_regularizer.l2 != 0)) {
      /* d(penalty / batch)/dy added onto dy (never fused: see fusable) */
      lurn_regularizer r = l->activity_regularizer;
      r.l1 /= (float)batch;
      r.l2 /= (float)batch;
      lurn_regularize(&r, m->out[i], m->dout[i]);
    }
    const lurn_tensor *in = i > 0 ? m->out[i - 1] : x;
    lurn_tensor *din = i > 0 ? m->dout[i - 1] : dx;
    st = l->ops->backward(l, in, m->out[i], m->dout[i], din, fused_steps(m, i, fused));
    if (st) return st;
    if (!top_model) continue;
    lurn_layer_backward_done(l);
    m->weight_penalty[i] = layer_penalties(l, !m->grads_ready);
  }
  return LURN_OK;
}

lurn_status lurn_model_backward(lurn_model *m, const lurn_tensor *x, const lurn_tensor *dy, lurn_tensor *dx) {
  int last = m->n - 1;
  if (!m->built || !m->dout[last] || !lurn_tensor_same_shape(dy, m->dout[last]))
    return lurn_fail(LURN_EINVAL, "backward: needs a training forward on a batch of dy's shape first");
  lurn_status st = begin_run(m);
  if (st) return st;
  st = lurn_tensor_copy_into(m->dout[last], dy);
  return end_run(m, st ? st : backward_layers(m, x, dx, 0, 0));
}

double lurn_model_activity_penalty(const lurn_model *m) { return m->activity_penalty; }

lurn_status lurn_model_gradients(lurn_model *m, const lurn_loss *loss, const lurn_tensor *x, const lurn_tensor *y,
                                 const float *sample_weight, double *loss_value, lurn_tensor *dx) {
  if (dx && !lurn_tensor_same_shape(dx, x)) return lurn_fail(LURN_EINVAL, "gradients: dx must have x's shape");
  lurn_status st = begin_run(m);
  return st ? st : end_run(m, forward_backward(m, loss, x, y, sample_weight, loss_value, dx));
}

void lurn_model_on_grads_ready(lurn_model *m, lurn_grads_ready_fn fn, void *ud) {
  m->grads_ready = fn;
  m->grads_ready_ud = ud;
}

lurn_status lurn_model_compute_gradients(lurn_model *m, const lurn_loss *loss, const lurn_tensor *x,
                                         const lurn_tensor *y, const float *sample_weight, double *loss_value,
                                         const lurn_tensor **pred) {
  lurn_status st = begin_run(m);
  if (st) return st;
  st = end_run(m, forward_backward(m, loss, x, y, sample_weight, loss_value, NULL));
  if (!st && pred) *pred = m->out[m->n - 1];
  return st;
}

/* Copies the weights the next update changes (recording statistics). */
static lurn_status keep_weights(lurn_model *m) {
  if (!m->before_update) {
    size_t floats = 0;
    for (int i = 0; i < m->ntrain; i++) floats += (size_t)lurn_tensor_numel(m->train_params[i]);
    m->before_update = malloc(sizeof(float) * (floats ? floats : 1));
    if (!m->before_update) return lurn_fail(LURN_ENOMEM, "layer statistics: out of memory");
  }
  float *at = m->before_update;
  for (int i = 0; i < m->ntrain; i++) {
    int64_t n = lurn_tensor_numel(m->train_params[i]);
    if (!m->train_frozen[i]) memcpy(at, lurn_tensor_data(m->train_params[i]), sizeof(float) * (size_t)n);
    at += n;
  }
  return LURN_OK;
}

/* Each row's update_ratio: the L2 norm of the update just made over that of the weights
 * before it, summed over the row's layer's trainable parameters in order. */
static void record_update(lurn_model *m) {
  double *upd = m->update_sums, *w = m->update_sums + m->nstats;
  memset(m->update_sums, 0, sizeof(double) * 2 * (size_t)m->nstats);
  for (int k = 0; k < m->nstats; k++) m->stats[k].has &= ~(unsigned)LURN_STATS_UPDATE;
  const float *at = m->before_update;
  for (int i = 0; i < m->ntrain; i++) {
    int64_t n = lurn_tensor_numel(m->train_params[i]);
    int row = m->train_row[i];
    if (!m->train_frozen[i] && row >= 0) {
      const float *now = lurn_tensor_data(m->train_params[i]);
      for (int64_t j = 0; j < n; j++) {
        double d = (double)now[j] - at[j];
        upd[row] += d * d;
        w[row] += (double)at[j] * at[j];
      }
      m->stats[row].has |= LURN_STATS_UPDATE;
    }
    at += n;
  }
  for (int k = 0; k < m->nstats; k++)
    if (m->stats[k].has & LURN_STATS_UPDATE) m->stats[k].update_ratio = sqrt(upd[k]) / sqrt(w[k]);
}

/* The optimizer update with grads (one per parameter the optimizer updates, frozen ones
 * skipped; NULL: the layers' own), through the frozen mask read now. */
static lurn_status apply(lurn_model *m, lurn_optimizer *opt, lurn_tensor *const *grads, int ngrads) {
  if (!m->built) return lurn_fail(LURN_EINVAL, "apply_gradients: the model is not built");
  if (grads && ngrads != lurn_model_trainable_count(m))
    return lurn_fail(LURN_EINVAL, "apply_gradients: expected %d gradients (one per trainable weight), got %d",
                     lurn_model_trainable_count(m), ngrads);
  int k = 0;
  for (int i = 0; i < m->ntrain; i++) {
    m->train_frozen[i] = m->train_owner[i]->frozen != 0;
    m->apply_grads[i] = m->train_grads[i];
    if (!grads || m->train_frozen[i]) continue;
    if (lurn_tensor_numel(grads[k]) != lurn_tensor_numel(m->train_params[i]) ||
        !lurn_tensor_is_contiguous(grads[k]))
      return lurn_fail(LURN_EINVAL,
                       "apply_gradients: gradient %d must be a packed tensor of %lld values for %s/%s", k + 1,
                       (long long)lurn_tensor_numel(m->train_params[i]), m->train_owner[i]->name,
                       param_name(m->train_owner[i], m->train_params[i]));
    m->apply_grads[i] = grads[k++];
  }
  if (!m->recording) {
    m->update_is_last = 0;
    return lurn_optimizer_step_frozen(opt, m->train_params, m->apply_grads, m->train_frozen, m->ntrain);
  }
  lurn_status st = stats_rows(m);
  if (st || (st = keep_weights(m))) return st;
  st = lurn_optimizer_step_frozen(opt, m->train_params, m->apply_grads, m->train_frozen, m->ntrain);
  if (!st) record_update(m);
  m->update_is_last = !st;
  return st;
}

lurn_status lurn_model_apply_gradients(lurn_model *m, lurn_optimizer *opt, lurn_tensor *const *grads,
                                       int ngrads) {
  lurn_status st = begin_run(m);
  return st ? st : end_run(m, apply(m, opt, grads, ngrads));
}

static lurn_status train_step(lurn_model *m, const lurn_loss *loss, lurn_optimizer *opt, const lurn_tensor *x,
                              const lurn_tensor *y, const float *sample_weight, double *loss_value,
                              const lurn_tensor **pred) {
  lurn_status st = forward_backward(m, loss, x, y, sample_weight, loss_value, NULL);
  if (st) return st;
  *pred = m->out[m->n - 1];
  return apply(m, opt, NULL, 0);
}

lurn_status lurn_model_train_step(lurn_model *m, const lurn_loss *loss, lurn_optimizer *opt, const lurn_tensor *x,
                                  const lurn_tensor *y, const float *sample_weight, double *loss_value,
                                  const lurn_tensor **pred) {
  lurn_status st = begin_run(m);
  return st ? st : end_run(m, train_step(m, loss, opt, x, y, sample_weight, loss_value, pred));
}

static lurn_status test_step(lurn_model *m, const lurn_loss *loss, const lurn_tensor *x, const lurn_tensor *y,
                             const float *sample_weight, double *loss_value, const lurn_tensor **pred) {
  lurn_status st = forward(m, x, 0, 0);
  int fused = 0;
  if (st || (st = model_loss(m, loss, y, sample_weight, loss_value, 0, &fused))) return st;
  *loss_value += m->activity_penalty + weight_penalties(m, 0);
  *pred = m->out[m->n - 1];
  return LURN_OK;
}

lurn_status lurn_model_test_step(lurn_model *m, const lurn_loss *loss, const lurn_tensor *x, const lurn_tensor *y,
                                 const float *sample_weight, double *loss_value, const lurn_tensor **pred) {
  lurn_status st = begin_run(m);
  return st ? st : end_run(m, test_step(m, loss, x, y, sample_weight, loss_value, pred));
}
