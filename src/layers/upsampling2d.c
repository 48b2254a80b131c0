/* UpSampling2D: x (N, H, W, C) -> y (N, H * sh, W * sw, C).
 *
 * "nearest" repeats each pixel sh x sw times; backward sums each block of dy.
 * "bilinear" is tf.image.resize's (TensorFlow's ResizeBilinear with half_pixel_centers,
 * what Keras 2's UpSampling2D calls): output row i reads source row
 * s = (i + 0.5) * (H / OH) - 0.5, in float as TensorFlow computes it, between rows
 * max(floor(s), 0) and min(ceil(s), H - 1) with weight s - floor(s) on the second; the
 * same along the width. The rows and weights are tabled at build time.
 *
 * Forward runs output rows (image, row) in parallel. Backward gathers instead of
 * scattering: each input row collects the output rows that read it (a contiguous range,
 * tabled too), so input rows run in parallel without two threads adding to one row. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

typedef struct {
  int64_t lo, hi; /* source rows (or columns) read */
  float lerp;     /* weight of hi */
} tap;

typedef struct {
  lurn_upsampling2d_config c;
  int64_t h, w, ch, oh, ow;
  tap *rows, *cols;      /* bilinear: (oh) and (ow) */
  int64_t *first, *last; /* bilinear: output rows [first[r], last[r]) read input row r */
} upsampling2d;

/* TensorFlow's interpolation weights along one axis (compute_interpolation_weights with
 * HalfPixelScaler). */
static void weights(int64_t in, int64_t out, tap *t) {
  const float scale = (float)in / (float)out;
  for (int64_t i = 0; i < out; i++) {
    const float s = ((float)i + 0.5f) * scale - 0.5f, f = floorf(s);
    t[i].lo = f < 0 ? 0 : (int64_t)f;
    const int64_t up = (int64_t)ceilf(s);
    t[i].hi = up < in - 1 ? up : in - 1;
    t[i].lerp = s - f;
  }
}

static lurn_status upsampling2d_build(lurn_layer *l, lurn_rng *rng) {
  (void)rng;
  upsampling2d *u = l->impl;
  lurn_status st = lurn_layer_check_image_input(l);
  if (st) return st;
  lurn_tensor in = {.ndim = l->in_ndim};
  memcpy(in.shape, l->in_shape, sizeof(int64_t) * l->in_ndim);
  char s[LURN_SHAPE_STR_MAX];
  lurn_shape_str(&in, s, sizeof s);
  u->h = l->in_shape[0], u->w = l->in_shape[1], u->ch = l->in_shape[2];
  if (u->h < 1 || u->w < 1 || u->ch < 1)
    return lurn_fail(LURN_EINVAL, "UpSampling2D: input shape %s has a zero size", s);
  u->oh = u->h * u->c.size[0];
  u->ow = u->w * u->c.size[1];
  if (u->c.interpolation == LURN_INTERP_BILINEAR) {
    free(u->rows), free(u->first); /* a build that failed before may have left them */
    u->rows = malloc(sizeof(tap) * (size_t)(u->oh + u->ow));
    u->first = malloc(sizeof(int64_t) * (size_t)(2 * u->h));
    if (!u->rows || !u->first) return lurn_fail(LURN_ENOMEM, "out of memory");
    u->cols = u->rows + u->oh;
    u->last = u->first + u->h;
    weights(u->h, u->oh, u->rows);
    weights(u->w, u->ow, u->cols);
    /* lo and hi never decrease with i: the rows reading r are those with lo <= r <= hi */
    for (int64_t r = 0, a = 0, b = 0; r < u->h; r++) {
      while (a < u->oh && u->rows[a].hi < r) a++;
      while (b < u->oh && u->rows[b].lo <= r) b++;
      u->first[r] = a, u->last[r] = b;
    }
  }
  l->out_ndim = 3;
  l->out_shape[0] = u->oh;
  l->out_shape[1] = u->ow;
  l->out_shape[2] = u->ch;
  return LURN_OK;
}

/* Output row i of one image, nearest: pixel j is source pixel j / sw of row i / sh. */
static void nearest_row(const upsampling2d *u, const float *img, int64_t i, float *out) {
  const int64_t c = u->ch;
  const float *src = img + i / u->c.size[0] * u->w * c;
  for (int64_t j = 0; j < u->ow; j++, out += c) {
    const float *v = src + j / u->c.size[1] * c;
    for (int64_t k = 0; k < c; k++) out[k] = v[k];
  }
}

/* Output row i of one image, bilinear, with TensorFlow's order of operations. */
static void bilinear_row(const upsampling2d *u, const float *img, int64_t i, float *out) {
  const int64_t c = u->ch;
  const tap y = u->rows[i];
  const float *top = img + y.lo * u->w * c, *bottom = img + y.hi * u->w * c;
  for (int64_t j = 0; j < u->ow; j++, out += c) {
    const tap x = u->cols[j];
    const float *tl = top + x.lo * c, *tr = top + x.hi * c, *bl = bottom + x.lo * c, *br = bottom + x.hi * c;
    for (int64_t k = 0; k < c; k++) {
      float t = tl[k] + (tr[k] - tl[k]) * x.lerp, b = bl[k] + (br[k] - bl[k]) * x.lerp;
      out[k] = t + (b - t) * y.lerp;
    }
  }
}

