/* Conv2D: y = activation(conv(x, kernel) + bias) over channels-last batches.
 * x (N, H, W, C), kernel (KH, KW, C, F) as Keras lays it out, y (N, OH, OW, F).
 *
 * Seen as matrices, y (N*OH*OW, F) = cols (N*OH*OW, K) @ kernel (K, F) with K = KH*KW*C
 * and cols the im2col matrix of x. The rows are cut into blocks that fit in cache; each
 * OpenMP thread builds a block of cols in its own buffer and multiplies it at once, so
 * the whole cols matrix never exists. Backward walks the same blocks, one image per
 * thread so that col2im never races: dkernel += cols^T @ dz into per-thread sums,
 * dcols = dz @ kernel^T into the same buffer, then col2im adds dcols onto dx. A 1x1 kernel with stride 1 and
 * no padding needs no im2col: x is its own cols matrix.
 *
 * When liblurn is built with oneDNN, its convolution primitives run the whole batch
 * instead (src/kernels/conv_dnnl.c); im2col stays for geometries oneDNN has no fast code for,
 * for predictions of one or two samples, for calls from inside a parallel region, and for
 * builds without oneDNN. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/conv_dnnl.h"
#include "kernels/im2col.h"
#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

/* Floats in one thread's block of cols: 512 KiB, so that it stays in L2 while the
 * product reads it. */
#define BLOCK_FLOATS (1 << 17)
/* Convolutions of fewer multiply-adds than this run on one thread (as in lurn_sgemm):
 * below it a parallel region costs more than it saves. */
#define PARALLEL_MACS (1 << 18)

typedef struct {
  lurn_conv2d_config c;
  lurn_conv_geom g;
  int pointwise;     /* 1x1 kernel, stride 1, no padding: cols is x itself */
  lurn_tensor *z;    /* pre-activation (N, OH, OW, F), kept for backward when there is an activation */
  lurn_tensor *cols; /* (threads, block * K): each thread's block of cols, then of dL/dcols */
  lurn_tensor *dz;   /* (threads, block * F): dL/dz of a block */
  lurn_tensor *sums; /* (threads, K * F + F): per-thread kernel and bias gradient sums */
  /* oneDNN's primitives, used when lurn_dnnl_conv_prepare says so; NULL: im2col only */
  lurn_dnnl_conv *dnnl;
} conv2d;

static int64_t min64(int64_t a, int64_t b) {
  return a < b ? a : b;
}

static lurn_status conv2d_build(lurn_layer *l, lurn_rng *rng) {
  conv2d *d = l->impl;
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
  st = lurn_conv_geom_init(g, d->c.padding_same, "Conv2D", "kernel");
  if (st) return st;
  lurn_dnnl_conv_free(d->dnnl);
  d->dnnl = lurn_dnnl_conv_new(g, d->c.filters, d->c.use_bias, d->c.activation == LURN_ACT_RELU);
  d->pointwise = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->oh == g->h && g->ow == g->w;
  int64_t kshape[4] = {g->kh, g->kw, g->c, d->c.filters};
  if (!lurn_layer_add_param(l, "kernel", 4, kshape, &d->c.kernel_initializer, rng, 1)) return LURN_ENOMEM;
  if (d->c.use_bias && !lurn_layer_add_param(l, "bias", 1, &d->c.filters, &d->c.bias_initializer, rng, 1))
    return LURN_ENOMEM;
  l->out_ndim = 3;
  l->out_shape[0] = g->oh;
  l->out_shape[1] = g->ow;
  l->out_shape[2] = d->c.filters;
  return LURN_OK;
}

static lurn_status check_batch(const lurn_layer *l, const lurn_tensor *x) {
  int ok = x->ndim == 4 && lurn_tensor_is_contiguous(x);
  for (int i = 0; ok && i < 3; i++) ok = x->shape[i + 1] == l->in_shape[i];
  if (ok) return LURN_OK;
  lurn_tensor want = {.ndim = 3, .shape = {l->in_shape[0], l->in_shape[1], l->in_shape[2]}};
  char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
  return lurn_fail(LURN_EINVAL, "Conv2D: expects a packed batch (N, %s, got %s",
                   lurn_shape_str(&want, a, sizeof a) + 1, lurn_shape_str(x, b, sizeof b));
}

