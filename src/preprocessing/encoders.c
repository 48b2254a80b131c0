/* Categories for the encoders: distinct values (numbers or texts) in sorted order,
 * codes as positions in them, and one-hot rows. Unknown values are errors that name
 * the value and its 1-based position, unless the caller allows them (code -1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lurn.h"

/* Ascending with NaN last, as numpy sorts. */
static int cmp_nan_last(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  if (x != x || y != y) return (x != x) - (y != y);
  return (x > y) - (x < y);
}

static int same_value(float a, float b) {
  return a == b || (a != a && b != b);
}

lurn_status lurn_unique(const lurn_tensor *x, lurn_tensor **values, lurn_tensor **counts) {
  *values = NULL;
  if (counts) *counts = NULL;
  int64_t n = lurn_tensor_numel(x);
  lurn_tensor *c = lurn_tensor_clone(x);
  if (!c) return LURN_ENOMEM;
  float *v = lurn_tensor_data(c);
  qsort(v, (size_t)n, sizeof *v, cmp_nan_last);
  int64_t k = 0;
  for (int64_t i = 0; i < n; i++)
    if (i == 0 || !same_value(v[i], v[i - 1])) k++;
  lurn_tensor *u = lurn_tensor_empty(1, &k);
  lurn_tensor *cnt = counts && u ? lurn_tensor_zeros(1, &k) : NULL;
  if (!u || (counts && !cnt)) {
    lurn_tensor_free(c);
    lurn_tensor_free(u);
    return LURN_ENOMEM;
  }
  float *ud = lurn_tensor_data(u), *cd = cnt ? lurn_tensor_data(cnt) : NULL;
  int64_t j = -1;
  for (int64_t i = 0; i < n; i++) {
    if (i == 0 || !same_value(v[i], v[i - 1])) ud[++j] = v[i];
    if (cd) cd[j] += 1;
  }
  lurn_tensor_free(c);
  *values = u;
  if (counts) *counts = cnt;
  return LURN_OK;
}

