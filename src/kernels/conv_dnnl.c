/* Conv2D on oneDNN: three primitives (forward, backward-data, backward-weights), each
 * with the kernel in the layout it picks. Direct convolutions run on lurn's NHWC
 * buffers where they lie; Winograd, where it pays (winograd_pays), on oneDNN's blocked
 * activations, reordered from and to ours around the primitive. oneDNN's JIT kernels
 * beat im2col + sgemm on the seeds' CNN (docs/benchmarks.md, "Conv2D on oneDNN"); its
 * reference loops do not, so a pass that only has those leaves the layer on im2col.
 * Where Winograd's 4x4 tiles would waste most of a tile row of dx, dx is computed in
 * parts instead, on one thread (dx_in_parts).
 *
 * oneDNN (OpenMP build) runs on omp_get_max_threads() threads and plans its work for
 * that count when a primitive is made, so the primitives are remade when lurn's
 * thread count changes; at a fixed count its results are the same run after run. */
#include "kernels/conv_dnnl.h"

#include <stdlib.h>
#include <string.h>

#ifndef LURN_HAVE_DNNL

lurn_dnnl_conv *lurn_dnnl_conv_new(const lurn_conv_geom *g, int64_t filters, int use_bias, int relu) {
  (void)g, (void)filters, (void)use_bias, (void)relu;
  return NULL;
}

int lurn_dnnl_conv_fuses_relu(const lurn_dnnl_conv *c) {
  (void)c;
  return 0;
}

int lurn_dnnl_conv_dx_pays(const lurn_dnnl_conv *c) {
  (void)c;
  return 0;
}

void lurn_dnnl_conv_free(lurn_dnnl_conv *c) {
  (void)c;
}

lurn_status lurn_dnnl_conv_prepare(lurn_dnnl_conv *c, int64_t n, int *usable) {
  (void)c, (void)n;
  *usable = 0;
  return LURN_OK;
}

lurn_status lurn_dnnl_conv_forward(lurn_dnnl_conv *c, const float *x, const float *kernel, const float *bias,
                                   float *z) {
  (void)c, (void)x, (void)kernel, (void)bias, (void)z;
  return lurn_fail(LURN_EINVAL, "Conv2D: liblurn was built without oneDNN");
}

lurn_status lurn_dnnl_conv_backward(lurn_dnnl_conv *c, const float *x, const float *dz, const float *kernel,
                                    float *dkernel, float *dx) {
  (void)c, (void)x, (void)dz, (void)kernel, (void)dkernel, (void)dx;
  return lurn_fail(LURN_EINVAL, "Conv2D: liblurn was built without oneDNN");
}

#else

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

/* One argument of a primitive. `user` wraps lurn's buffer (its handle set at each call);
 * when the primitive wants another layout, `own` holds the data in that layout and
 * `reorder` copies user -> own before the primitive (inputs) or own -> user after it
 * (outputs). `user` may be a part of lurn's buffer (a oneDNN submemory); `view`, when
 * set, is the part of `own` that the reorder fills, the rest of `own` zero. */
typedef struct {
  int arg; /* DNNL_ARG_* */
  int output;
  dnnl_memory_t user, own, view;
  dnnl_primitive_t reorder;
} port;

/* A primitive, its scratchpad (ours, so that no call allocates) and its arguments. */
typedef struct {
  dnnl_primitive_t prim;
  dnnl_memory_t scratch;
  int nports;
  port ports[4];
} step;

struct lurn_dnnl_conv {
  lurn_conv_geom g;
  int64_t f;
  int use_bias, relu; /* relu: max(0, .) after the bias, in the forward pass when oneDNN can */
  dnnl_engine_t engine;
  dnnl_stream_t stream;
  /* for batch n at `threads` threads (n = 0: none made yet) */
  int64_t n;
  int threads, usable, fused, backward_made;
  dnnl_primitive_desc_t fwd_pd, bwd_data_pd, bwd_weights_pd;
  step fwd, bwd_data, bwd_weights;
  /* dx in parts (dx_in_parts): bwd_data is then a Winograd forward over dz with the
   * kernel rotated (`rotated`, refilled at each call) on the part of dx whose sides are
   * multiples of 4; `edge` are direct backward-data passes on the last row of dx (0)
   * and the last column (1), where dx has them */
  int dx_parts;
  dnnl_primitive_desc_t edge_pd[2];
  step edge[2];
  float *rotated;
};

static lurn_status fail(dnnl_status_t s, const char *what) {
  if (s == dnnl_out_of_memory) return lurn_fail(LURN_ENOMEM, "Conv2D: out of memory in oneDNN (%s)", what);
  return lurn_fail(LURN_EINVAL, "Conv2D: oneDNN %s failed (status %d)", what, (int)s);
}

#define TRY(call, what)                            \
  do {                                             \
    dnnl_status_t s_ = (call);                     \
    if (s_ != dnnl_success) return fail(s_, what); \
  } while (0)

static void step_free(step *s) {
  for (int i = 0; i < s->nports; i++) {
    port *p = &s->ports[i];
    if (p->reorder) dnnl_primitive_destroy(p->reorder);
    if (p->view) dnnl_memory_destroy(p->view);
    if (p->own) dnnl_memory_destroy(p->own);
    if (p->user) dnnl_memory_destroy(p->user);
  }
  if (s->prim) dnnl_primitive_destroy(s->prim);
  if (s->scratch) dnnl_memory_destroy(s->scratch);
  *s = (step){0};
}

