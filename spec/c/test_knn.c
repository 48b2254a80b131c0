/* lurn_knn against a naive search in double precision: the same neighbours in the same
 * order, with and without a separate query set, at one thread and several, on data far
 * from the origin (where the ||a||^2 + ||b||^2 - 2ab expansion loses digits), with ties
 * going to the lower position; and its errors. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lurn.h"

/* The k nearest rows of ref to q by a full sort in double; ties to the lower position.
 * skip: a row to leave out, or -1. */
static void naive(const float *ref, int64_t nref, const float *q, int64_t d, int k, int64_t skip,
                  int64_t *index, double *dist) {
  for (int i = 0; i < k; i++) {
    index[i] = -1;
    dist[i] = INFINITY;
  }
  for (int64_t j = 0; j < nref; j++) {
    if (j == skip) continue;
    double s = 0;
    for (int64_t t = 0; t < d; t++) s += ((double)q[t] - ref[j * d + t]) * ((double)q[t] - ref[j * d + t]);
    if (s >= dist[k - 1]) continue;
    int p = k - 1;
    while (p > 0 && dist[p - 1] > s) {
      dist[p] = dist[p - 1];
      index[p] = index[p - 1];
      p--;
    }
    dist[p] = s;
    index[p] = j;
  }
}

static float *random_data(int64_t n, int64_t d, float offset, float scale, uint64_t seed) {
  lurn_rng r;
  lurn_rng_seed(&r, seed);
  float *x = malloc(sizeof(float) * (size_t)(n * d));
  for (int64_t i = 0; i < n * d; i++) x[i] = offset + scale * (float)lurn_rng_normal(&r);
  return x;
}

/* lurn_knn (query NULL: self mode) matches the naive search on every row. */
static int matches_naive(const float *ref, int64_t nref, const float *query, int64_t nq, int64_t d, int k) {
  int64_t rows = query ? nq : nref;
  int64_t *index = malloc(sizeof(int64_t) * (size_t)(rows * k)), want[64];
  float *dist = malloc(sizeof(float) * (size_t)(rows * k));
  double wd[64];
  int ok = lurn_knn(ref, nref, query, nq, d, k, index, dist) == LURN_OK;
  for (int64_t i = 0; ok && i < rows; i++) {
    const float *q = query ? query + i * d : ref + i * d;
    naive(ref, nref, q, d, k, query ? -1 : i, want, wd);
    for (int c = 0; c < k; c++) {
      if (index[i * k + c] != want[c] || fabs(dist[i * k + c] - sqrt(wd[c])) > 1e-5 * (1 + sqrt(wd[c]))) {
        fprintf(stderr, "row %lld neighbour %d: got %lld (%g), want %lld (%g)\n", (long long)i, c,
                (long long)index[i * k + c], dist[i * k + c], (long long)want[c], sqrt(wd[c]));
        ok = 0;
        break;
      }
    }
  }
  free(index);
  free(dist);
  return ok;
}

static void test_self_neighbours_match_naive_search(void) {
  float *x = random_data(700, 5, 0, 1, 1);
  CHECK(matches_naive(x, 700, NULL, 0, 5, 1));
  CHECK(matches_naive(x, 700, NULL, 0, 5, 5));
  CHECK(matches_naive(x, 700, NULL, 0, 5, 40));
  free(x);
}

static void test_query_neighbours_match_naive_search(void) {
  float *ref = random_data(1500, 30, 0, 1, 2), *q = random_data(333, 30, 0, 1, 3);
  CHECK(matches_naive(ref, 1500, q, 333, 30, 7));
  free(ref);
  free(q);
}

/* Points 1000 away from the origin, 0.01 apart: float32 products alone would rank them
 * by rounding noise. */
static void test_far_from_origin_stays_exact(void) {
  float *x = random_data(600, 8, 1000, 0.01f, 4);
  CHECK(matches_naive(x, 600, NULL, 0, 8, 5));
  free(x);
}

static void test_same_result_at_any_thread_count(void) {
  float *x = random_data(3000, 12, 0, 1, 5);
  int64_t *a = malloc(sizeof(int64_t) * 3000 * 6), *b = malloc(sizeof(int64_t) * 3000 * 6);
  int before = lurn_get_num_threads();
  lurn_set_num_threads(1);
  CHECK(lurn_knn(x, 3000, NULL, 0, 12, 6, a, NULL) == LURN_OK);
  lurn_set_num_threads(4);
  CHECK(lurn_knn(x, 3000, NULL, 0, 12, 6, b, NULL) == LURN_OK);
  lurn_set_num_threads(before);
  CHECK(memcmp(a, b, sizeof(int64_t) * 3000 * 6) == 0);
  free(a);
  free(b);
  free(x);
}

/* Points on a line at 0, 1, 1, 2, 2, 2: equal distances are ordered by position, and a
 * row never counts itself even when a duplicate sits at distance 0. */
