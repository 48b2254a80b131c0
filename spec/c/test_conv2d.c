/* Conv2D (im2col + GEMM, blocked, threaded) and pooling against naive direct loops in
 * double precision on random data: outputs, kernel/bias gradients and dx, over strides,
 * "same" padding, dilation, 1x1 kernels, blocks smaller than an image, and 1 or 2
 * threads; dx computed in parts on oneDNN. Also the errors a C caller meets. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lurn.h"
#include "lurn/layer_impl.h"

typedef struct {
  int64_t n, h, w, c, f, kh, kw, sh, sw, dh, dw;
  int same;
} conv_case;

/* TensorFlow's output size and leading padding for one dimension. */
static void dim_geometry(int64_t in, int64_t k, int64_t s, int64_t d, int same, int64_t *out, int64_t *pad) {
  int64_t span = (k - 1) * d + 1;
  if (!same) {
    *out = (in - span) / s + 1;
    *pad = 0;
    return;
  }
  *out = (in + s - 1) / s;
  int64_t total = (*out - 1) * s + span - in;
  *pad = total > 0 ? total / 2 : 0;
}

static lurn_tensor *random_tensor(int ndim, const int64_t *shape, lurn_rng *rng) {
  lurn_tensor *t = lurn_tensor_empty(ndim, shape);
  lurn_tensor_randn(t, rng, 0, 1);
  return t;
}

/* max |a - b| / max(1, max |b|) */
static double rel_error(const float *a, const double *b, int64_t n) {
  double err = 0, scale = 1;
  for (int64_t i = 0; i < n; i++) {
    double e = fabs((double)a[i] - b[i]);
    if (e > err) err = e;
    if (fabs(b[i]) > scale) scale = fabs(b[i]);
  }
  return err / scale;
}

static void check_conv(const conv_case *k, int threads) {
  lurn_rng rng;
  lurn_rng_seed(&rng, 42);
  lurn_set_num_threads(threads);
  lurn_conv2d_config cfg = {.filters = k->f,
                            .kernel_size = {k->kh, k->kw},
                            .strides = {k->sh, k->sw},
                            .dilation_rate = {k->dh, k->dw},
                            .padding_same = k->same,
                            .activation = LURN_ACT_LINEAR,
                            .use_bias = 1,
                            .kernel_initializer = {.kind = LURN_INIT_GLOROT_UNIFORM},
                            .bias_initializer = {.kind = LURN_INIT_RANDOM_NORMAL, .b = 1}};
  lurn_layer *l = lurn_conv2d_new(&cfg);
  int64_t in_shape[3] = {k->h, k->w, k->c};
  CHECK(l && lurn_layer_build(l, 3, in_shape, &rng) == LURN_OK);
  int64_t oh, ow, pt, pl;
  dim_geometry(k->h, k->kh, k->sh, k->dh, k->same, &oh, &pt);
  dim_geometry(k->w, k->kw, k->sw, k->dw, k->same, &ow, &pl);
  CHECK(l->out_shape[0] == oh && l->out_shape[1] == ow && l->out_shape[2] == k->f);
  int64_t xs[4] = {k->n, k->h, k->w, k->c}, ys[4] = {k->n, oh, ow, k->f};
  lurn_tensor *x = random_tensor(4, xs, &rng), *dy = random_tensor(4, ys, &rng);
  lurn_tensor *y = lurn_tensor_empty(4, ys), *dx = lurn_tensor_empty(4, xs);
  CHECK(l->ops->forward(l, x, y, 1) == LURN_OK);
  CHECK(l->ops->backward(l, x, y, dy, dx, 0) == LURN_OK);

  const float *xv = lurn_tensor_data(x), *gv = lurn_tensor_data(dy), *wv = lurn_tensor_data(l->params[0]);
  const float *bv = lurn_tensor_data(l->params[1]);
  int64_t ny = lurn_tensor_numel(y), nx = lurn_tensor_numel(x), nw = lurn_tensor_numel(l->params[0]);
  double *want_y = calloc((size_t)ny, sizeof(double)), *want_dx = calloc((size_t)nx, sizeof(double));
  double *want_dw = calloc((size_t)nw, sizeof(double)), *want_db = calloc((size_t)k->f, sizeof(double));
  for (int64_t b = 0; b < k->n; b++)
    for (int64_t i = 0; i < oh; i++)
      for (int64_t j = 0; j < ow; j++)
        for (int64_t o = 0; o < k->f; o++) {
          int64_t yi = ((b * oh + i) * ow + j) * k->f + o;
          double s = bv[o], g = gv[yi];
          want_db[o] += g;
          for (int64_t p = 0; p < k->kh; p++)
            for (int64_t q = 0; q < k->kw; q++) {
              int64_t ih = i * k->sh - pt + p * k->dh, iw = j * k->sw - pl + q * k->dw;
              if (ih < 0 || ih >= k->h || iw < 0 || iw >= k->w) continue;
              for (int64_t c = 0; c < k->c; c++) {
                int64_t xi = ((b * k->h + ih) * k->w + iw) * k->c + c,
                        wi = ((p * k->kw + q) * k->c + c) * k->f + o;
                s += (double)xv[xi] * wv[wi];
                want_dw[wi] += (double)xv[xi] * g;
                want_dx[xi] += (double)wv[wi] * g;
              }
            }
          want_y[yi] = s;
        }
  double ey = rel_error(lurn_tensor_data(y), want_y, ny), edx = rel_error(lurn_tensor_data(dx), want_dx, nx);
  double edw = rel_error(lurn_tensor_data(l->grads[0]), want_dw, nw);
  double edb = rel_error(lurn_tensor_data(l->grads[1]), want_db, k->f);
  CHECK(ey < 1e-5);
  CHECK(edx < 1e-5);
  CHECK(edw < 1e-5);
  CHECK(edb < 1e-5);
  if (ey >= 1e-5 || edx >= 1e-5 || edw >= 1e-5 || edb >= 1e-5)
    fprintf(stderr,
            "  case n=%lld %lldx%lldx%lld f=%lld k=%lldx%lld s=%lldx%lld d=%lldx%lld %s, %d threads: "
            "y %.2g dx %.2g dW %.2g db %.2g\n",
            (long long)k->n, (long long)k->h, (long long)k->w, (long long)k->c, (long long)k->f,
            (long long)k->kh, (long long)k->kw, (long long)k->sh, (long long)k->sw, (long long)k->dh,
            (long long)k->dw, k->same ? "same" : "valid", threads, ey, edx, edw, edb);
  free(want_y);
  free(want_dx);
  free(want_dw);
  free(want_db);
  lurn_tensor_free(x);
  lurn_tensor_free(y);
  lurn_tensor_free(dx);
  lurn_tensor_free(dy);
  lurn_layer_free(l);
}

