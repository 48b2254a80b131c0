/* Image augmentation from C: the warp copies whole pixels exactly (identity, one-pixel
 * shifts in each fill mode, flips folded into the matrix), a seeded batch is the same at
 * any thread count, standardize works image by image, and bad input fails with a
 * message instead of crashing. */
#include <string.h>

#include "check.h"
#include "lurn.h"

static lurn_tensor *image(int64_t h, int64_t w, int64_t c, const float *values) {
  int64_t shape[3] = {h, w, c};
  lurn_tensor *t = lurn_tensor_empty(3, shape);
  memcpy(lurn_tensor_data(t), values, sizeof(float) * (size_t)(h * w * c));
  return t;
}

static int same(const lurn_tensor *t, const float *want) {
  const float *d = lurn_tensor_data(t);
  for (int64_t i = 0; i < lurn_tensor_numel(t); i++)
    if (d[i] != want[i]) return 0;
  return 1;
}

static void test_identity_copies(void) {
  float v[6] = {1, 2, 3, 4, 5, 6};
  lurn_tensor *x = image(2, 3, 1, v), *out = lurn_tensor_zeros(3, x->shape);
  double m[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  CHECK(lurn_image_affine(x, m, 1, LURN_FILL_CONSTANT, -1, out) == LURN_OK);
  CHECK(same(out, v));
  lurn_tensor_free(x);
  lurn_tensor_free(out);
}

static void test_one_pixel_shift_in_each_mode(void) {
  float v[4] = {1, 2, 3, 4};
  lurn_tensor *x = image(1, 4, 1, v), *out = lurn_tensor_zeros(3, x->shape);
  double m[9] = {1, 0, 0, 0, 1, -1, 0, 0, 1}; /* out(r, c) = x(r, c - 1): moves right */
  const float want[4][4] = {{-1, 1, 2, 3}, {1, 1, 2, 3}, {1, 1, 2, 3}, {4, 1, 2, 3}};
  for (int mode = LURN_FILL_CONSTANT; mode <= LURN_FILL_WRAP; mode++) {
    CHECK(lurn_image_affine(x, m, 1, (lurn_fill_mode)mode, -1, out) == LURN_OK);
    CHECK(same(out, want[mode]));
    CHECK(lurn_image_affine(x, m, 0, (lurn_fill_mode)mode, -1, out) == LURN_OK);
    CHECK(same(out, want[mode]));
  }
  lurn_tensor_free(x);
  lurn_tensor_free(out);
}

static void test_flips_and_quarter_turns_are_exact(void) {
  float v[6] = {1, 2, 3, 4, 5, 6};
  lurn_tensor *x = image(2, 3, 1, v), *out = lurn_tensor_zeros(3, x->shape);
  lurn_image_transform t;
  lurn_image_transform_identity(&t);
  t.flip_horizontal = 1;
  CHECK(lurn_image_apply_transform(x, &t, 1, LURN_FILL_NEAREST, 0, out) == LURN_OK);
  CHECK(same(out, (const float[]){3, 2, 1, 6, 5, 4}));
  t.flip_vertical = 1;
  CHECK(lurn_image_apply_transform(x, &t, 1, LURN_FILL_NEAREST, 0, out) == LURN_OK);
  CHECK(same(out, (const float[]){6, 5, 4, 3, 2, 1}));
  lurn_tensor_free(x);
  lurn_tensor_free(out);

  float s[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  x = image(3, 3, 1, s);
  out = lurn_tensor_zeros(3, x->shape);
  lurn_image_transform_identity(&t);
  t.theta = 90;
  CHECK(lurn_image_apply_transform(x, &t, 1, LURN_FILL_CONSTANT, -1, out) == LURN_OK);
  CHECK(same(out, (const float[]){7, 4, 1, 8, 5, 2, 9, 6, 3}));
  lurn_tensor_free(x);
  lurn_tensor_free(out);
}

static void test_seeded_batch_is_the_same_at_any_thread_count(void) {
  int64_t shape[4] = {24, 16, 16, 3};
  lurn_tensor *x = lurn_tensor_empty(4, shape), *a = lurn_tensor_empty(4, shape),
              *b = lurn_tensor_empty(4, shape);
  lurn_rng rng;
  lurn_rng_seed(&rng, 9);
  lurn_tensor_rand(x, &rng, 0, 1);
  lurn_augment_config c;
  lurn_augment_config_init(&c);
  c.rotation_range = 30;
  c.width_shift_range = c.height_shift_range = 0.2;
  c.zoom_range[0] = 0.8;
  c.zoom_range[1] = 1.2;
  c.horizontal_flip = 1;
  int threads = lurn_get_num_threads();
  lurn_set_num_threads(1);
  lurn_rng_seed(&rng, 1);
  CHECK(lurn_augment_batch(&c, x, &rng, a) == LURN_OK);
  lurn_set_num_threads(4);
  lurn_rng_seed(&rng, 1);
  CHECK(lurn_augment_batch(&c, x, &rng, b) == LURN_OK);
  lurn_set_num_threads(threads);
  CHECK(memcmp(lurn_tensor_data(a), lurn_tensor_data(b), sizeof(float) * (size_t)lurn_tensor_numel(a)) == 0);
  lurn_tensor_free(x);
  lurn_tensor_free(a);
  lurn_tensor_free(b);
}

static void test_standardize_image_by_image(void) {
  int64_t shape[4] = {2, 1, 2, 1};
  lurn_tensor *x = lurn_tensor_empty(4, shape);
  float *d = lurn_tensor_data(x);
  d[0] = 2, d[1] = 4, d[2] = 10, d[3] = 30;
  lurn_standardize_config c = {.rescale = 0.5f, .samplewise_center = 1};
  CHECK(lurn_image_standardize(x, &c) == LURN_OK);
  CHECK(same(x, (const float[]){-0.5f, 0.5f, -5, 5}));
  lurn_tensor_free(x);
}

static void test_bad_input_fails_with_a_message(void) {
  float v[4] = {1, 2, 3, 4};
  lurn_tensor *x = image(2, 2, 1, v), *out = lurn_tensor_zeros(3, x->shape);
  double m[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  CHECK(lurn_image_affine(x, m, 2, LURN_FILL_NEAREST, 0, out) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "order") != NULL);
  CHECK(lurn_image_affine(x, m, 1, LURN_FILL_NEAREST, 0, x) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "overlaps") != NULL);
  m[2] = NAN;
  CHECK(lurn_image_affine(x, m, 1, LURN_FILL_NEAREST, 0, out) == LURN_EINVAL);
  lurn_fill_mode mode;
  CHECK(!lurn_fill_mode_from_name("mirror", &mode));
  CHECK(strstr(lurn_last_error(), "mirror") != NULL);
  lurn_augment_config c;
  lurn_augment_config_init(&c);
  c.rotation_range = -1;
  CHECK(lurn_augment_check(&c) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "rotation_range") != NULL);
  lurn_augment_config_init(&c);
  c.zoom_range[0] = 1.5;
  CHECK(lurn_augment_check(&c) == LURN_EINVAL);
  lurn_rng rng;
  lurn_rng_seed(&rng, 1);
  lurn_augment_config_init(&c);
  CHECK(lurn_augment_batch(&c, x, &rng, out) == LURN_EINVAL); /* (H, W, C) is not a batch */
  lurn_tensor_free(x);
  lurn_tensor_free(out);
}

int main(void) {
  RUN(test_identity_copies);
  RUN(test_one_pixel_shift_in_each_mode);
  RUN(test_flips_and_quarter_turns_are_exact);
  RUN(test_seeded_batch_is_the_same_at_any_thread_count);
  RUN(test_standardize_image_by_image);
  RUN(test_bad_input_fails_with_a_message);
  return check_summary();
}
