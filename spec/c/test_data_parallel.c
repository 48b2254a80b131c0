/* Data-parallel training (src/nn/data_parallel.c) in one process, where every collective
 * leaves its buffer as it is: the step of a process holding the whole global batch is
 * lurn_model_train_step bit for bit (a synchronized BatchNormalization included), an empty
 * shard changes nothing, the broadcast and the average of statistics keep the weights;
 * lurn_rng_split gives each index its own stream and leaves the shared generator alone.
 * Under mpirun: spec/integration/mpi_fit_*.sh. */
#include <string.h>

#include "check.h"
#include "lurn.h"
#include "lurn/layer_impl.h"

/* Dense(6) -> BatchNormalization{synchronized or not} -> Dense(3), seeded weights. */
static lurn_model *model_with_norm(int synchronized) {
  lurn_initializer he = {.kind = LURN_INIT_HE_NORMAL, .seeded = 1, .seed = 21};
  lurn_initializer zeros = {.kind = LURN_INIT_ZEROS}, ones = {.kind = LURN_INIT_ONES};
  lurn_dense_config hidden = {.units = 6,
                              .activation = LURN_ACT_LINEAR,
                              .use_bias = 1,
                              .kernel_initializer = he,
                              .bias_initializer = zeros};
  lurn_dense_config out = hidden;
  out.units = 3;
  lurn_batchnorm_config norm = {.momentum = 0.9f,
                                .epsilon = 1e-3f,
                                .center = 1,
                                .scale = 1,
                                .beta_initializer = zeros,
                                .gamma_initializer = ones,
                                .synchronized = synchronized};
  lurn_layer *layers[3] = {lurn_dense_new(&hidden), lurn_batchnorm_new(&norm), lurn_dense_new(&out)};
  lurn_model *m = lurn_model_new();
  for (int i = 0; i < 3; i++) {
    CHECK(lurn_model_add(m, layers[i]) == LURN_OK);
    lurn_layer_free(layers[i]);
  }
  int64_t in_shape[1] = {5};
  CHECK(lurn_model_build(m, 1, in_shape, lurn_rng_global()) == LURN_OK);
  return m;
}

/* n samples of 5 inputs and 3 targets, from a fixed pattern */
static void samples(int64_t n, lurn_tensor **x, lurn_tensor **y) {
  int64_t xs[2] = {n, 5}, ys[2] = {n, 3};
  *x = lurn_tensor_zeros(2, xs);
  *y = lurn_tensor_zeros(2, ys);
  for (int64_t i = 0; i < 5 * n; i++) lurn_tensor_data(*x)[i] = (float)((i * 5) % 13) / 6.0f - 1.0f;
  for (int64_t i = 0; i < 3 * n; i++) lurn_tensor_data(*y)[i] = (float)((i * 2) % 7) / 3.0f;
}

/* Whether every weight (statistics too) of a and b holds the same bits. */
static int same_weights(const lurn_model *a, const lurn_model *b) {
  lurn_model_weight wa[16], wb[16];
  int n = lurn_model_weights(a, wa, 16);
  if (n != lurn_model_weights(b, wb, 16)) return 0;
  for (int i = 0; i < n; i++) {
    int64_t k = lurn_tensor_numel(wa[i].param);
    if (k != lurn_tensor_numel(wb[i].param) ||
        memcmp(lurn_tensor_data(wa[i].param), lurn_tensor_data(wb[i].param), sizeof(float) * (size_t)k) != 0)
      return 0;
  }
  return 1;
}

