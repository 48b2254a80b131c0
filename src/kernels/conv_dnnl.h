/* Conv2D's convolution on oneDNN's primitives, for src/layers/conv2d.c; not part of the
 * public API. The batches x (N, h, w, c) and z (N, oh, ow, f) are lurn's channels-last
 * buffers, the kernel (kh, kw, c, f) laid out as Keras does; oneDNN reads and writes
 * them in place where its kernels take that layout, and through reorders into buffers
 * of its own where they do not (in practice the kernel and its gradient, and the
 * activations of Winograd).
 *
 * Primitives are made for one batch size and thread count at a time and kept until
 * either changes. Without oneDNN at build time (LURN_DNNL off or libdnnl-dev missing),
 * or where oneDNN has only its slow reference code, lurn_dnnl_conv_prepare says no and
 * the layer runs its own im2col + GEMM. */
#ifndef LURN_CONV_DNNL_H
#define LURN_CONV_DNNL_H

#include "kernels/im2col.h"
#include "lurn.h"

typedef struct lurn_dnnl_conv lurn_dnnl_conv;

/* The convolution of geometry g into `filters` channels, bias added when use_bias, and
 * relu applied after it in the same pass when `relu` and oneDNN can (see
 * lurn_dnnl_conv_fuses_relu). NULL when liblurn has no oneDNN or oneDNN cannot start
 * (no error set): the layer then runs im2col alone. */
lurn_dnnl_conv *lurn_dnnl_conv_new(const lurn_conv_geom *g, int64_t filters, int use_bias, int relu);
void lurn_dnnl_conv_free(lurn_dnnl_conv *c);

/* Readies the primitives for a batch of n at the current thread count. *usable is 1
 * when oneDNN runs it, 0 when the caller must (no fast implementation, or called from
 * inside a parallel region). Fails only on out-of-memory or a oneDNN error. */
lurn_status lurn_dnnl_conv_prepare(lurn_dnnl_conv *c, int64_t n, int *usable);

/* 1 if the forward of the batch prepared last applies relu itself (asked for, and oneDNN
 * has it for the algorithm chosen); 0 if it leaves z for the caller. */
int lurn_dnnl_conv_fuses_relu(const lurn_dnnl_conv *c);

/* 1 if oneDNN computes dx faster than the layer's own im2col for this geometry (enough
 * input channels); the layer runs its whole backward on im2col when it needs dx and
 * this says no. */
int lurn_dnnl_conv_dx_pays(const lurn_dnnl_conv *c);

/* z = conv(x, kernel) + bias over the batch prepared last, or relu(z) when
 * lurn_dnnl_conv_fuses_relu. bias is ignored without use_bias. */
lurn_status lurn_dnnl_conv_forward(lurn_dnnl_conv *c, const float *x, const float *kernel, const float *bias,
                                   float *z);

/* From dz = dL/dz: dkernel (overwritten) and, when dx is not NULL, dx = dL/dx
 * (overwritten), over the batch prepared last. The bias gradient, the sum of dz's rows,
 * is the caller's: it sums them in the same pass that forms dz. */
lurn_status lurn_dnnl_conv_backward(lurn_dnnl_conv *c, const float *x, const float *dz, const float *kernel,
                                    float *dkernel, float *dx);

#endif
