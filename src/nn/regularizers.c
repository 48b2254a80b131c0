/* L1/L2 weight penalties, added to the loss and to the gradients as Keras does:
 * penalty = l1 * sum|w| + l2 * sum w^2. */
#include <math.h>

#include "lurn.h"

double lurn_regularize(const lurn_regularizer *r, const lurn_tensor *w, lurn_tensor *grad) {
  if (r->l1 == 0 && r->l2 == 0) return 0;
  const float *x = lurn_tensor_data(w);
  float *g = grad ? lurn_tensor_data(grad) : NULL;
  int64_t n = lurn_tensor_numel(w);
  double abs_sum = 0, sq_sum = 0;
  for (int64_t i = 0; i < n; i++) {
    abs_sum += fabsf(x[i]);
    sq_sum += (double)x[i] * x[i];
    if (g) g[i] += r->l1 * (float)((x[i] > 0) - (x[i] < 0)) + 2.0f * r->l2 * x[i];
  }
  return r->l1 * abs_sum + r->l2 * sq_sum;
}
