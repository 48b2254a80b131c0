/* Class labels: 0-based whole numbers stored as floats in y, (n) or (n, 1). Counting
 * and grouping them is the first step of every sampler. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sampling.h"

/* Labels at or past this are refused: a float32 cannot hold every whole number beyond 2^24,
 * and counts are kept per label. */
#define MAX_LABEL 16777216.0f

float lurn_label_at(const lurn_tensor *y, int64_t i) {
  return lurn_tensor_data(y)[i * y->stride[0]];
}

static lurn_status check_labels(const lurn_tensor *y, const char *who, int64_t *nclasses) {
  if (!(y->ndim == 1 || (y->ndim == 2 && y->shape[1] == 1))) {
    char s[LURN_SHAPE_STR_MAX];
    return lurn_fail(LURN_EINVAL, "%s: y must hold class labels, of shape (N) or (N, 1); got %s", who,
                     lurn_shape_str(y, s, sizeof s));
  }
  float top = -1;
  for (int64_t i = 0; i < y->shape[0]; i++) {
    float v = lurn_label_at(y, i);
    if (!(v >= 0 && v < MAX_LABEL && v == floorf(v)))
      return lurn_fail(LURN_EINVAL, "%s: y[%lld] = %g is not a class label (a whole number from 0)", who,
                       (long long)i + 1, (double)v);
    if (v > top) top = v;
  }
  *nclasses = (int64_t)top + 1;
  return LURN_OK;
}

lurn_status lurn_class_groups_make(const lurn_tensor *y, const char *who, lurn_class_groups *g) {
  memset(g, 0, sizeof *g);
  lurn_status st = check_labels(y, who, &g->nclasses);
  if (st) return st;
  g->n = y->shape[0];
  g->counts = calloc((size_t)g->nclasses + 1, sizeof *g->counts);
  g->start = calloc((size_t)g->nclasses + 1, sizeof *g->start);
  g->pos = malloc(((size_t)g->n + 1) * sizeof *g->pos);
  if (!g->counts || !g->start || !g->pos) {
    lurn_class_groups_free(g);
    return lurn_fail(LURN_ENOMEM, "%s: out of memory grouping %lld labels", who, (long long)g->n);
  }
  for (int64_t i = 0; i < g->n; i++) g->counts[(int64_t)lurn_label_at(y, i)]++;
  for (int64_t c = 0; c < g->nclasses; c++) g->start[c + 1] = g->start[c] + g->counts[c];
  /* A counting sort, stable: each class keeps its rows in order. */
  int64_t *next = calloc((size_t)g->nclasses + 1, sizeof *next);
  if (!next) {
    lurn_class_groups_free(g);
    return lurn_fail(LURN_ENOMEM, "%s: out of memory grouping %lld labels", who, (long long)g->n);
  }
  memcpy(next, g->start, (size_t)g->nclasses * sizeof *next);
  for (int64_t i = 0; i < g->n; i++) g->pos[next[(int64_t)lurn_label_at(y, i)]++] = i;
  free(next);
  return LURN_OK;
}

void lurn_class_groups_free(lurn_class_groups *g) {
  free(g->counts);
  free(g->start);
  free(g->pos);
  memset(g, 0, sizeof *g);
}

lurn_status lurn_check_wanted(const lurn_class_groups *g, const int64_t *wanted, int64_t nwanted,
                              const char *who) {
  for (int64_t c = 0; c < nwanted; c++) {
    if (wanted[c] < 0)
      return lurn_fail(LURN_EINVAL, "%s: %lld samples asked of class %lld", who, (long long)wanted[c],
                       (long long)c);
    if (wanted[c] > 0 && (c >= g->nclasses || g->counts[c] == 0))
      return lurn_fail(LURN_EINVAL, "%s: class %lld is not present in y", who, (long long)c);
  }
  return LURN_OK;
}

lurn_status lurn_class_counts(const lurn_tensor *y, int64_t **counts, int64_t *nclasses) {
  lurn_class_groups g;
  lurn_status st = lurn_class_groups_make(y, "class_counts", &g);
  if (st) return st;
  *counts = g.counts;
  *nclasses = g.nclasses;
  g.counts = NULL;
  lurn_class_groups_free(&g);
  return LURN_OK;
}
