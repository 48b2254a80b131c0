/* Nadam as Keras 2 (keras.optimizers.Nadam): Adam with Nesterov momentum, whose momentum
 * follows the schedule u_t = beta_1 * (1 - 0.5 * 0.96^t). With U_t = u_1 * ... * u_t:
 *   m_hat = u_{t+1} * m / (1 - U_{t+1}) + (1 - u_t) * g / (1 - U_t)
 *   v_hat = v / (1 - beta_2^t);  w -= lr * m_hat / (sqrt(v_hat) + eps). */
#include <math.h>

#include "optim.h"

double lurn_nadam_momentum(const lurn_optimizer_config *c, int64_t t) {
  return c->beta_1 * (1.0 - 0.5 * pow(0.96, (double)t));
}

void lurn_nadam_update(const lurn_optimizer_config *c, int64_t t, double u_product, float *w, const float *g,
                       lurn_slots *s, int64_t n) {
  double u_t = lurn_nadam_momentum(c, t), u_next = lurn_nadam_momentum(c, t + 1);
  /* the two coefficients of m_hat and the bias correction of v, once per variable */
  float cm = (float)(u_next / (1.0 - u_product * u_next)), cg = (float)((1.0 - u_t) / (1.0 - u_product));
  float v_correction = (float)(1.0 - pow(c->beta_2, (double)t));
  float lr = c->learning_rate, b1 = c->beta_1, b2 = c->beta_2, eps = c->epsilon;
  float *m = s->m, *v = s->v;
  for (int64_t i = 0; i < n; i++) {
    m[i] += (g[i] - m[i]) * (1 - b1);
    v[i] += (g[i] * g[i] - v[i]) * (1 - b2);
    float m_hat = cm * m[i] + cg * g[i];
    w[i] -= lr * m_hat / (sqrtf(v[i] / v_correction) + eps);
  }
}
