/* Adam as Keras: bias correction folded into the step size,
 * alpha = lr * sqrt(1 - b2^t) / (1 - b1^t); w -= alpha * m / (sqrt(v) + eps),
 * with v replaced by its running maximum under amsgrad. */
#include <math.h>

#include "optim.h"

void lurn_adam_update(const lurn_optimizer_config *c, int64_t t, float *w, const float *g, lurn_slots *s,
                      int64_t n) {
  float b1 = c->beta_1, b2 = c->beta_2, eps = c->epsilon;
  float alpha = (float)(c->learning_rate * sqrt(1.0 - pow(b2, (double)t)) / (1.0 - pow(b1, (double)t)));
  float *m = s->m, *v = s->v, *vhat = s->vhat;
#pragma omp parallel for if (n > 65536) schedule(static)
  for (int64_t i = 0; i < n; i++) {
    m[i] += (g[i] - m[i]) * (1 - b1);
    v[i] += (g[i] * g[i] - v[i]) * (1 - b2);
    float denom = v[i];
    if (vhat) denom = vhat[i] = fmaxf(vhat[i], v[i]);
    w[i] -= alpha * m[i] / (sqrtf(denom) + eps);
  }
}
