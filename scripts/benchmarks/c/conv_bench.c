/* The seeds' CNN's two convolutions at batch 32, timed per batch: lurn's Conv2D layer
 * (through the C API, as a model calls it) against oneDNN's convolution primitives on
 * the same channels-last (NHWC) buffers. Each line is one pass of one layer:
 *
 *   conv_bench [--threads T] [--reps R] [--warmup W] [--layer 1|2] [--blocked 1] [--check 1]
 *
 *   layer 1: (32, 28, 28, 1)  -> (32, 26, 26, 64),  3x3, stride 1, valid
 *   layer 2: (32, 13, 13, 64) -> (32, 11, 11, 128), 3x3, stride 1, valid
 *
 * lurn: "fwd" is forward (no activation), "bwd_w" backward without dx (kernel and
 * bias gradients), "bwd_wd" backward with dx (both, fused as Conv2D runs them). Which
 * Conv2D runs these depends on how liblurn was built (LURN_DNNL).
 * oneDNN (when built with it): the kernel given in Keras's (kh, kw, cin, cout) layout
 * ("hwio"), each primitive free to pick its own kernel layout ("any"); the reorders
 * between the two are timed on their own lines. Algorithms direct, winograd and auto;
 * "n/a" where oneDNN has no implementation. The implementation oneDNN chose is named.
 * --blocked 1: oneDNN on its own nChw16c activations instead (where Winograd lives),
 * with the reorders lurn's NHWC tensors would need timed on their own lines.
 * Layer 2's dx also end to end on NHWC buffers, reorders included ("oneDNN dx"): over
 * the whole of dx, as Conv2D computes it on 2 threads or more, and in parts, as it does
 * on one.
 * --check 1: Conv2D's outputs and gradients against direct loops in double precision.
 * Times are medians of R calls after W warm-up calls (the fastest call in brackets), in
 * milliseconds, with GFLOP/s counted as 2 * N * OH * OW * F * KH * KW * C per pass. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "lurn/layer_impl.h"
#ifdef LURN_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

typedef struct {
  int64_t n, h, w, c, f, k;
} shape;

static const shape layers[2] = {{32, 28, 28, 1, 64, 3}, {32, 13, 13, 64, 128, 3}};

static int reps = 21, warmup = 3, blocked = 0, check = 0;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef void (*pass_fn)(void *arg);

/* Median seconds of one call of fn(arg); the fastest call in best_s. */
static double best_s;
static double time_median(pass_fn fn, void *arg) {
  double *t = malloc(sizeof(double) * (size_t)reps);
  for (int r = 0; r < warmup + reps; r++) {
    double t0 = lurn_clock();
    fn(arg);
    if (r >= warmup) t[r - warmup] = lurn_clock() - t0;
  }
  qsort(t, (size_t)reps, sizeof *t, cmp_double);
  double m = reps % 2 ? t[reps / 2] : (t[reps / 2 - 1] + t[reps / 2]) / 2;
  best_s = t[0];
  free(t);
  return m;
}

static double flops(const shape *s) {
  int64_t oh = s->h - s->k + 1, ow = s->w - s->k + 1;
  return 2.0 * (double)(s->n * oh * ow * s->f * s->k * s->k * s->c);
}

static void report(int layer, int threads, const char *who, const char *pass, double sec, double fl,
                   const char *impl) {
  printf("conv_bench layer=%d threads=%d %-22s %-8s %8.3f ms (best %.3f)", layer, threads, who, pass,
         sec * 1e3, sec > 0 ? best_s * 1e3 : 0.0);
  if (fl > 0) printf(" %6.1f GFLOP/s", fl / sec / 1e9);
  if (impl) printf("  [%s]", impl);
  printf("\n");
}

/* ---- lurn's Conv2D ------------------------------------------------------------------ */
typedef struct {
  lurn_layer *l;
  lurn_tensor *x, *y, *dy, *dx;
} lurn_case;

static void lurn_fwd(void *a) {
  lurn_case *p = a;
  if (p->l->ops->forward(p->l, p->x, p->y, 1)) abort();
}
static void lurn_bwd_w(void *a) {
  lurn_case *p = a;
  if (p->l->ops->backward(p->l, p->x, p->y, p->dy, NULL, 0)) abort();
}
static void lurn_bwd_wd(void *a) {
  lurn_case *p = a;
  if (p->l->ops->backward(p->l, p->x, p->y, p->dy, p->dx, 0)) abort();
}

/* max |a - b| / max(1, max |b|), as spec/c/test_conv2d.c measures it */
static double rel_error(const float *a, const double *b, int64_t n) {
  double err = 0, scale = 1;
  for (int64_t i = 0; i < n; i++) {
    double e = fabs((double)a[i] - b[i]);
    if (e > err) err = e;
    if (fabs(b[i]) > scale) scale = fabs(b[i]);
  }
  return err / scale;
}

