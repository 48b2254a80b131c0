/* lurn_sgemm: every matrix product of lurn goes through here. OpenBLAS always runs
 * single-threaded; lurn splits large products across its own OpenMP threads instead,
 * so there is one thread pool, never two competing for the cores (two pools that
 * spin-wait on 2 cores made a batch-32 MLP epoch four times slower).
 *
 * When liblurn is built with oneDNN, products of at least DNNL_MACS multiply-adds go to
 * its sgemm instead (JIT AVX-512/AVX2 kernels, threaded on the same OpenMP pool, and on
 * one thread inside a parallel region). On this project's machine (docs/benchmarks.md,
 * "Matrix products") it beat OpenBLAS on every shape from 32 x 128 x 256 up, by 7 to 23%
 * on one thread, and scaled better on two at the seeds' MLP's shapes (M = 32); below
 * 64 x 64 x 64 its call costs more than OpenBLAS's, so small products stay there. */
#include <cblas.h>
#include <omp.h>
#include <pthread.h>

#include "lurn.h"
#ifdef LURN_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#define DNNL_MACS (1 << 19)
#endif

void openblas_set_num_threads(int n);  /* from OpenBLAS; not in the cblas.h interface */

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static void blas_single_threaded(void) { openblas_set_num_threads(1); }

/* Products smaller than this many multiply-adds run on one thread: below it the
 * fork/join costs more than it saves. */
#define PARALLEL_MACS (1 << 18)

/* A product with one row or one column of output is a matrix-vector product: OpenBLAS's
 * sgemm packs both operands for a block kernel whatever the shape, and at M = 1 that is
 * most of its time. One sample through the seeds' first Dense (1 x 784 x 256), one
 * thread, this project's machine: sgemm 35-43 us, sgemv 8 us (docs/benchmarks.md,
 * "Single predictions"). Row-major C = op(A) op(B): with m = 1, c^T = op(B)^T a; with
 * n = 1, c = op(A) b. */
static int sgemv1(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                  const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  if (m == 1) {  /* the row a (stride lda when A is stored transposed) times op(B), k x n */
    cblas_sgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, tb ? (int)n : (int)k, tb ? (int)k : (int)n, alpha, b,
                (int)ldb, a, ta ? (int)lda : 1, beta, c, 1);
    return 1;
  }
  if (n == 1) {  /* op(A), m x k, times the column b (stride ldb unless B is stored transposed) */
    cblas_sgemv(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, ta ? (int)k : (int)m, ta ? (int)m : (int)k, alpha, a,
                (int)lda, b, tb ? 1 : (int)ldb, beta, c, (int)ldc);
    return 1;
  }
  return 0;
}

static void sgemm1(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                   const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k > 0 && sgemv1(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
              alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

void lurn_sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  pthread_once(&blas_once, blas_single_threaded);
  int threads = omp_in_parallel() ? 1 : lurn_get_num_threads();
#ifdef LURN_HAVE_DNNL
  if (m > 1 && n > 1 && (double)m * (double)n * (double)k >= DNNL_MACS) {  /* sgemv: sgemm1 */
    if (threads > 1 && omp_get_max_threads() != threads) omp_set_num_threads(threads);
    if (dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == dnnl_success)
      return;
  }
#endif
  if (threads <= 1 || (double)m * (double)n * (double)k < PARALLEL_MACS) {
    sgemm1(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  /* Split the wider side of C into one block per thread, keeping column blocks a
   * multiple of 16 floats so the kernels stay vectorised. */
  int by_columns = n >= m;
  int64_t extent = by_columns ? n : m, align = by_columns ? 16 : 4;
  int64_t chunk = (extent + threads - 1) / threads;
  chunk = (chunk + align - 1) / align * align;
  int blocks = (int)((extent + chunk - 1) / chunk);
#pragma omp parallel for num_threads(blocks) schedule(static, 1)
  for (int i = 0; i < blocks; i++) {
    int64_t lo = (int64_t)i * chunk, len = extent - lo < chunk ? extent - lo : chunk;
    if (by_columns)  /* C[:, lo:lo+len] = op(A) @ op(B)[:, lo:lo+len] */
      sgemm1(ta, tb, m, len, k, alpha, a, lda, tb ? b + lo * ldb : b + lo, ldb, beta, c + lo, ldc);
    else  /* C[lo:lo+len, :] = op(A)[lo:lo+len, :] @ op(B) */
      sgemm1(ta, tb, len, n, k, alpha, ta ? a + lo : a + lo * lda, lda, b, ldb, beta, c + lo * ldc, ldc);
  }
}
