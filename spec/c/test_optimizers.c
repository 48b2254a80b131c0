/* Optimizers from C: steps of SGD (with momentum and Nesterov) and Adam checked against the
 * update rules worked out here, clipnorm and clipvalue as Keras (each variable on its own,
 * norm first), and clipping that leaves the raw gradients as they were. */
#include <math.h>

#include "check.h"
#include "lurn.h"

static lurn_tensor *vec(float a, float b) {
  int64_t shape[1] = {2};
  lurn_tensor *t = lurn_tensor_empty(1, shape);
  lurn_tensor_data(t)[0] = a;
  lurn_tensor_data(t)[1] = b;
  return t;
}

static void sgd_with_momentum_and_nesterov(void) {
  for (int nesterov = 0; nesterov <= 1; nesterov++) {
    lurn_optimizer_config c = {.kind = LURN_OPT_SGD, .learning_rate = 0.1f, .momentum = 0.9f, .nesterov = nesterov};
    lurn_optimizer *o = lurn_optimizer_new(&c);
    lurn_tensor *w = vec(1, -1), *g = vec(0.5f, 2);
    double want[2] = {1, -1}, v[2] = {0, 0}, grad[2] = {0.5, 2};
    for (int step = 0; step < 3; step++) {
      CHECK(lurn_optimizer_step(o, &w, &g, 1) == LURN_OK);
      for (int i = 0; i < 2; i++) {
        v[i] = 0.9 * v[i] - 0.1 * grad[i];
        want[i] += nesterov ? 0.9 * v[i] - 0.1 * grad[i] : v[i];
        CHECK_NEAR(lurn_tensor_data(w)[i], want[i], 1e-6);
      }
    }
    CHECK(lurn_optimizer_iterations(o) == 3);
    lurn_tensor_free(w);
    lurn_tensor_free(g);
    lurn_optimizer_free(o);
  }
}

static void adam_follows_keras_rule(void) {
  lurn_optimizer_config c = {.kind = LURN_OPT_ADAM, .learning_rate = 0.01f, .beta_1 = 0.9f, .beta_2 = 0.999f,
                             .epsilon = 1e-7f};
  lurn_optimizer *o = lurn_optimizer_new(&c);
  lurn_tensor *w = vec(1, -1), *g = vec(0.5f, -2);
  double want[2] = {1, -1}, m[2] = {0, 0}, v[2] = {0, 0}, grad[2] = {0.5, -2};
  for (int t = 1; t <= 3; t++) {
    CHECK(lurn_optimizer_step(o, &w, &g, 1) == LURN_OK);
    /* Keras: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t); w -= lr_t m / (sqrt(v) + eps) */
    double lr_t = 0.01 * sqrt(1 - pow(0.999, t)) / (1 - pow(0.9, t));
    for (int i = 0; i < 2; i++) {
      m[i] = 0.9 * m[i] + 0.1 * grad[i];
      v[i] = 0.999 * v[i] + 0.001 * grad[i] * grad[i];
      want[i] -= lr_t * m[i] / (sqrt(v[i]) + 1e-7);
      CHECK_NEAR(lurn_tensor_data(w)[i], want[i], 1e-6);
    }
  }
  lurn_tensor_free(w);
  lurn_tensor_free(g);
  lurn_optimizer_free(o);
}

static void clipping_as_keras_leaves_raw_gradients_alone(void) {
  /* g = (3, 4), |g| = 5: clipnorm 1 scales it to (0.6, 0.8); then clipvalue 0.7 caps 0.8 */
  lurn_optimizer_config c = {.kind = LURN_OPT_SGD, .learning_rate = 1, .clipnorm = 1, .clipvalue = 0.7f};
  lurn_optimizer *o = lurn_optimizer_new(&c);
  lurn_tensor *w = vec(0, 0), *g = vec(3, 4);
  CHECK(lurn_optimizer_step(o, &w, &g, 1) == LURN_OK);
  CHECK_NEAR(lurn_tensor_data(w)[0], -0.6, 1e-6);
  CHECK_NEAR(lurn_tensor_data(w)[1], -0.7, 1e-6);
  CHECK(lurn_tensor_data(g)[0] == 3 && lurn_tensor_data(g)[1] == 4); /* the raw gradient stays readable */
  lurn_tensor_free(w);
  lurn_tensor_free(g);
  lurn_optimizer_free(o);
}

static void bad_settings_are_refused(void) {
  lurn_optimizer_config c = {.kind = LURN_OPT_SGD, .learning_rate = 0.1f, .clipnorm = -1};
  CHECK(lurn_optimizer_new(&c) == NULL);
  CHECK(lurn_last_error()[0] != '\0');
}

int main(void) {
  RUN(sgd_with_momentum_and_nesterov);
  RUN(adam_follows_keras_rule);
  RUN(clipping_as_keras_leaves_raw_gradients_alone);
  RUN(bad_settings_are_refused);
  return check_summary();
}
