/* Train/test splits and cross-validation folds, sample for sample as scikit-learn's
 * KFold, StratifiedKFold and StratifiedShuffleSplit make them when nothing is shuffled;
 * shuffled splits draw from lurn's generator, so they keep sklearn's sizes and class
 * proportions but not its exact samples. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "lurn.h"

static lurn_status check_n_splits(int64_t n, int n_splits) {
  if (n_splits < 2)
    return lurn_fail(LURN_EINVAL, "n_splits=%d: at least 2 folds are needed (one to test, one to train)",
                     n_splits);
  if (n_splits > n)
    return lurn_fail(
        LURN_EINVAL,
        "cannot have number of splits n_splits=%d greater than the number of samples: n_samples=%lld",
        n_splits, (long long)n);
  return LURN_OK;
}

/* Contiguous blocks of `order`, the first n % n_splits one sample larger. */
lurn_status lurn_kfold(int64_t n, int n_splits, lurn_rng *rng, int64_t *fold) {
  lurn_status st = check_n_splits(n, n_splits);
  if (st != LURN_OK) return st;
  size_t bytes;
  int64_t *order = lurn_array_bytes(n ? n : 1, sizeof *order, &bytes) ? malloc(bytes) : NULL;
  if (!order) return lurn_fail(LURN_ENOMEM, "k-fold: out of memory");
  if (rng)
    lurn_randperm(order, n, rng);
  else
    for (int64_t i = 0; i < n; i++) order[i] = i;
  int64_t at = 0;
  for (int f = 0; f < n_splits; f++) {
    int64_t size = n / n_splits + (f < n % n_splits ? 1 : 0);
    for (int64_t j = 0; j < size; j++) fold[order[at + j]] = f;
    at += size;
  }
  free(order);
  return LURN_OK;
}

static lurn_status check_codes(const int64_t *codes, int64_t n, int64_t k) {
  for (int64_t i = 0; i < n; i++)
    if (codes[i] < 0 || codes[i] >= k)
      return lurn_fail(LURN_EINVAL, "class code %lld of sample %lld is out of range 0..%lld",
                       (long long)codes[i], (long long)i + 1, (long long)k - 1);
  return LURN_OK;
}

/* sklearn's StratifiedKFold._make_test_folds: classes renumbered by first appearance, the
 * samples of the sorted labels dealt round-robin to the folds (which fixes how many of
 * each class every fold gets), then each class's samples given their folds in blocks, in
 * the order they appear (the blocks shuffled when rng is given). */
