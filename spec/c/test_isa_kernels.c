/* The kernels compiled once per instruction set (src/kernels/isa/): every copy this CPU
 * can run gives the baseline copy's numbers bit for bit, and the baseline copy gives the
 * reference's. Max pooling's row against a scalar loop of the same rule (the first
 * largest value wins; a NaN wins and stays), with ties, NaNs, channel counts that leave a
 * tail and "same" padding; its backward over windows that do not overlap against the
 * scatter it replaces (-0 included); Adam's and AMSGrad's update from the same state, long enough to
 * run in parallel, with moments that flush to zero. spec/integration/baseline_cpu.sh runs
 * this program on an emulated CPU without AVX, where only the baseline copy runs. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kernels/optim_steps.h"
#include "kernels/pool_rows.h"
#include "lurn.h"

typedef struct {
  const char *name;
  lurn_isa isa;
  lurn_max_pool_row_fn *max_row;
  lurn_max_pool_row_backward_fn *max_row_backward;
  lurn_adam_step_fn *adam;
} copy;

static const copy COPIES[] = {
    {"baseline", LURN_ISA_BASELINE, lurn_max_pool_row_baseline, lurn_max_pool_row_backward_baseline,
     lurn_adam_step_baseline},
#ifdef LURN_ISA_DISPATCH
    {"avx2", LURN_ISA_AVX2, lurn_max_pool_row_avx2, lurn_max_pool_row_backward_avx2, lurn_adam_step_avx2},
    {"avx512", LURN_ISA_AVX512, lurn_max_pool_row_avx512, lurn_max_pool_row_backward_avx512,
     lurn_adam_step_avx512},
#endif
};
#define NCOPIES (int)(sizeof COPIES / sizeof COPIES[0])

static uint64_t state = 88172645463325252u;
static uint32_t next(void) { /* xorshift64: the inputs, the same on every CPU */
  state ^= state << 13, state ^= state >> 7, state ^= state << 17;
  return (uint32_t)(state >> 32);
}

/* The rule the copies implement, one channel at a time. */
static void reference_row(const lurn_conv_geom *g, const float *img, int64_t i, float *out, int32_t *arg) {
  for (int64_t j = 0; j < g->ow; j++)
    for (int64_t ch = 0; ch < g->c; ch++) {
      int64_t h0, h1, w0, w1;
      lurn_pool_clip(g, i, j, &h0, &h1, &w0, &w1);
      int32_t at = (int32_t)((h0 * g->w + w0) * g->c + ch);
      for (int64_t ih = h0; ih < h1; ih++)
        for (int64_t iw = w0; iw < w1; iw++) {
          int32_t off = (int32_t)((ih * g->w + iw) * g->c + ch);
          if (img[off] > img[at] || img[off] != img[off]) at = off;
        }
      out[j * g->c + ch] = img[at], arg[j * g->c + ch] = at;
    }
}

/* h, w, c, window, stride, same: tails after the vectors, padding, overlapping windows
 * (forward only), windows that tile the image and windows that leave rows out */
static const int64_t SHAPES[][6] = {{7, 7, 37, 3, 2, 1}, {26, 26, 64, 2, 2, 0}, {5, 6, 16, 3, 1, 1},
                                    {4, 4, 5, 2, 2, 0},  {9, 9, 33, 3, 3, 0},   {3, 8, 48, 3, 2, 1},
                                    {11, 11, 128, 2, 2, 0}, {7, 9, 20, 2, 3, 1}};
#define NSHAPES (sizeof SHAPES / sizeof SHAPES[0])