/* Position of v in sorted (NaN last) classes[0..k), or -1. */
static int64_t find_value(const float *classes, int64_t k, float v) {
  int64_t lo = 0, hi = k;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (cmp_nan_last(&classes[mid], &v) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < k && same_value(classes[lo], v) ? lo : -1;
}

lurn_tensor *lurn_encode(const lurn_tensor *x, const lurn_tensor *classes, int allow_unknown) {
  if (classes->ndim != 1) {
    lurn_fail(LURN_EINVAL, "encode: classes must be a 1-D tensor");
    return NULL;
  }
  lurn_tensor *cx = lurn_tensor_contiguous(x), *cc = lurn_tensor_contiguous(classes);
  lurn_tensor *out = cx && cc ? lurn_tensor_empty(x->ndim, x->shape) : NULL;
  if (!out) {
    lurn_tensor_free(cx);
    lurn_tensor_free(cc);
    return NULL;
  }
  const float *v = lurn_tensor_data(cx), *cls = lurn_tensor_data(cc);
  float *d = lurn_tensor_data(out);
  int64_t n = lurn_tensor_numel(x), k = classes->shape[0];
  for (int64_t i = 0; i < n; i++) {
    int64_t code = find_value(cls, k, v[i]);
    if (code < 0 && !allow_unknown) {
      lurn_fail(LURN_EINVAL, "unknown value %g at position %lld (not seen in fit)", v[i] != v[i] ? NAN : v[i],
                (long long)i + 1);
      lurn_tensor_free(out);
      out = NULL;
      break;
    }
    d[i] = (float)code;
  }
  lurn_tensor_free(cx);
  lurn_tensor_free(cc);
  return out;
}

/* 1 if v is a whole number in 0..k-1 (or -1 when allowed). */
static int valid_code(float v, int64_t k, int allow_unknown) {
  if (v != floorf(v)) return 0;
  return (v >= 0 && v < (float)k) || (allow_unknown && v == -1);
}

static lurn_status code_error(float v, int64_t i, int64_t k) {
  if (v != v) /* a missing label, printed without the sign glibc gives some NaN */
    return lurn_fail(LURN_EINVAL, "label nan at position %lld is missing: not a class number",
                     (long long)i + 1);
  if (v != floorf(v))
    return lurn_fail(LURN_EINVAL, "label %g at position %lld is not a whole number", v, (long long)i + 1);
  return lurn_fail(LURN_EINVAL, "label %g at position %lld is out of range 0..%lld", v, (long long)i + 1,
                   (long long)k - 1);
}

lurn_status lurn_check_codes(const lurn_tensor *codes, int64_t k, int allow_unknown) {
  lurn_tensor *c = lurn_tensor_contiguous(codes);
  if (!c) return LURN_ENOMEM;
  const float *v = lurn_tensor_data(c);
  int64_t n = lurn_tensor_numel(codes);
  lurn_status st = LURN_OK;
  for (int64_t i = 0; i < n && st == LURN_OK; i++)
    if (!valid_code(v[i], k, allow_unknown)) st = code_error(v[i], i, k);
  lurn_tensor_free(c);
  return st;
}

lurn_tensor *lurn_one_hot(const lurn_tensor *codes, int64_t num_classes, int allow_unknown) {
  if (num_classes < 1) {
    lurn_fail(LURN_EINVAL, "one-hot: the number of classes must be at least 1, got %lld",
              (long long)num_classes);
    return NULL;
  }
  if (lurn_check_codes(codes, num_classes, allow_unknown) != LURN_OK) return NULL;
  int64_t shape[2] = {lurn_tensor_numel(codes), num_classes};
  lurn_tensor *c = lurn_tensor_contiguous(codes);
  lurn_tensor *out = c ? lurn_tensor_zeros(2, shape) : NULL;
  if (out) {
    const float *v = lurn_tensor_data(c);
    float *d = lurn_tensor_data(out);
    for (int64_t i = 0; i < shape[0]; i++)
      if (v[i] >= 0) d[i * num_classes + (int64_t)v[i]] = 1;
  }
  lurn_tensor_free(c);
  return out;
}

/* ---- texts ------------------------------------------------------------------------ */

/* Bytewise, shorter first on a common prefix; missing (NULL) after every text. */
static int cmp_str(const lurn_str *a, const lurn_str *b) {
  if (!a->s || !b->s) return (!a->s) - (!b->s);
  size_t m = a->len < b->len ? a->len : b->len;
  int r = m ? memcmp(a->s, b->s, m) : 0;
  if (r) return r;
  return (a->len > b->len) - (a->len < b->len);
}

typedef struct {
  const lurn_str *v;
  int64_t i;
} str_at;

static int cmp_str_at(const void *a, const void *b) {
  const str_at *x = a, *y = b;
  int r = cmp_str(&x->v[x->i], &y->v[y->i]);
  return r ? r : (x->i > y->i) - (x->i < y->i); /* stable: first occurrence first */
}

lurn_status lurn_unique_strings(const lurn_str *v, int64_t n, int64_t *first, int64_t *counts, int64_t *k) {
  *k = 0;
  str_at *order = malloc(sizeof *order * (size_t)(n ? n : 1));
  if (!order) return lurn_fail(LURN_ENOMEM, "unique texts: out of memory");
  for (int64_t i = 0; i < n; i++) order[i] = (str_at){v, i};
  qsort(order, (size_t)n, sizeof *order, cmp_str_at);
  int64_t j = -1;
  for (int64_t i = 0; i < n; i++) {
    if (i == 0 || cmp_str(&v[order[i].i], &v[order[i - 1].i]) != 0) {
      first[++j] = order[i].i;
      if (counts) counts[j] = 0;
    }
    if (counts) counts[j]++;
  }
  *k = j + 1;
  free(order);
  return LURN_OK;
}

/* A text for a message: quoted, cut at 60 bytes. */
static const char *quoted(const lurn_str *s, char *buf, size_t size) {
  if (!s->s) return "(missing)";
  int len = s->len > 60 ? 60 : (int)s->len;
  snprintf(buf, size, "'%.*s'%s", len, s->s, s->len > 60 ? "..." : "");
  return buf;
}

lurn_status lurn_encode_strings(const lurn_str *v, int64_t n, const lurn_str *classes, int64_t k,
                                int allow_unknown, float *codes) {
  for (int64_t i = 0; i < n; i++) {
    int64_t lo = 0, hi = k;
    while (lo < hi) {
      int64_t mid = lo + (hi - lo) / 2;
      if (cmp_str(&classes[mid], &v[i]) < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
    int found = lo < k && cmp_str(&classes[lo], &v[i]) == 0;
    if (!found && !allow_unknown) {
      char buf[80];
      return lurn_fail(LURN_EINVAL, "unknown value %s at position %lld (not seen in fit)",
                       quoted(&v[i], buf, sizeof buf), (long long)i + 1);
    }
    codes[i] = found ? (float)lo : -1.0f;
  }
  return LURN_OK;
}
