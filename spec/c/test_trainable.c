/* The C side of trainable = false and of the non-finite data check: a frozen parameter
 * is left exactly as it was by every optimizer (its slots stay in place, so thawing it
 * later works with the same optimizer), and lurn_first_nonfinite finds the first NaN or
 * infinity, also past the parallel threshold. */
#include <math.h>

#include "check.h"
#include "lurn.h"

static void frozen_parameters_are_left_alone_by_every_optimizer(void) {
  const lurn_optimizer_kind kinds[] = {LURN_OPT_SGD, LURN_OPT_ADAM, LURN_OPT_ADAMW, LURN_OPT_RMSPROP,
                                       LURN_OPT_ADAGRAD};
  for (int k = 0; k < 5; k++) {
    lurn_optimizer_config c = {.kind = kinds[k], .learning_rate = 0.1f, .momentum = 0.9f, .beta_1 = 0.9f,
                               .beta_2 = 0.999f, .epsilon = 1e-7f, .rho = 0.9f,
                               .initial_accumulator_value = 0.1f, .weight_decay = 0.5f};
    lurn_optimizer *o = lurn_optimizer_new(&c);
    int64_t shape[1] = {3};
    lurn_tensor *p[2] = {lurn_tensor_zeros(1, shape), lurn_tensor_zeros(1, shape)};
    lurn_tensor *g[2] = {lurn_tensor_zeros(1, shape), lurn_tensor_zeros(1, shape)};
    for (int i = 0; i < 3; i++) {
      lurn_tensor_data(p[0])[i] = lurn_tensor_data(p[1])[i] = 1.0f;
      lurn_tensor_data(g[0])[i] = lurn_tensor_data(g[1])[i] = 0.5f;
    }
    const unsigned char frozen[2] = {1, 0};
    for (int step = 0; step < 3; step++) CHECK(lurn_optimizer_step_frozen(o, p, g, frozen, 2) == LURN_OK);
    for (int i = 0; i < 3; i++) {
      CHECK(lurn_tensor_data(p[0])[i] == 1.0f);
      CHECK(lurn_tensor_data(p[1])[i] < 1.0f);
    }
    CHECK(lurn_optimizer_step(o, p, g, 2) == LURN_OK); /* thawed: the same optimizer moves it */
    CHECK(lurn_tensor_data(p[0])[0] < 1.0f);
    for (int i = 0; i < 2; i++) {
      lurn_tensor_free(p[i]);
      lurn_tensor_free(g[i]);
    }
    lurn_optimizer_free(o);
  }
}

static void first_nonfinite_finds_the_first_nan_or_infinity(void) {
  float small[5] = {1, 2, 3, 4, 5};
  CHECK(lurn_first_nonfinite(small, 0) == -1);
  CHECK(lurn_first_nonfinite(small, 5) == -1);
  small[4] = -INFINITY;
  CHECK(lurn_first_nonfinite(small, 5) == 4);
  small[1] = NAN;
  CHECK(lurn_first_nonfinite(small, 5) == 1);
  static float big[200000];
  CHECK(lurn_first_nonfinite(big, 200000) == -1);
  big[199999] = INFINITY;
  big[150001] = NAN;
  CHECK(lurn_first_nonfinite(big, 200000) == 150001);
  big[3] = 3.4e38f; /* the largest floats are finite */
  CHECK(lurn_first_nonfinite(big, 100000) == -1);
}

int main(void) {
  RUN(frozen_parameters_are_left_alone_by_every_optimizer);
  RUN(first_nonfinite_finds_the_first_nan_or_infinity);
  return check_summary();
}