static void max_pool_rows_agree(void) {
  const int64_t(*shapes)[6] = SHAPES;
  for (size_t s = 0; s < NSHAPES; s++) {
    lurn_conv_geom g = {.h = shapes[s][0], .w = shapes[s][1], .c = shapes[s][2], .kh = shapes[s][3],
                        .kw = shapes[s][3], .sh = shapes[s][4], .sw = shapes[s][4], .dh = 1, .dw = 1};
    CHECK(lurn_conv_geom_init(&g, (int)shapes[s][5], "test", "pool") == LURN_OK);
    const int64_t image = g.h * g.w * g.c, row = g.ow * g.c;
    float *img = malloc(sizeof(float) * (size_t)image), *want = malloc(sizeof(float) * (size_t)row),
          *got = malloc(sizeof(float) * (size_t)row);
    int32_t *want_arg = malloc(sizeof(int32_t) * (size_t)row), *got_arg = malloc(sizeof(int32_t) * (size_t)row);
    /* few distinct values, so windows hold ties; one value in 50 a NaN */
    for (int64_t e = 0; e < image; e++) img[e] = next() % 50 == 0 ? NAN : (float)((int)(next() % 7) - 3) / 4;
    for (int64_t i = 0; i < g.oh; i++) {
      reference_row(&g, img, i, want, want_arg);
      for (int k = 0; k < NCOPIES; k++) {
        if (COPIES[k].isa > lurn_cpu_isa()) continue; /* not for this CPU */
        memset(got, 0, sizeof(float) * (size_t)row), memset(got_arg, 0xff, sizeof(int32_t) * (size_t)row);
        COPIES[k].max_row(&g, img, i, got, got_arg);
        int same = !memcmp(got, want, sizeof(float) * (size_t)row) && !memcmp(got_arg, want_arg, sizeof(int32_t) * (size_t)row);
        memset(got, 0, sizeof(float) * (size_t)row);
        COPIES[k].max_row(&g, img, i, got, NULL); /* the forward no backward follows */
        same = same && !memcmp(got, want, sizeof(float) * (size_t)row);
        if (!same) fprintf(stderr, "%s: shape %zu, row %lld\n", COPIES[k].name, s, (long long)i);
        CHECK(same);
      }
    }
    free(img), free(want), free(got), free(want_arg), free(got_arg);
  }
}

/* Backward over windows that do not overlap: each input of a window gets dy (times relu's
 * 0/1 gradient) where the forward's offset points at it and 0 elsewhere; inputs in no
 * window keep what they held. */
static void max_pool_backward_rows_agree(void) {
  for (size_t s = 0; s < NSHAPES; s++) {
    lurn_conv_geom g = {.h = SHAPES[s][0], .w = SHAPES[s][1], .c = SHAPES[s][2], .kh = SHAPES[s][3],
                        .kw = SHAPES[s][3], .sh = SHAPES[s][4], .sw = SHAPES[s][4], .dh = 1, .dw = 1};
    CHECK(lurn_conv_geom_init(&g, (int)SHAPES[s][5], "test", "pool") == LURN_OK);
    if (g.kh > g.sh || g.kw > g.sw) continue; /* overlapping windows scatter in pooling.c */
    const int64_t image = g.h * g.w * g.c, row = g.ow * g.c;
    float *img = malloc(sizeof(float) * (size_t)image), *out = malloc(sizeof(float) * (size_t)row),
          *dy = malloc(sizeof(float) * (size_t)row), *relu_y = malloc(sizeof(float) * (size_t)row),
          *want = malloc(sizeof(float) * (size_t)image), *got = malloc(sizeof(float) * (size_t)image);
    int32_t *arg = malloc(sizeof(int32_t) * (size_t)row);
    for (int64_t e = 0; e < image; e++) img[e] = (float)((int)(next() % 7) - 3) / 4;
    for (int64_t i = 0; i < g.oh; i++) {
      reference_row(&g, img, i, out, arg);
      for (int64_t e = 0; e < row; e++) {
        dy[e] = next() % 13 == 0 ? -0.0f : ((float)next() / 4294967296.0f - 0.5f);
        relu_y[e] = (float)((int)(next() % 3) - 1);
      }
      for (int relu = 0; relu < 2; relu++) {
        for (int64_t e = 0; e < image; e++) want[e] = 7; /* inputs in no window keep it */
        for (int64_t j = 0; j < g.ow; j++) { /* the scatter onto zeros that the copies replace */
          int64_t h0, h1, w0, w1;
          lurn_pool_clip(&g, i, j, &h0, &h1, &w0, &w1);
          for (int64_t ih = h0; ih < h1; ih++)
            for (int64_t iw = w0; iw < w1; iw++)
              for (int64_t ch = 0; ch < g.c; ch++) want[(ih * g.w + iw) * g.c + ch] = 0;
        }
        for (int64_t e = 0; e < row; e++) want[arg[e]] += (relu ? (relu_y[e] > 0 ? 1.0f : 0.0f) : 1.0f) * dy[e];
        for (int k = 0; k < NCOPIES; k++) {
          if (COPIES[k].isa > lurn_cpu_isa()) continue;
          for (int64_t e = 0; e < image; e++) got[e] = 7;
          COPIES[k].max_row_backward(&g, dy, arg, relu ? relu_y : NULL, i, got);
          int same = !memcmp(got, want, sizeof(float) * (size_t)image);
          if (!same) fprintf(stderr, "%s backward: shape %zu, row %lld, relu %d\n", COPIES[k].name, s, (long long)i, relu);
          CHECK(same);
        }
      }
    }
    free(img), free(out), free(dy), free(relu_y), free(want), free(got), free(arg);
  }
}

