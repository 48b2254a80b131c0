/* BatchNormalization over the last dimension (channels), as Keras' BatchNormalization
 * with axis = -1: in training, batch statistics over every other dimension
 * (N, or N*H*W for images) normalise x and update the moving statistics
 *   moving = moving * momentum + batch * (1 - momentum)
 * (variance: the biased batch variance, as Keras 3 and Keras 2's non-fused path);
 * in inference, and in training when the layer is frozen (Keras 2's trainable = false),
 * the moving statistics normalise x.
 * A mask (N, steps) of a sequence input (N, steps, C) is read and passed on, as Keras
 * 2.13-2.15 (BatchNormalization.call(mask): tf.nn.weighted_moments with the mask as
 * frequency weights): the batch statistics are over the real steps only, every step is
 * normalised by them, and inference ignores the mask. With M real rows (m_r = 1):
 *   mean = sum_r m_r x_r / M,  var = sum_r m_r (x_r - mean)^2 / M
 *   dx_r = gamma * inv_std * (dy_r - m_r / M * (sum(dy) + xhat_r * sum(dy * xhat)))
 * the sums over every row, padded ones too (their outputs depend on mean and var). A
 * batch with no real step is an error (Keras 2 gives NaN statistics).
 * synchronized (Keras 2.12's SyncBatchNormalization): in a data-parallel step the sums
 * above run over every process's shard (M the global count), so the statistics are the
 * global batch's; each process's dy is its shard's mean loss's, share = R_r / R of the
 * global rows times the global loss's, so the sums of dy are weighted by share before they
 * are added up, and divided by it again for this process's dx.
 * Parameters in Keras order: gamma, beta (trainable), moving_mean, moving_variance. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

typedef struct {
  lurn_batchnorm_config c;
  lurn_tensor *xhat;    /* normalised input of the last training forward */
  lurn_tensor *inv_std; /* 1 / sqrt(var + eps) per channel, of the last forward */
  int batch_stats;      /* whether the last forward used batch statistics */
  int masked;           /* whether the last training forward's statistics were over a mask */
  double count;         /* the rows those statistics were over (M) */
  int synced;           /* whether they were summed over the processes (synchronized) */
  double share;         /* then this process's share of the global rows */
  double *acc;          /* 2 * channels + 2 accumulators, allocated at build */
} batchnorm;

enum { GAMMA, BETA, MOVING_MEAN, MOVING_VAR };

static lurn_status bn_build(lurn_layer *l, lurn_rng *rng) {
  batchnorm *b = l->impl;
  int64_t ch = l->in_shape[l->in_ndim - 1];
  lurn_initializer ones = {.kind = LURN_INIT_ONES}, zeros = {.kind = LURN_INIT_ZEROS};
  /* gamma/beta exist even when scale/center are off (fixed at 1/0, not trained), so
   * the parameter positions stay those of Keras' get_weights minus the unused ones. */
  if (!lurn_layer_add_param(l, "gamma", 1, &ch, &b->c.gamma_initializer, rng, b->c.scale)) return LURN_ENOMEM;
  if (!lurn_layer_add_param(l, "beta", 1, &ch, &b->c.beta_initializer, rng, b->c.center)) return LURN_ENOMEM;
  if (!lurn_layer_add_param(l, "moving_mean", 1, &ch, &zeros, rng, 0)) return LURN_ENOMEM;
  if (!lurn_layer_add_param(l, "moving_variance", 1, &ch, &ones, rng, 0)) return LURN_ENOMEM;
  if (!b->c.scale) lurn_tensor_fill(l->params[GAMMA], 1.0f);
  if (!b->c.center) lurn_tensor_fill(l->params[BETA], 0.0f);
  if (!(b->inv_std = lurn_tensor_zeros(1, &ch))) return LURN_ENOMEM;
  if (!(b->acc = malloc(sizeof(double) * (2 * (size_t)ch + 2))))
    return lurn_fail(LURN_ENOMEM, "out of memory");
  l->out_ndim = l->in_ndim;
  memcpy(l->out_shape, l->in_shape, sizeof(int64_t) * l->in_ndim);
  return LURN_OK;
}

/* synchronized: the per-channel sums (acc[0, ch)), the count of real rows and of all rows
 * summed over the processes; *count becomes the global count, b->share this process's. */
static lurn_status sync_sums(lurn_layer *l, batchnorm *b, int64_t ch, int64_t rows, double *count) {
  double *acc = b->acc;
  acc[2 * ch] = *count;
  acc[2 * ch + 1] = (double)rows;
  lurn_status st = lurn_dist_allreduce_sum_f64(acc, 2 * ch + 2); /* acc[ch, 2 ch): zeros yet */
  if (st) return st;
  *count = acc[2 * ch];
  b->share = acc[2 * ch + 1] > 0 ? (double)rows / acc[2 * ch + 1] : 0;
  if (acc[2 * ch + 1] == 0)
    return lurn_fail(LURN_EINVAL, "%s '%s': a global batch of no sample: no batch statistics", l->ops->type,
                     l->name);
  if (*count == 0)
    return lurn_fail(LURN_EINVAL,
                     "%s '%s': every step of this global batch is padding (its mask is all 0): no batch "
                     "statistics (Keras 2 gives NaN); leave the empty sequences out of the data",
                     l->ops->type, l->name);
  return LURN_OK;
}

