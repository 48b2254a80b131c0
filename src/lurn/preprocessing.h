/* lurn/preprocessing.h — preprocessing and image augmentation (src/preprocessing/).
 * Part of the C API that lurn.h gathers. */
#ifndef LURN_API_PREPROCESSING_H
#define LURN_API_PREPROCESSING_H

#include "lurn/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

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

#ifdef __cplusplus
}
#endif
#endif
