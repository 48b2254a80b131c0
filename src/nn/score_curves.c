/* The curves of a binary classifier's scores, as scikit-learn computes them
 * (sklearn/metrics/_ranking.py): false and true positives counted at each distinct score
 * taken as a threshold, highest first, then the ROC curve (with collinear points dropped)
 * and the precision-recall curve. Sorting and counting are O(n log n) here, not in Lua. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lurn.h"

typedef struct scored {
  double score, positive, weight;
  int64_t pos;
} scored;

/* Highest score first; ties keep a fixed order (their counts are summed before any is used). */
static int by_score_desc(const void *a, const void *b) {
  const scored *x = a, *y = b;
  if (x->score != y->score) return x->score < y->score ? 1 : -1;
  return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Whether y_true can be read as binary with this positive label, scikit-learn's rule:
 * without pos_label, y_true's classes must be {0, 1}, {0} or {1}. */
static lurn_status check_binary(const double *y_true, int64_t n, const double *pos_label, const char *who) {
  double seen[3];
  int nseen = 0;
  for (int64_t i = 0; i < n && nseen < 3; i++) {
    int known = 0;
    for (int k = 0; k < nseen; k++) known |= seen[k] == y_true[i];
    if (!known) seen[nseen++] = y_true[i];
  }
  if (pos_label) return LURN_OK;
  if (nseen > 2)
    return lurn_fail(LURN_EINVAL,
                     "%s: y_true has more than two classes (multiclass format is not supported): "
                     "pass pos_label to score one class against the rest",
                     who);
  for (int k = 0; k < nseen; k++)
    if (seen[k] != 0 && seen[k] != 1)
      return lurn_fail(LURN_EINVAL,
                       "%s: y_true takes the value %g and pos_label is not given: make y_true take "
                       "values in {0, 1} or pass pos_label",
                       who, seen[k]);
  return LURN_OK;
}

lurn_status lurn_binary_clf_curve(const double *y_true, const double *score, const double *weight, int64_t n,
                                  const double *pos_label, const char *who, double *fps, double *tps,
                                  double *thresholds, int64_t *m) {
  *m = 0;
  for (int64_t i = 0; i < n; i++)
    if (isnan(score[i]) || isinf(score[i]))
      return lurn_fail(LURN_EINVAL, "%s: y_score[%lld] is %s: scores must be finite", who, (long long)i + 1,
                       isnan(score[i]) ? "NaN" : "infinite");
  lurn_status st = check_binary(y_true, n, pos_label, who);
  if (st) return st;
  double positive_label = pos_label ? *pos_label : 1.0;
  scored *s = malloc(((size_t)n + 1) * sizeof *s);
  if (!s) return lurn_fail(LURN_ENOMEM, "%s: out of memory sorting %lld scores", who, (long long)n);
  /* Samples of weight zero are left out before thresholds are chosen, as scikit-learn does. */
  int64_t k = 0;
  for (int64_t i = 0; i < n; i++) {
    if (weight && weight[i] == 0) continue;
    s[k] = (scored){score[i], y_true[i] == positive_label, weight ? weight[i] : 1.0, i};
    k++;
  }
  qsort(s, (size_t)k, sizeof *s, by_score_desc);
  double tp = 0, fp = 0;
  for (int64_t i = 0; i < k; i++) {
    tp += s[i].positive * s[i].weight;
    fp += (1 - s[i].positive) * s[i].weight;
    if (i + 1 < k && s[i + 1].score == s[i].score) continue;
    fps[*m] = fp;
    tps[*m] = tp;
    thresholds[*m] = s[i].score;
    (*m)++;
  }
  free(s);
  return LURN_OK;
}

lurn_status lurn_roc_curve(const double *fps, const double *tps, const double *thresholds, int64_t m,
                           int drop_intermediate, double *fpr, double *tpr, double *thr, int64_t *k) {
  /* The point (0, 0) first, at a threshold above every score (scikit-learn 1.2: the
   * highest score + 1), then every corner of the curve: a point is dropped only where both
   * counts continue in a straight line through it (second differences written as numpy's
   * diff(x, 2), so that weighted counts round the same way). */
  int64_t out = 1;
  fpr[0] = 0;
  tpr[0] = 0;
  thr[0] = m > 0 ? thresholds[0] + 1 : 1;
  for (int64_t i = 0; i < m; i++) {
    int keep = !drop_intermediate || m <= 2 || i == 0 || i == m - 1 ||
               (fps[i + 1] - fps[i]) - (fps[i] - fps[i - 1]) != 0 ||
               (tps[i + 1] - tps[i]) - (tps[i] - tps[i - 1]) != 0;
    if (!keep) continue;
    fpr[out] = fps[i];
    tpr[out] = tps[i];
    thr[out] = thresholds[i];
    out++;
  }
  /* Rates; a class absent from y_true gives NaN rates, as scikit-learn (which warns). */
  double neg = m > 0 ? fps[m - 1] : 0, pos = m > 0 ? tps[m - 1] : 0;
  for (int64_t i = 0; i < out; i++) {
    fpr[i] = neg > 0 ? fpr[i] / neg : NAN;
    tpr[i] = pos > 0 ? tpr[i] / pos : NAN;
  }
  *k = out;
  return LURN_OK;
}

lurn_status lurn_precision_recall_curve(const double *fps, const double *tps, const double *thresholds,
                                        int64_t m, double *precision, double *recall, double *thr) {
  /* Thresholds lowest first; precision and recall end with the point (recall 0, precision 1).
   * No positive sample at all gives recall 1 everywhere, as scikit-learn (which warns). */
  double pos = m > 0 ? tps[m - 1] : 0;
  for (int64_t i = 0; i < m; i++) {
    int64_t j = m - 1 - i;
    double predicted = tps[j] + fps[j];
    precision[i] = predicted != 0 ? tps[j] / predicted : 0;
    recall[i] = pos != 0 ? tps[j] / pos : 1;
    thr[i] = thresholds[j];
  }
  precision[m] = 1;
  recall[m] = 0;
  return LURN_OK;
}

double lurn_trapezoid_area(const double *x, const double *y, int64_t n) {
  double area = 0;
  for (int64_t i = 1; i < n; i++) area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2;
  return area;
}