lurn_status lurn_stratified_kfold(const int64_t *codes, int64_t n, int64_t k, int n_splits, lurn_rng *rng,
                                  int64_t *fold) {
  lurn_status st = check_n_splits(n, n_splits);
  if (st == LURN_OK) st = check_codes(codes, n, k);
  if (st != LURN_OK) return st;
  if (k > n) /* labels number their classes: each class has a sample */
    return lurn_fail(LURN_EINVAL, "stratified k-fold: %lld classes for %lld samples", (long long)k,
                     (long long)n);
  /* rank[c]: class c's number by first appearance; count[r]: members of the r-th class. */
  size_t bytes;
  int64_t words; /* 3k + n <= 4n */
  int64_t *first =
      lurn_mul_i64(n, 4, &words) && lurn_array_bytes(words, sizeof(int64_t), &bytes) ? malloc(bytes) : NULL;
  if (!first) return lurn_fail(LURN_ENOMEM, "stratified k-fold: out of memory");
  int64_t *rank = first + k, *count = rank + k, *blocks = count + k;
  for (int64_t c = 0; c < k; c++) {
    first[c] = INT64_MAX;
    count[c] = 0;
  }
  for (int64_t i = n - 1; i >= 0; i--) first[codes[i]] = i;
  for (int64_t c = 0; c < k; c++) {
    rank[c] = 0;
    for (int64_t d = 0; d < k; d++) rank[c] += first[d] < first[c];
  }
  int64_t smallest_ok = 0;
  for (int64_t i = 0; i < n; i++) count[rank[codes[i]]]++;
  for (int64_t r = 0; r < k; r++) smallest_ok |= count[r] >= n_splits;
  if (!smallest_ok) {
    free(first);
    return lurn_fail(LURN_EINVAL, "n_splits=%d cannot be greater than the number of members in each class",
                     n_splits);
  }
  int64_t start = 0; /* where class r begins in the sorted labels */
  for (int64_t r = 0; r < k; r++) {
    /* Class r holds sorted positions start..start+count-1; fold f gets those = f (mod n_splits). */
    int64_t m = 0;
    for (int f = 0; f < n_splits; f++) {
      int64_t lo = start + ((f - start % n_splits) + n_splits) % n_splits; /* first p >= start, p = f */
      int64_t alloc = lo < start + count[r] ? (start + count[r] - 1 - lo) / n_splits + 1 : 0;
      for (int64_t j = 0; j < alloc; j++) blocks[m++] = f;
    }
    if (rng && m > 1) {
      int64_t *perm = malloc(sizeof *perm * (size_t)m), *tmp = malloc(sizeof *tmp * (size_t)m);
      if (!perm || !tmp) {
        free(perm);
        free(tmp);
        free(first);
        return lurn_fail(LURN_ENOMEM, "stratified k-fold: out of memory");
      }
      lurn_randperm(perm, m, rng);
      for (int64_t j = 0; j < m; j++) tmp[j] = blocks[perm[j]];
      memcpy(blocks, tmp, sizeof *tmp * (size_t)m);
      free(perm);
      free(tmp);
    }
    int64_t j = 0;
    for (int64_t i = 0; i < n; i++)
      if (rank[codes[i]] == r) fold[i] = blocks[j++];
    start += count[r];
  }
  free(first);
  return LURN_OK;
}

void lurn_fold_positions(const int64_t *fold, int64_t n, int f, int64_t *train, int64_t *n_train,
                         int64_t *test, int64_t *n_test) {
  *n_train = *n_test = 0;
  for (int64_t i = 0; i < n; i++) {
    if (fold[i] == f)
      test[(*n_test)++] = i;
    else
      train[(*n_train)++] = i;
  }
}

/* sklearn's _approximate_mode: the floors of count * n_draws / total, and the draws left
 * over given to the classes with the largest remainders, ties broken at random. */
static lurn_status approximate_mode(const int64_t *count, int64_t k, int64_t n_draws, lurn_rng *rng,
                                    int64_t *out) {
  int64_t total = 0, drawn = 0;
  for (int64_t c = 0; c < k; c++) total += count[c];
  double *rem = malloc(sizeof *rem * (size_t)k);
  int64_t *tied = malloc(sizeof *tied * (size_t)k), *perm = malloc(sizeof *perm * (size_t)k);
  if (!rem || !tied || !perm) {
    free(rem);
    free(tied);
    free(perm);
    return lurn_fail(LURN_ENOMEM, "stratified split: out of memory");
  }
  for (int64_t c = 0; c < k; c++) {
    double cont = total ? (double)count[c] / (double)total * (double)n_draws : 0;
    out[c] = (int64_t)cont;
    rem[c] = cont - (double)out[c];
    drawn += out[c];
  }
  int64_t need = n_draws - drawn;
  while (need > 0) {
    double top = -1;
    for (int64_t c = 0; c < k; c++)
      if (rem[c] > top) top = rem[c];
    int64_t m = 0;
    for (int64_t c = 0; c < k; c++)
      if (rem[c] == top) {
        tied[m++] = c;
        rem[c] = -2; /* done with this remainder value */
      }
    if (m == 0) break;
    lurn_randperm(perm, m, rng);
    for (int64_t j = 0; j < m && need > 0; j++, need--) out[tied[perm[j]]]++;
  }
  free(rem);
  free(tied);
  free(perm);
  return LURN_OK;
}

