/* Atomic replacement of regular files, writing through to devices and FIFOs (see
 * atomic_file.h for the contract). The temporary file is created with open(O_EXCL) and
 * mode 0666, so that the kernel applies the umask (and a default ACL) exactly as it does
 * for any new file; mkstemp would give 0600. Its name is short and fixed in length, so a
 * target whose name is near NAME_MAX still gets one. */
#define _GNU_SOURCE /* sigtimedwait */
#include "io/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINK_HOPS 40 /* as the kernel's own limit on a chain of symbolic links */
#define TEMP_TRIES 100

static void release(lurn_atomic_file *f) {
  if (f->fd >= 0) close(f->fd);
  f->fd = -1;
  free(f->path);
  free(f->target);
  free(f->temp);
  f->path = f->target = f->temp = NULL;
}

/* The directory part of `path` ("." when it has none), malloc'd. */
static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return strdup(".");
  if (slash == path) return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

/* `link`, read from the symbolic link `at`, as a path usable from here. */
static char *link_destination(const char *at, const char *link) {
  if (link[0] == '/') return strdup(link);
  char *dir = dir_of(at);
  if (!dir) return NULL;
  size_t n = strlen(dir) + 1 + strlen(link) + 1;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/%s", dir, link);
  free(dir);
  return p;
}

/* Whether the symbolic link `at` (lstat'd in *st) may be followed. lurn follows links
 * itself (to write beside the target), so it applies the rule the kernel applies to its
 * own walks under fs.protected_symlinks: in a sticky, world-writable directory (/tmp), a
 * link is followed only if it belongs to us or to the directory's owner. Otherwise
 * another user's link in /tmp could make a save replace any file we may write. */
static int may_follow(const char *at, const struct stat *st) {
  char *dir = dir_of(at);
  struct stat ds;
  int ok = dir && stat(dir, &ds) == 0;
  free(dir);
  if (!ok) return 0;
  if (!(ds.st_mode & S_ISVTX) || !(ds.st_mode & S_IWOTH)) return 1;
  return st->st_uid == geteuid() || st->st_uid == ds.st_uid;
}

/* Follows symbolic links from f->path; sets f->target and *st (*exists 0: no such file). */
static lurn_status resolve(lurn_atomic_file *f, struct stat *st, int *exists) {
  char *cur = strdup(f->path);
  char *link = malloc(PATH_MAX + 1);
  lurn_status s = LURN_OK;
  if (!cur || !link) {
    s = lurn_fail(LURN_ENOMEM, "%s: out of memory", f->path);
    goto done;
  }
  for (int hops = 0;; hops++) {
    if (lstat(cur, st) != 0) {
      if (errno == ENOENT) {
        *exists = 0;
        break;
      }
      s = lurn_fail(LURN_EIO, "%s: cannot write: %s", f->path, strerror(errno));
      goto done;
    }
    if (!S_ISLNK(st->st_mode)) {
      *exists = 1;
      break;
    }
    if (hops == MAX_LINK_HOPS) {
      s = lurn_fail(LURN_EIO, "%s: cannot write: %s", f->path, strerror(ELOOP));
      goto done;
    }
    if (!may_follow(cur, st)) {
      s = lurn_fail(LURN_EIO,
                    "%s: cannot write: %s is a symbolic link of another user in a sticky, world-writable "
                    "directory, which lurn does not follow (as the kernel's protected_symlinks)",
                    f->path, cur);
      goto done;
    }
    ssize_t n = readlink(cur, link, PATH_MAX);
    if (n < 0) {
      s = lurn_fail(LURN_EIO, "%s: cannot read the symbolic link %s: %s", f->path, cur, strerror(errno));
      goto done;
    }
    link[n] = '\0';
    char *next = link_destination(cur, link);
    if (!next) {
      s = lurn_fail(LURN_ENOMEM, "%s: out of memory", f->path);
      goto done;
    }
    free(cur);
    cur = next;
  }
  f->target = cur;
  cur = NULL;
done:
  free(cur);
  free(link);
  return s;
}

static const char *kind_of(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

/* A name for the temporary file that is not likely to be taken: process, time, count. */
static void temp_name(char *buf, size_t size, const char *dir, unsigned attempt) {
  static unsigned counter;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t h = (uint64_t)getpid() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)ts.tv_nsec * 0xBF58476D1CE4E5B9ULL ^
               (uint64_t)ts.tv_sec ^ (uint64_t)__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) << 32 ^
               attempt;
  h ^= h >> 31;
  snprintf(buf, size, "%s/.lurn-%08x", dir, (unsigned)(h & 0xffffffffu));
}

