/* lurn_loss_compute: checks shapes, runs the loss family, applies sample weights and
 * Keras' "sum_over_batch_size" reduction. */
#include <stdlib.h>

#include "losses.h"
#include "tensor/tensor_internal.h"

static const char *const loss_names[] = {"binary_crossentropy", "categorical_crossentropy",
                                         "sparse_categorical_crossentropy", "mean_squared_error",
                                         "mean_absolute_error", "huber"};

lurn_status lurn_loss_compute(const lurn_loss *loss, const lurn_tensor *pred, const lurn_tensor *target,
                              const float *sample_weight, double *value, lurn_tensor *dpred) {
  const char *name = loss_names[loss->kind];
  char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
  int64_t n = pred->shape[0], cols = pred->shape[pred->ndim - 1];
  int64_t total = lurn_tensor_numel(pred), rows = cols ? total / cols : 0;
  if (pred->ndim < 2 && loss->kind == LURN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY)
    return lurn_fail(LURN_EINVAL, "%s: predictions must be (batch, classes), got %s", name,
                     lurn_shape_str(pred, a, sizeof a));
  if (loss->kind == LURN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY) {
    if (target->shape[0] != n || lurn_tensor_numel(target) != rows)
      return lurn_fail(LURN_EINVAL, "%s: labels of shape %s do not match predictions of shape %s (one 0-based class per sample expected)",
                       name, lurn_shape_str(target, a, sizeof a), lurn_shape_str(pred, b, sizeof b));
  } else {
    int same = lurn_tensor_numel(target) == total && target->shape[0] == n;
    if (!same)
      return lurn_fail(LURN_EINVAL, "%s: targets of shape %s do not match predictions of shape %s%s", name,
                       lurn_shape_str(target, a, sizeof a), lurn_shape_str(pred, b, sizeof b),
                       loss->kind == LURN_LOSS_CATEGORICAL_CROSSENTROPY && target->ndim == 1
                           ? " (for integer labels use sparse_categorical_crossentropy, or one-hot encode with to_categorical)"
                           : "");
  }
  if (dpred && lurn_tensor_numel(dpred) != total) return lurn_fail(LURN_EINVAL, "%s: gradient buffer has the wrong size", name);

  /* No allocation for the usual case (packed tensors, batches up to 4096 rows): the
   * training loop calls this once per batch. */
  lurn_tensor *pc = lurn_tensor_is_contiguous(pred) ? NULL : lurn_tensor_clone(pred);
  lurn_tensor *tc = lurn_tensor_is_contiguous(target) ? NULL : lurn_tensor_clone(target);
  double small[4096];
  double *row_loss = rows <= 4096 ? small : malloc(sizeof(double) * (size_t)rows);
  lurn_status st = LURN_OK;
  if ((!pc && !lurn_tensor_is_contiguous(pred)) || (!tc && !lurn_tensor_is_contiguous(target)) || !row_loss) {
    st = lurn_fail(LURN_ENOMEM, "out of memory computing %s", name);
    goto done;
  }
  const float *p = lurn_tensor_data(pc ? pc : pred), *t = lurn_tensor_data(tc ? tc : target);
  float *g = dpred ? lurn_tensor_data(dpred) : NULL;
  switch (loss->kind) {
    case LURN_LOSS_BINARY_CROSSENTROPY:
      st = lurn_crossentropy_binary(p, t, rows, cols, loss->from_logits, row_loss, g);
      break;
    case LURN_LOSS_CATEGORICAL_CROSSENTROPY:
      st = lurn_crossentropy_categorical(p, t, rows, cols, loss->from_logits, row_loss, g);
      break;
    case LURN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
      st = lurn_crossentropy_sparse(p, t, rows, cols, loss->from_logits, row_loss, g);
      break;
    default:
      st = lurn_regression_loss(loss->kind, loss->delta, p, t, rows, cols, row_loss, g);
  }
  if (st != LURN_OK) goto done;

  /* value = sum_r w(r) * loss_r / rows; each sample owns rows / n consecutive rows */
  int64_t per_sample = n ? rows / n : 1;
  double sum = 0;
  for (int64_t r = 0; r < rows; r++) {
    double w = sample_weight ? sample_weight[r / per_sample] : 1.0;
    sum += w * row_loss[r];
    if (g) {
      float scale = (float)(w / (double)rows);
      for (int64_t c = 0; c < cols; c++) g[r * cols + c] *= scale;
    }
  }
  *value = rows ? sum / (double)rows : 0;
done:
  lurn_tensor_free(pc);
  lurn_tensor_free(tc);
  if (row_loss != small) free(row_loss);
  return st;
}
