/* The preprocessing kernels against scikit-learn 1.2.1 / numpy 1.24 (Debian's
 * python3-sklearn; the expected numbers were printed by /usr/bin/python3 with the same
 * float32 inputs): column statistics with NaN skipped, numpy's linear quantiles, modes,
 * per-column maps, row norms, categories, and the folds and splits of KFold,
 * StratifiedKFold and StratifiedShuffleSplit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lurn.h"

#define N 6
#define K 3

/* Column 3 is constant; NaN in columns 1 and 2. */
static lurn_tensor *sample_data(void) {
  static const float v[N][K] = {{1, -2, 0.5f},  {2, 0, 0.5f},  {4, 2, 0.5f},
                                {NAN, 8, 0.5f}, {3, -4, 0.5f}, {6, NAN, 0.5f}};
  int64_t shape[2] = {N, K};
  lurn_tensor *t = lurn_tensor_empty(2, shape);
  memcpy(lurn_tensor_data(t), v, sizeof v);
  return t;
}

static float at(const lurn_tensor *t, int64_t i) {
  return lurn_tensor_data(t)[i];
}

static lurn_tensor *vec(const float *v, int64_t n) {
  lurn_tensor *t = lurn_tensor_empty(1, &n);
  memcpy(lurn_tensor_data(t), v, sizeof(float) * (size_t)n);
  return t;
}

static void test_column_stats_skip_nan_and_scale_constant_columns_by_one(void) {
  lurn_tensor *x = sample_data();
  lurn_column_stats s;
  CHECK(lurn_column_stats_compute(x, &s) == LURN_OK);
  const float count[] = {5, 5, 6}, mean[] = {3.2f, 0.8f, 0.5f}, var[] = {2.96f, 16.96f, 0};
  const double scale[] = {1.7204650534085253, 4.1182520563948, 1.0};
  const float lo[] = {1, -4, 0.5f}, hi[] = {6, 8, 0.5f};
  for (int j = 0; j < K; j++) {
    CHECK(at(s.count, j) == count[j]);
    CHECK_NEAR(at(s.mean, j), mean[j], 1e-6);
    CHECK_NEAR(at(s.var, j), var[j], 1e-5);
    CHECK_NEAR(at(s.scale, j), scale[j], 1e-6);
    CHECK(at(s.min, j) == lo[j] && at(s.max, j) == hi[j]);
  }
  lurn_column_stats_free(&s);
  CHECK(s.mean == NULL);
  lurn_tensor_free(x);
}

static void test_column_stats_of_an_all_nan_column_are_nan(void) {
  int64_t shape[2] = {2, 1};
  lurn_tensor *x = lurn_tensor_full(2, shape, NAN);
  lurn_column_stats s;
  CHECK(lurn_column_stats_compute(x, &s) == LURN_OK);
  CHECK(at(s.count, 0) == 0 && isnan(at(s.mean, 0)) && isnan(at(s.var, 0)) && isnan(at(s.min, 0)));
  lurn_column_stats_free(&s);
  lurn_tensor_free(x);
}

static void test_column_stats_reject_1d_data(void) {
  int64_t n = 4;
  lurn_tensor *x = lurn_tensor_zeros(1, &n);
  lurn_column_stats s;
  CHECK(lurn_column_stats_compute(x, &s) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "expected 2-D data") != NULL);
  lurn_tensor_free(x);
}

