/* SMOTE (Chawla et al. 2002), as imbalanced-learn implements it: for each class to grow,
 * the k nearest neighbours of its samples among themselves, then for each new sample one
 * draw over the (sample, neighbour) pairs and a step u in [0, 1):
 *     new = x[i] + u * (x[neighbour of i] - x[i]).
 * The draws are made one after another from the generator, and only the arithmetic is
 * shared among threads, so a seed gives the same samples at any thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "sampling.h"

/* n new samples of one class xc (nc, d), whose neighbours are nn (nc, k), into out (n, d).
 * pick and step are work space for n draws. As imbalanced-learn: all the pairs first,
 * then all the steps. */
static void generate(const float *xc, int64_t nc, int64_t d, const int64_t *nn, int k, int64_t n,
                     lurn_rng *rng, int64_t *pick, float *step, float *out) {
  double pairs = (double)nc * k;
  for (int64_t s = 0; s < n; s++) {
    int64_t p = (int64_t)(lurn_rng_uniform(rng) * pairs);
    pick[s] = p < nc * k ? p : nc * k - 1;
  }
  for (int64_t s = 0; s < n; s++) step[s] = (float)lurn_rng_uniform(rng);
#pragma omp parallel for schedule(static) num_threads(lurn_get_num_threads()) if (n * d > (1 << 15))
  for (int64_t s = 0; s < n; s++) {
    const float *a = xc + (pick[s] / k) * d, *b = xc + nn[pick[s]] * d;
    float u = step[s], *o = out + s * d;
    for (int64_t t = 0; t < d; t++) o[t] = a[t] + u * (b[t] - a[t]);
  }
}

/* Checks the arguments; fills *packed (x, contiguous) and the class groups. */
static lurn_status check(const lurn_tensor *x, const lurn_tensor *y, const int64_t *n_new, int64_t nwanted,
                         int k, lurn_tensor **packed, lurn_class_groups *g) {
  char s[LURN_SHAPE_STR_MAX];
  if (x->ndim != 2)
    return lurn_fail(LURN_EINVAL, "SMOTE: x must be (samples, features); got %s",
                     lurn_shape_str(x, s, sizeof s));
  if (k < 1) return lurn_fail(LURN_EINVAL, "SMOTE: k_neighbors must be at least 1, got %d", k);
  lurn_status st = lurn_class_groups_make(y, "SMOTE", g);
  if (st) return st;
  if (g->n != x->shape[0]) {
    lurn_class_groups_free(g);
    return lurn_fail(LURN_EINVAL, "SMOTE: x has %lld samples but y has %lld", (long long)x->shape[0],
                     (long long)g->n);
  }
  if ((st = lurn_check_wanted(g, n_new, nwanted, "SMOTE"))) {
    lurn_class_groups_free(g);
    return st;
  }
  for (int64_t c = 0; c < nwanted; c++)
    if (n_new[c] > 0 && g->counts[c] < (int64_t)k + 1) {
      lurn_fail(LURN_EINVAL, "SMOTE: class %lld has %lld samples; SMOTE needs at least k_neighbors + 1 = %d",
                (long long)c, (long long)g->counts[c], k + 1);
      lurn_class_groups_free(g);
      return LURN_EINVAL;
    }
  *packed = lurn_tensor_contiguous(x);
  if (!*packed) {
    lurn_class_groups_free(g);
    return LURN_ENOMEM;
  }
  int64_t d = x->shape[1];
  const float *px = lurn_tensor_data(*packed);
  for (int64_t i = 0; i < x->shape[0] * d; i++)
    if (!isfinite(px[i])) {
      lurn_tensor_free(*packed);
      lurn_class_groups_free(g);
      return lurn_fail(LURN_EINVAL, "SMOTE: x holds %s at sample %lld, feature %lld (counting from 1)",
                       isnan(px[i]) ? "NaN" : "an infinite value", (long long)(i / d) + 1,
                       (long long)(i % d) + 1);
    }
  return LURN_OK;
}

