/* src/dist/dist.h run as one process (no mpirun), in both builds: rank 0 of 1, the
 * collectives leave their buffers as they are, gather copies, and bad arguments are
 * errors naming the rank. spec/integration/mpi_*.sh run it under mpirun. */
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

int main(void) {
  RUN(one_process);
  RUN(collectives_leave_buffers);
  RUN(gather_copies);
  RUN(bad_arguments_are_errors);
  return check_summary();
}