static void pd_free(dnnl_primitive_desc_t *pd) {
  if (*pd) dnnl_primitive_desc_destroy(*pd);
  *pd = NULL;
}

/* Everything made for one batch size and thread count. */
static void release(lurn_dnnl_conv *c) {
  step_free(&c->fwd);
  step_free(&c->bwd_data);
  step_free(&c->bwd_weights);
  pd_free(&c->fwd_pd);
  pd_free(&c->bwd_data_pd);
  pd_free(&c->bwd_weights_pd);
  for (int i = 0; i < 2; i++) {
    step_free(&c->edge[i]);
    pd_free(&c->edge_pd[i]);
  }
  free(c->rotated);
  c->rotated = NULL;
  c->n = 0;
  c->usable = c->fused = c->backward_made = c->dx_parts = 0;
}

lurn_dnnl_conv *lurn_dnnl_conv_new(const lurn_conv_geom *g, int64_t filters, int use_bias, int relu) {
  lurn_dnnl_conv *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  *c = (lurn_dnnl_conv){.g = *g, .f = filters, .use_bias = use_bias, .relu = relu};
  if (dnnl_engine_create(&c->engine, dnnl_cpu, 0) != dnnl_success ||
      dnnl_stream_create(&c->stream, c->engine, dnnl_stream_default_flags) != dnnl_success) {
    lurn_dnnl_conv_free(c);
    return NULL;
  }
  return c;
}

void lurn_dnnl_conv_free(lurn_dnnl_conv *c) {
  if (!c) return;
  release(c);
  if (c->stream) dnnl_stream_destroy(c->stream);
  if (c->engine) dnnl_engine_destroy(c->engine);
  free(c);
}

/* lurn's layouts of the batch of n: x and z channels-last, the kernel (kh, kw, c, f),
 * which oneDNN calls hwio over its logical (f, c, kh, kw); and "any" of each, for
 * primitives that pick their own. */
typedef struct {
  dnnl_memory_desc_t x, z, kernel, bias, x_any, z_any, kernel_any;
  dnnl_dims_t strides, dilates, pad_l, pad_r;
} layouts;

static lurn_status describe(const lurn_dnnl_conv *c, int64_t n, layouts *d) {
  const lurn_conv_geom *g = &c->g;
  dnnl_dims_t x = {n, g->c, g->h, g->w}, z = {n, c->f, g->oh, g->ow}, k = {c->f, g->c, g->kh, g->kw},
              b = {c->f};
  TRY(dnnl_memory_desc_init_by_tag(&d->x, 4, x, dnnl_f32, dnnl_nhwc), "memory_desc_init");
  TRY(dnnl_memory_desc_init_by_tag(&d->z, 4, z, dnnl_f32, dnnl_nhwc), "memory_desc_init");
  TRY(dnnl_memory_desc_init_by_tag(&d->kernel, 4, k, dnnl_f32, dnnl_hwio), "memory_desc_init");
  TRY(dnnl_memory_desc_init_by_tag(&d->bias, 1, b, dnnl_f32, dnnl_a), "memory_desc_init");
  TRY(dnnl_memory_desc_init_by_tag(&d->x_any, 4, x, dnnl_f32, dnnl_format_tag_any), "memory_desc_init");
  TRY(dnnl_memory_desc_init_by_tag(&d->z_any, 4, z, dnnl_f32, dnnl_format_tag_any), "memory_desc_init");
  TRY(dnnl_memory_desc_init_by_tag(&d->kernel_any, 4, k, dnnl_f32, dnnl_format_tag_any), "memory_desc_init");
  /* oneDNN counts dilation from 0 (none) and wants the padding on both sides; the
   * bottom/right padding is what the last window needs beyond the image, never < 0 */
  int64_t span_h = (g->kh - 1) * g->dh + 1, span_w = (g->kw - 1) * g->dw + 1;
  int64_t pad_b = (g->oh - 1) * g->sh + span_h - g->h - g->pad_top;
  int64_t pad_r = (g->ow - 1) * g->sw + span_w - g->w - g->pad_left;
  d->strides[0] = g->sh, d->strides[1] = g->sw;
  d->dilates[0] = g->dh - 1, d->dilates[1] = g->dw - 1;
  d->pad_l[0] = g->pad_top, d->pad_l[1] = g->pad_left;
  d->pad_r[0] = pad_b > 0 ? pad_b : 0, d->pad_r[1] = pad_r > 0 ? pad_r : 0;
  return LURN_OK;
}

/* 1 if pd's implementation is one of oneDNN's fast ones, not its reference loops. */
static int fast(const_dnnl_primitive_desc_t pd) {
  const char *impl = NULL;
  if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success || !impl) return 0;
  return strncmp(impl, "ref", 3) != 0;
}

/* A primitive descriptor for op with our scratchpad, or NULL (*pd) when oneDNN has none,
 * or only its reference code. */
