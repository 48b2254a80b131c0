/*
 * lurn.h — the public C API of lurn, a neural-network runtime driven from Lua 5.4.
 *
 * The C core (liblurn) knows nothing about Lua: tensors, kernels and file formats
 * are plain C. Functions that can fail on user input return a lurn_status and
 * leave a message in lurn_last_error(); they never print, exit or abort.
 *
 * A host application embeds the whole library, Lua half included, through lurn_lua.h
 * (lurn_open), which is where everything of Lua is declared.
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

/* ---- random numbers -------------------------------------------------------- */
/* One process-wide generator (xoshiro256**): the same seed gives the same numbers
 * on every machine. Per-thread streams are derived from it with lurn_rng_jump. */
typedef struct lurn_rng { uint64_t s[4]; } lurn_rng;
void lurn_rng_seed(lurn_rng *r, uint64_t seed);
uint64_t lurn_rng_next(lurn_rng *r);
/* n 32-bit draws: the low then the high half of each 64-bit one (the last low alone) */
void lurn_rng_fill_u32(lurn_rng *r, uint32_t *out, int64_t n);
double lurn_rng_uniform(lurn_rng *r);  /* [0, 1) */
double lurn_rng_normal(lurn_rng *r);   /* mean 0, stddev 1 */
void lurn_rng_jump(lurn_rng *r);       /* advance 2^128 steps: an independent stream */
lurn_rng *lurn_rng_global(void);
void lurn_manual_seed(uint64_t seed);
void lurn_tensor_rand(lurn_tensor *t, lurn_rng *r, float lo, float hi);
void lurn_tensor_randn(lurn_tensor *t, lurn_rng *r, float mean, float stddev);
/* A random permutation of 0..n-1 (Fisher-Yates) into index. */
void lurn_randperm(int64_t *index, int64_t n, lurn_rng *r);

/* ---- process settings -------------------------------------------------------- */
void lurn_set_num_threads(int n);  /* OpenMP and OpenBLAS together */
int lurn_get_num_threads(void);
double lurn_clock(void);           /* monotonic wall-clock seconds */

/* ---- files ------------------------------------------------------------------- */
/* .npy arrays: float32, float64, int8/uint8/bool, int32 and int64 (C order) load as float32.
 * Saving is atomic for regular files and writes through to devices and FIFOs (docs/api.md). */
lurn_status lurn_npy_load(const char *path, lurn_tensor **out);
lurn_status lurn_npy_save(const char *path, const lurn_tensor *t);  /* atomic */

/* ---- activations ------------------------------------------------------------------ */
/* Applied over the last dimension of (rows, cols) data; softmax normalises each row. */
typedef enum lurn_activation {
  LURN_ACT_LINEAR, LURN_ACT_RELU, LURN_ACT_SIGMOID, LURN_ACT_TANH, LURN_ACT_SOFTMAX,
  LURN_ACT_SOFTPLUS, LURN_ACT_SOFTSIGN, LURN_ACT_SELU, LURN_ACT_ELU, LURN_ACT_LEAKY_RELU,
  LURN_ACT_GELU, LURN_ACT_COUNT
} lurn_activation;
/* Keras names ("relu", "softmax", ...); returns 0 and sets the error for unknown names. */
int lurn_activation_from_name(const char *name, lurn_activation *act);
const char *lurn_activation_name(lurn_activation act);
/* a = f(z); alpha is the slope of leaky_relu and elu. */
void lurn_activation_forward(lurn_activation act, float alpha, const float *z, float *a, int64_t rows,
                             int64_t cols);
/* dz = f'(z) * da, from z and a = f(z); dz may alias da. */
void lurn_activation_backward(lurn_activation act, float alpha, const float *z, const float *a,
                              const float *da, float *dz, int64_t rows, int64_t cols);

/* ---- initializers -------------------------------------------------------------------- */
typedef enum lurn_init_kind {
  LURN_INIT_ZEROS, LURN_INIT_ONES, LURN_INIT_CONSTANT, LURN_INIT_RANDOM_NORMAL,
  LURN_INIT_RANDOM_UNIFORM, LURN_INIT_TRUNCATED_NORMAL, LURN_INIT_GLOROT_UNIFORM,
  LURN_INIT_GLOROT_NORMAL, LURN_INIT_HE_NORMAL, LURN_INIT_HE_UNIFORM, LURN_INIT_LECUN_NORMAL,
  LURN_INIT_LECUN_UNIFORM
} lurn_init_kind;
typedef struct lurn_initializer {
  lurn_init_kind kind;
  float a, b;  /* constant: value; random_normal: mean, stddev; random_uniform: minval, maxval */
  int seeded;  /* 1: draw from a generator seeded with `seed`, not the one passed in */
  uint64_t seed;
} lurn_initializer;
/* Fills t as Keras does, with fan_in/fan_out from t's shape (last two dimensions,
 * times the receptive field of the leading ones). */
void lurn_initialize(lurn_tensor *t, const lurn_initializer *init, lurn_rng *rng);

/* ---- regularizers --------------------------------------------------------------------- */
typedef struct lurn_regularizer { float l1, l2; } lurn_regularizer;  /* {0, 0}: none */
/* Returns l1*sum|w| + l2*sum w^2 and, if grad is non-NULL, adds its gradient to grad. */
double lurn_regularize(const lurn_regularizer *r, const lurn_tensor *w, lurn_tensor *grad);

/* ---- layers ------------------------------------------------------------------------------ */
/* A layer maps a batch (N, in_shape...) to (N, out_shape...). Shapes in the struct are
 * per sample (no batch dimension). Parameters and their gradients are owned by the layer. */
#define LURN_MAX_PARAMS 4
typedef struct lurn_layer lurn_layer;