/* numpy.nanpercentile(X, [25, 50, 75, 10, 90], axis=0), linear interpolation. */
static void test_quantiles_interpolate_as_numpy(void) {
  lurn_tensor *x = sample_data();
  const double q[] = {25, 50, 75, 10, 90};
  lurn_tensor *out = lurn_column_quantiles(x, q, 5);
  CHECK(out && out->shape[0] == 5 && out->shape[1] == K);
  if (out) {
    CHECK_NEAR(at(out, 0 * K + 0), 2, 1e-6); /* RobustScaler: center 3, IQR 2 */
    CHECK_NEAR(at(out, 1 * K + 0), 3, 1e-6);
    CHECK_NEAR(at(out, 2 * K + 0), 4, 1e-6);
    CHECK_NEAR(at(out, 1 * K + 1), 0, 1e-6); /* center 0, IQR 4 */
    CHECK_NEAR(at(out, 2 * K + 1) - at(out, 0 * K + 1), 4, 1e-6);
    CHECK_NEAR(at(out, 4 * K + 0) - at(out, 3 * K + 0), 3.8, 1e-5); /* quantile_range (10, 90) */
    CHECK_NEAR(at(out, 4 * K + 1) - at(out, 3 * K + 1), 8.8, 1e-5);
    CHECK(at(out, 2 * K + 2) == 0.5f);
  }
  lurn_tensor_free(out);
  double bad = 101;
  CHECK(lurn_column_quantiles(x, &bad, 1) == NULL);
  CHECK(strstr(lurn_last_error(), "101") != NULL);
  lurn_tensor_free(x);
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* numpy's linear quantile from a plain sort, to check the quickselect against. */
static double sorted_quantile(float *v, int64_t m, double q) {
  qsort(v, (size_t)m, sizeof *v, cmp_float);
  double pos = q / 100 * (double)(m - 1), below = floor(pos);
  int64_t i = (int64_t)below;
  if (i >= m - 1) return v[m - 1];
  double t = pos - below, a = v[i], b = v[i + 1];
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

/* 3000 x 21 (two chunks of columns and a partial one, on several threads): values with
 * many ties and some NaN; column 21 all NaN. */
static void test_quantiles_and_modes_agree_with_sorting_on_random_data(void) {
  int64_t n = 3000, k = 21, shape[2] = {n, k};
  lurn_tensor *x = lurn_tensor_empty(2, shape);
  float *d = lurn_tensor_data(x), *col = malloc(sizeof(float) * (size_t)n);
  lurn_rng r;
  lurn_rng_seed(&r, 11);
  for (int64_t i = 0; i < n * k; i++) {
    int64_t j = i % k;
    double u = lurn_rng_uniform(&r);
    d[i] = j == k - 1 || u < 0.05 ? NAN : (float)floor(lurn_rng_uniform(&r) * (double)(j + 2) * 3) - 7;
  }
  const double q[] = {0, 1, 10, 25, 50, 62.5, 75, 99, 100};
  lurn_tensor *out = lurn_column_quantiles(x, q, 9), *mode = lurn_column_mode(x);
  CHECK(out != NULL && mode != NULL);
  for (int64_t j = 0; out && mode && j < k; j++) {
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
      if (d[i * k + j] == d[i * k + j]) col[m++] = d[i * k + j];
    for (int i = 0; i < 9; i++) {
      float got = at(out, i * k + j);
      if (m == 0) {
        CHECK(isnan(got));
        continue;
      }
      CHECK_NEAR(got, sorted_quantile(col, m, q[i]), 1e-6);
    }
    /* the sorted column: the longest run, the smallest on ties */
    float best = NAN;
    int64_t run = 0;
    for (int64_t i = 0; i < m;) {
      int64_t e = i;
      while (e < m && col[e] == col[i]) e++;
      if (e - i > run) run = e - i, best = col[i];
      i = e;
    }
    CHECK(m ? at(mode, j) == best : isnan(at(mode, j)));
  }
  free(col);
  lurn_tensor_free(out);
  lurn_tensor_free(mode);
  lurn_tensor_free(x);
}

static void test_mode_takes_the_smallest_on_ties(void) {
  const float v[] = {2, 7, 1, 7, 2, 3, 1, 3, 5, 9};
  int64_t shape[2] = {5, 2};
  lurn_tensor *x = lurn_tensor_empty(2, shape);
  memcpy(lurn_tensor_data(x), v, sizeof v);
  lurn_tensor *m = lurn_column_mode(x);
  CHECK(m && at(m, 0) == 1 && at(m, 1) == 3);
  lurn_tensor_free(m);
  lurn_tensor_free(x);
  lurn_tensor *s = sample_data();
  m = lurn_column_mode(s);
  CHECK(m && at(m, 0) == 1 && at(m, 1) == -4 && at(m, 2) == 0.5f);
  lurn_tensor_free(m);
  lurn_tensor_free(s);
}

static void test_affine_maps_keep_nan_and_check_widths(void) {
  lurn_tensor *x = sample_data();
  const float center[] = {3, 0, 0.5f}, scale[] = {2, 4, 1};
  lurn_tensor *a = vec(center, K), *b = vec(scale, K);
  lurn_tensor *y = lurn_columns_affine(x, a, b, LURN_AFFINE_SUB_DIV);
  const float want[N][K] = {{-1, -0.5f, 0}, {-0.5f, 0, 0}, {0.5f, 0.5f, 0},
                            {NAN, 2, 0},    {0, -1, 0},    {1.5f, NAN, 0}};
  for (int i = 0; i < N; i++)
    for (int j = 0; j < K; j++)
      CHECK(isnan(want[i][j]) ? isnan(at(y, i * K + j)) : at(y, i * K + j) == want[i][j]);
  lurn_tensor *back = lurn_columns_affine(y, b, a, LURN_AFFINE_MUL_ADD);
  CHECK(at(back, 0) == 1 && at(back, 4 * K + 1) == -4);
  lurn_tensor *only_shift = lurn_columns_affine(x, a, NULL, LURN_AFFINE_SUB_DIV);
  CHECK(at(only_shift, 2 * K + 1) == 2);
  lurn_tensor *short_params = vec(center, 2);
  CHECK(lurn_columns_affine(x, short_params, NULL, LURN_AFFINE_SUB_DIV) == NULL);
  CHECK(strstr(lurn_last_error(), "3 features") != NULL);
  lurn_tensor *tensors[] = {a, b, y, back, only_shift, short_params, x};
  for (size_t i = 0; i < sizeof tensors / sizeof tensors[0]; i++) lurn_tensor_free(tensors[i]);
}

static void test_fill_replaces_nan_or_a_marker(void) {
  lurn_tensor *x = sample_data();
  const float fill[] = {10, 20, 30};
  lurn_tensor *f = vec(fill, K);
  lurn_tensor *y = lurn_columns_fill(x, NAN, f);
  CHECK(at(y, 3 * K + 0) == 10 && at(y, 5 * K + 1) == 20 && at(y, 0) == 1);
  lurn_tensor *z = lurn_columns_fill(x, 0.5f, f);
  CHECK(at(z, 2) == 30 && isnan(at(z, 3 * K + 0)));
  lurn_tensor_free(z);
  lurn_tensor_free(y);
  lurn_tensor_free(f);
  lurn_tensor_free(x);
}

/* sklearn.preprocessing.Normalizer on [[3, -4, 0], [0, 0, 0], [1, 2, -2]]. */
static void test_rows_normalize_l1_l2_max_and_leave_zero_rows(void) {
  const float v[] = {3, -4, 0, 0, 0, 0, 1, 2, -2};
  int64_t shape[2] = {3, 3};
  lurn_tensor *x = lurn_tensor_empty(2, shape);
  memcpy(lurn_tensor_data(x), v, sizeof v);
  lurn_tensor *norms = NULL;
  lurn_tensor *l2 = lurn_rows_normalize(x, LURN_NORM_L2, &norms);
  CHECK_NEAR(at(l2, 0), 0.6, 1e-7);
  CHECK_NEAR(at(l2, 7), 0.6666666865348816, 1e-7);
  CHECK(at(l2, 3) == 0 && at(norms, 1) == 1 && at(norms, 0) == 5);
  lurn_tensor *l1 = lurn_rows_normalize(x, LURN_NORM_L1, NULL);
  CHECK_NEAR(at(l1, 0), 0.4285714328289032, 1e-7);
  lurn_tensor *mx = lurn_rows_normalize(x, LURN_NORM_MAX, NULL);
  CHECK(at(mx, 0) == 0.75f && at(mx, 7) == 1);
  lurn_tensor_data(x)[4] = NAN;
  CHECK(lurn_rows_normalize(x, LURN_NORM_L2, NULL) == NULL);
  CHECK(strstr(lurn_last_error(), "row 2 holds NaN at column 2") != NULL);
  lurn_tensor *all[] = {x, norms, l2, l1, mx};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) lurn_tensor_free(all[i]);
}

static void test_unique_sorts_with_nan_last_and_counts(void) {
  const float v[] = {3, NAN, 1, 3, 7, NAN};
  lurn_tensor *x = vec(v, 6), *u, *c;
  CHECK(lurn_unique(x, &u, &c) == LURN_OK);
  CHECK(u->shape[0] == 4 && at(u, 0) == 1 && at(u, 1) == 3 && at(u, 2) == 7 && isnan(at(u, 3)));
  CHECK(at(c, 0) == 1 && at(c, 1) == 2 && at(c, 3) == 2);
  lurn_tensor *codes = lurn_encode(x, u, 0);
  CHECK(codes && at(codes, 0) == 1 && at(codes, 1) == 3 && at(codes, 4) == 2);
  const float unseen[] = {7, 5};
  lurn_tensor *y = vec(unseen, 2);
  CHECK(lurn_encode(y, u, 0) == NULL);
  CHECK(strstr(lurn_last_error(), "unknown value 5 at position 2") != NULL);
  lurn_tensor *ignored = lurn_encode(y, u, 1);
  CHECK(ignored && at(ignored, 1) == -1);
  lurn_tensor *all[] = {x, u, c, codes, y, ignored};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) lurn_tensor_free(all[i]);
}

