/* MaxPooling2D, AveragePooling2D and their global forms over channels-last batches:
 * x (N, H, W, C) -> y (N, OH, OW, C), or (N, C) for the global ones (the window is the
 * whole image). With "same" padding a window over the border takes the max, or the
 * average, of the elements inside the image only, as TensorFlow does.
 *
 * Output rows (image, oh) run in parallel; each window is walked channels innermost, so
 * every tap is a contiguous run of C floats. Max pooling keeps, per output element, the
 * offset of the input it took, and backward adds dy there. Its row is compiled once per
 * instruction set (src/kernels/isa/max_pool_row.c) and the CPU's copy is called. */
#include <stdlib.h>
#include <string.h>

#include "kernels/pool_rows.h"
#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

typedef struct {
  lurn_pool2d_config c;
  lurn_conv_geom g;
  int32_t *argmax;    /* max: per output element, the offset in its image of the input it took */
  int64_t argmax_cap; /* elements allocated */
  int64_t argmax_n;   /* images of the last forward, -1 before the first */
} pool2d;

static int64_t max64(int64_t a, int64_t b) {
  return a > b ? a : b;
}
static int64_t min64(int64_t a, int64_t b) {
  return a < b ? a : b;
}

static lurn_status pool2d_build(lurn_layer *l, lurn_rng *rng) {
  (void)rng;
  pool2d *p = l->impl;
  const char *type = l->ops->type;
  lurn_status st = lurn_layer_check_image_input(l);
  if (st) return st;
  lurn_conv_geom *g = &p->g;
  *g = (lurn_conv_geom){.h = l->in_shape[0], .w = l->in_shape[1], .c = l->in_shape[2], .dh = 1, .dw = 1};
  if (p->c.global) {
    g->kh = g->h, g->kw = g->w, g->sh = g->sw = 1;
  } else {
    g->kh = p->c.pool_size[0], g->kw = p->c.pool_size[1], g->sh = p->c.strides[0], g->sw = p->c.strides[1];
  }
  st = lurn_conv_geom_init(g, !p->c.global && p->c.padding_same, type, "pool");
  if (st) return st;
  if (g->h * g->w * g->c > INT32_MAX)
    return lurn_fail(LURN_EINVAL, "%s: an image of %lld values is too large", type,
                     (long long)(g->h * g->w * g->c));
  if (p->c.global && !p->c.keepdims) {
    l->out_ndim = 1;
    l->out_shape[0] = g->c;
    return LURN_OK;
  }
  l->out_ndim = 3;
  l->out_shape[0] = g->oh;
  l->out_shape[1] = g->ow;
  l->out_shape[2] = g->c;
  return LURN_OK;
}

/* Output row i of one image: the mean of each window's elements inside the image. */
static void average_row(const lurn_conv_geom *g, const float *img, int64_t i, float *out) {
  const int64_t c = g->c;
  for (int64_t j = 0; j < g->ow; j++, out += c) {
    int64_t h0, h1, w0, w1;
    lurn_pool_clip(g, i, j, &h0, &h1, &w0, &w1);
    memset(out, 0, sizeof(float) * (size_t)c);
    for (int64_t ih = h0; ih < h1; ih++)
      for (int64_t iw = w0; iw < w1; iw++) {
        const float *v = img + (ih * g->w + iw) * c;
        for (int64_t ch = 0; ch < c; ch++) out[ch] += v[ch];
      }
    float scale = 1.0f / (float)((h1 - h0) * (w1 - w0));
    for (int64_t ch = 0; ch < c; ch++) out[ch] *= scale;
  }
}