/* --check: Conv2D's y, dx, dkernel and dbias (left by the timed calls) against direct
 * loops in double precision; spec/c/test_conv2d.c allows 1e-5. */
static void check_lurn(int layer, const shape *s, const lurn_case *p) {
  const int64_t oh = s->h - s->k + 1, ow = s->w - s->k + 1, k = s->k;
  const float *x = lurn_tensor_data(p->x), *dy = lurn_tensor_data(p->dy);
  const float *w = lurn_tensor_data(p->l->params[0]), *b = lurn_tensor_data(p->l->params[1]);
  int64_t ny = lurn_tensor_numel(p->y), nx = lurn_tensor_numel(p->x), nw = lurn_tensor_numel(p->l->params[0]);
  double *y = calloc((size_t)ny, sizeof(double)), *dx = calloc((size_t)nx, sizeof(double));
  double *dw = calloc((size_t)nw, sizeof(double)), *db = calloc((size_t)s->f, sizeof(double));
  for (int64_t n = 0; n < s->n; n++)
    for (int64_t i = 0; i < oh; i++)
      for (int64_t j = 0; j < ow; j++)
        for (int64_t o = 0; o < s->f; o++) {
          int64_t yi = ((n * oh + i) * ow + j) * s->f + o;
          double acc = b[o], g = dy[yi];
          db[o] += g;
          for (int64_t u = 0; u < k; u++)
            for (int64_t v = 0; v < k; v++)
              for (int64_t c = 0; c < s->c; c++) {
                int64_t xi = ((n * s->h + i + u) * s->w + j + v) * s->c + c,
                        wi = ((u * k + v) * s->c + c) * s->f + o;
                acc += (double)x[xi] * w[wi];
                dw[wi] += (double)x[xi] * g;
                dx[xi] += (double)w[wi] * g;
              }
          y[yi] = acc;
        }
  printf("conv_bench layer=%d check (max error / max(1, max |value|)): y %.2g dkernel %.2g dbias %.2g", layer,
         rel_error(lurn_tensor_data(p->y), y, ny), rel_error(lurn_tensor_data(p->l->grads[0]), dw, nw),
         rel_error(lurn_tensor_data(p->l->grads[1]), db, s->f));
  if (layer == 2) printf(" dx %.2g", rel_error(lurn_tensor_data(p->dx), dx, nx));
  printf("\n");
  free(y);
  free(dx);
  free(dw);
  free(db);
}

static void bench_lurn(int layer, const shape *s, int threads) {
  lurn_rng rng;
  lurn_rng_seed(&rng, 42);
  lurn_conv2d_config cfg = {.filters = s->f,
                            .kernel_size = {s->k, s->k},
                            .strides = {1, 1},
                            .dilation_rate = {1, 1},
                            .activation = LURN_ACT_LINEAR,
                            .use_bias = 1,
                            .kernel_initializer = {.kind = LURN_INIT_GLOROT_UNIFORM},
                            .bias_initializer = {.kind = LURN_INIT_RANDOM_NORMAL, .b = 1}};
  lurn_case p = {.l = lurn_conv2d_new(&cfg)};
  int64_t in[3] = {s->h, s->w, s->c};
  if (!p.l || lurn_layer_build(p.l, 3, in, &rng)) {
    fprintf(stderr, "conv_bench: %s\n", lurn_last_error());
    exit(1);
  }
  int64_t xs[4] = {s->n, s->h, s->w, s->c}, ys[4] = {s->n, s->h - s->k + 1, s->w - s->k + 1, s->f};
  p.x = lurn_tensor_empty(4, xs);
  p.dx = lurn_tensor_empty(4, xs);
  p.y = lurn_tensor_empty(4, ys);
  p.dy = lurn_tensor_empty(4, ys);
  lurn_tensor_randn(p.x, &rng, 0, 1);
  lurn_tensor_randn(p.dy, &rng, 0, 1);
  double fl = flops(s);
  report(layer, threads, "lurn Conv2D", "fwd", time_median(lurn_fwd, &p), fl, NULL);
  report(layer, threads, "lurn Conv2D", "bwd_w", time_median(lurn_bwd_w, &p), fl, NULL);
  if (layer == 2) report(layer, threads, "lurn Conv2D", "bwd_wd", time_median(lurn_bwd_wd, &p), 2 * fl, NULL);
  if (check) check_lurn(layer, s, &p);
  lurn_tensor_free(p.x);
  lurn_tensor_free(p.dx);
  lurn_tensor_free(p.y);
  lurn_tensor_free(p.dy);
  lurn_layer_free(p.l);
}

