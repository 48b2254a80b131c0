/* Shared by src/sampling/: class labels grouped by class. */
#ifndef LURN_SAMPLING_H
#define LURN_SAMPLING_H

#include "lurn.h"

/* The rows of each class: class c owns pos[start[c] .. start[c + 1]), in increasing order. */
typedef struct lurn_class_groups {
  int64_t n;        /* rows */
  int64_t nclasses; /* largest label + 1 */
  int64_t *counts;  /* (nclasses) */
  int64_t *start;   /* (nclasses + 1) */
  int64_t *pos;     /* (n) */
} lurn_class_groups;

/* Checks y (class labels, (n) or (n, 1)) and groups its rows; `who` prefixes messages. */
lurn_status lurn_class_groups_make(const lurn_tensor *y, const char *who, lurn_class_groups *g);
void lurn_class_groups_free(lurn_class_groups *g);
/* The label of row i of a y already checked. */
float lurn_label_at(const lurn_tensor *y, int64_t i);
/* Whether every class with wanted[c] > 0 is present in y, else fails naming it. */
lurn_status lurn_check_wanted(const lurn_class_groups *g, const int64_t *wanted, int64_t nwanted,
                              const char *who);

#endif
