/* The graph container and merge layers through the C API: batches large enough to take
 * the OpenMP paths (at 1 and 2 threads) against plain loops, gradients summed over a
 * fan-out, buffers kept between batches, and the errors of graphs a C caller can build
 * but the Lua side never does. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lurn.h"
#include "lurn/layer_impl.h"

#define N 1500
#define F 40 /* N * F is above the parallel threshold */

static lurn_tensor *random_batch(int64_t n, int64_t f, lurn_rng *rng) {
  int64_t shape[2] = {n, f};
  lurn_tensor *t = lurn_tensor_empty(2, shape);
  lurn_tensor_randn(t, rng, 0, 1);
  return t;
}

static lurn_tensor *zeros_like(const lurn_tensor *t) {
  return lurn_tensor_zeros(t->ndim, t->shape);
}

/* y = Concatenate(a + x, x) with a = relu(x): x read by three nodes. dL/dx = dy's first
 * half * (1 + relu'(x)) + dy's second half. */
static void test_fan_out_sums_gradients(void) {
  for (int threads = 1; threads <= 2; threads++) {
    lurn_set_num_threads(threads);
    lurn_rng rng;
    lurn_rng_seed(&rng, 7);
    lurn_layer *relu = lurn_activation_layer_new(LURN_ACT_RELU, 0);
    lurn_layer *add = lurn_merge_new(LURN_MERGE_ADD, 0), *cat = lurn_merge_new(LURN_MERGE_CONCATENATE, -1);
    lurn_layer *g = lurn_graph_new();
    int in0[1] = {0}, in_add[2] = {1, 0}, in_cat[2] = {2, 0};
    CHECK(lurn_graph_add(g, relu, in0, 1) == LURN_OK);
    CHECK(lurn_graph_add(g, add, in_add, 2) == LURN_OK);
    CHECK(lurn_graph_add(g, cat, in_cat, 2) == LURN_OK);
    int64_t in_shape[1] = {F};
    CHECK(lurn_layer_build(g, 1, in_shape, &rng) == LURN_OK);
    CHECK(g->out_ndim == 1 && g->out_shape[0] == 2 * F);
    lurn_tensor *x = random_batch(N, F, &rng), *dy = random_batch(N, 2 * F, &rng);
    int64_t out_shape[2] = {N, 2 * F};
    lurn_tensor *y = lurn_tensor_zeros(2, out_shape), *dx = zeros_like(x);
    for (int step = 0; step < 2; step++) { /* the second batch reuses the buffers */
      CHECK(g->ops->forward(g, x, y, 1) == LURN_OK);
      CHECK(g->ops->backward(g, x, y, dy, dx, 0) == LURN_OK);
      const float *xv = lurn_tensor_data(x), *yv = lurn_tensor_data(y), *d = lurn_tensor_data(dy);
      const float *dxv = lurn_tensor_data(dx);
      int bad_y = 0, bad_dx = 0;
      for (int64_t i = 0; i < N; i++)
        for (int64_t j = 0; j < F; j++) {
          float v = xv[i * F + j], r = v > 0 ? v : 0;
          bad_y += yv[i * 2 * F + j] != r + v || yv[i * 2 * F + F + j] != v;
          float want = d[i * 2 * F + j] * (v > 0 ? 2.0f : 1.0f) + d[i * 2 * F + F + j];
          bad_dx += fabsf(dxv[i * F + j] - want) > 1e-6f * (1 + fabsf(want));
        }
      CHECK(bad_y == 0);
      CHECK(bad_dx == 0);
    }
    /* without dx the graph still trains its layers and skips dL/dx */
    CHECK(g->ops->backward(g, x, y, dy, NULL, 0) == LURN_OK);
    lurn_tensor_free(x), lurn_tensor_free(dy), lurn_tensor_free(y), lurn_tensor_free(dx);
    lurn_layer_free(g), lurn_layer_free(relu), lurn_layer_free(add), lurn_layer_free(cat);
  }
  lurn_set_num_threads(1);
}