/* ---- oneDNN ------------------------------------------------------------------------- */
#ifdef LURN_HAVE_DNNL
static dnnl_engine_t engine;
static dnnl_stream_t stream;

#define DNNL_OK(call)                                                                   \
  do {                                                                                  \
    dnnl_status_t st_ = (call);                                                         \
    if (st_ != dnnl_success) {                                                          \
      fprintf(stderr, "conv_bench: %s failed (%d) at line %d\n", #call, st_, __LINE__); \
      exit(1);                                                                          \
    }                                                                                   \
  } while (0)

typedef struct {
  dnnl_primitive_t prim;
  int nargs;
  dnnl_exec_arg_t args[8];
} dnnl_call;

static void dnnl_run(void *a) {
  dnnl_call *c = a;
  DNNL_OK(dnnl_primitive_execute(c->prim, stream, c->nargs, c->args));
  DNNL_OK(dnnl_stream_wait(stream));
}

static const char *impl_of(const_dnnl_primitive_desc_t pd) {
  const char *s = NULL;
  dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s);
  return s;
}

static dnnl_memory_t memory(const dnnl_memory_desc_t *md) {
  dnnl_memory_t m;
  DNNL_OK(dnnl_memory_create(&m, md, engine, DNNL_MEMORY_ALLOCATE));
  void *h;
  DNNL_OK(dnnl_memory_get_data_handle(m, &h));
  float *v = h;
  size_t n = dnnl_memory_desc_get_size(md) / sizeof(float);
  unsigned seed = 7;
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = (float)(seed >> 8) / (float)(1u << 24) - 0.5f;
  }
  return m;
}

/* Times a reorder from memory `from` to a new memory of layout `to`, named `what`; returns
 * the new memory (or `from` itself when the layouts agree). */
static dnnl_memory_t reorder(int layer, int threads, const char *what, dnnl_memory_t from,
                             const dnnl_memory_desc_t *to) {
  const dnnl_memory_desc_t *fmd;
  DNNL_OK(dnnl_memory_get_memory_desc(from, &fmd));
  if (dnnl_memory_desc_equal(fmd, to)) {
    report(layer, threads, "oneDNN reorder", what, 0, 0, "same layout: none");
    return from;
  }
  dnnl_memory_t m = memory(to);
  dnnl_primitive_desc_t pd;
  DNNL_OK(dnnl_reorder_primitive_desc_create(&pd, fmd, engine, to, engine, NULL));
  dnnl_call c = {.nargs = 2, .args = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, m}}};
  DNNL_OK(dnnl_primitive_create(&c.prim, pd));
  report(layer, threads, "oneDNN reorder", what, time_median(dnnl_run, &c), 0, impl_of(pd));
  dnnl_primitive_destroy(c.prim);
  dnnl_primitive_desc_destroy(pd);
  return m;
}

static const char *alg_name(dnnl_alg_kind_t alg) {
  return alg == dnnl_convolution_direct ? "direct" : alg == dnnl_convolution_winograd ? "winograd" : "auto";
}

