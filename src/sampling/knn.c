/* Exact k nearest neighbours by brute force, the way scikit-learn's "brute" algorithm does
 * it: squared distances from the expansion ||q - r||^2 = ||q||^2 + ||r||^2 - 2 q.r, the
 * dot products through lurn_sgemm over blocks of queries and references, then a running
 * selection per query row. ||q||^2 is the same for every reference of a row, so the
 * ranking needs only ||r||^2 - 2 q.r, which one GEMM gives directly by appending a
 * column: [q, 1] . [-2 r, ||r||^2].
 *
 * The expansion loses digits in float32 when points are far from the origin relative to
 * their spacing, so the data are centred first and the selection keeps a few spare
 * candidates, which are then ranked again by distances computed directly in double. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "lurn.h"

/* At most QUERY_BLOCK queries per block and REF_BLOCK references per GEMM: a 512 x 512
 * block of products (1 MiB) is scanned while still in cache, and each reference block
 * is packed by the GEMM once per 512 queries. Measured on 50,000 x 30 (one Zen 4 core,
 * CPU time): 128 x 1024 blocks took 2.9 s, 512 x 512 2.5 s, sizes from 256 to 2048
 * within 10%. Small query sets get smaller blocks, four per thread, so that every thread
 * has work. */
#define QUERY_BLOCK 512
#define MIN_QUERY_BLOCK 64
#define REF_BLOCK 512
/* Candidates kept beyond k, for the final ranking by exact distances. */
#define SPARE 8

/* The position of the first element of x (n, d) that is NaN or infinite, or -1. */
static int64_t first_nonfinite(const float *x, int64_t n, int64_t d) {
  for (int64_t i = 0; i < n * d; i++)
    if (!isfinite(x[i])) return i;
  return -1;
}

/* out (n, d + 1) = [x - mean, 1] (queries) or [-2 (x - mean), ||x - mean||^2] (references). */
static void augment(const float *x, int64_t n, int64_t d, const double *mean, int reference, float *out) {
#pragma omp parallel for schedule(static) num_threads(lurn_get_num_threads()) if (n * d > (1 << 16))
  for (int64_t i = 0; i < n; i++) {
    const float *xi = x + i * d;
    float *o = out + i * (d + 1);
    double norm = 0;
    for (int64_t t = 0; t < d; t++) {
      float c = (float)(xi[t] - mean[t]);
      norm += (double)c * c;
      o[t] = reference ? -2.0f * c : c;
    }
    o[d] = reference ? (float)norm : 1.0f;
  }
}

/* One query row's candidates: values cv[0..*cn) ascending, positions cj; among equal
 * values the earlier position first. */
static void insert(float *cv, int64_t *cj, int *cn, int kk, float v, int64_t j) {
  int p = *cn < kk ? (*cn)++ : kk - 1;
  while (p > 0 && cv[p - 1] > v) {
    cv[p] = cv[p - 1];
    cj[p] = cj[p - 1];
    p--;
  }
  cv[p] = v;
  cj[p] = j;
}

/* Offers the products v[a .. b) of references j0 + a .. j0 + b to one query row; `self`
 * is the query's own position among the references (skipped), or -1. */
static void offer(const float *v, int64_t a, int64_t b, int64_t j0, int64_t self, float *cv, int64_t *cj,
                  int *cn, int kk) {
  for (int64_t t = a; t < b; t++)
    if ((*cn < kk || v[t] < cv[kk - 1]) && j0 + t != self) insert(cv, cj, cn, kk, v[t], j0 + t);
}

/* Offers a row of n products, v[t] for reference j0 + t. Once kk candidates are held,
 * nearly every value loses to the worst of them, so CHUNK at a time are tested with
 * vector compares before any is looked at one by one. */
#define CHUNK 64
static void scan(const float *v, int64_t n, int64_t j0, int64_t self, float *cv, int64_t *cj, int *cn,
                 int kk) {
  int64_t t = 0;
  for (; t + CHUNK <= n; t += CHUNK) {
    if (*cn == kk) {
      float thr = cv[kk - 1];
      int hit = 0;
#pragma omp simd reduction(| : hit)
      for (int u = 0; u < CHUNK; u++) hit |= v[t + u] < thr;
      if (!hit) continue;
    }
    offer(v, t, t + CHUNK, j0, self, cv, cj, cn, kk);
  }
  offer(v, t, n, j0, self, cv, cj, cn, kk);
}

/* Ranks the candidates cj[0..cn) of query q again by exact distances (pd, pj: room for
 * cn) and writes the k best. */
static void finish(const float *q, const float *ref, int64_t d, const int64_t *cj, int cn, int k, double *pd,
                   int64_t *pj, int64_t *index, float *dist) {
  for (int c = 0; c < cn; c++) {
    const float *r = ref + cj[c] * d;
    double s = 0;
    for (int64_t t = 0; t < d; t++) {
      double e = (double)q[t] - r[t];
      s += e * e;
    }
    int p = c;
    while (p > 0 && (pd[p - 1] > s || (pd[p - 1] == s && pj[p - 1] > cj[c]))) {
      pd[p] = pd[p - 1];
      pj[p] = pj[p - 1];
      p--;
    }
    pd[p] = s;
    pj[p] = cj[c];
  }
  for (int i = 0; i < k; i++) {
    index[i] = pj[i];
    if (dist) dist[i] = (float)sqrt(pd[i]);
  }
}