lurn_status lurn_smote(const lurn_tensor *x, const lurn_tensor *y, const int64_t *n_new, int64_t nwanted,
                       int k, lurn_rng *rng, lurn_tensor **x_out, lurn_tensor **y_out) {
  *x_out = *y_out = NULL;
  lurn_tensor *packed = NULL;
  lurn_class_groups g;
  lurn_status st = check(x, y, n_new, nwanted, k, &packed, &g);
  if (st) return st;
  int64_t n = x->shape[0], d = x->shape[1], total = n, most = 0;
  for (int64_t c = 0; c < nwanted; c++) {
    if (!lurn_add_i64(total, n_new[c], &total)) {
      st = lurn_fail(LURN_EINVAL, "SMOTE: the samples asked add up past 2^63");
      lurn_tensor_free(packed);
      lurn_class_groups_free(&g);
      return st;
    }
    if (n_new[c] > 0 && g.counts[c] > most) most = g.counts[c];
  }
  int64_t biggest_new = 0;
  for (int64_t c = 0; c < nwanted; c++)
    if (n_new[c] > biggest_new) biggest_new = n_new[c];

  int64_t xshape[2] = {total, d}, yshape[2] = {total, 1};
  lurn_tensor *xo = lurn_tensor_empty(2, xshape), *yo = xo ? lurn_tensor_empty(y->ndim, yshape) : NULL;
  float *xc = NULL, *step = NULL;
  int64_t *nn = NULL, *pick = NULL;
  if (!xo || !yo) { /* the message says why: too large, or out of memory */
    st = LURN_ENOMEM;
    goto done;
  }
  /* Work space: most * d and biggest_new are within the tensors just made; most * k may not be. */
  int64_t most_k;
  size_t bytes;
  if (lurn_array_bytes(most * d + 1, sizeof *xc, &bytes)) xc = malloc(bytes);
  if (lurn_mul_i64(most, k, &most_k) && lurn_array_bytes(most_k + 1, sizeof *nn, &bytes)) nn = malloc(bytes);
  if (lurn_array_bytes(biggest_new + 1, sizeof *pick, &bytes)) pick = malloc(bytes);
  if (lurn_array_bytes(biggest_new + 1, sizeof *step, &bytes)) step = malloc(bytes);
  if (!xc || !nn || !pick || !step) {
    st = lurn_fail(LURN_ENOMEM, "SMOTE: out of memory for %lld x %lld samples", (long long)total,
                   (long long)d);
    goto done;
  }
  float *ox = lurn_tensor_data(xo), *oy = lurn_tensor_data(yo);
  const float *px = lurn_tensor_data(packed);
  memcpy(ox, px, (size_t)(n * d) * sizeof *ox);
  for (int64_t i = 0; i < n; i++) oy[i] = lurn_label_at(y, i);

  int64_t at = n;
  for (int64_t c = 0; c < nwanted; c++) {
    if (n_new[c] <= 0) continue;
    int64_t nc = g.counts[c];
    const int64_t *rows = g.pos + g.start[c];
    for (int64_t i = 0; i < nc; i++) memcpy(xc + i * d, px + rows[i] * d, (size_t)d * sizeof *xc);
    if ((st = lurn_knn(xc, nc, NULL, 0, d, k, nn, NULL))) goto done;
    generate(xc, nc, d, nn, k, n_new[c], rng, pick, step, ox + at * d);
    for (int64_t s = 0; s < n_new[c]; s++) oy[at + s] = (float)c;
    at += n_new[c];
  }
  *x_out = xo;
  *y_out = yo;
  xo = yo = NULL;
done:
  lurn_tensor_free(xo);
  lurn_tensor_free(yo);
  free(xc);
  free(nn);
  free(pick);
  free(step);
  lurn_tensor_free(packed);
  lurn_class_groups_free(&g);
  return st;
}
