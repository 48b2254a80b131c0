/* lurn/layers.h — the layer constructors (one file each under src/layers/).
 * Part of the C API that lurn.h gathers. */
#ifndef LURN_API_LAYERS_H
#define LURN_API_LAYERS_H

#include "lurn/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A layer maps a batch (N, in_shape...) to (N, out_shape...); shapes are per sample. Its
 * insides are for layer authors (lurn/layer_impl.h); users make, build, run and free it. */
typedef struct lurn_layer lurn_layer;
/* Another reference to l; returns l. Containers take one for each layer they run. */
lurn_layer *lurn_layer_retain(lurn_layer *l);
/* Releases one reference; the last one frees the layer. */
void lurn_layer_free(lurn_layer *l);
/* Builds l for a per-sample input shape (checked: sizes multiply below 2^61), creating and
 * initialising its parameters; the same shape again is fine, another an error. */
lurn_status lurn_layer_build(lurn_layer *l, int ndim, const int64_t *in_shape, lurn_rng *rng);
/* A process setting: how many parameter values builds may still create (-1, the default:
 * no limit); each new parameter is taken off it, and one that does not fit fails its
 * build before any memory is asked for. Loading a model file sets it to the values the
 * file's weights hold while it rebuilds the architecture, so that a hostile config
 * (Dense(2^40)) is refused instead of allocated. */
void lurn_set_param_budget(int64_t values);
int64_t lurn_param_budget(void);

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
  LURN_MERGE_MINIMUM, LURN_MERGE_CONCATENATE,
  /* Internal (the functional API's initial_state): each input flattened per sample and
   * concatenated, (N, sum of sizes); a mask reaching it is its first input's */
  LURN_MERGE_PACK
} lurn_merge_kind;
#define LURN_MERGE_MAX_INPUTS 32
lurn_layer *lurn_merge_new(lurn_merge_kind kind, int axis);  /* axis: Concatenate only */
int lurn_layer_is_merge(const lurn_layer *l);
int lurn_merge_is_pack(const lurn_layer *l);
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
/* Several inputs and outputs (a functional model's lists), set before the graph is built.
 * Input j (0-based) is node -j, so 0 is still the first; the graph reads them packed side
 * by side in one tensor, (N, sum of the inputs' per-sample sizes), each flattened, in
 * order: the graph is built for that packed shape. The outputs are the nodes out_nodes,
 * written packed the same way into y (N, sum of their sizes); a node that is not an
 * output must feed a later one. Defaults: one input, the last node the output. */
#define LURN_GRAPH_MAX_IO 32
lurn_status lurn_graph_set_io(lurn_layer *graph, int ninputs, const int *in_ndim, const int64_t *const *in_shape,
                              int noutputs, const int *out_nodes);
int lurn_graph_noutputs(const lurn_layer *graph);  /* 0 if not a graph */
/* The mask output k (0-based) carried in the last forward, or NULL. */
const lurn_tensor *lurn_graph_output_mask(const lurn_layer *graph, int k);
/* The loss of a graph with several outputs over its last training (with_grad) or
 * inference forward: loss->outputs[k] on output k, its targets the columns of y (N, ...)
 * that output takes, packed in output order (the output's per-sample size, or for a
 * sparse cross-entropy one label per row of its last axis). Each output's loss goes into
 * loss->outputs[k].value; *value is their sum weighted by loss->outputs[k].weight. With
 * with_grad, the gradients go into the outputs' own buffers for the next backward (whose
 * dy is then ignored), a softmax/sigmoid output under a cross-entropy fused as for one;
 * an output carrying a mask leaves its padded steps out (lurn_loss_compute_masked). */
lurn_status lurn_graph_loss(lurn_layer *graph, const lurn_loss *loss, const lurn_tensor *y,
                            const float *sample_weight, double *value, int with_grad);