/* Rows per block for `rows` rows in all: as many as fit in BLOCK_FLOATS, but small
 * enough that every thread gets a block, and as even as the count of blocks allows. */
static int64_t block_rows(int64_t k, int64_t rows, int threads) {
  int64_t most = min64(BLOCK_FLOATS / k, (rows + threads - 1) / threads);
  if (most < 1) return 1;
  int64_t blocks = (rows + most - 1) / most;
  return (rows + blocks - 1) / blocks;
}

/* Output rows [r0, r0 + rows): z = cols @ kernel + bias, then a = f(z). */
static void forward_block(const lurn_layer *l, const float *x, float *z, float *a, int64_t r0, int64_t rows,
                          float *cols) {
  const conv2d *d = l->impl;
  const int64_t k = d->g.kh * d->g.kw * d->g.c, f = d->c.filters;
  const float *in = x + r0 * k;
  if (!d->pointwise) {
    lurn_im2col(&d->g, x, r0, rows, cols);
    in = cols;
  }
  z += r0 * f;
  if (d->c.use_bias) { /* start from the bias so that sgemm accumulates onto it */
    const float *bias = lurn_tensor_data(l->params[1]);
    for (int64_t r = 0; r < rows; r++) memcpy(z + r * f, bias, sizeof(float) * (size_t)f);
  }
  lurn_sgemm(0, 0, rows, f, k, 1.0f, in, k, lurn_tensor_data(l->params[0]), f, d->c.use_bias ? 1.0f : 0.0f, z,
             f);
  if (a) lurn_activation_forward(d->c.activation, d->c.alpha, z, a + r0 * f, rows, f);
}

/* The whole batch on oneDNN, into z, or into y when it applies relu itself. */
static lurn_status forward_dnnl(const lurn_layer *l, const lurn_tensor *x, float *out) {
  const conv2d *d = l->impl;
  const float *bias = d->c.use_bias ? lurn_tensor_data(l->params[1]) : NULL;
  return lurn_dnnl_conv_forward(d->dnnl, lurn_tensor_data(x), lurn_tensor_data(l->params[0]), bias, out);
}

/* Whether x, the kernel and the bias are all finite. oneDNN's fused relu is max(z, 0),
 * which turns NaN into 0: a NaN would vanish instead of reaching the loss. One read
 * pass; inputs with a NaN or an infinity take the path whose relu propagates NaN. */
static int finite_inputs(const lurn_layer *l, const lurn_tensor *x) {
  for (int p = 0; p < l->nparams; p++)
    if (lurn_first_nonfinite(lurn_tensor_data(l->params[p]), lurn_tensor_numel(l->params[p])) >= 0) return 0;
  return lurn_first_nonfinite(lurn_tensor_data(x), lurn_tensor_numel(x)) < 0;
}

static lurn_status conv2d_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  (void)training;
  conv2d *d = l->impl;
  lurn_status st = check_batch(l, x);
  if (st) return st;
  const int64_t k = d->g.kh * d->g.kw * d->g.c, rows = x->shape[0] * d->g.oh * d->g.ow;
  /* One or two samples that no backward follows (a host's single prediction): im2col and
   * one sgemm beat oneDNN's primitive, which is made for batches. The seeds' CNN, forward,
   * per sample (docs/benchmarks.md, "Single predictions"): 1 thread, N = 1: 207 -> 119 us,
   * N = 2: 132 -> 110 us, N = 4: 86 against 107 us, so 4 stays on oneDNN; 2 threads, N = 1:
   * 130 -> 69 us, N = 2: 92 -> 64 us. Decided before oneDNN prepares primitives for this
   * batch size, which predictions between training batches would otherwise rebuild. */
  const int single = l->forward_only && x->shape[0] <= 2;
  int dnnl = 0;
  if (d->dnnl && rows > 0 && !single && (st = lurn_dnnl_conv_prepare(d->dnnl, x->shape[0], &dnnl))) return st;
  if (dnnl && lurn_dnnl_conv_fuses_relu(d->dnnl)) {
    if (finite_inputs(l, x)) { /* relu in the same pass: z is never formed */
      l->preactivation = NULL;
      return forward_dnnl(l, x, lurn_tensor_data(y));
    }
    dnnl = 0; /* the im2col path forms z and keeps NaN through relu (backward reads y either way) */
  }
  const int act = d->c.activation != LURN_ACT_LINEAR;
  float *z = lurn_tensor_data(y), *a = NULL;
  if (act) {
    if ((st = lurn_buffer_ensure(&d->z, y->ndim, y->shape))) return st;
    a = z;
    z = lurn_tensor_data(d->z);
  }
  l->preactivation = act ? d->z : y;
  if (rows == 0) return LURN_OK;
  if (dnnl) {
    st = forward_dnnl(l, x, z);
    if (!st && a) lurn_activation_forward(d->c.activation, d->c.alpha, z, a, rows, d->c.filters);
    return st;
  }
  const int threads = rows * k * d->c.filters < PARALLEL_MACS ? 1 : lurn_get_num_threads();
  const int64_t block = block_rows(k, rows, threads), nblocks = (rows + block - 1) / block;
  int64_t cshape[2] = {threads, block * k};
  if (!d->pointwise && (st = lurn_buffer_ensure(&d->cols, 2, cshape))) return st;
  const float *in = lurn_tensor_data(x);
  float *cols = d->pointwise ? NULL : lurn_tensor_data(d->cols);
  /* one block runs alone, so that lurn_sgemm may split it across the threads instead */
