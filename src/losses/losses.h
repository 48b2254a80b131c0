/* The loss families behind lurn_loss_compute (src/losses/loss.c). Each works on
 * rows = numel / cols entries of the last dimension, writes the per-row loss into
 * row_loss and, when grad is non-NULL, dL_row/dpred into grad (unweighted). */
#ifndef LURN_LOSSES_H
#define LURN_LOSSES_H

#include "lurn.h"

#define LURN_EPSILON 1e-7f  /* Keras backend epsilon */

lurn_status lurn_crossentropy_binary(const float *p, const float *t, int64_t rows, int64_t cols, int from_logits,
                                     double *row_loss, float *grad);
lurn_status lurn_crossentropy_categorical(const float *p, const float *t, int64_t rows, int64_t cols,
                                          int from_logits, double *row_loss, float *grad);
/* labels: one 0-based class per row */
lurn_status lurn_crossentropy_sparse(const float *p, const float *labels, int64_t rows, int64_t cols,
                                     int from_logits, double *row_loss, float *grad);
lurn_status lurn_regression_loss(lurn_loss_kind kind, float delta, const float *p, const float *t, int64_t rows,
                                 int64_t cols, double *row_loss, float *grad);

#endif
