/* Adagrad as Keras: acc += g^2 (acc starts at initial_accumulator_value);
 * w -= lr * g / sqrt(acc + eps). */
#include <math.h>

#include "optim.h"

void lurn_adagrad_update(const lurn_optimizer_config *c, float *w, const float *g, lurn_slots *s, int64_t n) {
  float lr = c->learning_rate, eps = c->epsilon;
  float *acc = s->m;
  for (int64_t i = 0; i < n; i++) {
    acc[i] += g[i] * g[i];
    w[i] -= lr * g[i] / sqrtf(acc[i] + eps);
  }
}
