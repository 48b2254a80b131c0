/* Data-parallel training (issue 21): the same model in every process of an MPI job
 * (src/dist/dist.h), each process running forward and backward on its shard of every
 * global batch. A step sums the shards' gradients, each weighted by its share of the
 * global batch (n_r / B; of its real steps when the output carries a mask), with
 * all-reduces on one flat buffer, so that every process holds the gradient of the global
 * batch's mean loss and applies the same update.
 *
 * The all-reduce overlaps with backward. The flat buffer holds the trainable weights last
 * first, cut into chunks of at least 64 KB (a model of many small layers sends a few
 * messages); lurn_model_on_grads_ready reports each layer as backward completes it, on the
 * thread that runs backward, between layers (never inside an OpenMP region: the thread
 * MPI_THREAD_FUNNELED lets talk to MPI), and the hook packs its share-weighted gradients
 * into their slots and starts a non-blocking all-reduce (MPI_Iallreduce) of every chunk
 * now complete, in chunk order, so that every rank starts the same requests in the same
 * order whatever order its layers report in. At the first report the ranks agree on the
 * gradient's size (dist.h's safety before collectives: a rank with another model errs
 * instead of hanging) and sum their shards' weights, which the share needs (one tiny
 * blocking all-reduce each, a step; their cost is in docs/benchmarks.md). Weights no report
 * covered, and every weight of a shard that ran no backward (empty: zeros), are packed and
 * their chunks started after backward; the update waits for every chunk. The step holds
 * the model's grads_ready hook for its backward and removes it after.
 *
 * The same bits as the all-reduce after backward (LURN_DP_OVERLAP=0, a switch for tests
 * and diagnosis, read once): the same share times the same gradient, summed over the same
 * ranks; a sum of two values does not depend on the order, and with more ranks Open MPI
 * picks its reduction by message size, which may associate a chunk's sum otherwise than
 * the whole buffer's (the last bit; spec/integration/mpi_fit_overlap.sh checks 2 ranks). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "lurn.h"
#include "lurn/layer_impl.h"

/* The least a chunk carries (the last one may carry less): 64 KB, so that a model of many
 * small layers sends a few messages, not one per bias. */
#define CHUNK_MIN_VALUES 16384

/* A run of the overlapped step's flat buffer, reduced by one request. */
typedef struct {
  int64_t off, n;
  int pending; /* its trainable weights not packed yet this step */
  lurn_dist_request req;
} chunk;