/* Multiply and Maximum of three inputs, forward and (added) gradients, against loops. */
static void test_elementwise_merges(void) {
  for (int threads = 1; threads <= 2; threads++) {
    lurn_set_num_threads(threads);
    lurn_rng rng;
    lurn_rng_seed(&rng, 11);
    lurn_merge_kind kinds[2] = {LURN_MERGE_MULTIPLY, LURN_MERGE_MAXIMUM};
    for (int k = 0; k < 2; k++) {
      lurn_layer *m = lurn_merge_new(kinds[k], 0);
      int ndim[3] = {1, 1, 1};
      int64_t f[1] = {F};
      const int64_t *shapes[3] = {f, f, f};
      CHECK(lurn_merge_build(m, 3, ndim, shapes) == LURN_OK);
      lurn_tensor *xs[3], *dxs[3];
      for (int j = 0; j < 3; j++) {
        xs[j] = random_batch(N, F, &rng);
        dxs[j] = lurn_tensor_full(2, xs[j]->shape, 1.0f); /* gradients are added onto this */
      }
      lurn_tensor *y = zeros_like(xs[0]), *dy = random_batch(N, F, &rng);
      CHECK(lurn_merge_forward(m, (const lurn_tensor *const *)xs, 3, y) == LURN_OK);
      CHECK(lurn_merge_backward(m, (const lurn_tensor *const *)xs, 3, y, dy, dxs) == LURN_OK);
      int bad = 0;
      for (int64_t i = 0; i < N * F; i++) {
        float a = lurn_tensor_data(xs[0])[i], b = lurn_tensor_data(xs[1])[i], c = lurn_tensor_data(xs[2])[i];
        float g = lurn_tensor_data(dy)[i];
        float want[3], out;
        if (kinds[k] == LURN_MERGE_MULTIPLY) {
          out = a * b * c;
          want[0] = g * b * c, want[1] = g * a * c, want[2] = g * a * b;
        } else {
          out = a > b ? a : b;
          out = c > out ? c : out;
          int first = a == out ? 0 : b == out ? 1 : 2;
          for (int j = 0; j < 3; j++) want[j] = j == first ? g : 0;
        }
        bad += lurn_tensor_data(y)[i] != out;
        for (int j = 0; j < 3; j++) bad += fabsf(lurn_tensor_data(dxs[j])[i] - (1 + want[j])) > 1e-5f;
      }
      CHECK(bad == 0);
      for (int j = 0; j < 3; j++) lurn_tensor_free(xs[j]), lurn_tensor_free(dxs[j]);
      lurn_tensor_free(y), lurn_tensor_free(dy);
      lurn_layer_free(m);
    }
  }
  lurn_set_num_threads(1);
}

static void test_graph_errors(void) {
  lurn_rng rng;
  lurn_rng_seed(&rng, 3);
  int64_t in_shape[1] = {4};
  int in0[1] = {0}, in1[1] = {1}, both[2] = {0, 1}, far[1] = {5};

  lurn_layer *a = lurn_activation_layer_new(LURN_ACT_TANH, 0),
             *b = lurn_activation_layer_new(LURN_ACT_RELU, 0);
  lurn_layer *add = lurn_merge_new(LURN_MERGE_ADD, 0);
  lurn_layer *g = lurn_graph_new();
  CHECK(lurn_graph_add(g, a, far, 1) == LURN_EINVAL); /* a node that does not exist yet */
  CHECK(strstr(lurn_last_error(), "cannot read node 5") != NULL);
  CHECK(lurn_graph_add(g, a, both, 2) == LURN_EINVAL);  /* two inputs to a one-input layer */
  CHECK(lurn_graph_add(g, add, in0, 1) == LURN_EINVAL); /* one input to a merge */
  CHECK(lurn_graph_add(g, a, in0, 1) == LURN_OK);
  CHECK(lurn_graph_add(g, a, in1, 1) == LURN_EINVAL); /* the same layer twice */
  CHECK(strstr(lurn_last_error(), "shared weights") != NULL);
  CHECK(lurn_graph_add(g, b, in0, 1) == LURN_OK);
  CHECK(lurn_layer_build(g, 1, in_shape, &rng) == LURN_EINVAL); /* node 1 feeds nothing */
  CHECK(strstr(lurn_last_error(), "node 1 (Activation) feeds no other node") != NULL);
  lurn_layer_free(g);

  g = lurn_graph_new();
  CHECK(lurn_layer_build(g, 1, in_shape, &rng) == LURN_EINVAL); /* empty */
  lurn_layer_free(g);

  /* merge shapes; the one-input ops of a merge refuse to run */
  int ndim[2] = {1, 1};
  int64_t s4[1] = {4}, s5[1] = {5};
  const int64_t *shapes[2] = {s4, s5};
  CHECK(lurn_merge_build(add, 2, ndim, shapes) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "(None, 4), (None, 5)") != NULL);
  CHECK(lurn_layer_build(add, 1, s4, &rng) == LURN_EINVAL);
  lurn_layer *sub = lurn_merge_new(LURN_MERGE_SUBTRACT, 0);
  const int64_t *three[3] = {s4, s4, s4};
  int ndim3[3] = {1, 1, 1};
  CHECK(lurn_merge_build(sub, 3, ndim3, three) == LURN_EINVAL);
  lurn_layer_free(a), lurn_layer_free(b), lurn_layer_free(add), lurn_layer_free(sub);
}

int main(void) {
  RUN(test_fan_out_sums_gradients);
  RUN(test_elementwise_merges);
  RUN(test_graph_errors);
  return check_summary();
}