#pragma omp parallel for num_threads(threads) if (threads > 1 && nblocks > 1) schedule(static)
  for (int64_t b = 0; b < nblocks; b++) {
    int64_t r0 = b * block;
    float *mine = cols ? cols + omp_get_thread_num() * block * k : NULL;
    forward_block(l, in, z, a, r0, min64(block, rows - r0), mine);
  }
  return LURN_OK;
}

typedef struct {
  const float *x, *y, *dy, *z, *kernel;
  float *dx;
  int64_t block;           /* rows per block */
  float *cols, *dz, *sums; /* per-thread buffers, thread 0's; dz only when the
                            * activation's gradient must be formed here */
} backward_args;

/* Rows [r0, r0 + rows), all of one image: adds their share of dkernel and dbias to
 * thread t's sums and, when dx is wanted, their dcols onto dx. */
static void backward_block(const lurn_layer *l, const backward_args *p, int64_t r0, int64_t rows, int t) {
  const conv2d *d = l->impl;
  const int64_t k = d->g.kh * d->g.kw * d->g.c, f = d->c.filters;
  const float *dz = p->dy + r0 * f;
  if (p->dz) {
    float *mine = p->dz + t * p->block * f;
    lurn_activation_backward(d->c.activation, d->c.alpha, p->z + r0 * f, p->y + r0 * f, dz, mine, rows, f);
    dz = mine;
  }
  float *mine = d->pointwise ? NULL : p->cols + t * p->block * k;
  const float *cols = p->x + r0 * k;
  if (mine) {
    lurn_im2col(&d->g, p->x, r0, rows, mine);
    cols = mine;
  }
  float *sums = p->sums + t * (k * f + f);
  lurn_sgemm(1, 0, k, f, rows, 1.0f, cols, k, dz, f, 1.0f, sums, f);
  if (d->c.use_bias) {
    float *db = sums + k * f;
    for (int64_t r = 0; r < rows; r++)
      for (int64_t u = 0; u < f; u++) db[u] += dz[r * f + u];
  }
  if (!p->dx) return;
  if (d->pointwise) {
    lurn_sgemm(0, 1, rows, k, f, 1.0f, dz, f, p->kernel, f, 0.0f, p->dx + r0 * k, k);
    return;
  }
  /* dcols overwrites cols, whose work is done: one block of K-wide rows stays in cache */
  lurn_sgemm(0, 1, rows, k, f, 1.0f, dz, f, p->kernel, f, 0.0f, mine, k);
  lurn_col2im(&d->g, mine, r0, rows, p->dx);
}

/* db = the sum of the rows (rows, f) of g. With relu_y, g is dL/dy of a relu and the
 * rows summed are dz = dL/dz, g where relu_y > 0, written out on the way: forming dz and
 * summing it are both bound by memory, so one pass does both. Each of `parts` threads
 * sums a fixed range of rows into its row of `part` (parts, f); the ranges' sums are then
 * added in order, so the result is the same every time at a given thread count. */
