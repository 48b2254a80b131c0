/* DepthwiseConv2D: y = activation(depthwise_conv(x, kernel) + bias) over channels-last
 * batches. x (N, H, W, C), depthwise_kernel (KH, KW, C, M) as Keras lays it out (M the
 * depth multiplier), y (N, OH, OW, C*M): input channel c feeds output channels c*M + m
 * only,
 *   z[n, i, j, c*M + m] = bias[c*M + m] + sum_{p, q} x[n, i*sh - top + p*dh, j*sw - left + q*dw, c]
 *                                                    * kernel[p, q, c, m]
 * with taps in the padding reading 0. For each tap (p, q) the kernel is one contiguous
 * row of F = C*M floats indexed like the output channels. With M > 1 the kernels read x
 * through a copy with each channel repeated M times, (N, H, W, F), so that output channel
 * o always pairs with input channel o: every loop below is then one multiply-add per
 * channel, channels innermost, where it vectorises.
 *
 * There is no product worth a GEMM (each output channel is a KH*KW-tap filter over one
 * input channel), so the convolution is direct. Forward runs output rows (image, row) in parallel. Backward
 * makes two passes: the kernel and bias gradients over output rows, into per-thread
 * sums added at the end; then dL/dx over input rows, each gathering the output pixels
 * whose windows cover it, so that no two threads add to one row. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/im2col.h"
#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

typedef struct {
  lurn_depthwise_conv2d_config c;
  lurn_conv_geom g;
  int64_t f;         /* output channels, C * M */
  lurn_tensor *z;    /* pre-activation (N, OH, OW, F), kept for backward when there is an activation */
  lurn_tensor *dz;   /* dL/dz (N, OH, OW, F) when the activation's derivative is applied here */
  lurn_tensor *sums; /* (threads, KH*KW*F + F): per-thread kernel and bias gradient sums */
  lurn_tensor *wide; /* M > 1: x with its channels repeated, (N, H, W, F); in backward, then dL/d(wide) */
} depthwise;

static lurn_status depthwise_build(lurn_layer *l, lurn_rng *rng) {
  depthwise *d = l->impl;
  lurn_status st = lurn_layer_check_image_input(l);
  if (st) return st;
  lurn_conv_geom *g = &d->g;
  *g = (lurn_conv_geom){.h = l->in_shape[0],
                        .w = l->in_shape[1],
                        .c = l->in_shape[2],
                        .kh = d->c.kernel_size[0],
                        .kw = d->c.kernel_size[1],
                        .sh = d->c.strides[0],
                        .sw = d->c.strides[1],
                        .dh = d->c.dilation_rate[0],
                        .dw = d->c.dilation_rate[1]};
  st = lurn_conv_geom_init(g, d->c.padding_same, "DepthwiseConv2D", "kernel");
  if (st) return st;
  d->f = g->c * d->c.depth_multiplier;
  int64_t kshape[4] = {g->kh, g->kw, g->c, d->c.depth_multiplier};
  if (!lurn_layer_add_param(l, "depthwise_kernel", 4, kshape, &d->c.depthwise_initializer, rng, 1))
    return LURN_ENOMEM;
  if (d->c.use_bias && !lurn_layer_add_param(l, "bias", 1, &d->f, &d->c.bias_initializer, rng, 1))
    return LURN_ENOMEM;
  l->out_ndim = 3;
  l->out_shape[0] = g->oh;
  l->out_shape[1] = g->ow;
  l->out_shape[2] = d->f;
  return LURN_OK;
}

/* Tap rows [*p0, *p1) of output row i fall inside the image (rows i*sh - top + p*dh). */
static void tap_range(int64_t first, int64_t k, int64_t dil, int64_t size, int64_t *p0, int64_t *p1) {
  int64_t lo = first < 0 ? (-first + dil - 1) / dil : 0;
  int64_t hi = size - first <= 0 ? 0 : (size - first + dil - 1) / dil;
  *p0 = lo;
  *p1 = hi < k ? hi : k;
  if (*p1 < *p0) *p1 = *p0;
}