static void bench_dnnl(int layer, const shape *s, dnnl_alg_kind_t alg, int threads) {
  const int64_t oh = s->h - s->k + 1, ow = s->w - s->k + 1;
  dnnl_dims_t src_d = {s->n, s->c, s->h, s->w}, dst_d = {s->n, s->f, oh, ow}, w_d = {s->f, s->c, s->k, s->k},
              b_d = {s->f}, strides = {1, 1}, dil = {0, 0}, pad = {0, 0};
  dnnl_memory_desc_t src_md, dst_md, w_any, w_user, b_md;
  /* --blocked: oneDNN's own nChw16c activations (plain nchw for one input channel),
   * for comparison; lurn would have to reorder into and out of them */
  dnnl_format_tag_t src_tag = !blocked ? dnnl_nhwc : s->c == 1 ? dnnl_nchw : dnnl_nChw16c;
  DNNL_OK(dnnl_memory_desc_init_by_tag(&src_md, 4, src_d, dnnl_f32, src_tag));
  DNNL_OK(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_d, dnnl_f32, blocked ? dnnl_nChw16c : dnnl_nhwc));
  DNNL_OK(dnnl_memory_desc_init_by_tag(&w_any, 4, w_d, dnnl_f32, dnnl_format_tag_any));
  DNNL_OK(dnnl_memory_desc_init_by_tag(&w_user, 4, w_d, dnnl_f32, dnnl_hwio));
  DNNL_OK(dnnl_memory_desc_init_by_tag(&b_md, 1, b_d, dnnl_f32, dnnl_a));
  char who[32];
  snprintf(who, sizeof who, "oneDNN %s", alg_name(alg));

  dnnl_convolution_desc_t fd, bdd, bwd;
  dnnl_primitive_desc_t fpd, bdpd = NULL, bwpd = NULL;
  DNNL_OK(dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training, alg, &src_md, &w_any, &b_md,
                                                     &dst_md, strides, dil, pad, pad));
  if (dnnl_primitive_desc_create(&fpd, &fd, NULL, engine, NULL) != dnnl_success) {
    report(layer, threads, who, "fwd", 0, 0, "n/a");
    return;
  }
  dnnl_memory_t src = memory(&src_md), dst = memory(&dst_md), bias = memory(&b_md), wu = memory(&w_user);
  dnnl_memory_t diff_src = memory(&src_md), diff_dst = memory(&dst_md), diff_bias = memory(&b_md);
  if (blocked && alg == dnnl_convolution_direct) { /* what lurn's NHWC tensors would pay, each way */
    dnnl_memory_desc_t nhwc;
    DNNL_OK(dnnl_memory_desc_init_by_tag(&nhwc, 4, src_d, dnnl_f32, dnnl_nhwc));
    dnnl_memory_t m = memory(&nhwc), r = reorder(layer, threads, "x>blk", m, &src_md);
    if (r != m) dnnl_memory_destroy(r);
    dnnl_memory_destroy(m);
    DNNL_OK(dnnl_memory_desc_init_by_tag(&nhwc, 4, dst_d, dnnl_f32, dnnl_nhwc));
    r = reorder(layer, threads, "z>nhwc", dst, &nhwc);
    if (r != dst) dnnl_memory_destroy(r);
  }
  double fl = flops(s);

  dnnl_memory_t wf =
      reorder(layer, threads, "w>fwd", wu, dnnl_primitive_desc_query_md(fpd, dnnl_query_weights_md, 0));
  dnnl_call c = {
      .nargs = 4,
      .args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wf}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst}}};
  DNNL_OK(dnnl_primitive_create(&c.prim, fpd));
  report(layer, threads, who, "fwd", time_median(dnnl_run, &c), fl, impl_of(fpd));
  dnnl_primitive_destroy(c.prim);

  if (layer == 2) {
    DNNL_OK(dnnl_dilated_convolution_backward_data_desc_init(&bdd, alg, &src_md, &w_any, &dst_md, strides,
                                                             dil, pad, pad));
    if (dnnl_primitive_desc_create(&bdpd, &bdd, NULL, engine, fpd) != dnnl_success) {
      report(layer, threads, who, "bwd_d", 0, 0, "n/a");
    } else {
      dnnl_memory_t wd = reorder(layer, threads, "w>bwd_d", wu,
                                 dnnl_primitive_desc_query_md(bdpd, dnnl_query_weights_md, 0));
      c = (dnnl_call){
          .nargs = 3,
          .args = {{DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_WEIGHTS, wd}, {DNNL_ARG_DIFF_SRC, diff_src}}};
      DNNL_OK(dnnl_primitive_create(&c.prim, bdpd));
      report(layer, threads, who, "bwd_d", time_median(dnnl_run, &c), fl, impl_of(bdpd));
      dnnl_primitive_destroy(c.prim);
      if (wd != wu) dnnl_memory_destroy(wd);
    }
  }

  DNNL_OK(dnnl_dilated_convolution_backward_weights_desc_init(&bwd, alg, &src_md, &w_any, &b_md, &dst_md,
                                                              strides, dil, pad, pad));
  if (dnnl_primitive_desc_create(&bwpd, &bwd, NULL, engine, fpd) != dnnl_success) {
    report(layer, threads, who, "bwd_w", 0, 0, "n/a");
  } else {
    const dnnl_memory_desc_t *dwmd = dnnl_primitive_desc_query_md(bwpd, dnnl_query_diff_weights_md, 0);
    dnnl_memory_t dw = memory(dwmd);
    c = (dnnl_call){.nargs = 4,
                    .args = {{DNNL_ARG_SRC, src},
                             {DNNL_ARG_DIFF_DST, diff_dst},
                             {DNNL_ARG_DIFF_WEIGHTS, dw},
                             {DNNL_ARG_DIFF_BIAS, diff_bias}}};
    DNNL_OK(dnnl_primitive_create(&c.prim, bwpd));
    report(layer, threads, who, "bwd_w", time_median(dnnl_run, &c), fl, impl_of(bwpd));
    dnnl_primitive_destroy(c.prim);
    dnnl_memory_t back = reorder(layer, threads, "dw>hwio", dw, &w_user);
    if (back != dw) dnnl_memory_destroy(back);
    dnnl_memory_destroy(dw);
  }
  if (wf != wu) dnnl_memory_destroy(wf);
  dnnl_memory_t all[] = {src, dst, bias, wu, diff_src, diff_dst, diff_bias};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) dnnl_memory_destroy(all[i]);
  dnnl_primitive_desc_destroy(fpd);
  if (bdpd) dnnl_primitive_desc_destroy(bdpd);
  if (bwpd) dnnl_primitive_desc_destroy(bwpd);
}