typedef struct lurn_layer_ops {
  const char *type;  /* Keras class name: "Dense" */
  /* Checks in_shape, sets out_shape, creates and initialises the parameters. */
  lurn_status (*build)(lurn_layer *l, lurn_rng *rng);
  lurn_status (*forward)(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training);
  /* Writes the parameter gradients (overwriting) and, when dx is non-NULL, dL/dx. */
  lurn_status (*backward)(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                          const lurn_tensor *dy, lurn_tensor *dx);
  void (*destroy)(lurn_layer *l);  /* frees impl and work buffers */
  /* Containers (Residual, Graph) list the layers they run, so that the model trains and
   * regularizes their parameters; NULL for plain layers. Returns the count. */
  int (*children)(const lurn_layer *l, lurn_layer **out, int max);
} lurn_layer_ops;
#define LURN_MAX_CHILDREN 1024  /* the most layers one container runs directly */

struct lurn_layer {
  const lurn_layer_ops *ops;
  void *impl;  /* the layer type's own state */
  int built;
  int in_ndim, out_ndim;
  int64_t in_shape[LURN_MAX_DIMS], out_shape[LURN_MAX_DIMS];
  int nparams;
  lurn_tensor *params[LURN_MAX_PARAMS], *grads[LURN_MAX_PARAMS];
  const char *param_names[LURN_MAX_PARAMS];
  int trainable[LURN_MAX_PARAMS];
  lurn_regularizer regularizers[LURN_MAX_PARAMS];
  lurn_regularizer activity_regularizer;
  /* Output activation, for the fused softmax/sigmoid + cross-entropy path: when the model
   * sets dy_is_preactivation, backward receives dL/dz instead of dL/dy. */
  lurn_activation activation;
  const lurn_tensor *preactivation;  /* z of the last forward, or NULL */
  int dy_is_preactivation;
  /* A max pooling layer can take over the relu gradient of the layer below it: the model
   * sets dx_relu_masked, backward multiplies dx by (y > 0), which is relu's gradient at
   * the inputs the pooling picked, and the layer below gets dy_is_preactivation. One pass
   * over the large tensor under the pooling instead of two; the same numbers.
   * takes_relu_backward says that a layer can. */
  int takes_relu_backward, dx_relu_masked;
  double nested_penalty;  /* activity penalties of a container's inner layers, last forward */
  /* Keras' trainable = false, already combined with the containers around the layer (set
   * by its owner): the model's optimizer leaves its parameters alone, and a
   * BatchNormalization runs in inference mode (moving statistics, not updated). */
  int frozen;
  char name[64];
  /* References: its creator's, plus one per container (model, Residual, Graph) that runs
   * it, so that a container never runs a freed layer whatever order its owners free in. */
  int refs;
  /* The run using the layer's buffers now (a model from forward to backward, or one
   * layer call), or NULL: see lurn_layer_claim. */
  const void *claimed_by;
};

/* Generic helpers for layer implementations (src/layers/layer.c). */
lurn_layer *lurn_layer_alloc(const lurn_layer_ops *ops, void *impl);  /* one reference, the caller's */
/* Another reference to l; returns l. Containers take one for each layer they run. */
lurn_layer *lurn_layer_retain(lurn_layer *l);
/* Releases one reference; the last one frees the layer. */
void lurn_layer_free(lurn_layer *l);
/* A layer's work buffers hold the state of one run between its forward and its backward.
 * A Lambda layer calls Lua inside a run, and Lua may start another run of the same layer
 * (the same model, or another model sharing the layer), which would overwrite or resize
 * those buffers. A run claims l and the layers it contains for `run` (any unique
 * pointer); claiming a layer already claimed by another run fails with a clear error
 * (and leaves l unclaimed). lurn_layer_unclaim releases what `run` claimed. */
lurn_status lurn_layer_claim(lurn_layer *l, const void *run);
void lurn_layer_unclaim(lurn_layer *l, const void *run);
/* Sets l->in_shape then calls ops->build. */
lurn_status lurn_layer_build(lurn_layer *l, int ndim, const int64_t *in_shape, lurn_rng *rng);
/* Adds a parameter of shape `shape`, initialised, with a zero gradient of the same shape. */
lurn_tensor *lurn_layer_add_param(lurn_layer *l, const char *name, int ndim, const int64_t *shape,
                                  const lurn_initializer *init, lurn_rng *rng, int trainable);
/* LURN_OK if x is a packed batch (N, in_shape...) for l; else an error naming both shapes. */
lurn_status lurn_layer_check_batch(const lurn_layer *l, const lurn_tensor *x);
/* At build: fails unless the per-sample input is an image (height, width, channels). */
lurn_status lurn_layer_check_image_input(const lurn_layer *l);
/* Makes *buf a tensor of the given shape, reusing its storage when large enough. */
lurn_status lurn_buffer_ensure(lurn_tensor **buf, int ndim, const int64_t *shape);

/* Layer constructors (one file each under src/layers/). */
typedef struct lurn_dense_config {
  int64_t units;
  lurn_activation activation;
  float alpha;  /* activation slope for leaky_relu/elu */
  int use_bias;
  lurn_initializer kernel_initializer, bias_initializer;
} lurn_dense_config;
lurn_layer *lurn_dense_new(const lurn_dense_config *c);
lurn_layer *lurn_activation_layer_new(lurn_activation act, float alpha);
lurn_layer *lurn_dropout_new(float rate, lurn_rng *rng);
/* Reshape to a per-sample shape (-1 infers one size); Flatten is Reshape to {-1}. */
lurn_layer *lurn_reshape_new(const char *type, int ndim, const int64_t *shape);

/* Residual: y = layers(x) + x, or + projection(x) when the shapes differ. The block
 * takes a reference to the inner layers and the projection. */
