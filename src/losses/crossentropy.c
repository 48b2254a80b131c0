/* Cross-entropy losses with Keras 2's numerics: probabilities clipped to
 * [eps, 1 - eps] (eps = 1e-7), and the stable logits forms used when from_logits is
 * set (the model also uses them for a softmax/sigmoid output, as tf.keras does). */
#include <math.h>

#include "losses.h"

lurn_status lurn_crossentropy_binary(const float *p, const float *t, int64_t rows, int64_t cols, int from_logits,
                                     double *row_loss, float *grad) {
  const float eps = LURN_EPSILON;
#pragma omp parallel for if (rows * cols > 32768) schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    double sum = 0;
    for (int64_t c = 0; c < cols; c++) {
      int64_t i = r * cols + c;
      float y = t[i];
      if (from_logits) {
        float z = p[i];
        sum += fmaxf(z, 0) - z * y + log1pf(expf(-fabsf(z)));
        if (grad) {
          float s = z >= 0 ? 1.0f / (1.0f + expf(-z)) : expf(z) / (1.0f + expf(z));
          grad[i] = (s - y) / (float)cols;
        }
      } else {
        int inside = p[i] > eps && p[i] < 1 - eps;
        float q = inside ? p[i] : (p[i] <= eps ? eps : 1 - eps);
        sum -= y * logf(q + eps) + (1 - y) * logf(1 - q + eps);
        if (grad) grad[i] = inside ? (-y / (q + eps) + (1 - y) / (1 - q + eps)) / (float)cols : 0.0f;
      }
    }
    row_loss[r] = sum / (double)cols;
  }
  return LURN_OK;
}

lurn_status lurn_crossentropy_categorical(const float *p, const float *t, int64_t rows, int64_t cols,
                                          int from_logits, double *row_loss, float *grad) {
  const float eps = LURN_EPSILON;
#pragma omp parallel for if (rows * cols > 32768) schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const float *pr = p + r * cols, *tr = t + r * cols;
    float *gr = grad ? grad + r * cols : NULL;
    if (from_logits) {  /* loss = sum(t) * logsumexp(z) - t . z */
      float m = pr[0];
      for (int64_t c = 1; c < cols; c++) m = fmaxf(m, pr[c]);
      double se = 0, tsum = 0, tz = 0;
      for (int64_t c = 0; c < cols; c++) {
        se += exp((double)(pr[c] - m));
        tsum += tr[c];
        tz += (double)tr[c] * pr[c];
      }
      double lse = m + log(se);
      row_loss[r] = tsum * lse - tz;
      if (gr)
        for (int64_t c = 0; c < cols; c++) gr[c] = (float)(exp(pr[c] - lse) * tsum - tr[c]);
      continue;
    }
    /* Keras: q = p / sum(p), clipped; loss = -sum t log q */
    double s = 0;
    for (int64_t c = 0; c < cols; c++) s += pr[c];
    double loss = 0, gq_dot_q = 0;
    for (int64_t c = 0; c < cols; c++) {
      float q = (float)(pr[c] / s);
      int inside = q > eps && q < 1 - eps;
      float qc = inside ? q : (q <= eps ? eps : 1 - eps);
      loss -= tr[c] * logf(qc);
      if (gr) {
        gr[c] = inside ? -tr[c] / qc : 0.0f;  /* dL/dq for now */
        gq_dot_q += (double)gr[c] * q;
      }
    }
    row_loss[r] = loss;
    if (gr)
      for (int64_t c = 0; c < cols; c++) gr[c] = (float)((gr[c] - gq_dot_q) / s);
  }
  return LURN_OK;
}

lurn_status lurn_crossentropy_sparse(const float *p, const float *labels, int64_t rows, int64_t cols,
                                     int from_logits, double *row_loss, float *grad) {
  for (int64_t r = 0; r < rows; r++) {
    float y = labels[r];
    if (!(y >= 0 && y < (float)cols) || y != floorf(y))
      return lurn_fail(LURN_EINVAL,
                       "sparse_categorical_crossentropy: label %g at sample %lld is not a class in 0..%lld "
                       "(labels are 0-based class numbers)",
                       y, (long long)r + 1, (long long)cols - 1);
  }
  const float eps = LURN_EPSILON;
#pragma omp parallel for if (rows * cols > 32768) schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const float *pr = p + r * cols;
    float *gr = grad ? grad + r * cols : NULL;
    int64_t y = (int64_t)labels[r];
    if (from_logits) {
      float m = pr[0];
      for (int64_t c = 1; c < cols; c++) m = fmaxf(m, pr[c]);
      double se = 0;
      for (int64_t c = 0; c < cols; c++) se += exp((double)(pr[c] - m));
      double lse = m + log(se);
      row_loss[r] = lse - pr[y];
      if (gr)
        for (int64_t c = 0; c < cols; c++) gr[c] = (float)exp(pr[c] - lse) - (c == y ? 1.0f : 0.0f);
      continue;
    }
    /* tf.keras: logits = log(clip(p)), then softmax cross-entropy on those logits:
     * loss = log(sum clip(p)) - log(clip(p_y)) */
    double s = 0;
    for (int64_t c = 0; c < cols; c++) s += fminf(fmaxf(pr[c], eps), 1 - eps);
    float qy = fminf(fmaxf(pr[y], eps), 1 - eps);
    row_loss[r] = log(s) - log((double)qy);
    if (gr)
      for (int64_t c = 0; c < cols; c++) {
        int inside = pr[c] > eps && pr[c] < 1 - eps;
        gr[c] = inside ? (float)(1.0 / s - (c == y ? 1.0 / qy : 0.0)) : 0.0f;
      }
  }
  return LURN_OK;
}
