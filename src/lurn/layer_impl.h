/* lurn/layer_impl.h — what a layer author needs: struct lurn_layer, its ops table and the
 * helpers every layer shares (src/layers/layer.c). Part of the C API that lurn.h gathers.
 *
 * Writing a layer type, with src/layers/dense.c as the worked example:
 * 1. A config struct in lurn/layers.h (lurn_dense_config: units, activation, use_bias,
 *    initializers) and a private state struct in the .c file (`dense`: the config plus
 *    work buffers, here z and dz).
 * 2. build(l, rng): read l->in_shape (per sample, checked by lurn_layer_build: sizes
 *    multiply below 2^61), refuse what the layer cannot take with lurn_fail naming the
 *    shapes, add the parameters with lurn_layer_add_param (initialised, with zero
 *    gradients), set l->out_ndim and l->out_shape.
 * 3. forward(l, x, y, training): x is a packed batch (N, in_shape...), y is allocated by
 *    the caller as (N, out_shape...) and must be written whole (specs run with poisoned
 *    memory). Keep what backward needs in the state struct; grow work buffers with
 *    lurn_buffer_ensure, which reuses storage, so a step allocates nothing after the first.
 * 4. backward(l, x, y, dy, dx, fuse): overwrite l->grads[i] with dL/dparams[i]; write
 *    dL/dx into dx unless it is NULL (the first layer). With a non-linear activation of
 *    its own, set l->activation and l->preactivation in forward and honour
 *    LURN_BACKWARD_DY_IS_DZ in fuse (dense.c does); other flags only if the layer's
 *    ops->fuses offers them. Gradient-check it (spec/helpers/gradcheck.lua).
 * 5. destroy(l): free the state and its buffers (lurn_layer_free calls it on the last
 *    reference); a checked constructor lurn_X_new(config) validates the config and
 *    returns lurn_layer_alloc(&ops, state), or NULL with the error set.
 * 6. The Lua side: a binding in src/lua/l_layer.c, a class in lua/lurn/layers/ (its
 *    options, get_config), a spec in spec/layers/, an entry in docs/api.md.
 * Containers (Residual, Graph) also give children(); merge layers take several inputs
 * through lurn_merge_*. Which neighbours fuse their work is the model's (or the graph's)
 * plan, passed to backward as flags: a layer keeps no state about its neighbours. */
#ifndef LURN_API_LAYER_IMPL_H
#define LURN_API_LAYER_IMPL_H

#include "lurn/layers.h"
#include "lurn/model.h" /* lurn_layer_stats */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- layers ------------------------------------------------------------------------------ */
/* A layer maps a batch (N, in_shape...) to (N, out_shape...). Shapes in the struct are
 * per sample (no batch dimension). Parameters and their gradients are owned by the layer. */
#define LURN_MAX_PARAMS 4

/* Flags of backward's `fuse`: work fused with a neighbour, planned by the model or graph
 * that runs the layer. One pass over a large tensor instead of two; the same numbers. */
enum {
  /* dy is already dL/dz, the gradient before the layer's own activation (l->activation):
   * the loss above applied a softmax/sigmoid's, or the max pooling above a relu's (next
   * flag). Every layer that sets a non-linear l->activation honours it. */
  LURN_BACKWARD_DY_IS_DZ = 1u << 0,
  /* Multiply dx by relu's gradient at the inputs the layer picked (its outputs y > 0), on
   * behalf of a relu layer below, which then gets LURN_BACKWARD_DY_IS_DZ. Only for layers
   * whose ops->fuses offers it (max pooling). */
  LURN_BACKWARD_MASK_DX_RELU = 1u << 1,
};

/* Masks (Keras' mask_zero, Masking): which steps of a batch of sequences are real (1) and
 * which padding (0), a packed (N, steps) tensor. A layer says what it does with the mask of
 * its input (ops->mask_rule); whoever runs it (the model, a graph) carries the mask from
 * layer to layer, sets l->mask before forward and backward, and refuses a mask that
 * reaches a layer that cannot take one (as Keras). */
typedef enum lurn_mask_rule {
  LURN_MASK_REFUSE = 0, /* a mask reaching the layer is an error (the default: ops->mask_rule NULL) */
  LURN_MASK_KEEP,       /* reads it or not, passes it on: the output keeps the steps (Dense, Dropout, ...) */
  LURN_MASK_CONSUME,    /* reads it, passes nothing on (a recurrent layer that returns its last state) */
  LURN_MASK_MAKE,       /* makes its output's mask from its input (Embedding with mask_zero, Masking):
                         * ops->output_mask gives it after forward */
} lurn_mask_rule;