static lurn_status make_pd(lurn_dnnl_conv *c, const dnnl_convolution_desc_t *op,
                           const_dnnl_primitive_desc_t hint, int relu, dnnl_primitive_desc_t *pd) {
  dnnl_primitive_attr_t attr;
  dnnl_post_ops_t ops = NULL;
  *pd = NULL;
  TRY(dnnl_primitive_attr_create(&attr), "primitive_attr_create");
  dnnl_status_t s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
  if (s == dnnl_success && relu) s = dnnl_post_ops_create(&ops);
  if (s == dnnl_success && relu) s = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
  if (s == dnnl_success && relu) s = dnnl_primitive_attr_set_post_ops(attr, ops);
  if (s == dnnl_success) s = dnnl_primitive_desc_create(pd, op, attr, c->engine, hint);
  if (ops) dnnl_post_ops_destroy(ops);
  dnnl_primitive_attr_destroy(attr);
  if (s == dnnl_unimplemented) return LURN_OK;
  TRY(s, "primitive_desc_create");
  if (!fast(*pd)) pd_free(pd);
  return LURN_OK;
}

static double up16(int64_t v) {
  return (double)((v + 15) / 16 * 16);
}

/* oneDNN's Winograd F(4x4, 3x3) multiplies 6x6 transformed tiles per 4x4 outputs, with
 * the channels padded to 16: 1 if that is under half of direct's multiply-adds. The
 * seeds' CNN's second layer (64 -> 128 channels) needs 0.3 of them; its first, with
 * one input channel padded to 16, 4.8 times more. */
static int winograd_pays(const lurn_dnnl_conv *c) {
  const lurn_conv_geom *g = &c->g;
  double tiles = (double)((g->oh + 3) / 4 * ((g->ow + 3) / 4));
  double direct = (double)(g->c * c->f * g->kh * g->kw * g->oh * g->ow);
  return up16(g->c) * up16(c->f) * 36 * tiles < 0.5 * direct;
}

/* The pass's descriptor for algorithm alg: direct on lurn's NHWC activations, Winograd
 * on the layout it picks. *pd stays NULL when oneDNN has no fast code for it. */
static lurn_status forward_pd(lurn_dnnl_conv *c, const layouts *d, dnnl_alg_kind_t alg) {
  const int nhwc = alg == dnnl_convolution_direct;
  dnnl_convolution_desc_t op;
  TRY(dnnl_dilated_convolution_forward_desc_init(&op, dnnl_forward_training, alg, nhwc ? &d->x : &d->x_any,
                                                 &d->kernel_any, c->use_bias ? &d->bias : NULL,
                                                 nhwc ? &d->z : &d->z_any, d->strides, d->dilates, d->pad_l,
                                                 d->pad_r),
      "convolution_forward_desc_init");
  lurn_status st = c->relu ? make_pd(c, &op, NULL, 1, &c->fwd_pd) : LURN_OK;
  c->fused = c->fwd_pd != NULL;
  return st || c->fwd_pd ? st : make_pd(c, &op, NULL, 0, &c->fwd_pd);
}

static lurn_status backward_data_pd(lurn_dnnl_conv *c, const layouts *d, dnnl_alg_kind_t alg) {
  const int nhwc = alg == dnnl_convolution_direct;
  dnnl_convolution_desc_t op;
  TRY(dnnl_dilated_convolution_backward_data_desc_init(&op, alg, nhwc ? &d->x : &d->x_any, &d->kernel_any,
                                                       nhwc ? &d->z : &d->z_any, d->strides, d->dilates,
                                                       d->pad_l, d->pad_r),
      "convolution_backward_data_desc_init");
  return make_pd(c, &op, c->fwd_pd, 0, &c->bwd_data_pd);
}

/* ---- dx in parts --------------------------------------------------------------------
 * oneDNN's Winograd covers dx with 4x4 tiles: 16 per image and channel for 13x13 (the
 * seeds' CNN's second layer), against 9 for 12x12. Where a side of dx is 4k + 1 long,
 * the Winograd part stops one row (column) short, and that last row and column are
 * direct backward-data passes of their own, over the dz rows that reach them only.
 * The Winograd part is a forward convolution: at stride 1, dx is dz, bordered with
 * kh - 1 - pad_top zero rows above (kw - 1 - pad_left columns left), correlated with
 * the kernel turned 180 degrees, its input and output channels swapped. Winograd's
 * backward-data would need unequal padding above and below for the part, and oneDNN
 * 2.6 gets that wrong (its rows come out shifted by one), so the forward runs on an
 * explicitly bordered copy of dz, with no padding. */

/* Rows (or columns) of dx that the Winograd part covers: all but the last when there
 * are 4k + 1 of them. */
static int64_t tiled(int64_t n) {
  return n % 4 == 1 && n > 4 ? n - 1 : n;
}

/* 1 if dx is computed in parts, asked where Winograd pays: a 3x3 kernel at stride 1,
 * undilated (what oneDNN's Winograd takes), a side of dx that tiled() shortens, and one
 * thread. On the seeds' CNN's second layer (dx 13x13) Conv2D's backward with dx took
 * 7.39 ms in parts against 8.07 whole at 1 thread; at 2 threads the two were within
 * 0.1 ms of each other (3.87 against 3.85 ms), the Winograd part saving what the edges'
 * passes and reorders cost, so dx stays whole there, in a third as many parallel
 * regions (bench/conv_bench, medians of alternating runs). */
