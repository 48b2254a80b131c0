/* lurn_model_predict, the host's call (examples/embed/host.c): the outputs of n samples from
 * plain float arrays equal the inference forward's, Dropout is off, a second call at a
 * smaller batch reuses the buffers, and bad calls fail with a message. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "lurn.h"
#include "lurn/layer_impl.h"

static lurn_model *dense_model(void) {
  lurn_initializer glorot = {.kind = LURN_INIT_GLOROT_UNIFORM, .seeded = 1, .seed = 3};
  lurn_initializer zeros = {.kind = LURN_INIT_ZEROS};
  lurn_dense_config c1 = {.units = 8, .activation = LURN_ACT_RELU, .use_bias = 1, .kernel_initializer = glorot,
                          .bias_initializer = zeros};
  lurn_dense_config c2 = {.units = 3, .activation = LURN_ACT_SOFTMAX, .use_bias = 1, .kernel_initializer = glorot,
                          .bias_initializer = zeros};
  lurn_model *m = lurn_model_new();
  lurn_layer *layers[3] = {lurn_dense_new(&c1), lurn_dropout_new(0.5f, 0), lurn_dense_new(&c2)};
  for (int i = 0; i < 3; i++) {
    CHECK(layers[i] && lurn_model_add(m, layers[i]) == LURN_OK);
    lurn_layer_free(layers[i]);
  }
  return m;
}

static void predicts_what_the_inference_forward_gives(void) {
  lurn_model *m = dense_model();
  float x[5 * 6], out[5 * 6];
  CHECK(lurn_model_input_size(m) == 0);
  CHECK(lurn_model_predict(m, x, 1, out, 3) != LURN_OK);  /* not built */
  /* (2, 3) per sample, 6 values; Dense reads the last axis, as Keras': (2, 3) out, 6 values */
  int64_t in_shape[2] = {2, 3};
  CHECK(lurn_model_build(m, 2, in_shape, lurn_rng_global()) == LURN_OK);
  CHECK(lurn_model_input_size(m) == 6 && lurn_model_output_size(m) == 6);
  for (int i = 0; i < 30; i++) x[i] = (float)((i * 7 % 11) - 5) / 3;
  CHECK(lurn_model_predict(m, x, 5, out, 30) == LURN_OK);
  int64_t shape[3] = {5, 2, 3};
  lurn_tensor *t = lurn_tensor_empty(3, shape);
  memcpy(lurn_tensor_data(t), x, sizeof x);
  const lurn_tensor *y;
  CHECK(lurn_model_forward(m, t, 0, &y) == LURN_OK);
  int same = 1;
  for (int i = 0; i < 30; i++) same = same && out[i] == lurn_tensor_data(y)[i];
  CHECK(same);
  /* softmax rows, Dropout off: each row sums to 1, and a sample alone gives the same */
  for (int r = 0; r < 10; r++) CHECK_NEAR(out[3 * r] + out[3 * r + 1] + out[3 * r + 2], 1, 1e-5);
  float again[6];
  CHECK(lurn_model_predict(m, x + 12, 1, again, 6) == LURN_OK);  /* sample 3 alone */
  for (int j = 0; j < 6; j++) CHECK_NEAR(again[j], out[12 + j], 1e-6);
  lurn_tensor_free(t);
  lurn_model_free(m);
}

static void refuses_bad_calls_with_a_message(void) {
  lurn_model *m = dense_model();
  int64_t in_shape[1] = {6};
  CHECK(lurn_model_build(m, 1, in_shape, lurn_rng_global()) == LURN_OK);
  float x[6] = {1, 2, 3, 4, 5, 6}, out[3];
  CHECK(lurn_model_predict(m, x, 1, out, 2) != LURN_OK);
  CHECK(strstr(lurn_last_error(), "out holds 2 floats") != NULL);
  CHECK(lurn_model_predict(m, x, 0, out, 3) != LURN_OK);
  CHECK(lurn_model_predict(m, NULL, 1, out, 3) != LURN_OK);
  x[4] = INFINITY;
  CHECK(lurn_model_predict(m, x, 1, out, 3) != LURN_OK);
  CHECK(strstr(lurn_last_error(), "sample 1, value 5") != NULL);
  lurn_model_free(m);
}

int main(void) {
  RUN(predicts_what_the_inference_forward_gives);
  RUN(refuses_bad_calls_with_a_message);
  return check_summary();
}
