/* Adadelta as Keras 2 (keras.optimizers.Adadelta), with a learning rate (1.0 is the
 * paper's form): acc_g = rho * acc_g + (1 - rho) * g^2;
 * delta = -sqrt(acc_d + eps) * g / sqrt(acc_g + eps); acc_d = rho * acc_d + (1 - rho) * delta^2;
 * w += lr * delta. */
#include <math.h>

#include "optim.h"

void lurn_adadelta_update(const lurn_optimizer_config *c, float *w, const float *g, lurn_slots *s,
                          int64_t n) {
  float lr = c->learning_rate, rho = c->rho, eps = c->epsilon;
  float *acc_g = s->v, *acc_d = s->m;
  for (int64_t i = 0; i < n; i++) {
    acc_g[i] = rho * acc_g[i] + (1 - rho) * g[i] * g[i];
    float delta = -sqrtf(acc_d[i] + eps) * g[i] / sqrtf(acc_g[i] + eps);
    acc_d[i] = rho * acc_d[i] + (1 - rho) * delta * delta;
    w[i] += lr * delta;
  }
}
