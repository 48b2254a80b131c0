/* lurn_layer_stats_of_output on outputs large enough for its parallel bands, at 1, 2 and
 * 3 threads, against plain loops: mean and std, dead units (a unit: the last axis, over
 * every sample and position), saturated elements and softmax rows; the same numbers at
 * a given thread count, run after run. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "lurn.h"
#include "lurn/layer_impl.h"

#define ROWS 5001 /* not a multiple of the thread counts */
#define UNITS 12  /* ROWS * UNITS is above the parallel threshold */

static void plain(const float *v, lurn_activation act, double *mean, double *std, int *dead,
                  int64_t *saturated) {
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < (int64_t)ROWS * UNITS; i++) sum += v[i];
  *mean = sum / ((double)ROWS * UNITS);
  for (int64_t i = 0; i < (int64_t)ROWS * UNITS; i++) sq += (v[i] - *mean) * (v[i] - *mean);
  *std = sqrt(sq / ((double)ROWS * UNITS));
  *dead = 0;
  for (int u = 0; u < UNITS; u++) {
    int zero = 1;
    for (int r = 0; r < ROWS; r++) zero = zero && v[r * UNITS + u] == 0;
    *dead += zero;
  }
  *saturated = 0;
  for (int r = 0; r < ROWS; r++) {
    float top = -INFINITY;
    for (int u = 0; u < UNITS; u++) {
      float x = v[r * UNITS + u];
      if (act == LURN_ACT_SIGMOID) *saturated += x < 0.01f || x > 0.99f;
      if (x > top) top = x;
    }
    if (act == LURN_ACT_SOFTMAX) *saturated += top > 0.99f;
  }
}

static void check_activation(lurn_activation act) {
  lurn_rng rng;
  lurn_rng_seed(&rng, 11);
  int64_t shape[3] = {ROWS, 1, UNITS}; /* (batch, positions, units) */
  lurn_tensor *y = lurn_tensor_empty(3, shape);
  float *v = lurn_tensor_data(y);
  lurn_tensor_randn(y, &rng, 0, 3);
  for (int64_t i = 0; i < (int64_t)ROWS * UNITS; i++) {
    if (act == LURN_ACT_RELU) v[i] = v[i] > 0 ? v[i] : 0;
    if (act == LURN_ACT_SIGMOID) v[i] = 1 / (1 + expf(-v[i]));
    if (act == LURN_ACT_RELU && i % UNITS < 3) v[i] = 0; /* three dead units */
  }
  v[(int64_t)(ROWS - 1) * UNITS + 1] =
      act == LURN_ACT_RELU ? 0.5f : v[1]; /* unit 1 alive in the last row only */
  if (act == LURN_ACT_SOFTMAX)
    for (int r = 0; r < ROWS; r++) {
      double z = 0;
      for (int u = 0; u < UNITS; u++) z += exp(v[r * UNITS + u]);
      for (int u = 0; u < UNITS; u++) v[r * UNITS + u] = (float)(exp(v[r * UNITS + u]) / z);
    }
  double mean, std;
  int dead;
  int64_t saturated;
  plain(v, act, &mean, &std, &dead, &saturated);
  lurn_layer *l = lurn_activation_layer_new(act, 0);
  for (int threads = 1; threads <= 3; threads++) {
    lurn_set_num_threads(threads);
    lurn_layer_stats first = {0};
    for (int run = 0; run < 2; run++) {
      lurn_layer_stats s = {0};
      CHECK(lurn_layer_stats_of_output(&s, l, y) == LURN_OK);
      CHECK(s.has & LURN_STATS_OUTPUT);
      CHECK_NEAR(s.act_mean, mean, 1e-12 * (1 + fabs(mean)));
      CHECK_NEAR(s.act_std, std, 1e-12 * std);
      if (act == LURN_ACT_RELU) {
        CHECK(s.has & LURN_STATS_DEAD);
        CHECK(dead == 2); /* unit 0 and 2; unit 1 lives in the last row */
        CHECK(s.dead_fraction == (double)dead / UNITS);
        CHECK(!(s.has & LURN_STATS_SATURATED));
      } else {
        CHECK(!(s.has & LURN_STATS_DEAD));
        CHECK(s.has & LURN_STATS_SATURATED);
        CHECK(s.saturated_fraction ==
              (double)saturated / (act == LURN_ACT_SOFTMAX ? ROWS : (double)ROWS * UNITS));
      }
      if (run == 0)
        first = s;
      else
        CHECK(s.act_mean == first.act_mean && s.act_std == first.act_std);
    }
  }
  lurn_set_num_threads(1);
  lurn_layer_free(l);
  lurn_tensor_free(y);
}

static void test_relu(void) {
  check_activation(LURN_ACT_RELU);
}
static void test_sigmoid(void) {
  check_activation(LURN_ACT_SIGMOID);
}
static void test_softmax(void) {
  check_activation(LURN_ACT_SOFTMAX);
}

int main(void) {
  RUN(test_relu);
  RUN(test_sigmoid);
  RUN(test_softmax);
  return check_summary();
}