static lurn_status upsampling2d_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  (void)training;
  const upsampling2d *u = l->impl;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st) return st;
  const int64_t n = x->shape[0], image = u->h * u->w * u->ch, row = u->ow * u->ch;
  const int bilinear = u->c.interpolation == LURN_INTERP_BILINEAR;
  const float *in = lurn_tensor_data(x);
  float *out = lurn_tensor_data(y);
#pragma omp parallel for if (n * u->oh * row > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t r = 0; r < n * u->oh; r++) {
    const float *img = in + r / u->oh * image;
    if (bilinear)
      bilinear_row(u, img, r % u->oh, out + r * row);
    else
      nearest_row(u, img, r % u->oh, out + r * row);
  }
  return LURN_OK;
}

/* Input row ih of one image, nearest: the sum of its sh x sw block of dy (dy: the image's). */
static void nearest_row_backward(const upsampling2d *u, const float *dy, int64_t ih, float *dx) {
  const int64_t c = u->ch, sh = u->c.size[0], sw = u->c.size[1], row = u->ow * c;
  memset(dx, 0, sizeof(float) * (size_t)(u->w * c));
  for (int64_t a = 0; a < sh; a++) {
    const float *g = dy + (ih * sh + a) * row;
    for (int64_t j = 0; j < u->ow; j++, g += c) {
      float *d = dx + j / sw * c;
      for (int64_t k = 0; k < c; k++) d[k] += g[k];
    }
  }
}

/* Input row ih of one image, bilinear: each output row that reads it adds dy times its
 * weight on this row, spread over the two source columns of each output pixel. */
static void bilinear_row_backward(const upsampling2d *u, const float *dy, int64_t ih, float *dx) {
  const int64_t c = u->ch, row = u->ow * c;
  memset(dx, 0, sizeof(float) * (size_t)(u->w * c));
  for (int64_t i = u->first[ih]; i < u->last[ih]; i++) {
    const tap y = u->rows[i];
    const float wy = (y.lo == ih ? 1.0f - y.lerp : 0.0f) + (y.hi == ih ? y.lerp : 0.0f);
    const float *g = dy + i * row;
    for (int64_t j = 0; j < u->ow; j++, g += c) {
      const tap x = u->cols[j];
      const float wl = wy * (1.0f - x.lerp), wr = wy * x.lerp;
      float *l = dx + x.lo * c, *r = dx + x.hi * c;
      for (int64_t k = 0; k < c; k++) l[k] += g[k] * wl;
      for (int64_t k = 0; k < c; k++) r[k] += g[k] * wr;
    }
  }
}

static lurn_status upsampling2d_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                         const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  (void)y, (void)fuse;
  const upsampling2d *u = l->impl;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st || !dx) return st;
  const int64_t n = x->shape[0], in_row = u->w * u->ch, out_image = u->oh * u->ow * u->ch;
  const int bilinear = u->c.interpolation == LURN_INTERP_BILINEAR;
  const float *grad = lurn_tensor_data(dy);
  float *out = lurn_tensor_data(dx);
#pragma omp parallel for if (n * out_image > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t r = 0; r < n * u->h; r++) {
    const float *g = grad + r / u->h * out_image;
    if (bilinear)
      bilinear_row_backward(u, g, r % u->h, out + r * in_row);
    else
      nearest_row_backward(u, g, r % u->h, out + r * in_row);
  }
  return LURN_OK;
}

static void upsampling2d_destroy(lurn_layer *l) {
  upsampling2d *u = l->impl;
  free(u->rows);
  free(u->first);
  free(u);
}

static const lurn_layer_ops upsampling2d_ops = {.type = "UpSampling2D",
                                                .build = upsampling2d_build,
                                                .forward = upsampling2d_forward,
                                                .backward = upsampling2d_backward,
                                                .destroy = upsampling2d_destroy};

lurn_layer *lurn_upsampling2d_new(const lurn_upsampling2d_config *c) {
  if (c->size[0] < 1 || c->size[1] < 1) {
    lurn_fail(LURN_EINVAL, "UpSampling2D: size must be positive, got %lldx%lld", (long long)c->size[0],
              (long long)c->size[1]);
    return NULL;
  }
  if (c->interpolation != LURN_INTERP_NEAREST && c->interpolation != LURN_INTERP_BILINEAR) {
    lurn_fail(LURN_EINVAL, "UpSampling2D: interpolation must be nearest or bilinear");
    return NULL;
  }
  upsampling2d *u = calloc(1, sizeof *u);
  if (!u) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  u->c = *c;
  lurn_layer *l = lurn_layer_alloc(&upsampling2d_ops, u);
  if (!l) free(u);
  return l;
}
