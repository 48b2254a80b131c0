/* The thread count of lurn's OpenMP pool. OpenBLAS stays single-threaded (see
 * gemm.c), so this is the only pool.
 *
 * OpenMP may give a parallel region fewer threads than it was asked for: with
 * OMP_DYNAMIC=true, or more than OMP_THREAD_LIMIT allows. oneDNN plans its work for the
 * count it asked for and leaves the share of the missing threads undone (a 100x100 product
 * of ones summed to half its value, measured with OMP_DYNAMIC=true), and loops split by
 * thread number would do the same. So lurn turns dynamic adjustment off and never asks for
 * more threads than the limit: a region then gets the threads it asked for. */
#include <omp.h>

#include "lurn.h"

static int num_threads = 0; /* 0: not set yet, use OpenMP's default */

static int within_limit(int n) {
  int limit = omp_get_thread_limit();
  return limit > 0 && n > limit ? limit : n;
}

void lurn_set_num_threads(int n) {
  if (n < 1) n = 1;
  num_threads = within_limit(n);
  omp_set_dynamic(0);
  omp_set_num_threads(num_threads);
}

int lurn_get_num_threads(void) {
  if (omp_get_dynamic()) omp_set_dynamic(0);
  if (num_threads) return num_threads;
  int n = within_limit(omp_get_max_threads());
  if (n != omp_get_max_threads()) omp_set_num_threads(n);
  return n;
}