lurn_status lurn_knn(const float *ref, int64_t nref, const float *query, int64_t nq, int64_t d, int k,
                     int64_t *index, float *dist) {
  int self = query == NULL;
  if (self) nq = nref;
  int64_t avail = self ? nref - 1 : nref;
  if (k < 1) return lurn_fail(LURN_EINVAL, "knn: k must be at least 1, got %d", k);
  if (d < 0 || nref < 0 || nq < 0) return lurn_fail(LURN_EINVAL, "knn: negative size");
  if (avail < k)
    return lurn_fail(LURN_EINVAL, "knn: %d neighbours asked of %lld reference rows%s", k, (long long)nref,
                     self ? " (each row excludes itself)" : "");
  int64_t bad = first_nonfinite(ref, nref, d);
  if (bad >= 0)
    return lurn_fail(LURN_EINVAL, "knn: the reference row %lld holds %s", (long long)(bad / (d ? d : 1)) + 1,
                     isnan(ref[bad]) ? "NaN" : "an infinite value");
  if (!self && (bad = first_nonfinite(query, nq, d)) >= 0)
    return lurn_fail(LURN_EINVAL, "knn: the query row %lld holds %s", (long long)(bad / (d ? d : 1)) + 1,
                     isnan(query[bad]) ? "NaN" : "an infinite value");
  if (nq == 0) return LURN_OK;
  if (self) query = ref;

  int kk = avail < k + SPARE ? (int)avail : k + SPARE;
  int64_t w = d + 1;
  double *mean = calloc((size_t)d + 1, sizeof *mean);
  float *ra = malloc((size_t)(nref * w) * sizeof *ra);
  float *qa = malloc((size_t)(nq * w) * sizeof *qa);
  if (!mean || !ra || !qa) {
    free(mean);
    free(ra);
    free(qa);
    return lurn_fail(LURN_ENOMEM, "knn: out of memory for %lld x %lld rows", (long long)(nref + nq),
                     (long long)w);
  }
  for (int64_t i = 0; i < nref; i++)
    for (int64_t t = 0; t < d; t++) mean[t] += ref[i * d + t];
  for (int64_t t = 0; t < d; t++) mean[t] /= (double)nref;
  augment(ref, nref, d, mean, 1, ra);
  augment(query, nq, d, mean, 0, qa);
  free(mean);

  int threads = lurn_get_num_threads();
  int64_t qblock = (nq + 4 * threads - 1) / (4 * threads);
  qblock = qblock < MIN_QUERY_BLOCK ? MIN_QUERY_BLOCK : qblock > QUERY_BLOCK ? QUERY_BLOCK : qblock;
  int64_t nblocks = (nq + qblock - 1) / qblock;
  if (threads > nblocks) threads = (int)nblocks;
  int failed = 0;
#pragma omp parallel num_threads(threads)
  {
    float *prod = malloc((size_t)QUERY_BLOCK * REF_BLOCK * sizeof *prod);
    float *cv = malloc((size_t)QUERY_BLOCK * kk * sizeof *cv);
    int64_t *cj = malloc((size_t)QUERY_BLOCK * kk * sizeof *cj);
    double *pd = malloc((size_t)kk * sizeof *pd);
    int64_t *pj = malloc((size_t)kk * sizeof *pj);
    int cn[QUERY_BLOCK];
    if (!prod || !cv || !cj || !pd || !pj) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < nblocks; b++) {
      int stop;
#pragma omp atomic read
      stop = failed;
      if (stop) continue;
      int64_t i0 = b * qblock, qb = nq - i0 < qblock ? nq - i0 : qblock;
      memset(cn, 0, sizeof cn);
      for (int64_t j0 = 0; j0 < nref; j0 += REF_BLOCK) {
        int64_t rb = nref - j0 < REF_BLOCK ? nref - j0 : REF_BLOCK;
        lurn_sgemm(0, 1, qb, rb, w, 1.0f, qa + i0 * w, w, ra + j0 * w, w, 0.0f, prod, rb);
        for (int64_t i = 0; i < qb; i++)
          scan(prod + i * rb, rb, j0, self ? i0 + i : -1, cv + i * kk, cj + i * kk, &cn[i], kk);
      }
      for (int64_t i = 0; i < qb; i++)
        finish(query + (i0 + i) * d, ref, d, cj + i * kk, cn[i], k, pd, pj, index + (i0 + i) * k,
               dist ? dist + (i0 + i) * k : NULL);
    }
    free(prod);
    free(cv);
    free(cj);
    free(pd);
    free(pj);
  }
  free(ra);
  free(qa);
  if (failed) return lurn_fail(LURN_ENOMEM, "knn: out of memory for the work buffers");
  return LURN_OK;
}