static const conv_case conv_cases[] = {
    /* n, h, w, c, f, kh, kw, sh, sw, dh, dw, same */
    {2, 7, 6, 3, 4, 3, 3, 1, 1, 1, 1, 0},     {3, 9, 8, 2, 5, 3, 2, 2, 2, 1, 1, 1},
    {2, 11, 10, 3, 2, 3, 3, 1, 1, 2, 2, 1},   {4, 12, 13, 2, 3, 2, 3, 2, 1, 2, 3, 0},
    {3, 5, 6, 7, 4, 1, 1, 1, 1, 1, 1, 0},     /* 1x1: no im2col */
    {2, 6, 6, 4, 3, 1, 1, 2, 2, 1, 1, 1},     /* 1x1 strided: im2col */
    {2, 3, 4, 2, 3, 5, 5, 1, 1, 1, 1, 1},     /* kernel larger than the image */
    {5, 16, 16, 8, 16, 3, 3, 1, 1, 1, 1, 1},  /* large enough to run threaded */
    {3, 12, 12, 160, 3, 3, 3, 1, 1, 1, 1, 0}, /* K = 1440: several blocks per image */
    {1, 20, 20, 6, 8, 5, 5, 1, 1, 1, 1, 1},   /* one image: threads split the GEMMs */
    {4, 13, 13, 64, 128, 3, 3, 1, 1, 1, 1, 0}, /* oneDNN's Winograd path (the seeds' second conv) */
    {3, 10, 9, 16, 32, 3, 3, 2, 1, 1, 1, 1},   /* oneDNN direct with dx, strided, "same" */
};

static void test_conv_matches_direct_convolution(void) {
  int saved = lurn_get_num_threads();
  for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++) {
    check_conv(&conv_cases[i], 1);
    check_conv(&conv_cases[i], 2);
  }
  lurn_set_num_threads(saved);
}

