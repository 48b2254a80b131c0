/* libFuzzer target: the model-file reader (lurn_model_file_read) on arbitrary bytes, and
 * the tensor-list decoder on every section it hands out, whatever the section's name. A
 * CRC-32 stops nearly every mutation short of the sections, so the bytes are also decoded
 * as a tensor list directly. A read either fails with a message or gives sections that lie inside the file; a
 * decoded list holds tensors whose every element the section really held. */
#include "fuzz_input.h"

static void decode_section(const lurn_model_section *s) {
  lurn_tensor_list *l = NULL;
  fuzz_clear_error();
  lurn_status st = lurn_tensor_list_decode("fuzz", s->name, s->data, s->len, &l);
  if (st != LURN_OK) {
    fuzz_check_failure(st);
    if (l) abort();
    return;
  }
  int64_t values = 0;
  for (int i = 0; i < l->n; i++) {
    if (!l->names[i] || !l->tensors[i]) abort();
    values += lurn_tensor_numel(l->tensors[i]);
    fuzz_touch_tensor(l->tensors[i]);
  }
  /* Every value takes 4 bytes of the section. */
  if (values > (int64_t)(s->len / 4)) abort();
  lurn_tensor_list_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lurn_model_section raw = {"raw", data, size};
  decode_section(&raw);
  lurn_model_file *f = NULL;
  fuzz_clear_error();
  lurn_status st = lurn_model_file_read(fuzz_input_path(data, size), &f);
  if (st != LURN_OK) {
    fuzz_check_failure(st);
    if (f) abort();
    return 0;
  }
  size_t total = 0;
  for (int i = 0; i < lurn_model_file_count(f); i++) {
    const lurn_model_section *s = lurn_model_file_at(f, i);
    if (!s || !s->name || lurn_model_file_find(f, s->name) != s) abort();
    total += s->len;
    /* reads every byte, so that AddressSanitizer sees a section past the buffer */
    volatile unsigned char sum = 0;
    for (size_t k = 0; k < s->len; k++) sum ^= ((const unsigned char *)s->data)[k];
    (void)sum;
    decode_section(s);
  }
  if (total > size) abort();
  lurn_model_file_free(f);
  return 0;
}
