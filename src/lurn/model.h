/* lurn/model.h — models: a sequence of layers trained one batch at a time.
 * Part of the C API that lurn.h gathers. */
#ifndef LURN_API_MODEL_H
#define LURN_API_MODEL_H

#include "lurn/layers.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- sequential models -------------------------------------------------------------------- */
/* Each call below is a run that claims the model and its layers (lurn_layer_claim): made
 * from inside another run that uses them (a Lambda layer's function), it fails with a
 * "model is running" or "layer is running" error. Between runs any call is fine. */
typedef struct lurn_model lurn_model;
lurn_model *lurn_model_new(void);
void lurn_model_free(lurn_model *m);  /* releases its references to the layers */
lurn_status lurn_model_add(lurn_model *m, lurn_layer *l);  /* takes a reference to l */
int lurn_model_size(const lurn_model *m);
lurn_layer *lurn_model_layer(const lurn_model *m, int i);
/* Builds every layer for per-sample input shape in_shape. */
lurn_status lurn_model_build(lurn_model *m, int ndim, const int64_t *in_shape, lurn_rng *rng);
/* Runs the layers on x (N, in_shape...). *out points into the model's buffers: valid
 * until the next call. */
lurn_status lurn_model_forward(lurn_model *m, const lurn_tensor *x, int training, const lurn_tensor **out);
/* For a host application that predicts (examples/embed/host.c): n samples in, their outputs
 * out, in inference mode (Dropout off, BatchNormalization's moving statistics), no Lua and,
 * after the first call at a batch as large, no allocation. x holds n * lurn_model_input_size
 * floats, row-major as the model's input (batch, in_shape...); out must hold out_len >= n *
 * lurn_model_output_size floats (a functional model's several outputs packed side by side,
 * as model:predict packs them). Fails on a model not built, too small an out, or a NaN or
 * infinite value in x. A model lurn's Lua side made comes from lurn_lua_tomodel (lurn_lua.h). */
lurn_status lurn_model_predict(lurn_model *m, const float *x, int64_t n, float *out, int64_t out_len);
int64_t lurn_model_input_size(const lurn_model *m);   /* values per sample; 0 before the build */
int64_t lurn_model_output_size(const lurn_model *m);  /* outputs per sample; 0 before the build */
/* The mask (N, steps) the output of the last forward carried (Embedding(mask_zero) or
 * Masking upstream, every layer after them keeping the steps), or NULL: the one the loss
 * left the padded steps out by. Owned by a layer: valid until the next call. */
const lurn_tensor *lurn_model_output_mask(const lurn_model *m);
/* One training step on a batch: forward, loss (+ regularization penalties), backward,
 * optimizer update. Reports the loss and keeps the predictions for metrics. The same,
 * bit for bit, as lurn_model_compute_gradients then lurn_model_apply_gradients(NULL). */
lurn_status lurn_model_train_step(lurn_model *m, const lurn_loss *loss, lurn_optimizer *opt,
                                  const lurn_tensor *x, const lurn_tensor *y, const float *sample_weight,
                                  double *loss_value, const lurn_tensor **pred);
/* The first half of a training step: forward, loss (+ penalties), backward. Leaves the
 * raw gradients in the layers (complete, weight penalties included) and *pred (may be
 * NULL) pointing at the predictions, valid until the next call. */
lurn_status lurn_model_compute_gradients(lurn_model *m, const lurn_loss *loss, const lurn_tensor *x,
                                         const lurn_tensor *y, const float *sample_weight, double *loss_value,
                                         const lurn_tensor **pred);
/* The second half: clipping (on the optimizer's copy: the gradients stay raw) and the
 * update of every parameter the optimizer trains, frozen layers' skipped. grads: NULL for
 * the layers' own gradients, or ngrads packed tensors, one per trainable weight (frozen
 * ones left out) in lurn_model_weights order, e.g. gradients averaged over machines. */
lurn_status lurn_model_apply_gradients(lurn_model *m, lurn_optimizer *opt, lurn_tensor *const *grads,
                                       int ngrads);
/* Called by backward (compute_gradients, train_step) right after a layer's gradients are
 * complete, weight penalties included, in the order backward completes them: every layer
 * that is not a container, those inside Residual blocks and functional graphs one by one,
 * so that an all-reduce of them can start while the rest runs. NULL removes it; with none
 * set, backward pays nothing. */
typedef void (*lurn_grads_ready_fn)(lurn_model *m, lurn_layer *layer, void *ud);
void lurn_model_on_grads_ready(lurn_model *m, lurn_grads_ready_fn fn, void *ud);
/* Every parameter of a built model, layer by layer (a container's inner layers in their
 * order), as Keras' weights: trainable is 0 for a frozen layer's and for statistics no
 * gradient trains (BatchNormalization's moving mean and variance). Fills out[0..max) and
 * returns the count (out may be NULL to count). */
typedef struct lurn_model_weight {
  lurn_tensor *param, *grad;
  const lurn_layer *layer;
  const char *name; /* "kernel", "bias", ... */
  int trainable;
} lurn_model_weight;
int lurn_model_weights(const lurn_model *m, lurn_model_weight *out, int max);

/* ---- data-parallel training (issue 21) ------------------------------------------------ */
/* The same model in every process of an MPI job (src/dist/dist.h), each training on its
 * shard of every global batch; without MPI, one process and these are plain steps. A
 * lurn_data_parallel holds the flat buffer the collectives run on, sized on first use and
 * reused. */
