/* Printing tensors as numpy and Torch do: aligned columns, the middle of long
 * dimensions elided, shape and dtype at the end. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lurn.h"

#define EDGE_ITEMS 3
#define SUMMARY_THRESHOLD 1000
#define PREFIX "tensor("

typedef struct {
  char *buf;
  size_t len, cap;
  int failed;
} sbuf;

static void put(sbuf *s, const char *fmt, ...) {
  if (s->failed) return;
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int n = vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
      s->failed = 1;
      return;
    }
    if ((size_t)n < s->cap - s->len) {
      s->len += (size_t)n;
      return;
    }
    size_t cap = s->cap * 2 + (size_t)n;
    char *nb = realloc(s->buf, cap);
    if (!nb) {
      s->failed = 1;
      return;
    }
    s->buf = nb;
    s->cap = cap;
  }
}

typedef struct {
  const lurn_tensor *t;
  int summarize;
  char fmt[16];
  int width;
} printer;

static int shown(const printer *p, int dim, int64_t i) {
  return !p->summarize || p->t->shape[dim] <= 2 * EDGE_ITEMS || i < EDGE_ITEMS ||
         i >= p->t->shape[dim] - EDGE_ITEMS;
}

static int format_value(const printer *p, float v, char *out, size_t size) {
  if (isnan(v)) return snprintf(out, size, "nan");
  if (isinf(v)) return snprintf(out, size, v > 0 ? "inf" : "-inf");
  return snprintf(out, size, p->fmt, (double)v);
}

/* Visits every displayed element (to choose the format before printing). */
static void scan(const printer *p, int dim, const float *x, double *maxabs, double *minabs, int *integral,
                 int *negative) {
  for (int64_t i = 0; i < p->t->shape[dim]; i++) {
    if (!shown(p, dim, i)) continue;
    const float *xi = x + i * p->t->stride[dim];
    if (dim + 1 < p->t->ndim) {
      scan(p, dim + 1, xi, maxabs, minabs, integral, negative);
      continue;
    }
    float v = *xi;
    if (!isfinite(v)) continue;
    double a = fabs(v);
    if (a > *maxabs) *maxabs = a;
    if (a > 0 && a < *minabs) *minabs = a;
    if (v != floorf(v)) *integral = 0;
    if (v < 0) *negative = 1;
  }
}

static void emit(const printer *p, sbuf *s, int dim, const float *x, int indent) {
  put(s, "[");
  int64_t n = p->t->shape[dim];
  for (int64_t i = 0; i < n; i++) {
    if (!shown(p, dim, i)) {
      if (i == EDGE_ITEMS) {
        if (dim + 1 == p->t->ndim) put(s, "..., ");
        else put(s, "...,\n%*s", indent + 1, "");
      }
      continue;
    }
    const float *xi = x + i * p->t->stride[dim];
    if (dim + 1 < p->t->ndim) {
      emit(p, s, dim + 1, xi, indent + 1);
    } else {
      char v[64];
      format_value(p, *xi, v, sizeof v);
      put(s, "%*s", p->width, v);
    }
    if (i + 1 < n) {
      if (dim + 1 == p->t->ndim) put(s, ", ");
      else {
        put(s, ",");
        for (int k = 0; k < p->t->ndim - dim - 1; k++) put(s, "\n");
        put(s, "%*s", indent + 1, "");
      }
    }
  }
  put(s, "]");
}

char *lurn_tensor_format(const lurn_tensor *t) {
  printer p = {.t = t, .summarize = lurn_tensor_numel(t) > SUMMARY_THRESHOLD};
  double maxabs = 0, minabs = INFINITY;
  int integral = 1, negative = 0;
  const float *x = lurn_tensor_data(t);
  if (lurn_tensor_numel(t) > 0) scan(&p, 0, x, &maxabs, &minabs, &integral, &negative);
  if (integral && maxabs < 1e8) snprintf(p.fmt, sizeof p.fmt, "%%.0f.");
  else if (maxabs >= 1e8 || minabs < 1e-4) snprintf(p.fmt, sizeof p.fmt, "%%.4e");
  else snprintf(p.fmt, sizeof p.fmt, "%%.4f");
  p.width = 0;
  /* The widest text is that of the largest or smallest magnitude, signed if any value is negative. */
  {
    char v[64];
    double small = minabs < INFINITY ? minabs : 0, sign = negative ? -1 : 1;
    double probes[] = {maxabs, sign * maxabs, small, sign * small};
    for (int i = 0; i < 4; i++) {
      int w = format_value(&p, (float)probes[i], v, sizeof v);
      if (w > p.width) p.width = w;
    }
  }
  sbuf s = {malloc(256), 0, 256, 0};
  if (!s.buf) return NULL;
  s.buf[0] = '\0';
  put(&s, PREFIX);
  if (lurn_tensor_numel(t) == 0) {
    put(&s, "[]");
  } else {
    emit(&p, &s, 0, x, (int)strlen(PREFIX));
  }
  char shape[LURN_SHAPE_STR_MAX];
  put(&s, ", shape=%s, dtype=float32)", lurn_shape_str(t, shape, sizeof shape));
  if (s.failed) {
    free(s.buf);
    return NULL;
  }
  return s.buf;
}
