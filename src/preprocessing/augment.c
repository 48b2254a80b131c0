/* Image augmentation as Keras 2's ImageDataGenerator does it, on channels-last float
 * images: one image (H, W, C), batches (N, H, W, C).
 *
 * The geometric part is one affine warp per image. Its 3x3 matrix maps each output
 * pixel (row, col) to the input point that is sampled there (scipy.ndimage's
 * affine_transform convention, which Keras uses), built as Keras builds it:
 *     M = R(theta) . T(tx, ty) . S(shear) . Z(zx, zy), about the image centre,
 * in (row, col) coordinates, so tx moves along rows (height) and zx scales rows.
 * Flips are folded into the same warp (they act on the output coordinates), so an
 * image is read once. Then the value operations: channel shift, brightness.
 *
 * Random parameters are drawn serially, image by image, from the caller's generator;
 * only the warps run in parallel, so a seed gives the same batch at any thread count. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lurn.h"

/* Pixels per batch below which the warps stay on one thread. */
#define AUGMENT_PARALLEL_MIN 8192

/* Sampling points closer than this to a whole pixel are taken as that pixel, so that
 * rotations by multiples of 90 degrees and flips copy pixels exactly (cos(pi/2) is
 * 6e-17, not 0, in double precision). */
#define SNAP_EPS 1e-9

/* Elements per batch below which standardize stays on one thread. */
#define STANDARDIZE_PARALLEL_MIN 32768

/* Keras' epsilon in std normalization: x / (std + 1e-6). */
#define STD_EPS 1e-6

static const char *const fill_mode_names[] = {"constant", "nearest", "reflect", "wrap"};

int lurn_fill_mode_from_name(const char *name, lurn_fill_mode *mode) {
  for (int i = 0; i < 4; i++) {
    if (strcmp(name, fill_mode_names[i]) == 0) {
      *mode = (lurn_fill_mode)i;
      return 1;
    }
  }
  lurn_fail(LURN_EINVAL, "unknown fill_mode '%s' (one of constant, nearest, reflect, wrap)", name);
  return 0;
}

const char *lurn_fill_mode_name(lurn_fill_mode mode) {
  return (unsigned)mode < 4 ? fill_mode_names[mode] : "?";
}

/* ---- sampling ---------------------------------------------------------------------- */

static double snap(double v) {
  double k = floor(v + 0.5);
  return fabs(v - k) < SNAP_EPS ? k : v;
}

/* Index i of the sequence extended beyond 0..n-1 by the fill mode (constant reads the
 * edge here: its points outside the image never get this far). */
static int64_t fill_index(int64_t i, int64_t n, lurn_fill_mode mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case LURN_FILL_REFLECT: { /* d c b a | a b c d | d c b a */
      int64_t p = 2 * n, k = i % p;
      if (k < 0) k += p;
      return k < n ? k : p - 1 - k;
    }
    case LURN_FILL_WRAP: { /* a b c d | a b c d | a b c d */
      int64_t k = i % n;
      return k < 0 ? k + n : k;
    }
    default: /* nearest: a a a a | a b c d | d d d d */
      return i < 0 ? 0 : n - 1;
  }
}

/* Where a sampling coordinate v falls along an axis of n pixels: the two neighbours
 * and the weight of the second (order 1), or the nearest pixel in i0 (order 0).
 * Returns 0 when the point is outside the image in constant mode: as scipy's
 * "constant", only points within [0, n-1] are interpolated, the rest get cval. */
static int axis_sample(double v, int64_t n, int order, lurn_fill_mode mode, int64_t *i0, int64_t *i1,
                       float *f) {
  v = snap(v);
  if (mode == LURN_FILL_CONSTANT && !(v >= 0 && v <= (double)(n - 1))) return 0;
  /* Far outside, every mode has repeated itself many times over; keep the cast defined. */
  if (!(v >= -1e12)) v = -1e12; /* NaN too: a zoom so large that inf - inf came up */
  if (v > 1e12) v = 1e12;
  if (order == 0) {
    *i0 = *i1 = fill_index((int64_t)floor(v + 0.5), n, mode);
    *f = 0.0f;
    return 1;
  }
  double fl = floor(v);
  int64_t k = (int64_t)fl;
  *f = (float)(v - fl);
  *i0 = fill_index(k, n, mode);
  *i1 = fill_index(k + 1, n, mode);
  return 1;
}

static int is_identity(const double *m) {
  return m[0] == 1 && m[1] == 0 && m[2] == 0 && m[3] == 0 && m[4] == 1 && m[5] == 0;
}

