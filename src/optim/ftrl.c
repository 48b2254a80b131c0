/* FTRL-Proximal as Keras 2 (keras.optimizers.Ftrl), McMahan et al. 2013. With the
 * accumulator n (starting at initial_accumulator_value) and the linear term z (at 0):
 *   g' = g + 2 * l2_shrinkage * w;  n' = n + g^2
 *   z += g' - (n'^-p - n^-p) / lr * w            (p = learning_rate_power <= 0)
 *   w = (clip(z, -l1, l1) - z) / (n'^-p / lr + 2 * (l2 + beta / (2 * lr)));  n = n'.
 * The caller checks lr > 0. */
#include <math.h>

#include "optim.h"

void lurn_ftrl_update(const lurn_optimizer_config *c, float *w, const float *g, lurn_slots *s, int64_t n) {
  float lr = c->learning_rate, p = -c->learning_rate_power, l1 = c->l1_regularization_strength;
  float l2 = c->l2_regularization_strength + c->beta / (2 * lr);
  float shrink = c->l2_shrinkage_regularization_strength;
  float *accum = s->m, *z = s->v;
  for (int64_t i = 0; i < n; i++) {
    float g_shrunk = g[i] + 2 * shrink * w[i];
    float new_accum = accum[i] + g[i] * g[i];
    float new_scale = powf(new_accum, p);
    z[i] += g_shrunk - (new_scale - powf(accum[i], p)) / lr * w[i];
    float quadratic = new_scale / lr + 2 * l2;
    w[i] = (fminf(fmaxf(z[i], -l1), l1) - z[i]) / quadratic;
    accum[i] = new_accum;
  }
}
