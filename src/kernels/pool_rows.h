/* Rows of 2-D pooling over channels-last images, shared by src/layers/pooling.c and the
 * max pooling row compiled once per instruction set (src/kernels/isa/max_pool_row.c,
 * chosen at run time: src/kernels/cpu.h). Not part of the public API. */
#ifndef LURN_KERNELS_POOL_ROWS_H
#define LURN_KERNELS_POOL_ROWS_H

#include "kernels/cpu.h"
#include "kernels/im2col.h"

/* The part of window (i, j) inside the image: rows [*h0, *h1), columns [*w0, *w1). */
static inline void lurn_pool_clip(const lurn_conv_geom *g, int64_t i, int64_t j, int64_t *h0, int64_t *h1,
                                  int64_t *w0, int64_t *w1) {
  const int64_t top = i * g->sh - g->pad_top, left = j * g->sw - g->pad_left;
  *h0 = top > 0 ? top : 0, *h1 = top + g->kh < g->h ? top + g->kh : g->h;
  *w0 = left > 0 ? left : 0, *w1 = left + g->kw < g->w ? left + g->kw : g->w;
}

/* Output row i of one image (img: h x w x c): the max of each window into out (ow x c)
 * and, when arg is not NULL, the offset in the image each came from. A NaN in a window is
 * its max, as in PyTorch. */
typedef void lurn_max_pool_row_fn(const lurn_conv_geom *g, const float *img, int64_t i, float *out, int32_t *arg);
LURN_ISA_DECLARE(lurn_max_pool_row_fn, lurn_max_pool_row);

/* Backward of output row i where windows do not overlap: writes each input of a window
 * of the row into img (the image's dx): dy (times relu's 0/1 gradient at y when relu_y is
 * not NULL) where arg says it was the max, 0 elsewhere. Inputs in no window are untouched. */
typedef void lurn_max_pool_row_backward_fn(const lurn_conv_geom *g, const float *dy, const int32_t *arg,
                                           const float *relu_y, int64_t i, float *img);
LURN_ISA_DECLARE(lurn_max_pool_row_backward_fn, lurn_max_pool_row_backward);

#endif
