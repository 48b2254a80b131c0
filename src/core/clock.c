/* Monotonic wall-clock time for scripts, experiments and benchmarks. */
#include <time.h>

#include "lurn.h"

double lurn_clock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
