/* layers/recurrent.h — what SimpleRNN, LSTM and GRU share (src/layers/recurrent.c): the
 * state and buffers of a recurrent layer, its parameters, the input projection of all
 * timesteps as one GEMM, the output, and the input-side gradients as two GEMMs. Each cell
 * (simple_rnn.c, lstm.c, gru.c) runs its own time loop: one recurrent GEMM per step over
 * the batch (one per gate under recurrent dropout), then its gates in one elementwise
 * pass; backward, the recurrent kernel's gradient is one GEMM over the whole sequence.
 *
 * Dropout as Keras 2: `dropout` masks input features, `recurrent_dropout` the state that
 * enters the recurrent product, with masks drawn once per forward (the same at every
 * step). Without recurrent_dropout the gated cells use one input mask for all gates (Keras'
 * implementation 2), with it one mask per gate on each side (implementation 1); the GRU's
 * state in h(t) = z * h(t-1) + ... is the unmasked one, as Keras'.
 *
 * Layout: every per-step buffer is (N, T, ...) like x, so that step s of sample n reads
 * row n*T + t(s) with a row stride of T*width between samples; t(s) is s, or T-1-s with
 * go_backwards. Steps are numbered in processing order, input times in x's order: the
 * gate buffers (xw, dg) are indexed by input time t(s), the states (h and the cell's) by
 * step s, so that y with return_sequences is h itself (reversed time with go_backwards,
 * as Keras) and dL/dkernel, dL/dx are one GEMM each over x's rows.
 *
 * Masks, as Keras 2's backend.rnn: with l->mask (N, T) set, a sample whose mask is 0 at
 * the input time t(s) keeps its previous state (h, and the LSTM's c; zeros before its
 * first real step) and its output repeats the previous one (the state itself, here: every
 * cell's output is its h). The cells compute the step as usual and then carry the state
 * over the masked samples' rows (lurn_rnn_carry_masked), outside the gate loop; backward,
 * a masked step gives its gates no gradient (zero rows of dg, so no kernel, bias or dx
 * gradient at that time) and passes dL/dh (and dL/dc) straight to the step before. With no
 * mask nothing changes.
 *
 * States in and out, as Keras' initial_state and return_state: with c.initial_state, x is
 * (N, T*F + k*units) packed per sample (the sequence, then h0 and the LSTM's c0; k =
 * nstates): forward copies the sequence to xseq and the states to init, and step 0 starts
 * from them instead of zeros (a masked first step carries them); backward writes dL/dh0
 * (and dL/dc0), what dL/dh (dL/dc) is after step 0, into dx beside dL/dx. With
 * c.return_state, y is (N, P) packed per sample: the output flattened, then h (and c) of
 * the last step, which under a mask is the state after the last real step (carried);
 * backward adds their gradients where BPTT starts. Copies instead of strided views keep
 * every GEMM on packed (N*T, ...) rows; they cost one pass over x, small beside the GEMMs. */
#ifndef LURN_LAYERS_RECURRENT_H
#define LURN_LAYERS_RECURRENT_H

#include <math.h>

#include "lurn.h"
#include "lurn/layer_impl.h"
#include "tensor/tensor_internal.h"

typedef struct {
  lurn_recurrent_config c;
  int gates;                   /* k: 1 (SimpleRNN), 4 (LSTM), 3 (GRU) */
  int64_t n, steps, features;  /* of the last forward */
  lurn_tensor *xw;             /* (N, T, k*units): x @ kernel + bias, then the cell's activated gates */
  lurn_tensor *h;              /* (N, T, units): the state after each step */
  /* (masks or 1, N, T, units): the state each input time's step started from (zeros at
   * the first step), through each gate's recurrent dropout mask when there are masks */
  lurn_tensor *hprev;
  lurn_tensor *dg;             /* (N, T, k*units): dL/d(x @ kernel + bias) at each input time */
  lurn_tensor *dh, *dh_next;   /* (N, units): dL/dh carried back through time */
  lurn_tensor *cell[3];        /* the cell's own buffers (LSTM: c, act(c), dL/dc; GRU: ...) */
  /* Dropout in the last forward (training only), as Keras 2: in_masks input masks (N,
   * features), 0, 1 (for every gate) or k (one per gate: Keras' implementation 1, which it
   * uses with recurrent_dropout); rec_masks recurrent masks (N, units), 0 or k. */
  int in_masks, rec_masks;
  lurn_tensor *mask, *xdrop;   /* (in_masks, N, features) kept/scaled; x masked (in_masks, N, T, features) */
  lurn_tensor *rmask;          /* (rec_masks, N, units) */
  lurn_tensor *tmp;            /* (N, T, features) or (N, units): a gradient before its mask */
  lurn_tensor *step_mask;      /* a copy of l->mask in the last forward (N, T), for backward's check */
  int had_mask;                /* the last forward had a step mask */
  int nstates;                 /* 1 (h), or 2 (h, c: the LSTM) */
  lurn_tensor *xseq, *dxseq;   /* with initial_state: the sequence (N, T, F) and its gradient */
  lurn_tensor *init;           /* with initial_state: (N, nstates*units), h0 then c0 */
} lurn_rnn;

