/* src/dist/dist.h without MPI (lurn built without libopenmpi-dev, or with -DLURN_MPI=OFF):
 * one process, rank 0 of 1; every collective checks its arguments and leaves its buffer
 * as it is. */
#include <stdio.h>
#include <stdlib.h>

#include "dist/dist.h"
#include "dist/one_process.h"

int lurn_dist_built(void) {
  return 0;
}
lurn_status lurn_dist_init(void) {
  return LURN_OK;
}
int lurn_dist_rank(void) {
  return 0;
}
int lurn_dist_size(void) {
  return 1;
}
lurn_status lurn_dist_barrier(void) {
  return LURN_OK;
}

lurn_status lurn_dist_allreduce_sum_f32(float *buf, int64_t n) {
  return dist_check_buffer("allreduce", buf, n, 0, 1);
}

lurn_status lurn_dist_allreduce_sum_f64(double *buf, int64_t n) {
  return dist_check_buffer("allreduce", buf, n, 0, 1);
}

lurn_status lurn_dist_agree(const char *what, int64_t count) {
  (void)what, (void)count;
  return LURN_OK;
}

lurn_status lurn_dist_iallreduce_sum_f32(float *buf, int64_t n, lurn_dist_request *req) {
  *req = (lurn_dist_request){0};
  return dist_check_buffer("iallreduce", buf, n, 0, 1);
}

lurn_status lurn_dist_wait(lurn_dist_request *req) {
  *req = (lurn_dist_request){0};
  return LURN_OK;
}

lurn_status lurn_dist_broadcast(void *buf, int64_t bytes, int root) {
  lurn_status st = dist_check_buffer("broadcast", buf, bytes, 0, 1);
  return st ? st : dist_check_root("broadcast", root, 0, 1);
}

lurn_status lurn_dist_gather_bytes(const void *data, int64_t bytes, int root, void **out,
                                   int64_t *out_bytes) {
  *out = NULL;
  lurn_status st = dist_check_buffer("gather", data, bytes, 0, 1);
  if (!st) st = dist_check_root("gather", root, 0, 1);
  return st ? st : dist_gather_one(data, bytes, out, out_bytes);
}

void lurn_dist_abort(int code, const char *message) {
  fprintf(stderr, "lurn: rank 0 of 1: %s\n", message);
  exit(code);
}
