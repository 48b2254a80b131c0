/* Opening a file to read, with the messages every reader gives (see input_file.h). */
#include "io/input_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lurn.h"

int lurn_open_input(const char *path, struct stat *st) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    lurn_fail(LURN_EIO, "%s: cannot open: %s", path, strerror(errno));
    return -1;
  }
  int e = fstat(fd, st) != 0 ? errno : S_ISDIR(st->st_mode) ? EISDIR : 0;
  if (e) {
    close(fd);
    lurn_fail(LURN_EIO, "%s: cannot read: %s", path, strerror(e));
    return -1;
  }
  return fd;
}
