/* The door checks and the one-process collectives of src/dist/ (one_process.h). */
#include "dist/one_process.h"

#include <stdlib.h>
#include <string.h>

lurn_status dist_check_buffer(const char *what, const void *buf, int64_t n, int rank, int size) {
  if (n < 0)
    return lurn_fail(LURN_EINVAL, "rank %d of %d: %s: a count of %lld", rank, size, what, (long long)n);
  if (n > 0 && !buf) return lurn_fail(LURN_EINVAL, "rank %d of %d: %s: no buffer", rank, size, what);
  return LURN_OK;
}

lurn_status dist_check_root(const char *what, int root, int rank, int size) {
  if (root < 0 || root >= size)
    return lurn_fail(LURN_EINVAL, "rank %d of %d: %s: root %d is not a rank of the job (0 .. %d)", rank, size,
                     what, root, size - 1);
  return LURN_OK;
}

lurn_status dist_gather_one(const void *data, int64_t bytes, void **out, int64_t *out_bytes) {
  *out = malloc(bytes > 0 ? (size_t)bytes : 1);
  if (!*out)
    return lurn_fail(LURN_ENOMEM, "rank 0 of 1: gather: out of memory for %lld bytes", (long long)bytes);
  if (bytes > 0) memcpy(*out, data, (size_t)bytes);
  out_bytes[0] = bytes;
  return LURN_OK;
}