static void bias_gradient(const float *g, const float *relu_y, float *dz, int64_t rows, int64_t f, int parts,
                          float *part, float *db) {
#pragma omp parallel for num_threads(parts) if (parts > 1) schedule(static, 1)
  for (int t = 0; t < parts; t++) {
    float *restrict sum = part + (int64_t)t * f;
    for (int64_t u = 0; u < f; u++) sum[u] = 0;
    for (int64_t r = rows * t / parts; r < rows * (t + 1) / parts; r++) {
      const float *restrict gr = g + r * f;
      if (!relu_y) {
        for (int64_t u = 0; u < f; u++) sum[u] += gr[u];
        continue;
      }
      /* relu's gradient as lurn_activation_backward forms it */
      const float *restrict yr = relu_y + r * f;
      float *restrict out = dz + r * f;
      for (int64_t u = 0; u < f; u++) sum[u] += out[u] = (yr[u] > 0 ? 1.0f : 0.0f) * gr[u];
    }
  }
  memcpy(db, part, sizeof(float) * (size_t)f);
  for (int t = 1; t < parts; t++)
    for (int64_t u = 0; u < f; u++) db[u] += part[(int64_t)t * f + u];
}

/* The whole batch on oneDNN: dz = dL/dz over all of it and the bias gradient, then the
 * kernel gradient and dx from dz. */
static lurn_status backward_dnnl(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                 const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  conv2d *d = l->impl;
  const int64_t rows = dy->shape[0] * d->g.oh * d->g.ow, f = d->c.filters;
  float *dz = NULL; /* when the activation's gradient must be formed */
  int relu_in_bias_pass = 0;
  lurn_status st;
  if (d->c.activation != LURN_ACT_LINEAR && !(fuse & LURN_BACKWARD_DY_IS_DZ)) {
    /* relu fused into the forward kept no z; y > 0 exactly where z > 0 */
    const int fused = lurn_dnnl_conv_fuses_relu(d->dnnl);
    if (!fused && !d->z) return lurn_fail(LURN_EINVAL, "Conv2D: backward before forward");
    if ((st = lurn_buffer_ensure(&d->dz, dy->ndim, dy->shape))) return st;
    dz = lurn_tensor_data(d->dz);
    relu_in_bias_pass = d->c.activation == LURN_ACT_RELU && d->c.use_bias;
    if (!relu_in_bias_pass) {
      const float *z = fused ? lurn_tensor_data(y) : lurn_tensor_data(d->z);
      lurn_activation_backward(d->c.activation, d->c.alpha, z, lurn_tensor_data(y), lurn_tensor_data(dy), dz,
                               rows, f);
    }
  }
  if (d->c.use_bias) {
    const int parts = rows * f > LURN_PARALLEL_MIN ? lurn_get_num_threads() : 1;
    int64_t shape[2] = {parts, f};
    if ((st = lurn_buffer_ensure(&d->sums, 2, shape))) return st;
    const float *g = dz && !relu_in_bias_pass ? dz : lurn_tensor_data(dy);
    bias_gradient(g, relu_in_bias_pass ? lurn_tensor_data(y) : NULL, dz, rows, f, parts,
                  lurn_tensor_data(d->sums), lurn_tensor_data(l->grads[1]));
  }
  return lurn_dnnl_conv_backward(d->dnnl, lurn_tensor_data(x), dz ? dz : lurn_tensor_data(dy),
                                 lurn_tensor_data(l->params[0]), lurn_tensor_data(l->grads[0]),
                                 dx ? lurn_tensor_data(dx) : NULL);
}