/* dx of one image += the gradient of output row i (dy: that row). */
static void average_row_backward(const lurn_conv_geom *g, const float *dy, int64_t i, float *dx) {
  const int64_t c = g->c;
  for (int64_t j = 0; j < g->ow; j++, dy += c) {
    int64_t h0, h1, w0, w1;
    lurn_pool_clip(g, i, j, &h0, &h1, &w0, &w1);
    float scale = 1.0f / (float)((h1 - h0) * (w1 - w0));
    for (int64_t ih = h0; ih < h1; ih++)
      for (int64_t iw = w0; iw < w1; iw++) {
        float *v = dx + (ih * g->w + iw) * c;
        for (int64_t ch = 0; ch < c; ch++) v[ch] += dy[ch] * scale;
      }
  }
}

/* relu_y: the row of y, when dx is to be multiplied by relu's gradient there (the
 * factor 0 or 1 as lurn_activation_backward forms it, so the numbers are the same). */
static void max_row_backward(const lurn_conv_geom *g, const float *dy, const int32_t *arg, const float *relu_y,
                             float *dx) {
  if (relu_y)
    for (int64_t e = 0; e < g->ow * g->c; e++) dx[arg[e]] += (relu_y[e] > 0 ? 1.0f : 0.0f) * dy[e];
  else
    for (int64_t e = 0; e < g->ow * g->c; e++) dx[arg[e]] += dy[e];
}

static lurn_status pool2d_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  (void)training;
  pool2d *p = l->impl;
  const lurn_conv_geom *g = &p->g;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st) return st;
  const int64_t n = x->shape[0], rows = n * g->oh, image = g->h * g->w * g->c, row = g->ow * g->c;
  const int max = p->c.kind == LURN_POOL_MAX, keep = !l->forward_only;  /* the offsets, for backward */
  if (max && keep && rows * row > p->argmax_cap) {
    int32_t *a = realloc(p->argmax, sizeof(int32_t) * (size_t)(rows * row));
    if (!a) return lurn_fail(LURN_ENOMEM, "out of memory");
    p->argmax = a, p->argmax_cap = rows * row;
  }
  const float *in = lurn_tensor_data(x);
  float *out = lurn_tensor_data(y);
  int32_t *arg = keep ? p->argmax : NULL;
  lurn_max_pool_row_fn *max_row = LURN_ISA_PICK(lurn_max_pool_row);
#pragma omp parallel for if ((double)n * g->oh * row * g->kh * g->kw > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const float *img = in + r / g->oh * image;
    if (max)
      max_row(g, img, r % g->oh, out + r * row, arg ? arg + r * row : NULL);
    else
      average_row(g, img, r % g->oh, out + r * row);
  }
  p->argmax_n = keep ? n : -1;
  return LURN_OK;
}

static lurn_status pool2d_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                   const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  pool2d *p = l->impl;
  const lurn_conv_geom *g = &p->g;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st || !dx) return st;
  const int64_t n = x->shape[0], image = g->h * g->w * g->c, row = g->ow * g->c;
  const int max = p->c.kind == LURN_POOL_MAX;
  if (max && p->argmax_n != n)
    return lurn_fail(LURN_EINVAL, "%s: backward needs the forward of the same batch first", l->ops->type);
  const float *grad = lurn_tensor_data(dy), *relu_y = max && (fuse & LURN_BACKWARD_MASK_DX_RELU) ? lurn_tensor_data(y) : NULL;
  float *out = lurn_tensor_data(dx);
  /* Windows that do not overlap write disjoint rows of dx: every output row can run on
   * its own thread, and clears its own band of dx rows (stride rows; the last band also
   * the rows below every window) just before it writes them, while they are in cache; a
   * separate clearing pass over dx was 40% of the seeds' CNN's pooling backward. Max
   * pooling then writes each input of its windows once, dy or 0 (the CPU's copy of
   * lurn_max_pool_row_backward), instead of scattering dy onto the cleared band, and
   * windows that tile the image (2x2, stride 2 over 26x26) leave nothing to clear. The
   * seeds' CNN, 1 thread (perf, 600 batches): max pooling's backward and its clearing went
   * from 9% of the samples to 6%. Overlapping windows share rows, so each thread takes whole
   * images and scatters. */
  const int disjoint = g->kh <= g->sh && g->kw <= g->sw;
  const int tiled = max && disjoint && g->kh == g->sh && g->kw == g->sw && g->pad_top == 0 && g->pad_left == 0 &&
                    g->oh * g->sh == g->h && g->ow * g->sw == g->w;
  lurn_max_pool_row_backward_fn *max_row_write = LURN_ISA_PICK(lurn_max_pool_row_backward);
  const int64_t tasks = disjoint ? n * g->oh : n, per_task = disjoint ? 1 : g->oh;
  const int64_t row_len = g->w * g->c;
