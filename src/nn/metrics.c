/* Metric statistics of one batch, accumulated over an epoch by the caller (Keras'
 * stateful metrics): weighted hit counts for the accuracies, confusion counts for
 * precision/recall, per-threshold counts for AUC, error sums for mse/mae. */
#include <math.h>
#include <string.h>

#include "lurn.h"
#include "tensor/tensor_internal.h"

static int64_t argmax_row(const float *p, int64_t cols) {
  int64_t best = 0;
  for (int64_t c = 1; c < cols; c++)
    if (p[c] > p[best]) best = c;
  return best;
}

lurn_status lurn_metric_batch(lurn_metric_kind kind, const lurn_tensor *pred, const lurn_tensor *target,
                              const float *sample_weight, double *num, double *den) {
  char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
  int64_t n = pred->shape[0], cols = pred->shape[pred->ndim - 1], total = lurn_tensor_numel(pred);
  int64_t rows = cols ? total / cols : 0, per_sample = n ? rows / n : 1;
  int sparse = kind == LURN_METRIC_SPARSE_CATEGORICAL_ACCURACY;
  if (!lurn_tensor_is_contiguous(pred) || !lurn_tensor_is_contiguous(target))
    return lurn_fail(LURN_EINVAL, "metrics need packed tensors");
  if (target->shape[0] != n || lurn_tensor_numel(target) != (sparse ? rows : total))
    return lurn_fail(LURN_EINVAL, "metric: targets of shape %s do not match predictions of shape %s",
                     lurn_shape_str(target, a, sizeof a), lurn_shape_str(pred, b, sizeof b));
  const float *p = lurn_tensor_data(pred), *t = lurn_tensor_data(target);
  double hit = 0, weight = 0;
  for (int64_t r = 0; r < rows; r++) {
    double w = sample_weight ? sample_weight[r / per_sample] : 1.0;
    const float *pr = p + r * cols, *tr = t + (sparse ? r : r * cols);
    switch (kind) {
      case LURN_METRIC_SPARSE_CATEGORICAL_ACCURACY:
        hit += w * (argmax_row(pr, cols) == (int64_t)tr[0]);
        weight += w;
        break;
      case LURN_METRIC_CATEGORICAL_ACCURACY:
        hit += w * (argmax_row(pr, cols) == argmax_row(tr, cols));
        weight += w;
        break;
      case LURN_METRIC_BINARY_ACCURACY:
        for (int64_t c = 0; c < cols; c++) hit += w * ((pr[c] > 0.5f) == (tr[c] > 0.5f)) / (double)cols;
        weight += w;
        break;
      case LURN_METRIC_MSE:
      case LURN_METRIC_MAE: {
        double e = 0;
        for (int64_t c = 0; c < cols; c++) {
          double d = (double)pr[c] - tr[c];
          e += kind == LURN_METRIC_MSE ? d * d : fabs(d);
        }
        hit += w * e / (double)cols;
        weight += w;
        break;
      }
    }
  }
  *num += hit;
  *den += weight;
  return LURN_OK;
}

lurn_status lurn_metric_confusion(const lurn_tensor *pred, const lurn_tensor *target, const float *sample_weight,
                                  const float *thresholds, int nthresholds, double *counts) {
  char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
  int64_t total = lurn_tensor_numel(pred), n = pred->shape[0], per_sample = n ? total / n : 1;
  if (lurn_tensor_numel(target) != total || target->shape[0] != n)
    return lurn_fail(LURN_EINVAL, "metric: targets of shape %s do not match predictions of shape %s",
                     lurn_shape_str(target, a, sizeof a), lurn_shape_str(pred, b, sizeof b));
  if (!lurn_tensor_is_contiguous(pred) || !lurn_tensor_is_contiguous(target))
    return lurn_fail(LURN_EINVAL, "metrics need packed tensors");
  const float *p = lurn_tensor_data(pred), *t = lurn_tensor_data(target);
  /* counts[4 * k + {0,1,2,3}] = tp, fp, tn, fn at thresholds[k] (positive: p > threshold) */
  for (int64_t i = 0; i < total; i++) {
    double w = sample_weight ? sample_weight[i / per_sample] : 1.0;
    int positive = t[i] > 0.5f;
    for (int k = 0; k < nthresholds; k++) {
      int predicted = p[i] > thresholds[k];
      counts[4 * k + (positive ? (predicted ? 0 : 3) : (predicted ? 1 : 2))] += w;
    }
  }
  return LURN_OK;
}

lurn_status lurn_metric_f1_counts(const lurn_tensor *pred, const lurn_tensor *target, const float *sample_weight,
                                  const float *threshold, int sparse, double *counts) {
  char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
  int64_t n = pred->shape[0], cols = pred->ndim > 1 ? pred->shape[pred->ndim - 1] : 1;
  int64_t total = lurn_tensor_numel(pred), rows = cols ? total / cols : 0, per_sample = n ? rows / n : 1;
  if (!lurn_tensor_is_contiguous(pred) || !lurn_tensor_is_contiguous(target))
    return lurn_fail(LURN_EINVAL, "metrics need packed tensors");
  if (target->shape[0] != n || lurn_tensor_numel(target) != (sparse ? rows : total))
    return lurn_fail(LURN_EINVAL, "F1Score: targets of shape %s do not match predictions of shape %s",
                     lurn_shape_str(target, a, sizeof a), lurn_shape_str(pred, b, sizeof b));
  const float *p = lurn_tensor_data(pred), *t = lurn_tensor_data(target);
  /* counts[4 * c + {0,1,2,3}] = tp, fp, fn, support (weighted y_true) of class c */
  for (int64_t r = 0; r < rows; r++) {
    double w = sample_weight ? sample_weight[r / per_sample] : 1.0;
    const float *pr = p + r * cols;
    if (sparse && !(t[r] >= 0 && t[r] < (float)cols && t[r] == floorf(t[r])))
      return lurn_fail(LURN_EINVAL, "F1Score: label %g is not a class of the %lld outputs", (double)t[r],
                       (long long)cols);
    /* Keras: without a threshold the row's maximum is the prediction (every entry equal to
     * it, unless it is zero); with one, every entry above it. */
    float top = pr[argmax_row(pr, cols)];
    for (int64_t c = 0; c < cols; c++) {
      double yp = threshold ? pr[c] > *threshold : (pr[c] >= top && fabsf(pr[c]) > 1e-12f);
      double yt = sparse ? (int64_t)t[r] == c : t[r * cols + c];
      counts[4 * c + 0] += w * yp * yt;
      counts[4 * c + 1] += w * yp * (1 - yt);
      counts[4 * c + 2] += w * (1 - yp) * yt;
      counts[4 * c + 3] += w * yt;
    }
  }
  return LURN_OK;
}
