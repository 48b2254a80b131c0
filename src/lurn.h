/*
 * lurn.h — the public C API of lurn, a neural-network runtime driven from Lua 5.4.
 *
 * The C core (liblurn) knows nothing about Lua: tensors, kernels and file formats
 * are plain C. Functions that can fail on user input return a lurn_status and
 * leave a message in lurn_last_error(); they never print, exit or abort.
 *
 * A host application embeds the whole library, Lua half included, with
 *     lua_State *L = luaL_newstate(); luaL_openlibs(L); lurn_open(L);
 * after which the global `lurn` is the module scripts use.
 */
#ifndef LURN_H
#define LURN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ------------------------------------------------------------- */
typedef enum lurn_status {
  LURN_OK = 0,
  LURN_EINVAL,  /* bad argument: shape, range, name */
  LURN_ENOMEM,  /* allocation failed */
  LURN_EIO,     /* file missing, unreadable, truncated or malformed */
} lurn_status;

const char *lurn_last_error(void);  /* message of the last failure on this thread */
lurn_status lurn_fail(lurn_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));  /* record a message, return status */

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

/* c = op(a) @ op(b) for 2-D tensors, through cblas_sgemm. */
lurn_tensor *lurn_matmul(const lurn_tensor *a, const lurn_tensor *b, int trans_a, int trans_b);

/* ---- random numbers -------------------------------------------------------- */
/* One process-wide generator (xoshiro256**): the same seed gives the same numbers
 * on every machine. Per-thread streams are derived from it with lurn_rng_jump. */
typedef struct lurn_rng { uint64_t s[4]; } lurn_rng;
void lurn_rng_seed(lurn_rng *r, uint64_t seed);
uint64_t lurn_rng_next(lurn_rng *r);
double lurn_rng_uniform(lurn_rng *r);  /* [0, 1) */
double lurn_rng_normal(lurn_rng *r);   /* mean 0, stddev 1 */
void lurn_rng_jump(lurn_rng *r);       /* advance 2^128 steps: an independent stream */
lurn_rng *lurn_rng_global(void);
void lurn_manual_seed(uint64_t seed);
void lurn_tensor_rand(lurn_tensor *t, lurn_rng *r, float lo, float hi);
void lurn_tensor_randn(lurn_tensor *t, lurn_rng *r, float mean, float stddev);

/* ---- process settings -------------------------------------------------------- */
void lurn_set_num_threads(int n);  /* OpenMP and OpenBLAS together */
int lurn_get_num_threads(void);
double lurn_clock(void);           /* monotonic wall-clock seconds */

/* ---- files ------------------------------------------------------------------- */
/* .npy arrays: float32, float64, uint8 and int64 (C order) load as float32. */
lurn_status lurn_npy_load(const char *path, lurn_tensor **out);
lurn_status lurn_npy_save(const char *path, const lurn_tensor *t);  /* atomic */

/* ---- Lua (needs lua.h in the caller; liblurn_lua) ------------------------------ */
struct lua_State;
int luaopen_lurn_core(struct lua_State *L);  /* the C module "lurn.core" */
/* Makes require "lurn" work in L (preloads lurn.core, adds lurn's Lua files to
 * package.path), requires it and sets the global `lurn`. Returns 0, or a Lua error
 * code with the message on the stack. */
int lurn_open(struct lua_State *L);

#ifdef __cplusplus
}
#endif
#endif
