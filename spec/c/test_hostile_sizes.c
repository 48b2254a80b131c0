/* Sizes, positions and counts at the edges of int64_t through the C API (issue 13): each
 * is refused with a message before its arithmetic overflows or anything is allocated for
 * it, and an index into an output that shares the input's storage gathers correctly.
 * Nothing here allocates more than a few bytes. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "lurn.h"

#define HUGE_SIZE (INT64_C(1) << 40)

static int error_says(const char *text) {
  return strstr(lurn_last_error(), text) != NULL;
}

static void zero_sizes_do_not_hide_overflowing_strides(void) {
  int64_t huge[3] = {0, HUGE_SIZE, HUGE_SIZE}, fine[3] = {0, 1 << 20, 1 << 20};
  CHECK(lurn_tensor_empty(3, huge) == NULL && error_says("too large"));
  CHECK(lurn_tensor_zeros(3, huge) == NULL);
  lurn_tensor *t = lurn_tensor_empty(3, fine);
  CHECK(t && lurn_tensor_numel(t) == 0);
  lurn_tensor_free(t);
}

static void reshape_checks_sizes_before_multiplying(void) {
  int64_t one = 0, wrap[2] = {INT64_C(1) << 32, INT64_C(1) << 32}, hidden[3] = {0, HUGE_SIZE, HUGE_SIZE};
  lurn_tensor *empty = lurn_tensor_empty(1, &one);
  CHECK(lurn_tensor_reshape(empty, 2, wrap) == NULL && error_says("too large"));
  CHECK(lurn_tensor_reshape(empty, 3, hidden) == NULL && error_says("too large"));
  lurn_tensor_free(empty);
}

static void narrow_and_select_at_the_integer_edges(void) {
  int64_t n = 4;
  lurn_tensor *t = lurn_tensor_zeros(1, &n);
  CHECK(lurn_tensor_narrow(t, 0, INT64_MAX, 1) == NULL && error_says("out of range"));
  CHECK(lurn_tensor_narrow(t, 0, 1, INT64_MAX) == NULL && error_says("out of range"));
  CHECK(lurn_tensor_narrow(t, 0, INT64_MIN, 2) == NULL);
  CHECK(lurn_tensor_select(t, 0, INT64_MAX) == NULL && error_says("out of range"));
  lurn_tensor *v = lurn_tensor_narrow(t, 0, 4, 0);
  CHECK(v && lurn_tensor_numel(v) == 0);
  lurn_tensor_free(v);
  lurn_tensor_free(t);
}

static void cat_sums_are_checked(void) {
  int64_t shape[2] = {INT64_C(1) << 60, 0};
  lurn_tensor *part = lurn_tensor_empty(2, shape);
  const lurn_tensor *parts[8];
  for (int i = 0; i < 8; i++) parts[i] = part;
  CHECK(lurn_tensor_cat(parts, 8, 0) == NULL && error_says("add up past 2^63"));
  CHECK(lurn_tensor_cat(parts, 3, 0) == NULL && error_says("too large"));
  lurn_tensor_free(part);
}

static void arange_counts_are_checked_before_the_cast(void) {
  CHECK(lurn_tensor_arange(0, 1e30, 1) == NULL && error_says("too many elements"));
  CHECK(lurn_tensor_arange(0, 1.0 / 0.0, 1) == NULL && error_says("finite"));
  lurn_tensor *t = lurn_tensor_arange(0, 1, 0.1);
  CHECK(t && lurn_tensor_numel(t) == 10);
  lurn_tensor_free(t);
}

static void index_into_its_own_storage_gathers_from_a_copy(void) {
  int64_t shape[2] = {3, 2}, order[3] = {2, 1, 0};
  lurn_tensor *x = lurn_tensor_empty(2, shape);
  float *d = lurn_tensor_data(x);
  for (int i = 0; i < 6; i++) d[i] = (float)(i / 2 + 1);
  CHECK(lurn_tensor_index_into(x, x, 0, order, 3) == LURN_OK);
  const float want[6] = {3, 3, 2, 2, 1, 1};
  CHECK(memcmp(d, want, sizeof want) == 0);
  lurn_tensor_free(x);
}

static lurn_tensor *labels(void) {
  int64_t n = 10;
  lurn_tensor *y = lurn_tensor_zeros(1, &n);
  for (int i = 7; i < 10; i++) lurn_tensor_data(y)[i] = 1;
  return y;
}

static void sampler_totals_are_checked(void) {
  lurn_tensor *y = labels();
  int64_t huge[2] = {INT64_MAX, INT64_MAX}, *index = NULL, m = -1;
  lurn_rng rng;
  lurn_rng_seed(&rng, 1);
  CHECK(lurn_random_oversample(y, huge, 2, &rng, &index, &m) == LURN_EINVAL && error_says("past 2^63"));
  CHECK(index == NULL && m == 0);
  CHECK(lurn_random_undersample(y, huge, 2, 1, &rng, &index, &m) == LURN_EINVAL && error_says("past 2^63"));
  int64_t shape[2] = {10, 2};
  lurn_tensor *x = lurn_tensor_zeros(2, shape), *xo = NULL, *yo = NULL;
  CHECK(lurn_smote(x, y, huge, 2, 2, &rng, &xo, &yo) == LURN_EINVAL && error_says("past 2^63"));
  CHECK(xo == NULL && yo == NULL);
  lurn_tensor_free(x);
  lurn_tensor_free(y);
}

static void splits_refuse_more_classes_than_samples(void) {
  int64_t codes[4] = {0, 1, 0, 1}, fold[4], train[4], test[4];
  CHECK(lurn_stratified_kfold(codes, 4, HUGE_SIZE, 2, NULL, fold) == LURN_EINVAL &&
        error_says("classes for 4"));
  lurn_rng rng;
  lurn_rng_seed(&rng, 1);
  CHECK(lurn_stratified_split(codes, 4, INT64_C(1) << 62, 2, 2, &rng, train, test) == LURN_EINVAL &&
        error_says("classes for 4"));
  CHECK(lurn_stratified_split(codes, 4, 2, INT64_MAX, INT64_MAX, &rng, train, test) == LURN_EINVAL &&
        error_says("do not fit in 4 samples"));
  CHECK(lurn_stratified_kfold(codes, 4, 2, 2, NULL, fold) == LURN_OK);
}

int main(void) {
  RUN(zero_sizes_do_not_hide_overflowing_strides);
  RUN(reshape_checks_sizes_before_multiplying);
  RUN(narrow_and_select_at_the_integer_edges);
  RUN(cat_sums_are_checked);
  RUN(arange_counts_are_checked_before_the_cast);
  RUN(index_into_its_own_storage_gathers_from_a_copy);
  RUN(sampler_totals_are_checked);
  RUN(splits_refuse_more_classes_than_samples);
  return check_summary();
}
