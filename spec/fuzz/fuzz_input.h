/* The fuzzer's bytes as a file that lurn's readers can open by path. The readers take
 * paths (they reopen and reread the file), so every input is written into one memfd per
 * process, named /proc/self/fd/N: nothing touches the disk and nothing is left behind. */
#ifndef LURN_FUZZ_INPUT_H
#define LURN_FUZZ_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lurn.h"

static inline const char *fuzz_input_path(const uint8_t *data, size_t size) {
  static int fd = -1;
  static char path[64];
  if (fd < 0) {
    fd = memfd_create("lurn-fuzz-input", 0);
    if (fd < 0) {
      perror("memfd_create");
      abort();
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0) abort();
  for (size_t done = 0; done < size;) {
    ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
    if (n <= 0) abort();
    done += (size_t)n;
  }
  return path;
}

/* Clears the last error so that a failure which forgets to say why is caught. */
static inline void fuzz_clear_error(void) {
  lurn_fail(LURN_OK, "%s", "");
}

/* A failing reader must leave a message; "unknown error" is what lurn_last_error gives
 * when none was recorded. */
static inline void fuzz_check_failure(lurn_status st) {
  const char *msg = lurn_last_error();
  if (st == LURN_OK || msg[0] == '\0' || strcmp(msg, "unknown error") == 0) {
    fprintf(stderr, "reader failed (status %d) without a message\n", (int)st);
    abort();
  }
}

/* Reads every element, so that AddressSanitizer sees a tensor whose storage is shorter
 * than its shape claims; returns the sum so the reads are not optimised away. */
static inline double fuzz_touch_tensor(const lurn_tensor *t) {
  if (!lurn_tensor_is_contiguous(t)) abort();
  const float *p = lurn_tensor_data(t);
  int64_t n = lurn_tensor_numel(t);
  double sum = 0;
  for (int64_t i = 0; i < n; i++) sum += p[i];
  return sum;
}

#endif