struct lurn_data_parallel {
  float *flat; /* one value per trainable (or, for broadcasts, every) parameter value */
  int64_t cap;
  lurn_model_weight *weights;
  int nweights_cap;
  /* The overlapped step (step_overlapped): weight i's values at flat + slot[i] (-1: not
   * trainable), last weight first, in chunk chunk_of[i]; packed[i] once packed this step. */
  int64_t *slot;
  int *chunk_of;
  unsigned char *packed;
  int slots_cap;
  chunk *chunks;
  int nchunks, chunks_cap;
  int nw, next;  /* the weights listed; the first chunk not started this step */
  lurn_model *m; /* the step's model, loss and shard, for the hook */
  const lurn_loss *loss;
  int64_t local;
  int summed; /* the shards' weights summed this step: share is set */
  float share;
  lurn_status error; /* the hook's first failure: it then does nothing more */
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
  free(dp->slot);
  free(dp->chunk_of);
  free(dp->packed);
  free(dp->chunks);
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

/* dst[j] = src[j] * scale, j < n. */
static void copy_scaled(float *dst, const float *src, int64_t n, float scale) {
  if (scale == 1.0f)
    memcpy(dst, src, sizeof(float) * (size_t)n);
  else
    for (int64_t j = 0; j < n; j++) dst[j] = src[j] * scale;
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
    copy_scaled(at, lurn_tensor_data(t), n, scale);
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
    copy_scaled(lurn_tensor_data(t), at, n, scale);
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

/* LURN_DP_OVERLAP=0 (read once; a switch for tests and diagnosis): every step reduces
 * the gradients after backward in one all-reduce, as before issue 21's overlap. */
static int overlap_on(void) {
  static int on = -1;
  if (on < 0) {
    const char *v = getenv("LURN_DP_OVERLAP");
    on = !(v && strcmp(v, "0") == 0);
  }
  return on;
}

/* The overlapped step's layout over dp->weights[0..nw): the trainable weights last first
 * (the order backward completes them), cut into chunks of at least CHUNK_MIN_VALUES values
 * (at most INT_MAX, a weight larger than that alone), none packed or started. */
static lurn_status lay_out(lurn_data_parallel *dp, int nw) {
  if (nw > dp->slots_cap) {
    int64_t *slot = realloc(dp->slot, sizeof *slot * (size_t)nw);
    if (slot) dp->slot = slot;
    int *chunk_of = slot ? realloc(dp->chunk_of, sizeof *chunk_of * (size_t)nw) : NULL;
    if (chunk_of) dp->chunk_of = chunk_of;
    unsigned char *packed = chunk_of ? realloc(dp->packed, (size_t)nw) : NULL;
    chunk *chunks = packed ? realloc(dp->chunks, sizeof *chunks * (size_t)nw) : NULL;
    if (packed) dp->packed = packed;
    if (!chunks) return lurn_fail(LURN_ENOMEM, "data-parallel step: out of memory");
    dp->chunks = chunks;
    dp->slots_cap = nw;
  }
  int64_t off = 0;
  dp->nchunks = 0;
  for (int i = nw - 1; i >= 0; i--) {
    dp->packed[i] = 0;
    if (!dp->weights[i].trainable) {
      dp->slot[i] = -1;
      continue;
    }
    int64_t n = lurn_tensor_numel(dp->weights[i].param);
    chunk *c = dp->nchunks ? &dp->chunks[dp->nchunks - 1] : NULL;
    if (!c || c->n >= CHUNK_MIN_VALUES || c->n + n > INT_MAX) {
      c = &dp->chunks[dp->nchunks++];
      *c = (chunk){.off = off};
    }
    dp->slot[i] = off;
    dp->chunk_of[i] = dp->nchunks - 1;
    c->n += n;
    c->pending++;
    off += n;
  }
  dp->nw = nw;
  dp->next = 0;
  dp->summed = 0;
  dp->error = LURN_OK;
  return ensure_flat(dp, off ? off : 1);
}

/* The shards' weights summed over the processes (once a step, before the first chunk),
 * after the ranks agree on the size of the gradient: this shard's share of the global mean. */
static lurn_status sum_shard_weights(lurn_data_parallel *dp) {
  dp->summed = 1;
  int64_t total = dp->nchunks ? dp->chunks[dp->nchunks - 1].off + dp->chunks[dp->nchunks - 1].n : 0;
  lurn_status st = lurn_dist_agree("data-parallel gradient of", total);
  double mine = dp->local > 0 ? shard_weight(dp->m, dp->loss, dp->local) : 0, sum = mine;
  if (!st) st = lurn_dist_allreduce_sum_f64(&sum, 1);
  dp->share = sum > 0 ? (float)(mine / sum) : 0.0f;
  return st;
}

/* Weight i's gradient times the share into its slot (zeros for an empty shard). */
static void pack_one(lurn_data_parallel *dp, int i) {
  float *at = dp->flat + dp->slot[i];
  int64_t n = lurn_tensor_numel(dp->weights[i].grad);
  if (dp->local == 0)
    memset(at, 0, sizeof(float) * (size_t)n);
  else
    copy_scaled(at, lurn_tensor_data(dp->weights[i].grad), n, dp->share);
  dp->packed[i] = 1;
  dp->chunks[dp->chunk_of[i]].pending--;
}

/* Starts the chunks whose weights are all packed, in chunk order (every rank then starts
 * them in the same order, whatever order backward reported its layers in). */
static lurn_status start_ready(lurn_data_parallel *dp) {
  for (; dp->next < dp->nchunks && dp->chunks[dp->next].pending == 0; dp->next++) {
    chunk *c = &dp->chunks[dp->next];
    float *at = dp->flat + c->off;
    lurn_status st = c->n > INT_MAX ? lurn_dist_allreduce_sum_f32(at, c->n)
                                    : lurn_dist_iallreduce_sum_f32(at, c->n, &c->req);
    if (st) return st;
  }
  return LURN_OK;
}

/* The grads_ready hook: runs on the thread that runs backward (between layers, never inside
 * an OpenMP region: see lurn_layer_backward_done's callers), the thread that talks to MPI. */
static void grads_ready(lurn_model *m, lurn_layer *layer, void *ud) {
  (void)m;
  lurn_data_parallel *dp = ud;
  if (dp->error || (!dp->summed && (dp->error = sum_shard_weights(dp)))) return;
  for (int i = 0; i < dp->nw; i++)
    if (dp->slot[i] >= 0 && !dp->packed[i] && dp->weights[i].layer == layer) pack_one(dp, i);
  dp->error = start_ready(dp);
}

/* Waits for every chunk started this step; the first error. */
static lurn_status wait_all(lurn_data_parallel *dp) {
  lurn_status first = LURN_OK;
  for (int k = 0; k < dp->next; k++) {
    lurn_status st = lurn_dist_wait(&dp->chunks[k].req);
    if (!first) first = st;
  }
  return first;
}

/* Forward and backward with the hook reducing each chunk as backward completes it; the
 * weights the hook never heard of (and every weight of a shard that ran no backward) packed
 * and reduced after. Leaves the summed gradients in the layers. */
static lurn_status step_overlapped(lurn_data_parallel *dp, lurn_model *m, const lurn_loss *loss, int nw,
                                   int run, const lurn_tensor *x, const lurn_tensor *y,
                                   const float *sample_weight, double *loss_value, const lurn_tensor **pred) {
  lurn_status st = lay_out(dp, nw);
  if (st) return st;
  dp->m = m, dp->loss = loss, dp->local = x->shape[0];
  lurn_model_on_grads_ready(m, grads_ready, dp);
  if (run) st = lurn_model_compute_gradients(m, loss, x, y, sample_weight, loss_value, pred);
  lurn_model_on_grads_ready(m, NULL, NULL);
  if (!st) st = dp->error;
  if (!st && !dp->summed) st = sum_shard_weights(dp);
  for (int i = 0; !st && i < nw; i++)
    if (dp->slot[i] >= 0 && !dp->packed[i]) pack_one(dp, i);
  if (!st) st = start_ready(dp);
  lurn_status waited = wait_all(dp);
  if (st || (st = waited)) return st;
  for (int i = 0; i < nw; i++)
    if (dp->slot[i] >= 0)
      memcpy(lurn_tensor_data(dp->weights[i].grad), dp->flat + dp->slot[i],
             sizeof(float) * (size_t)lurn_tensor_numel(dp->weights[i].grad));
  return LURN_OK;
}

/* LURN_DP_OVERLAP=0: forward and backward, then the shards' weights and every gradient
 * reduced in one flat all-reduce. Leaves the summed gradients in the layers. */
static lurn_status step_after_backward(lurn_data_parallel *dp, lurn_model *m, const lurn_loss *loss, int nw,
                                       int run, const lurn_tensor *x, const lurn_tensor *y,
                                       const float *sample_weight, double *loss_value,
                                       const lurn_tensor **pred) {
  int64_t local = x->shape[0], count;
  lurn_status st =
      run ? lurn_model_compute_gradients(m, loss, x, y, sample_weight, loss_value, pred) : LURN_OK;
  if (st) return st;
  double sum = local > 0 ? shard_weight(m, loss, local) : 0;
  if ((st = lurn_dist_allreduce_sum_f64(&sum, 1))) return st;
  const float share = sum > 0 ? (float)(shard_weight(m, loss, local) / sum) : 0.0f;
  if ((st = pack(dp, nw, TRAINABLE, 1, share, &count))) return st;
  if (local == 0) memset(dp->flat, 0, sizeof(float) * (size_t)count);
  if ((st = lurn_dist_allreduce_sum_f32(dp->flat, count))) return st;
  unpack(dp, nw, TRAINABLE, 1, 1.0f);
  return LURN_OK;
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
  int run = local > 0 || synced;
  st = (overlap_on() ? step_overlapped : step_after_backward)(dp, m, loss, nw, run, x, y, sample_weight,
                                                              loss_value, pred);
  lurn_model_set_data_parallel(m, 0);
  if (st) return st;
  if (local == 0) *pred = NULL;
  /* the global loss, penalties included, in one small sum */
  double sums[2] = {local > 0 ? shard_weight(m, loss, local) : 0, 0};
  sums[1] = sums[0] * *loss_value;
  if ((st = lurn_dist_allreduce_sum_f64(sums, 2))) return st;
  *global_loss = sums[0] > 0 ? sums[1] / sums[0] : 0;
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