lurn_layer *lurn_residual_new(lurn_layer *const *layers, int n, lurn_layer *projection);

/* Merge layers (src/layers/merge.c): one output from 2 or more inputs, run by a Graph.
 * Add, Subtract (exactly 2), Multiply, Average, Maximum and Minimum work elementwise on
 * inputs of one shape; Concatenate joins inputs along a per-sample axis (0-based, negative
 * counts from the end) on which only they may differ. Their one-input ops refuse to run. */
typedef enum lurn_merge_kind {
  LURN_MERGE_ADD, LURN_MERGE_SUBTRACT, LURN_MERGE_MULTIPLY, LURN_MERGE_AVERAGE, LURN_MERGE_MAXIMUM,
  LURN_MERGE_MINIMUM, LURN_MERGE_CONCATENATE
} lurn_merge_kind;
#define LURN_MERGE_MAX_INPUTS 32
lurn_layer *lurn_merge_new(lurn_merge_kind kind, int axis);  /* axis: Concatenate only */
int lurn_layer_is_merge(const lurn_layer *l);
/* Checks the per-sample input shapes and sets the output shape (in_shape: the first's). */
lurn_status lurn_merge_build(lurn_layer *l, int n, const int *ndim, const int64_t *const *shape);
lurn_status lurn_merge_forward(lurn_layer *l, const lurn_tensor *const *xs, int n, lurn_tensor *y);
/* Adds dL/dx_j into dxs[j] (skipped where NULL); Maximum/Minimum send the gradient to the
 * first input holding the extreme, as TensorFlow does on ties. */
lurn_status lurn_merge_backward(lurn_layer *l, const lurn_tensor *const *xs, int n, const lurn_tensor *y,
                                const lurn_tensor *dy, lurn_tensor *const *dxs);

/* Graph (src/layers/graph.c): layers wired as a directed acyclic graph and run as one
 * layer (the functional API). Nodes are added in a topological order: node k (1-based)
 * runs `layer` on the outputs of earlier nodes, 0 naming the graph's input; the last node
 * added is the output, and every other node must feed a later one. A merge layer takes 2
 * or more inputs, any other layer one. Gradients of an output read by several nodes are
 * summed; inner activity penalties are reported in nested_penalty. The graph takes a
 * reference to each layer, each at one node only (no shared weights yet). */
lurn_layer *lurn_graph_new(void);
lurn_status lurn_graph_add(lurn_layer *graph, lurn_layer *layer, const int *inputs, int ninputs);

typedef struct lurn_batchnorm_config {
  float momentum, epsilon;  /* Keras: 0.99, 0.001 */
  int center, scale;        /* train beta / gamma */
  lurn_initializer beta_initializer, gamma_initializer;
} lurn_batchnorm_config;
lurn_layer *lurn_batchnorm_new(const lurn_batchnorm_config *c);

/* A layer whose work is done by the host (Lambda layers in Lua). Each callback returns
 * LURN_OK or a status with the error set; ud is passed back untouched. */
typedef struct lurn_callback_ops {
  lurn_status (*build)(void *ud, int in_ndim, const int64_t *in_shape, int *out_ndim, int64_t *out_shape);
  lurn_status (*forward)(void *ud, const lurn_tensor *x, lurn_tensor *y, int training);
  lurn_status (*backward)(void *ud, const lurn_tensor *x, const lurn_tensor *y, const lurn_tensor *dy,
                          lurn_tensor *dx);
  void (*destroy)(void *ud);
} lurn_callback_ops;
lurn_layer *lurn_callback_layer_new(const lurn_callback_ops *ops, void *ud);
void lurn_callback_layer_set_ud(lurn_layer *l, void *ud);

/* Convolution and pooling over channels-last images: batches (N, H, W, C), per-sample
 * input shape (H, W, C). Sizes are (height, width) pairs. "same" padding follows
 * TensorFlow: out = ceil(in / stride), the odd pixel of padding at the bottom/right. */
typedef struct lurn_conv2d_config {
  int64_t filters;
  int64_t kernel_size[2], strides[2], dilation_rate[2];
  int padding_same;  /* 0: "valid", 1: "same" */
  lurn_activation activation;
  float alpha;  /* activation slope for leaky_relu/elu */
  int use_bias;
  lurn_initializer kernel_initializer, bias_initializer;
} lurn_conv2d_config;
/* Conv2D: (N, H, W, C) -> (N, OH, OW, filters); kernel (kh, kw, C, filters) as Keras. */
lurn_layer *lurn_conv2d_new(const lurn_conv2d_config *c);

typedef enum lurn_pool_kind { LURN_POOL_MAX, LURN_POOL_AVERAGE } lurn_pool_kind;
typedef struct lurn_pool2d_config {
  lurn_pool_kind kind;
  int global;    /* Global*Pooling2D: one window over the whole image, (N, C) out */
  int keepdims;  /* global only: (N, 1, 1, C) out */
  int64_t pool_size[2], strides[2];
  int padding_same;  /* windows over the border pool the elements inside the image only */
} lurn_pool2d_config;
/* MaxPooling2D, AveragePooling2D, GlobalMaxPooling2D, GlobalAveragePooling2D. */
lurn_layer *lurn_pool2d_new(const lurn_pool2d_config *c);

/* ZeroPadding2D: (N, H, W, C) -> (N, top + H + bottom, left + W + right, C), the image
 * placed inside a border of zeros. Paddings are non-negative. */
typedef struct lurn_zero_padding2d_config {
  int64_t top, bottom, left, right;
} lurn_zero_padding2d_config;
lurn_layer *lurn_zero_padding2d_new(const lurn_zero_padding2d_config *c);

