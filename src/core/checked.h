/* Checked integer arithmetic for the sizes, counts and offsets that come from users and
 * files. Every product, sum or allocation size built from such numbers goes through these,
 * so that an overflow becomes an error the caller reports instead of a wrapped value that
 * indexes out of bounds later. Each returns 1 and stores the result, or returns 0 and
 * leaves *out alone. Internal to the C core: not part of lurn.h. */
#ifndef LURN_CHECKED_H
#define LURN_CHECKED_H

#include <stddef.h>
#include <stdint.h>

static inline int lurn_add_i64(int64_t a, int64_t b, int64_t *out) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return 0;
  *out = r;
  return 1;
}

static inline int lurn_sub_i64(int64_t a, int64_t b, int64_t *out) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) return 0;
  *out = r;
  return 1;
}

static inline int lurn_mul_i64(int64_t a, int64_t b, int64_t *out) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return 0;
  *out = r;
  return 1;
}

static inline int lurn_add_size(size_t a, size_t b, size_t *out) {
  size_t r;
  if (__builtin_add_overflow(a, b, &r)) return 0;
  *out = r;
  return 1;
}

static inline int lurn_mul_size(size_t a, size_t b, size_t *out) {
  size_t r;
  if (__builtin_mul_overflow(a, b, &r)) return 0;
  *out = r;
  return 1;
}

/* Bytes of n elements of `size` bytes each; 0 for a negative n or a total beyond size_t. */
static inline int lurn_array_bytes(int64_t n, size_t size, size_t *out) {
  if (n < 0 || (uint64_t)n > SIZE_MAX) return 0;
  return lurn_mul_size((size_t)n, size, out);
}

/* Product of n sizes, each >= 0. Zero sizes do not hide an overflow of the others: a
 * shape {0, 2^40, 2^40} is refused like {1, 2^40, 2^40}, since its strides overflow too. */
static inline int lurn_shape_numel(int n, const int64_t *shape, int64_t *out) {
  int64_t p = 1, nonzero = 1;
  for (int i = 0; i < n; i++) {
    if (shape[i] < 0) return 0;
    if (!lurn_mul_i64(nonzero, shape[i] > 0 ? shape[i] : 1, &nonzero)) return 0;
    p = shape[i] == 0 ? 0 : p * shape[i]; /* cannot overflow: |p| <= nonzero */
  }
  *out = p;
  return 1;
}

/* A double that holds an integer representable as int64_t; 0 for NaN, infinities,
 * fractions and values out of range. Check before every float-to-integer cast. */
static inline int lurn_i64_from_double(double x, int64_t *out) {
  if (!(x >= -0x1p63 && x < 0x1p63)) return 0;
  int64_t r = (int64_t)x;
  if ((double)r != x) return 0;
  *out = r;
  return 1;
}

#endif
