/* src/dist/dist.h over MPI (Open MPI from libopenmpi-dev; compiled when CMake found it).
 *
 * lurn talks to MPI on its own duplicate of MPI_COMM_WORLD whose error handler returns
 * errors (MPI_ERRORS_RETURN), so that a failed call becomes lurn's error message naming the
 * rank instead of an abort. Every collective first agrees on its arguments with one small
 * all-reduce (counts, roots, and whether some rank's own checks failed): a rank that gives
 * another count, or bad arguments, makes every rank fail with a message instead of leaving
 * the others waiting in a collective it never joins.
 *
 * Ending: MPI_Finalize runs when the process exits with status 0. A process that exits
 * with another status (a Lua error in the lurn command, exit 1) does not finalize: MPI_Finalize
 * waits for every rank, and the others may be busy training; Open MPI's mpirun then sees
 * the non-zero status, or a rank killed by a signal, and ends every other rank of the job. */
#define _GNU_SOURCE /* on_exit: the exit status decides whether to finalize */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "dist/one_process.h"

static MPI_Comm comm = MPI_COMM_NULL; /* lurn's duplicate of MPI_COMM_WORLD, once started */
static int my_rank = 0, n_ranks = 1;

int lurn_dist_built(void) {
  return 1;
}
int lurn_dist_rank(void) {
  return my_rank;
}
int lurn_dist_size(void) {
  return n_ranks;
}

/* Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE, PMIx launchers PMIX_RANK, MPICH's PMI_RANK. */
static int under_mpirun(void) {
  return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

static lurn_status mpi_failed(const char *call, int err) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(err, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "MPI error %d", err);
  return lurn_fail(LURN_EIO, "rank %d of %d: %s failed: %s", my_rank, n_ranks, call, text);
}

static void finalize_at_exit(int status, void *arg) {
  (void)arg;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized || status != 0) return; /* see the top of this file */
  MPI_Comm_free(&comm);
  MPI_Finalize();
}

lurn_status lurn_dist_init(void) {
  if (comm != MPI_COMM_NULL || !under_mpirun()) return LURN_OK;
  int initialized = 0, err;
  MPI_Initialized(&initialized);
  if (!initialized) { /* a host that started MPI itself also finalizes it */
    int provided;
    err = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (err != MPI_SUCCESS) return mpi_failed("MPI_Init_thread", err);
    on_exit(finalize_at_exit, NULL);
  }
  MPI_Comm dup;
  err = MPI_Comm_dup(MPI_COMM_WORLD, &dup);
  if (err != MPI_SUCCESS) return mpi_failed("MPI_Comm_dup", err);
  MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN);
  MPI_Comm_rank(dup, &my_rank);
  MPI_Comm_size(dup, &n_ranks);
  comm = dup;
  return LURN_OK;
}

lurn_status lurn_dist_barrier(void) {
  if (comm == MPI_COMM_NULL) return LURN_OK;
  int err = MPI_Barrier(comm);
  return err == MPI_SUCCESS ? LURN_OK : mpi_failed("MPI_Barrier", err);
}

/* Every rank's (count, root, own check) agreed on with one all-reduce of maxima: the
 * status of this rank's check when it failed, else an error when the ranks disagree. */
static lurn_status agree(const char *what, int64_t count, int root, lurn_status mine) {
  char own[512];
  if (mine) snprintf(own, sizeof own, "%s", lurn_last_error());
  if (mine) count = 0, root = 0; /* a bad count (INT64_MIN) could not be negated */
  int64_t v[5] = {count, -count, root, -(int64_t)root, mine != LURN_OK};
  int err = MPI_Allreduce(MPI_IN_PLACE, v, 5, MPI_INT64_T, MPI_MAX, comm);
  if (err != MPI_SUCCESS) return mpi_failed("MPI_Allreduce", err);
  if (mine) return lurn_fail(mine, "%s", own);
  if (v[4])
    return lurn_fail(LURN_EINVAL,
                     "rank %d of %d: %s: another rank gave bad arguments (its message says which)", my_rank,
                     n_ranks, what);
  if (v[0] != count || -v[1] != count)
    return lurn_fail(LURN_EINVAL,
                     "rank %d of %d: %s of %lld, but the ranks give counts from %lld to %lld: every rank "
                     "must give the same",
                     my_rank, n_ranks, what, (long long)count, (long long)-v[1], (long long)v[0]);
  if (v[2] != root || -v[3] != root)
    return lurn_fail(LURN_EINVAL,
                     "rank %d of %d: %s from root %d, but the ranks name roots from %lld to %lld: every rank "
                     "must name the same",
                     my_rank, n_ranks, what, root, (long long)-v[3], (long long)v[2]);
  return LURN_OK;
}

