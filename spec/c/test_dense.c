/* Dense from C, as a layer author or a host sees it: Keras' (in, units) kernel layout,
 * y = x W + b, and the gradients dW = x^T dy, db = sum over the batch of dy, dx = dy W^T,
 * checked against numbers worked out by hand; relu masks the gradient where y is 0. */
#include <string.h>

#include "check.h"
#include "lurn.h"
#include "lurn/layer_impl.h"

static lurn_tensor *matrix(int64_t rows, int64_t cols, const float *values) {
  int64_t shape[2] = {rows, cols};
  lurn_tensor *t = lurn_tensor_empty(2, shape);
  memcpy(lurn_tensor_data(t), values, sizeof(float) * (size_t)(rows * cols));
  return t;
}

static int equals(const lurn_tensor *t, const float *want, int n) {
  for (int i = 0; i < n; i++)
    if (lurn_tensor_data(t)[i] != want[i]) return 0;
  return 1;
}

/* Dense(2) on 3 inputs with kernel [[1,2],[3,4],[5,6]] and bias [0.5,-1]. */
static lurn_layer *dense(lurn_activation act) {
  lurn_dense_config c = {.units = 2, .activation = act, .use_bias = 1,
                         .kernel_initializer = {.kind = LURN_INIT_ZEROS},
                         .bias_initializer = {.kind = LURN_INIT_ZEROS}};
  lurn_layer *l = lurn_dense_new(&c);
  lurn_rng rng;
  lurn_rng_seed(&rng, 1);
  int64_t in[1] = {3};
  CHECK(l && lurn_layer_build(l, 1, in, &rng) == LURN_OK);
  CHECK(l->nparams == 2 && strcmp(l->param_names[0], "kernel") == 0 && strcmp(l->param_names[1], "bias") == 0);
  const float w[6] = {1, 2, 3, 4, 5, 6}, b[2] = {0.5f, -1};
  memcpy(lurn_tensor_data(l->params[0]), w, sizeof w);
  memcpy(lurn_tensor_data(l->params[1]), b, sizeof b);
  return l;
}

static void forward_is_x_kernel_plus_bias(void) {
  lurn_layer *l = dense(LURN_ACT_LINEAR);
  const float xv[6] = {1, 0, -1, 2, 1, 0};
  lurn_tensor *x = matrix(2, 3, xv), *y = matrix(2, 2, (float[4]){0});
  CHECK(l->ops->forward(l, x, y, 1) == LURN_OK);
  CHECK(equals(y, (float[4]){-3.5f, -5, 5.5f, 7}, 4));
  lurn_tensor_free(x);
  lurn_tensor_free(y);
  lurn_layer_free(l);
}

static void backward_gives_the_hand_worked_gradients(void) {
  lurn_layer *l = dense(LURN_ACT_LINEAR);
  lurn_tensor *x = matrix(2, 3, (float[6]){1, 0, -1, 2, 1, 0}), *y = matrix(2, 2, (float[4]){0});
  lurn_tensor *dy = matrix(2, 2, (float[4]){1, 0, 0, 1}), *dx = matrix(2, 3, (float[6]){0});
  CHECK(l->ops->forward(l, x, y, 1) == LURN_OK);
  CHECK(l->ops->backward(l, x, y, dy, dx, 0) == LURN_OK);
  CHECK(equals(l->grads[0], (float[6]){1, 2, 0, 1, -1, 0}, 6)); /* x^T dy */
  CHECK(equals(l->grads[1], (float[2]){1, 1}, 2));             /* dy summed over the batch */
  CHECK(equals(dx, (float[6]){1, 3, 5, 2, 4, 6}, 6));          /* dy W^T */
  lurn_tensor *all[4] = {x, y, dy, dx};
  for (int i = 0; i < 4; i++) lurn_tensor_free(all[i]);
  lurn_layer_free(l);
}

static void relu_masks_the_gradient_where_the_output_is_zero(void) {
  lurn_layer *l = dense(LURN_ACT_RELU);
  lurn_tensor *x = matrix(2, 3, (float[6]){1, 0, -1, 2, 1, 0}), *y = matrix(2, 2, (float[4]){0});
  lurn_tensor *dy = matrix(2, 2, (float[4]){1, 1, 1, 1}), *dx = matrix(2, 3, (float[6]){0});
  CHECK(l->ops->forward(l, x, y, 1) == LURN_OK);
  CHECK(equals(y, (float[4]){0, 0, 5.5f, 7}, 4)); /* the first sample is all negative */
  CHECK(l->ops->backward(l, x, y, dy, dx, 0) == LURN_OK);
  CHECK(equals(l->grads[0], (float[6]){2, 2, 1, 1, 0, 0}, 6)); /* only the second sample */
  CHECK(equals(l->grads[1], (float[2]){1, 1}, 2));
  CHECK(equals(dx, (float[6]){0, 0, 0, 3, 7, 11}, 6));
  lurn_tensor *all[4] = {x, y, dy, dx};
  for (int i = 0; i < 4; i++) lurn_tensor_free(all[i]);
  lurn_layer_free(l);
}

int main(void) {
  RUN(forward_is_x_kernel_plus_bias);
  RUN(backward_gives_the_hand_worked_gradients);
  RUN(relu_masks_the_gradient_where_the_output_is_zero);
  return check_summary();
}
