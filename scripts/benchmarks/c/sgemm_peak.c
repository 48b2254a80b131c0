/* The machine's measured cblas_sgemm throughput: the ceiling lurn's benchmarks
 * compare against. Times C = A B (row-major, no transposes, alpha 1, beta 0) on
 * float matrices of M x K and K x N, the way scripts/benchmarks/ time lurn: warm-up
 * calls first, then every repetition timed on its own, median reported.
 *
 *   sgemm_peak [M N K] [--threads T] [--reps R] [--warmup W] [--trans TA TB] [--dnnl 1]
 *
 * Defaults: 1024 1024 1024, OpenBLAS's own thread count (OPENBLAS_NUM_THREADS),
 * 21 repetitions after 3 warm-up calls, no transposes (--trans 1 0: A is stored K x M).
 * --dnnl 1 times oneDNN's dnnl_sgemm instead (built with oneDNN only; threads from
 * OMP_NUM_THREADS or --threads), the library lurn_sgemm uses for all but small products.
 * Prints one machine-readable line, e.g.
 *   sgemm_peak m=1024 n=1024 k=1024 threads=1 reps=21 median_s=0.0213 best_s=0.0210 gflops=100.8
 * (library=dnnl added with --dnnl 1) where gflops = 2 M N K / median_s / 1e9. Calls
 * nothing of lurn's. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef LURN_HAVE_DNNL
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#endif

/* From OpenBLAS; not in every cblas.h. */
void openblas_set_num_threads(int n);
int openblas_get_num_threads(void);

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Parses an integer from min to max; -1 if s is not one. */
static long integer(const char *s, long min, long max) {
  char *end;
  long v = strtol(s, &end, 10);
  return (*s && !*end && v >= min && v <= max) ? v : -1;
}

static int usage(const char *why) {
  fprintf(stderr,
          "sgemm_peak: %s\nusage: sgemm_peak [M N K] [--threads T] [--reps R] [--warmup W] [--trans TA TB] "
          "[--dnnl 1]\n",
          why);
  return 2;
}

/* 64-byte aligned, as lurn's tensors are, so that the ceiling is not lowered by a
 * layout lurn never has. */
static float *matrix(long rows, long cols) {
  size_t bytes = (sizeof(float) * (size_t)rows * (size_t)cols + 63) & ~(size_t)63;
  return aligned_alloc(64, bytes);
}

static float *random_matrix(long rows, long cols, unsigned *seed) {
  float *m = matrix(rows, cols);
  if (!m) return NULL;
  for (long i = 0; i < rows * cols; i++) {
    *seed = *seed * 1664525u + 1013904223u;
    m[i] = (float)(*seed >> 8) / (float)(1u << 24) - 0.5f;
  }
  return m;
}

int main(int argc, char **argv) {
  long dims[3] = {1024, 1024, 1024}, threads = 0, reps = 21, warmup = 3, dnnl = 0, ta = 0, tb = 0;
  int ndims = 0;
  for (int i = 1; i < argc; i++) {
    long *opt = NULL, min = 1;
    if (strcmp(argv[i], "--trans") == 0) {
      if (i + 2 >= argc || (ta = integer(argv[i + 1], 0, 1)) < 0 || (tb = integer(argv[i + 2], 0, 1)) < 0)
        return usage("--trans takes two flags, 0 or 1");
      i += 2;
      continue;
    }
    if (strcmp(argv[i], "--dnnl") == 0) {
      opt = &dnnl;
      min = 0;
    } else if (strcmp(argv[i], "--threads") == 0) {
      opt = &threads;
    } else if (strcmp(argv[i], "--reps") == 0) {
      opt = &reps;
    } else if (strcmp(argv[i], "--warmup") == 0) {
      opt = &warmup;
      min = 0;
    }
    if (opt) {
      if (i + 1 >= argc) return usage("an option is missing its value");
      if ((*opt = integer(argv[++i], min, 1L << 20)) < 0) return usage("bad option value");
    } else if (ndims == 3) {
      return usage("expected at most three sizes, M N K");
    } else if ((dims[ndims++] = integer(argv[i], 1, 1L << 16)) < 0) {
      return usage("sizes are integers from 1 to 65536");
    }
  }
  if (ndims != 0 && ndims != 3) return usage("give all three sizes, M N K, or none");
  long m = dims[0], n = dims[1], k = dims[2];
  if (threads) openblas_set_num_threads((int)threads);
#ifdef LURN_HAVE_DNNL
  if (threads) omp_set_num_threads((int)threads);
#else
  if (dnnl) return usage("--dnnl: built without oneDNN");
#endif

  unsigned seed = 42;
  float *a = random_matrix(m, k, &seed), *b = random_matrix(k, n, &seed);
  float *c = matrix(m, n);
  double *t = malloc(sizeof(double) * (size_t)reps);
  if (!a || !b || !c || !t) {
    fprintf(stderr, "sgemm_peak: out of memory for %ld x %ld x %ld\n", m, n, k);
    return 1;
  }
  for (long r = 0; r < warmup + reps; r++) {
    double t0 = now();
    int lda = ta ? (int)m : (int)k, ldb = tb ? (int)k : (int)n;
#ifdef LURN_HAVE_DNNL
    if (dnnl)
      dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
    else
#endif
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                  (int)k, 1.0f, a, lda, b, ldb, 0.0f, c, (int)n);
    if (r >= warmup) t[r - warmup] = now() - t0;
  }
  qsort(t, (size_t)reps, sizeof *t, cmp_double);
  double median = reps % 2 ? t[reps / 2] : (t[reps / 2 - 1] + t[reps / 2]) / 2;
  double flops = 2.0 * (double)m * (double)n * (double)k;
  long used = threads ? threads : (long)openblas_get_num_threads();
#ifdef LURN_HAVE_DNNL
  if (dnnl && !threads) used = omp_get_max_threads();
#endif
  printf("sgemm_peak m=%ld n=%ld k=%ld threads=%ld reps=%ld median_s=%.6g best_s=%.6g gflops=%.2f", m, n, k, used,
         reps, median, t[0], flops / median / 1e9);
  if (ta || tb) printf(" trans=%c%c", ta ? 'T' : 'N', tb ? 'T' : 'N');
  printf(dnnl ? " library=dnnl\n" : "\n");
  free(a);
  free(b);
  free(c);
  free(t);
  return 0;
}