/* ---- dx of layer 2, end to end on lurn's NHWC buffers ------------------------------
 * "whole": Winograd backward-data over all of dx, dz reordered into oneDNN's blocked
 * layout and dx out of it (Conv2D's dx on 2 threads or more). "parts": as
 * src/kernels/conv_dnnl.c computes dx on one thread: a Winograd forward of the kernel turned
 * 180 degrees (in and out channels swapped) over a zero-bordered blocked copy of dz
 * gives dx's first 12x12, and direct backward-data passes its last row and column.
 * Both include their kernel reorders (and the rotation); the two run in turn, call by
 * call. */
typedef struct {
  int ncalls, nmems;
  dnnl_call calls[12];
  dnnl_memory_t mems[24];
  const float *kernel; /* parts: turned into rotated at each call, taps blocks of `block` floats */
  float *rotated;
  int64_t taps, block;
} dx_chain;

static void dx_chain_run(void *a) {
  dx_chain *c = a;
  for (int64_t t = 0; c->rotated && t < c->taps; t++)
    memcpy(c->rotated + t * c->block, c->kernel + (c->taps - 1 - t) * c->block,
           sizeof(float) * (size_t)c->block);
  for (int i = 0; i < c->ncalls; i++)
    DNNL_OK(dnnl_primitive_execute(c->calls[i].prim, stream, c->calls[i].nargs, c->calls[i].args));
  DNNL_OK(dnnl_stream_wait(stream));
}

/* A memory of the chain's (freed with it) on data, or on its own when DNNL_MEMORY_ALLOCATE. */
static dnnl_memory_t wrap(dx_chain *c, const dnnl_memory_desc_t *md, void *data) {
  dnnl_memory_t *m = &c->mems[c->nmems++];
  DNNL_OK(dnnl_memory_create(m, md, engine, data));
  return *m;
}

static dnnl_memory_t own(dx_chain *c, const_dnnl_primitive_desc_t pd, dnnl_query_t what) {
  return wrap(c, dnnl_primitive_desc_query_md(pd, what, 0), DNNL_MEMORY_ALLOCATE);
}

static void chain_reorder(dx_chain *c, dnnl_memory_t from, dnnl_memory_t to) {
  const dnnl_memory_desc_t *a, *b;
  dnnl_primitive_desc_t pd;
  DNNL_OK(dnnl_memory_get_memory_desc(from, &a));
  DNNL_OK(dnnl_memory_get_memory_desc(to, &b));
  DNNL_OK(dnnl_reorder_primitive_desc_create(&pd, a, engine, b, engine, NULL));
  dnnl_call *r = &c->calls[c->ncalls++];
  *r = (dnnl_call){.nargs = 2, .args = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}}};
  DNNL_OK(dnnl_primitive_create(&r->prim, pd));
  dnnl_primitive_desc_destroy(pd);
}

/* Appends convolution pd, its three arguments args (from its own memories or ours). */
static void chain_conv(dx_chain *c, const_dnnl_primitive_desc_t pd, const dnnl_exec_arg_t *args) {
  dnnl_call *r = &c->calls[c->ncalls++];
  *r = (dnnl_call){.nargs = 3, .args = {args[0], args[1], args[2]}};
  DNNL_OK(dnnl_primitive_create(&r->prim, pd));
}

static dnnl_primitive_desc_t conv_pd(const dnnl_convolution_desc_t *op) {
  dnnl_primitive_desc_t pd;
  DNNL_OK(dnnl_primitive_desc_create(&pd, op, NULL, engine, NULL));
  return pd;
}