static int dx_in_parts(const lurn_dnnl_conv *c, int threads) {
  const lurn_conv_geom *g = &c->g;
  return threads == 1 && g->kh == 3 && g->kw == 3 && g->sh == 1 && g->sw == 1 && g->dh == 1 && g->dw == 1 &&
         (tiled(g->h) < g->h || tiled(g->w) < g->w);
}

/* Edge 0 is dx's last row, edge 1 its last column (less the corner where edge 0 has it). */
static int has_edge(const lurn_dnnl_conv *c, int i) {
  return i ? tiled(c->g.w) < c->g.w : tiled(c->g.h) < c->g.h;
}

/* One axis of a part of dx: its rows [lo, hi), the rows [z_lo, z_hi) of dz (out of
 * `out`) that reach them through a kernel of k rows, and the padding that lines the two
 * up, at stride 1 without dilation. */
typedef struct {
  int64_t lo, hi, z_lo, z_hi, pad_l, pad_r;
} span;

static span span_of(int64_t lo, int64_t hi, int64_t k, int64_t pad, int64_t out) {
  span s = {.lo = lo, .hi = hi, .z_lo = lo + pad - (k - 1), .z_hi = hi + pad};
  if (s.z_lo < 0) s.z_lo = 0;
  if (s.z_hi > out) s.z_hi = out;
  s.pad_l = lo + pad - s.z_lo;
  s.pad_r = s.z_hi - s.z_lo - 1 + k - (hi - lo) - s.pad_l;
  return s;
}

/* The Winograd part: dz's first z_part rows and columns, in lurn's buffer, land at `at`
 * in the bordered copy (n, f, tiled(h) + kh - 1, tiled(w) + kw - 1); the result is dx's
 * first tiled(h) rows and tiled(w) columns (x_part). The kernel is `rotated`: (kh, kw,
 * c, f) as lurn's, read as the weights (c, f, kh, kw) of the swapped convolution. */
typedef struct {
  dnnl_memory_desc_t z_part, x_part, rotated, z_any, x_any, kernel_any;
  dnnl_dims_t at;
} main_layouts;

static lurn_status describe_main(const lurn_dnnl_conv *c, int64_t n, const layouts *d, main_layouts *m) {
  const lurn_conv_geom *g = &c->g;
  const int64_t th = tiled(g->h), tw = tiled(g->w), f = c->f;
  const int64_t z_rows = g->oh < th + g->pad_top ? g->oh : th + g->pad_top;
  const int64_t z_cols = g->ow < tw + g->pad_left ? g->ow : tw + g->pad_left;
  dnnl_dims_t z = {n, f, th + g->kh - 1, tw + g->kw - 1}, x = {n, g->c, th, tw}, k = {g->c, f, g->kh, g->kw};
  dnnl_dims_t part = {n, f, z_rows, z_cols}, origin = {0, 0, 0, 0},
              k_strides = {f, 1, g->kw * g->c * f, g->c * f};
  TRY(dnnl_memory_desc_init_submemory(&m->z_part, &d->z, part, origin), "memory_desc_init_submemory");
  TRY(dnnl_memory_desc_init_submemory(&m->x_part, &d->x, x, origin), "memory_desc_init_submemory");
  TRY(dnnl_memory_desc_init_by_strides(&m->rotated, 4, k, dnnl_f32, k_strides), "memory_desc_init");
  TRY(dnnl_memory_desc_init_by_tag(&m->z_any, 4, z, dnnl_f32, dnnl_format_tag_any), "memory_desc_init");
  TRY(dnnl_memory_desc_init_by_tag(&m->x_any, 4, x, dnnl_f32, dnnl_format_tag_any), "memory_desc_init");
  TRY(dnnl_memory_desc_init_by_tag(&m->kernel_any, 4, k, dnnl_f32, dnnl_format_tag_any), "memory_desc_init");
  m->at[0] = m->at[1] = 0;
  m->at[2] = g->kh - 1 - g->pad_top;
  m->at[3] = g->kw - 1 - g->pad_left;
  return LURN_OK;
}

/* An edge of dx as a backward-data convolution of its own: x_part and z_part are the
 * parts of lurn's buffers it writes and reads, x and z the same shapes packed, the
 * kernel lurn's. Edge 1 (the last column) is described with height and width swapped
 * throughout (the same memory), so that it is a row too and gets oneDNN's direct JIT
 * kernel, which a one-column dx does not. */
typedef struct {
  dnnl_memory_desc_t x_part, z_part, kernel, x, z, kernel_any;
  dnnl_dims_t pad_l, pad_r;
} edge_layouts;