/* out(r, c, :) = x(M (r, c, 1)) for one image (h, w, ch), both packed. */
static void warp_image(const float *x, float *out, int64_t h, int64_t w, int64_t ch, const double *m,
                       int order, lurn_fill_mode mode, float cval) {
  if (is_identity(m)) {
    memcpy(out, x, sizeof(float) * (size_t)(h * w * ch));
    return;
  }
  for (int64_t r = 0; r < h; r++) {
    double row_r = m[0] * (double)r + m[2], row_c = m[3] * (double)r + m[5];
    for (int64_t c = 0; c < w; c++) {
      float *o = out + (r * w + c) * ch;
      int64_t r0, r1, c0, c1;
      float fr, fc;
      if (!axis_sample(row_r + m[1] * (double)c, h, order, mode, &r0, &r1, &fr) ||
          !axis_sample(row_c + m[4] * (double)c, w, order, mode, &c0, &c1, &fc)) {
        for (int64_t k = 0; k < ch; k++) o[k] = cval;
        continue;
      }
      const float *p00 = x + (r0 * w + c0) * ch, *p01 = x + (r0 * w + c1) * ch;
      const float *p10 = x + (r1 * w + c0) * ch, *p11 = x + (r1 * w + c1) * ch;
      /* Lerps, not a weighted sum: a whole-pixel point (weights 0) copies exactly. */
      for (int64_t k = 0; k < ch; k++) {
        float top = p00[k] + fc * (p01[k] - p00[k]);
        float bottom = p10[k] + fc * (p11[k] - p10[k]);
        o[k] = fr == 0.0f ? top : top + fr * (bottom - top);
      }
    }
  }
}

static void value_range(const float *x, int64_t n, float *lo, float *hi) {
  float a = FLT_MAX, b = -FLT_MAX;
  for (int64_t i = 0; i < n; i++) {
    if (x[i] < a) a = x[i];
    if (x[i] > b) b = x[i];
  }
  *lo = a;
  *hi = b;
}

