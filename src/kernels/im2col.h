/* Window geometry of 2-D convolution and pooling over channels-last images, and the
 * im2col/col2im kernels that turn a convolution into one matrix product. Shared by
 * src/layers/conv2d.c and src/layers/pooling.c; not part of the public API. */
#ifndef LURN_IM2COL_H
#define LURN_IM2COL_H

#include "lurn.h"

/* One image (h, w, c) seen through a (kh, kw) window moved by (sh, sw), its taps spread
 * by (dh, dw); (oh, ow) windows, the first at (-pad_top, -pad_left). */
typedef struct lurn_conv_geom {
  int64_t h, w, c;
  int64_t kh, kw, sh, sw, dh, dw;
  int64_t pad_top, pad_left;
  int64_t oh, ow;
} lurn_conv_geom;

/* Sets oh, ow and the padding from the other fields: "valid" (same = 0) pads nothing;
 * "same" follows TensorFlow: out = ceil(in / stride), pad_total = max((out - 1) * stride
 * + (k - 1) * dilation + 1 - in, 0), pad_top = pad_total / 2, the odd pixel at the
 * bottom/right. Fails, naming `layer` and the shapes, on an empty input or a window
 * larger than the input. `what` names the window in messages ("kernel", "pool"). */
lurn_status lurn_conv_geom_init(lurn_conv_geom *g, int same, const char *layer, const char *what);

/* The name of the first of a convolution's window options that is not positive
 * ("kernel_size", "strides", "dilation_rate"; pairs), or NULL when all are. */
const char *lurn_conv_window_bad_option(const int64_t kernel_size[2], const int64_t strides[2],
                                        const int64_t dilation_rate[2]);

/* Rows [r0, r0 + rows) of the im2col matrix of x (N, h, w, c) into cols (rows, kh*kw*c):
 * row n*oh*ow + i*ow + j holds the window of output (i, j) of sample n, its columns in
 * the (kh, kw, c) order of a Keras kernel; taps in the padding read 0. */
void lurn_im2col(const lurn_conv_geom *g, const float *x, int64_t r0, int64_t rows, float *cols);

/* The adjoint: adds rows [r0, r0 + rows) of cols back onto x (taps in the padding drop). */
void lurn_col2im(const lurn_conv_geom *g, const float *cols, int64_t r0, int64_t rows, float *x);

#endif