/* Whole: dz -> blocked, kernel -> Winograd's layout, backward-data, blocked -> dx. */
static void dx_whole(dx_chain *c, const shape *s, float *dz, float *kernel, float *dx) {
  const int64_t oh = s->h - s->k + 1;
  dnnl_dims_t xd = {s->n, s->c, s->h, s->w}, zd = {s->n, s->f, oh, oh}, wd = {s->f, s->c, s->k, s->k};
  dnnl_dims_t one = {1, 1}, none = {0, 0};
  dnnl_memory_desc_t x, z, w, x_any, z_any, w_any;
  DNNL_OK(dnnl_memory_desc_init_by_tag(&x, 4, xd, dnnl_f32, dnnl_nhwc));
  DNNL_OK(dnnl_memory_desc_init_by_tag(&z, 4, zd, dnnl_f32, dnnl_nhwc));
  DNNL_OK(dnnl_memory_desc_init_by_tag(&w, 4, wd, dnnl_f32, dnnl_hwio));
  DNNL_OK(dnnl_memory_desc_init_by_tag(&x_any, 4, xd, dnnl_f32, dnnl_format_tag_any));
  DNNL_OK(dnnl_memory_desc_init_by_tag(&z_any, 4, zd, dnnl_f32, dnnl_format_tag_any));
  DNNL_OK(dnnl_memory_desc_init_by_tag(&w_any, 4, wd, dnnl_f32, dnnl_format_tag_any));
  dnnl_convolution_desc_t op;
  dnnl_primitive_desc_t hint, pd; /* as Conv2D makes it: hinted by the forward */
  DNNL_OK(dnnl_dilated_convolution_forward_desc_init(&op, dnnl_forward_training, dnnl_convolution_winograd,
                                                     &x_any, &w_any, NULL, &z_any, one, none, none, none));
  hint = conv_pd(&op);
  DNNL_OK(dnnl_dilated_convolution_backward_data_desc_init(&op, dnnl_convolution_winograd, &x_any, &w_any,
                                                           &z_any, one, none, none, none));
  DNNL_OK(dnnl_primitive_desc_create(&pd, &op, NULL, engine, hint));
  dnnl_primitive_desc_destroy(hint);
  dnnl_memory_t oz = own(c, pd, dnnl_query_diff_dst_md), ow = own(c, pd, dnnl_query_weights_md),
                ox = own(c, pd, dnnl_query_diff_src_md);
  chain_reorder(c, wrap(c, &z, dz), oz);
  chain_reorder(c, wrap(c, &w, kernel), ow);
  chain_conv(c, pd,
             (dnnl_exec_arg_t[]){{DNNL_ARG_DIFF_DST, oz}, {DNNL_ARG_WEIGHTS, ow}, {DNNL_ARG_DIFF_SRC, ox}});
  chain_reorder(c, ox, wrap(c, &x, dx));
  dnnl_primitive_desc_destroy(pd);
}