static lurn_status bn_forward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training) {
  batchnorm *b = l->impl;
  int64_t ch = x->shape[x->ndim - 1], rows = ch ? lurn_tensor_numel(x) / ch : 0;
  const float *in = lurn_tensor_data(x);
  float *out = lurn_tensor_data(y), *inv = lurn_tensor_data(b->inv_std);
  const float *gamma = lurn_tensor_data(l->params[GAMMA]), *beta = lurn_tensor_data(l->params[BETA]);
  float *mm = lurn_tensor_data(l->params[MOVING_MEAN]), *mv = lurn_tensor_data(l->params[MOVING_VAR]);
  int sync = b->c.synchronized && l->data_parallel; /* an empty shard joins the sums too */
  b->batch_stats = training && (rows > 0 || sync) && !l->frozen; /* frozen: inference mode, as Keras 2 */
  if (!b->batch_stats) {
    for (int64_t c = 0; c < ch; c++) inv[c] = 1.0f / sqrtf(mv[c] + b->c.epsilon);
#pragma omp parallel for if (rows * ch > LURN_PARALLEL_MIN) schedule(static)
    for (int64_t r = 0; r < rows; r++)
      for (int64_t c = 0; c < ch; c++)
        out[r * ch + c] = (in[r * ch + c] - mm[c]) * inv[c] * gamma[c] + beta[c];
    return LURN_OK;
  }
  const float *mask = l->mask ? lurn_tensor_data(l->mask) : NULL;
  double count = (double)rows;
  if (mask) {
    char a[LURN_SHAPE_STR_MAX], s2[LURN_SHAPE_STR_MAX];
    if (lurn_tensor_numel(l->mask) != rows)
      return lurn_fail(LURN_EINVAL, "%s '%s': a mask of shape %s does not fit an input of shape %s (one per step)",
                       l->ops->type, l->name, lurn_shape_str(l->mask, a, sizeof a), lurn_shape_str(x, s2, sizeof s2));
    count = 0;
    for (int64_t r = 0; r < rows; r++) count += mask[r] != 0;
    if (count == 0 && !sync) /* checked before the moving statistics change */
      return lurn_fail(LURN_EINVAL,
                       "%s '%s': every step of this batch is padding (its mask is all 0): no batch statistics "
                       "(Keras 2 gives NaN); leave the empty sequences out of the data",
                       l->ops->type, l->name);
  }
  lurn_status st = lurn_buffer_ensure(&b->xhat, x->ndim, x->shape);
  if (st) return st;
  b->masked = mask != NULL;
  b->synced = sync;
  double *sum = b->acc, *sq = b->acc + ch;
  memset(sum, 0, sizeof(double) * (2 * (size_t)ch + 2));
  /* mean first, then the centred sum of squares: no cancellation for large means */
  for (int64_t r = 0; r < rows; r++)
    if (!mask || mask[r] != 0)
      for (int64_t c = 0; c < ch; c++) sum[c] += in[r * ch + c];
  if (sync && (st = sync_sums(l, b, ch, rows, &count))) return st;
  b->count = count;
  for (int64_t c = 0; c < ch; c++) sum[c] /= count;
  for (int64_t r = 0; r < rows; r++)
    if (!mask || mask[r] != 0)
      for (int64_t c = 0; c < ch; c++) {
        double d = in[r * ch + c] - sum[c];
        sq[c] += d * d;
      }
  if (sync && (st = lurn_dist_allreduce_sum_f64(sq, ch))) return st;
  float mom = b->c.momentum;
  for (int64_t c = 0; c < ch; c++) {
    double var = sq[c] / count;
    inv[c] = (float)(1.0 / sqrt(var + b->c.epsilon));
    mm[c] = mm[c] * mom + (float)sum[c] * (1 - mom);
    mv[c] = mv[c] * mom + (float)var * (1 - mom);
  }
  float *xh = lurn_tensor_data(b->xhat);
#pragma omp parallel for if (rows * ch > LURN_PARALLEL_MIN) schedule(static)
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < ch; c++) {
      float v = (in[r * ch + c] - (float)sum[c]) * inv[c];
      xh[r * ch + c] = v;
      out[r * ch + c] = v * gamma[c] + beta[c];
    }
  return LURN_OK;
}

