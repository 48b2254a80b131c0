/* Data-parallel training (issue 21): the same model in every process of an MPI job
 * (src/dist/dist.h), each process running forward and backward on its shard of every
 * global batch. A step sums the shards' gradients, each weighted by its share of the
 * global batch (n_r / B; of its real steps when the output carries a mask), with one
 * all-reduce on one flat buffer, so that every process holds the gradient of the global
 * batch's mean loss and applies the same update.
 *
 * The all-reduce runs after backward, not in chunks inside it (lurn_model_on_grads_ready
 * could start one as each layer completes): dist.h's all-reduce blocks and MPI runs
 * FUNNELED (one thread talks to MPI), so a chunk reduced inside backward would wait for
 * the other processes' backward at that layer instead of overlapping with this one's;
 * overlap needs a non-blocking all-reduce, which dist.h does not offer. */
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "lurn.h"
#include "lurn/layer_impl.h"

struct lurn_data_parallel {
  float *flat; /* one value per trainable (or, for broadcasts, every) parameter value */
  int64_t cap;
  lurn_model_weight *weights;
  int nweights_cap;
};

lurn_data_parallel *lurn_data_parallel_new(void) {
  lurn_data_parallel *dp = calloc(1, sizeof *dp);
  if (!dp) lurn_fail(LURN_ENOMEM, "out of memory");
  return dp;
}

void lurn_data_parallel_free(lurn_data_parallel *dp) {
  if (!dp) return;
  free(dp->flat);
  free(dp->weights);
  free(dp);
}

/* The model's weights into dp->weights (grown when the model has more); returns the count
 * or -1 when out of memory. */
static int list_weights(lurn_data_parallel *dp, const lurn_model *m) {
  int n = lurn_model_weights(m, NULL, 0);
  if (n > dp->nweights_cap) {
    lurn_model_weight *w = realloc(dp->weights, sizeof *w * (size_t)n);
    if (!w) return lurn_fail(LURN_ENOMEM, "data-parallel step: out of memory"), -1;
    dp->weights = w;
    dp->nweights_cap = n;
  }
  return lurn_model_weights(m, dp->weights, n);
}

static lurn_status ensure_flat(lurn_data_parallel *dp, int64_t n) {
  if (n <= dp->cap) return LURN_OK;
  float *flat = realloc(dp->flat, sizeof(float) * (size_t)n);
  if (!flat)
    return lurn_fail(LURN_ENOMEM, "data-parallel step: out of memory for %lld gradient values", (long long)n);
  dp->flat = flat;
  dp->cap = n;
  return LURN_OK;
}

/* Whether weight w is a statistic training moves but no gradient trains (Batch-
 * Normalization's moving mean and variance), not a frozen layer's weight. */
static int is_statistic(const lurn_model_weight *w) {
  for (int p = 0; p < w->layer->nparams; p++)
    if (w->layer->params[p] == w->param) return !w->layer->trainable[p];
  return 0;
}

typedef enum { TRAINABLE, EVERY, STATISTICS } weight_set;

static int in_set(const lurn_model_weight *w, weight_set set) {
  return set == EVERY || (set == TRAINABLE ? w->trainable : is_statistic(w));
}

/* Copies the chosen tensors (gradients or parameters) of the set into dp->flat, each
 * value times scale; returns the count of values in *count. */
static lurn_status pack(lurn_data_parallel *dp, int nw, weight_set set, int grads, float scale,
                        int64_t *count) {
  int64_t total = 0;
  for (int i = 0; i < nw; i++)
    if (in_set(&dp->weights[i], set)) total += lurn_tensor_numel(dp->weights[i].param);
  lurn_status st = ensure_flat(dp, total ? total : 1);
  if (st) return st;
  float *at = dp->flat;
  for (int i = 0; i < nw; i++) {
    if (!in_set(&dp->weights[i], set)) continue;
    lurn_tensor *t = grads ? dp->weights[i].grad : dp->weights[i].param;
    int64_t n = lurn_tensor_numel(t);
    const float *src = lurn_tensor_data(t);
    if (scale == 1.0f)
      memcpy(at, src, sizeof(float) * (size_t)n);
    else
      for (int64_t j = 0; j < n; j++) at[j] = src[j] * scale;
    at += n;
  }
  *count = total;
  return LURN_OK;
}

/* The reverse of pack: dp->flat back into the tensors, each value times scale. */
static void unpack(lurn_data_parallel *dp, int nw, weight_set set, int grads, float scale) {
  const float *at = dp->flat;
  for (int i = 0; i < nw; i++) {
    if (!in_set(&dp->weights[i], set)) continue;
    lurn_tensor *t = grads ? dp->weights[i].grad : dp->weights[i].param;
    int64_t n = lurn_tensor_numel(t);
    float *dst = lurn_tensor_data(t);
    if (scale == 1.0f)
      memcpy(dst, at, sizeof(float) * (size_t)n);
    else
      for (int64_t j = 0; j < n; j++) dst[j] = at[j] * scale;
    at += n;
  }
}