static lurn_status describe_edge(const lurn_dnnl_conv *c, int64_t n, int i, edge_layouts *e) {
  const lurn_conv_geom *g = &c->g;
  const int64_t f = c->f, ch = g->c;
  /* rows: dx's rows for edge 0, its columns for edge 1; cols: the other axis */
  const span rows = i ? span_of(tiled(g->w), g->w, g->kw, g->pad_left, g->ow)
                      : span_of(tiled(g->h), g->h, g->kh, g->pad_top, g->oh);
  const span cols =
      i ? span_of(0, tiled(g->h), g->kh, g->pad_top, g->oh) : span_of(0, g->w, g->kw, g->pad_left, g->ow);
  const int64_t xh = g->w * ch, xw = ch, zh = g->ow * f, zw = f, kh = g->kw * ch * f, kw = ch * f;
  dnnl_dims_t x_all = {n, ch, i ? g->w : g->h, i ? g->h : g->w},
              x_strides = {g->h * xh, 1, i ? xw : xh, i ? xh : xw};
  dnnl_dims_t z_all = {n, f, i ? g->ow : g->oh, i ? g->oh : g->ow},
              z_strides = {g->oh * zh, 1, i ? zw : zh, i ? zh : zw};
  dnnl_dims_t k = {f, ch, i ? g->kw : g->kh, i ? g->kh : g->kw}, k_strides = {1, f, i ? kw : kh, i ? kh : kw};
  dnnl_dims_t x = {n, ch, rows.hi - rows.lo, cols.hi - cols.lo}, x_at = {0, 0, rows.lo, cols.lo};
  dnnl_dims_t z = {n, f, rows.z_hi - rows.z_lo, cols.z_hi - cols.z_lo}, z_at = {0, 0, rows.z_lo, cols.z_lo};
  dnnl_memory_desc_t all;
  TRY(dnnl_memory_desc_init_by_strides(&all, 4, x_all, dnnl_f32, x_strides), "memory_desc_init");
  TRY(dnnl_memory_desc_init_submemory(&e->x_part, &all, x, x_at), "memory_desc_init_submemory");
  TRY(dnnl_memory_desc_init_by_strides(&all, 4, z_all, dnnl_f32, z_strides), "memory_desc_init");
  TRY(dnnl_memory_desc_init_submemory(&e->z_part, &all, z, z_at), "memory_desc_init_submemory");
  TRY(dnnl_memory_desc_init_by_strides(&e->kernel, 4, k, dnnl_f32, k_strides), "memory_desc_init");
  TRY(dnnl_memory_desc_init_by_tag(&e->x, 4, x, dnnl_f32, dnnl_nhwc), "memory_desc_init");
  TRY(dnnl_memory_desc_init_by_tag(&e->z, 4, z, dnnl_f32, dnnl_nhwc), "memory_desc_init");
  TRY(dnnl_memory_desc_init_by_tag(&e->kernel_any, 4, k, dnnl_f32, dnnl_format_tag_any), "memory_desc_init");
  e->pad_l[0] = rows.pad_l, e->pad_l[1] = cols.pad_l;
  e->pad_r[0] = rows.pad_r, e->pad_r[1] = cols.pad_r;
  return LURN_OK;
}

/* The descriptors of dx in parts: the Winograd part in bwd_data_pd, the edges direct in
 * edge_pd; dx_parts stays 0, and none of them is kept, when oneDNN lacks fast code for
 * any one. */
static lurn_status parts_pds(lurn_dnnl_conv *c, int64_t n, const layouts *d) {
  const dnnl_dims_t one = {1, 1}, none = {0, 0};
  dnnl_convolution_desc_t op;
  main_layouts m;
  lurn_status st = describe_main(c, n, d, &m);
  if (st) return st;
  TRY(dnnl_dilated_convolution_forward_desc_init(&op, dnnl_forward_training, dnnl_convolution_winograd,
                                                 &m.z_any, &m.kernel_any, NULL, &m.x_any, one, none, none,
                                                 none),
      "convolution_forward_desc_init");
  if ((st = make_pd(c, &op, NULL, 0, &c->bwd_data_pd))) return st;
  for (int i = 0; i < 2 && c->bwd_data_pd; i++) {
    edge_layouts e;
    if (!has_edge(c, i)) continue;
    if ((st = describe_edge(c, n, i, &e))) return st;
    TRY(dnnl_dilated_convolution_backward_data_desc_init(&op, dnnl_convolution_direct, &e.x, &e.kernel_any,
                                                         &e.z, one, none, e.pad_l, e.pad_r),
        "convolution_backward_data_desc_init");
    if ((st = make_pd(c, &op, NULL, 0, &c->edge_pd[i]))) return st;
    if (!c->edge_pd[i]) pd_free(&c->bwd_data_pd);
  }
  c->dx_parts = c->bwd_data_pd != NULL;
  for (int i = 0; i < 2 && !c->dx_parts; i++) pd_free(&c->edge_pd[i]);
  return LURN_OK;
}

/* No bias gradient here: oneDNN sums NHWC rows in plain SSE loops, a third of the first
 * layer's kernel-gradient time; Conv2D sums them itself while it forms dz. */
static lurn_status backward_weights_pd(lurn_dnnl_conv *c, const layouts *d, dnnl_alg_kind_t alg) {
  const int nhwc = alg == dnnl_convolution_direct;
  dnnl_convolution_desc_t op;
  TRY(dnnl_dilated_convolution_backward_weights_desc_init(&op, alg, nhwc ? &d->x : &d->x_any, &d->kernel_any,
                                                          NULL, nhwc ? &d->z : &d->z_any, d->strides,
                                                          d->dilates, d->pad_l, d->pad_r),
      "convolution_backward_weights_desc_init");
  return make_pd(c, &op, c->fwd_pd, 0, &c->bwd_weights_pd);
}

