/* lurn/core.h — errors, the seeded random generator and process settings.
 * Part of the C API that lurn.h gathers. */
#ifndef LURN_API_CORE_H
#define LURN_API_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ------------------------------------------------------------- */
typedef enum lurn_status {
  LURN_OK = 0,
  LURN_EINVAL,  /* bad argument: shape, range, name */
  LURN_ENOMEM,  /* allocation failed */
  LURN_EIO,     /* file missing, unreadable, truncated or malformed */
} lurn_status;

const char *lurn_last_error(void);  /* message of the last failure on this thread */
lurn_status lurn_fail(lurn_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));  /* record a message, return status */

/* ---- random numbers -------------------------------------------------------- */
/* One process-wide generator (xoshiro256**): the same seed gives the same numbers
 * on every machine. Per-thread streams are derived from it with lurn_rng_jump. */
typedef struct lurn_rng { uint64_t s[4]; } lurn_rng;
void lurn_rng_seed(lurn_rng *r, uint64_t seed);
uint64_t lurn_rng_next(lurn_rng *r);
/* n 32-bit draws: the low then the high half of each 64-bit one (the last low alone) */
void lurn_rng_fill_u32(lurn_rng *r, uint32_t *out, int64_t n);
double lurn_rng_uniform(lurn_rng *r);  /* [0, 1) */
double lurn_rng_normal(lurn_rng *r);   /* mean 0, stddev 1 */
void lurn_rng_jump(lurn_rng *r);       /* advance 2^128 steps: an independent stream */
/* Stream `index` of the family r's next number seeds, r left as it is: the processes of a
 * job that share r each take their own index (their rank), e.g. for Dropout in
 * data-parallel fit, while r goes on the same in all of them. */
void lurn_rng_split(const lurn_rng *r, int index, lurn_rng *out);
lurn_rng *lurn_rng_global(void);
void lurn_manual_seed(uint64_t seed);
/* A random permutation of 0..n-1 (Fisher-Yates) into index. */
void lurn_randperm(int64_t *index, int64_t n, lurn_rng *r);

/* ---- process settings -------------------------------------------------------- */
/* The threads lurn runs on. n >= 1 fixes the count (a seeded run then repeats bit for bit);
 * n = 0 makes it automatic again (the default): every core on a quiet machine, the cores
 * other programs leave when they hold some (lurn_threads_adapt). */
void lurn_set_num_threads(int n);  /* OpenMP and OpenBLAS together */
int lurn_get_num_threads(void);    /* the count now */
int lurn_num_threads_fixed(void);  /* 1 when the user fixed it */
/* Automatic count only: reads, at most every 0.1 s, the CPU time other programs took since
 * the last reading and gives lurn's pool the cores they left. Called where a model run
 * starts; a no-op inside a parallel region or with a fixed count. */
void lurn_threads_adapt(void);
/* The rule: `want` threads (the quiet machine's count) on `cores`, when other programs kept
 * `others` cores busy on average: a core counts as taken from half of it; at least 1. */
int lurn_threads_choose(int want, int cores, double others);
/* Under mpirun with `processes` ranks on this machine (OMPI_COMM_WORLD_LOCAL_SIZE) and no
 * OMP_NUM_THREADS, the automatic count starts from cores / processes (at least 1) each. */
int lurn_threads_share(int cores, int processes);
double lurn_clock(void);           /* monotonic wall-clock seconds */
/* The instruction set lurn's own kernels run on this CPU: "avx512", "avx2" or "baseline"
 * (src/kernels/cpu.h); `lurn --version` prints it. */
const char *lurn_cpu_kernels(void);

#ifdef __cplusplus
}
#endif
#endif
