/* im2col and col2im for channels-last images. A window row of kw taps at dilation 1 is
 * one contiguous run of kw*c floats in both the image and the column matrix, so each
 * kernel row of a window is a single copy (or add); padding is cut off at the ends. */
#include "kernels/im2col.h"

#include "core/checked.h"

#include <string.h>

/* ceil(a / b) for a, b >= 1, without the overflow of (a + b - 1) / b at huge strides */
static int64_t ceil_div(int64_t a, int64_t b) {
  return a / b + (a % b != 0);
}

const char *lurn_conv_window_bad_option(const int64_t kernel_size[2], const int64_t strides[2],
                                        const int64_t dilation_rate[2]) {
  for (int i = 0; i < 2; i++) {
    if (kernel_size[i] < 1) return "kernel_size";
    if (strides[i] < 1) return "strides";
    if (dilation_rate[i] < 1) return "dilation_rate";
  }
  return NULL;
}

lurn_status lurn_conv_geom_init(lurn_conv_geom *g, int same, const char *layer, const char *what) {
  lurn_tensor in = {.ndim = 3, .shape = {g->h, g->w, g->c}};
  char shape[LURN_SHAPE_STR_MAX];
  lurn_shape_str(&in, shape, sizeof shape);
  if (g->h < 1 || g->w < 1 || g->c < 1)
    return lurn_fail(LURN_EINVAL, "%s: input shape %s has a zero size", layer, shape);
  /* a window's span, (k - 1) * d + 1, checked: sizes come from users */
  int64_t span_h, span_w;
  if (!lurn_mul_i64(g->kh - 1, g->dh, &span_h) || !lurn_mul_i64(g->kw - 1, g->dw, &span_w) || span_h == INT64_MAX ||
      span_w == INT64_MAX)
    return lurn_fail(LURN_EINVAL, "%s: %s %lldx%lld with dilation %lldx%lld spans more than 2^63 elements", layer,
                     what, (long long)g->kh, (long long)g->kw, (long long)g->dh, (long long)g->dw);
  span_h += 1, span_w += 1;
  /* a stride past the input leaves one window, as a stride of the input's size does: the
   * same geometry in numbers oneDNN takes */
  if (g->sh > g->h) g->sh = g->h;
  if (g->sw > g->w) g->sw = g->w;
  if (same) {
    g->oh = ceil_div(g->h, g->sh);
    g->ow = ceil_div(g->w, g->sw);
    int64_t pad_h = (g->oh - 1) * g->sh + span_h - g->h, pad_w = (g->ow - 1) * g->sw + span_w - g->w;
    g->pad_top = pad_h > 0 ? pad_h / 2 : 0;
    g->pad_left = pad_w > 0 ? pad_w / 2 : 0;
    return LURN_OK;
  }
  g->pad_top = g->pad_left = 0;
  if (span_h > g->h || span_w > g->w) {
    if (g->dh == 1 && g->dw == 1)
      return lurn_fail(
          LURN_EINVAL,
          "%s: %s %lldx%lld is larger than the input %lldx%lld (input shape %s, padding 'valid')", layer,
          what, (long long)g->kh, (long long)g->kw, (long long)g->h, (long long)g->w, shape);
    return lurn_fail(
        LURN_EINVAL,
        "%s: %s %lldx%lld with dilation %lldx%lld spans %lldx%lld, larger than the input %lldx%lld "
        "(input shape %s, padding 'valid')",
        layer, what, (long long)g->kh, (long long)g->kw, (long long)g->dh, (long long)g->dw,
        (long long)span_h, (long long)span_w, (long long)g->h, (long long)g->w, shape);
  }
  g->oh = (g->h - span_h) / g->sh + 1;
  g->ow = (g->w - span_w) / g->sw + 1;
  return LURN_OK;
}

/* Short runs (images with few channels) are copied and cleared by loops: a libc call
 * per run of a few floats costs more than the copy itself. */
static void copy_run(float *restrict dst, const float *restrict src, int64_t n) {
  if (n >= 32) {
    memcpy(dst, src, sizeof(float) * (size_t)n);
    return;
  }
  for (int64_t k = 0; k < n; k++) dst[k] = src[k];
}

