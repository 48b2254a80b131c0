/* Matrix product of 2-D tensors through lurn_sgemm. Transposed views are passed
 * to BLAS as transpose flags instead of being copied. */
#include "lurn.h"
#include "tensor/tensor_internal.h"

/* A 2-D tensor BLAS can read in place: row-major (ld = stride[0]) or its transpose. */
static int blas_layout(const lurn_tensor *t, int *transposed, int64_t *ld) {
  if (t->stride[1] == 1 && t->stride[0] >= (t->shape[1] > 1 ? t->shape[1] : 1)) {
    *transposed = 0;
    *ld = t->stride[0] > 0 ? t->stride[0] : 1;
    return 1;
  }
  if (t->stride[0] == 1 && t->stride[1] >= (t->shape[0] > 1 ? t->shape[0] : 1)) {
    *transposed = 1;
    *ld = t->stride[1] > 0 ? t->stride[1] : 1;
    return 1;
  }
  return 0;
}

lurn_tensor *lurn_matmul(const lurn_tensor *a, const lurn_tensor *b, int trans_a, int trans_b) {
  char x[LURN_SHAPE_STR_MAX], y[LURN_SHAPE_STR_MAX];
  if (a->ndim != 2 || b->ndim != 2) {
    lurn_fail(LURN_EINVAL, "matmul: expected two 2-D tensors, got shapes %s and %s",
              lurn_shape_str(a, x, sizeof x), lurn_shape_str(b, y, sizeof y));
    return NULL;
  }
  int64_t m = trans_a ? a->shape[1] : a->shape[0], k = trans_a ? a->shape[0] : a->shape[1];
  int64_t kb = trans_b ? b->shape[1] : b->shape[0], n = trans_b ? b->shape[0] : b->shape[1];
  if (k != kb) {
    lurn_fail(LURN_EINVAL, "matmul: shapes %s%s and %s%s do not match (%lld vs %lld inner)",
              lurn_shape_str(a, x, sizeof x), trans_a ? "^T" : "", lurn_shape_str(b, y, sizeof y),
              trans_b ? "^T" : "", (long long)k, (long long)kb);
    return NULL;
  }
  if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) {
    lurn_fail(LURN_EINVAL, "matmul: dimensions larger than 2^31 are not supported");
    return NULL;
  }
  int64_t shape[2] = {m, n};
  lurn_tensor *c = lurn_tensor_empty(2, shape);
  if (!c) return NULL;
  if (m == 0 || n == 0) return c;
  if (k == 0) {
    lurn_tensor_fill(c, 0);
    return c;
  }

  lurn_tensor *pa = NULL, *pb = NULL;
  int ta = 0, tb = 0;
  int64_t lda = 1, ldb = 1;
  if (!blas_layout(a, &ta, &lda)) {
    pa = lurn_tensor_clone(a);
    if (!pa) goto fail;
    blas_layout(pa, &ta, &lda);
  }
  if (!blas_layout(b, &tb, &ldb)) {
    pb = lurn_tensor_clone(b);
    if (!pb) goto fail;
    blas_layout(pb, &tb, &ldb);
  }
  lurn_sgemm(ta ^ trans_a, tb ^ trans_b, m, n, k, 1.0f, lurn_tensor_data(pa ? pa : a), lda,
             lurn_tensor_data(pb ? pb : b), ldb, 0.0f, lurn_tensor_data(c), n);
  lurn_tensor_free(pa);
  lurn_tensor_free(pb);
  return c;
fail:
  lurn_tensor_free(pa);
  lurn_tensor_free(c);
  return NULL;
}
