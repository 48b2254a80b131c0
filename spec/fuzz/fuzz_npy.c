/* libFuzzer target: lurn_npy_load on arbitrary bytes. A load either fails with a
 * message or gives a tensor whose every element the file really held. */
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lurn_tensor *t = NULL;
  fuzz_clear_error();
  lurn_status st = lurn_npy_load(fuzz_input_path(data, size), &t);
  if (st != LURN_OK) {
    fuzz_check_failure(st);
    if (t) abort();
    return 0;
  }
  /* Every element takes at least one byte of the file. */
  if (!t || lurn_tensor_numel(t) > (int64_t)size) abort();
  fuzz_touch_tensor(t);
  lurn_tensor_free(t);
  return 0;
}