static int chunk(int64_t left) {
  return left > INT_MAX ? INT_MAX : (int)left;
}

static lurn_status allreduce_sum(void *buf, int64_t n, MPI_Datatype type, size_t elsize) {
  if (comm == MPI_COMM_NULL) return dist_check_buffer("allreduce", buf, n, 0, 1);
  lurn_status st = agree("allreduce", n, 0, dist_check_buffer("allreduce", buf, n, my_rank, n_ranks));
  for (int64_t off = 0; !st && off < n; off += INT_MAX) {
    int err =
        MPI_Allreduce(MPI_IN_PLACE, (char *)buf + (size_t)off * elsize, chunk(n - off), type, MPI_SUM, comm);
    if (err != MPI_SUCCESS) st = mpi_failed("MPI_Allreduce", err);
  }
  return st;
}

lurn_status lurn_dist_allreduce_sum_f32(float *buf, int64_t n) {
  return allreduce_sum(buf, n, MPI_FLOAT, sizeof *buf);
}

lurn_status lurn_dist_allreduce_sum_f64(double *buf, int64_t n) {
  return allreduce_sum(buf, n, MPI_DOUBLE, sizeof *buf);
}

lurn_status lurn_dist_agree(const char *what, int64_t count) {
  return comm == MPI_COMM_NULL ? LURN_OK : agree(what, count, 0, LURN_OK);
}

_Static_assert(sizeof(MPI_Request) <= sizeof(((lurn_dist_request *)0)->handle),
               "MPI_Request fits the handle");

lurn_status lurn_dist_iallreduce_sum_f32(float *buf, int64_t n, lurn_dist_request *req) {
  *req = (lurn_dist_request){0};
  lurn_status st = dist_check_buffer("iallreduce", buf, n, my_rank, n_ranks);
  if (st || comm == MPI_COMM_NULL) return st;
  if (n > INT_MAX)
    return lurn_fail(LURN_EINVAL, "rank %d of %d: iallreduce of %lld values: at most %d in one request",
                     my_rank, n_ranks, (long long)n, INT_MAX);
  MPI_Request r;
  int err = MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, comm, &r);
  if (err != MPI_SUCCESS) return mpi_failed("MPI_Iallreduce", err);
  memcpy(req->handle, &r, sizeof r);
  req->active = 1;
  return LURN_OK;
}

lurn_status lurn_dist_wait(lurn_dist_request *req) {
  if (!req->active) return LURN_OK;
  MPI_Request r;
  memcpy(&r, req->handle, sizeof r);
  *req = (lurn_dist_request){0};
  int err = MPI_Wait(&r, MPI_STATUS_IGNORE);
  return err == MPI_SUCCESS ? LURN_OK : mpi_failed("MPI_Wait", err);
}

lurn_status lurn_dist_broadcast(void *buf, int64_t bytes, int root) {
  lurn_status mine = dist_check_buffer("broadcast", buf, bytes, my_rank, n_ranks);
  if (!mine) mine = dist_check_root("broadcast", root, my_rank, n_ranks);
  if (comm == MPI_COMM_NULL) return mine;
  lurn_status st = agree("broadcast", bytes, root, mine);
  for (int64_t off = 0; !st && off < bytes; off += INT_MAX) {
    int err = MPI_Bcast((char *)buf + off, chunk(bytes - off), MPI_BYTE, root, comm);
    if (err != MPI_SUCCESS) st = mpi_failed("MPI_Bcast", err);
  }
  return st;
}

/* Rank r's bytes to root in pieces of at most INT_MAX bytes, for gathers MPI_Gatherv's int
 * counts and displacements cannot describe. */