static void test_one_hot_rejects_labels_out_of_range_or_fractional(void) {
  const float v[] = {0, 2, -1};
  lurn_tensor *codes = vec(v, 3);
  lurn_tensor *h = lurn_one_hot(codes, 3, 1);
  CHECK(h && h->shape[0] == 3 && h->shape[1] == 3);
  CHECK(at(h, 0) == 1 && at(h, 5) == 1 && at(h, 6) == 0 && at(h, 7) == 0 && at(h, 8) == 0);
  CHECK(lurn_one_hot(codes, 3, 0) == NULL);
  CHECK(strstr(lurn_last_error(), "label -1 at position 3 is out of range 0..2") != NULL);
  lurn_tensor_data(codes)[1] = 1.5f;
  CHECK(lurn_one_hot(codes, 3, 1) == NULL);
  CHECK(strstr(lurn_last_error(), "label 1.5 at position 2 is not a whole number") != NULL);
  lurn_tensor_free(h);
  lurn_tensor_free(codes);
}

static void test_texts_sort_bytewise_with_missing_last(void) {
  lurn_str v[] = {{"m", 1}, {NULL, 0}, {"f", 1}, {"m", 1}, {"a\0b", 3}, {"a", 1}};
  int64_t first[6], counts[6], k;
  CHECK(lurn_unique_strings(v, 6, first, counts, &k) == LURN_OK);
  CHECK(k == 5);
  CHECK(first[0] == 5 && first[1] == 4 && first[2] == 2 && first[3] == 0 && first[4] == 1);
  CHECK(counts[3] == 2 && counts[4] == 1);
  lurn_str classes[5];
  for (int j = 0; j < 5; j++) classes[j] = v[first[j]];
  float codes[6];
  CHECK(lurn_encode_strings(v, 6, classes, 5, 0, codes) == LURN_OK);
  CHECK(codes[0] == 3 && codes[1] == 4 && codes[4] == 1 && codes[5] == 0);
  lurn_str unseen[] = {{"f", 1}, {"x", 1}};
  CHECK(lurn_encode_strings(unseen, 2, classes, 5, 0, codes) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "unknown value 'x' at position 2") != NULL);
  CHECK(lurn_encode_strings(unseen, 2, classes, 5, 1, codes) == LURN_OK && codes[1] == -1);
}

