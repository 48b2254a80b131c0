/* What both builds of src/dist/ share: the checks at the door of every collective and what
 * a collective does in a job of one process (dist_single.c always, dist_mpi.c before
 * lurn_dist_init or without mpirun). Private to src/dist/. */
#ifndef LURN_DIST_ONE_PROCESS_H
#define LURN_DIST_ONE_PROCESS_H

#include <stdint.h>

#include "lurn.h"

/* buf may be NULL only when n is 0; n >= 0. `what` names the call in the message. */
lurn_status dist_check_buffer(const char *what, const void *buf, int64_t n, int rank, int size);
/* root names a rank of the job. */
lurn_status dist_check_root(const char *what, int root, int rank, int size);

/* gather_bytes in a job of one process: *out a copy of data, out_bytes[0] = bytes. */
lurn_status dist_gather_one(const void *data, int64_t bytes, void **out, int64_t *out_bytes);

#endif
