/* src/dist/dist.h. As one process (ctest, no mpirun), in both builds: rank 0 of 1, the
 * collectives leave their buffers as they are, gather copies, and bad arguments are
 * errors naming the rank. Under mpirun (spec/integration/mpi_collectives.sh, 2 ranks or
 * more): sums (two non-blocking ones in flight at once too), broadcasts and an uneven
 * gather, and ranks that disagree on a count or a root, or one rank's bad arguments, give
 * every rank an error instead of a hang, after which the ranks still talk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dist/dist.h"

static void one_process(void) {
  CHECK(lurn_dist_init() == LURN_OK);
  CHECK(lurn_dist_init() == LURN_OK); /* a second call does nothing */
#ifdef LURN_HAVE_MPI
  CHECK(lurn_dist_built() == 1);
#else
  CHECK(lurn_dist_built() == 0);
#endif
  CHECK(lurn_dist_rank() == 0);
  CHECK(lurn_dist_size() == 1);
  CHECK(lurn_dist_barrier() == LURN_OK);
}

static void collectives_leave_buffers(void) {
  float f[3] = {1, 2, 3};
  double d[2] = {0.5, -1};
  CHECK(lurn_dist_allreduce_sum_f32(f, 3) == LURN_OK);
  CHECK(f[0] == 1 && f[1] == 2 && f[2] == 3);
  CHECK(lurn_dist_allreduce_sum_f64(d, 2) == LURN_OK);
  CHECK(d[0] == 0.5 && d[1] == -1);
  CHECK(lurn_dist_allreduce_sum_f32(NULL, 0) == LURN_OK);
  CHECK(lurn_dist_broadcast(f, sizeof f, 0) == LURN_OK);
  CHECK(f[2] == 3);
}

static void a_request_leaves_its_buffer(void) {
  float f[2] = {1, 2};
  lurn_dist_request req = {.active = 1};
  CHECK(lurn_dist_agree("test", 2) == LURN_OK);
  CHECK(lurn_dist_iallreduce_sum_f32(f, 2, &req) == LURN_OK);
  CHECK(lurn_dist_wait(&req) == LURN_OK && !req.active);
  CHECK(f[0] == 1 && f[1] == 2);
  CHECK(lurn_dist_wait(&req) == LURN_OK); /* a zeroed request: nothing to wait for */
  CHECK(lurn_dist_iallreduce_sum_f32(NULL, 2, &req) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "rank 0 of 1: iallreduce") != NULL);
}

static void gather_copies(void) {
  const char data[] = "abc";
  void *out = NULL;
  int64_t counts[1] = {-1};
  CHECK(lurn_dist_gather_bytes(data, 3, 0, &out, counts) == LURN_OK);
  CHECK(out && memcmp(out, "abc", 3) == 0 && counts[0] == 3);
  free(out);
  CHECK(lurn_dist_gather_bytes(NULL, 0, 0, &out, counts) == LURN_OK);
  CHECK(out && counts[0] == 0);
  free(out);
}

static void bad_arguments_are_errors(void) {
  float f[1] = {0};
  void *out = (void *)1;
  int64_t counts[1];
  CHECK(lurn_dist_allreduce_sum_f32(f, -1) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "rank 0 of 1: allreduce") != NULL);
  CHECK(lurn_dist_allreduce_sum_f32(NULL, 2) == LURN_EINVAL);
  CHECK(lurn_dist_broadcast(f, 4, 1) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "root 1 is not a rank") != NULL);
  CHECK(lurn_dist_gather_bytes(f, 4, -1, &out, counts) == LURN_EINVAL);
  CHECK(out == NULL);
}

static void ranks_sum_and_broadcast(void) {
  int r = lurn_dist_rank(), n = lurn_dist_size();
  CHECK(r >= 0 && r < n);
  CHECK(lurn_dist_barrier() == LURN_OK);
  float f[3];
  double d[2];
  for (int i = 0; i < 3; i++) f[i] = (float)(r + 1) * (float)(i + 1);
  d[0] = r, d[1] = 0.5;
  CHECK(lurn_dist_allreduce_sum_f32(f, 3) == LURN_OK);
  float ranks = (float)n * (float)(n + 1) / 2; /* 1 + 2 + ... + n */
  CHECK(f[0] == ranks && f[1] == 2 * ranks && f[2] == 3 * ranks);
  CHECK(lurn_dist_allreduce_sum_f64(d, 2) == LURN_OK);
  CHECK(d[0] == (double)n * (n - 1) / 2 && d[1] == 0.5 * n);
  int64_t b[2] = {r, 100 + r};
  CHECK(lurn_dist_broadcast(b, sizeof b, n - 1) == LURN_OK);
  CHECK(b[0] == n - 1 && b[1] == 100 + n - 1);
}

