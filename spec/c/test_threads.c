/* The thread count: a fixed count stays; the automatic one gives lurn's pool the cores other
 * programs leave (lurn_threads_choose's rule, and a spinning child process taking a core),
 * and comes back when they are free again. Run alone (RUN_SERIAL): other tests' load would
 * count as other programs'. */
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "lurn.h"

static void the_rule(void) {
  CHECK(lurn_threads_choose(2, 2, 0.0) == 2);
  CHECK(lurn_threads_choose(2, 2, 0.3) == 2);   /* less than half a core: still free */
  CHECK(lurn_threads_choose(2, 2, 0.6) == 1);
  CHECK(lurn_threads_choose(2, 2, 1.9) == 1);   /* never fewer than one */
  CHECK(lurn_threads_choose(16, 16, 3.0) == 13);
  CHECK(lurn_threads_choose(4, 16, 3.0) == 4);  /* OMP_NUM_THREADS=4 on a machine with room */
}

/* mpirun -np N on one machine: the cores shared, never fewer than one each. */
static void ranks_share_the_cores(void) {
  CHECK(lurn_threads_share(16, 1) == 16);
  CHECK(lurn_threads_share(16, 2) == 8);
  CHECK(lurn_threads_share(16, 3) == 5);
  CHECK(lurn_threads_share(2, 4) == 1);
  CHECK(lurn_threads_share(8, 0) == 8);
}

static void sleep_s(double s) {
  struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&t, NULL);
}

/* The cores other programs keep busy now, over half a second: the machine's busy time from
 * /proc/stat's first line less this process's; 0 where it cannot be read. */
static double busy_seconds(void) {
  FILE *f = fopen("/proc/stat", "r");
  unsigned long long v[8] = {0};
  int got = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                       &v[6], &v[7])
              : 0;
  if (f) fclose(f);
  if (got < 4) return -1;
  return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

static double own_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double others_now(void) {
  double b0 = busy_seconds(), o0 = own_seconds();
  sleep_s(0.5);
  double b1 = busy_seconds(), o1 = own_seconds();
  if (b0 < 0 || b1 < 0) return 0;
  return ((b1 - b0) - (o1 - o0)) / 0.5;
}

/* Calls adapt over `seconds` (every 20 ms), returns the count at the end. */
static int adapted_over(double seconds) {
  for (double waited = 0; waited < seconds; waited += 0.02) {
    lurn_threads_adapt();
    sleep_s(0.02);
  }
  lurn_threads_adapt();
  return lurn_get_num_threads();
}

static void follows_the_machine_unless_fixed(void) {
  lurn_set_num_threads(0);
  CHECK(!lurn_num_threads_fixed());
  const int quiet = lurn_get_num_threads();
  if (omp_get_num_procs() < 2 || quiet < 2) {
    printf("(one core or one thread: the busy case is not tested here)\n");
    return;
  }
  pid_t spinner = fork();
  if (spinner == 0) {
    for (volatile unsigned long i = 0;; i++) {
    }
  }
  CHECK(spinner > 0);
  int busy = adapted_over(0.5);
  CHECK(busy < quiet);
  /* a fixed count is the user's: never changed */
  lurn_set_num_threads(quiet);
  CHECK(lurn_num_threads_fixed() && adapted_over(0.3) == quiet);
  kill(spinner, SIGKILL);
  waitpid(spinner, NULL, 0);
  lurn_set_num_threads(0);
  int back = quiet;
  for (int tries = 0; tries < 10 && (back = adapted_over(0.3)) != quiet; tries++) {
  }
  /* back to every core, unless something else keeps the machine busy now (a test cannot
   * own the machine): then that load is what the count follows */
  if (back != quiet && others_now() >= 0.5) {
    printf("(the machine is busy with other work: the return to %d threads is not checked)\n", quiet);
    return;
  }
  CHECK(back == quiet);
}

int main(void) {
  RUN(the_rule);
  RUN(ranks_share_the_cores);
  RUN(follows_the_machine_unless_fixed);
  return check_summary();
}