/* A recurrent layer with config c and k gates: checks the config (units, activations) and
 * allocates; NULL with the error set. */
lurn_layer *lurn_rnn_new(const lurn_layer_ops *ops, const lurn_recurrent_config *c, int gates);
void lurn_rnn_destroy(lurn_layer *l);
/* Checks the input (timesteps, features), adds kernel, recurrent_kernel and bias (with
 * bias_rows rows of k*units when bias_rows > 1: GRU's reset_after), sets the output shape. */
lurn_status lurn_rnn_build(lurn_layer *l, lurn_rng *rng, int bias_rows);
/* Sizes the buffers for x, draws the dropout masks in training, and fills xw = x @ kernel
 * + bias[0] for all timesteps (x through the input masks). */
lurn_status lurn_rnn_begin_forward(lurn_layer *l, const lurn_tensor *x, int training);
/* At the start of step s: writes hprev at input time t(s) from h(s-1) (zeros for s = 0). */
void lurn_rnn_begin_step(lurn_layer *l, int64_t s);
/* out[:, gates g0 .. g0+ng) += hprev(t(s)) @ recurrent_kernel[:, those gates], each gate's
 * block from its own masked state; out (N, ng*units) with row stride ldo. Nothing for
 * s = 0 (the state is zero). */
void lurn_rnn_recurrent_product(lurn_layer *l, int64_t s, int g0, int ng, float *out, int64_t ldo);
/* Writes y from h: the last step, or every step with return_sequences; with return_state
 * then h and c (N, T, units by step; NULL but for the LSTM) of the last step. */
void lurn_rnn_write_output(const lurn_layer *l, lurn_tensor *y, const float *c);
/* Sizes dg, zeroes dh and the recurrent gradients (grads[1], and bias rows past the first). */
lurn_status lurn_rnn_begin_backward(lurn_layer *l, const lurn_tensor *x);
/* dh += the part of dy that step s produced (all of y's step s, or y at the last step). */
void lurn_rnn_add_dy(const lurn_rnn *r, const lurn_tensor *dy, int64_t s);
/* With return_state: into (N, units) += dL/d(final state k) from dy (k = 0: h, 1: c). */
void lurn_rnn_add_state_grad(const lurn_rnn *r, const lurn_tensor *dy, int k, float *into);
/* dh_next (+)= the gradient at h(s-1) through recurrent_product's gates g0 .. g0+ng:
 * dgates @ recurrent_kernel[:, those gates]^T, through the recurrent masks (beta: 0
 * overwrites, 1 adds); dgates (N, ng*units) with row stride ld. */
void lurn_rnn_dh_prev(lurn_layer *l, const float *dgates, int64_t ld, int g0, int ng, float *dh_next,
                      float beta);
/* dL/drecurrent_kernel[:, gates g0 .. g0+ng) += hprev^T @ dgates over the whole sequence;
 * dgates (N, T, ...) by input time like dg, row length ld, gate g0's block first. */
void lurn_rnn_recurrent_grad(lurn_layer *l, const float *dgates, int64_t ld, int g0, int ng);
/* From dg: dL/dkernel = x^T @ dg, dL/dbias[0] = column sums of dg, dL/dx = dg @ kernel^T
 * (when dx is non-NULL), through the input masks when the forward applied them. With
 * initial_state, dx also gets dL/dh0 (r->dh after step 0) and dL/dc0 (dc0, the LSTM's). */
void lurn_rnn_finish_backward(lurn_layer *l, const lurn_tensor *x, lurn_tensor *dx, const float *dc0);

/* The layer's mask rule: the mask goes on with the steps (return_sequences), or stops here. */
lurn_mask_rule lurn_rnn_mask_rule(const lurn_layer *l);
/* After step s of a forward under a mask: state k (0: h, 1: c) (N, T, units) by step
 * gets, for each sample masked at t(s), row s = row s-1 (the initial state, or zeros, for
 * s = 0). Nothing without a mask. */
void lurn_rnn_carry_masked(const lurn_layer *l, int64_t s, float *state, int k);
/* Backward under a mask, for the cells whose dL/dh(t-1) GEMM overwrites dh: dh_next = that
 * GEMM's result, then the masked samples' rows of dh_next = their rows of dh (carried
 * straight back); dh and dh_next are swapped after. */
void lurn_rnn_carry_dh_masked(lurn_layer *l, int64_t s);

/* The mask column that step s reads, element i for sample i at stride r->steps, or NULL
 * without a mask. */