typedef struct lurn_layer_ops {
  const char *type;  /* Keras class name: "Dense" */
  /* Checks in_shape, sets out_shape, creates and initialises the parameters. */
  lurn_status (*build)(lurn_layer *l, lurn_rng *rng);
  lurn_status (*forward)(lurn_layer *l, const lurn_tensor *x, lurn_tensor *y, int training);
  /* Writes the parameter gradients (overwriting) and, when dx is non-NULL, dL/dx; fuse:
   * LURN_BACKWARD_* flags. */
  lurn_status (*backward)(lurn_layer *l, const lurn_tensor *x, const lurn_tensor *y,
                          const lurn_tensor *dy, lurn_tensor *dx, unsigned fuse);
  void (*destroy)(lurn_layer *l);  /* frees impl and work buffers */
  /* Containers (Residual, Graph) list the layers they run, so that the model trains and
   * regularizes their parameters; NULL for plain layers. Returns the count. */
  int (*children)(const lurn_layer *l, lurn_layer **out, int max);
  /* The LURN_BACKWARD_* flags beyond DY_IS_DZ that backward honours; NULL: none. */
  unsigned (*fuses)(const lurn_layer *l);
  /* What the layer does with a mask (lurn_mask_rule); NULL: LURN_MASK_REFUSE. */
  lurn_mask_rule (*mask_rule)(const lurn_layer *l);
  /* LURN_MASK_MAKE: the mask of the output of the last forward, (N, steps), owned by the
   * layer (valid until its next forward), or NULL when it made none. */
  const lurn_tensor *(*output_mask)(const lurn_layer *l);
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
  /* The layer's own output activation, for the fused paths (LURN_BACKWARD_DY_IS_DZ): the
   * softmax/sigmoid + cross-entropy loss, and relu under a max pooling. */
  lurn_activation activation;
  const lurn_tensor *preactivation;  /* z of the last forward, or NULL */
  double nested_penalty;  /* activity penalties of a container's inner layers, last forward */
  /* Who watches the layer in the current run, or NULL: set by a model for one training
   * run, on the layers that are not containers, when it records statistics or reports
   * complete gradients (lurn_model_record_stats, lurn_model_on_grads_ready). Whoever runs
   * the layer (the model, a graph) calls lurn_layer_forward_done after its forward and
   * lurn_layer_backward_done after its backward. */
  struct lurn_layer_observer *observer;
  /* The mask of the input of this run, (N, steps), 1 for a real step and 0 for padding, or
   * NULL: set by whoever runs the layer before its forward and backward (see
   * lurn_mask_rule); a layer whose rule reads it honours it in both. */
  const lurn_tensor *mask;
  /* 1 while a model runs an inference forward that no backward follows (predict,
   * evaluate): a layer may then skip what only backward reads (max pooling's offsets).
   * Set by the model around its own forward; 0 otherwise (a layer run alone, or inside a
   * container: backward may follow an inference forward there, for input gradients). */
  int forward_only;
  /* Keras' trainable = false, already combined with the containers around the layer (set
   * by its owner): the model's optimizer leaves its parameters alone, and a
   * BatchNormalization runs in inference mode (moving statistics, not updated). */
  int frozen;
  /* Data-parallel training (src/nn/data_parallel.c): syncs_batch, set by the layer, says
   * that its forward and backward sum over the processes of the job in a data-parallel
   * step (BatchNormalization{synchronized}: statistics of the global batch); the step sets
   * data_parallel on every layer for its run, and runs such a model even on an empty shard,
   * so that every process joins each of those sums. */
  int syncs_batch, data_parallel;
  char name[64];
  /* References: its creator's, plus one per container (model, Residual, Graph) that runs
   * it, so that a container never runs a freed layer whatever order its owners free in. */
  int refs;
  /* The run using the layer's buffers now (a model from forward to backward, or one
   * layer call), or NULL: see lurn_layer_claim. */
  const void *claimed_by;
};

/* A watcher of the layers of a run (see struct lurn_layer's observer): told of each
 * layer's output as soon as its forward ran, and of its gradients as soon as its backward
 * completed them. */
