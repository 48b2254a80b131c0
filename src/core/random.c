/* Random numbers: xoshiro256** seeded through splitmix64, so a seed gives the same
 * sequence on every machine. Normals by Box-Muller in double precision. */
#include <math.h>

#include "lurn.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void lurn_rng_seed(lurn_rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

uint64_t lurn_rng_next(lurn_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

void lurn_rng_fill_u32(lurn_rng *r, uint32_t *out, int64_t n) {
  int64_t i = 0;
  for (; i + 1 < n; i += 2) {
    uint64_t v = lurn_rng_next(r);
    out[i] = (uint32_t)v;
    out[i + 1] = (uint32_t)(v >> 32);
  }
  if (i < n) out[i] = (uint32_t)lurn_rng_next(r);
}

double lurn_rng_uniform(lurn_rng *r) { return (double)(lurn_rng_next(r) >> 11) * 0x1.0p-53; }

double lurn_rng_normal(lurn_rng *r) {
  double u1 = 1.0 - lurn_rng_uniform(r);  /* (0, 1]: log stays finite */
  double u2 = lurn_rng_uniform(r);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void lurn_rng_jump(lurn_rng *r) {
  static const uint64_t jump[] = {0x180ec6d33cfd0abaULL, 0xd5a61266f0c9392cULL, 0xa9582618e03fc9aaULL,
                                  0x39abdc4529b1661cULL};
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int i = 0; i < 4; i++)
    for (int b = 0; b < 64; b++) {
      if (jump[i] & ((uint64_t)1 << b)) {
        s0 ^= r->s[0];
        s1 ^= r->s[1];
        s2 ^= r->s[2];
        s3 ^= r->s[3];
      }
      lurn_rng_next(r);
    }
  r->s[0] = s0;
  r->s[1] = s1;
  r->s[2] = s2;
  r->s[3] = s3;
}

/* r's next number (r itself left as it is) seeds out, then index jumps: processes that
 * share r (the same seed) get independent streams, one per index, and a new family each
 * time r has moved on. */
void lurn_rng_split(const lurn_rng *r, int index, lurn_rng *out) {
  lurn_rng next = *r;
  lurn_rng_seed(out, lurn_rng_next(&next));
  for (int i = 0; i < index; i++) lurn_rng_jump(out);
}

/* The process-wide generator, seeded with 0 until lurn_manual_seed is called. */
static lurn_rng global_rng = {{0x9e3779b97f4a7c15ULL, 0xbf58476d1ce4e5b9ULL, 0x94d049bb133111ebULL, 1}};

lurn_rng *lurn_rng_global(void) { return &global_rng; }

void lurn_manual_seed(uint64_t seed) { lurn_rng_seed(&global_rng, seed); }

/* Fills in storage order so the numbers do not depend on the thread count. */
void lurn_tensor_rand(lurn_tensor *t, lurn_rng *r, float lo, float hi) {
  lurn_tensor *tmp = lurn_tensor_is_contiguous(t) ? NULL : lurn_tensor_clone(t);
  lurn_tensor *dst = tmp ? tmp : t;
  float *d = lurn_tensor_data(dst);
  int64_t n = lurn_tensor_numel(t);
  for (int64_t i = 0; i < n; i++) d[i] = (float)(lo + (hi - lo) * lurn_rng_uniform(r));
  if (tmp) {
    lurn_tensor_copy_into(t, tmp);
    lurn_tensor_free(tmp);
  }
}

void lurn_tensor_randn(lurn_tensor *t, lurn_rng *r, float mean, float stddev) {
  lurn_tensor *tmp = lurn_tensor_is_contiguous(t) ? NULL : lurn_tensor_clone(t);
  lurn_tensor *dst = tmp ? tmp : t;
  float *d = lurn_tensor_data(dst);
  int64_t n = lurn_tensor_numel(t);
  for (int64_t i = 0; i < n; i++) d[i] = (float)(mean + stddev * lurn_rng_normal(r));
  if (tmp) {
    lurn_tensor_copy_into(t, tmp);
    lurn_tensor_free(tmp);
  }
}

void lurn_randperm(int64_t *index, int64_t n, lurn_rng *r) {
  for (int64_t i = 0; i < n; i++) index[i] = i;
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)(lurn_rng_uniform(r) * (double)(i + 1));
    int64_t tmp = index[i];
    index[i] = index[j];
    index[j] = tmp;
  }
}
