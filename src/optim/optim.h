/* Shared by the optimizer files: the optimizer struct and one update rule per file. */
#ifndef LURN_OPTIM_H
#define LURN_OPTIM_H

#include "lurn.h"

/* Per-parameter state ("slots"), allocated on the first step. */
typedef struct {
  int64_t size;
  float *m;     /* momentum / first moment / accumulator (adagrad, ftrl) / accumulated update (adadelta) */
  float *v;     /* second moment (adam, rmsprop, nadam) / infinity norm (adamax) / accumulated g^2 (adadelta) /
                 * linear term (ftrl) */
  float *vhat;  /* running max of v (amsgrad) */
} lurn_slots;

struct lurn_optimizer {
  lurn_optimizer_config c;
  int64_t iterations;
  double nadam_u_product; /* nadam: u_1 * ... * u_t, the product of its momentum schedule */
  int nslots;
  lurn_slots *slots;
  /* clipnorm/clipvalue clip a copy here, so that the gradients given stay raw (readable
   * after the step, e.g. for statistics); sized on the first step that clips */
  float *clipped;
  int64_t clipped_size;
};

/* Each updates w[0..n) from g in place; t is the 1-based step number. */
void lurn_sgd_update(const lurn_optimizer_config *c, float *w, const float *g, lurn_slots *s, int64_t n);
void lurn_adam_update(const lurn_optimizer_config *c, int64_t t, float *w, const float *g, lurn_slots *s, int64_t n);
void lurn_rmsprop_update(const lurn_optimizer_config *c, float *w, const float *g, lurn_slots *s, int64_t n);
void lurn_adagrad_update(const lurn_optimizer_config *c, float *w, const float *g, lurn_slots *s, int64_t n);
/* Nadam's momentum u_t at step t; u_product is u_1 * ... * u_t. */
double lurn_nadam_momentum(const lurn_optimizer_config *c, int64_t t);
void lurn_nadam_update(const lurn_optimizer_config *c, int64_t t, double u_product, float *w, const float *g,
                       lurn_slots *s, int64_t n);
void lurn_adamax_update(const lurn_optimizer_config *c, int64_t t, float *w, const float *g, lurn_slots *s,
                        int64_t n);
void lurn_adadelta_update(const lurn_optimizer_config *c, float *w, const float *g, lurn_slots *s,
                          int64_t n);
void lurn_ftrl_update(const lurn_optimizer_config *c, float *w, const float *g, lurn_slots *s, int64_t n);

#endif
