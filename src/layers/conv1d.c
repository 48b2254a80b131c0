/* Conv1D: y = activation(conv(x, kernel) + bias) over sequences, x (N, steps, C), kernel
 * (kernel_size, C, filters) as Keras lays it out, y (N, out_steps, filters).
 *
 * A sequence is an image one row high: the layer runs a Conv2D (conv2d.c, im2col + GEMM
 * or oneDNN) with a (1, kernel_size) kernel on x seen as (N, 1, steps, C), so there is
 * one convolution kernel to make fast. Its parameters are the Conv2D's, seen through
 * views of Keras' 1-D shape: the model trains and saves them as this layer's.
 * "causal" padding is dilation_rate * (kernel_size - 1) zeros on the left, copied into a
 * padded buffer, then a "valid" convolution: y[t] sees x up to t only. */
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

typedef struct {
  lurn_conv1d_config c;
  lurn_layer *conv;          /* the Conv2D doing the work */
  int64_t steps, ch, pad;    /* pad: causal zeros on the left, else 0 */
  lurn_tensor *xpad, *dxpad; /* causal only: x and dx with the zeros */
  lurn_tensor z;             /* the Conv2D's pre-activation seen as (N, out_steps, filters) */
} conv1d;

/* t seen with another shape of the same count (a header on the same storage, not owned). */
static lurn_tensor reshaped(const lurn_tensor *t, int ndim, const int64_t *shape) {
  lurn_tensor v = {.storage = t->storage, .offset = t->offset, .ndim = ndim};
  memcpy(v.shape, shape, sizeof(int64_t) * (size_t)ndim);
  lurn_set_contiguous_strides(&v);
  return v;
}

static lurn_status conv1d_build(lurn_layer *l, lurn_rng *rng) {
  conv1d *d = l->impl;
  lurn_tensor in = {.ndim = l->in_ndim};
  memcpy(in.shape, l->in_shape, sizeof(int64_t) * (size_t)l->in_ndim);
  char s[LURN_SHAPE_STR_MAX];
  lurn_shape_str(&in, s, sizeof s);
  if (l->in_ndim != 2)
    return lurn_fail(LURN_EINVAL, "Conv1D: expects input of shape (steps, channels) per sample, got %s", s);
  d->steps = l->in_shape[0], d->ch = l->in_shape[1];
  if (d->steps < 1 || d->ch < 1) return lurn_fail(LURN_EINVAL, "Conv1D: input shape %s has a zero size", s);
  /* span and the padded length from user sizes: checked, an overflow is an error */
  int64_t span = 0, padded = 0;
  int ok = lurn_mul_i64(d->c.kernel_size - 1, d->c.dilation_rate, &span) && lurn_add_i64(span, 1, &span);
  if (ok && d->c.padding == LURN_CONV1D_CAUSAL) ok = lurn_add_i64(d->steps, span - 1, &padded);
  if (!ok)
    return lurn_fail(LURN_EINVAL,
                     "Conv1D: kernel_size %lld with dilation_rate %lld spans too many steps (input shape %s)",
                     (long long)d->c.kernel_size, (long long)d->c.dilation_rate, s);
  d->pad = d->c.padding == LURN_CONV1D_CAUSAL ? span - 1 : 0;
  if (d->c.padding == LURN_CONV1D_VALID && span > d->steps)
    return lurn_fail(
        LURN_EINVAL,
        "Conv1D: kernel_size %lld with dilation_rate %lld spans %lld steps, more than the input's "
        "%lld (input shape %s, padding 'valid')",
        (long long)d->c.kernel_size, (long long)d->c.dilation_rate, (long long)span, (long long)d->steps, s);
  int64_t image[3] = {1, d->steps + d->pad, d->ch};
  lurn_status st = lurn_layer_build(d->conv, 3, image, rng);
  if (st) return st;
  /* the Conv2D's kernel (1, k, C, F) and bias, seen as Keras' (k, C, F) and (F) */
  int64_t kshape[3] = {d->c.kernel_size, d->ch, d->c.filters};
  static const char *const names[2] = {"kernel", "bias"};
  for (int p = 0; p < d->conv->nparams; p++) {
    int nd = p == 0 ? 3 : 1;
    const int64_t *shape = p == 0 ? kshape : &d->c.filters;
    l->params[p] = lurn_tensor_reshape(d->conv->params[p], nd, shape);
    l->grads[p] = lurn_tensor_reshape(d->conv->grads[p], nd, shape);
    if (!l->params[p] || !l->grads[p]) {
      lurn_tensor_free(l->params[p]);
      lurn_tensor_free(l->grads[p]);
      return LURN_ENOMEM;
    }
    l->param_names[p] = names[p];
    l->trainable[p] = 1;
    l->nparams = p + 1;
  }
  l->out_ndim = 2;
  l->out_shape[0] = d->conv->out_shape[1];
  l->out_shape[1] = d->c.filters;
  return LURN_OK;
}

/* Copies x (N, steps, C) after pad zero steps per sample into xpad (N, pad + steps, C). */
static void pad_left(const conv1d *d, const float *x, float *xpad, int64_t n) {
  const int64_t zeros = d->pad * d->ch, row = d->steps * d->ch;
#pragma omp parallel for if (n * (zeros + row) > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < n; i++) {
    float *dst = xpad + i * (zeros + row);
    memset(dst, 0, sizeof(float) * (size_t)zeros);
    memcpy(dst + zeros, x + i * row, sizeof(float) * (size_t)row);
  }
}