static int same_list(const int64_t *got, int64_t n, const int64_t *want, int64_t m) {
  return n == m && memcmp(got, want, sizeof(int64_t) * (size_t)n) == 0;
}

/* KFold(5).split(np.zeros(12)): folds of 3, 3, 2, 2, 2. */
static void test_kfold_matches_sklearn_without_shuffle(void) {
  int64_t fold[12], train[12], test[12], nt, ne;
  CHECK(lurn_kfold(12, 5, NULL, fold) == LURN_OK);
  const int64_t want[] = {0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 4};
  CHECK(memcmp(fold, want, sizeof want) == 0);
  lurn_fold_positions(fold, 12, 2, train, &nt, test, &ne);
  const int64_t test2[] = {6, 7}, train2[] = {0, 1, 2, 3, 4, 5, 8, 9, 10, 11};
  CHECK(same_list(test, ne, test2, 2) && same_list(train, nt, train2, 10));
  CHECK(lurn_kfold(3, 5, NULL, fold) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "n_splits=5 greater than the number of samples: n_samples=3") != NULL);
  CHECK(lurn_kfold(3, 1, NULL, fold) == LURN_EINVAL);
}

static void test_kfold_shuffled_keeps_fold_sizes_and_repeats_with_a_seed(void) {
  int64_t a[103], b[103], size[4] = {0};
  lurn_rng r;
  lurn_rng_seed(&r, 7);
  CHECK(lurn_kfold(103, 4, &r, a) == LURN_OK);
  lurn_rng_seed(&r, 7);
  CHECK(lurn_kfold(103, 4, &r, b) == LURN_OK);
  CHECK(memcmp(a, b, sizeof a) == 0);
  for (int i = 0; i < 103; i++) size[a[i]]++;
  CHECK(size[0] == 26 && size[1] == 26 && size[2] == 26 && size[3] == 25);
  int sorted = 1;
  for (int i = 1; i < 103; i++) sorted &= a[i] >= a[i - 1];
  CHECK(!sorted);
}