static lurn_status gather_in_pieces(const void *data, int64_t bytes, int root, char *all,
                                    const int64_t *counts) {
  if (my_rank != root) {
    for (int64_t off = 0; off < bytes; off += INT_MAX) {
      int err = MPI_Send((const char *)data + off, chunk(bytes - off), MPI_BYTE, root, 0, comm);
      if (err != MPI_SUCCESS) return mpi_failed("MPI_Send", err);
    }
    return LURN_OK;
  }
  int64_t at = 0;
  for (int r = 0; r < n_ranks; at += counts[r], r++) {
    if (r == root) {
      if (bytes > 0) memcpy(all + at, data, (size_t)bytes);
      continue;
    }
    for (int64_t off = 0; off < counts[r]; off += INT_MAX) {
      int err = MPI_Recv(all + at + off, chunk(counts[r] - off), MPI_BYTE, r, 0, comm, MPI_STATUS_IGNORE);
      if (err != MPI_SUCCESS) return mpi_failed("MPI_Recv", err);
    }
  }
  return LURN_OK;
}

lurn_status lurn_dist_gather_bytes(const void *data, int64_t bytes, int root, void **out,
                                   int64_t *out_bytes) {
  *out = NULL;
  lurn_status mine = dist_check_buffer("gather", data, bytes, my_rank, n_ranks);
  if (!mine) mine = dist_check_root("gather", root, my_rank, n_ranks);
  if (comm == MPI_COMM_NULL) return mine ? mine : dist_gather_one(data, bytes, out, out_bytes);
  lurn_status st = agree("gather", 0, root, mine);
  if (st) return st;

  /* every rank learns every count, so that all choose the same way to move them */
  int64_t *counts = malloc(sizeof *counts * (size_t)n_ranks);
  int *icounts = malloc(sizeof *icounts * (size_t)n_ranks),
      *displs = malloc(sizeof *displs * (size_t)n_ranks);
  int ok = counts && icounts && displs;
  int err = MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm);
  if (err != MPI_SUCCESS || !ok) {
    free(counts), free(icounts), free(displs);
    return err != MPI_SUCCESS
               ? mpi_failed("MPI_Allreduce", err)
               : lurn_fail(LURN_ENOMEM, "rank %d of %d: gather: out of memory", my_rank, n_ranks);
  }
  err = MPI_Allgather(&bytes, 1, MPI_INT64_T, counts, 1, MPI_INT64_T, comm);
  if (err != MPI_SUCCESS) st = mpi_failed("MPI_Allgather", err);
  int64_t total = 0;
  for (int r = 0; !st && r < n_ranks; r++) total += counts[r];

  /* root's buffer, and whether it got it, told to every rank before any data moves */
  char *all = NULL;
  if (!st) {
    ok = 1;
    if (my_rank == root) ok = (all = malloc(total > 0 ? (size_t)total : 1)) != NULL;
    err = MPI_Bcast(&ok, 1, MPI_INT, root, comm);
    if (err != MPI_SUCCESS)
      st = mpi_failed("MPI_Bcast", err);
    else if (!ok)
      st = lurn_fail(LURN_ENOMEM, "rank %d of %d: gather: rank %d has no memory for %lld bytes", my_rank,
                     n_ranks, root, (long long)total);
  }
  if (!st && total <= INT_MAX) {
    for (int r = 0, at = 0; r < n_ranks; at += (int)counts[r], r++)
      icounts[r] = (int)counts[r], displs[r] = at;
    err = MPI_Gatherv(data, (int)bytes, MPI_BYTE, all, icounts, displs, MPI_BYTE, root, comm);
    if (err != MPI_SUCCESS) st = mpi_failed("MPI_Gatherv", err);
  } else if (!st) {
    st = gather_in_pieces(data, bytes, root, all, counts);
  }
  if (!st && my_rank == root) {
    memcpy(out_bytes, counts, sizeof *counts * (size_t)n_ranks);
    *out = all;
    all = NULL;
  }
  free(all), free(counts), free(icounts), free(displs);
  return st;
}

void lurn_dist_abort(int code, const char *message) {
  fprintf(stderr, "lurn: rank %d of %d: %s\n", my_rank, n_ranks, message);
  fflush(stderr);
  if (comm != MPI_COMM_NULL) MPI_Abort(comm, code);
  exit(code);
}