/* oneDNN's Winograd covers dx in 4x4 tiles; where a side of dx is 4k + 1 long, Conv2D
 * computes dx in parts (src/kernels/conv_dnnl.c): a Winograd forward of the rotated kernel over
 * dz bordered with zeros for the first 4k rows and columns, direct passes for the last
 * row and column. Each case takes that path at 1 thread on a machine with AVX-512 (at 2
 * it runs dx whole). */
static const conv_case dx_parts_cases[] = {
    /* n, h, w, c, f, kh, kw, sh, sw, dh, dw, same */
    {3, 9, 13, 16, 16, 3, 3, 1, 1, 1, 1, 0},  /* both edges, valid */
    {3, 9, 13, 16, 16, 3, 3, 1, 1, 1, 1, 1},  /* both edges, "same" */
    {2, 9, 12, 16, 32, 3, 3, 1, 1, 1, 1, 0},  /* the last row only */
    {2, 12, 13, 32, 16, 3, 3, 1, 1, 1, 1, 1}, /* the last column only, "same" */
    {2, 13, 13, 24, 40, 3, 3, 1, 1, 1, 1, 0}, /* channels padded to 16 inside oneDNN */
};

static void test_dx_in_parts_matches_direct_convolution(void) {
  int saved = lurn_get_num_threads();
  for (size_t i = 0; i < sizeof dx_parts_cases / sizeof dx_parts_cases[0]; i++) {
    check_conv(&dx_parts_cases[i], 1);
    check_conv(&dx_parts_cases[i], 2);
  }
  lurn_set_num_threads(saved);
}

static void check_pool(lurn_pool_kind kind, int global, int64_t n, int64_t h, int64_t w, int64_t c, int64_t k,
                       int64_t s, int same) {
  lurn_rng rng;
  lurn_rng_seed(&rng, 7);
  lurn_pool2d_config cfg = {
      .kind = kind, .global = global, .pool_size = {k, k}, .strides = {s, s}, .padding_same = same};
  lurn_layer *l = lurn_pool2d_new(&cfg);
  int64_t in_shape[3] = {h, w, c};
  CHECK(l && lurn_layer_build(l, 3, in_shape, &rng) == LURN_OK);
  if (global) k = h, s = 1;
  int64_t oh, ow, pt, pl;
  dim_geometry(h, global ? h : k, s, 1, same && !global, &oh, &pt);
  dim_geometry(w, global ? w : k, s, 1, same && !global, &ow, &pl);
  int64_t kw = global ? w : k;
  int64_t xs[4] = {n, h, w, c}, ys[4] = {n, oh, ow, c};
  lurn_tensor *x = random_tensor(4, xs, &rng), *dy = random_tensor(4, ys, &rng);
  lurn_tensor *y = lurn_tensor_empty(4, ys), *dx = lurn_tensor_empty(4, xs);
  CHECK(l->ops->forward(l, x, y, 1) == LURN_OK);
  CHECK(l->ops->backward(l, x, y, dy, dx, 0) == LURN_OK);
  const float *xv = lurn_tensor_data(x), *gv = lurn_tensor_data(dy);
  int64_t ny = lurn_tensor_numel(y), nx = lurn_tensor_numel(x);
  double *want_y = calloc((size_t)ny, sizeof(double)), *want_dx = calloc((size_t)nx, sizeof(double));
  for (int64_t b = 0; b < n; b++)
    for (int64_t i = 0; i < oh; i++)
      for (int64_t j = 0; j < ow; j++)
        for (int64_t ch = 0; ch < c; ch++) {
          double best = -INFINITY, sum = 0;
          int64_t arg = -1, count = 0;
          for (int64_t p = 0; p < k; p++)
            for (int64_t q = 0; q < kw; q++) {
              int64_t ih = i * s - pt + p, iw = j * s - pl + q;
              if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
              int64_t xi = ((b * h + ih) * w + iw) * c + ch;
              if (xv[xi] > best) best = xv[xi], arg = xi;
              sum += xv[xi];
              count++;
            }
          int64_t yi = ((b * oh + i) * ow + j) * c + ch;
          want_y[yi] = kind == LURN_POOL_MAX ? best : sum / (double)count;
          if (kind == LURN_POOL_MAX) {
            want_dx[arg] += gv[yi];
            continue;
          }
          for (int64_t p = 0; p < k; p++)
            for (int64_t q = 0; q < kw; q++) {
              int64_t ih = i * s - pt + p, iw = j * s - pl + q;
              if (ih >= 0 && ih < h && iw >= 0 && iw < w)
                want_dx[((b * h + ih) * w + iw) * c + ch] += gv[yi] / (double)count;
            }
        }
  CHECK(rel_error(lurn_tensor_data(y), want_y, ny) < 1e-6);
  CHECK(rel_error(lurn_tensor_data(dx), want_dx, nx) < 1e-6);
  free(want_y);
  free(want_dx);
  lurn_tensor_free(x);
  lurn_tensor_free(y);
  lurn_tensor_free(dx);
  lurn_tensor_free(dy);
  lurn_layer_free(l);
}