static lurn_status check_built(const lurn_model *m, const char *what) {
  if (lurn_model_input_size(m) == 0) return lurn_fail(LURN_EINVAL, "%s: the model is not built", what);
  return LURN_OK;
}

/* How much a shard of `local` samples weighs in the global batch's mean loss, after its
 * forward: its samples, or when the output carries a mask (padded steps) its real steps,
 * which its loss is the mean over (a model of several outputs, one mask each: its samples). */
static double shard_weight(const lurn_model *m, const lurn_loss *loss, int64_t local) {
  const lurn_tensor *mask = loss->noutputs ? NULL : lurn_model_output_mask(m);
  if (local == 0 || !mask) return (double)local;
  const float *v = lurn_tensor_data(mask);
  int64_t n = lurn_tensor_numel(mask), real = 0;
  for (int64_t i = 0; i < n; i++) real += v[i] != 0;
  return (double)real;
}

lurn_status lurn_data_parallel_step(lurn_data_parallel *dp, lurn_model *m, const lurn_loss *loss,
                                    lurn_optimizer *opt, const lurn_tensor *x, const lurn_tensor *y,
                                    const float *sample_weight, int64_t global_batch, double *loss_value,
                                    double *global_loss, const lurn_tensor **pred) {
  lurn_status st = check_built(m, "data-parallel step");
  if (st) return st;
  int64_t local = x->shape[0];
  if (global_batch < 0 || (global_batch > 0 && local > global_batch))
    return lurn_fail(LURN_EINVAL, "data-parallel step: a shard of %lld samples in a global batch of %lld",
                     (long long)local, (long long)global_batch);
  int nw = list_weights(dp, m);
  if (nw < 0) return LURN_ENOMEM;
  *loss_value = 0;
  *pred = NULL;
  /* a shard with no sample (a global batch smaller than the job) adds nothing, but runs
   * when a layer sums over the processes, to join those sums */
  int synced = lurn_model_set_data_parallel(m, 1);
  if (synced < 0) return LURN_ENOMEM;
  if (local > 0 || synced) st = lurn_model_compute_gradients(m, loss, x, y, sample_weight, loss_value, pred);
  lurn_model_set_data_parallel(m, 0);
  if (st) return st;
  if (local == 0) *pred = NULL;
  /* the shards' weights in the global mean and the global loss, in one small sum */
  double sums[2] = {local > 0 ? shard_weight(m, loss, local) : 0, 0};
  sums[1] = sums[0] * *loss_value;
  if ((st = lurn_dist_allreduce_sum_f64(sums, 2))) return st;
  *global_loss = sums[0] > 0 ? sums[1] / sums[0] : 0;
  const float share = sums[0] > 0 ? (float)(shard_weight(m, loss, local) / sums[0]) : 0.0f;
  int64_t count;
  if ((st = pack(dp, nw, TRAINABLE, 1, share, &count))) return st;
  if (local == 0) memset(dp->flat, 0, sizeof(float) * (size_t)count);
  if ((st = lurn_dist_allreduce_sum_f32(dp->flat, count))) return st;
  unpack(dp, nw, TRAINABLE, 1, 1.0f);
  return lurn_model_apply_gradients(m, opt, NULL, 0);
}

/* The parameters of the set (not gradients), as they are, into dp->flat: what the
 * collectives on weights start from. */
static lurn_status pack_params(lurn_data_parallel *dp, lurn_model *m, const char *what, weight_set set,
                               int *nw, int64_t *count) {
  lurn_status st = check_built(m, what);
  if (st) return st;
  if ((*nw = list_weights(dp, m)) < 0) return LURN_ENOMEM;
  return pack(dp, *nw, set, 0, 1.0f, count);
}

lurn_status lurn_data_parallel_broadcast_weights(lurn_data_parallel *dp, lurn_model *m, int root) {
  int nw;
  int64_t count;
  lurn_status st = pack_params(dp, m, "broadcast of the weights", EVERY, &nw, &count);
  if (st || (st = lurn_dist_broadcast(dp->flat, (int64_t)sizeof(float) * count, root))) return st;
  unpack(dp, nw, EVERY, 0, 1.0f);
  return LURN_OK;
}

lurn_status lurn_data_parallel_average_statistics(lurn_data_parallel *dp, lurn_model *m) {
  int nw;
  int64_t count;
  lurn_status st = pack_params(dp, m, "average of the statistics", STATISTICS, &nw, &count);
  if (st || count == 0) return st; /* the same model everywhere: every rank returns here alike */
  if ((st = lurn_dist_allreduce_sum_f32(dp->flat, count))) return st;
  unpack(dp, nw, STATISTICS, 0, (float)(1.0 / lurn_dist_size()));
  return LURN_OK;
}
