/* src/io/model_file.c and the optimizer's state from plain C: sections and tensor lists
 * round-trip bit for bit (NaN payloads, -0.0, zero-size tensors too); in-memory parsing
 * agrees with reading the file; every declared size is checked before it is trusted; an
 * optimizer restored from another's state takes the same next step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "lurn.h"

static char dir[] = "/tmp/lurn_test_model_file_XXXXXX";

static const char *path_of(const char *name) {
  static char buf[512];
  snprintf(buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

static void test_sections_round_trip(void) {
  const char *payload = "{\"a\":1}";
  lurn_model_section s[] = {{"config", payload, strlen(payload)}, {"empty", "", 0}};
  CHECK(lurn_model_file_write(path_of("s.lurn"), s, 2) == LURN_OK);
  lurn_model_file *f = NULL;
  CHECK(lurn_model_file_read(path_of("s.lurn"), &f) == LURN_OK);
  if (!f) return;
  CHECK(lurn_model_file_count(f) == 2);
  const lurn_model_section *c = lurn_model_file_find(f, "config");
  CHECK(c && c->len == strlen(payload) && memcmp(c->data, payload, c->len) == 0);
  CHECK(lurn_model_file_find(f, "empty") && lurn_model_file_find(f, "empty")->len == 0);
  CHECK(lurn_model_file_find(f, "missing") == NULL);
  CHECK(lurn_model_file_at(f, 2) == NULL && lurn_model_file_at(f, -1) == NULL);
  lurn_model_file_free(f);
}

static void test_tensor_list_round_trip(void) {
  int64_t shape_a[] = {2, 3}, shape_b[] = {0, 4};
  lurn_tensor *a = lurn_tensor_empty(2, shape_a), *b = lurn_tensor_zeros(2, shape_b);
  float *d = lurn_tensor_data(a);
  uint32_t nan_bits = 0x7fc01234u;
  memcpy(&d[0], &nan_bits, 4);
  d[1] = -0.0f;
  d[2] = INFINITY;
  d[3] = 1e-45f;
  d[4] = 3.25f;
  d[5] = -7.0f;
  lurn_tensor *t = lurn_tensor_transpose(a, 0, 1); /* not packed: encoded in its own order */
  const char *names[] = {"dense/kernel", "x"};
  lurn_tensor *ts[] = {t, b};
  unsigned char *bytes = NULL;
  size_t len = 0;
  CHECK(lurn_tensor_list_encode(names, ts, 2, &bytes, &len) == LURN_OK);
  lurn_tensor_list *l = NULL;
  CHECK(lurn_tensor_list_decode("mem", "weights", bytes, len, &l) == LURN_OK);
  if (l) {
    CHECK(l->n == 2 && strcmp(l->names[0], "dense/kernel") == 0 && strcmp(l->names[1], "x") == 0);
    CHECK(l->tensors[0]->ndim == 2 && l->tensors[0]->shape[0] == 3 && l->tensors[0]->shape[1] == 2);
    CHECK(lurn_tensor_numel(l->tensors[1]) == 0 && l->tensors[1]->shape[1] == 4);
    const float *e = lurn_tensor_data(l->tensors[0]);
    uint32_t bits;
    memcpy(&bits, &e[0], 4);
    CHECK(bits == nan_bits);           /* (0,0) */
    CHECK(e[1] == 1e-45f);             /* (0,1) = a(1,0) */
    CHECK(signbit(e[2]) && e[2] == 0); /* (1,0) = a(0,1) */
    CHECK(e[3] == 3.25f && e[4] == INFINITY && e[5] == -7.0f);
    lurn_tensor_list_free(l);
  }
  /* every cut of the list is refused with a message, never read past */
  for (size_t cut = 0; cut < len; cut++) {
    l = NULL;
    CHECK(lurn_tensor_list_decode("mem", "weights", bytes, cut, &l) == LURN_EIO && l == NULL);
  }
  free(bytes);
  lurn_tensor_free(t);
  lurn_tensor_free(a);
  lurn_tensor_free(b);
}

