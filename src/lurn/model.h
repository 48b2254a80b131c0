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
/* Called by backward right after layer i's (0-based) gradients are complete, from the
 * last layer to the first: an all-reduce of them can start while the rest runs. NULL
 * removes it; with none set, backward pays nothing. */
typedef void (*lurn_grads_ready_fn)(lurn_model *m, int layer, void *ud);
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