/* The input the Conv2D runs on: x itself, or its causal padding (into xpad). */
static lurn_status conv_input(conv1d *d, const lurn_tensor *x, lurn_tensor *view) {
  const int64_t n = x->shape[0];
  int64_t shape[4] = {n, 1, d->steps + d->pad, d->ch};
  if (!d->pad) {
    *view = reshaped(x, 4, shape);
    return LURN_OK;
  }
  int64_t pshape[3] = {n, d->steps + d->pad, d->ch};
  lurn_status st = lurn_buffer_ensure(&d->xpad, 3, pshape);
  if (st) return st;
  pad_left(d, lurn_tensor_data(x), lurn_tensor_data(d->xpad), n);
  *view = reshaped(d->xpad, 4, shape);
  return LURN_OK;
}

static lurn_status conv1d_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  conv1d *d = l->impl;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st) return st;
  lurn_tensor in;
  if ((st = conv_input(d, x, &in))) return st;
  int64_t oshape[4] = {y->shape[0], 1, l->out_shape[0], l->out_shape[1]};
  lurn_tensor out = reshaped(y, 4, oshape);
  st = d->conv->ops->forward(d->conv, &in, &out, training);
  /* the fused softmax/sigmoid + cross-entropy reads z in y's shape */
  l->preactivation = NULL;
  if (!st && d->conv->preactivation) {
    d->z = reshaped(d->conv->preactivation, y->ndim, y->shape);
    l->preactivation = d->conv->preactivation == &out ? y : &d->z;
  }
  return st;
}

static lurn_status conv1d_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                   const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  conv1d *d = l->impl;
  lurn_status st = lurn_layer_check_batch(l, x);
  if (st) return st;
  const int64_t n = x->shape[0];
  lurn_tensor in;
  if ((st = conv_input(d, x, &in))) return st;
  int64_t oshape[4] = {n, 1, l->out_shape[0], l->out_shape[1]};
  lurn_tensor out = reshaped(y, 4, oshape), dout = reshaped(dy, 4, oshape), din;
  lurn_tensor *dinp = NULL;
  if (dx && !d->pad) {
    din = reshaped(dx, 4, in.shape);
    dinp = &din;
  } else if (dx) {
    int64_t pshape[3] = {n, d->steps + d->pad, d->ch};
    if ((st = lurn_buffer_ensure(&d->dxpad, 3, pshape))) return st;
    din = reshaped(d->dxpad, 4, in.shape);
    dinp = &din;
  }
  st = d->conv->ops->backward(d->conv, &in, &out, &dout, dinp, fuse);
  if (st || !dx || !d->pad) return st;
  /* dx is dxpad without the padding's steps */
  const int64_t zeros = d->pad * d->ch, row = d->steps * d->ch;
  const float *src = lurn_tensor_data(d->dxpad);
  float *dst = lurn_tensor_data(dx);
  for (int64_t i = 0; i < n; i++)
    memcpy(dst + i * row, src + i * (zeros + row) + zeros, sizeof(float) * (size_t)row);
  return LURN_OK;
}

static void conv1d_destroy(lurn_layer *l) {
  conv1d *d = l->impl;
  lurn_layer_free(d->conv);
  lurn_tensor_free(d->xpad);
  lurn_tensor_free(d->dxpad);
  free(d);
}

static const lurn_layer_ops conv1d_ops = {.type = "Conv1D",
                                          .build = conv1d_build,
                                          .forward = conv1d_forward,
                                          .backward = conv1d_backward,
                                          .destroy = conv1d_destroy};

lurn_layer *lurn_conv1d_new(const lurn_conv1d_config *c) {
  const char *bad = c->filters < 1         ? "filters"
                    : c->kernel_size < 1   ? "kernel_size"
                    : c->strides < 1       ? "strides"
                    : c->dilation_rate < 1 ? "dilation_rate"
                                           : NULL;
  if (!bad && (c->padding < LURN_CONV1D_VALID || c->padding > LURN_CONV1D_CAUSAL)) {
    lurn_fail(LURN_EINVAL, "Conv1D: padding must be 'valid', 'same' or 'causal'");
    return NULL;
  }
  if (bad) {
    lurn_fail(
        LURN_EINVAL,
        "Conv1D: %s must be positive, got filters %lld, kernel_size %lld, strides %lld, dilation_rate %lld",
        bad, (long long)c->filters, (long long)c->kernel_size, (long long)c->strides,
        (long long)c->dilation_rate);
    return NULL;
  }
  lurn_conv2d_config c2 = {.filters = c->filters,
                           .kernel_size = {1, c->kernel_size},
                           .strides = {1, c->strides},
                           .dilation_rate = {1, c->dilation_rate},
                           .padding_same = c->padding == LURN_CONV1D_SAME,
                           .activation = c->activation,
                           .alpha = c->alpha,
                           .use_bias = c->use_bias,
                           .kernel_initializer = c->kernel_initializer,
                           .bias_initializer = c->bias_initializer};
  conv1d *d = calloc(1, sizeof *d);
  if (!d) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  d->c = *c;
  if (!(d->conv = lurn_conv2d_new(&c2))) {
    free(d);
    return NULL;
  }
  lurn_layer *l = lurn_layer_alloc(&conv1d_ops, d);
  if (!l) {
    lurn_layer_free(d->conv);
    free(d);
    return NULL;
  }
  l->activation = c->activation;
  return l;
}