/* Which algorithm runs each pass: Winograd where it pays and oneDNN has it (AVX-512,
 * 3x3 kernels at stride 1, on its blocked activations, reordered from and to ours),
 * else direct on lurn's NHWC buffers. On the seeds' CNN's second layer Winograd ran
 * forward and the kernel gradient twice as fast as direct, and dx as fast on one
 * thread, a quarter faster on two (docs/benchmarks.md); on one thread dx in parts,
 * where it applies, is faster still. The choice is fixed, never timed at run time, so that results are the
 * same from run to run. usable stays 0 when a pass has no fast code at all. */
static lurn_status make_descriptors(lurn_dnnl_conv *c, int64_t n, int threads, const layouts *d) {
  const dnnl_alg_kind_t direct = dnnl_convolution_direct, wino = dnnl_convolution_winograd;
  const int try_wino = winograd_pays(c);
  lurn_status st;
  if (try_wino && (st = forward_pd(c, d, wino))) return st;
  if (!c->fwd_pd && ((st = forward_pd(c, d, direct)) || !c->fwd_pd)) return st;
  if (try_wino && dx_in_parts(c, threads) && (st = parts_pds(c, n, d))) return st;
  if (try_wino && !c->dx_parts && (st = backward_data_pd(c, d, wino))) return st;
  if (!c->bwd_data_pd && ((st = backward_data_pd(c, d, direct)) || !c->bwd_data_pd)) return st;
  if (try_wino && (st = backward_weights_pd(c, d, wino))) return st;
  if (!c->bwd_weights_pd && ((st = backward_weights_pd(c, d, direct)) || !c->bwd_weights_pd)) return st;
  c->usable = 1;
  return LURN_OK;
}

/* p's reorder between lurn's layout `user` and the primitive's `want`. */
static lurn_status make_reorder(lurn_dnnl_conv *c, port *p, const dnnl_memory_desc_t *user,
                                const dnnl_memory_desc_t *want) {
  dnnl_primitive_desc_t pd;
  TRY(p->output ? dnnl_reorder_primitive_desc_create(&pd, want, c->engine, user, c->engine, NULL)
                : dnnl_reorder_primitive_desc_create(&pd, user, c->engine, want, c->engine, NULL),
      "reorder_primitive_desc_create");
  dnnl_status_t st = dnnl_primitive_create(&p->reorder, pd);
  dnnl_primitive_desc_destroy(pd);
  TRY(st, "primitive_create");
  return LURN_OK;
}

/* Adds argument `arg` of s: lurn's buffer of layout `user`, the primitive's layout `want`. */
static lurn_status add_port(lurn_dnnl_conv *c, step *s, int arg, int output, const dnnl_memory_desc_t *user,
                            const dnnl_memory_desc_t *want) {
  port *p = &s->ports[s->nports++];
  *p = (port){.arg = arg, .output = output};
  TRY(dnnl_memory_create(&p->user, user, c->engine, DNNL_MEMORY_NONE), "memory_create");
  if (dnnl_memory_desc_equal(user, want)) return LURN_OK;
  TRY(dnnl_memory_create(&p->own, want, c->engine, DNNL_MEMORY_ALLOCATE), "memory_create");
  return make_reorder(c, p, user, want);
}

/* Adds input `arg` of s, which the primitive reads in layout `want`: lurn's buffer, of
 * layout `user`, fills the part of it at offsets `at`; the rest is zeroed here, once,
 * and never written again. */
static lurn_status add_bordered_port(lurn_dnnl_conv *c, step *s, int arg, const dnnl_memory_desc_t *user,
                                     const dnnl_memory_desc_t *want, const dnnl_dim_t *at) {
  port *p = &s->ports[s->nports++];
  *p = (port){.arg = arg};
  dnnl_memory_desc_t part;
  void *own;
  TRY(dnnl_memory_create(&p->user, user, c->engine, DNNL_MEMORY_NONE), "memory_create");
  TRY(dnnl_memory_create(&p->own, want, c->engine, DNNL_MEMORY_ALLOCATE), "memory_create");
  TRY(dnnl_memory_get_data_handle(p->own, &own), "memory_get_data_handle");
  memset(own, 0, dnnl_memory_desc_get_size(want));
  TRY(dnnl_memory_desc_init_submemory(&part, want, user->dims, at), "memory_desc_init_submemory");
  TRY(dnnl_memory_create(&p->view, &part, c->engine, own), "memory_create");
  return make_reorder(c, p, user, &part);
}

static const dnnl_memory_desc_t *md(const_dnnl_primitive_desc_t pd, dnnl_query_t what) {
  return dnnl_primitive_desc_query_md(pd, what, 0);
}

static lurn_status make_primitive(lurn_dnnl_conv *c, const_dnnl_primitive_desc_t pd, step *s) {
  TRY(dnnl_primitive_create(&s->prim, pd), "primitive_create");
  const dnnl_memory_desc_t *scratch = md(pd, dnnl_query_scratchpad_md);
  if (scratch && dnnl_memory_desc_get_size(scratch) > 0)
    TRY(dnnl_memory_create(&s->scratch, scratch, c->engine, DNNL_MEMORY_ALLOCATE), "memory_create");
  return LURN_OK;
}