/* UpSampling2D: (N, H, W, C) -> (N, H * size[0], W * size[1], C). "nearest" repeats each
 * pixel; "bilinear" interpolates as tf.image.resize (Keras 2's UpSampling2D): half-pixel
 * centers, output row i reads source row (i + 0.5) / size - 0.5, clamped to the image. */
typedef enum lurn_interpolation { LURN_INTERP_NEAREST, LURN_INTERP_BILINEAR } lurn_interpolation;
typedef struct lurn_upsampling2d_config {
  int64_t size[2];
  lurn_interpolation interpolation;
} lurn_upsampling2d_config;
lurn_layer *lurn_upsampling2d_new(const lurn_upsampling2d_config *c);

/* DepthwiseConv2D: each input channel c convolved with depth_multiplier kernels of its own,
 * (N, H, W, C) -> (N, OH, OW, C * depth_multiplier), output channel c * depth_multiplier + m.
 * depthwise_kernel (kh, kw, C, depth_multiplier) and bias (C * depth_multiplier) as Keras. */
typedef struct lurn_depthwise_conv2d_config {
  int64_t kernel_size[2], strides[2], dilation_rate[2];
  int64_t depth_multiplier;
  int padding_same;  /* 0: "valid", 1: "same" */
  lurn_activation activation;
  float alpha;  /* activation slope for leaky_relu/elu */
  int use_bias;
  lurn_initializer depthwise_initializer, bias_initializer;
} lurn_depthwise_conv2d_config;
lurn_layer *lurn_depthwise_conv2d_new(const lurn_depthwise_conv2d_config *c);

/* ---- losses --------------------------------------------------------------------------------- */
typedef enum lurn_loss_kind {
  LURN_LOSS_BINARY_CROSSENTROPY, LURN_LOSS_CATEGORICAL_CROSSENTROPY,
  LURN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, LURN_LOSS_MEAN_SQUARED_ERROR,
  LURN_LOSS_MEAN_ABSOLUTE_ERROR, LURN_LOSS_HUBER
} lurn_loss_kind;
typedef struct lurn_loss {
  lurn_loss_kind kind;
  int from_logits;
  float delta;  /* huber */
} lurn_loss;
/* Keras reduction "sum_over_batch_size": sum_i w_i * loss_i / N, where loss_i is the
 * mean over sample i's last dimension (regression losses). pred is (N, ...); target is
 * (N, ...) of pred's shape, or (N) / (N, 1) class labels (0-based) for the sparse loss.
 * sample_weight may be NULL. If dpred is non-NULL it receives dL/dpred. */
lurn_status lurn_loss_compute(const lurn_loss *loss, const lurn_tensor *pred, const lurn_tensor *target,
                              const float *sample_weight, double *value, lurn_tensor *dpred);

/* ---- optimizers ------------------------------------------------------------------------------ */
typedef enum lurn_optimizer_kind {
  LURN_OPT_SGD, LURN_OPT_ADAM, LURN_OPT_ADAMW, LURN_OPT_RMSPROP, LURN_OPT_ADAGRAD,
  LURN_OPT_NADAM, LURN_OPT_ADAMAX, LURN_OPT_ADADELTA, LURN_OPT_FTRL
} lurn_optimizer_kind;
typedef struct lurn_optimizer_config {
  lurn_optimizer_kind kind;
  float learning_rate;
  float momentum;                  /* sgd, rmsprop */
  int nesterov;                    /* sgd */
  float beta_1, beta_2, epsilon;   /* adam, adamw, nadam, adamax; epsilon also rmsprop, adagrad, adadelta */
  int amsgrad;                     /* adam, adamw */
  float rho;                       /* rmsprop, adadelta */
  float initial_accumulator_value; /* adagrad, ftrl */
  float weight_decay;              /* adamw */
  float clipnorm, clipvalue;       /* 0: off */
  float learning_rate_power;       /* ftrl: <= 0 */
  float l1_regularization_strength, l2_regularization_strength, l2_shrinkage_regularization_strength; /* ftrl */
  float beta;                      /* ftrl */
} lurn_optimizer_config;
typedef struct lurn_optimizer lurn_optimizer;
lurn_optimizer *lurn_optimizer_new(const lurn_optimizer_config *c);
void lurn_optimizer_free(lurn_optimizer *o);
lurn_optimizer_config *lurn_optimizer_config_of(lurn_optimizer *o);  /* live: change lr here */
int64_t lurn_optimizer_iterations(const lurn_optimizer *o);
/* One update of params[i] from grads[i]. The slot state of each parameter is keyed by its
 * position, so pass the same parameters in the same order every step. grads are only read:
 * clipnorm/clipvalue clip a copy in the optimizer's own scratch. */
lurn_status lurn_optimizer_step(lurn_optimizer *o, lurn_tensor *const *params, lurn_tensor *const *grads,
                                int n);
/* The same, leaving params[i] untouched where frozen[i] is non-zero (a frozen layer: no
 * clipping, no step, no momentum, no weight decay; its slots keep their positions, so a
 * layer can be frozen and thawed between steps). frozen may be NULL. */
lurn_status lurn_optimizer_step_frozen(lurn_optimizer *o, lurn_tensor *const *params, lurn_tensor *const *grads,
                                       const unsigned char *frozen, int n);

/* ---- metrics --------------------------------------------------------------------------------- */
typedef enum lurn_metric_kind {
  LURN_METRIC_BINARY_ACCURACY, LURN_METRIC_CATEGORICAL_ACCURACY, LURN_METRIC_SPARSE_CATEGORICAL_ACCURACY,
  LURN_METRIC_MSE, LURN_METRIC_MAE
} lurn_metric_kind;
/* Adds a batch to a weighted mean: *num += sum w * score, *den += sum w. */
lurn_status lurn_metric_batch(lurn_metric_kind kind, const lurn_tensor *pred, const lurn_tensor *target,
                              const float *sample_weight, double *num, double *den);