typedef struct lurn_layer_observer {
  lurn_status (*forward_done)(struct lurn_layer_observer *o, lurn_layer *l, const lurn_tensor *y);
  void (*backward_done)(struct lurn_layer_observer *o, lurn_layer *l);
} lurn_layer_observer;

/* Generic helpers for layer implementations (src/layers/layer.c). */
lurn_layer *lurn_layer_alloc(const lurn_layer_ops *ops, void *impl);  /* one reference, the caller's */
/* A layer's work buffers hold the state of one run between its forward and its backward.
 * A Lambda layer calls Lua inside a run, and Lua may start another run of the same layer
 * (the same model, or another model sharing the layer), which would overwrite or resize
 * those buffers. A run claims l and the layers it contains for `run` (any unique
 * pointer); claiming a layer already claimed by another run fails with a clear error
 * (and leaves l unclaimed). lurn_layer_unclaim releases what `run` claimed. */
lurn_status lurn_layer_claim(lurn_layer *l, const void *run);
void lurn_layer_unclaim(lurn_layer *l, const void *run);
/* Adds a parameter of shape `shape`, initialised, with a zero gradient of the same shape. */
lurn_tensor *lurn_layer_add_param(lurn_layer *l, const char *name, int ndim, const int64_t *shape,
                                  const lurn_initializer *init, lurn_rng *rng, int trainable);
/* LURN_OK if x is a packed batch (N, in_shape...) for l; else an error naming both shapes. */
lurn_status lurn_layer_check_batch(const lurn_layer *l, const lurn_tensor *x);
/* At build: fails unless the per-sample input is an image (height, width, channels). */
lurn_status lurn_layer_check_image_input(const lurn_layer *l);
/* For whoever runs a layer: before its forward, lurn_layer_take_mask sets l->mask from the
 * mask reaching it (an error naming the layer if it cannot take one); after it,
 * lurn_layer_mask_out gives the mask its output carries on (NULL: none). */
lurn_status lurn_layer_take_mask(lurn_layer *l, const lurn_tensor *mask);
/* ops->mask_rule of layers that keep the steps and pass a mask on unread (Dense, Dropout, ...). */
lurn_mask_rule lurn_mask_keep(const lurn_layer *l);
/* What l does with a mask: its ops->mask_rule, LURN_MASK_REFUSE without one. */
lurn_mask_rule lurn_layer_mask_rule(const lurn_layer *l);
const lurn_tensor *lurn_layer_mask_out(const lurn_layer *l, const lurn_tensor *mask);
/* For whoever runs a layer: tell its observer, if it has one, that the layer's forward
 * wrote y / that its backward completed its gradients. */
lurn_status lurn_layer_forward_done(lurn_layer *l, const lurn_tensor *y);
void lurn_layer_backward_done(lurn_layer *l);
/* Whether `above`, fed by `below` alone, can apply below's relu gradient for it
 * (LURN_BACKWARD_MASK_DX_RELU): below's activation is relu and no activity penalty must be
 * added to its dL/dy. For the model's and the graph's plans of fused steps. */
int lurn_layer_relu_fusable(const lurn_layer *below, const lurn_layer *above);
/* Whether the loss over top's output can run on its logits (top->preactivation) when a
 * softmax/sigmoid feeds a cross-entropy, as tf.keras does (exact and stable): its dL/dz
 * then goes to top's backward with LURN_BACKWARD_DY_IS_DZ. Not with an activity penalty
 * on top, which needs dL/dy. For the model and a graph with several outputs. */
int lurn_layer_loss_fusable(const lurn_layer *top, const lurn_loss *loss);
/* Fills s's output statistics (act_mean, act_std, dead and saturated fractions where they
 * apply) from y, l's output of the forward just run (src/nn/layer_stats.c). */
lurn_status lurn_layer_stats_of_output(lurn_layer_stats *s, const lurn_layer *l, const lurn_tensor *y);
/* Fills s's grad_norm and weight_norm from l's trainable parameters and raw gradients. */
void lurn_layer_stats_of_params(lurn_layer_stats *s, const lurn_layer *l);
/* Makes *buf a tensor of the given shape, reusing its storage when large enough. */
lurn_status lurn_buffer_ensure(lurn_tensor **buf, int ndim, const int64_t *shape);

#ifdef __cplusplus
}
#endif
#endif
