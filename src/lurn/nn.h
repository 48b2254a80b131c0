/* lurn/nn.h — activations, initializers, regularizers, losses, optimizers and metrics.
 * Part of the C API that lurn.h gathers. */
#ifndef LURN_API_NN_H
#define LURN_API_NN_H

#include "lurn/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- activations ------------------------------------------------------------------ */
/* Applied over the last dimension of (rows, cols) data; softmax normalises each row. */
typedef enum lurn_activation {
  LURN_ACT_LINEAR, LURN_ACT_RELU, LURN_ACT_SIGMOID, LURN_ACT_TANH, LURN_ACT_SOFTMAX,
  LURN_ACT_SOFTPLUS, LURN_ACT_SOFTSIGN, LURN_ACT_SELU, LURN_ACT_ELU, LURN_ACT_LEAKY_RELU,
  LURN_ACT_GELU, LURN_ACT_COUNT
} lurn_activation;
/* Keras names ("relu", "softmax", ...); returns 0 and sets the error for unknown names. */
int lurn_activation_from_name(const char *name, lurn_activation *act);
const char *lurn_activation_name(lurn_activation act);
/* a = f(z); alpha is the slope of leaky_relu and elu. */
void lurn_activation_forward(lurn_activation act, float alpha, const float *z, float *a, int64_t rows,
                             int64_t cols);
/* dz = f'(z) * da, from z and a = f(z); dz may alias da. */
void lurn_activation_backward(lurn_activation act, float alpha, const float *z, const float *a,
                              const float *da, float *dz, int64_t rows, int64_t cols);

/* ---- initializers -------------------------------------------------------------------- */
typedef enum lurn_init_kind {
  LURN_INIT_ZEROS, LURN_INIT_ONES, LURN_INIT_CONSTANT, LURN_INIT_RANDOM_NORMAL,
  LURN_INIT_RANDOM_UNIFORM, LURN_INIT_TRUNCATED_NORMAL, LURN_INIT_GLOROT_UNIFORM,
  LURN_INIT_GLOROT_NORMAL, LURN_INIT_HE_NORMAL, LURN_INIT_HE_UNIFORM, LURN_INIT_LECUN_NORMAL,
  LURN_INIT_LECUN_UNIFORM, LURN_INIT_ORTHOGONAL
} lurn_init_kind;
typedef struct lurn_initializer {
  lurn_init_kind kind;
  /* constant: value; random_normal: mean, stddev; random_uniform: minval, maxval;
   * orthogonal: a is the gain */
  float a, b;
  int seeded;  /* 1: draw from a generator seeded with `seed`, not the one passed in */
  uint64_t seed;
} lurn_initializer;
/* Fills t as Keras does, with fan_in/fan_out from t's shape (last two dimensions,
 * times the receptive field of the leading ones). */
void lurn_initialize(lurn_tensor *t, const lurn_initializer *init, lurn_rng *rng);

/* ---- regularizers --------------------------------------------------------------------- */
typedef struct lurn_regularizer { float l1, l2; } lurn_regularizer;  /* {0, 0}: none */
/* Returns l1*sum|w| + l2*sum w^2 and, if grad is non-NULL, adds its gradient to grad. */
double lurn_regularize(const lurn_regularizer *r, const lurn_tensor *w, lurn_tensor *grad);

/* ---- losses --------------------------------------------------------------------------------- */
typedef enum lurn_loss_kind {
  LURN_LOSS_BINARY_CROSSENTROPY, LURN_LOSS_CATEGORICAL_CROSSENTROPY,
  LURN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, LURN_LOSS_MEAN_SQUARED_ERROR,
  LURN_LOSS_MEAN_ABSOLUTE_ERROR, LURN_LOSS_HUBER
} lurn_loss_kind;
typedef struct lurn_output_loss lurn_output_loss;
typedef struct lurn_loss {
  lurn_loss_kind kind;
  int from_logits;
  float delta;  /* huber */
  /* A model with several outputs (a graph's: lurn_graph_loss): noutputs losses, one per
   * output; kind, from_logits and delta are then unused. 0: one output. */
  int noutputs;
  lurn_output_loss *outputs;
} lurn_loss;
struct lurn_output_loss {
  lurn_loss loss;  /* of one output (noutputs 0) */
  float weight;    /* Keras' loss_weights: its share of the total */
  double value;    /* written by each step: this output's loss, unweighted */
};
/* Keras reduction "sum_over_batch_size": sum_i w_i * loss_i / N, where loss_i is the
 * mean over sample i's last dimension (regression losses). pred is (N, ...); target is
 * (N, ...) of pred's shape, or (N) / (N, 1) class labels (0-based) for the sparse loss.
 * sample_weight may be NULL. If dpred is non-NULL it receives dL/dpred. */