/* Output row i of one image (H, W, F): out (OW, F) = bias + the taps of each window. */
static void forward_row(const depthwise *d, const float *img, int64_t i, const float *kernel,
                        const float *bias, float *out) {
  const lurn_conv_geom *g = &d->g;
  const int64_t f = d->f;
  const int64_t top = i * g->sh - g->pad_top;
  int64_t p0, p1;
  tap_range(top, g->kh, g->dh, g->h, &p0, &p1);
  for (int64_t j = 0; j < g->ow; j++) {
    float *restrict acc = out + j * f;
    if (bias)
      memcpy(acc, bias, sizeof(float) * (size_t)f);
    else
      memset(acc, 0, sizeof(float) * (size_t)f);
    const int64_t left = j * g->sw - g->pad_left;
    int64_t q0, q1;
    tap_range(left, g->kw, g->dw, g->w, &q0, &q1);
    for (int64_t p = p0; p < p1; p++)
      for (int64_t q = q0; q < q1; q++) {
        const float *restrict v = img + ((top + p * g->dh) * g->w + left + q * g->dw) * f;
        const float *restrict k = kernel + (p * g->kw + q) * f;
        for (int64_t o = 0; o < f; o++) acc[o] += v[o] * k[o];
      }
  }
}

/* The images the kernels read, (N, H, W, F): x itself when M = 1, else d->wide filled with
 * x's channels each repeated M times. */
static lurn_status widen(depthwise *d, const lurn_tensor *x, const float **out) {
  const int64_t m = d->c.depth_multiplier, c = d->g.c, pixels = x->shape[0] * d->g.h * d->g.w;
  *out = lurn_tensor_data(x);
  if (m == 1) return LURN_OK;
  int64_t shape[4] = {x->shape[0], d->g.h, d->g.w, d->f};
  lurn_status st = lurn_buffer_ensure(&d->wide, 4, shape);
  if (st) return st;
  const float *in = lurn_tensor_data(x);
  float *w = lurn_tensor_data(d->wide);
#pragma omp parallel for if (pixels * d->f > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t px = 0; px < pixels; px++)
    for (int64_t ch = 0; ch < c; ch++)
      for (int64_t u = 0; u < m; u++) w[px * d->f + ch * m + u] = in[px * c + ch];
  *out = w;
  return LURN_OK;
}

static lurn_status depthwise_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  (void)training;
  depthwise *d = l->impl;
  const lurn_conv_geom *g = &d->g;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st) return st;
  const int act = d->c.activation != LURN_ACT_LINEAR;
  float *z = lurn_tensor_data(y);
  if (act) {
    if ((st = lurn_buffer_ensure(&d->z, y->ndim, y->shape))) return st;
    z = lurn_tensor_data(d->z);
  }
  l->preactivation = act ? d->z : y;
  const int64_t n = x->shape[0], image = g->h * g->w * d->f, row = g->ow * d->f;
  const float *in, *kernel = lurn_tensor_data(l->params[0]);
  const float *bias = d->c.use_bias ? lurn_tensor_data(l->params[1]) : NULL;
  if ((st = widen(d, x, &in))) return st;
#pragma omp parallel for if (n * g->oh * row * g->kh * g->kw > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t r = 0; r < n * g->oh; r++)
    forward_row(d, in + r / g->oh * image, r % g->oh, kernel, bias, z + r * row);
  if (act)
    lurn_activation_forward(d->c.activation, d->c.alpha, z, lurn_tensor_data(y), n * g->oh * g->ow, d->f);
  return LURN_OK;
}

/* Output row i of one image (H, W, F): its share of dkernel and dbias added to sums (dz:
 * that row). */
