/* RMSprop as Keras: v = rho * v + (1 - rho) * g^2; step = lr * g / sqrt(v + eps);
 * with momentum, m = momentum * m + step and w -= m. */
#include <math.h>

#include "optim.h"

void lurn_rmsprop_update(const lurn_optimizer_config *c, float *w, const float *g, lurn_slots *s, int64_t n) {
  float lr = c->learning_rate, rho = c->rho, eps = c->epsilon, mu = c->momentum;
  float *v = s->v, *m = s->m;
  for (int64_t i = 0; i < n; i++) {
    v[i] = rho * v[i] + (1 - rho) * g[i] * g[i];
    float step = lr * g[i] / sqrtf(v[i] + eps);
    if (mu > 0) {
      m[i] = mu * m[i] + step;
      step = m[i];
    }
    w[i] -= step;
  }
}