lurn_status lurn_loss_compute(const lurn_loss *loss, const lurn_tensor *pred, const lurn_tensor *target,
                              const float *sample_weight, double *value, lurn_tensor *dpred);

/* ---- optimizers ------------------------------------------------------------------------------ */
typedef enum lurn_optimizer_kind {
  LURN_OPT_SGD, LURN_OPT_ADAM, LURN_OPT_ADAMW, LURN_OPT_RMSPROP, LURN_OPT_ADAGRAD,
  LURN_OPT_NADAM, LURN_OPT_ADAMAX, LURN_OPT_ADADELTA, LURN_OPT_FTRL
} lurn_optimizer_kind;
typedef struct lurn_optimizer_config {
  lurn_optimizer_kind kind;
  float learning_rate;
  float momentum;                  /* sgd, rmsprop */
  int nesterov;                    /* sgd */
  float beta_1, beta_2, epsilon;   /* adam, adamw, nadam, adamax; epsilon also rmsprop, adagrad, adadelta */
  int amsgrad;                     /* adam, adamw */
  float rho;                       /* rmsprop, adadelta */
  float initial_accumulator_value; /* adagrad, ftrl */
  float weight_decay;              /* adamw */
  float clipnorm, clipvalue;       /* 0: off */
  float learning_rate_power;       /* ftrl: <= 0 */
  float l1_regularization_strength, l2_regularization_strength, l2_shrinkage_regularization_strength; /* ftrl */
  float beta;                      /* ftrl */
} lurn_optimizer_config;
typedef struct lurn_optimizer lurn_optimizer;
lurn_optimizer *lurn_optimizer_new(const lurn_optimizer_config *c);
void lurn_optimizer_free(lurn_optimizer *o);
lurn_optimizer_config *lurn_optimizer_config_of(lurn_optimizer *o);  /* live: change lr here */
int64_t lurn_optimizer_iterations(const lurn_optimizer *o);
/* One update of params[i] from grads[i]. The slot state of each parameter is keyed by its
 * position, so pass the same parameters in the same order every step. grads are only read:
 * clipnorm/clipvalue clip a copy in the optimizer's own scratch. */
lurn_status lurn_optimizer_step(lurn_optimizer *o, lurn_tensor *const *params, lurn_tensor *const *grads,
                                int n);
/* The same, leaving params[i] untouched where frozen[i] is non-zero (a frozen layer: no
 * clipping, no step, no momentum, no weight decay; its slots keep their positions, so a
 * layer can be frozen and thawed between steps). frozen may be NULL. */
lurn_status lurn_optimizer_step_frozen(lurn_optimizer *o, lurn_tensor *const *params, lurn_tensor *const *grads,
                                       const unsigned char *frozen, int n);

/* The state, for model files: iterations, Nadam's product of momentums, and per parameter
 * (in step order) its slots m and v, and vhat with amsgrad: slot k is slot k % per of
 * parameter k / per, where per = lurn_optimizer_slots_per_param. No slots before the first
 * step. lurn_optimizer_slot gives a 1-D copy (NULL on failure); lurn_optimizer_restore
 * replaces the whole state, and the next step checks the sizes against the parameters. */
int lurn_optimizer_slots_per_param(const lurn_optimizer *o);
int lurn_optimizer_nparams(const lurn_optimizer *o);
double lurn_optimizer_nadam_product(const lurn_optimizer *o);
lurn_tensor *lurn_optimizer_slot(const lurn_optimizer *o, int k);
lurn_status lurn_optimizer_restore(lurn_optimizer *o, int64_t iterations, double nadam_u_product,
                                   lurn_tensor *const *slots, int n);