static lurn_status conv2d_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                                   const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  conv2d *d = l->impl;
  lurn_status st = check_batch(l, x);
  if (st) return st;
  int dnnl = 0;
  if (d->dnnl && x->shape[0] > 0 && (st = lurn_dnnl_conv_prepare(d->dnnl, x->shape[0], &dnnl))) return st;
  if (dnnl && (!dx || lurn_dnnl_conv_dx_pays(d->dnnl))) return backward_dnnl(l, x, y, dy, dx, fuse);
  /* relu fused into a oneDNN forward kept no z; y > 0 exactly where z > 0 */
  const int fused = dnnl && lurn_dnnl_conv_fuses_relu(d->dnnl);
  const int64_t k = d->g.kh * d->g.kw * d->g.c, f = d->c.filters, n = x->shape[0];
  const int64_t per_image = d->g.oh * d->g.ow, image = d->g.h * d->g.w * d->g.c;
  const int threads = lurn_get_num_threads();
  /* images go to threads whole; with fewer images than threads they run one after
   * another and lurn_sgemm splits each product instead */
  const int by_image = threads > 1 && n >= threads && n * per_image * k * f >= PARALLEL_MACS;
  const int workers = by_image ? threads : 1;
  backward_args p = {.x = lurn_tensor_data(x),
                     .y = lurn_tensor_data(y),
                     .dy = lurn_tensor_data(dy),
                     .kernel = lurn_tensor_data(l->params[0]),
                     .dx = dx ? lurn_tensor_data(dx) : NULL,
                     .block = block_rows(k, per_image, 1)};
  int64_t shape[2] = {workers, p.block * k};
  if (!d->pointwise && (st = lurn_buffer_ensure(&d->cols, 2, shape))) return st;
  shape[1] = p.block * f;
  if (d->c.activation != LURN_ACT_LINEAR && !(fuse & LURN_BACKWARD_DY_IS_DZ)) {
    if (!fused && !d->z) return lurn_fail(LURN_EINVAL, "Conv2D: backward before forward");
    if ((st = lurn_buffer_ensure(&d->dz, 2, shape))) return st;
    p.z = fused ? p.y : lurn_tensor_data(d->z);
    p.dz = lurn_tensor_data(d->dz);
  }
  shape[1] = k * f + f;
  if ((st = lurn_buffer_ensure(&d->sums, 2, shape))) return st;
  lurn_tensor_fill(d->sums, 0);
  p.cols = d->pointwise ? NULL : lurn_tensor_data(d->cols);
  p.sums = lurn_tensor_data(d->sums);
#pragma omp parallel for num_threads(workers) if (by_image) schedule(static)
  for (int64_t i = 0; i < n; i++) {
    int t = omp_get_thread_num();
    if (p.dx && !d->pointwise) memset(p.dx + i * image, 0, sizeof(float) * (size_t)image);
    for (int64_t r = 0; r < per_image; r += p.block)
      backward_block(l, &p, i * per_image + r, min64(p.block, per_image - r), t);
  }
  /* the gradients are the sums of the threads' sums */
  float *dkernel = lurn_tensor_data(l->grads[0]), *db = d->c.use_bias ? lurn_tensor_data(l->grads[1]) : NULL;
  memcpy(dkernel, p.sums, sizeof(float) * (size_t)(k * f));
  if (db) memcpy(db, p.sums + k * f, sizeof(float) * (size_t)f);
  for (int t = 1; t < workers; t++) {
    const float *s = p.sums + t * (k * f + f);
    for (int64_t i = 0; i < k * f; i++) dkernel[i] += s[i];
    for (int64_t u = 0; db && u < f; u++) db[u] += s[k * f + u];
  }
  return LURN_OK;
}

static void conv2d_destroy(lurn_layer *l) {
  conv2d *d = l->impl;
  lurn_dnnl_conv_free(d->dnnl);
  lurn_tensor_free(d->z);
  lurn_tensor_free(d->cols);
  lurn_tensor_free(d->dz);
  lurn_tensor_free(d->sums);
  free(d);
}

static const lurn_layer_ops conv2d_ops = {.type = "Conv2D",
                                          .build = conv2d_build,
                                          .forward = conv2d_forward,
                                          .backward = conv2d_backward,
                                          .destroy = conv2d_destroy};

lurn_layer *lurn_conv2d_new(const lurn_conv2d_config *c) {
  const char *bad = c->filters < 1 ? "filters" : NULL;
  if (!bad) bad = lurn_conv_window_bad_option(c->kernel_size, c->strides, c->dilation_rate);
  if (bad) {
    lurn_fail(LURN_EINVAL,
              "Conv2D: %s must be positive, got filters %lld, kernel_size %lldx%lld, strides %lldx%lld, "
              "dilation_rate %lldx%lld",
              bad, (long long)c->filters, (long long)c->kernel_size[0], (long long)c->kernel_size[1],
              (long long)c->strides[0], (long long)c->strides[1], (long long)c->dilation_rate[0],
              (long long)c->dilation_rate[1]);
    return NULL;
  }
  conv2d *d = calloc(1, sizeof *d);
  if (!d) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  d->c = *c;
  lurn_layer *l = lurn_layer_alloc(&conv2d_ops, d);
  if (!l) {
    free(d);
    return NULL;
  }
  l->activation = c->activation;
  return l;
}
