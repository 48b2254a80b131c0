/* The thread count of lurn's OpenMP pool. OpenBLAS stays single-threaded (see
 * gemm.c), so this is the only pool. */
#include <omp.h>

#include "lurn.h"

static int num_threads = 0;  /* 0: not set yet, use OpenMP's default */

void lurn_set_num_threads(int n) {
  if (n < 1) n = 1;
  num_threads = n;
  omp_set_num_threads(n);
}

int lurn_get_num_threads(void) { return num_threads ? num_threads : omp_get_max_threads(); }