/* Creates the temporary file beside f->target; `old` is the file it replaces, if any. */
static lurn_status open_temp(lurn_atomic_file *f, const struct stat *old) {
  char *dir = dir_of(f->target);
  size_t size = dir ? strlen(dir) + 32 : 0;
  f->temp = dir ? malloc(size) : NULL;
  if (!f->temp) {
    free(dir);
    return lurn_fail(LURN_ENOMEM, "%s: out of memory", f->path);
  }
  int e = 0;
  for (unsigned i = 0; i < TEMP_TRIES; i++) {
    temp_name(f->temp, size, dir, i);
    f->fd = open(f->temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (f->fd >= 0 || (e = errno) != EEXIST) break;
  }
  free(dir);
  if (f->fd < 0) {
    free(f->temp);
    f->temp = NULL;
    return lurn_fail(LURN_EIO, "%s: cannot create a temporary file beside it: %s", f->path, strerror(e));
  }
  if (old) {
    /* Keep the replaced file's owner (where allowed: as root) and mode, as editors do. */
    if ((old->st_uid != geteuid() || old->st_gid != getegid()) &&
        fchown(f->fd, old->st_uid, old->st_gid) != 0)
      errno = 0; /* not allowed (we are not root): the new file is ours, as any file we create */
    if (fchmod(f->fd, old->st_mode & 07777) != 0) {
      lurn_status s =
          lurn_fail(LURN_EIO, "%s: cannot set the mode of the new file: %s", f->path, strerror(errno));
      lurn_atomic_abort(f);
      return s;
    }
  }
  return LURN_OK;
}

lurn_status lurn_atomic_open(lurn_atomic_file *f, const char *path) {
  memset(f, 0, sizeof *f);
  f->fd = -1;
  if (!(f->path = strdup(path))) return lurn_fail(LURN_ENOMEM, "%s: out of memory", path);
  struct stat st;
  int exists = 0;
  lurn_status s = resolve(f, &st, &exists);
  if (s != LURN_OK) {
    release(f);
    return s;
  }
  if (!exists || S_ISREG(st.st_mode)) {
    s = open_temp(f, exists ? &st : NULL);
    if (s != LURN_OK) release(f);
    return s;
  }
  if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
    s = lurn_fail(LURN_EIO,
                  "%s: cannot write: it is %s (lurn writes regular files, and writes through to "
                  "character devices and FIFOs)",
                  path, kind_of(st.st_mode));
    release(f);
    return s;
  }
  f->is_fifo = S_ISFIFO(st.st_mode);
  f->fd = open(f->target, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (f->fd < 0) {
    s = lurn_fail(LURN_EIO, "%s: cannot open for writing: %s", path, strerror(errno));
    release(f);
  }
  return s;
}

/* write(2) of all len bytes; returns 0 or an errno. */
static int write_all(int fd, const char *p, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

lurn_status lurn_atomic_write(lurn_atomic_file *f, const void *data, size_t len) {
  int e;
  if (f->is_fifo) {
    /* A reader that has gone would kill the process with SIGPIPE: hold the signal back
     * while writing, and take it away again if the write raised it. */
    sigset_t pipe_only, old;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    e = write_all(f->fd, data, len);
    if (e == EPIPE) {
      struct timespec zero = {0, 0};
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) && !sigismember(&old, SIGPIPE))
        sigtimedwait(&pipe_only, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  } else {
    e = write_all(f->fd, data, len);
  }
  if (e) return lurn_fail(LURN_EIO, "%s: cannot write: %s", f->path, strerror(e));
  return LURN_OK;
}

/* fsync of the directory that holds `path`, so that the rename itself survives a crash.
 * Some file systems cannot fsync a directory; the data is safe in the file already. */
static void sync_dir_of(const char *path) {
  char *dir = dir_of(path);
  if (!dir) return;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  free(dir);
}

lurn_status lurn_atomic_commit(lurn_atomic_file *f) {
  lurn_status s = LURN_OK;
  if (!f->temp) { /* written through */
    int e = close(f->fd) != 0 ? errno : 0;
    f->fd = -1;
    if (e && e != EINTR) s = lurn_fail(LURN_EIO, "%s: cannot write: %s", f->path, strerror(e));
    release(f);
    return s;
  }
  int e = fsync(f->fd) != 0 ? errno : 0;
  if (close(f->fd) != 0 && !e && errno != EINTR) e = errno;
  f->fd = -1;
  if (!e && rename(f->temp, f->target) != 0) e = errno;
  if (e) {
    s = lurn_fail(LURN_EIO, "%s: cannot write: %s", f->path, strerror(e));
    unlink(f->temp);
  } else {
    sync_dir_of(f->target);
  }
  release(f);
  return s;
}

void lurn_atomic_abort(lurn_atomic_file *f) {
  if (f->fd >= 0) close(f->fd);
  f->fd = -1;
  if (f->temp) unlink(f->temp);
  release(f);
}