static lurn_status bn_backward(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                               const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse) {
  (void)y, (void)fuse;
  batchnorm *b = l->impl;
  int64_t ch = x->shape[x->ndim - 1], rows = ch ? lurn_tensor_numel(x) / ch : 0;
  const float *g = lurn_tensor_data(dy), *inv = lurn_tensor_data(b->inv_std);
  const float *gamma = lurn_tensor_data(l->params[GAMMA]);
  float *dgamma = lurn_tensor_data(l->grads[GAMMA]), *dbeta = lurn_tensor_data(l->grads[BETA]);
  memset(dgamma, 0, sizeof(float) * (size_t)ch);
  memset(dbeta, 0, sizeof(float) * (size_t)ch);
  if (!b->batch_stats) { /* frozen statistics: an affine map per channel */
    const float *in = lurn_tensor_data(x), *mm = lurn_tensor_data(l->params[MOVING_MEAN]);
    for (int64_t r = 0; r < rows; r++)
      for (int64_t c = 0; c < ch; c++) {
        dgamma[c] += g[r * ch + c] * (in[r * ch + c] - mm[c]) * inv[c];
        dbeta[c] += g[r * ch + c];
      }
    if (dx) {
      float *d = lurn_tensor_data(dx);
      for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < ch; c++) d[r * ch + c] = g[r * ch + c] * gamma[c] * inv[c];
    }
    if (!b->c.scale) memset(dgamma, 0, sizeof(float) * (size_t)ch);
    if (!b->c.center) memset(dbeta, 0, sizeof(float) * (size_t)ch);
    return LURN_OK;
  }
  if ((l->mask != NULL) != b->masked)
    return lurn_fail(LURN_EINVAL, "%s '%s': backward needs the mask of its forward (%s)", l->ops->type, l->name,
                     b->masked ? "it had one" : "it had none");
  const float *xh = lurn_tensor_data(b->xhat);
  double *sg = b->acc, *sgx = b->acc + ch;
  memset(sg, 0, sizeof(double) * 2 * (size_t)ch);
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < ch; c++) {
      sg[c] += g[r * ch + c];
      sgx[c] += (double)g[r * ch + c] * xh[r * ch + c];
    }
  for (int64_t c = 0; c < ch; c++) {
    dbeta[c] = b->c.center ? (float)sg[c] : 0.0f;
    dgamma[c] = b->c.scale ? (float)sgx[c] : 0.0f;
  }
  if (b->synced) { /* the global loss's sums, in this process's scale (see the top) */
    for (int64_t c = 0; c < 2 * ch; c++) sg[c] *= b->share;
    lurn_status st = lurn_dist_allreduce_sum_f64(sg, 2 * ch);
    if (st) return st;
    for (int64_t c = 0; c < 2 * ch; c++) sg[c] = b->share > 0 ? sg[c] / b->share : 0;
  }
  if (dx) {
    /* dx = gamma * inv_std / M * (M * dy - sum(dy) - xhat * sum(dy * xhat)); a padded
     * row (mask 0) took no part in the statistics: its dx is gamma * inv_std * dy */
    float *d = lurn_tensor_data(dx);
    const float *mask = b->masked ? lurn_tensor_data(l->mask) : NULL;
    double m = b->count;
#pragma omp parallel for if (rows * ch > LURN_PARALLEL_MIN) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
      int real = !mask || mask[r] != 0;
      for (int64_t c = 0; c < ch; c++) {
        double k = gamma[c] * inv[c] / m;
        d[r * ch + c] = real ? (float)(k * (m * g[r * ch + c] - sg[c] - xh[r * ch + c] * sgx[c]))
                             : (float)(gamma[c] * inv[c] * g[r * ch + c]);
      }
    }
  }
  return LURN_OK;
}

static void bn_destroy(lurn_layer *l) {
  batchnorm *b = l->impl;
  lurn_tensor_free(b->xhat);
  lurn_tensor_free(b->inv_std);
  free(b->acc);
  free(b);
}

static const lurn_layer_ops batchnorm_ops = {.type = "BatchNormalization",
                                             .build = bn_build,
                                             .forward = bn_forward,
                                             .backward = bn_backward,
                                             .destroy = bn_destroy,
                                             .mask_rule = lurn_mask_keep};

lurn_layer *lurn_batchnorm_new(const lurn_batchnorm_config *c) {
  if (!(c->momentum >= 0 && c->momentum <= 1) || !(c->epsilon > 0)) {
    lurn_fail(LURN_EINVAL, "BatchNormalization: momentum must be in [0, 1] and epsilon > 0");
    return NULL;
  }
  batchnorm *b = calloc(1, sizeof *b);
  if (!b) {
    lurn_fail(LURN_ENOMEM, "out of memory");
    return NULL;
  }
  b->c = *c;
  lurn_layer *l = lurn_layer_alloc(&batchnorm_ops, b);
  if (!l) free(b);
  else l->syncs_batch = c->synchronized != 0;
  return l;
}
