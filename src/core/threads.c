/* The thread count of lurn's OpenMP pool. OpenBLAS stays single-threaded (see
 * gemm.c), so this is the only pool.
 *
 * OpenMP may give a parallel region fewer threads than it was asked for: with
 * OMP_DYNAMIC=true, or more than OMP_THREAD_LIMIT allows. oneDNN plans its work for the
 * count it asked for and leaves the share of the missing threads undone (a 100x100 product
 * of ones summed to half its value, measured with OMP_DYNAMIC=true), and loops split by
 * thread number would do the same. So lurn turns dynamic adjustment off and never asks for
 * more threads than the limit: a region then gets the threads it asked for.
 *
 * A busy machine. OpenMP's threads wait for each other by spinning (libgomp reads its wait
 * policy once, when it loads, before lurn can choose). When another program holds a core,
 * a team with a thread on that core waits at every barrier for a time slice the kernel gives
 * the other program: a two-thread MLP epoch on 2 cores with one held ran 1.4 times slower
 * than one thread (up to 20 times in this project's notes). Unless the user fixed the count
 * (lurn_set_num_threads(n), n >= 1), lurn_threads_adapt, called where a model run starts,
 * reads every ADAPT_PERIOD how much CPU time other programs took on the CPUs lurn may run on
 * (their busy time in /proc/stat less this process's own) and gives the pool the cores they
 * left: all of
 * them on a quiet machine, shared between the ranks of an MPI job on this machine (mpirun -np
 * N: the cores / N each, so that N ranks do not oversubscribe them). A fixed count is never
 * changed, so that a seeded run repeats bit for bit (a different thread count may sum in
 * another order). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_ISSET */
#include <math.h>
#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "lurn.h"

#define ADAPT_PERIOD 0.1 /* seconds between two readings: /proc/stat costs about 20 us */

static int fixed = 0;   /* the user's count, or 0: automatic */
static int current = 0; /* the automatic count now; 0 before the first use */

static int within_limit(int n) {
  int limit = omp_get_thread_limit();
  return limit > 0 && n > limit ? limit : n;
}

int lurn_threads_share(int cores, int processes) {
  int n = processes > 1 ? cores / processes : cores;
  return n < 1 ? 1 : n;
}

/* The processes of an MPI job on this machine (Open MPI's mpirun sets
 * OMPI_COMM_WORLD_LOCAL_SIZE), when they share its cores: 1 when OMP_NUM_THREADS already
 * says how many threads each takes, or without mpirun. */
static int processes_here(void) {
  const char *local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  if (!local || getenv("OMP_NUM_THREADS")) return 1;
  char *end;
  long n = strtol(local, &end, 10);
  return end != local && *end == '\0' && n >= 1 && n <= 65536 ? (int)n : 1;
}

/* The automatic count on a quiet machine: OpenMP's default (OMP_NUM_THREADS or the cores),
 * shared between the ranks of an MPI job on this machine; read once. */
static int default_count(void) {
  static int n = 0;
  if (!n) n = within_limit(lurn_threads_share(omp_get_max_threads(), processes_here()));
  return n;
}

static void use(int n) {
  omp_set_dynamic(0);
  if (omp_get_max_threads() != n) omp_set_num_threads(n);
}

void lurn_set_num_threads(int n) {
  if (n < 1) { /* automatic again */
    fixed = 0;
    current = default_count();
  } else {
    fixed = within_limit(n);
  }
  use(fixed ? fixed : current);
}

int lurn_get_num_threads(void) {
  if (omp_get_dynamic()) omp_set_dynamic(0);
  if (fixed) return fixed;
  if (!current) use(current = default_count());
  return current;
}

int lurn_num_threads_fixed(void) { return fixed != 0; }

int lurn_threads_choose(int want, int cores, double others) {
  int free_cores = cores - (int)floor(others + 0.5); /* a core counts as taken from half of it */
  int n = want < free_cores ? want : free_cores;
  return n < 1 ? 1 : n;
}

/* The busy CPU time, in seconds, of the CPUs this process may run on (its affinity: a
 * container pinned to 2 of a host's 64 CPUs must not count the load on the other 62), from
 * /proc/stat's per-CPU lines; -1 where there is none (not Linux). */
static double machine_busy_seconds(void) {
  cpu_set_t mine;
  int have_mask = sched_getaffinity(0, sizeof mine, &mine) == 0;
  FILE *f = fopen("/proc/stat", "r");
  if (!f) return -1;
  char line[512];
  unsigned long long total = 0;
  int seen = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned cpu;
    unsigned long long user = 0, nice = 0, sys = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    if (line[0] != 'c' || line[1] != 'p' || line[2] != 'u') break; /* the cpu lines come first */
    if (sscanf(line, "cpu%u %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &user, &nice, &sys, &idle, &iowait,
               &irq, &softirq, &steal) < 5)
      continue; /* the first line, all CPUs together */
    if (have_mask && (cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &mine))) continue;
    total += user + nice + sys + irq + softirq + steal;
    seen++;
  }
  fclose(f);
  long hz = sysconf(_SC_CLK_TCK);
  if (!seen || hz <= 0) return -1;
  return (double)total / (double)hz;
}

static double process_seconds(void) {
  struct timespec t;
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)) return -1;
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void lurn_threads_adapt(void) {
  static double last_wall = -1, last_busy, last_own;
  if (fixed || omp_in_parallel()) return;
  double now = lurn_clock();
  if (last_wall >= 0 && now - last_wall < ADAPT_PERIOD) return;
  double busy = machine_busy_seconds(), own = process_seconds();
  if (busy < 0 || own < 0) return;
  if (last_wall >= 0) {
    double wall = now - last_wall;
    double others = ((busy - last_busy) - (own - last_own)) / wall;
    int n = lurn_threads_choose(default_count(), omp_get_num_procs(), others < 0 ? 0 : others);
    if (n != lurn_get_num_threads()) use(current = n);
  }
  last_wall = now, last_busy = busy, last_own = own;
}