/* Adds weighted tp, fp, tn, fn at each threshold to counts[4 * k .. 4 * k + 3]
 * (precision, recall, AUC). */
lurn_status lurn_metric_confusion(const lurn_tensor *pred, const lurn_tensor *target, const float *sample_weight,
                                  const float *thresholds, int nthresholds, double *counts);

/* ---- sequential models -------------------------------------------------------------------- */
/* Each call below is a run that claims the model and its layers (lurn_layer_claim): made
 * from inside another run that uses them (a Lambda layer's function), it fails with a
 * "model is running" or "layer is running" error. Between runs any call is fine. */
typedef struct lurn_model lurn_model;
lurn_model *lurn_model_new(void);
void lurn_model_free(lurn_model *m);  /* releases its references to the layers */
lurn_status lurn_model_add(lurn_model *m, lurn_layer *l);  /* takes a reference to l */
/* A model inside a container layer (Residual): the run of the outer model claims its
 * layers, so its own calls do not claim them again. */
void lurn_model_set_inner(lurn_model *m);
int lurn_model_size(const lurn_model *m);
lurn_layer *lurn_model_layer(const lurn_model *m, int i);
/* Builds every layer for per-sample input shape in_shape. */
lurn_status lurn_model_build(lurn_model *m, int ndim, const int64_t *in_shape, lurn_rng *rng);
/* Runs the layers on x (N, in_shape...). *out points into the model's buffers: valid
 * until the next call. */
lurn_status lurn_model_forward(lurn_model *m, const lurn_tensor *x, int training, const lurn_tensor **out);
/* One training step on a batch: forward, loss (+ regularization penalties), backward,
 * optimizer update. Reports the loss and keeps the predictions for metrics. The same,
 * bit for bit, as lurn_model_compute_gradients then lurn_model_apply_gradients(NULL). */
lurn_status lurn_model_train_step(lurn_model *m, const lurn_loss *loss, lurn_optimizer *opt,
                                  const lurn_tensor *x, const lurn_tensor *y, const float *sample_weight,
                                  double *loss_value, const lurn_tensor **pred);
/* The first half of a training step: forward, loss (+ penalties), backward. Leaves the
 * raw gradients in the layers (complete, weight penalties included) and *pred (may be
 * NULL) pointing at the predictions, valid until the next call. */
lurn_status lurn_model_compute_gradients(lurn_model *m, const lurn_loss *loss, const lurn_tensor *x,
                                         const lurn_tensor *y, const float *sample_weight, double *loss_value,
                                         const lurn_tensor **pred);
/* The second half: clipping (on the optimizer's copy: the gradients stay raw) and the
 * update of every parameter the optimizer trains, frozen layers' skipped. grads: NULL for
 * the layers' own gradients, or ngrads packed tensors, one per trainable weight (frozen
 * ones left out) in lurn_model_weights order, e.g. gradients averaged over machines. */
lurn_status lurn_model_apply_gradients(lurn_model *m, lurn_optimizer *opt, lurn_tensor *const *grads,
                                       int ngrads);
/* Called by backward right after layer i's (0-based) gradients are complete, from the
 * last layer to the first: an all-reduce of them can start while the rest runs. NULL
 * removes it; with none set, backward pays nothing. */
typedef void (*lurn_grads_ready_fn)(lurn_model *m, int layer, void *ud);
void lurn_model_on_grads_ready(lurn_model *m, lurn_grads_ready_fn fn, void *ud);
/* Every parameter of a built model, layer by layer (a container's inner layers in their
 * order), as Keras' weights: trainable is 0 for a frozen layer's and for statistics no
 * gradient trains (BatchNormalization's moving mean and variance). Fills out[0..max) and
 * returns the count (out may be NULL to count). */
typedef struct lurn_model_weight {
  lurn_tensor *param, *grad;
  const lurn_layer *layer;
  const char *name; /* "kernel", "bias", ... */
  int trainable;
} lurn_model_weight;
int lurn_model_weights(const lurn_model *m, lurn_model_weight *out, int max);
/* The number of trainable weights now (frozen layers' left out). */
int lurn_model_trainable_count(const lurn_model *m);
/* Loss (+ penalties) of a batch in inference mode, no update. */
lurn_status lurn_model_test_step(lurn_model *m, const lurn_loss *loss, const lurn_tensor *x,
                                 const lurn_tensor *y, const float *sample_weight, double *loss_value,
                                 const lurn_tensor **pred);
/* Backward through the layers after a training forward, from dL/d(output) dy; fills the
 * layers' gradients and, if dx is non-NULL, dL/dx. Containers use it. */
lurn_status lurn_model_backward(lurn_model *m, const lurn_tensor *x, const lurn_tensor *dy, lurn_tensor *dx);
/* Sum of the activity penalties of the last forward. */
double lurn_model_activity_penalty(const lurn_model *m);
/* Forward and backward without an update: fills every layer's grads and, if dx is non-NULL,
 * dL/dx. For gradient checks and diagnosis. */
lurn_status lurn_model_gradients(lurn_model *m, const lurn_loss *loss, const lurn_tensor *x,
                                 const lurn_tensor *y, const float *sample_weight, double *loss_value,
                                 lurn_tensor *dx);

/* ---- IDX files (MNIST format) -------------------------------------------------- */
/* Plain or gzip'd (read through zlib). uint8, int8, int16, int32, float32 and float64
 * values load as float32: bytes as 0..255. Truncated, damaged or over-long files fail. */
lurn_status lurn_idx_load(const char *path, lurn_tensor **out);

