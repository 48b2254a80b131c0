/* Weighted counts of (true label, predicted label) pairs: the confusion matrix behind
 * scikit-learn's confusion_matrix, precision/recall/F1, balanced accuracy and the
 * classification report. Labels are class labels as lurn stores them: whole numbers from 0. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "lurn.h"

/* Labels at or past this are refused, as everywhere lurn reads class labels from floats. */
#define MAX_LABEL 16777216.0

lurn_status lurn_check_labels(const double *v, int64_t n, const char *who, const char *what) {
  for (int64_t i = 0; i < n; i++) {
    if (isnan(v[i]))
      return lurn_fail(LURN_EINVAL, "%s: %s[%lld] is NaN, not a class label", who, what, (long long)i + 1);
    if (!(v[i] >= 0 && v[i] < MAX_LABEL && v[i] == floor(v[i])))
      return lurn_fail(LURN_EINVAL,
                       "%s: %s[%lld] = %g is not a class label (a whole number from 0; scores go to "
                       "roc_curve/roc_auc_score, probabilities through argmax first)",
                       who, what, (long long)i + 1, v[i]);
  }
  return LURN_OK;
}

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

lurn_status lurn_labels_present(const double *a, const double *b, int64_t n, double *labels,
                                int64_t *nlabels) {
  int64_t m = 0;
  for (int64_t i = 0; i < n; i++) labels[m++] = a[i];
  for (int64_t i = 0; b && i < n; i++) labels[m++] = b[i];
  qsort(labels, (size_t)m, sizeof *labels, compare_double);
  int64_t k = 0;
  for (int64_t i = 0; i < m; i++)
    if (k == 0 || labels[i] != labels[k - 1]) labels[k++] = labels[i];
  *nlabels = k;
  return LURN_OK;
}

/* A label's row in the matrix: its position in the caller's list (any order), found by
 * binary search over a sorted copy; -1 if it is not listed. */
typedef struct label_slot {
  double label;
  int64_t slot;
} label_slot;

static int compare_slot(const void *a, const void *b) {
  return compare_double(&((const label_slot *)a)->label, &((const label_slot *)b)->label);
}

static int64_t find_slot(const label_slot *s, int64_t k, double v) {
  int64_t lo = 0, hi = k - 1;
  while (lo <= hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (s[mid].label == v) return s[mid].slot;
    if (s[mid].label < v)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return -1;
}

lurn_status lurn_confusion_counts(const double *y_true, const double *y_pred, const double *weight, int64_t n,
                                  const double *labels, int64_t nlabels, double *cm) {
  size_t cells;
  if (!lurn_mul_size((size_t)nlabels, (size_t)nlabels, &cells))
    return lurn_fail(LURN_EINVAL, "confusion matrix: %lld labels are too many", (long long)nlabels);
  label_slot *s = malloc(((size_t)nlabels + 1) * sizeof *s);
  if (!s)
    return lurn_fail(LURN_ENOMEM, "confusion matrix: out of memory for %lld labels", (long long)nlabels);
  for (int64_t i = 0; i < nlabels; i++) s[i] = (label_slot){labels[i], i};
  qsort(s, (size_t)nlabels, sizeof *s, compare_slot);
  memset(cm, 0, cells * sizeof *cm);
  /* Samples whose true or predicted label is not listed are left out, as scikit-learn does. */
  for (int64_t i = 0; i < n; i++) {
    int64_t r = find_slot(s, nlabels, y_true[i]), c = find_slot(s, nlabels, y_pred[i]);
    if (r >= 0 && c >= 0) cm[r * nlabels + c] += weight ? weight[i] : 1.0;
  }
  free(s);
  return LURN_OK;
}

lurn_status lurn_label_sums(const double *y_true, const double *y_pred, const double *weight, int64_t n,
                            const double *labels, int64_t nlabels, double *tp, double *pred, double *truth) {
  label_slot *s = malloc(((size_t)nlabels + 1) * sizeof *s);
  if (!s) return lurn_fail(LURN_ENOMEM, "label counts: out of memory for %lld labels", (long long)nlabels);
  for (int64_t i = 0; i < nlabels; i++) s[i] = (label_slot){labels[i], i};
  qsort(s, (size_t)nlabels, sizeof *s, compare_slot);
  memset(tp, 0, (size_t)nlabels * sizeof *tp);
  memset(pred, 0, (size_t)nlabels * sizeof *pred);
  memset(truth, 0, (size_t)nlabels * sizeof *truth);
  for (int64_t i = 0; i < n; i++) {
    double w = weight ? weight[i] : 1.0;
    int64_t r = find_slot(s, nlabels, y_true[i]), c = find_slot(s, nlabels, y_pred[i]);
    if (r >= 0) truth[r] += w;
    if (c >= 0) pred[c] += w;
    if (r >= 0 && r == c) tp[r] += w;
  }
  free(s);
  return LURN_OK;
}

lurn_status lurn_confusion_normalize(double *cm, int64_t k, lurn_confusion_norm how) {
  if (how == LURN_NORMALIZE_NONE) return LURN_OK;
  /* every sum is taken before any cell is divided */
  double *rows = calloc(2 * (size_t)k + 1, sizeof *rows), *cols = rows + k, all = 0;
  if (!rows) return lurn_fail(LURN_ENOMEM, "confusion matrix: out of memory for %lld labels", (long long)k);
  for (int64_t i = 0; i < k; i++)
    for (int64_t j = 0; j < k; j++) {
      rows[i] += cm[i * k + j];
      cols[j] += cm[i * k + j];
      all += cm[i * k + j];
    }
  /* 0/0 (a label without samples) is 0, as scikit-learn's nan_to_num */
  for (int64_t i = 0; i < k; i++)
    for (int64_t j = 0; j < k; j++) {
      double den = how == LURN_NORMALIZE_TRUE ? rows[i] : how == LURN_NORMALIZE_PRED ? cols[j] : all;
      cm[i * k + j] = den != 0 ? cm[i * k + j] / den : 0.0;
    }
  free(rows);
  return LURN_OK;
}