static void the_step_of_the_whole_batch_is_train_step_bit_for_bit(void) {
  lurn_model *a = model_with_norm(1), *b = model_with_norm(1);
  lurn_data_parallel *dp = lurn_data_parallel_new();
  lurn_tensor *x, *y;
  samples(7, &x, &y);
  lurn_optimizer_config c = {
      .kind = LURN_OPT_ADAM, .learning_rate = 0.01f, .beta_1 = 0.9f, .beta_2 = 0.999f, .epsilon = 1e-7f};
  lurn_optimizer *oa = lurn_optimizer_new(&c), *ob = lurn_optimizer_new(&c);
  lurn_loss mse = {.kind = LURN_LOSS_MEAN_SQUARED_ERROR};
  for (int step = 0; step < 3; step++) {
    double la, lb, global;
    const lurn_tensor *pa, *pb;
    CHECK(lurn_model_train_step(a, &mse, oa, x, y, NULL, &la, &pa) == LURN_OK);
    CHECK(lurn_data_parallel_step(dp, b, &mse, ob, x, y, NULL, 7, &lb, &global, &pb) == LURN_OK);
    CHECK(la == lb && la == global);
    CHECK(pb != NULL && lurn_tensor_numel(pb) == 21);
  }
  CHECK(same_weights(a, b));
  CHECK(lurn_model_layer(b, 1)->syncs_batch == 1 && lurn_model_layer(b, 1)->data_parallel == 0);
  CHECK(lurn_data_parallel_broadcast_weights(dp, b, 0) == LURN_OK);
  CHECK(lurn_data_parallel_average_statistics(dp, b) == LURN_OK);
  CHECK(same_weights(a, b));
  /* a shard larger than its global batch is refused */
  double l, g;
  const lurn_tensor *p;
  CHECK(lurn_data_parallel_step(dp, b, &mse, ob, x, y, NULL, 6, &l, &g, &p) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "a shard of 7 samples in a global batch of 6") != NULL);
  lurn_optimizer_free(oa);
  lurn_optimizer_free(ob);
  lurn_data_parallel_free(dp);
  lurn_tensor_free(x);
  lurn_tensor_free(y);
  lurn_model_free(a);
  lurn_model_free(b);
}

/* (With a synchronized BatchNormalization an empty shard runs the model, to join the
 * other processes' sums; in one process there are none: a global batch of nothing.) */
static void an_empty_shard_changes_no_weight(void) {
  lurn_model *a = model_with_norm(0), *b = model_with_norm(0);
  lurn_data_parallel *dp = lurn_data_parallel_new();
  lurn_tensor *x, *y;
  samples(0, &x, &y);
  lurn_optimizer_config c = {.kind = LURN_OPT_SGD, .learning_rate = 0.1f};
  lurn_optimizer *o = lurn_optimizer_new(&c);
  lurn_loss mse = {.kind = LURN_LOSS_MEAN_SQUARED_ERROR};
  double l = -1, g = -1;
  const lurn_tensor *p = x;
  CHECK(lurn_data_parallel_step(dp, b, &mse, o, x, y, NULL, 3, &l, &g, &p) == LURN_OK);
  CHECK(l == 0 && g == 0 && p == NULL);
  /* gamma and beta, the kernels and biases: the same; BatchNormalization's moving
   * statistics: untouched too (no batch statistics to move them with) */
  CHECK(same_weights(a, b));
  lurn_model *synced = model_with_norm(1);
  CHECK(lurn_data_parallel_step(dp, synced, &mse, o, x, y, NULL, 3, &l, &g, &p) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "a global batch of no sample") != NULL);
  lurn_model_free(synced);
  lurn_optimizer_free(o);
  lurn_data_parallel_free(dp);
  lurn_tensor_free(x);
  lurn_tensor_free(y);
  lurn_model_free(a);
  lurn_model_free(b);
}

static void split_streams_differ_by_index_and_leave_the_shared_one_alone(void) {
  lurn_rng shared, before, s0, s1, again;
  lurn_rng_seed(&shared, 123);
  before = shared;
  lurn_rng_split(&shared, 0, &s0);
  lurn_rng_split(&shared, 1, &s1);
  lurn_rng_split(&shared, 1, &again);
  CHECK(memcmp(&shared, &before, sizeof shared) == 0);
  CHECK(memcmp(&s1, &again, sizeof s1) == 0);
  CHECK(lurn_rng_next(&s0) != lurn_rng_next(&s1));
  lurn_rng_next(&shared); /* the shared generator moved on: a new family */
  lurn_rng_split(&shared, 1, &again);
  CHECK(memcmp(&s1, &again, sizeof s1) != 0);
}

int main(void) {
  RUN(the_step_of_the_whole_batch_is_train_step_bit_for_bit);
  RUN(an_empty_shard_changes_no_weight);
  RUN(split_streams_differ_by_index_and_leave_the_shared_one_alone);
  return check_summary();
}