/* The forward primitive for the layouts d; its ports: x, kernel, z, bias. */
static lurn_status make_forward(lurn_dnnl_conv *c, const layouts *d) {
  const_dnnl_primitive_desc_t pd = c->fwd_pd;
  step *s = &c->fwd;
  lurn_status st;
  if ((st = add_port(c, s, DNNL_ARG_SRC, 0, &d->x, md(pd, dnnl_query_src_md))) ||
      (st = add_port(c, s, DNNL_ARG_WEIGHTS, 0, &d->kernel, md(pd, dnnl_query_weights_md))) ||
      (st = add_port(c, s, DNNL_ARG_DST, 1, &d->z, md(pd, dnnl_query_dst_md))) ||
      (c->use_bias && (st = add_port(c, s, DNNL_ARG_BIAS, 0, &d->bias, &d->bias))))
    return st;
  return make_primitive(c, pd, s);
}

/* The primitives of dx in parts. Ports of the Winograd part: dz (bordered), the kernel
 * rotated, dx's part; of each edge: dz's part, the kernel, dx's part. */
static lurn_status make_parts(lurn_dnnl_conv *c, const layouts *d) {
  const lurn_conv_geom *g = &c->g;
  main_layouts m;
  lurn_status st = describe_main(c, c->n, d, &m);
  if (st) return st;
  if (!(c->rotated = malloc(sizeof(float) * (size_t)(g->kh * g->kw * g->c * c->f))))
    return lurn_fail(LURN_ENOMEM, "Conv2D: out of memory for the rotated kernel");
  const_dnnl_primitive_desc_t pd = c->bwd_data_pd;
  step *s = &c->bwd_data;
  if ((st = add_bordered_port(c, s, DNNL_ARG_SRC, &m.z_part, md(pd, dnnl_query_src_md), m.at)) ||
      (st = add_port(c, s, DNNL_ARG_WEIGHTS, 0, &m.rotated, md(pd, dnnl_query_weights_md))) ||
      (st = add_port(c, s, DNNL_ARG_DST, 1, &m.x_part, md(pd, dnnl_query_dst_md))) ||
      (st = make_primitive(c, pd, s)))
    return st;
  for (int i = 0; i < 2; i++) {
    edge_layouts e;
    if (!c->edge_pd[i]) continue;
    pd = c->edge_pd[i];
    s = &c->edge[i];
    if ((st = describe_edge(c, c->n, i, &e)) ||
        (st = add_port(c, s, DNNL_ARG_DIFF_DST, 0, &e.z_part, md(pd, dnnl_query_diff_dst_md))) ||
        (st = add_port(c, s, DNNL_ARG_WEIGHTS, 0, &e.kernel, md(pd, dnnl_query_weights_md))) ||
        (st = add_port(c, s, DNNL_ARG_DIFF_SRC, 1, &e.x_part, md(pd, dnnl_query_diff_src_md))) ||
        (st = make_primitive(c, pd, s)))
      return st;
  }
  return LURN_OK;
}

/* dx's primitives: in parts, or bwd_data over the whole of dx (ports dz, kernel, dx). */
static lurn_status make_backward_data(lurn_dnnl_conv *c, const layouts *d) {
  if (c->dx_parts) return make_parts(c, d);
  const_dnnl_primitive_desc_t pd = c->bwd_data_pd;
  step *s = &c->bwd_data;
  lurn_status st;
  if ((st = add_port(c, s, DNNL_ARG_DIFF_DST, 0, &d->z, md(pd, dnnl_query_diff_dst_md))) ||
      (st = add_port(c, s, DNNL_ARG_WEIGHTS, 0, &d->kernel, md(pd, dnnl_query_weights_md))) ||
      (st = add_port(c, s, DNNL_ARG_DIFF_SRC, 1, &d->x, md(pd, dnnl_query_diff_src_md))) ||
      (st = make_primitive(c, pd, s)))
    return st;
  return LURN_OK;
}

/* The backward primitives, made at the first backward of a batch size so that
 * inference never pays for them. Ports of bwd_weights: x, dz, dkernel. */
static lurn_status make_backward(lurn_dnnl_conv *c) {
  step_free(&c->bwd_data); /* what a failed earlier attempt left */
  step_free(&c->bwd_weights);
  for (int i = 0; i < 2; i++) step_free(&c->edge[i]);
  free(c->rotated);
  c->rotated = NULL;
  layouts d;
  lurn_status st = describe(c, c->n, &d);
  if (st) return st;
  if ((st = make_backward_data(c, &d))) return st;
  const_dnnl_primitive_desc_t pd = c->bwd_weights_pd;
  step *s = &c->bwd_weights;
  if ((st = add_port(c, s, DNNL_ARG_SRC, 0, &d.x, md(pd, dnnl_query_src_md))) ||
      (st = add_port(c, s, DNNL_ARG_DIFF_DST, 0, &d.z, md(pd, dnnl_query_diff_dst_md))) ||
      (st = add_port(c, s, DNNL_ARG_DIFF_WEIGHTS, 1, &d.kernel, md(pd, dnnl_query_diff_weights_md))) ||
      (st = make_primitive(c, pd, s)))
    return st;
  c->backward_made = 1;
  return LURN_OK;
}