static void test_parse_matches_read_and_cuts_fail(void) {
  lurn_model_section s[] = {{"a", "xyz", 3}};
  CHECK(lurn_model_file_write(path_of("p.lurn"), s, 1) == LURN_OK);
  FILE *fp = fopen(path_of("p.lurn"), "rb");
  unsigned char buf[256];
  size_t n = fp ? fread(buf, 1, sizeof buf, fp) : 0;
  if (fp) fclose(fp);
  CHECK(n == 16 + 4 + 1 + 12 + 3);
  lurn_model_file *f = NULL;
  CHECK(lurn_model_file_parse("mem", buf, n, &f) == LURN_OK);
  lurn_model_file_free(f);
  for (size_t cut = 0; cut < n; cut++) {
    f = NULL;
    CHECK(lurn_model_file_parse("mem", buf, cut, &f) == LURN_EIO && f == NULL);
    CHECK(strstr(lurn_last_error(), "mem: ") == lurn_last_error());
  }
  buf[n - 1] ^= 1;
  CHECK(lurn_model_file_parse("mem", buf, n, &f) == LURN_EIO);
  CHECK(strstr(lurn_last_error(), "CRC-32") != NULL);
}

static void test_writer_refuses_bad_sections(void) {
  lurn_model_section bad[] = {{"", "", 0}};
  CHECK(lurn_model_file_write(path_of("b.lurn"), bad, 1) == LURN_EINVAL);
  lurn_model_section twice[] = {{"a", "", 0}, {"a", "", 0}};
  CHECK(lurn_model_file_write(path_of("b.lurn"), twice, 2) == LURN_EINVAL);
  CHECK(access(path_of("b.lurn"), F_OK) != 0);
}

static void test_optimizer_state_restores_the_next_step(void) {
  lurn_optimizer_config c = {0};
  c.kind = LURN_OPT_NADAM;
  c.learning_rate = 0.01f;
  c.beta_1 = 0.9f;
  c.beta_2 = 0.999f;
  c.epsilon = 1e-7f;
  lurn_optimizer *a = lurn_optimizer_new(&c), *b = lurn_optimizer_new(&c);
  int64_t shape[] = {5};
  lurn_tensor *wa = lurn_tensor_full(1, shape, 1.0f), *wb = lurn_tensor_full(1, shape, 1.0f);
  lurn_tensor *g = lurn_tensor_arange(0, 5, 1);
  CHECK(lurn_optimizer_slots_per_param(a) == 2 && lurn_optimizer_nparams(a) == 0);
  for (int i = 0; i < 3; i++) CHECK(lurn_optimizer_step(a, &wa, &g, 1) == LURN_OK);
  CHECK(lurn_optimizer_nparams(a) == 1 && lurn_optimizer_iterations(a) == 3);
  lurn_tensor *slots[2] = {lurn_optimizer_slot(a, 0), lurn_optimizer_slot(a, 1)};
  CHECK(slots[0] && slots[1] && lurn_optimizer_slot(a, 2) == NULL);
  CHECK(lurn_optimizer_restore(b, 3, lurn_optimizer_nadam_product(a), slots, 2) == LURN_OK);
  lurn_tensor_copy_into(wb, wa);
  CHECK(lurn_optimizer_step(a, &wa, &g, 1) == LURN_OK);
  CHECK(lurn_optimizer_step(b, &wb, &g, 1) == LURN_OK);
  CHECK(memcmp(lurn_tensor_data(wa), lurn_tensor_data(wb), 5 * sizeof(float)) == 0);
  CHECK(lurn_optimizer_restore(b, 1, 1.0, slots, 1) == LURN_EINVAL); /* half a parameter's slots */
  CHECK(lurn_optimizer_restore(b, -1, 1.0, slots, 2) == LURN_EINVAL);
  for (int i = 0; i < 2; i++) lurn_tensor_free(slots[i]);
  lurn_tensor_free(wa);
  lurn_tensor_free(wb);
  lurn_tensor_free(g);
  lurn_optimizer_free(a);
  lurn_optimizer_free(b);
}

int main(void) {
  if (!mkdtemp(dir)) return 1;
  RUN(test_sections_round_trip);
  RUN(test_tensor_list_round_trip);
  RUN(test_parse_matches_read_and_cuts_fail);
  RUN(test_writer_refuses_bad_sections);
  RUN(test_optimizer_state_restores_the_next_step);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) return 1;
  return check_summary();
}
