/* Adam as Keras: bias correction folded into the step size,
 * alpha = lr * sqrt(1 - b2^t) / (1 - b1^t); w -= alpha * m / (sqrt(v) + eps),
 * with v replaced by its running maximum under amsgrad. The elementwise loop is compiled
 * once per instruction set (src/kernels/isa/adam_step.c); the CPU's copy runs. */
#include <math.h>

#include "kernels/optim_steps.h"
#include "optim.h"

void lurn_adam_update(const lurn_optimizer_config *c, int64_t t, float *w, const float *g, lurn_slots *s,
                      int64_t n) {
  float alpha = (float)(c->learning_rate * sqrt(1.0 - pow(c->beta_2, (double)t)) / (1.0 - pow(c->beta_1, (double)t)));
  LURN_ISA_PICK(lurn_adam_step)(w, g, s->m, s->v, s->vhat, n, c->beta_1, c->beta_2, alpha, c->epsilon);
}
