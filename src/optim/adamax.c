/* Adamax as Keras 2 (keras.optimizers.Adamax), Adam with the infinity norm:
 * m = beta_1 * m + (1 - beta_1) * g; u = max(beta_2 * u, |g|);
 * w -= lr * m / ((1 - beta_1^t) * (u + eps)). */
#include <math.h>

#include "optim.h"

void lurn_adamax_update(const lurn_optimizer_config *c, int64_t t, float *w, const float *g, lurn_slots *s,
                        int64_t n) {
  float lr = c->learning_rate, b1 = c->beta_1, b2 = c->beta_2, eps = c->epsilon;
  float m_correction = (float)(1.0 - pow(c->beta_1, (double)t));
  float *m = s->m, *u = s->v;
  for (int64_t i = 0; i < n; i++) {
    m[i] += (g[i] - m[i]) * (1 - b1);
    u[i] = fmaxf(b2 * u[i], fabsf(g[i]));
    w[i] -= lr * m[i] / (m_correction * (u[i] + eps));
  }
}