/* StratifiedKFold(n).split(X, y): the test folds sklearn gives. */
static void test_stratified_kfold_matches_sklearn(void) {
  const int64_t y[] = {0, 0, 1, 1, 1, 2, 2, 2, 2, 0, 1, 2, 2, 1, 0};
  int64_t fold[15], train[15], test[15], nt, ne;
  CHECK(lurn_stratified_kfold(y, 15, 3, 3, NULL, fold) == LURN_OK);
  const int64_t t0[] = {0, 1, 2, 5, 6}, t1[] = {3, 4, 7, 8, 9}, t2[] = {10, 11, 12, 13, 14};
  const int64_t *want[] = {t0, t1, t2};
  for (int f = 0; f < 3; f++) {
    lurn_fold_positions(fold, 15, f, train, &nt, test, &ne);
    CHECK(same_list(test, ne, want[f], 5) && nt == 10);
  }
  /* classes numbered by first appearance: 2 comes first here */
  const int64_t y2[] = {2, 2, 0, 1, 0, 1, 0, 1, 2, 0};
  int64_t fold2[10];
  CHECK(lurn_stratified_kfold(y2, 10, 3, 2, NULL, fold2) == LURN_OK);
  const int64_t want2[] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
  CHECK(memcmp(fold2, want2, sizeof want2) == 0);
  const int64_t tiny[] = {0, 1, 0, 1};
  CHECK(lurn_stratified_kfold(tiny, 4, 2, 3, NULL, fold) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "n_splits=3 cannot be greater than the number of members in each class") !=
        NULL);
}

static void test_stratified_kfold_shuffled_keeps_class_counts_per_fold(void) {
  int64_t y[60], fold[60], per[3][3] = {{0}};
  for (int i = 0; i < 60; i++) y[i] = i < 30 ? 0 : i < 45 ? 1 : 2;
  lurn_rng r;
  lurn_rng_seed(&r, 3);
  CHECK(lurn_stratified_kfold(y, 60, 3, 3, &r, fold) == LURN_OK);
  for (int i = 0; i < 60; i++) per[fold[i]][y[i]]++;
  for (int f = 0; f < 3; f++) CHECK(per[f][0] == 10 && per[f][1] == 5 && per[f][2] == 5);
}