typedef struct lurn_batchnorm_config {
  float momentum, epsilon;  /* Keras: 0.99, 0.001 */
  int center, scale;        /* train beta / gamma */
  lurn_initializer beta_initializer, gamma_initializer;
  /* Keras 2.12's synchronized: in a data-parallel step (src/nn/data_parallel.c) the batch
   * statistics are the global batch's, summed over the processes; elsewhere no effect */
  int synchronized;
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

/* Layers over sequences, batches (N, steps, features) (src/layers/conv1d.c, pooling1d.c,
 * embedding.c, time_distributed.c). Conv1D and the 1-D poolings run the 2-D code on each
 * sequence seen as an image one row high. */
typedef enum lurn_conv1d_padding {
  LURN_CONV1D_VALID,
  LURN_CONV1D_SAME,   /* TensorFlow's rule, as Conv2D */
  LURN_CONV1D_CAUSAL  /* dilation_rate * (kernel_size - 1) zeros on the left: y[t] sees x[<= t] */
} lurn_conv1d_padding;
typedef struct lurn_conv1d_config {
  int64_t filters, kernel_size, strides, dilation_rate;
  lurn_conv1d_padding padding;
  lurn_activation activation;
  float alpha;  /* activation slope for leaky_relu/elu */
  int use_bias;
  lurn_initializer kernel_initializer, bias_initializer;
} lurn_conv1d_config;
/* Conv1D: (N, steps, C) -> (N, out_steps, filters); kernel (kernel_size, C, filters) as Keras. */
lurn_layer *lurn_conv1d_new(const lurn_conv1d_config *c);

typedef struct lurn_pool1d_config {
  lurn_pool_kind kind;
  int global;    /* Global*Pooling1D: (N, C) out */
  int keepdims;  /* global only: (N, 1, C) out */
  int64_t pool_size, strides;
  int padding_same;
} lurn_pool1d_config;
/* MaxPooling1D, AveragePooling1D, GlobalMaxPooling1D, GlobalAveragePooling1D. */
lurn_layer *lurn_pool1d_new(const lurn_pool1d_config *c);

/* Embedding: token ids (N, d1, ...) stored as floats -> (N, d1, ..., output_dim), row id
 * of embeddings (input_dim, output_dim). An id that is not an integer in [0, input_dim)
 * is an error naming the sample and position, raised before anything is written. */
typedef struct lurn_embedding_config {
  int64_t input_dim, output_dim;
  lurn_initializer embeddings_initializer;
  int mask_zero; /* id 0 is padding: the output carries a mask, (N, steps), 0 where the id is 0 */
} lurn_embedding_config;
lurn_layer *lurn_embedding_new(const lurn_embedding_config *c);

/* Masking: x (N, steps, features) -> the same with the steps whose features all equal
 * mask_value set to 0, and a mask (N, steps) that marks them as padding for the layers
 * after it (src/layers/masking.c). */
lurn_layer *lurn_masking_new(float mask_value);

/* TimeDistributed: runs `inner` on every step, (N, steps, ...) as (N * steps, ...). The
 * container takes a reference to inner. */
lurn_layer *lurn_time_distributed_new(lurn_layer *inner);

/* Slice (internal, the functional API's reading of one part of a packed output, Keras'
 * tensor_index): y = x[:, offset : offset + prod(shape)] seen as (N, shape...), from x
 * (N, size) packed per sample. Backward writes its part of dL/dx and zeros elsewhere.
 * keep_mask: the part keeps the steps (a return_sequences output), so a mask passes on;
 * otherwise the mask stops here. */
lurn_layer *lurn_slice_new(int64_t offset, int ndim, const int64_t *shape, int keep_mask);

/* Recurrent layers over (N, timesteps, features) from a zero initial state, as Keras':
 * SimpleRNN, LSTM (gates i, f, c, o) and GRU (gates z, r, h). kernel (features, k*units),
 * recurrent_kernel (units, k*units), bias (k*units), or (2, 3*units) for a GRU with
 * reset_after. Output (N, units), or (N, timesteps, units) with return_sequences (in the
 * order processed: reversed time with go_backwards, as Keras). activation and
 * recurrent_activation: linear, relu, sigmoid, tanh or softsign (the ones whose derivative
 * follows from their output). */
typedef struct lurn_recurrent_config {
  int64_t units;
  lurn_activation activation, recurrent_activation;  /* recurrent_: LSTM and GRU gates */
  int use_bias;
  lurn_initializer kernel_initializer, recurrent_initializer, bias_initializer;
  int unit_forget_bias;  /* LSTM: the forget gate's bias starts at 1 */
  int reset_after;       /* GRU: the reset gate applies after the recurrent product */
  int return_sequences, go_backwards;
  /* Keras 2's dropout on the inputs and recurrent_dropout on the state entering the
   * recurrent product, in training: kept with probability 1 - rate and scaled by
   * 1 / (1 - rate), masks drawn once per batch from rng (NULL: the global generator); one
   * input mask for all gates without recurrent_dropout, else one per gate on both sides. */
  float dropout, recurrent_dropout;
  lurn_rng *rng;
  /* Keras' return_state: y is (N, P), per sample the output flattened, then the final h
   * (and the LSTM's c): the states after the last real step (carried over masked steps).
   * One packed output, so that the layer stays a one-output node: the functional API reads
   * each part through a slice node (lurn_slice_new). */
  int return_state;
  /* Keras' initial_state: x is (N, timesteps*features + k*units), per sample the sequence
   * flattened, then h0 (and the LSTM's c0): k = 1, 2 for the LSTM; the functional API packs
   * them (a Pack merge node). Backward writes dL/dh0 (dL/dc0) into dx beside dL/dx. */
  int initial_state;
  int64_t timesteps, features; /* with initial_state: the sequence's shape per sample */
} lurn_recurrent_config;
lurn_layer *lurn_simple_rnn_new(const lurn_recurrent_config *c);
lurn_layer *lurn_lstm_new(const lurn_recurrent_config *c);
lurn_layer *lurn_gru_new(const lurn_recurrent_config *c);

/* Bidirectional: `forward` and `backward` (its twin reading the other way: go_backwards
 * flipped) on the same input, outputs merged; sequence outputs of `backward` are put back
 * in the input's time order first (src/layers/bidirectional.c). The container takes a
 * reference to both. */
typedef enum lurn_bidirectional_merge {
  LURN_BIDIRECTIONAL_CONCAT, /* on the last axis: forward's units, then backward's */
  LURN_BIDIRECTIONAL_SUM,
  LURN_BIDIRECTIONAL_MUL,
  LURN_BIDIRECTIONAL_AVE,
  /* Keras' merge_mode = None: y is (N, 2*P), per sample forward's output flattened, then
   * backward's (in the input's time order); the functional API slices the two apart */
  LURN_BIDIRECTIONAL_NONE
} lurn_bidirectional_merge;
lurn_layer *lurn_bidirectional_new(lurn_layer *forward, lurn_layer *backward, lurn_bidirectional_merge merge);

#ifdef __cplusplus
}
#endif
#endif
