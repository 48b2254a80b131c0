/* Adam as Keras: bias correction folded into the step size,
 * alpha = lr * sqrt(1 - b2^t) / (1 - b1^t); w -= alpha * m / (sqrt(v) + eps),
 * with v replaced by its running maximum under amsgrad. */
#include <float.h>
#include <math.h>

#include "kernels/dispatch.h"
#include "optim.h"

/* Moments of weights whose gradient stays 0 (e.g. inputs that are always 0) decay
 * geometrically into subnormal floats, whose arithmetic is ~100x slower: flush them
 * to zero, as TensorFlow's flush-to-zero mode does. */
static inline float flush(float x) { return fabsf(x) < FLT_MIN ? 0.0f : x; }

/* One loop per variant, with restrict, so that each vectorises. The if clause names
 * `parallel`: unqualified, it would also switch off simd for small layers (OpenMP 5),
 * and their scalar loop was a quarter of the seeds' MLP's Adam time. */
LURN_CLONES static void adam(float *restrict w, const float *restrict g, float *restrict m, float *restrict v, int64_t n,
                 float b1, float b2, float alpha, float eps) {
#pragma omp parallel for simd if (parallel : n > 65536) schedule(static)
  for (int64_t i = 0; i < n; i++) {
    float mi = flush(m[i] + (g[i] - m[i]) * (1 - b1));
    float vi = flush(v[i] + (g[i] * g[i] - v[i]) * (1 - b2));
    m[i] = mi;
    v[i] = vi;
    w[i] -= alpha * mi / (sqrtf(vi) + eps);
  }
}

LURN_CLONES static void amsgrad(float *restrict w, const float *restrict g, float *restrict m, float *restrict v,
                    float *restrict vhat, int64_t n, float b1, float b2, float alpha, float eps) {
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
}

void lurn_adam_update(const lurn_optimizer_config *c, int64_t t, float *w, const float *g, lurn_slots *s,
                      int64_t n) {
  float alpha = (float)(c->learning_rate * sqrt(1.0 - pow(c->beta_2, (double)t)) / (1.0 - pow(c->beta_1, (double)t)));
  if (s->vhat) amsgrad(w, g, s->m, s->v, s->vhat, n, c->beta_1, c->beta_2, alpha, c->epsilon);
  else adam(w, g, s->m, s->v, n, c->beta_1, c->beta_2, alpha, c->epsilon);
}