static void test_ties_go_to_the_lower_position(void) {
  const float x[] = {0, 1, 1, 2, 2, 2};
  int64_t index[6 * 3];
  float dist[6 * 3];
  CHECK(lurn_knn(x, 6, NULL, 0, 1, 3, index, dist) == LURN_OK);
  const int64_t want0[] = {1, 2, 3}, want1[] = {2, 0, 3}, want3[] = {4, 5, 1};
  CHECK(memcmp(index, want0, sizeof want0) == 0);
  CHECK(memcmp(index + 3, want1, sizeof want1) == 0);
  CHECK(memcmp(index + 9, want3, sizeof want3) == 0);
  CHECK(dist[3] == 0 && dist[4] == 1 && dist[5] == 1);
}

static void test_errors(void) {
  const float x[] = {0, 1, 2, NAN};
  int64_t index[8];
  CHECK(lurn_knn(x, 3, NULL, 0, 1, 3, index, NULL) == LURN_EINVAL); /* 2 others per row */
  CHECK(strstr(lurn_last_error(), "excludes itself") != NULL);
  CHECK(lurn_knn(x, 3, x, 1, 1, 3, index, NULL) == LURN_OK); /* a query sees all 3 */
  CHECK(lurn_knn(x, 3, NULL, 0, 1, 0, index, NULL) == LURN_EINVAL);
  CHECK(lurn_knn(x, 4, NULL, 0, 1, 1, index, NULL) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "row 4 holds NaN") != NULL);
}

/* SMOTE at the C level: every new sample lies between a sample of its class and one of
 * that sample's k nearest neighbours, and a seed gives the same samples at 1 and 3 threads. */
static void test_smote_samples_lie_on_neighbour_segments(void) {
  enum { N = 60, D = 3, K = 4 };
  float *xs = random_data(N, D, 0, 1, 6), ys[N];
  for (int i = 0; i < N; i++) ys[i] = i % 5 == 0 ? 1.0f : 0.0f; /* 12 of class 1 */
  int64_t shape[2] = {N, D}, yshape[1] = {N};
  lurn_tensor *x = lurn_tensor_empty(2, shape), *y = lurn_tensor_empty(1, yshape);
  memcpy(lurn_tensor_data(x), xs, sizeof(float) * N * D);
  memcpy(lurn_tensor_data(y), ys, sizeof ys);
  const int64_t n_new[2] = {0, 36};
  lurn_tensor *xo[2], *yo[2];
  for (int run = 0; run < 2; run++) {
    lurn_rng r;
    lurn_rng_seed(&r, 11);
    lurn_set_num_threads(run ? 3 : 1);
    CHECK(lurn_smote(x, y, n_new, 2, K, &r, &xo[run], &yo[run]) == LURN_OK);
  }
  CHECK(xo[0]->shape[0] == N + 36 && yo[0]->shape[0] == N + 36);
  CHECK(memcmp(lurn_tensor_data(xo[0]), lurn_tensor_data(xo[1]), sizeof(float) * (N + 36) * D) == 0);
  CHECK(memcmp(lurn_tensor_data(xo[0]), xs, sizeof(float) * N * D) == 0);
  /* the class's rows and their neighbours, by the naive search */
  float cls[12 * D];
  for (int i = 0; i < 12; i++) memcpy(cls + i * D, xs + i * 5 * D, sizeof(float) * D);
  const float *out = lurn_tensor_data(xo[0]);
  for (int s = 0; s < 36; s++) {
    const float *p = out + (N + s) * D;
    int found = 0;
    CHECK(lurn_tensor_data(yo[0])[N + s] == 1.0f);
    for (int i = 0; i < 12 && !found; i++) {
      int64_t nn[K];
      double nd[K];
      naive(cls, 12, cls + i * D, D, K, i, nn, nd);
      for (int c = 0; c < K && !found; c++) {
        const float *a = cls + i * D, *b = cls + nn[c] * D;
        double u = (p[0] - a[0]) / (b[0] - a[0]);
        int on = u >= -1e-6 && u <= 1 + 1e-6;
        for (int t = 0; t < D && on; t++) on = fabs(a[t] + u * (b[t] - a[t]) - p[t]) < 1e-5;
        found = on;
      }
    }
    CHECK(found);
  }
  for (int run = 0; run < 2; run++) {
    lurn_tensor_free(xo[run]);
    lurn_tensor_free(yo[run]);
  }
  lurn_tensor_free(x);
  lurn_tensor_free(y);
  free(xs);
}

int main(void) {
  RUN(test_self_neighbours_match_naive_search);
  RUN(test_query_neighbours_match_naive_search);
  RUN(test_far_from_origin_stays_exact);
  RUN(test_same_result_at_any_thread_count);
  RUN(test_ties_go_to_the_lower_position);
  RUN(test_errors);
  RUN(test_smote_samples_lie_on_neighbour_segments);
  return check_summary();
}
