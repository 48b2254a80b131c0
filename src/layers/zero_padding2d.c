/* ZeroPadding2D: x (N, H, W, C) -> y (N, top + H + bottom, left + W + right, C), each
 * image copied into the middle of a frame of zeros. Backward crops dy back to the image.
 *
 * Output rows (image, row) run in parallel; a row is a zero run, the image row (one
 * contiguous W*C copy) and another zero run. */
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

typedef struct {
  lurn_zero_padding2d_config c;
  int64_t h, w, ch, oh, ow;
} zero_padding2d;

static lurn_status zero_padding2d_build(lurn_layer *l, lurn_rng *rng) {
  (void)rng;
  zero_padding2d *p = l->impl;
  lurn_status st = lurn_layer_check_image_input(l);
  if (st) return st;
  lurn_tensor in = {.ndim = l->in_ndim};
  memcpy(in.shape, l->in_shape, sizeof(int64_t) * l->in_ndim);
  char s[LURN_SHAPE_STR_MAX];
  lurn_shape_str(&in, s, sizeof s);
  p->h = l->in_shape[0], p->w = l->in_shape[1], p->ch = l->in_shape[2];
  if (p->h < 1 || p->w < 1 || p->ch < 1)
    return lurn_fail(LURN_EINVAL, "ZeroPadding2D: input shape %s has a zero size", s);
  p->oh = p->c.top + p->h + p->c.bottom;
  p->ow = p->c.left + p->w + p->c.right;
  l->out_ndim = 3;
  l->out_shape[0] = p->oh;
  l->out_shape[1] = p->ow;
  l->out_shape[2] = p->ch;
  return LURN_OK;
}

static lurn_status zero_padding2d_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  (void)training;
  const zero_padding2d *p = l->impl;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st) return st;
  const int64_t n = x->shape[0], c = p->ch, out_row = p->ow * c, in_row = p->w * c;
  const int64_t left = p->c.left * c, right = p->c.right * c;
  const float *in = lurn_tensor_data(x);
  float *out = lurn_tensor_data(y);
#pragma omp parallel for if (n * p->oh * out_row > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t r = 0; r < n * p->oh; r++) {
    float *dst = out + r * out_row;
    int64_t i = r % p->oh - p->c.top; /* image row, outside [0, h) in the frame */
    if (i < 0 || i >= p->h) {
      memset(dst, 0, sizeof(float) * (size_t)out_row);
      continue;
    }
    memset(dst, 0, sizeof(float) * (size_t)left);
    memcpy(dst + left, in + (r / p->oh * p->h + i) * in_row, sizeof(float) * (size_t)in_row);
    memset(dst + left + in_row, 0, sizeof(float) * (size_t)right);
  }
  return LURN_OK;
}

static lurn_status zero_padding2d_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                           const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  (void)y, (void)fuse;
  const zero_padding2d *p = l->impl;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st || !dx) return st;
  const int64_t n = x->shape[0], c = p->ch, out_row = p->ow * c, in_row = p->w * c;
  const float *grad = lurn_tensor_data(dy);
  float *out = lurn_tensor_data(dx);
#pragma omp parallel for if (n * p->h * in_row > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t r = 0; r < n * p->h; r++) {
    int64_t src = (r / p->h * p->oh + r % p->h + p->c.top) * out_row + p->c.left * c;
    memcpy(out + r * in_row, grad + src, sizeof(float) * (size_t)in_row);
  }
  return LURN_OK;
}

static void zero_padding2d_destroy(lurn_layer *l) {
  free(l->impl);
}

static const lurn_layer_ops zero_padding2d_ops = {.type = "ZeroPadding2D",
                                                  .build = zero_padding2d_build,
                                                  .forward = zero_padding2d_forward,
                                                  .backward = zero_padding2d_backward,
                                                  .destroy = zero_padding2d_destroy};

lurn_layer *lurn_zero_padding2d_new(const lurn_zero_padding2d_config *c) {
  if (c->top < 0 || c->bottom < 0 || c->left < 0 || c->right < 0) {
    lurn_fail(
        LURN_EINVAL,
        "ZeroPadding2D: padding must not be negative, got ((top %lld, bottom %lld), (left %lld, right %lld))",
        (long long)c->top, (long long)c->bottom, (long long)c->left, (long long)c->right);
    return NULL;
  }
  zero_padding2d *p = calloc(1, sizeof *p);
  if (!p) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  p->c = *c;
  lurn_layer *l = lurn_layer_alloc(&zero_padding2d_ops, p);
  if (!l) free(p);
  return l;
}
