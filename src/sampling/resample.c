/* Random over- and under-sampling as positions into the data, in imbalanced-learn's
 * order, so that the binding gathers x and y (of any shape) with lurn_tensor_index. */
#include <stdlib.h>

#include "core/checked.h"
#include "sampling.h"

/* A uniform whole number in [0, n). */
static int64_t below(lurn_rng *rng, int64_t n) {
  int64_t v = (int64_t)(lurn_rng_uniform(rng) * (double)n);
  return v < n ? v : n - 1;
}

lurn_status lurn_random_oversample(const lurn_tensor *y, const int64_t *n_new, int64_t nwanted, lurn_rng *rng,
                                   int64_t **index, int64_t *m) {
  *index = NULL;
  *m = 0;
  lurn_class_groups g;
  lurn_status st = lurn_class_groups_make(y, "RandomOverSampler", &g);
  if (st) return st;
  if ((st = lurn_check_wanted(&g, n_new, nwanted, "RandomOverSampler"))) goto done;
  int64_t total = g.n;
  size_t bytes = 0;
  int fits = 1;
  for (int64_t c = 0; c < nwanted && fits; c++) fits = lurn_add_i64(total, n_new[c], &total);
  if (!fits || !lurn_array_bytes(total, sizeof(int64_t), &bytes) ||
      !lurn_add_size(bytes, sizeof(int64_t), &bytes)) {
    st = lurn_fail(LURN_EINVAL, "RandomOverSampler: the samples asked add up past 2^63");
    goto done;
  }
  int64_t *idx = malloc(bytes);
  if (!idx) {
    st = lurn_fail(LURN_ENOMEM, "RandomOverSampler: out of memory for %lld positions", (long long)total);
    goto done;
  }
  for (int64_t i = 0; i < g.n; i++) idx[i] = i;
  int64_t at = g.n;
  for (int64_t c = 0; c < nwanted; c++)
    for (int64_t s = 0; s < n_new[c]; s++) idx[at++] = g.pos[g.start[c] + below(rng, g.counts[c])];
  *index = idx;
  *m = total;
done:
  lurn_class_groups_free(&g);
  return st;
}

lurn_status lurn_random_undersample(const lurn_tensor *y, const int64_t *n_keep, int64_t nwanted,
                                    int replacement, lurn_rng *rng, int64_t **index, int64_t *m) {
  *index = NULL;
  *m = 0;
  lurn_class_groups g;
  lurn_status st = lurn_class_groups_make(y, "RandomUnderSampler", &g);
  if (st) return st;
  int64_t total = 0;
  for (int64_t c = 0; c < g.nclasses || c < nwanted; c++) {
    int64_t have = c < g.nclasses ? g.counts[c] : 0, keep = c < nwanted && n_keep[c] >= 0 ? n_keep[c] : have;
    if (keep > 0 && have == 0) {
      st = lurn_fail(LURN_EINVAL, "RandomUnderSampler: class %lld is not present in y", (long long)c);
      goto done;
    }
    if (keep > have && !replacement) {
      st = lurn_fail(LURN_EINVAL, "RandomUnderSampler: %lld samples asked of class %lld, which has %lld",
                     (long long)keep, (long long)c, (long long)have);
      goto done;
    }
    if (!lurn_add_i64(total, keep, &total)) {
      st = lurn_fail(LURN_EINVAL, "RandomUnderSampler: the samples asked add up past 2^63");
      goto done;
    }
  }
  size_t bytes = 0;
  int64_t *idx =
      lurn_array_bytes(total, sizeof(int64_t), &bytes) && lurn_add_size(bytes, sizeof(int64_t), &bytes)
          ? malloc(bytes)
          : NULL;
  int64_t *perm = malloc((size_t)(g.n + 1) * sizeof *perm);
  if (!idx || !perm) {
    free(idx);
    free(perm);
    st = lurn_fail(LURN_ENOMEM, "RandomUnderSampler: out of memory for %lld positions", (long long)total);
    goto done;
  }
  int64_t at = 0;
  for (int64_t c = 0; c < g.nclasses; c++) {
    const int64_t *rows = g.pos + g.start[c];
    int64_t have = g.counts[c];
    if (c >= nwanted || n_keep[c] < 0) { /* not resampled: every row, in order */
      for (int64_t i = 0; i < have; i++) idx[at++] = rows[i];
    } else if (replacement) {
      for (int64_t s = 0; s < n_keep[c]; s++) idx[at++] = rows[below(rng, have)];
    } else { /* the first n_keep of a partial Fisher-Yates shuffle */
      for (int64_t i = 0; i < have; i++) perm[i] = i;
      for (int64_t s = 0; s < n_keep[c]; s++) {
        int64_t j = s + below(rng, have - s), t = perm[s];
        perm[s] = perm[j];
        perm[j] = t;
        idx[at++] = rows[perm[s]];
      }
    }
  }
  free(perm);
  *index = idx;
  *m = total;
done:
  lurn_class_groups_free(&g);
  return st;
}
