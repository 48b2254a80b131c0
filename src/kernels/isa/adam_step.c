/* Adam's and AMSGrad's elementwise update (src/optim/adam.c computes the step size and
 * calls the CPU's copy), compiled once per instruction set (src/kernels/cpu.h). Measured
 * on the seeds' MLP (docs/benchmarks.md, "Portable builds"): this loop was 22.8% of the
 * default build's samples at one thread against 12.6% of a -march=native build's (SSE2's
 * 4-wide sqrt and division against AVX-512's 16). */
#include <float.h>
#include <math.h>
#include <omp.h>

#include "kernels/optim_steps.h"

#ifndef LURN_ISA
#error "compile with -DLURN_ISA=baseline (or avx2, avx512 with their -m options)"
#endif

/* Moments of weights whose gradient stays 0 (e.g. inputs that are always 0) decay
 * geometrically into subnormal floats, whose arithmetic is ~100x slower: flush them
 * to zero, as TensorFlow's flush-to-zero mode does. */
static inline float flush(float x) { return fabsf(x) < FLT_MIN ? 0.0f : x; }

/* Elements [lo, hi), one loop per variant with restrict, so that each vectorises. */
static inline void adam_range(float *restrict w, const float *restrict g, float *restrict m, float *restrict v,
                              float *restrict vhat, int64_t lo, int64_t hi, float b1, float b2, float alpha,
                              float eps) {
  if (vhat) {
#pragma omp simd
    for (int64_t i = lo; i < hi; i++) {
      float mi = flush(m[i] + (g[i] - m[i]) * (1 - b1));
      float vi = flush(v[i] + (g[i] * g[i] - v[i]) * (1 - b2));
      float hi_ = fmaxf(vhat[i], vi);
      m[i] = mi;
      v[i] = vi;
      vhat[i] = hi_;
      w[i] -= alpha * mi / (sqrtf(hi_) + eps);
    }
    return;
  }
#pragma omp simd
  for (int64_t i = lo; i < hi; i++) {
    float mi = flush(m[i] + (g[i] - m[i]) * (1 - b1));
    float vi = flush(v[i] + (g[i] * g[i] - v[i]) * (1 - b2));
    m[i] = mi;
    v[i] = vi;
    w[i] -= alpha * mi / (sqrtf(vi) + eps);
  }
}

/* Many elements: a slice per thread. Few: no parallel region at all (an if clause would
 * still start a team of one, ~300 ns; the seeds' MLP has six weights under the threshold).
 * Elementwise, so any split gives the same numbers. */
void LURN_ISA_NAME(lurn_adam_step)(float *restrict w, const float *restrict g, float *restrict m, float *restrict v,
                                   float *restrict vhat, int64_t n, float b1, float b2, float alpha, float eps) {
  if (n <= 65536) {
    adam_range(w, g, m, v, vhat, 0, n, b1, b2, alpha, eps);
    return;
  }
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num(), k = omp_get_num_threads();
    adam_range(w, g, m, v, vhat, n * t / k, n * (t + 1) / k, b1, b2, alpha, eps);
  }
}
