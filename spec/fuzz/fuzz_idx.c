/* libFuzzer target: lurn_idx_load on arbitrary bytes, plain or gzip'd. A load either
 * fails with a message or gives a tensor of the size the header names. */
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lurn_tensor *t = NULL;
  fuzz_clear_error();
  lurn_status st = lurn_idx_load(fuzz_input_path(data, size), &t);
  if (st != LURN_OK) {
    fuzz_check_failure(st);
    if (t) abort();
    return 0;
  }
  if (!t) abort();
  /* A plain file holds every element in at least one byte after the header; a gzip'd
   * one (magic 1f 8b) can expand, but the header has at least 4 bytes of its own. */
  int gzipped = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  if (!gzipped && lurn_tensor_numel(t) > (int64_t)size - 4) abort();
  fuzz_touch_tensor(t);
  lurn_tensor_free(t);
  return 0;
}
