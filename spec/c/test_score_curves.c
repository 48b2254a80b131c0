/* The C core of lurn.metrics' scikit-learn functions, used without Lua: confusion counts over
 * a list of labels in any order (pairs with an unlisted label left out), and the counts and
 * curves of scores against scikit-learn 1.2's numbers (the docstring examples of roc_curve and
 * precision_recall_curve, and a case with tied scores and weights); and their errors. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "lurn.h"

static void test_confusion_counts_follow_the_labels_order(void) {
  const double t[] = {0, 1, 2, 2, 1, 0, 2, 1}, p[] = {0, 2, 2, 2, 1, 0, 0, 1};
  const double labels[] = {2, 0}; /* label 1 unlisted: its pairs are left out */
  double cm[4];
  CHECK(lurn_confusion_counts(t, p, NULL, 8, labels, 2, cm) == LURN_OK);
  CHECK(cm[0] == 2 && cm[1] == 1 && cm[2] == 0 && cm[3] == 2);
  const double w[] = {1, 1, 0.5, 0.25, 1, 2, 1, 1};
  double present[16];
  int64_t k;
  CHECK(lurn_labels_present(t, p, 8, present, &k) == LURN_OK);
  CHECK(k == 3 && present[0] == 0 && present[1] == 1 && present[2] == 2);
  double full[9];
  CHECK(lurn_confusion_counts(t, p, w, 8, present, 3, full) == LURN_OK);
  CHECK_NEAR(full[0], 3, 0);    /* (0, 0): weights 1 and 2 */
  CHECK_NEAR(full[8], 0.75, 0); /* (2, 2): weights 0.5 and 0.25 */
  CHECK_NEAR(full[6], 1, 0);    /* (2, 0) */
  double tp[3], pred[3], truth[3];
  CHECK(lurn_label_sums(t, p, w, 8, present, 3, tp, pred, truth) == LURN_OK);
  for (int c = 0; c < 3; c++) { /* the matrix's diagonal, column and row sums */
    CHECK_NEAR(tp[c], full[c * 3 + c], 0);
    CHECK_NEAR(pred[c], full[c] + full[3 + c] + full[6 + c], 1e-15);
    CHECK_NEAR(truth[c], full[c * 3] + full[c * 3 + 1] + full[c * 3 + 2], 1e-15);
  }
  double rows[4] = {1, 3, 0, 0}, cols[4] = {1, 3, 1, 1};
  CHECK(lurn_confusion_normalize(rows, 2, LURN_NORMALIZE_TRUE) == LURN_OK);
  CHECK(rows[0] == 0.25 && rows[1] == 0.75 && rows[2] == 0 && rows[3] == 0); /* 0/0 is 0 */
  CHECK(lurn_confusion_normalize(cols, 2, LURN_NORMALIZE_PRED) == LURN_OK);
  CHECK(cols[0] == 0.5 && cols[1] == 0.75 && cols[2] == 0.5 && cols[3] == 0.25);
}

static void test_roc_curve_of_scikit_learns_example(void) {
  const double y[] = {0, 0, 1, 1}, s[] = {0.1, 0.4, 0.35, 0.8};
  double fps[4], tps[4], thr[4], fpr[5], tpr[5], th[5];
  int64_t m, k;
  CHECK(lurn_binary_clf_curve(y, s, NULL, 4, NULL, "test", fps, tps, thr, &m) == LURN_OK);
  CHECK(m == 4);
  CHECK(lurn_roc_curve(fps, tps, thr, m, 1, fpr, tpr, th, &k) == LURN_OK);
  const double efpr[] = {0, 0, 0.5, 0.5, 1}, etpr[] = {0, 0.5, 0.5, 1, 1}, eth[] = {1.8, 0.8, 0.4, 0.35, 0.1};
  CHECK(k == 5);
  for (int i = 0; i < 5; i++) {
    CHECK_NEAR(fpr[i], efpr[i], 1e-15);
    CHECK_NEAR(tpr[i], etpr[i], 1e-15);
    CHECK_NEAR(th[i], eth[i], 1e-15);
  }
  CHECK_NEAR(lurn_trapezoid_area(fpr, tpr, k), 0.75, 1e-15);
}

static void test_ties_weights_and_precision_recall(void) {
  /* scikit-learn 1.2: precision_recall_curve(y, s, sample_weight=w) */
  const double y[] = {0, 0, 1, 1, 0, 1, 1, 0}, s[] = {0.5, 0.5, 0.5, 0.8, 0.2, 0.2, 0.9, 0.1};
  const double w[] = {1, 0, 2, 1, 1, 0.5, 1, 3};
  double fps[8], tps[8], thr[8], p[9], r[9], th[8];
  int64_t m;
  CHECK(lurn_binary_clf_curve(y, s, w, 8, NULL, "test", fps, tps, thr, &m) == LURN_OK);
  CHECK(m == 5);
  CHECK(lurn_precision_recall_curve(fps, tps, thr, m, p, r, th) == LURN_OK);
  const double ep[] = {0.47368421052631576, 0.6923076923076923, 0.8, 1.0, 1.0, 1.0};
  const double er[] = {1.0, 1.0, 0.8888888888888888, 0.4444444444444444, 0.2222222222222222, 0.0};
  const double eth[] = {0.1, 0.2, 0.5, 0.8, 0.9};
  for (int i = 0; i < 6; i++) {
    CHECK_NEAR(p[i], ep[i], 1e-15);
    CHECK_NEAR(r[i], er[i], 1e-15);
  }
  for (int i = 0; i < 5; i++) CHECK_NEAR(th[i], eth[i], 0);
}

static void test_errors(void) {
  double fps[3], tps[3], thr[3];
  int64_t m;
  const double y3[] = {0, 1, 2}, y2[] = {1, 2}, s[] = {0.1, NAN, 0.3};
  CHECK(lurn_binary_clf_curve(y3, (const double[]){0.1, 0.2, 0.3}, NULL, 3, NULL, "f", fps, tps, thr, &m) !=
        LURN_OK);
  CHECK(strstr(lurn_last_error(), "more than two classes") != NULL);
  CHECK(lurn_binary_clf_curve(y2, (const double[]){0.1, 0.2}, NULL, 2, NULL, "f", fps, tps, thr, &m) !=
        LURN_OK);
  CHECK(strstr(lurn_last_error(), "pos_label") != NULL);
  double pos = 2;
  CHECK(lurn_binary_clf_curve(y2, (const double[]){0.1, 0.2}, NULL, 2, &pos, "f", fps, tps, thr, &m) ==
        LURN_OK);
  CHECK(lurn_binary_clf_curve(y3, s, NULL, 3, &pos, "f", fps, tps, thr, &m) != LURN_OK);
  CHECK(strstr(lurn_last_error(), "y_score[2] is NaN") != NULL);
  const double bad[] = {0, 1.5};
  CHECK(lurn_check_labels(bad, 2, "f", "y_pred") != LURN_OK);
  CHECK(strstr(lurn_last_error(), "f: y_pred[2] = 1.5 is not a class label") != NULL);
}

int main(void) {
  RUN(test_confusion_counts_follow_the_labels_order);
  RUN(test_roc_curve_of_scikit_learns_example);
  RUN(test_ties_weights_and_precision_recall);
  RUN(test_errors);
  return check_summary();
}