typedef struct lurn_data_parallel lurn_data_parallel;
lurn_data_parallel *lurn_data_parallel_new(void);
void lurn_data_parallel_free(lurn_data_parallel *dp);
/* One step on this process's shard x (local samples, possibly 0) of a global batch of
 * global_batch samples (0: unknown here, the sum of the shards, e.g. each process's own
 * generator's batch): forward and backward on the shard, the trainable gradients times
 * the shard's share of the batch (local / the sum of the shards; when the output carries a
 * mask, of the batch's real steps) summed over every process with one all-reduce on one flat buffer,
 * then the optimizer update, the same in every process. *loss_value: the shard's loss (0
 * for an empty shard); *global_loss: the global batch's (the shards' weighted the same
 * way), the same in every process; *pred: the shard's predictions, NULL for an empty one. */
lurn_status lurn_data_parallel_step(lurn_data_parallel *dp, lurn_model *m, const lurn_loss *loss,
                                    lurn_optimizer *opt, const lurn_tensor *x, const lurn_tensor *y,
                                    const float *sample_weight, int64_t global_batch, double *loss_value,
                                    double *global_loss, const lurn_tensor **pred);
/* Marks every layer of m (those inside containers too) as running in a data-parallel step
 * (on) or not; returns how many of them sum over the processes (syncs_batch in
 * lurn/layer_impl.h: BatchNormalization{synchronized}), or -1 when out of memory. */
int lurn_model_set_data_parallel(lurn_model *m, int on);
/* Every parameter (statistics too) of root's model into every process's. */
lurn_status lurn_data_parallel_broadcast_weights(lurn_data_parallel *dp, lurn_model *m, int root);
/* The statistics no gradient trains (BatchNormalization's moving mean and variance, moved
 * by each process's shards) averaged over the processes, so that every process evaluates
 * with the same model. */
lurn_status lurn_data_parallel_average_statistics(lurn_data_parallel *dp, lurn_model *m);

/* ---- per-layer statistics ------------------------------------------------------------ */
/* Which values of a row apply (has): a layer without trainable parameters has no norms,
 * only rectifiers and Lambda layers count dead units, only sigmoid, tanh and softmax
 * outputs saturate, and update_ratio needs a recorded update. */
enum {
  LURN_STATS_OUTPUT = 1u << 0,     /* act_mean, act_std */
  LURN_STATS_DEAD = 1u << 1,       /* dead_fraction */
  LURN_STATS_SATURATED = 1u << 2,  /* saturated_fraction */
  LURN_STATS_PARAMS = 1u << 3,     /* grad_norm, weight_norm */
  LURN_STATS_UPDATE = 1u << 4,     /* update_ratio */
};
typedef struct lurn_layer_stats {
  const lurn_layer *layer;
  unsigned has;              /* LURN_STATS_* */
  double act_mean, act_std;  /* over every element of the layer's output (population std) */
  /* the share of units (the last axis: a Dense output, a convolution channel) whose output
   * is exactly zero for every sample and position of the batch */
  double dead_fraction;
  /* sigmoid/tanh: the share of output elements within 0.01 of a bound; softmax: the share
   * of rows whose largest probability is above 0.99 */
  double saturated_fraction;
  double grad_norm, weight_norm;  /* L2 over the trainable parameters; raw gradients (unclipped) */
  double update_ratio;            /* L2 of the last recorded update / weight_norm before it */
} lurn_layer_stats;
/* While on, every training run of m records a row of statistics per layer it runs: the
 * forward and backward of lurn_model_compute_gradients or _train_step (outputs, gradient
 * and weight norms), and each update (its norm). Off, training pays nothing. */
void lurn_model_record_stats(lurn_model *m, int on);
/* The rows of the last recorded run: one per layer that runs (containers expanded,
 * graphs in node order), in the order they run. Fills out[0..max), returns the count. */
int lurn_model_layer_stats(const lurn_model *m, lurn_layer_stats *out, int max);
/* The number of trainable weights now (frozen layers' left out). */
int lurn_model_trainable_count(const lurn_model *m);
/* Loss (+ penalties) of a batch in inference mode, no update. */
lurn_status lurn_model_test_step(lurn_model *m, const lurn_loss *loss, const lurn_tensor *x,
                                 const lurn_tensor *y, const float *sample_weight, double *loss_value,
                                 const lurn_tensor **pred);
/* Backward through the layers after a training forward, from dL/d(output) dy; fills the
 * layers' gradients and, if dx is non-NULL, dL/dx. Containers use it. */
lurn_status lurn_model_backward(lurn_model *m, const lurn_tensor *x, const lurn_tensor *dy, lurn_tensor *dx);
/* Sum of the activity penalties of the last forward. */
double lurn_model_activity_penalty(const lurn_model *m);
/* Forward and backward without an update: fills every layer's grads and, if dx is non-NULL,
 * dL/dx. For gradient checks and diagnosis. */
lurn_status lurn_model_gradients(lurn_model *m, const lurn_loss *loss, const lurn_tensor *x,
                                 const lurn_tensor *y, const float *sample_weight, double *loss_value,
                                 lurn_tensor *dx);

#ifdef __cplusplus
}
#endif
#endif