/* ---- CSV files (parsed by libcsv) ------------------------------------------------ */
/* A column is FLOAT when every field that is not missing parses as a decimal number
 * (or inf/nan), else STRING; INFER lets the data decide, the others force it. Column
 * positions count from 1, like the file's lines. Blank lines are skipped; a UTF-8 BOM
 * is dropped; CRLF, LF and CR line ends all read. */
typedef enum lurn_csv_type { LURN_CSV_INFER, LURN_CSV_FLOAT, LURN_CSV_STRING } lurn_csv_type;
typedef struct lurn_csv_ref {
  const char *name; /* the header's name, or NULL to use position */
  int position;     /* 1-based */
} lurn_csv_ref;
typedef struct lurn_csv_dtype {
  lurn_csv_ref column;
  lurn_csv_type type;
} lurn_csv_dtype;
typedef struct lurn_csv_options {
  int header;                                   /* 1: the first row names the columns; 0: "1", "2", ... */
  unsigned char delimiter, quote;               /* ',' and '"'; quote 0: no quoting */
  const char *const *na_values; int n_na_values; /* NULL: "", "NA", "NaN", "?" read as missing */
  const lurn_csv_ref *columns; int n_columns;   /* kept, in this order; NULL: all, in file order */
  const lurn_csv_dtype *dtypes; int n_dtypes;   /* types forced on some columns */
  /* Limits, checked as the file is read (0: the default); a stream that never ends a
   * field or a line fails with the file and line instead of growing until memory ends. */
  int64_t max_field_bytes;                      /* LURN_CSV_MAX_FIELD_BYTES */
  int64_t max_line_bytes;                       /* LURN_CSV_MAX_LINE_BYTES: a record's fields together */
  int max_columns;                              /* LURN_CSV_MAX_COLUMNS */
} lurn_csv_options;
#define LURN_CSV_MAX_FIELD_BYTES ((int64_t)64 << 20)
#define LURN_CSV_MAX_LINE_BYTES ((int64_t)256 << 20)
#define LURN_CSV_MAX_COLUMNS (1 << 20)
void lurn_csv_options_init(lurn_csv_options *o); /* the defaults above */

typedef struct lurn_csv_column {
  char *name;
  lurn_csv_type type;  /* FLOAT or STRING */
  int64_t missing;     /* how many fields were missing */
  lurn_tensor *values; /* FLOAT: (nrows,) float32, NaN where missing; owned by the table */
  char *text;          /* STRING: the texts, read with lurn_csv_text */
  int64_t *offsets;    /* STRING: where each row's text is in `text`; -1 where missing */
} lurn_csv_column;
typedef struct lurn_csv_table {
  int64_t nrows;
  int ncols;
  lurn_csv_column *columns;
} lurn_csv_table;
/* Reads a whole file. Ragged rows, malformed quoting, unknown columns, non-numbers in
 * FLOAT columns, a NUL byte in a header name and limits passed fail with the file's name
 * and line. Duplicate names get pandas' suffixes: a, a.1, a.2 (a, a.1, a: a, a.1, a.1.1). */
lurn_status lurn_csv_read(const char *path, const lurn_csv_options *o, lurn_csv_table **out);
void lurn_csv_free(lurn_csv_table *t);
/* Row `row` of a STRING column and its length (it may hold NUL bytes); NULL where missing. */
const char *lurn_csv_text(const lurn_csv_column *c, int64_t row, size_t *len);

/* ---- preprocessing (src/preprocessing/) --------------------------------------------- */
/* Column statistics of x (N, k) as scikit-learn's scalers compute them, in double and
 * skipping NaN (a column with no value gets NaN and count 0). Each field is a new (k,)
 * tensor owned by the caller (lurn_column_stats_free). */
typedef struct lurn_column_stats {
  lurn_tensor *count;      /* values that are not NaN */
  lurn_tensor *mean, *var; /* var: population variance (ddof 0) */
  lurn_tensor *scale;      /* sqrt(var), 1 where the column is constant (StandardScaler) */
  lurn_tensor *min, *max;
} lurn_column_stats;
lurn_status lurn_column_stats_compute(const lurn_tensor *x, lurn_column_stats *out);
void lurn_column_stats_free(lurn_column_stats *s);
/* Quantiles q[0..nq) in percent (0..100) of each column of x (N, k), NaN skipped, with
 * numpy's linear interpolation: a new (nq, k) tensor, NaN for a column without values. */
lurn_tensor *lurn_column_quantiles(const lurn_tensor *x, const double *q, int nq);
/* The most frequent value of each column of x (N, k), NaN skipped, the smallest on ties
 * (scipy.stats.mode): a new (k,) tensor, NaN for a column without values. */
lurn_tensor *lurn_column_mode(const lurn_tensor *x);
/* Per-column affine maps of x (N, k) with (k,) parameters a and b (NULL: 0 for a shift,
 * 1 for a factor), computed in double: a new (N, k) tensor. NaN stays NaN. */
typedef enum lurn_affine_op {
  LURN_AFFINE_SUB_DIV, /* (x - a) / b: StandardScaler, RobustScaler */
  LURN_AFFINE_MUL_ADD  /* x * a + b: MinMaxScaler, inverse of the above */
} lurn_affine_op;
lurn_tensor *lurn_columns_affine(const lurn_tensor *x, const lurn_tensor *a, const lurn_tensor *b,
                                 lurn_affine_op op);
/* x (N, k) with every value equal to `missing` (NaN matches NaN) replaced by fill[j] of
 * its column: a new tensor (SimpleImputer). */
lurn_tensor *lurn_columns_fill(const lurn_tensor *x, float missing, const lurn_tensor *fill);
/* Each row of x (N, k) divided by its norm; a norm below 10 float epsilons counts as 1
 * (sklearn's Normalizer). NaN or infinite input is an error naming the row. If norms is
 * non-NULL it receives a new (N,) tensor of the norms used. */