static void zero_run(float *dst, int64_t n) {
  if (n >= 32) {
    memset(dst, 0, sizeof(float) * (size_t)n);
    return;
  }
  for (int64_t k = 0; k < n; k++) dst[k] = 0;
}

/* Taps [lo, hi) of a window row starting at column iw0 fall inside the image (dilation 1). */
static void inside(const lurn_conv_geom *g, int64_t iw0, int64_t *lo, int64_t *hi) {
  *lo = iw0 < 0 ? -iw0 : 0;
  *hi = g->w - iw0 < g->kw ? g->w - iw0 : g->kw;
  if (*hi < *lo) *hi = *lo;
}

/* The window of output (i, j) of one image into dst (kh*kw*c). */
static void window_to_col(const lurn_conv_geom *g, const float *img, int64_t i, int64_t j, float *dst) {
  const int64_t c = g->c, run = g->kw * c;
  const int64_t ih0 = i * g->sh - g->pad_top, iw0 = j * g->sw - g->pad_left;
  int64_t lo, hi;
  inside(g, iw0, &lo, &hi);
  for (int64_t p = 0; p < g->kh; p++, dst += run) {
    int64_t ih = ih0 + p * g->dh;
    if (ih < 0 || ih >= g->h) {
      zero_run(dst, run);
      continue;
    }
    const float *row = img + ih * g->w * c; /* column 0 of image row ih */
    if (g->dw == 1) {
      zero_run(dst, lo * c);
      copy_run(dst + lo * c, row + (iw0 + lo) * c, (hi - lo) * c);
      zero_run(dst + hi * c, (g->kw - hi) * c);
      continue;
    }
    for (int64_t q = 0; q < g->kw; q++) {
      int64_t iw = iw0 + q * g->dw;
      if (iw < 0 || iw >= g->w)
        zero_run(dst + q * c, c);
      else
        copy_run(dst + q * c, row + iw * c, c);
    }
  }
}

static void add_run(float *restrict dst, const float *restrict src, int64_t n) {
  for (int64_t k = 0; k < n; k++) dst[k] += src[k];
}

/* Adds src (kh*kw*c), the column of output (i, j), onto the image. */
static void col_to_window(const lurn_conv_geom *g, const float *src, int64_t i, int64_t j, float *img) {
  const int64_t c = g->c, run = g->kw * c;
  const int64_t ih0 = i * g->sh - g->pad_top, iw0 = j * g->sw - g->pad_left;
  int64_t lo, hi;
  inside(g, iw0, &lo, &hi);
  for (int64_t p = 0; p < g->kh; p++, src += run) {
    int64_t ih = ih0 + p * g->dh;
    if (ih < 0 || ih >= g->h) continue;
    float *row = img + ih * g->w * c;
    if (g->dw == 1) {
      add_run(row + (iw0 + lo) * c, src + lo * c, (hi - lo) * c);
      continue;
    }
    for (int64_t q = 0; q < g->kw; q++) {
      int64_t iw = iw0 + q * g->dw;
      if (iw >= 0 && iw < g->w) add_run(row + iw * c, src + q * c, c);
    }
  }
}

void lurn_im2col(const lurn_conv_geom *g, const float *x, int64_t r0, int64_t rows, float *cols) {
  const int64_t per_image = g->oh * g->ow, k = g->kh * g->kw * g->c, image = g->h * g->w * g->c;
  int64_t n = r0 / per_image, i = r0 % per_image / g->ow, j = r0 % g->ow;
  for (int64_t r = 0; r < rows; r++) {
    window_to_col(g, x + n * image, i, j, cols + r * k);
    if (++j == g->ow) {
      j = 0;
      if (++i == g->oh) i = 0, n++;
    }
  }
}

void lurn_col2im(const lurn_conv_geom *g, const float *cols, int64_t r0, int64_t rows, float *x) {
  const int64_t per_image = g->oh * g->ow, k = g->kh * g->kw * g->c, image = g->h * g->w * g->c;
  int64_t n = r0 / per_image, i = r0 % per_image / g->ow, j = r0 % g->ow;
  for (int64_t r = 0; r < rows; r++) {
    col_to_window(g, cols + r * k, i, j, x + n * image);
    if (++j == g->ow) {
      j = 0;
      if (++i == g->oh) i = 0, n++;
    }
  }
}
