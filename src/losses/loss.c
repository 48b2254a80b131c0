/* lurn_loss_compute: checks shapes, runs the loss family, applies sample weights and
 * Keras' "sum_over_batch_size" reduction; lurn_loss_compute_masked the same over a masked
 * output, as Keras 2.13-2.15 (keras/utils/losses_utils.py apply_valid_mask, called by
 * Loss.__call__ with the mask of y_pred): a padded row weighs 0 and the sum is divided by
 * the number of real rows, not of all rows. */
#include <stdlib.h>

#include "losses.h"
#include "tensor/tensor_internal.h"

static const char *const loss_names[] = {"binary_crossentropy", "categorical_crossentropy",
                                         "sparse_categorical_crossentropy", "mean_squared_error",
                                         "mean_absolute_error", "huber"};

/* The number of real rows of a mask (one entry per row of pred, 1 real, 0 padding), or -1
 * with the error set when it does not fit pred or has none. */
static int64_t real_rows(const char *name, const lurn_tensor *mask, const lurn_tensor *pred, int64_t rows) {
  char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
  if (mask->shape[0] != pred->shape[0] || lurn_tensor_numel(mask) != rows || !lurn_tensor_is_contiguous(mask)) {
    lurn_fail(LURN_EINVAL,
              "%s: the output's mask of shape %s does not fit predictions of shape %s (a packed mask, one entry "
              "per step)",
              name, lurn_shape_str(mask, a, sizeof a), lurn_shape_str(pred, b, sizeof b));
    return -1;
  }
  const float *m = lurn_tensor_data(mask);
  int64_t valid = 0;
  for (int64_t r = 0; r < rows; r++) valid += m[r] != 0;
  /* Keras 2.13 scales the mask by total / valid: 0 * inf, a NaN loss and NaN gradients
   * that would ruin the weights; an error says why instead. */
  if (valid == 0 && rows > 0) {
    lurn_fail(LURN_EINVAL,
              "%s: every step of this batch is padding (the output's mask is all 0): a loss over no real step is "
              "undefined (Keras 2 gives NaN); leave the empty sequences out of the data",
              name);
    return -1;
  }
  return valid;
}

lurn_status lurn_loss_compute(const lurn_loss *loss, const lurn_tensor *pred, const lurn_tensor *target,
                              const float *sample_weight, double *value, lurn_tensor *dpred) {
  return lurn_loss_compute_masked(loss, pred, target, sample_weight, NULL, value, dpred);
}

lurn_status lurn_loss_compute_masked(const lurn_loss *loss, const lurn_tensor *pred, const lurn_tensor *target,
                                     const float *sample_weight, const lurn_tensor *mask, double *value,
                                     lurn_tensor *dpred) {
  const char *name = loss_names[loss->kind];
  char a[LURN_SHAPE_STR_MAX], b[LURN_SHAPE_STR_MAX];
  int64_t n = pred->shape[0], cols = pred->shape[pred->ndim - 1];
  int64_t total = lurn_tensor_numel(pred), rows = cols ? total / cols : 0;
  int64_t valid = mask ? real_rows(name, mask, pred, rows) : rows;
  if (valid < 0) return LURN_EINVAL;
  if (pred->ndim < 2 && loss->kind == LURN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY)
    return lurn_fail(LURN_EINVAL, "%s: predictions must be (batch, classes), got %s", name,
                     lurn_shape_str(pred, a, sizeof a));
  if (loss->kind == LURN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY) {
    if (target->shape[0] != n || lurn_tensor_numel(target) != rows)
      return lurn_fail(LURN_EINVAL, "%s: labels of shape %s do not match predictions of shape %s (one 0-based class per sample expected%s)",
                       name, lurn_shape_str(target, a, sizeof a), lurn_shape_str(pred, b, sizeof b),
                       lurn_tensor_numel(target) == total && target->shape[0] == n
                           ? "; these look one-hot: use categorical_crossentropy, or class numbers as labels"
                           : "");
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

  /* value = sum_r w(r) * loss_r / rows; each sample owns rows / n consecutive rows. With a
   * mask: sum_r w(r) m(r) loss_r / valid, Keras' weights w * m * rows / valid summed over
   * rows. A padded row is left out rather than multiplied by 0, so that whatever the model
   * gives there (even a NaN) cannot reach the loss. */
  int64_t per_sample = n ? rows / n : 1;
  const float *m = mask ? lurn_tensor_data(mask) : NULL;
  double sum = 0;
  for (int64_t r = 0; r < rows; r++) {
    int padded = m && m[r] == 0;
    double w = padded ? 0.0 : sample_weight ? sample_weight[r / per_sample] : 1.0;
    if (!padded) sum += w * row_loss[r];
    if (g) {
      float scale = (float)(w / (double)valid);
      for (int64_t c = 0; c < cols; c++) g[r * cols + c] = padded ? 0.0f : g[r * cols + c] * scale;
    }
  }
  *value = valid ? sum / (double)valid : 0;
done:
  lurn_tensor_free(pc);
  lurn_tensor_free(tc);
  if (row_loss != small) free(row_loss);
  return st;
}
