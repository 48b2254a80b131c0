/* SGD as Keras: velocity = momentum * velocity - lr * g; w += velocity
 * (nesterov: w += momentum * velocity - lr * g). */
#include "optim.h"

void lurn_sgd_update(const lurn_optimizer_config *c, float *w, const float *g, lurn_slots *s, int64_t n) {
  float lr = c->learning_rate, mu = c->momentum;
  if (mu == 0) {
    for (int64_t i = 0; i < n; i++) w[i] -= lr * g[i];
    return;
  }
  float *v = s->m;
  for (int64_t i = 0; i < n; i++) {
    v[i] = mu * v[i] - lr * g[i];
    w[i] += c->nesterov ? mu * v[i] - lr * g[i] : v[i];
  }
}
