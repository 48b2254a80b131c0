/* lurn/sampling.h — imbalanced data: SMOTE and the random samplers (src/sampling/).
 * Part of the C API that lurn.h gathers. */
#ifndef LURN_API_SAMPLING_H
#define LURN_API_SAMPLING_H

#include "lurn/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

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