static void test_pooling_matches_direct_loops(void) {
  for (int kind = 0; kind < 2; kind++) {
    lurn_pool_kind pk = kind ? LURN_POOL_AVERAGE : LURN_POOL_MAX;
    check_pool(pk, 0, 3, 7, 8, 5, 2, 2, 0);
    check_pool(pk, 0, 3, 7, 8, 5, 2, 2, 1);
    check_pool(pk, 0, 2, 9, 6, 3, 3, 2, 1);
    check_pool(pk, 0, 2, 6, 7, 4, 3, 1, 1);
    check_pool(pk, 0, 16, 24, 24, 32, 2, 2, 0); /* threaded */
    check_pool(pk, 0, 8, 23, 24, 32, 3, 2, 1);  /* threaded, overlapping windows */
    check_pool(pk, 1, 4, 5, 6, 3, 0, 0, 0);
  }
}

static void test_errors_name_the_layer_and_shapes(void) {
  lurn_rng rng;
  lurn_rng_seed(&rng, 1);
  lurn_conv2d_config cfg = {.filters = 2,
                            .kernel_size = {3, 3},
                            .strides = {1, 1},
                            .dilation_rate = {1, 1},
                            .use_bias = 1,
                            .kernel_initializer = {.kind = LURN_INIT_GLOROT_UNIFORM}};
  lurn_conv2d_config bad = cfg;
  bad.strides[1] = 0;
  CHECK(lurn_conv2d_new(&bad) == NULL);
  CHECK(strstr(lurn_last_error(), "Conv2D: strides must be positive") != NULL);
  lurn_layer *l = lurn_conv2d_new(&cfg);
  int64_t flat_shape[1] = {784}, small[3] = {2, 5, 1}, ok[3] = {5, 5, 1};
  CHECK(lurn_layer_build(l, 1, flat_shape, &rng) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "(height, width, channels) per sample, got (784,)") != NULL);
  CHECK(lurn_layer_build(l, 3, small, &rng) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "kernel 3x3 is larger than the input 2x5 (input shape (2, 5, 1)") != NULL);
  CHECK(lurn_layer_build(l, 3, ok, &rng) == LURN_OK);
  int64_t xs[4] = {2, 5, 5, 3}, ys[4] = {2, 3, 3, 2};
  lurn_tensor *x = lurn_tensor_zeros(4, xs), *y = lurn_tensor_zeros(4, ys);
  CHECK(l->ops->forward(l, x, y, 0) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "Conv2D: expects a packed batch (N, 5, 5, 1), got (2, 5, 5, 3)") != NULL);
  lurn_tensor_free(x);
  lurn_tensor_free(y);
  lurn_layer_free(l);

  lurn_pool2d_config pc = {.kind = LURN_POOL_MAX, .pool_size = {2, 0}, .strides = {2, 2}};
  CHECK(lurn_pool2d_new(&pc) == NULL);
  CHECK(strstr(lurn_last_error(), "MaxPooling2D: pool_size and strides must be positive") != NULL);
  pc.pool_size[1] = 4;
  l = lurn_pool2d_new(&pc);
  int64_t narrow[3] = {4, 3, 2};
  CHECK(lurn_layer_build(l, 3, narrow, &rng) == LURN_EINVAL);
  CHECK(strstr(lurn_last_error(), "MaxPooling2D: pool 2x4 is larger than the input 4x3") != NULL);
  lurn_layer_free(l);
}

int main(void) {
  RUN(test_conv_matches_direct_convolution);
  RUN(test_dx_in_parts_matches_direct_convolution);
  RUN(test_pooling_matches_direct_loops);
  RUN(test_errors_name_the_layer_and_shapes);
  return check_summary();
}