static inline const float *lurn_rnn_mask_of(const lurn_layer *l, const lurn_rnn *r, int64_t s) {
  return l->mask ? (const float *)lurn_tensor_data(l->mask) + (r->c.go_backwards ? r->steps - 1 - s : s)
                 : NULL;
}
/* The sequence of x (N, T, F): x itself, or its copy when x also holds initial states. */
static inline const lurn_tensor *lurn_rnn_seq(const lurn_rnn *r, const lurn_tensor *x) {
  return r->c.initial_state ? r->xseq : x;
}
/* The state k (0: h, 1: c) sample i held before step s, from state (N, T, units) by step:
 * row s-1, or at s = 0 its initial state (NULL: zeros). */
static inline const float *lurn_rnn_prev(const lurn_rnn *r, const float *state, int k, int64_t i, int64_t s) {
  if (s > 0) return state + (i * r->steps + s - 1) * r->c.units;
  return r->c.initial_state ? (const float *)lurn_tensor_data(r->init) + (i * r->nstates + k) * r->c.units : NULL;
}
/* The input time that step s reads. */
static inline int64_t lurn_rnn_time(const lurn_rnn *r, int64_t s) {
  return r->c.go_backwards ? r->steps - 1 - s : s;
}
/* The state step s started from as gate g sees it (through its recurrent mask, if any),
 * (N, units) with row stride T*units. */
static inline const float *lurn_rnn_hprev_of(const lurn_rnn *r, int g, int64_t s) {
  int64_t slot = r->rec_masks ? g : 0;
  return (const float *)lurn_tensor_data(r->hprev) + (slot * r->n * r->steps + lurn_rnn_time(r, s)) * r->c.units;
}
/* Parallelise a per-step pass over the gates when it is this large: each element costs a
 * transcendental function or two (tanhf, expf), dozens of times an elementwise add, so it
 * pays for threads well below LURN_PARALLEL_MIN (at batch 64 an LSTM(128)'s 32768 gate
 * values ran on one thread). */
#define LURN_RNN_PARALLEL_MIN 4096
static inline int lurn_rnn_parallel(const lurn_rnn *r) {
  return r->n * r->gates * r->c.units >= LURN_RNN_PARALLEL_MIN;
}

/* e^x for the gates, in straight-line float arithmetic that the compiler vectorises (libm's
 * expf and tanhf are calls, one value at a time: 60% of an LSTM's epoch at 1 thread,
 * measured with perf). Cephes' expf: x = n ln2 + r with |r| <= ln2/2, e^r by a degree-6
 * polynomial, 2^n put in the exponent bits; relative error under 2e-7 (about 2 ulp) over
 * [-87.3, 88.7]; below that 0, above inf; NaN stays NaN. */
static inline float lurn_rnn_expf(float x) {
  const float hi = 88.72283f, lo = -87.33654f;
  float c = x > hi ? hi : (x < lo ? lo : (x != x ? 0.0f : x)); /* NaN: any finite value, then x */
  float n = __builtin_floorf(c * 1.44269504088896341f + 0.5f);
  float r = c - n * 0.693359375f + n * 2.12194440e-4f; /* ln2 in two parts: r exact enough */
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  /* 2^n from its exponent bits; n = 128 (x near the top) as 2^127 * 2 */
  int32_t k = (int32_t)n, top = k > 127;
  union {
    float f;
    int32_t i;
  } scale = {.i = (k - top + 127) << 23};
  float e = p * scale.f * (top ? 2.0f : 1.0f);
  e = x > hi ? __builtin_inff() : (x < lo ? 0.0f : e);
  return x != x ? x : e;
}

/* tanh(z) = sign(z) (1 - 2 / (e^{2|z|} + 1)); below |z| = 0.3, where that difference
 * would lose digits, its Taylor series to z^11 (the next term is under 6e-10 of it). */
static inline float lurn_rnn_tanhf(float z) {
  float a = __builtin_fabsf(z);
  float t = 1.0f - 2.0f / (lurn_rnn_expf(2.0f * a) + 1.0f);
  float z2 = z * z;
  float series = -0.333333333f + z2 * (0.133333333f + z2 * (-0.0539682540f + z2 * (0.0218694885f +
                                                                                     z2 * -0.00886323552f)));
  float small = z * (1.0f + z2 * series); /* keeps -0.0 */
  float r = a < 0.3f ? small : (z < 0 ? -t : t);
  return z != z ? z : r;
}

