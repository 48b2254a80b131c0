/* Layer ownership and claims through the C API: a model, Residual block or graph holds a
 * reference to the layers it runs, so its creator may free them first; a run claims its
 * layers, so a second run that shares one fails cleanly instead of reusing buffers the
 * first still needs. Run under AddressSanitizer in the sanitizer build. */
#include <string.h>

#include "check.h"
#include "lurn.h"
#include "lurn/layer_impl.h"

static lurn_layer *dense(int64_t units) {
  lurn_dense_config c = {.units = units, .activation = LURN_ACT_RELU, .use_bias = 1};
  c.kernel_initializer.kind = LURN_INIT_GLOROT_UNIFORM;
  c.bias_initializer.kind = LURN_INIT_ZEROS;
  return lurn_dense_new(&c);
}

static lurn_tensor *batch(int64_t n, int64_t f, lurn_rng *rng) {
  int64_t shape[2] = {n, f};
  lurn_tensor *t = lurn_tensor_empty(2, shape);
  lurn_tensor_randn(t, rng, 0, 1);
  return t;
}

/* The creator frees every layer right after handing it over: the containers run on. */
static void test_containers_keep_their_layers(void) {
  lurn_rng rng;
  lurn_rng_seed(&rng, 3);
  lurn_layer *a = dense(4), *b = dense(4), *p = dense(4);
  lurn_layer *inner[2] = {a, b};
  lurn_layer *block = lurn_residual_new(inner, 2, p);
  lurn_layer *g = lurn_graph_new(), *c = dense(4);
  int in0[1] = {0};
  CHECK(block && g && lurn_graph_add(g, c, in0, 1) == LURN_OK);
  lurn_model *m = lurn_model_new();
  CHECK(lurn_model_add(m, block) == LURN_OK);
  CHECK(lurn_model_add(m, g) == LURN_OK);
  lurn_layer_free(a), lurn_layer_free(b), lurn_layer_free(p), lurn_layer_free(c);
  lurn_layer_free(block), lurn_layer_free(g);
  int64_t shape[1] = {3};
  CHECK(lurn_model_build(m, 1, shape, &rng) == LURN_OK);
  lurn_tensor *x = batch(5, 3, &rng);
  const lurn_tensor *out;
  CHECK(lurn_model_forward(m, x, 1, &out) == LURN_OK);
  CHECK(out->ndim == 2 && out->shape[0] == 5 && out->shape[1] == 4);
  lurn_model_free(m);
  lurn_tensor_free(x);
}

/* Model A runs first; while it holds its claim, model B sharing a layer cannot run (as
 * when a Lambda in A calls B); once A's call has returned, B runs. */
static void test_a_shared_layer_is_claimed_by_one_run(void) {
  lurn_rng rng;
  lurn_rng_seed(&rng, 4);
  lurn_layer *shared = dense(2);
  lurn_model *a = lurn_model_new(), *b = lurn_model_new();
  CHECK(lurn_model_add(a, shared) == LURN_OK && lurn_model_add(b, shared) == LURN_OK);
  lurn_layer_free(shared);
  int64_t shape[1] = {3};
  CHECK(lurn_model_build(a, 1, shape, &rng) == LURN_OK && lurn_model_build(b, 1, shape, &rng) == LURN_OK);
  CHECK(lurn_layer_claim(shared, a) == LURN_OK);  /* what a run of A does */
  lurn_tensor *x = batch(2, 3, &rng);
  const lurn_tensor *out;
  CHECK(lurn_model_forward(b, x, 0, &out) != LURN_OK);
  CHECK(strstr(lurn_last_error(), "Dense layer is running") != NULL);
  lurn_layer_unclaim(shared, a);
  CHECK(lurn_model_forward(b, x, 0, &out) == LURN_OK);
  CHECK(lurn_model_forward(a, x, 0, &out) == LURN_OK);
  lurn_model_free(a);
  lurn_model_free(b);
  lurn_tensor_free(x);
}

int main(void) {
  RUN(test_containers_keep_their_layers);
  RUN(test_a_shared_layer_is_claimed_by_one_run);
  return check_summary();
}