lurn_status lurn_dnnl_conv_prepare(lurn_dnnl_conv *c, int64_t n, int *usable) {
  *usable = 0;
  /* inside a parallel region oneDNN would get one thread, not the count it planned for */
  if (omp_in_parallel() || n < 1) return LURN_OK;
  const int threads = lurn_get_num_threads();
  if (omp_get_max_threads() != threads) omp_set_num_threads(threads);
  if (c->n == n && c->threads == threads) {
    *usable = c->usable;
    return LURN_OK;
  }
  release(c);
  layouts d;
  lurn_status st = describe(c, n, &d);
  if (!st) st = make_descriptors(c, n, threads, &d);
  if (!st && c->usable) st = make_forward(c, &d);
  if (st) {
    release(c);
    return st;
  }
  c->n = n;
  c->threads = threads;
  *usable = c->usable;
  return LURN_OK;
}

static lurn_status reorder_run(lurn_dnnl_conv *c, const port *p) {
  dnnl_memory_t own = p->view ? p->view : p->own;
  dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, p->output ? own : p->user},
                             {DNNL_ARG_TO, p->output ? p->user : own}};
  TRY(dnnl_primitive_execute(p->reorder, c->stream, 2, args), "reorder");
  return LURN_OK;
}

/* Runs s on lurn's buffers, one per port in port order (oneDNN takes them all as void *;
 * it writes only the outputs). */
static lurn_status run(lurn_dnnl_conv *c, const step *s, const float *const *buffers) {
  dnnl_exec_arg_t args[5];
  int nargs = 0;
  lurn_status st;
  for (int i = 0; i < s->nports; i++) {
    const port *p = &s->ports[i];
    TRY(dnnl_memory_set_data_handle(p->user, (void *)buffers[i]), "memory_set_data_handle");
    if (p->reorder && !p->output && (st = reorder_run(c, p))) return st;
    args[nargs++] = (dnnl_exec_arg_t){p->arg, p->own ? p->own : p->user};
  }
  if (s->scratch) args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, s->scratch};
  TRY(dnnl_primitive_execute(s->prim, c->stream, nargs, args), "primitive_execute");
  for (int i = 0; i < s->nports; i++)
    if (s->ports[i].reorder && s->ports[i].output && (st = reorder_run(c, &s->ports[i]))) return st;
  TRY(dnnl_stream_wait(c->stream), "stream_wait");
  return LURN_OK;
}

int lurn_dnnl_conv_fuses_relu(const lurn_dnnl_conv *c) {
  return c->usable && c->fused;
}

/* oneDNN's direct kernels for dx run 16 input channels to a vector: with fewer they
 * waste most of it (Conv2D's backward with dx on 28x28x1 images took 4.5 ms on oneDNN,
 * 2.2 ms on im2col; at 8 channels the two were even, at 16 oneDNN was 1.2 times faster). */
int lurn_dnnl_conv_dx_pays(const lurn_dnnl_conv *c) {
  return c->g.c >= 16;
}

lurn_status lurn_dnnl_conv_forward(lurn_dnnl_conv *c, const float *x, const float *kernel, const float *bias,
                                   float *z) {
  if (!c->usable) return lurn_fail(LURN_EINVAL, "Conv2D: oneDNN forward without a usable prepare");
  const float *buffers[4] = {x, kernel, z, bias};
  return run(c, &c->fwd, buffers);
}

/* dx in parts: the kernel turned 180 degrees (tap (i, j) to (kh - 1 - i, kw - 1 - j),
 * blocks of c * f floats), the Winograd part, then the edges. */
static lurn_status backward_data_in_parts(lurn_dnnl_conv *c, const float *dz, const float *kernel,
                                          float *dx) {
  const int64_t taps = c->g.kh * c->g.kw, block = c->g.c * c->f;
  for (int64_t t = 0; t < taps; t++)
    memcpy(c->rotated + t * block, kernel + (taps - 1 - t) * block, sizeof(float) * (size_t)block);
  const float *main_part[3] = {dz, c->rotated, dx}, *edge[3] = {dz, kernel, dx};
  lurn_status st = run(c, &c->bwd_data, main_part);
  for (int i = 0; i < 2 && !st; i++)
    if (c->edge[i].prim) st = run(c, &c->edge[i], edge);
  return st;
}

lurn_status lurn_dnnl_conv_backward(lurn_dnnl_conv *c, const float *x, const float *dz, const float *kernel,
                                    float *dkernel, float *dx) {
  if (!c->usable) return lurn_fail(LURN_EINVAL, "Conv2D: oneDNN backward without a usable prepare");
  lurn_status st;
  if (!c->backward_made && (st = make_backward(c))) return st;
  const float *weights[3] = {x, dz, dkernel};
  if ((st = run(c, &c->bwd_weights, weights)) || !dx) return st;
  if (c->dx_parts) return backward_data_in_parts(c, dz, kernel, dx);
  const float *data[3] = {dz, kernel, dx};
  return run(c, &c->bwd_data, data);
}

#endif
