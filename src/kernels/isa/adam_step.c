/* Adam's and AMSGrad's elementwise update (src/optim/adam.c computes the step size and
 * calls the CPU's copy), compiled once per instruction set (src/kernels/cpu.h). Measured
 * on the seeds' MLP (docs/benchmarks.md, "Portable builds"): this loop was 22.8% of the
 * default build's samples at one thread against 12.6% of a -march=native build's (SSE2's
 * 4-wide sqrt and division against AVX-512's 16). */
#include <float.h>
#include <math.h>

#include "kernels/optim_steps.h"

#ifndef LURN_ISA
#error "compile with -DLURN_ISA=baseline (or avx2, avx512 with their -m options)"
#endif

/* Moments of weights whose gradient stays 0 (e.g. inputs that are always 0) decay
 * geometrically into subnormal floats, whose arithmetic is ~100x slower: flush them
 * to zero, as TensorFlow's flush-to-zero mode does. */
static inline float flush(float x) { return fabsf(x) < FLT_MIN ? 0.0f : x; }

/* One loop per variant, with restrict, so that each vectorises. The if clause names
 * `parallel`: unqualified, it would also switch off simd for small layers (OpenMP 5),
 * and their scalar loop was a quarter of the seeds' MLP's Adam time. */
void LURN_ISA_NAME(lurn_adam_step)(float *restrict w, const float *restrict g, float *restrict m, float *restrict v,
                                   float *restrict vhat, int64_t n, float b1, float b2, float alpha, float eps) {
  if (vhat) {
#pragma omp parallel for simd if (parallel : n > 65536) schedule(static)
    for (int64_t i = 0; i < n; i++) {
      float mi = flush(m[i] + (g[i] - m[i]) * (1 - b1));
      float vi = flush(v[i] + (g[i] * g[i] - v[i]) * (1 - b2));
      float hi = fmaxf(vhat[i], vi);
      m[i] = mi;
      v[i] = vi;
      vhat[i] = hi;
      w[i] -= alpha * mi / (sqrtf(hi) + eps);
    }
    return;
  }
#pragma omp parallel for simd if (parallel : n > 65536) schedule(static)
  for (int64_t i = 0; i < n; i++) {
    float mi = flush(m[i] + (g[i] - m[i]) * (1 - b1));
    float vi = flush(v[i] + (g[i] * g[i] - v[i]) * (1 - b2));
    m[i] = mi;
    v[i] = vi;
    w[i] -= alpha * mi / (sqrtf(vi) + eps);
  }
}