/* Two sums in flight at once, waited for in the other order; then a count the ranks
 * disagree on is an error on every rank. */
static void requests_sum_while_in_flight(void) {
  int r = lurn_dist_rank(), n = lurn_dist_size();
  float a[3] = {1, 2, (float)r}, b[1] = {(float)(r + 1)};
  lurn_dist_request ra, rb;
  CHECK(lurn_dist_agree("test", 4) == LURN_OK);
  CHECK(lurn_dist_iallreduce_sum_f32(a, 3, &ra) == LURN_OK && ra.active);
  CHECK(lurn_dist_iallreduce_sum_f32(b, 1, &rb) == LURN_OK);
  CHECK(lurn_dist_wait(&rb) == LURN_OK && lurn_dist_wait(&ra) == LURN_OK && !ra.active);
  CHECK(a[0] == (float)n && a[1] == 2.0f * (float)n && a[2] == (float)(n * (n - 1) / 2));
  CHECK(b[0] == (float)(n * (n + 1) / 2));
  CHECK(lurn_dist_agree("test", 4 + r) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "every rank must give the same") != NULL);
}

/* Rank r gives r + 1 bytes of 'a' + r, gathered on the last rank. */
static void uneven_gather(void) {
  int r = lurn_dist_rank(), n = lurn_dist_size(), root = n - 1;
  char mine[64];
  memset(mine, 'a' + r, sizeof mine);
  void *out = (void *)1;
  int64_t counts[64] = {0};
  CHECK(lurn_dist_gather_bytes(mine, r + 1, root, &out, counts) == LURN_OK);
  if (r != root) {
    CHECK(out == NULL);
    return;
  }
  const char *at = out;
  for (int k = 0; k < n; at += counts[k], k++) {
    CHECK(counts[k] == k + 1);
    for (int j = 0; j <= k; j++) CHECK(at[j] == 'a' + k);
  }
  free(out);
}

static void disagreements_are_errors_on_every_rank(void) {
  int r = lurn_dist_rank();
  float f[8] = {0};
  CHECK(lurn_dist_allreduce_sum_f32(f, 3 + r) == LURN_EINVAL); /* counts differ */
  CHECK(strstr(lurn_last_error(), "every rank must give the same") != NULL);
  CHECK(lurn_dist_broadcast(f, 4, r) == LURN_EINVAL); /* roots differ */
  CHECK(strstr(lurn_last_error(), "every rank must name the same") != NULL);
  CHECK(lurn_dist_allreduce_sum_f32(f, r == 1 ? -1 : 2) == LURN_EINVAL); /* one rank's bad count */
  CHECK(strstr(lurn_last_error(), r == 1 ? "a count of -1" : "another rank gave bad arguments") != NULL);
  char rank_text[32];
  snprintf(rank_text, sizeof rank_text, "rank %d of %d", r, lurn_dist_size());
  CHECK(strstr(lurn_last_error(), rank_text) != NULL);
  CHECK(lurn_dist_barrier() == LURN_OK); /* and the ranks still talk */
  f[0] = 1;
  CHECK(lurn_dist_allreduce_sum_f32(f, 1) == LURN_OK && f[0] == lurn_dist_size());
}

int main(void) {
  CHECK(lurn_dist_init() == LURN_OK);
  if (lurn_dist_size() == 1) {
    RUN(one_process);
    RUN(collectives_leave_buffers);
    RUN(a_request_leaves_its_buffer);
    RUN(gather_copies);
    RUN(bad_arguments_are_errors);
  } else if (lurn_dist_size() <= 64) {
    RUN(ranks_sum_and_broadcast);
    RUN(requests_sum_while_in_flight);
    RUN(uneven_gather);
    RUN(disagreements_are_errors_on_every_rank);
  }
  return check_summary();
}
