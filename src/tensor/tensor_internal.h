/* Helpers shared by the tensor files of the C core; not part of the public API. */
#ifndef LURN_TENSOR_INTERNAL_H
#define LURN_TENSOR_INTERNAL_H

#include "lurn.h"

/* 1 if ndim/shape describe a valid tensor; else 0 with the error set. */
int lurn_check_shape(int ndim, const int64_t *shape);
void lurn_set_contiguous_strides(lurn_tensor *t);
/* Strides that read t as if it had `shape` (numpy broadcasting); 0 if it cannot. */
int lurn_broadcast_strides(const lurn_tensor *t, int ndim, const int64_t *shape, int64_t *stride);
void lurn_strided_copy(float *dst, const int64_t *dst_stride, const float *src,
                       const int64_t *src_stride, int ndim, const int64_t *shape);
/* Checks a 0-based dimension; 0 with the error set if out of range. */
int lurn_check_dim(const lurn_tensor *t, int dim, const char *what);

/* Number of floats the tensor's storage holds. */
int64_t lurn_tensor_storage_size(const lurn_tensor *t);

/* Elementwise loops of more than this many elements run on OpenMP threads. */
#define LURN_PARALLEL_MIN 32768

/* for (int64_t i = 0; i < n; i++) body, split across lurn's threads when `big`, a plain
 * loop when not. `#pragma omp parallel for if (big)` alone is not enough on the small
 * batches of a single prediction: libgomp starts a team of one for a false `if`, about
 * 300 ns (it allocates the team; 10^6 empty regions in a C loop, this project's machine),
 * and a prediction of the seeds' MLP went through six such regions. The body is compiled
 * twice. */
#define LURN_FOR(big, i, n, ...)                                                              \
  do {                                                                                      \
    if (big) {                                                                              \
      _Pragma("omp parallel for schedule(static)") for (int64_t i = 0; i < (n); i++) {     \
        __VA_ARGS__;                                                                        \
      }                                                                                     \
    } else {                                                                                \
      for (int64_t i = 0; i < (n); i++) {                                                   \
        __VA_ARGS__;                                                                        \
      }                                                                                     \
    }                                                                                       \
  } while (0)

#endif
