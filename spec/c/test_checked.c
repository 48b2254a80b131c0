/* Checked arithmetic (src/core/checked.h): every overflow is caught at the edge of int64_t and
 * size_t, zero sizes do not hide an overflow of the others, and float-to-integer
 * conversions refuse what a cast would turn into nonsense. */
#include <math.h>
#include <stdint.h>

#include "check.h"
#include "core/checked.h"

static void integer_sums_and_products_stop_at_the_edge(void) {
  int64_t r = 7;
  CHECK(lurn_add_i64(INT64_MAX - 1, 1, &r) && r == INT64_MAX);
  CHECK(!lurn_add_i64(INT64_MAX, 1, &r) && r == INT64_MAX);
  CHECK(!lurn_sub_i64(INT64_MIN, 1, &r));
  CHECK(lurn_mul_i64(INT64_C(1) << 31, INT64_C(1) << 31, &r) && r == INT64_C(1) << 62);
  CHECK(!lurn_mul_i64(INT64_C(1) << 32, INT64_C(1) << 31, &r));
  size_t s = 0;
  CHECK(!lurn_mul_size(SIZE_MAX / 2 + 1, 2, &s));
  CHECK(!lurn_add_size(SIZE_MAX, 1, &s));
  CHECK(lurn_array_bytes(10, sizeof(double), &s) && s == 80);
  CHECK(!lurn_array_bytes(-1, 1, &s));
  CHECK(!lurn_array_bytes(INT64_MAX, 8, &s));
}

static void zero_sizes_do_not_hide_huge_ones(void) {
  int64_t n = -1;
  const int64_t fine[] = {2, 3, 4}, empty[] = {0, 5}, huge[] = {0, INT64_C(1) << 40, INT64_C(1) << 40},
                negative[] = {2, -1};
  CHECK(lurn_shape_numel(3, fine, &n) && n == 24);
  CHECK(lurn_shape_numel(2, empty, &n) && n == 0);
  CHECK(lurn_shape_numel(0, fine, &n) && n == 1);
  CHECK(!lurn_shape_numel(3, huge, &n));
  CHECK(!lurn_shape_numel(2, negative, &n));
}

static void doubles_convert_only_when_exact(void) {
  int64_t r = 0;
  CHECK(lurn_i64_from_double(-3.0, &r) && r == -3);
  CHECK(lurn_i64_from_double(-0x1p63, &r) && r == INT64_MIN);
  CHECK(!lurn_i64_from_double(0x1p63, &r));
  CHECK(!lurn_i64_from_double(2.5, &r));
  CHECK(!lurn_i64_from_double(NAN, &r));
  CHECK(!lurn_i64_from_double(INFINITY, &r));
  CHECK(!lurn_i64_from_double(-INFINITY, &r));
}

int main(void) {
  RUN(integer_sums_and_products_stop_at_the_edge);
  RUN(zero_sizes_do_not_hide_huge_ones);
  RUN(doubles_convert_only_when_exact);
  return check_summary();
}
