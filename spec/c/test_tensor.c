/* Tensor core from C: views share storage, broadcasting, reductions, matmul, npy. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "lurn.h"

static lurn_tensor *filled(int ndim, const int64_t *shape) {
  lurn_tensor *t = lurn_tensor_empty(ndim, shape);
  float *d = lurn_tensor_data(t);
  for (int64_t i = 0; i < lurn_tensor_numel(t); i++) d[i] = (float)i;
  return t;
}

static void test_views_share_storage(void) {
  int64_t shape[2] = {2, 3};
  lurn_tensor *t = filled(2, shape);
  lurn_tensor *tr = lurn_tensor_transpose(t, 0, 1);
  CHECK(tr->shape[0] == 3 && tr->shape[1] == 2);
  CHECK(!lurn_tensor_is_contiguous(tr));
  lurn_tensor_data(t)[1] = 42;  /* element (0, 1) of t is (1, 0) of tr */
  CHECK(lurn_tensor_data(tr)[tr->stride[0]] == 42);
  lurn_tensor *row = lurn_tensor_select(t, 0, 1);
  CHECK(row->ndim == 1 && row->shape[0] == 3 && lurn_tensor_data(row)[0] == 3);
  lurn_tensor *c = lurn_tensor_contiguous(tr);
  CHECK(lurn_tensor_is_contiguous(c) && lurn_tensor_data(c)[1] == 3);
  lurn_tensor_free(t);  /* views keep the storage alive */
  CHECK(lurn_tensor_data(row)[2] == 5);
  lurn_tensor_free(tr);
  lurn_tensor_free(row);
  lurn_tensor_free(c);
}

static void test_reshape_infers_and_rejects(void) {
  int64_t shape[2] = {4, 6}, want[2] = {-1, 8}, bad[2] = {5, -1};
  lurn_tensor *t = filled(2, shape);
  lurn_tensor *r = lurn_tensor_reshape(t, 2, want);
  CHECK(r && r->shape[0] == 3 && r->shape[1] == 8);
  CHECK(lurn_tensor_reshape(t, 2, bad) == NULL);
  CHECK(strstr(lurn_last_error(), "(4, 6)") != NULL);
  lurn_tensor_free(r);
  lurn_tensor_free(t);
}

static void test_broadcast_add(void) {
  int64_t sa[2] = {2, 3}, sb[1] = {3};
  lurn_tensor *a = filled(2, sa), *b = filled(1, sb);
  lurn_tensor *c = lurn_binary(LURN_ADD, a, b);
  float want[6] = {0, 2, 4, 3, 5, 7};
  for (int i = 0; i < 6; i++) CHECK(lurn_tensor_data(c)[i] == want[i]);
  int64_t sbad[1] = {2};
  lurn_tensor *bad = filled(1, sbad);
  CHECK(lurn_binary(LURN_ADD, a, bad) == NULL);
  CHECK(strstr(lurn_last_error(), "(2, 3) and (2,)") != NULL);
  lurn_tensor_free(a);
  lurn_tensor_free(b);
  lurn_tensor_free(c);
  lurn_tensor_free(bad);
}

static void test_reductions(void) {
  int64_t shape[2] = {2, 3};
  lurn_tensor *t = filled(2, shape);
  double v;
  CHECK(lurn_reduce_all(LURN_SUM, t, 0, &v) == LURN_OK && v == 15);
  CHECK(lurn_reduce_all(LURN_VAR, t, 0, &v) == LURN_OK);
  CHECK_NEAR(v, 35.0 / 12.0, 1e-9);
  lurn_tensor *m = lurn_reduce_dim(LURN_MAX, t, 0, 0, 0);
  CHECK(m->ndim == 1 && m->shape[0] == 3 && lurn_tensor_data(m)[2] == 5);
  lurn_tensor *am = lurn_reduce_dim(LURN_ARGMAX, t, 1, 1, 0);
  CHECK(am->ndim == 2 && am->shape[1] == 1 && lurn_tensor_data(am)[0] == 2);
  lurn_tensor_free(t);
  lurn_tensor_free(m);
  lurn_tensor_free(am);
}

static void test_matmul_with_transposed_views(void) {
  int64_t sa[2] = {2, 3}, sb[2] = {2, 3};
  lurn_tensor *a = filled(2, sa), *b = filled(2, sb);
  lurn_tensor *bt = lurn_tensor_transpose(b, 0, 1);
  lurn_tensor *c = lurn_matmul(a, bt, 0, 0);  /* a @ b^T: [[5, 14], [14, 50]] */
  lurn_tensor *c2 = lurn_matmul(a, b, 0, 1);
  float want[4] = {5, 14, 14, 50};
  for (int i = 0; i < 4; i++) {
    CHECK(lurn_tensor_data(c)[i] == want[i]);
    CHECK(lurn_tensor_data(c2)[i] == want[i]);
  }
  CHECK(lurn_matmul(a, b, 0, 0) == NULL);
  lurn_tensor_free(a);
  lurn_tensor_free(b);
  lurn_tensor_free(bt);
  lurn_tensor_free(c);
  lurn_tensor_free(c2);
}

static void test_seed_repeats(void) {
  int64_t n = 16;
  lurn_tensor *a = lurn_tensor_empty(1, &n), *b = lurn_tensor_empty(1, &n);
  lurn_manual_seed(7);
  lurn_tensor_randn(a, lurn_rng_global(), 0, 1);
  lurn_manual_seed(7);
  lurn_tensor_randn(b, lurn_rng_global(), 0, 1);
  CHECK(memcmp(lurn_tensor_data(a), lurn_tensor_data(b), sizeof(float) * 16) == 0);
  lurn_tensor_free(a);
  lurn_tensor_free(b);
}

static void test_npy_round_trip_and_truncation(void) {
  char path[] = "/tmp/lurn_test_npy_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  int64_t shape[3] = {2, 3, 4};
  lurn_tensor *t = filled(3, shape), *back = NULL;
  CHECK(lurn_npy_save(path, t) == LURN_OK);
  CHECK(lurn_npy_load(path, &back) == LURN_OK);
  CHECK(back && lurn_tensor_same_shape(t, back));
  CHECK(back && memcmp(lurn_tensor_data(t), lurn_tensor_data(back), sizeof(float) * 24) == 0);
  CHECK(truncate(path, 100) == 0);
  lurn_tensor *bad = NULL;
  CHECK(lurn_npy_load(path, &bad) == LURN_EIO && bad == NULL);
  CHECK(strstr(lurn_last_error(), "truncated") != NULL);
  unlink(path);
  lurn_tensor_free(t);
  lurn_tensor_free(back);
}

int main(void) {
  RUN(test_views_share_storage);
  RUN(test_reshape_infers_and_rejects);
  RUN(test_broadcast_add);
  RUN(test_reductions);
  RUN(test_matmul_with_transposed_views);
  RUN(test_seed_repeats);
  RUN(test_npy_round_trip_and_truncation);
  return check_summary();
}