static float clampf(float v, float lo, float hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/* ---- transforms ---------------------------------------------------------------------- */

void lurn_image_transform_identity(lurn_image_transform *t) {
  memset(t, 0, sizeof *t);
  t->zx = t->zy = 1.0;
  t->brightness = 1.0;
}

static void matmul3(const double *a, const double *b, double *c) {
  double t[9];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      t[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
  memcpy(c, t, sizeof t);
}

void lurn_image_transform_matrix(const lurn_image_transform *t, int64_t h, int64_t w, double *m) {
  const double deg = M_PI / 180.0;
  double ct = cos(t->theta * deg), st = sin(t->theta * deg);
  double sh = t->shear * deg;
  double rot[9] = {ct, -st, 0, st, ct, 0, 0, 0, 1};
  double shift[9] = {1, 0, t->tx, 0, 1, t->ty, 0, 0, 1};
  double shear[9] = {1, -sin(sh), 0, 0, cos(sh), 0, 0, 0, 1};
  double zoom[9] = {t->zx, 0, 0, 0, t->zy, 0, 0, 0, 1};
  /* About the centre of the pixel grid, (h - 1) / 2 and (w - 1) / 2: keras-preprocessing
   * 1.1.2 used h / 2 + 0.5, a pixel off, corrected later (its PR #314, and Keras 2.9+). */
  double orow = ((double)h - 1) / 2, ocol = ((double)w - 1) / 2;
  double offset[9] = {1, 0, orow, 0, 1, ocol, 0, 0, 1};
  double reset[9] = {1, 0, -orow, 0, 1, -ocol, 0, 0, 1};
  double fr = t->flip_vertical ? -1 : 1, fc = t->flip_horizontal ? -1 : 1;
  double flip[9] = {fr, 0, fr < 0 ? (double)h - 1 : 0, 0, fc, fc < 0 ? (double)w - 1 : 0, 0, 0, 1};
  /* Keras multiplies only the parts that are not the identity; multiplying by an exact
   * identity changes nothing, so the full product is the same matrix. */
  matmul3(rot, shift, m);
  matmul3(m, shear, m);
  matmul3(m, zoom, m);
  matmul3(offset, m, m);
  matmul3(m, reset, m);
  /* The flips come after the warp in Keras: out(r, c) = warped(F (r, c)). */
  matmul3(m, flip, m);
}

static lurn_status check_image(const lurn_tensor *x, int ndim, const char *what) {
  char s[LURN_SHAPE_STR_MAX];
  if (x->ndim != ndim) {
    return lurn_fail(
        LURN_EINVAL, "%s: expected %s, got shape %s", what,
        ndim == 3 ? "one image (height, width, channels)" : "images (N, height, width, channels)",
        lurn_shape_str(x, s, sizeof s));
  }
  for (int d = 0; d < ndim; d++) {
    if (x->shape[d] < 1 && !(ndim == 4 && d == 0)) {
      return lurn_fail(LURN_EINVAL, "%s: empty image of shape %s", what, lurn_shape_str(x, s, sizeof s));
    }
  }
  if (!lurn_tensor_is_contiguous(x)) return lurn_fail(LURN_EINVAL, "%s: expected a packed tensor", what);
  return LURN_OK;
}

static lurn_status check_out(const lurn_tensor *x, const lurn_tensor *out, const char *what) {
  char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
  if (!lurn_tensor_same_shape(x, out) || !lurn_tensor_is_contiguous(out)) {
    return lurn_fail(LURN_EINVAL, "%s: the output must be a packed tensor of the input's shape %s, got %s",
                     what, lurn_shape_str(x, a, sizeof a), lurn_shape_str(out, b, sizeof b));
  }
  const float *p = lurn_tensor_data(x), *q = lurn_tensor_data(out);
  int64_t n = lurn_tensor_numel(x);
  if (n > 0 && p < q + n && q < p + n)
    return lurn_fail(LURN_EINVAL, "%s: the output overlaps the input", what);
  return LURN_OK;
}

static lurn_status check_sampling(int order, lurn_fill_mode mode, const char *what) {
  if (order != 0 && order != 1) {
    return lurn_fail(LURN_EINVAL, "%s: interpolation order must be 0 (nearest) or 1 (bilinear), got %d", what,
                     order);
  }
  if ((unsigned)mode > LURN_FILL_WRAP)
    return lurn_fail(LURN_EINVAL, "%s: unknown fill mode %d", what, (int)mode);
  return LURN_OK;
}

static lurn_status check_transform(const lurn_image_transform *t, const char *what) {
  double v[] = {t->theta, t->tx, t->ty, t->shear, t->zx, t->zy, t->channel_shift_intensity, t->brightness};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    if (!isfinite(v[i]))
      return lurn_fail(LURN_EINVAL, "%s: transform parameters must be finite numbers", what);
  }
  return LURN_OK;
}

lurn_status lurn_image_affine(const lurn_tensor *x, const double *m, int order, lurn_fill_mode mode,
                              float cval, lurn_tensor *out) {
  lurn_status st;
  if ((st = check_image(x, 3, "image_affine")) || (st = check_out(x, out, "image_affine")) ||
      (st = check_sampling(order, mode, "image_affine")))
    return st;
  for (int i = 0; i < 6; i++) {
    if (!isfinite(m[i])) return lurn_fail(LURN_EINVAL, "image_affine: the matrix must hold finite numbers");
  }
  warp_image(lurn_tensor_data(x), lurn_tensor_data(out), x->shape[0], x->shape[1], x->shape[2], m, order,
             mode, cval);
  return LURN_OK;
}

/* One image through the whole transform: warp (with the flips), channel shift,
 * brightness. */
static void transform_image(const float *x, float *out, int64_t h, int64_t w, int64_t ch,
                            const lurn_image_transform *t, int order, lurn_fill_mode mode, float cval) {
  double m[9];
  lurn_image_transform_matrix(t, h, w, m);
  warp_image(x, out, h, w, ch, m, order, mode, cval);
  int64_t n = h * w * ch;
  float lo, hi;
  /* Keras' apply_channel_shift: every channel moves by the same intensity, clipped to
   * the image's range. */
  if (t->channel_shift_intensity != 0) {
    value_range(out, n, &lo, &hi);
    float s = (float)t->channel_shift_intensity;
    for (int64_t i = 0; i < n; i++) out[i] = clampf(out[i] + s, lo, hi);
  }
  /* Brightness: Keras goes through an 8-bit PIL image (min-max stretched to 0..255,
   * rounded) and ImageEnhance.Brightness, which multiplies by the factor and clips to
   * 0..255. We multiply in float and clip to the image's own range: the same for the
   * usual 0..255 images, and meaningful for images scaled to 0..1 or standardized. */
  if (t->brightness != 1) {
    value_range(out, n, &lo, &hi);
    float b = (float)t->brightness;
    for (int64_t i = 0; i < n; i++) out[i] = clampf(out[i] * b, lo, hi);
  }
}

lurn_status lurn_image_apply_transform(const lurn_tensor *x, const lurn_image_transform *t, int order,
                                       lurn_fill_mode mode, float cval, lurn_tensor *out) {
  lurn_status st;
  if ((st = check_image(x, 3, "apply_transform")) || (st = check_out(x, out, "apply_transform")) ||
      (st = check_sampling(order, mode, "apply_transform")) || (st = check_transform(t, "apply_transform")))
    return st;
  transform_image(lurn_tensor_data(x), lurn_tensor_data(out), x->shape[0], x->shape[1], x->shape[2], t, order,
                  mode, cval);
  return LURN_OK;
}

lurn_status lurn_image_transform_batch(const lurn_tensor *x, const lurn_image_transform *ts, int order,
                                       lurn_fill_mode mode, float cval, lurn_tensor *out) {
  lurn_status st;
  if ((st = check_image(x, 4, "transform_batch")) || (st = check_out(x, out, "transform_batch")) ||
      (st = check_sampling(order, mode, "transform_batch")))
    return st;
  int64_t n = x->shape[0], h = x->shape[1], w = x->shape[2], ch = x->shape[3];
  for (int64_t i = 0; i < n; i++) {
    if ((st = check_transform(&ts[i], "transform_batch"))) return st;
  }
  const float *src = lurn_tensor_data(x);
  float *dst = lurn_tensor_data(out);
  int64_t size = h * w * ch;
#pragma omp parallel for if (n > 1 && n * h * w >= AUGMENT_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < n; i++)
    transform_image(src + i * size, dst + i * size, h, w, ch, &ts[i], order, mode, cval);
  return LURN_OK;
}

/* ---- random transforms ------------------------------------------------------------------ */

void lurn_augment_config_init(lurn_augment_config *c) {
  memset(c, 0, sizeof *c);
  c->zoom_range[0] = c->zoom_range[1] = 1.0;
  c->brightness_range[0] = c->brightness_range[1] = 1.0;
  c->fill_mode = LURN_FILL_NEAREST;
  c->interpolation_order = 1;
}

static lurn_status check_range(double v, const char *name) {
  if (!(v >= 0) || !isfinite(v))
    return lurn_fail(LURN_EINVAL, "%s must be a finite number >= 0, got %g", name, v);
  return LURN_OK;
}

static lurn_status check_pair(const double *p, const char *name) {
  if (!isfinite(p[0]) || !isfinite(p[1]) || !(p[0] >= 0) || !(p[0] <= p[1])) {
    return lurn_fail(LURN_EINVAL, "%s must be {lower, upper} with 0 <= lower <= upper, got {%g, %g}", name,
                     p[0], p[1]);
  }
  return LURN_OK;
}

lurn_status lurn_augment_check(const lurn_augment_config *c) {
  lurn_status st;
  if ((st = check_range(c->rotation_range, "rotation_range")) ||
      (st = check_range(c->height_shift_range, "height_shift_range")) ||
      (st = check_range(c->width_shift_range, "width_shift_range")) ||
      (st = check_range(c->shear_range, "shear_range")) ||
      (st = check_range(c->channel_shift_range, "channel_shift_range")) ||
      (st = check_pair(c->zoom_range, "zoom_range")) ||
      (st = check_pair(c->brightness_range, "brightness_range")))
    return st;
  for (int k = 0; k < 2; k++) {
    const double *v = k ? c->width_shift_values : c->height_shift_values;
    int nv = k ? c->n_width_shift_values : c->n_height_shift_values;
    if (nv < 0 || (nv > 0 && !v)) return lurn_fail(LURN_EINVAL, "shift values: bad list");
    for (int i = 0; i < nv; i++) {
      if (!isfinite(v[i])) {
        return lurn_fail(LURN_EINVAL, "%s values must be finite numbers",
                         k ? "width_shift_range" : "height_shift_range");
      }
    }
  }
  return check_sampling(c->interpolation_order, c->fill_mode, "augment");
}

static double uniform(lurn_rng *rng, double lo, double hi) {
  return lo + (hi - lo) * lurn_rng_uniform(rng);
}

/* Keras' shift: a list (or an integer n, passed as the list 0..n-1) picks one value
 * and a random sign; otherwise uniform in (-range, range). Values below 1 are
 * fractions of the size, the others pixels. */
static double draw_shift(double range, const double *values, int nvalues, int64_t size, lurn_rng *rng) {
  double v, top;
  if (nvalues > 0) {
    int64_t k = (int64_t)(lurn_rng_uniform(rng) * nvalues);
    v = values[k < nvalues ? k : nvalues - 1];
    v *= lurn_rng_uniform(rng) < 0.5 ? -1.0 : 1.0;
    top = values[0];
    for (int i = 1; i < nvalues; i++) top = values[i] > top ? values[i] : top;
  } else if (range > 0) {
    v = uniform(rng, -range, range);
    top = range;
  } else {
    return 0;
  }
  return top < 1 ? v * (double)size : v;
}

void lurn_augment_draw(const lurn_augment_config *c, int64_t h, int64_t w, lurn_rng *rng,
                       lurn_image_transform *t) {
  lurn_image_transform_identity(t);
  /* Keras' order of draws, each only when its option is on. */
  if (c->rotation_range > 0) t->theta = uniform(rng, -c->rotation_range, c->rotation_range);
  t->tx = draw_shift(c->height_shift_range, c->height_shift_values, c->n_height_shift_values, h, rng);
  t->ty = draw_shift(c->width_shift_range, c->width_shift_values, c->n_width_shift_values, w, rng);
  if (c->shear_range > 0) t->shear = uniform(rng, -c->shear_range, c->shear_range);
  if (c->zoom_range[0] != 1 || c->zoom_range[1] != 1) {
    t->zx = uniform(rng, c->zoom_range[0], c->zoom_range[1]);
    t->zy = uniform(rng, c->zoom_range[0], c->zoom_range[1]);
  }
  if (c->horizontal_flip) t->flip_horizontal = lurn_rng_uniform(rng) < 0.5;
  if (c->vertical_flip) t->flip_vertical = lurn_rng_uniform(rng) < 0.5;
  if (c->channel_shift_range > 0) {
    t->channel_shift_intensity = uniform(rng, -c->channel_shift_range, c->channel_shift_range);
  }
  if (c->brightness) t->brightness = uniform(rng, c->brightness_range[0], c->brightness_range[1]);
}

lurn_status lurn_augment_batch(const lurn_augment_config *c, const lurn_tensor *x, lurn_rng *rng,
                               lurn_tensor *out) {
  lurn_status st;
  if ((st = lurn_augment_check(c)) || (st = check_image(x, 4, "augment")) ||
      (st = check_out(x, out, "augment")))
    return st;
  int64_t n = x->shape[0];
  lurn_image_transform small[64];
  lurn_image_transform *ts = n <= 64 ? small : malloc(sizeof *ts * (size_t)n);
  if (!ts) return lurn_fail(LURN_ENOMEM, "augment: out of memory for %lld transforms", (long long)n);
  for (int64_t i = 0; i < n; i++) lurn_augment_draw(c, x->shape[1], x->shape[2], rng, &ts[i]);
  st = lurn_image_transform_batch(x, ts, c->interpolation_order, c->fill_mode, c->cval, out);
  if (ts != small) free(ts);
  return st;
}

/* ---- standardize ---------------------------------------------------------------------------- */

static void standardize_image(float *x, int64_t pixels, int64_t ch, const lurn_standardize_config *c) {
  int64_t n = pixels * ch;
  if (c->rescale != 0 && c->rescale != 1) {
    for (int64_t i = 0; i < n; i++) x[i] *= c->rescale;
  }
  if (c->samplewise_center || c->samplewise_std_normalization) {
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < n; i++) sum += x[i];
    double mean = sum / (double)n;
    for (int64_t i = 0; i < n; i++) sq += (x[i] - mean) * (x[i] - mean);
    double sd = sqrt(sq / (double)n);
    /* Keras centres first, then divides by the std (which centring does not change). */
    float sub = c->samplewise_center ? (float)mean : 0.0f;
    float div = c->samplewise_std_normalization ? (float)(sd + STD_EPS) : 1.0f;
    for (int64_t i = 0; i < n; i++) x[i] = (x[i] - sub) / div;
  }
  if (c->mean) {
    for (int64_t p = 0; p < pixels; p++)
      for (int64_t k = 0; k < ch; k++) x[p * ch + k] -= c->mean[k];
  }
  if (c->std) {
    for (int64_t p = 0; p < pixels; p++)
      for (int64_t k = 0; k < ch; k++) x[p * ch + k] /= c->std[k] + (float)STD_EPS;
  }
}

lurn_status lurn_image_standardize(lurn_tensor *x, const lurn_standardize_config *c) {
  lurn_status st;
  int batch = x->ndim == 4;
  if ((st = check_image(x, batch ? 4 : 3, "standardize"))) return st;
  if (!isfinite(c->rescale)) return lurn_fail(LURN_EINVAL, "standardize: rescale must be a finite number");
  int64_t n = batch ? x->shape[0] : 1, h = x->shape[batch], w = x->shape[batch + 1], ch = x->shape[batch + 2];
  float *d = lurn_tensor_data(x);
  int64_t size = h * w * ch;
#pragma omp parallel for if (n > 1 && n * size >= STANDARDIZE_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < n; i++) standardize_image(d + i * size, h * w, ch, c);
  return LURN_OK;
}
