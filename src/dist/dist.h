/* Processes of one job under MPI (issue 21; Debian's Open MPI). lurn runs the same
 * script in N processes started by `mpirun -np N build/lurn script.lua`; these calls are
 * the only place lurn talks to MPI. Built without Open MPI (no libopenmpi-dev when CMake
 * ran), or run without mpirun, lurn is one process: rank 0 of 1, every collective a no-op
 * that leaves its buffer as it is, and lurn_dist_built() says 0.
 *
 * Errors: every call returns LURN_OK or a status with lurn's error message set, naming the
 * rank and what failed (a process that died, a mismatch of sizes); never a hang where MPI
 * can tell (the communicator's error handler returns errors instead of aborting). */
#ifndef LURN_DIST_DIST_H
#define LURN_DIST_DIST_H

#include <stdint.h>

#include "lurn.h"

/* 1 when liblurn was built with MPI. */
int lurn_dist_built(void);

/* Starts MPI once (MPI_Init_thread, MPI_THREAD_FUNNELED) when the process was started by
 * mpirun; later calls, and calls without mpirun, do nothing. MPI_Finalize runs at exit when
 * the exit status is 0; a process that exits with another status skips it (it would wait
 * for ranks that are still busy), and mpirun, seeing the status, ends the other ranks. */
lurn_status lurn_dist_init(void);

int lurn_dist_rank(void); /* 0 .. size - 1; 0 before lurn_dist_init or without MPI */
int lurn_dist_size(void); /* processes in the job; 1 before lurn_dist_init or without MPI */

lurn_status lurn_dist_barrier(void);

/* In place, element by element over every rank: buf becomes the sum of every rank's buf.
 * n must be the same on every rank. Every collective first agrees on its counts and root with
 * one small all-reduce: ranks that disagree, or a rank whose own arguments are bad, give
 * every rank an error (no hang), and the ranks can go on talking afterwards. */
lurn_status lurn_dist_allreduce_sum_f32(float *buf, int64_t n);
lurn_status lurn_dist_allreduce_sum_f64(double *buf, int64_t n);

/* A non-blocking all-reduce in flight (lurn_dist_iallreduce_sum_f32), until lurn_dist_wait.
 * Zeroed ({0}) it is no request, and waiting on it does nothing. */
typedef struct lurn_dist_request {
  int active;
  unsigned char handle[16]; /* the MPI_Request, kept opaque so that this header needs no mpi.h */
} lurn_dist_request;

/* Every rank gives count; ranks that give different counts all get an error (no hang).
 * What the blocking collectives do first, for a caller that then starts non-blocking ones,
 * which cannot agree on their counts themselves without waiting for every rank. */
lurn_status lurn_dist_agree(const char *what, int64_t count);

/* Starts buf's sum over every rank, in place, and returns: buf belongs to MPI until
 * lurn_dist_wait(req) returns (neither read nor write it). n at most INT_MAX. Every rank
 * must start the same requests, of the same n, in the same order, interleaved with the
 * same blocking collectives; it does not check (see lurn_dist_agree). Only the thread that
 * started MPI may call it (MPI_THREAD_FUNNELED). Without MPI, buf stays as it is. */
lurn_status lurn_dist_iallreduce_sum_f32(float *buf, int64_t n, lurn_dist_request *req);
/* Waits for req to complete and zeroes it; an error names the rank. */
lurn_status lurn_dist_wait(lurn_dist_request *req);

/* In place: every rank's buf becomes root's (bytes the same on every rank). */
lurn_status lurn_dist_broadcast(void *buf, int64_t bytes, int root);

/* Each rank gives `bytes` bytes of data; on root, *out is set to a malloc'ed buffer of
 * every rank's bytes one after the other (rank order) and out_bytes[r] to rank r's count
 * (out_bytes: size entries); other ranks get *out = NULL. The caller frees *out. */
lurn_status lurn_dist_gather_bytes(const void *data, int64_t bytes, int root, void **out, int64_t *out_bytes);

/* Ends every process of the job (MPI_Abort) with `code`, after printing message on stderr
 * prefixed with the rank: for an error one rank cannot recover from. */
void lurn_dist_abort(int code, const char *message);

#endif