/* train_test_split(y, test_size=0.3, stratify=y, random_state=0) on classes of 30/15/5
 * gives 21/10/4 and 9/5/1; on 7/5/3 with test_size=0.2 (3 samples) 6/4/2 and 1/1/1. */
static void test_stratified_split_sizes_match_sklearn(void) {
  int64_t y[50], train[50], test[50];
  for (int i = 0; i < 50; i++) y[i] = i < 30 ? 0 : i < 45 ? 1 : 2;
  lurn_rng r;
  lurn_rng_seed(&r, 0);
  CHECK(lurn_stratified_split(y, 50, 3, 35, 15, &r, train, test) == LURN_OK);
  int64_t tr[3] = {0}, te[3] = {0};
  for (int i = 0; i < 35; i++) tr[y[train[i]]]++;
  for (int i = 0; i < 15; i++) te[y[test[i]]]++;
  /* 10.5 and 3.5 tie for the last training sample: sklearn's random_state=0 gives it to class 2 */
  CHECK(tr[0] == 21 && ((tr[1] == 10 && tr[2] == 4) || (tr[1] == 11 && tr[2] == 3)));
  CHECK(te[0] == 30 - tr[0] && te[1] == 15 - tr[1] && te[2] == 5 - tr[2]);
  char seen[50] = {0};
  for (int i = 0; i < 35; i++) seen[train[i]]++;
  for (int i = 0; i < 15; i++) seen[test[i]]++;
  int once = 1;
  for (int i = 0; i < 50; i++) once &= seen[i] == 1;
  CHECK(once);

  int64_t z[15], tr2[3] = {0}, te2[3] = {0};
  for (int i = 0; i < 15; i++) z[i] = i < 7 ? 0 : i < 12 ? 1 : 2;
  CHECK(lurn_stratified_split(z, 15, 3, 12, 3, &r, train, test) == LURN_OK);
  for (int i = 0; i < 12; i++) tr2[z[train[i]]]++;
  for (int i = 0; i < 3; i++) te2[z[test[i]]]++;
  CHECK(tr2[0] == 6 && tr2[1] == 4 && tr2[2] == 2 && te2[0] == 1 && te2[1] == 1 && te2[2] == 1);

  const int64_t lonely[] = {0, 0, 0, 1};
  CHECK(lurn_stratified_split(lonely, 4, 2, 2, 2, &r, train, test) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "only 1 member") != NULL);
  CHECK(lurn_stratified_split(z, 15, 3, 13, 2, &r, train, test) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "test size = 2 should be greater or equal to the number of classes = 3") !=
        NULL);
}

int main(void) {
  RUN(test_column_stats_skip_nan_and_scale_constant_columns_by_one);
  RUN(test_column_stats_of_an_all_nan_column_are_nan);
  RUN(test_column_stats_reject_1d_data);
  RUN(test_quantiles_interpolate_as_numpy);
  RUN(test_quantiles_and_modes_agree_with_sorting_on_random_data);
  RUN(test_mode_takes_the_smallest_on_ties);
  RUN(test_affine_maps_keep_nan_and_check_widths);
  RUN(test_fill_replaces_nan_or_a_marker);
  RUN(test_rows_normalize_l1_l2_max_and_leave_zero_rows);
  RUN(test_unique_sorts_with_nan_last_and_counts);
  RUN(test_one_hot_rejects_labels_out_of_range_or_fractional);
  RUN(test_texts_sort_bytewise_with_missing_last);
  RUN(test_kfold_matches_sklearn_without_shuffle);
  RUN(test_kfold_shuffled_keeps_fold_sizes_and_repeats_with_a_seed);
  RUN(test_stratified_kfold_matches_sklearn);
  RUN(test_stratified_kfold_shuffled_keeps_class_counts_per_fold);
  RUN(test_stratified_split_sizes_match_sklearn);
  return check_summary();
}
