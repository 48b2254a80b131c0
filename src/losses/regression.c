/* Regression losses, averaged over the last dimension as Keras does:
 * mean_squared_error, mean_absolute_error, huber (delta). */
#include <math.h>

#include "losses.h"

lurn_status lurn_regression_loss(lurn_loss_kind kind, float delta, const float *p, const float *t, int64_t rows,
                                 int64_t cols, double *row_loss, float *grad) {
#pragma omp parallel for if (rows * cols > 32768) schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    double sum = 0;
    for (int64_t c = 0; c < cols; c++) {
      int64_t i = r * cols + c;
      float e = p[i] - t[i], g;
      switch (kind) {
        case LURN_LOSS_MEAN_SQUARED_ERROR:
          sum += (double)e * e;
          g = 2 * e;
          break;
        case LURN_LOSS_MEAN_ABSOLUTE_ERROR:
          sum += fabsf(e);
          g = (float)((e > 0) - (e < 0));
          break;
        default: { /* huber */
          float a = fabsf(e);
          sum += a <= delta ? 0.5 * (double)e * e : delta * (a - 0.5 * delta);
          g = a <= delta ? e : delta * (float)((e > 0) - (e < 0));
        }
      }
      if (grad) grad[i] = g / (float)cols;
    }
    row_loss[r] = sum / (double)cols;
  }
  return LURN_OK;
}