typedef enum lurn_norm { LURN_NORM_L1, LURN_NORM_L2, LURN_NORM_MAX } lurn_norm;
lurn_tensor *lurn_rows_normalize(const lurn_tensor *x, lurn_norm norm, lurn_tensor **norms);

/* Categories. lurn_unique: the distinct values of x (read flat) sorted ascending, NaN
 * last, as numpy.unique; counts (may be NULL) gets how often each occurs. */
lurn_status lurn_unique(const lurn_tensor *x, lurn_tensor **values, lurn_tensor **counts);
/* codes[i] = 0-based position of x[i] (read flat) in the sorted `classes` (lurn_unique's
 * values), as a new tensor of x's shape. A value not in classes is an error naming it and
 * its 1-based position, or with allow_unknown gets code -1. */
lurn_tensor *lurn_encode(const lurn_tensor *x, const lurn_tensor *classes, int allow_unknown);
/* Checks that every code is a whole number in 0..k-1 (or -1 with allow_unknown); the error
 * names the first one that is not and its 1-based position. */
lurn_status lurn_check_codes(const lurn_tensor *codes, int64_t k, int allow_unknown);
/* One-hot rows (n, num_classes) for the n codes of `codes` (read flat): codes are whole
 * numbers in 0..num_classes-1, else an error naming the value and its position; with
 * allow_unknown a code -1 gives a row of zeros. */
lurn_tensor *lurn_one_hot(const lurn_tensor *codes, int64_t num_classes, int allow_unknown);
/* Text categories: (pointer, length) pairs, so texts may hold NUL bytes; s == NULL is a
 * missing value, sorted after every text. Order is bytewise (code points for UTF-8). */
typedef struct lurn_str { const char *s; size_t len; } lurn_str;
/* The distinct texts of v[0..n): first[j] is where the j-th (in sorted order) first
 * occurs in v, counts[j] (may be NULL) how often it occurs; both have room for n. */
lurn_status lurn_unique_strings(const lurn_str *v, int64_t n, int64_t *first, int64_t *counts, int64_t *k);
/* codes[i] = position of v[i] in the sorted distinct texts classes[0..k); unknown texts
 * as lurn_encode. */
lurn_status lurn_encode_strings(const lurn_str *v, int64_t n, const lurn_str *classes, int64_t k,
                                int allow_unknown, float *codes);

/* Data splits as scikit-learn makes them (src/preprocessing/splits.c). Samples are 0-based
 * positions; codes[i] is the 0-based class of sample i among k classes. rng NULL: no
 * shuffling. fold[i] receives the test fold (0..n_splits-1) of sample i. */
lurn_status lurn_kfold(int64_t n, int n_splits, lurn_rng *rng, int64_t *fold);
lurn_status lurn_stratified_kfold(const int64_t *codes, int64_t n, int64_t k, int n_splits, lurn_rng *rng,
                                  int64_t *fold);
/* The samples of fold `f` (test, ascending) and of every other fold (train, ascending). */
void lurn_fold_positions(const int64_t *fold, int64_t n, int f, int64_t *train, int64_t *n_train,
                         int64_t *test, int64_t *n_test);
/* StratifiedShuffleSplit: n_train and n_test samples keeping the class proportions
 * (largest remainders, ties broken at random), in random order. */
lurn_status lurn_stratified_split(const int64_t *codes, int64_t n, int64_t k, int64_t n_train, int64_t n_test,
                                  lurn_rng *rng, int64_t *train, int64_t *test);

/* ---- image augmentation (src/preprocessing/augment.c) ----------------------------- */
/* Keras 2's ImageDataGenerator on channels-last float images: one image (H, W, C),
 * batches (N, H, W, C). Points sampled outside the image are filled as Keras'
 * fill_mode says: constant (cval), nearest (a a | a b c d | d d), reflect
 * (b a | a b c d | d c), wrap (c d | a b c d | a b). */
typedef enum lurn_fill_mode {
  LURN_FILL_CONSTANT, LURN_FILL_NEAREST, LURN_FILL_REFLECT, LURN_FILL_WRAP
} lurn_fill_mode;
/* Keras names; returns 0 and sets the error for unknown names. */
int lurn_fill_mode_from_name(const char *name, lurn_fill_mode *mode);
const char *lurn_fill_mode_name(lurn_fill_mode mode);

/* out(r, c, :) = x(m . (r, c, 1)): m is a row-major 3x3 matrix (last row 0 0 1) that
 * maps each output pixel to the input point sampled there, in (row, column) pixels, as
 * scipy.ndimage.affine_transform. order 1: bilinear, 0: nearest pixel. x and out are
 * packed (H, W, C) tensors of one shape that do not overlap. */
lurn_status lurn_image_affine(const lurn_tensor *x, const double *m, int order, lurn_fill_mode mode, float cval,
                              lurn_tensor *out);

/* One image's transform, Keras' transform_parameters. */
typedef struct lurn_image_transform {
  double theta;                    /* rotation, degrees */
  double tx, ty;                   /* shift along rows (height) and columns (width), pixels */
  double shear;                    /* degrees */
  double zx, zy;                   /* zoom of rows and columns; above 1 shows more of the image */
  int flip_horizontal, flip_vertical;
  double channel_shift_intensity;  /* added to every value, clipped to the image's range; 0: none */
  double brightness;               /* factor, clipped to the image's range; 1: none */
} lurn_image_transform;
void lurn_image_transform_identity(lurn_image_transform *t);
/* The affine part with the flips as one 3x3 matrix for lurn_image_affine: Keras'
 * rotation . shift . shear . zoom about the image centre ((h-1)/2, (w-1)/2), then the flips. */