static void shuffle(int64_t *v, int64_t n, int64_t *scratch, lurn_rng *rng) {
  lurn_randperm(scratch, n, rng);
  for (int64_t i = 0; i < n; i++) scratch[i] = v[scratch[i]];
  memcpy(v, scratch, sizeof *v * (size_t)n);
}

/* sklearn's StratifiedShuffleSplit._iter_indices for one split. */
lurn_status lurn_stratified_split(const int64_t *codes, int64_t n, int64_t k, int64_t n_train, int64_t n_test,
                                  lurn_rng *rng, int64_t *train, int64_t *test) {
  lurn_status st = check_codes(codes, n, k);
  if (st != LURN_OK) return st;
  /* Not n_train + n_test > n: the sum may overflow. */
  if (n_train < 0 || n_test < 0 || n_train > n || n_test > n - n_train)
    return lurn_fail(LURN_EINVAL, "train (%lld) and test (%lld) sizes do not fit in %lld samples",
                     (long long)n_train, (long long)n_test, (long long)n);
  if (k > n) /* labels number their classes: each class has a sample */
    return lurn_fail(LURN_EINVAL, "stratified split: %lld classes for %lld samples", (long long)k,
                     (long long)n);
  size_t bytes;
  int64_t words; /* 4k + 2n + 1 <= 6n + 1 */
  int64_t *buf = lurn_mul_i64(n, 6, &words) && lurn_array_bytes(words + 1, sizeof(int64_t), &bytes)
                     ? calloc(1, bytes)
                     : NULL;
  if (!buf) return lurn_fail(LURN_ENOMEM, "stratified split: out of memory");
  int64_t *count = buf, *n_i = count + k, *t_i = n_i + k, *start = t_i + k, *by_class = start + k,
          *scratch = by_class + n;
  for (int64_t i = 0; i < n; i++) count[codes[i]]++;
  for (int64_t c = 0; c < k; c++)
    if (count[c] < 2) {
      st = lurn_fail(LURN_EINVAL,
                     "the least populated class in y has only %lld member%s, which is too few: "
                     "the minimum number of members in any class cannot be less than 2",
                     (long long)count[c], count[c] == 1 ? "" : "s");
      goto done;
    }
  if (n_train < k || n_test < k) {
    int is_train = n_train < k;
    st = lurn_fail(LURN_EINVAL,
                   "the %s size = %lld should be greater or equal to the number of classes = %lld",
                   is_train ? "train" : "test", (long long)(is_train ? n_train : n_test), (long long)k);
    goto done;
  }
  /* Each class's samples in ascending position (a stable sort by class). */
  for (int64_t c = 1; c < k; c++) start[c] = start[c - 1] + count[c - 1];
  for (int64_t c = 0; c < k; c++) t_i[c] = start[c];
  for (int64_t i = 0; i < n; i++) by_class[t_i[codes[i]]++] = i;
  if ((st = approximate_mode(count, k, n_train, rng, n_i)) != LURN_OK) goto done;
  for (int64_t c = 0; c < k; c++) scratch[c] = count[c] - n_i[c];
  if ((st = approximate_mode(scratch, k, n_test, rng, t_i)) != LURN_OK) goto done;
  int64_t a = 0, b = 0;
  for (int64_t c = 0; c < k; c++) {
    int64_t *members = by_class + start[c];
    shuffle(members, count[c], scratch, rng);
    for (int64_t j = 0; j < n_i[c]; j++) train[a++] = members[j];
    for (int64_t j = 0; j < t_i[c]; j++) test[b++] = members[n_i[c] + j];
  }
  shuffle(train, n_train, scratch, rng);
  shuffle(test, n_test, scratch, rng);
done:
  free(buf);
  return st;
}