static void adam_steps_agree(void) {
  const int64_t sizes[] = {1037, 70001}; /* a tail after the vectors; past the parallel threshold */
  for (size_t s = 0; s < 2; s++)
    for (int ams = 0; ams < 2; ams++) {
      const int64_t n = sizes[s];
      float *start = malloc(sizeof(float) * (size_t)(5 * n)), *base = malloc(sizeof(float) * (size_t)(5 * n)),
            *other = malloc(sizeof(float) * (size_t)(5 * n));
      for (int64_t e = 0; e < 5 * n; e++) start[e] = ((float)next() / 4294967296.0f - 0.5f) * 2;
      for (int64_t e = 0; e < n; e++) { /* w, g, m, v, vhat; some moments about to flush */
        start[3 * n + e] = start[3 * n + e] * start[3 * n + e];
        start[4 * n + e] = start[4 * n + e] * start[4 * n + e];
        if (e % 9 == 0) start[n + e] = 0, start[2 * n + e] = 1.5e-38f, start[3 * n + e] = 1e-38f;
      }
      for (int k = 0; k < NCOPIES; k++) {
        if (COPIES[k].isa > lurn_cpu_isa()) continue;
        float *x = k == 0 ? base : other;
        memcpy(x, start, sizeof(float) * (size_t)(5 * n));
        for (int t = 0; t < 3; t++)
          COPIES[k].adam(x, x + n, x + 2 * n, x + 3 * n, ams ? x + 4 * n : NULL, n, 0.9f, 0.999f, 1e-3f * (float)(t + 1), 1e-7f);
        if (k == 0) {
          CHECK(memcmp(base, start, sizeof(float) * (size_t)n) != 0); /* the weights moved */
          CHECK(base[2 * n] == 0.0f);                                 /* a flushed moment */
          continue;
        }
        int same = !memcmp(other, base, sizeof(float) * (size_t)(5 * n));
        if (!same) fprintf(stderr, "%s: n %lld, amsgrad %d\n", COPIES[k].name, (long long)n, ams);
        CHECK(same);
      }
      free(start), free(base), free(other);
    }
}

static void the_cpu_is_named(void) {
  const char *name = lurn_cpu_kernels();
  CHECK(!strcmp(name, "baseline") || !strcmp(name, "avx2") || !strcmp(name, "avx512"));
  CHECK(!strcmp(name, lurn_cpu_isa_name(lurn_cpu_isa())));
  printf("kernels: %s\n", name);
}

int main(void) {
  for (int threads = 1; threads <= 2; threads++) {
    lurn_set_num_threads(threads);
    RUN(max_pool_rows_agree);
    RUN(max_pool_backward_rows_agree);
    RUN(adam_steps_agree);
  }
  RUN(the_cpu_is_named);
  return check_summary();
}