/* ---- metrics --------------------------------------------------------------------------------- */
typedef enum lurn_metric_kind {
  LURN_METRIC_BINARY_ACCURACY, LURN_METRIC_CATEGORICAL_ACCURACY, LURN_METRIC_SPARSE_CATEGORICAL_ACCURACY,
  LURN_METRIC_MSE, LURN_METRIC_MAE
} lurn_metric_kind;
/* Adds a batch to a weighted mean: *num += sum w * score, *den += sum w. */
lurn_status lurn_metric_batch(lurn_metric_kind kind, const lurn_tensor *pred, const lurn_tensor *target,
                              const float *sample_weight, double *num, double *den);
/* Adds weighted tp, fp, tn, fn at each threshold to counts[4 * k .. 4 * k + 3]
 * (precision, recall, AUC). */
lurn_status lurn_metric_confusion(const lurn_tensor *pred, const lurn_tensor *target, const float *sample_weight,
                                  const float *thresholds, int nthresholds, double *counts);
/* Keras' F1Score: adds weighted tp, fp, fn and support of each class c of pred (rows, C) to
 * counts[4 * c .. 4 * c + 3]. A prediction is 1 above *threshold, or without a threshold where
 * it equals its row's maximum (and is not 0). target is one-hot/multi-label like pred, or with
 * sparse, class labels (rows). */
lurn_status lurn_metric_f1_counts(const lurn_tensor *pred, const lurn_tensor *target, const float *sample_weight,
                                  const float *threshold, int sparse, double *counts);

/* ---- scikit-learn's classification metrics (src/nn/label_counts.c, src/nn/score_curves.c) ---- */
/* Class labels are whole numbers from 0, held as doubles; `who` and `what` name the caller
 * and the argument in messages. */
lurn_status lurn_check_labels(const double *v, int64_t n, const char *who, const char *what);
/* The distinct values of a[0..n) and b[0..n) (b may be NULL), ascending, into labels (room
 * for 2n). */
lurn_status lurn_labels_present(const double *a, const double *b, int64_t n, double *labels, int64_t *nlabels);
/* cm (nlabels x nlabels, row = true label) = weighted counts of (y_true, y_pred) pairs, rows
 * and columns in the order of labels; pairs with a label not listed are left out. weight may
 * be NULL (1 each). */
lurn_status lurn_confusion_counts(const double *y_true, const double *y_pred, const double *weight, int64_t n,
                                  const double *labels, int64_t nlabels, double *cm);
/* Weighted sums for each label of labels (any order): tp (true and predicted), pred
 * (predicted), truth (true). */
lurn_status lurn_label_sums(const double *y_true, const double *y_pred, const double *weight, int64_t n,
                            const double *labels, int64_t nlabels, double *tp, double *pred, double *truth);
/* A confusion matrix (k x k) divided by its row sums, column sums or total; 0/0 gives 0. */
typedef enum lurn_confusion_norm {
  LURN_NORMALIZE_NONE, LURN_NORMALIZE_TRUE, LURN_NORMALIZE_PRED, LURN_NORMALIZE_ALL
} lurn_confusion_norm;
lurn_status lurn_confusion_normalize(double *cm, int64_t k, lurn_confusion_norm how);
/* scikit-learn's _binary_clf_curve: weighted false and true positives at each distinct
 * score, highest first (*m of them, at most n; fps, tps, thresholds have room for n).
 * Samples of weight 0 are left out. y_true == *pos_label is positive; pos_label NULL: y_true
 * must take values in {0, 1}. Scores must be finite. */
lurn_status lurn_binary_clf_curve(const double *y_true, const double *score, const double *weight, int64_t n,
                                  const double *pos_label, const char *who, double *fps, double *tps,
                                  double *thresholds, int64_t *m);
/* roc_curve from those counts: *k (at most m + 1) points of fpr, tpr, thr. */
lurn_status lurn_roc_curve(const double *fps, const double *tps, const double *thresholds, int64_t m,
                           int drop_intermediate, double *fpr, double *tpr, double *thr, int64_t *k);
/* precision_recall_curve from those counts: m + 1 precisions and recalls, m thresholds
 * (ascending). */
lurn_status lurn_precision_recall_curve(const double *fps, const double *tps, const double *thresholds, int64_t m,
                                        double *precision, double *recall, double *thr);
/* The area under y(x) by the trapezoidal rule (x increasing). */
double lurn_trapezoid_area(const double *x, const double *y, int64_t n);

#ifdef __cplusplus
}
#endif
#endif