/* The activations the cells take: those whose derivative follows from their output a. */
static inline float lurn_rnn_act(lurn_activation act, float z) {
  switch (act) {
    case LURN_ACT_TANH: return lurn_rnn_tanhf(z);
    case LURN_ACT_SIGMOID: return 1.0f / (1.0f + lurn_rnn_expf(-z)); /* 0 below -88: 1 / inf */
    case LURN_ACT_RELU: return z > 0 || z != z ? z : 0.0f; /* NaN stays NaN, as the relu layer's */
    case LURN_ACT_SOFTSIGN: return z / (1.0f + fabsf(z));
    default: return z;
  }
}
/* The same e^x, tanh and sigmoid on 8 floats at a time (GCC vector extensions; one AVX2
 * register, or two SSE ones on a plain x86-64 build), lane by lane the arithmetic of the
 * scalar forms above: the compiler does not vectorise those itself (their NaN tests and
 * conversions keep it from if-converting the loop), and the gates are an LSTM's costliest
 * pass at 1 thread. Comparisons give all-ones lanes; selects are bit blends. */
typedef float lurn_f32x8 __attribute__((vector_size(32)));
typedef int32_t lurn_i32x8 __attribute__((vector_size(32)));

static inline lurn_f32x8 lurn_rnn_select8(lurn_i32x8 m, lurn_f32x8 a, lurn_f32x8 b) {
  return (lurn_f32x8)(((lurn_i32x8)a & m) | ((lurn_i32x8)b & ~m));
}

static inline lurn_f32x8 lurn_rnn_expf8(lurn_f32x8 x) {
  const lurn_f32x8 zero = {0}, one = zero + 1.0f, hi = zero + 88.72283f, lo = zero - 87.33654f;
  const lurn_i32x8 nan = x != x;
  lurn_f32x8 c = lurn_rnn_select8(x > hi, hi, lurn_rnn_select8(x < lo, lo, lurn_rnn_select8(nan, zero, x)));
  lurn_f32x8 t = c * 1.44269504088896341f + 0.5f;
  /* floor(t): truncate (t is in range: c is clamped and finite), then one down where above */
  lurn_f32x8 n = __builtin_convertvector(__builtin_convertvector(t, lurn_i32x8), lurn_f32x8);
  n = n - lurn_rnn_select8(n > t, one, zero);
  lurn_f32x8 r = c - n * 0.693359375f + n * 2.12194440e-4f;
  lurn_f32x8 p = zero + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  lurn_i32x8 k = __builtin_convertvector(n, lurn_i32x8), top = k > 127; /* top: -1 where n = 128 */
  lurn_f32x8 scale = (lurn_f32x8)((k + top + 127) << 23);
  lurn_f32x8 e = p * scale * lurn_rnn_select8(top, one + one, one);
  e = lurn_rnn_select8(x > hi, one / zero, lurn_rnn_select8(x < lo, zero, e));
  return lurn_rnn_select8(nan, x, e);
}

static inline lurn_f32x8 lurn_rnn_tanhf8(lurn_f32x8 z) {
  const lurn_f32x8 zero = {0};
  lurn_f32x8 a = (lurn_f32x8)((lurn_i32x8)z & 0x7fffffff);
  lurn_f32x8 t = 1.0f - 2.0f / (lurn_rnn_expf8(2.0f * a) + 1.0f);
  lurn_f32x8 z2 = z * z;
  lurn_f32x8 series =
      -0.333333333f + z2 * (0.133333333f + z2 * (-0.0539682540f + z2 * (0.0218694885f + z2 * -0.00886323552f)));
  lurn_f32x8 small = z * (1.0f + z2 * series); /* keeps -0.0 */
  lurn_f32x8 r = lurn_rnn_select8(a < 0.3f, small, lurn_rnn_select8(z < zero, -t, t));
  return lurn_rnn_select8(z != z, z, r);
}

/* out[0..n) = act(in[0..n)) (in == out allowed): 8 at a time for tanh and sigmoid, the rest
 * and the other activations one by one */
static inline void lurn_rnn_act_array(lurn_activation act, const float *in, float *out, int64_t n) {
  int64_t i = 0;
  if (act == LURN_ACT_TANH || act == LURN_ACT_SIGMOID) {
    for (; i + 8 <= n; i += 8) {
      lurn_f32x8 v;
      __builtin_memcpy(&v, in + i, sizeof v);
      v = act == LURN_ACT_TANH ? lurn_rnn_tanhf8(v) : 1.0f / (1.0f + lurn_rnn_expf8(-v));
      __builtin_memcpy(out + i, &v, sizeof v);
    }
  }
  for (; i < n; i++) out[i] = lurn_rnn_act(act, in[i]);
}

static inline float lurn_rnn_act_grad(lurn_activation act, float a) {
  switch (act) {
    case LURN_ACT_TANH: return 1.0f - a * a;
    case LURN_ACT_SIGMOID: return a * (1.0f - a);
    case LURN_ACT_RELU: return a > 0 ? 1.0f : 0.0f;
    case LURN_ACT_SOFTSIGN: return (1.0f - fabsf(a)) * (1.0f - fabsf(a));
    default: return 1.0f;
  }
}

#endif