static void param_grads_row(const depthwise *d, const float *img, int64_t i, const float *dz, float *sums) {
  const lurn_conv_geom *g = &d->g;
  const int64_t f = d->f;
  const int64_t top = i * g->sh - g->pad_top;
  float *restrict db = d->c.use_bias ? sums + g->kh * g->kw * f : NULL;
  int64_t p0, p1;
  tap_range(top, g->kh, g->dh, g->h, &p0, &p1);
  for (int64_t j = 0; j < g->ow; j++) {
    const float *restrict gz = dz + j * f;
    if (db)
      for (int64_t o = 0; o < f; o++) db[o] += gz[o];
    const int64_t left = j * g->sw - g->pad_left;
    int64_t q0, q1;
    tap_range(left, g->kw, g->dw, g->w, &q0, &q1);
    for (int64_t p = p0; p < p1; p++)
      for (int64_t q = q0; q < q1; q++) {
        const float *restrict v = img + ((top + p * g->dh) * g->w + left + q * g->dw) * f;
        float *restrict dk = sums + (p * g->kw + q) * f;
        for (int64_t o = 0; o < f; o++) dk[o] += gz[o] * v[o];
      }
  }
}

/* Input row ih of one image: dx (W, F) gathered from the output pixels whose windows read
 * it (dz: the image's). With M > 1, dx is the row of the widened image. */
static void input_grad_row(const depthwise *d, const float *dz, int64_t ih, const float *kernel, float *dx) {
  const lurn_conv_geom *g = &d->g;
  const int64_t f = d->f;
  memset(dx, 0, sizeof(float) * (size_t)(g->w * f));
  for (int64_t p = 0; p < g->kh; p++) {
    const int64_t t = ih + g->pad_top - p * g->dh; /* = i * sh for the output row i that reads ih at tap p */
    if (t < 0 || t % g->sh) continue;
    const int64_t i = t / g->sh;
    if (i >= g->oh) continue;
    for (int64_t j = 0; j < g->ow; j++) {
      const float *restrict gz = dz + (i * g->ow + j) * f;
      const int64_t left = j * g->sw - g->pad_left;
      int64_t q0, q1;
      tap_range(left, g->kw, g->dw, g->w, &q0, &q1);
      for (int64_t q = q0; q < q1; q++) {
        float *restrict v = dx + (left + q * g->dw) * f;
        const float *restrict k = kernel + (p * g->kw + q) * f;
        for (int64_t o = 0; o < f; o++) v[o] += gz[o] * k[o];
      }
    }
  }
}

/* dx row (W, C) = the sums over each channel's M copies in the widened row (W, F). */
static void narrow_row(const float *wide, int64_t w, int64_t c, int64_t m, float *dx) {
  for (int64_t e = 0; e < w * c; e++) {
    float s = 0;
    for (int64_t u = 0; u < m; u++) s += wide[e * m + u];
    dx[e] = s;
  }
}