#pragma omp parallel for if ((double)n * g->oh * row * g->kh * g->kw > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t t = 0; t < tasks; t++) {
    float *img = out + t / (disjoint ? g->oh : 1) * image;
    if (disjoint) {
      int64_t i = t % g->oh, top = i * g->sh - g->pad_top;
      int64_t h0 = i == 0 ? 0 : max64(top, 0), h1 = i == g->oh - 1 ? g->h : min64(top + g->sh, g->h);
      if (h1 > h0 && !tiled) memset(img + h0 * row_len, 0, sizeof(float) * (size_t)((h1 - h0) * row_len));
    } else {
      memset(img, 0, sizeof(float) * (size_t)image);
    }
    for (int64_t r = t * per_task; r < (t + 1) * per_task; r++) {
      if (max && disjoint)
        max_row_write(g, grad + r * row, p->argmax + r * row, relu_y ? relu_y + r * row : NULL, r % g->oh, img);
      else if (max)
        max_row_backward(g, grad + r * row, p->argmax + r * row, relu_y ? relu_y + r * row : NULL, img);
      else
        average_row_backward(g, grad + r * row, r % g->oh, img);
    }
  }
  return LURN_OK;
}

static void pool2d_destroy(lurn_layer *l) {
  pool2d *p = l->impl;
  free(p->argmax);
  free(p);
}

/* Max pooling can apply the relu gradient of the layer below (LURN_BACKWARD_MASK_DX_RELU):
 * y > 0 exactly where the picked input is, so dx is masked while it is scattered. */
static unsigned pool2d_fuses(const lurn_layer *l) {
  const pool2d *p = l->impl;
  return p->c.kind == LURN_POOL_MAX ? LURN_BACKWARD_MASK_DX_RELU : 0;
}

#define POOL2D_OPS(name, type_name)                                \
  static const lurn_layer_ops name = {.type = type_name,           \
                                      .build = pool2d_build,       \
                                      .forward = pool2d_forward,   \
                                      .backward = pool2d_backward, \
                                      .destroy = pool2d_destroy,   \
                                      .fuses = pool2d_fuses}
POOL2D_OPS(max_ops, "MaxPooling2D");
POOL2D_OPS(average_ops, "AveragePooling2D");
POOL2D_OPS(global_max_ops, "GlobalMaxPooling2D");
POOL2D_OPS(global_average_ops, "GlobalAveragePooling2D");

lurn_layer *lurn_pool2d_new(const lurn_pool2d_config *c) {
  int max = c->kind == LURN_POOL_MAX;
  const lurn_layer_ops *ops =
      c->global ? (max ? &global_max_ops : &global_average_ops) : (max ? &max_ops : &average_ops);
  for (int i = 0; i < 2 && !c->global; i++)
    if (c->pool_size[i] < 1 || c->strides[i] < 1) {
      lurn_fail(LURN_EINVAL,
                "%s: pool_size and strides must be positive, got pool_size %lldx%lld, strides %lldx%lld",
                ops->type, (long long)c->pool_size[0], (long long)c->pool_size[1], (long long)c->strides[0],
                (long long)c->strides[1]);
      return NULL;
    }
  pool2d *p = calloc(1, sizeof *p);
  if (!p) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  p->c = *c;
  p->argmax_n = -1;
  lurn_layer *l = lurn_layer_alloc(ops, p);
  if (!l) free(p);
  return l;
}
