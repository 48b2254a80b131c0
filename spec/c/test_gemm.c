/* lurn_sgemm on the shapes it hands to a matrix-vector product (one row or one column of
 * output: a single prediction, a Dense(1) output), every transposition, strides wider
 * than the matrices and alpha/beta, against the sums worked out in double. */
#include <stdlib.h>

#include "check.h"
#include "lurn.h"

/* Row-major element (i, j) of op(X), X stored with leading dimension ld. */
static float at(const float *x, int trans, int64_t ld, int64_t i, int64_t j) {
  return trans ? x[j * ld + i] : x[i * ld + j];
}

static void one_shape(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, float beta) {
  int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
  float *a = malloc(sizeof(float) * (size_t)((ta ? k : m) * lda));
  float *b = malloc(sizeof(float) * (size_t)((tb ? n : k) * ldb));
  float *c = malloc(sizeof(float) * (size_t)(m * ldc));
  for (int64_t i = 0; i < (ta ? k : m) * lda; i++) a[i] = (float)((i * 7 % 13) - 6) / 8;
  for (int64_t i = 0; i < (tb ? n : k) * ldb; i++) b[i] = (float)((i * 5 % 11) - 5) / 4;
  for (int64_t i = 0; i < m * ldc; i++) c[i] = (float)(i % 3);
  double *want = malloc(sizeof(double) * (size_t)(m * n));
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double s = 0;
      for (int64_t p = 0; p < k; p++) s += (double)at(a, ta, lda, i, p) * at(b, tb, ldb, p, j);
      want[i * n + j] = alpha * s + beta * c[i * ldc + j];
    }
  float pad = c[n];  /* a padding element of row 0 (ldc > n): must stay as it was */
  lurn_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  int ok = 1;
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++)
      if (fabs(c[i * ldc + j] - want[i * n + j]) > 1e-4 * (1 + fabs(want[i * n + j]))) ok = 0;
  if (!ok) fprintf(stderr, "ta=%d tb=%d m=%lld n=%lld k=%lld\n", ta, tb, (long long)m, (long long)n, (long long)k);
  CHECK(ok);
  CHECK(c[n] == pad);
  free(a), free(b), free(c), free(want);
}

static void one_row_or_column_matches_the_sums(void) {
  const int64_t shapes[][3] = {{1, 256, 784}, {1, 1, 5}, {1, 7, 1}, {300, 1, 17}, {9, 1, 1}, {1, 2000, 600}};
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++)
      for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        one_shape(ta, tb, shapes[s][0], shapes[s][1], shapes[s][2], 1, 0);
        one_shape(ta, tb, shapes[s][0], shapes[s][1], shapes[s][2], 0.5f, 1);
      }
}

static void general_shapes_still_match(void) {
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) one_shape(ta, tb, 33, 70, 129, 1, 0.25f);
}

int main(void) {
  for (int threads = 1; threads <= 2; threads++) {
    lurn_set_num_threads(threads);
    RUN(one_row_or_column_matches_the_sums);
    RUN(general_shapes_still_match);
  }
  return check_summary();
}
