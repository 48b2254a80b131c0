/* lurn/tensor.h — tensors: storage, views, math, reductions, random fills.
 * Part of the C API that lurn.h gathers. */
#ifndef LURN_API_TENSOR_H
#define LURN_API_TENSOR_H

#include "lurn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- tensors -------------------------------------------------------------- */
#define LURN_MAX_DIMS 8

typedef struct lurn_storage lurn_storage;  /* reference-counted float buffer */

/* A float32 view: element (i0, i1, ...) is at data[offset + sum(ik * stride[k])]. */
typedef struct lurn_tensor {
  lurn_storage *storage;
  int64_t offset;
  int ndim;
  int64_t shape[LURN_MAX_DIMS];
  int64_t stride[LURN_MAX_DIMS];
} lurn_tensor;

/* Creation. Returned tensors are owned by the caller: release with lurn_tensor_free. */
lurn_tensor *lurn_tensor_empty(int ndim, const int64_t *shape);  /* uninitialised */
lurn_tensor *lurn_tensor_zeros(int ndim, const int64_t *shape);
lurn_tensor *lurn_tensor_full(int ndim, const int64_t *shape, float value);
lurn_tensor *lurn_tensor_arange(double start, double stop, double step);
lurn_tensor *lurn_tensor_view(const lurn_tensor *t);  /* new handle, same storage */
lurn_tensor *lurn_tensor_contiguous(const lurn_tensor *t);  /* view if packed, else copy */
lurn_tensor *lurn_tensor_clone(const lurn_tensor *t);       /* always a packed copy */
void lurn_tensor_free(lurn_tensor *t);

float *lurn_tensor_data(const lurn_tensor *t);  /* address of element (0, ..., 0) */
int64_t lurn_tensor_numel(const lurn_tensor *t);
int lurn_tensor_is_contiguous(const lurn_tensor *t);
int lurn_tensor_same_shape(const lurn_tensor *a, const lurn_tensor *b);
/* numpy-style text of the tensor (malloc'd, caller frees); NULL if out of memory. */
char *lurn_tensor_format(const lurn_tensor *t);
/* Writes "(2, 3)" into buf; returns buf, for error messages. */
char *lurn_shape_str(const lurn_tensor *t, char *buf, size_t size);
#define LURN_SHAPE_STR_MAX 160

/* Views (share storage). Dimensions are 0-based in C, 1-based in Lua. */
lurn_tensor *lurn_tensor_reshape(const lurn_tensor *t, int ndim, const int64_t *shape);
lurn_tensor *lurn_tensor_transpose(const lurn_tensor *t, int d0, int d1);
lurn_tensor *lurn_tensor_permute(const lurn_tensor *t, const int *dims);
lurn_tensor *lurn_tensor_narrow(const lurn_tensor *t, int dim, int64_t start, int64_t length);
lurn_tensor *lurn_tensor_select(const lurn_tensor *t, int dim, int64_t index);

/* Copy and fill. src must have dst's shape or broadcast to it. */
lurn_status lurn_tensor_copy_into(lurn_tensor *dst, const lurn_tensor *src);
void lurn_tensor_fill(lurn_tensor *t, float value);

/* Joining and gathering (new packed tensors). index holds 0-based positions. */
lurn_tensor *lurn_tensor_cat(const lurn_tensor *const *ts, int n, int dim);
lurn_tensor *lurn_tensor_stack(const lurn_tensor *const *ts, int n, int dim);
lurn_tensor *lurn_tensor_index(const lurn_tensor *t, int dim, const int64_t *index, int64_t n);
/* The same into a packed out of the right shape (mini-batches without allocation). */
lurn_status lurn_tensor_index_into(lurn_tensor *out, const lurn_tensor *t, int dim, const int64_t *index, int64_t n);


/* Elementwise math with numpy broadcasting. */
typedef enum lurn_binary_op {
  LURN_ADD, LURN_SUB, LURN_MUL, LURN_DIV, LURN_POW, LURN_MAXIMUM, LURN_MINIMUM,
  LURN_GT, LURN_LT, LURN_GE, LURN_LE, LURN_EQ, LURN_NE  /* comparisons give 0/1 */
} lurn_binary_op;
typedef enum lurn_unary_op {
  LURN_NEG, LURN_EXP, LURN_LOG, LURN_SQRT, LURN_ABS, LURN_SIGN, LURN_SQUARE,
  LURN_TANH, LURN_SIGMOID, LURN_RELU, LURN_FLOOR, LURN_CEIL, LURN_ROUND, LURN_ISNAN
} lurn_unary_op;
lurn_tensor *lurn_binary(lurn_binary_op op, const lurn_tensor *a, const lurn_tensor *b);
lurn_tensor *lurn_binary_scalar(lurn_binary_op op, const lurn_tensor *a, float s, int scalar_first);
/* a = a op b in place (b broadcasts to a's shape), and a = a op s. */
lurn_status lurn_binary_inplace(lurn_binary_op op, lurn_tensor *a, const lurn_tensor *b);
void lurn_binary_scalar_inplace(lurn_binary_op op, lurn_tensor *a, float s);
lurn_tensor *lurn_unary(lurn_unary_op op, const lurn_tensor *a);
lurn_tensor *lurn_clamp(const lurn_tensor *a, float lo, float hi);
int lurn_broadcast_shape(const lurn_tensor *a, const lurn_tensor *b, int *ndim, int64_t *shape);

/* Reductions: over everything into *out, or over one dimension into a new tensor. */
typedef enum lurn_reduce_op {
  LURN_SUM, LURN_MEAN, LURN_MAX, LURN_MIN, LURN_ARGMAX, LURN_ARGMIN, LURN_VAR, LURN_STD
} lurn_reduce_op;
/* ddof applies to VAR and STD (0: population, 1: sample). ARG* give 0-based positions. */
lurn_status lurn_reduce_all(lurn_reduce_op op, const lurn_tensor *t, int ddof, double *out);
lurn_tensor *lurn_reduce_dim(lurn_reduce_op op, const lurn_tensor *t, int dim, int keepdim, int ddof);
/* The 0-based position of the first NaN or infinity of x[0..n), or -1: one fast pass, for
 * checking a whole data set before training. The tensor form needs a packed tensor. */
int64_t lurn_first_nonfinite(const float *x, int64_t n);
lurn_status lurn_tensor_first_nonfinite(const lurn_tensor *t, int64_t *pos);

/* Row-major C = alpha * op(A) @ op(B) + beta * C, as cblas_sgemm; split across lurn's
 * OpenMP threads when large (OpenBLAS itself stays single-threaded). */
void lurn_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
/* c = op(a) @ op(b) for 2-D tensors, through lurn_sgemm. */
lurn_tensor *lurn_matmul(const lurn_tensor *a, const lurn_tensor *b, int trans_a, int trans_b);

/* Random fills (the generator is in lurn/core.h). */
void lurn_tensor_rand(lurn_tensor *t, lurn_rng *r, float lo, float hi);
void lurn_tensor_randn(lurn_tensor *t, lurn_rng *r, float mean, float stddev);

#ifdef __cplusplus
}
#endif
#endif