void lurn_image_transform_matrix(const lurn_image_transform *t, int64_t h, int64_t w, double *m);
/* Keras' apply_transform on one image (H, W, C) into out: the warp, then channel
 * shift, flips and brightness. */
lurn_status lurn_image_apply_transform(const lurn_tensor *x, const lurn_image_transform *t, int order,
                                       lurn_fill_mode mode, float cval, lurn_tensor *out);
/* The same for each image of x (N, H, W, C) with its own ts[i], in parallel. */
lurn_status lurn_image_transform_batch(const lurn_tensor *x, const lurn_image_transform *ts, int order,
                                       lurn_fill_mode mode, float cval, lurn_tensor *out);

/* ImageDataGenerator's random transforms. A range r draws uniformly in (-r, r); 0: off. */
typedef struct lurn_augment_config {
  double rotation_range;                      /* degrees */
  double height_shift_range, width_shift_range; /* below 1: fraction of the size; else pixels */
  /* Non-NULL: pick one of these values with a random sign instead (Keras' lists; an
   * integer n is the list 0..n-1). The values are fractions if all are below 1. */
  const double *height_shift_values, *width_shift_values;
  int n_height_shift_values, n_width_shift_values;
  double shear_range;                         /* degrees */
  double zoom_range[2];                       /* zx, zy each uniform in [lower, upper); {1, 1}: off */
  int horizontal_flip, vertical_flip;         /* each image flipped with probability 1/2 */
  double channel_shift_range;
  int brightness;                             /* 1: draw a factor in brightness_range */
  double brightness_range[2];
  lurn_fill_mode fill_mode;                   /* Keras' default: nearest */
  float cval;
  int interpolation_order;                    /* 1 (bilinear, Keras' default) or 0 */
} lurn_augment_config;
void lurn_augment_config_init(lurn_augment_config *c);  /* everything off, Keras' defaults */
lurn_status lurn_augment_check(const lurn_augment_config *c);  /* negative ranges, bad pairs */
/* Draws one transform for an h x w image, as Keras' get_random_transform. */
void lurn_augment_draw(const lurn_augment_config *c, int64_t h, int64_t w, lurn_rng *rng, lurn_image_transform *t);
/* Augments each image of x (N, H, W, C) into out: the N transforms are drawn serially
 * from rng, image by image, then applied in parallel, so a seeded rng gives the same
 * batch at any thread count. */
lurn_status lurn_augment_batch(const lurn_augment_config *c, const lurn_tensor *x, lurn_rng *rng, lurn_tensor *out);

/* Keras' standardize, in place, image by image on (H, W, C) or (N, H, W, C): x *= rescale
 * (0: none); minus the image's mean; divided by its std + 1e-6; minus mean[c]; divided
 * by std[c] + 1e-6 (per channel; NULL: skipped). */
typedef struct lurn_standardize_config {
  float rescale;
  int samplewise_center, samplewise_std_normalization;
  const float *mean, *std;
} lurn_standardize_config;
lurn_status lurn_image_standardize(lurn_tensor *x, const lurn_standardize_config *c);

/* ---- imbalanced data (src/sampling/) --------------------------------------------- */
/* Class labels are 0-based whole numbers in a float tensor y of shape (n) or (n, 1). Where
 * a sampler takes per-class numbers (n_new, n_keep), entry c is for class c; nwanted
 * entries are given, the classes past them are left alone. A generator passed in is
 * drawn from serially, so a seed gives the same result at any thread count. */
/* counts[c] for c < *nclasses (the largest label + 1); malloc'd, the caller frees. */
lurn_status lurn_class_counts(const lurn_tensor *y, int64_t **counts, int64_t *nclasses);
/* Exact k nearest neighbours by Euclidean distance (brute force through lurn_sgemm,
 * parallel over queries): for each row of query (nq, d), the k nearest rows of ref
 * (nref, d), nearest first, ties to the lower position. query NULL: each row of ref among
 * the other rows (nq is then nref). index (nq, k) gets 0-based rows of ref; dist (nq, k)
 * the distances, or NULL. */
lurn_status lurn_knn(const float *ref, int64_t nref, const float *query, int64_t nq, int64_t d, int k,
                     int64_t *index, float *dist);
/* SMOTE, as imbalanced-learn: for each class c (in order) with n_new[c] > 0, the k nearest
 * neighbours of its samples among themselves, then n_new[c] samples x[i] + u (x[j] - x[i]),
 * with (i, j) drawn uniformly over the (sample, one of its k neighbours) pairs and u in
 * [0, 1). x is (n, d) and finite; every class grown needs at least k + 1 samples.
 * *x_out (n + sum n_new, d) is x followed by the new samples grouped by class, *y_out
 * their labels, shaped like y. */
lurn_status lurn_smote(const lurn_tensor *x, const lurn_tensor *y, const int64_t *n_new, int64_t nwanted, int k,
                       lurn_rng *rng, lurn_tensor **x_out, lurn_tensor **y_out);
/* Random over-sampling as positions (*index malloc'd, *m of them): 0..n-1, then for each
 * class c in order n_new[c] of its rows drawn with replacement. */
lurn_status lurn_random_oversample(const lurn_tensor *y, const int64_t *n_new, int64_t nwanted, lurn_rng *rng,
                                   int64_t **index, int64_t *m);
/* Random under-sampling as positions: class by class in order, n_keep[c] of its rows drawn
 * (with replacement or without), or all of them in order where n_keep[c] < 0. */
lurn_status lurn_random_undersample(const lurn_tensor *y, const int64_t *n_keep, int64_t nwanted, int replacement,
                                    lurn_rng *rng, int64_t **index, int64_t *m);

#ifdef __cplusplus
}
#endif
#endif
