/* Files written whole or not at all: every writer in lurn (.npy files now, model files
 * later) goes through this. Internal to the C core: not part of lurn.h.
 *
 *   lurn_atomic_file f;
 *   if (lurn_atomic_open(&f, path) != LURN_OK) return its status;
 *   if (lurn_atomic_write(&f, bytes, n) != LURN_OK) { lurn_atomic_abort(&f); return ...; }
 *   return lurn_atomic_commit(&f);   (frees f whatever happens)
 *
 * What happens to `path`:
 * - a symbolic link is followed to its target (a chain of them too, up to 40); the link
 *   stays a link and the target is what gets replaced;
 * - a regular file, or a name that does not exist yet, is written to a temporary file
 *   with a short name (".lurn-XXXXXXXX") beside the target, which is fsync'd, renamed
 *   over the target, and the directory fsync'd. A new file gets the mode 0666 less the
 *   umask, as open(2) gives; a replaced file keeps its mode (and owner, where allowed).
 *   A failure at any step removes the temporary file and leaves the target as it was;
 * - a character device (/dev/null, a terminal) or a FIFO is written through: opened
 *   for writing, never replaced, not fsync'd; an open FIFO waits for its reader, as
 *   a shell redirection does, and a reader that goes away is an error, not a SIGPIPE;
 * - anything else (a directory, a block device, a socket) is refused. */
#ifndef LURN_ATOMIC_FILE_H
#define LURN_ATOMIC_FILE_H

#include <stddef.h>

#include "lurn.h"

typedef struct lurn_atomic_file {
  int fd;
  char *path;   /* as the caller gave it, for messages */
  char *target; /* the file written: `path` with its symbolic links followed */
  char *temp;   /* the temporary file beside the target; NULL when writing through */
  int is_fifo;  /* writing through to a FIFO: a gone reader must not raise SIGPIPE */
} lurn_atomic_file;

/* Opens `path` for writing as above; on failure f holds nothing to free. */
lurn_status lurn_atomic_open(lurn_atomic_file *f, const char *path);
/* Writes all `len` bytes, or fails naming the path and the reason. */
lurn_status lurn_atomic_write(lurn_atomic_file *f, const void *data, size_t len);
/* Makes what was written the file's content and frees f; on failure the temporary file
 * is removed, the target is left as it was, and f is freed all the same. */
lurn_status lurn_atomic_commit(lurn_atomic_file *f);
/* Gives up: removes the temporary file, leaves the target as it was, frees f. */
void lurn_atomic_abort(lurn_atomic_file *f);

#endif
