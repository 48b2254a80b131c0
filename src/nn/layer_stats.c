/* Per-layer training statistics (lurn/model.h, lurn_layer_stats) from the buffers a
 * training run already holds: the layer's output of the forward just run, its raw
 * gradients and weights. In a recorded run (lurn_model_record_stats) the model's observer
 * of each layer (lurn_layer_forward_done, called by whoever runs the layer) fills the
 * layer's row from its output, and the model adds the norms after backward.
 *
 * The output statistics read a tensor as large as the batch's activations, so they run
 * in parallel, over fixed bands of rows (one per thread) whose partial sums are added in
 * band order: the same numbers at a given thread count, run after run. Two passes (the mean,
 * then squared deviations), since E[x^2] - mean^2 loses the spread of outputs far from
 * zero. The norms of parameters are sums of squares in double in index order, serial:
 * parameters are small next to activations, and a plain loop over model:gradients() in
 * Lua gives the same number to the last bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

/* Saturation: a sigmoid or tanh output within this of its bound; a softmax row whose
 * largest probability is above 1 minus it. */
#define SATURATION_MARGIN 0.01

/* Whether a unit of this layer can be dead: its output is exactly zero on a whole
 * interval of inputs (the rectifiers; a Lambda may compute anything). Leaky and smooth
 * rectifiers are counted too, so that their 0 is shown beside relu's. */
static int can_be_dead(const lurn_layer *l) {
  switch (l->activation) {
    case LURN_ACT_RELU:
    case LURN_ACT_LEAKY_RELU:
    case LURN_ACT_ELU:
    case LURN_ACT_SELU:
    case LURN_ACT_GELU:
      return 1;
    default:
      return strcmp(l->ops->type, "Lambda") == 0;
  }
}

typedef struct {
  double sum, sq;
  int64_t saturated;
} band_sums;

/* rows [r0, r1) of y seen as (rows, units): deviations from mean, saturation, and in
 * alive[u] whether unit u is non-zero anywhere (NaN counts as alive: not exactly zero) */
static void second_pass(const float *y, int64_t r0, int64_t r1, int64_t units, double mean,
                        lurn_activation act, band_sums *s, unsigned char *alive) {
  const double hi = 1 - SATURATION_MARGIN;
  for (int64_t r = r0; r < r1; r++) {
    const float *row = y + r * units;
    float top = -INFINITY;
    for (int64_t u = 0; u < units; u++) {
      double d = row[u] - mean;
      s->sq += d * d;
      if (row[u] != 0) alive[u] = 1;
      if (act == LURN_ACT_SIGMOID)
        s->saturated += row[u] < SATURATION_MARGIN || row[u] > hi;
      else if (act == LURN_ACT_TANH)
        s->saturated += fabsf(row[u]) > hi;
      else if (row[u] > top)
        top = row[u];
    }
    if (act == LURN_ACT_SOFTMAX) s->saturated += top > hi;
  }
}

lurn_status lurn_layer_stats_of_output(lurn_layer_stats *s, const lurn_layer *l, const lurn_tensor *y) {
  const int64_t n = lurn_tensor_numel(y), units = y->ndim > 1 ? y->shape[y->ndim - 1] : 1;
  const int64_t rows = units ? n / units : 0;
  const float *v = lurn_tensor_data(y);
  s->has &= ~(unsigned)(LURN_STATS_OUTPUT | LURN_STATS_DEAD | LURN_STATS_SATURATED);
  if (n == 0) return LURN_OK;
  int threads = n >= LURN_PARALLEL_MIN ? lurn_get_num_threads() : 1;
  if (threads > rows) threads = (int)rows;
  band_sums *band = calloc((size_t)threads, sizeof *band);
  unsigned char *alive = calloc((size_t)threads, (size_t)units);
  if (!band || !alive) {
    free(band);
    free(alive);
    return lurn_fail(LURN_ENOMEM, "layer statistics: out of memory");
  }
  /* one iteration per band: every band is summed whatever team OpenMP gives */
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static, 1)
  for (int t = 0; t < threads; t++) {
    int64_t r0 = rows * t / threads, r1 = rows * (t + 1) / threads;
    double sum = 0;
    for (int64_t i = r0 * units; i < r1 * units; i++) sum += v[i];
    band[t].sum = sum;
  }
  double total = 0;
  for (int t = 0; t < threads; t++) total += band[t].sum;
  const double mean = total / (double)n;
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static, 1)
  for (int t = 0; t < threads; t++)
    second_pass(v, rows * t / threads, rows * (t + 1) / threads, units, mean, l->activation, &band[t],
                alive + (size_t)t * (size_t)units);
  double sq = 0;
  int64_t saturated = 0, dead = 0;
  for (int t = 0; t < threads; t++) sq += band[t].sq, saturated += band[t].saturated;
  for (int64_t u = 0; u < units; u++) {
    int any = 0;
    for (int t = 0; t < threads && !any; t++) any = alive[(size_t)t * (size_t)units + (size_t)u];
    dead += !any;
  }
  free(band);
  free(alive);
  s->act_mean = mean;
  s->act_std = sqrt(sq / (double)n);
  s->has |= LURN_STATS_OUTPUT;
  if (can_be_dead(l)) {
    s->dead_fraction = (double)dead / (double)units;
    s->has |= LURN_STATS_DEAD;
  }
  if (l->activation == LURN_ACT_SIGMOID || l->activation == LURN_ACT_TANH ||
      l->activation == LURN_ACT_SOFTMAX) {
    s->saturated_fraction = (double)saturated / (double)(l->activation == LURN_ACT_SOFTMAX ? rows : n);
    s->has |= LURN_STATS_SATURATED;
  }
  return LURN_OK;
}

/* sum plus the squares of t's values, one running sum across tensors as a plain loop has */
static double add_squares(double sum, const lurn_tensor *t) {
  const float *v = lurn_tensor_data(t);
  for (int64_t i = 0, n = lurn_tensor_numel(t); i < n; i++) sum += (double)v[i] * v[i];
  return sum;
}

void lurn_layer_stats_of_params(lurn_layer_stats *s, const lurn_layer *l) {
  double g = 0, w = 0;
  int any = 0;
  for (int p = 0; p < l->nparams; p++) {
    if (!l->trainable[p] || l->frozen) continue;
    g = add_squares(g, l->grads[p]);
    w = add_squares(w, l->params[p]);
    any = 1;
  }
  s->has &= ~(unsigned)LURN_STATS_PARAMS;
  if (!any) return;
  s->grad_norm = sqrt(g);
  s->weight_norm = sqrt(w);
  s->has |= LURN_STATS_PARAMS;
}