/* Parts, for a valid convolution whose dx has 4k + 1 rows and columns (layer 2: 13). */
static void dx_parts(dx_chain *c, const shape *s, float *dz, float *kernel, float *dx) {
  const int64_t n = s->n, h = s->h, k = s->k, oh = h - k + 1, t = h - 1, ci = s->c, f = s->f;
  dnnl_dims_t xd = {n, ci, h, h}, zd = {n, f, oh, oh}, one = {1, 1}, none = {0, 0}, origin = {0, 0, 0, 0};
  dnnl_memory_desc_t x, z, part, any[3];
  dnnl_convolution_desc_t op;
  DNNL_OK(dnnl_memory_desc_init_by_tag(&x, 4, xd, dnnl_f32, dnnl_nhwc));
  DNNL_OK(dnnl_memory_desc_init_by_tag(&z, 4, zd, dnnl_f32, dnnl_nhwc));
  /* the Winograd part: bordered dz (n, f, t + k - 1, ...) -> dx (n, c, t, t) */
  dnnl_dims_t bd = {n, f, t + k - 1, t + k - 1}, td = {n, ci, t, t}, rd = {ci, f, k, k};
  dnnl_dims_t r_strides = {f, 1, k * ci * f, ci * f}, at = {0, 0, k - 1, k - 1};
  DNNL_OK(dnnl_memory_desc_init_by_tag(&any[0], 4, bd, dnnl_f32, dnnl_format_tag_any));
  DNNL_OK(dnnl_memory_desc_init_by_tag(&any[1], 4, rd, dnnl_f32, dnnl_format_tag_any));
  DNNL_OK(dnnl_memory_desc_init_by_tag(&any[2], 4, td, dnnl_f32, dnnl_format_tag_any));
  DNNL_OK(dnnl_convolution_forward_desc_init(&op, dnnl_forward_training, dnnl_convolution_winograd, &any[0],
                                             &any[1], NULL, &any[2], one, none, none));
  dnnl_primitive_desc_t pd = conv_pd(&op);
  dnnl_memory_t bordered = own(c, pd, dnnl_query_src_md), ow = own(c, pd, dnnl_query_weights_md),
                ox = own(c, pd, dnnl_query_dst_md);
  const dnnl_memory_desc_t *bmd = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
  void *b;
  DNNL_OK(dnnl_memory_get_data_handle(bordered, &b));
  memset(b, 0, dnnl_memory_desc_get_size(bmd));
  DNNL_OK(dnnl_memory_desc_init_submemory(&part, bmd, zd, at));
  dnnl_memory_desc_t rotated;
  DNNL_OK(dnnl_memory_desc_init_by_strides(&rotated, 4, rd, dnnl_f32, r_strides));
  c->kernel = kernel;
  c->taps = k * k;
  c->block = ci * f;
  c->rotated = malloc(sizeof(float) * (size_t)(c->taps * c->block));
  chain_reorder(c, wrap(c, &z, dz), wrap(c, &part, b));
  chain_reorder(c, wrap(c, &rotated, c->rotated), ow);
  chain_conv(c, pd,
             (dnnl_exec_arg_t[]){{DNNL_ARG_SRC, bordered}, {DNNL_ARG_WEIGHTS, ow}, {DNNL_ARG_DST, ox}});
  DNNL_OK(dnnl_memory_desc_init_submemory(&part, &x, td, origin));
  chain_reorder(c, ox, wrap(c, &part, dx));
  dnnl_primitive_desc_destroy(pd);
  /* the edges: dx's last row from dz's last row; its last column (less the corner) from
   * dz's last column, described with height and width swapped (strides over the same
   * memory) so that it is a row too */
  for (int e = 0; e < 2; e++) {
    dnnl_dims_t x_all = {n, ci, h, h}, x_str = {h * h * ci, 1, e ? ci : h * ci, e ? h * ci : ci};
    dnnl_dims_t z_all = {n, f, oh, oh}, z_str = {oh * oh * f, 1, e ? f : oh * f, e ? oh * f : f};
    dnnl_dims_t kd = {f, ci, k, k}, k_str = {1, f, e ? ci * f : k * ci * f, e ? k * ci * f : ci * f};
    dnnl_dims_t ex = {n, ci, 1, e ? t : h}, ex_at = {0, 0, t, 0}, ez = {n, f, 1, oh},
                ez_at = {0, 0, oh - 1, 0};
    dnnl_dims_t pad_l = {k - 1, 0}, pad_r = {0, 0};
    dnnl_memory_desc_t all, x_part, z_part, kernel_md, x_dense, z_dense, k_any;
    DNNL_OK(dnnl_memory_desc_init_by_strides(&all, 4, x_all, dnnl_f32, x_str));
    DNNL_OK(dnnl_memory_desc_init_submemory(&x_part, &all, ex, ex_at));
    DNNL_OK(dnnl_memory_desc_init_by_strides(&all, 4, z_all, dnnl_f32, z_str));
    DNNL_OK(dnnl_memory_desc_init_submemory(&z_part, &all, ez, ez_at));
    DNNL_OK(dnnl_memory_desc_init_by_strides(&kernel_md, 4, kd, dnnl_f32, k_str));
    DNNL_OK(dnnl_memory_desc_init_by_tag(&x_dense, 4, ex, dnnl_f32, dnnl_nhwc));
    DNNL_OK(dnnl_memory_desc_init_by_tag(&z_dense, 4, ez, dnnl_f32, dnnl_nhwc));
    DNNL_OK(dnnl_memory_desc_init_by_tag(&k_any, 4, kd, dnnl_f32, dnnl_format_tag_any));
    pad_r[1] = e ? 1 : 0; /* the column stops a row short of the corner */
    DNNL_OK(dnnl_dilated_convolution_backward_data_desc_init(&op, dnnl_convolution_direct, &x_dense, &k_any,
                                                             &z_dense, one, none, pad_l, pad_r));
    pd = conv_pd(&op);
    dnnl_memory_t oz = own(c, pd, dnnl_query_diff_dst_md), okn = own(c, pd, dnnl_query_weights_md),
                  oxe = own(c, pd, dnnl_query_diff_src_md);
    chain_reorder(c, wrap(c, &z_part, dz), oz);
    chain_reorder(c, wrap(c, &kernel_md, kernel), okn);
    chain_conv(
        c, pd,
        (dnnl_exec_arg_t[]){{DNNL_ARG_DIFF_DST, oz}, {DNNL_ARG_WEIGHTS, okn}, {DNNL_ARG_DIFF_SRC, oxe}});
    chain_reorder(c, oxe, wrap(c, &x_part, dx));
    dnnl_primitive_desc_destroy(pd);
  }
}