static lurn_status depthwise_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                      const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  depthwise *d = l->impl;
  const lurn_conv_geom *g = &d->g;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st) return st;
  const int64_t n = x->shape[0], f = d->f, m = d->c.depth_multiplier, image = g->h * g->w * f,
                row = g->ow * f;
  const int64_t ksize = g->kh * g->kw * f, per_thread = ksize + f;
  const float *dz = lurn_tensor_data(dy);
  if (d->c.activation != LURN_ACT_LINEAR && !(fuse & LURN_BACKWARD_DY_IS_DZ)) {
    if (!d->z) return lurn_fail(LURN_EINVAL, "DepthwiseConv2D: backward before forward");
    if ((st = lurn_buffer_ensure(&d->dz, dy->ndim, dy->shape))) return st;
    lurn_activation_backward(d->c.activation, d->c.alpha, lurn_tensor_data(d->z), lurn_tensor_data(y), dz,
                             lurn_tensor_data(d->dz), n * g->oh * g->ow, f);
    dz = lurn_tensor_data(d->dz);
  }
  const int64_t macs = n * g->oh * row * g->kh * g->kw;
  const int threads = macs > LURN_PARALLEL_MIN ? lurn_get_num_threads() : 1;
  int64_t shape[2] = {threads, per_thread};
  if ((st = lurn_buffer_ensure(&d->sums, 2, shape))) return st;
  lurn_tensor_fill(d->sums, 0);
  const float *in, *kernel = lurn_tensor_data(l->params[0]);
  if ((st = widen(d, x, &in))) return st;
  float *sums = lurn_tensor_data(d->sums);
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
  for (int64_t r = 0; r < n * g->oh; r++)
    param_grads_row(d, in + r / g->oh * image, r % g->oh, dz + r * row,
                    sums + omp_get_thread_num() * per_thread);
  /* the gradients are the sums of the threads' sums */
  float *dkernel = lurn_tensor_data(l->grads[0]);
  memcpy(dkernel, sums, sizeof(float) * (size_t)ksize);
  for (int t = 1; t < threads; t++)
    for (int64_t e = 0; e < ksize; e++) dkernel[e] += sums[t * per_thread + e];
  if (d->c.use_bias) {
    float *db = lurn_tensor_data(l->grads[1]);
    memcpy(db, sums + ksize, sizeof(float) * (size_t)f);
    for (int t = 1; t < threads; t++)
      for (int64_t o = 0; o < f; o++) db[o] += sums[t * per_thread + ksize + o];
  }
  if (!dx) return LURN_OK;
  /* with M > 1 each input row is gathered into its row of the widened image, whose work
   * is done, then summed over the copies */
  float *out = lurn_tensor_data(dx), *wide = m > 1 ? lurn_tensor_data(d->wide) : NULL;
  const int64_t out_image = g->oh * row, in_row = g->w * g->c;
#pragma omp parallel for if (threads > 1) schedule(static)
  for (int64_t r = 0; r < n * g->h; r++) {
    const float *g_img = dz + r / g->h * out_image;
    if (!wide) {
      input_grad_row(d, g_img, r % g->h, kernel, out + r * in_row);
      continue;
    }
    input_grad_row(d, g_img, r % g->h, kernel, wide + r * g->w * f);
    narrow_row(wide + r * g->w * f, g->w, g->c, m, out + r * in_row);
  }
  return LURN_OK;
}

static void depthwise_destroy(lurn_layer *l) {
  depthwise *d = l->impl;
  lurn_tensor_free(d->z);
  lurn_tensor_free(d->dz);
  lurn_tensor_free(d->sums);
  lurn_tensor_free(d->wide);
  free(d);
}

static const lurn_layer_ops depthwise_ops = {.type = "DepthwiseConv2D",
                                             .build = depthwise_build,
                                             .forward = depthwise_forward,
                                             .backward = depthwise_backward,
                                             .destroy = depthwise_destroy};

lurn_layer *lurn_depthwise_conv2d_new(const lurn_depthwise_conv2d_config *c) {
  const char *bad = c->depth_multiplier < 1 ? "depth_multiplier" : NULL;
  if (!bad) bad = lurn_conv_window_bad_option(c->kernel_size, c->strides, c->dilation_rate);
  if (bad) {
    lurn_fail(LURN_EINVAL,
              "DepthwiseConv2D: %s must be positive, got kernel_size %lldx%lld, strides %lldx%lld, "
              "dilation_rate %lldx%lld, depth_multiplier %lld",
              bad, (long long)c->kernel_size[0], (long long)c->kernel_size[1], (long long)c->strides[0],
              (long long)c->strides[1], (long long)c->dilation_rate[0], (long long)c->dilation_rate[1],
              (long long)c->depth_multiplier);
    return NULL;
  }
  depthwise *d = calloc(1, sizeof *d);
  if (!d) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  d->c = *c;
  lurn_layer *l = lurn_layer_alloc(&depthwise_ops, d);
  if (!l) {
    free(d);
    return NULL;
  }
  l->activation = c->activation;
  return l;
}
