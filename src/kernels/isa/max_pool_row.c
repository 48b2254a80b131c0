/* Max pooling's output row (src/kernels/pool_rows.h), compiled once per instruction set:
 * CMakeLists.txt builds this file with -DLURN_ISA=baseline, and in the portable build also
 * with -mavx2 (avx2) and -mavx512f (avx512); src/layers/pooling.c calls the copy the CPU
 * runs. Measured (docs/benchmarks.md, "Portable builds"): in the default build's SSE2 this
 * row was 22% of the seeds' CNN's training samples against 3% in a -march=native build. */
#include <string.h>

#include "kernels/pool_rows.h"

#ifndef LURN_ISA
#error "compile with -DLURN_ISA=baseline (or avx2, avx512 with their -m options)"
#endif

/* 16 channels at a time in registers (GCC/Clang vector extensions: one AVX-512 register,
 * two AVX2 ones, four SSE2 ones). Written with compares and bit blends, not `if`: compiled
 * from a plain loop, each tap's update became a masked store behind a data-dependent branch
 * that mispredicted about half the time. */
typedef float f32x16 __attribute__((vector_size(64)));
typedef int32_t i32x16 __attribute__((vector_size(64)));

/* The max over the window [h0, h1) x [w0, w1) of channels [ch, ch + 16), and its offset. */
static void max_window16(const float *img, const lurn_conv_geom *g, int64_t h0, int64_t h1, int64_t w0, int64_t w1,
                         int32_t ch, float *out, int32_t *arg) {
  const int32_t c = (int32_t)g->c;
  const i32x16 lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const int32_t first = (int32_t)((h0 * g->w + w0) * c) + ch;
  f32x16 best;
  memcpy(&best, img + first, sizeof best);
  i32x16 at = lane + first;
  for (int64_t ih = h0; ih < h1; ih++)
    for (int64_t iw = ih == h0 ? w0 + 1 : w0; iw < w1; iw++) {
      const int32_t off = (int32_t)((ih * g->w + iw) * c) + ch;
      f32x16 v;
      memcpy(&v, img + off, sizeof v);
      /* all ones where v wins; a NaN wins and then stays (v > NaN is false), so a NaN in
       * the window is the max wherever it is, as in PyTorch (not only when it comes first) */
      const i32x16 take = (v > best) | (v != v);
      best = (f32x16)(((i32x16)v & take) | ((i32x16)best & ~take));
      at = ((lane + off) & take) | (at & ~take);
    }
  memcpy(out + ch, &best, sizeof best);
  memcpy(arg + ch, &at, sizeof at);
}

/* The max over the window of channels [ch, ch + 16) alone: a forward no backward follows
 * (predict, evaluate) keeps no offsets. One sample through the seeds' CNN's first pooling
 * (26x26x64), one thread: 68 us with the offsets, 51 us without (docs/benchmarks.md,
 * "Single predictions"). */
static void max_window16_value(const float *img, const lurn_conv_geom *g, int64_t h0, int64_t h1, int64_t w0,
                               int64_t w1, int32_t ch, float *out) {
  const int32_t c = (int32_t)g->c;
  f32x16 best;
  memcpy(&best, img + (h0 * g->w + w0) * c + ch, sizeof best);
  for (int64_t ih = h0; ih < h1; ih++)
    for (int64_t iw = ih == h0 ? w0 + 1 : w0; iw < w1; iw++) {
      f32x16 v;
      memcpy(&v, img + (ih * g->w + iw) * c + ch, sizeof v);
      const i32x16 take = (v > best) | (v != v); /* as max_window16: a NaN wins and stays */
      best = (f32x16)(((i32x16)v & take) | ((i32x16)best & ~take));
    }
  memcpy(out + ch, &best, sizeof best);
}

void LURN_ISA_NAME(lurn_max_pool_row)(const lurn_conv_geom *g, const float *img, int64_t i, float *out,
                                      int32_t *arg) {
  const int32_t c = (int32_t)g->c, vector_end = c / 16 * 16;
  int32_t unused[16]; /* the tail's offsets when none are kept */
  for (int64_t j = 0; j < g->ow; j++, out += c, arg = arg ? arg + c : NULL) {
    int64_t h0, h1, w0, w1;
    lurn_pool_clip(g, i, j, &h0, &h1, &w0, &w1);
    for (int32_t ch = 0; ch < vector_end; ch += 16) {
      if (arg)
        max_window16(img, g, h0, h1, w0, w1, ch, out, arg);
      else
        max_window16_value(img, g, h0, h1, w0, w1, ch, out);
    }
    if (vector_end == c) continue;
    int32_t *tail = arg ? arg + vector_end : unused; /* the offsets of channels vector_end.. */
    const int32_t first = (int32_t)((h0 * g->w + w0) * c);
    for (int32_t ch = vector_end; ch < c; ch++) out[ch] = img[first + ch], tail[ch - vector_end] = first + ch;
    for (int64_t ih = h0; ih < h1; ih++)
      for (int64_t iw = ih == h0 ? w0 + 1 : w0; iw < w1; iw++) {
        const int32_t off = (int32_t)((ih * g->w + iw) * c);
        for (int32_t ch = vector_end; ch < c; ch++)
          if (img[off + ch] > out[ch] || img[off + ch] != img[off + ch])
            out[ch] = img[off + ch], tail[ch - vector_end] = off + ch;
      }
  }
}

/* Backward of output row i when windows do not overlap: every input inside a window gets
 * dy where it was the max and 0 elsewhere, written (not added) window by window; inputs
 * outside every window are left as they are (the caller clears them). Each input is written
 * once, in order, where a scatter of dy onto a cleared dx touched the band twice and at
 * random. relu_y: relu's gradient of the layer below is applied, as a 0 or 1 factor. */
void LURN_ISA_NAME(lurn_max_pool_row_backward)(const lurn_conv_geom *g, const float *dy, const int32_t *arg,
                                               const float *relu_y, int64_t i, float *img) {
  const int32_t c = (int32_t)g->c;
  for (int64_t j = 0; j < g->ow; j++, dy += c, arg += c, relu_y = relu_y ? relu_y + c : NULL) {
    int64_t h0, h1, w0, w1;
    lurn_pool_clip(g, i, j, &h0, &h1, &w0, &w1);
    for (int64_t ih = h0; ih < h1; ih++)
      for (int64_t iw = w0; iw < w1; iw++) {
        const int32_t off = (int32_t)((ih * g->w + iw) * c);
        float *dx = img + off;
        /* 0 + ...: what the scatter onto zeros gave, -0 included */
        if (relu_y)
          for (int32_t ch = 0; ch < c; ch++)
            dx[ch] = arg[ch] == off + ch ? 0.0f + (relu_y[ch] > 0 ? 1.0f : 0.0f) * dy[ch] : 0.0f;
        else
          for (int32_t ch = 0; ch < c; ch++) dx[ch] = arg[ch] == off + ch ? 0.0f + dy[ch] : 0.0f;
      }
  }
}