static void bench_dx(int layer, const shape *s, int threads) {
  const int64_t oh = s->h - s->k + 1, nx = s->n * s->h * s->w * s->c, nz = s->n * oh * oh * s->f;
  const int64_t nw = s->k * s->k * s->c * s->f;
  float *dz = malloc(sizeof(float) * (size_t)nz), *kernel = malloc(sizeof(float) * (size_t)nw);
  float *dx[2] = {malloc(sizeof(float) * (size_t)nx), malloc(sizeof(float) * (size_t)nx)};
  unsigned seed = 11;
  for (int64_t i = 0; i < nz; i++)
    dz[i] = (float)((seed = seed * 1664525u + 1013904223u) >> 8) / (1u << 24) - 0.5f;
  for (int64_t i = 0; i < nw; i++)
    kernel[i] = (float)((seed = seed * 1664525u + 1013904223u) >> 8) / (1u << 24) - 0.5f;
  dx_chain chains[2] = {{0}};
  dx_whole(&chains[0], s, dz, kernel, dx[0]);
  dx_parts(&chains[1], s, dz, kernel, dx[1]);
  double *t[2] = {malloc(sizeof(double) * (size_t)reps), malloc(sizeof(double) * (size_t)reps)};
  for (int r = 0; r < warmup + reps; r++)
    for (int i = 0; i < 2; i++) {
      double t0 = lurn_clock();
      dx_chain_run(&chains[i]);
      if (r >= warmup) t[i][r - warmup] = lurn_clock() - t0;
    }
  double diff = 0;
  for (int64_t i = 0; i < nx; i++) diff = fmax(diff, fabs((double)dx[0][i] - dx[1][i]));
  char what[96];
  snprintf(what, sizeof what, "Winograd part + 2 direct edges + reorders; max |parts - whole| %.2g", diff);
  const char *name[2] = {"whole", "parts"}, *impl[2] = {"Winograd backward-data + reorders", what};
  for (int i = 0; i < 2; i++) {
    qsort(t[i], (size_t)reps, sizeof(double), cmp_double);
    best_s = t[i][0];
    double m = reps % 2 ? t[i][reps / 2] : (t[i][reps / 2 - 1] + t[i][reps / 2]) / 2;
    report(layer, threads, "oneDNN dx, NHWC", name[i], m, flops(s), impl[i]);
    for (int j = 0; j < chains[i].ncalls; j++) dnnl_primitive_destroy(chains[i].calls[j].prim);
    for (int j = 0; j < chains[i].nmems; j++) dnnl_memory_destroy(chains[i].mems[j]);
    free(chains[i].rotated);
    free(t[i]);
    free(dx[i]);
  }
  free(dz);
  free(kernel);
}
#endif

static int usage(const char *why) {
  fprintf(stderr,
          "conv_bench: %s\nusage: conv_bench [--threads T] [--reps R] [--warmup W] [--layer 1|2] [--blocked "
          "1] [--check 1]\n",
          why);
  return 2;
}

int main(int argc, char **argv) {
  int threads = 0, only = 0;
  for (int i = 1; i < argc; i++) {
    int *opt = !strcmp(argv[i], "--threads")   ? &threads
               : !strcmp(argv[i], "--reps")    ? &reps
               : !strcmp(argv[i], "--warmup")  ? &warmup
               : !strcmp(argv[i], "--layer")   ? &only
               : !strcmp(argv[i], "--blocked") ? &blocked
               : !strcmp(argv[i], "--check")   ? &check
                                               : NULL;
    if (!opt) return usage("unknown argument");
    if (i + 1 >= argc) return usage("an option is missing its value");
    *opt = atoi(argv[++i]);
  }
  if (reps < 1 || warmup < 0 || threads < 0 || only < 0 || only > 2) return usage("bad option value");
  /* oneDNN's OpenMP runtime follows omp_set_num_threads, as lurn's own threads do */
  lurn_set_num_threads(threads ? threads : omp_get_max_threads());
  threads = lurn_get_num_threads();
#ifdef LURN_HAVE_DNNL
  DNNL_OK(dnnl_engine_create(&engine, dnnl_cpu, 0));
  DNNL_OK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
#endif
  for (int layer = 1; layer <= 2; layer++) {
    if (only && layer != only) continue;
    bench_lurn(layer, &layers[layer - 1], threads);
#ifdef LURN_HAVE_DNNL
    const dnnl_alg_kind_t algs[] = {dnnl_convolution_direct, dnnl_convolution_winograd,
                                    dnnl_convolution_auto};
    for (int a = 0; a < 3; a++) bench_dnnl(layer, &layers[layer - 1], algs[a], threads);
    if (layer == 2 && !blocked) bench_dx(layer, &layers[layer - 1], threads);
#endif
  }
#ifdef LURN_HAVE_DNNL
  dnnl_stream_destroy(stream);
  dnnl_engine_destroy(engine);
#endif
  return 0;
}
