/* src/io/atomic_file.c: new files get the umask's mode, replaced files keep theirs,
 * symbolic links stay links, long names work, FIFOs and character devices are written
 * through (never replaced), other file types are refused, and a failed save leaves
 * neither a temporary file nor a changed target. Device nodes and FIFOs are made in a
 * temporary directory, never the machine's own. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "io/atomic_file.h"
#include "lurn.h"

static char dir[] = "/tmp/lurn_test_atomic_XXXXXX";

static const char *path_of(const char *name) {
  static char buf[2][PATH_MAX];
  static int which;
  which ^= 1;
  snprintf(buf[which], sizeof buf[which], "%s/%s", dir, name);
  return buf[which];
}

static lurn_status save(const char *path, const char *text) {
  lurn_atomic_file f;
  lurn_status s = lurn_atomic_open(&f, path);
  if (s != LURN_OK) return s;
  s = lurn_atomic_write(&f, text, strlen(text));
  if (s != LURN_OK) {
    lurn_atomic_abort(&f);
    return s;
  }
  return lurn_atomic_commit(&f);
}

static int has_text(const char *path, const char *text) {
  char buf[256] = {0};
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  return n == strlen(text) && memcmp(buf, text, n) == 0;
}

static mode_t mode_of(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 ? st.st_mode : 0;
}

/* Temporary files left in the test directory. */
static int leftovers(void) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    if (strncmp(e->d_name, ".lurn-", 6) == 0) n++;
  if (d) closedir(d);
  return n;
}

static void test_new_files_get_the_umask_mode(void) {
  mode_t old = umask(022);
  CHECK(save(path_of("u022"), "a") == LURN_OK);
  CHECK((mode_of(path_of("u022")) & 07777) == 0644);
  umask(027);
  CHECK(save(path_of("u027"), "a") == LURN_OK);
  CHECK((mode_of(path_of("u027")) & 07777) == 0640);
  umask(old);
}

static void test_replaced_files_keep_their_mode(void) {
  const char *p = path_of("kept");
  CHECK(save(p, "old") == LURN_OK);
  CHECK(chmod(p, 0604) == 0);
  CHECK(save(p, "new") == LURN_OK);
  CHECK(has_text(p, "new"));
  CHECK((mode_of(p) & 07777) == 0604);
}

static void test_symbolic_links_stay_links(void) {
  CHECK(mkdir(path_of("sub"), 0755) == 0);
  CHECK(save(path_of("sub/target"), "old") == LURN_OK);
  CHECK(symlink("sub/target", path_of("link")) == 0); /* relative to the link's directory */
  CHECK(symlink("link", path_of("link2")) == 0);      /* a chain */
  CHECK(save(path_of("link2"), "new") == LURN_OK);
  CHECK(S_ISLNK(mode_of(path_of("link"))) && S_ISLNK(mode_of(path_of("link2"))));
  CHECK(has_text(path_of("sub/target"), "new"));
  /* A dangling link: its target is created. */
  CHECK(symlink("sub/created", path_of("dangling")) == 0);
  CHECK(save(path_of("dangling"), "made") == LURN_OK);
  CHECK(S_ISLNK(mode_of(path_of("dangling"))));
  CHECK(has_text(path_of("sub/created"), "made"));
  /* A loop is an error, not a hang. */
  CHECK(symlink("loop_b", path_of("loop_a")) == 0);
  CHECK(symlink("loop_a", path_of("loop_b")) == 0);
  CHECK(save(path_of("loop_a"), "x") == LURN_EIO);
  CHECK(leftovers() == 0);
}

static void test_names_at_name_max(void) {
  char name[NAME_MAX + 1];
  memset(name, 'n', NAME_MAX);
  name[NAME_MAX] = '\0';
  CHECK(save(path_of(name), "long") == LURN_OK);
  CHECK(has_text(path_of(name), "long"));
  CHECK(save(path_of(name), "again") == LURN_OK);
  CHECK(has_text(path_of(name), "again"));
  CHECK(leftovers() == 0);
}

static void test_fifos_are_written_through(void) {
  const char *p = path_of("fifo");
  CHECK(mkfifo(p, 0600) == 0);
  int reader = open(p, O_RDONLY | O_NONBLOCK); /* so that opening for writing does not wait */
  CHECK(reader >= 0);
  CHECK(save(p, "through") == LURN_OK);
  char buf[16] = {0};
  CHECK(read(reader, buf, sizeof buf) == 7 && memcmp(buf, "through", 7) == 0);
  CHECK(S_ISFIFO(mode_of(p)));
  /* The reader goes away before the write: an error, not a SIGPIPE that kills us. */
  lurn_atomic_file f;
  CHECK(lurn_atomic_open(&f, p) == LURN_OK);
  close(reader);
  CHECK(lurn_atomic_write(&f, "x", 1) == LURN_EIO);
  CHECK(strstr(lurn_last_error(), "Broken pipe") != NULL);
  lurn_atomic_abort(&f);
  sigset_t pending;
  sigpending(&pending);
  CHECK(!sigismember(&pending, SIGPIPE));
  CHECK(S_ISFIFO(mode_of(p)));
  CHECK(leftovers() == 0);
}

/* Another user's link in a sticky, world-writable directory (as in /tmp) is not
 * followed: the file it points at stays as it was. Needs root to give the link away. */
static void test_other_users_links_in_sticky_directories_are_not_followed(void) {
  if (geteuid() != 0) {
    printf("skip test_other_users_links_in_sticky_directories_are_not_followed: needs root\n");
    return;
  }
  const char *sticky = path_of("sticky");
  CHECK(mkdir(sticky, 0777) == 0 && chmod(sticky, 01777) == 0);
  CHECK(save(path_of("victim"), "precious") == LURN_OK);
  CHECK(symlink(path_of("victim"), path_of("sticky/bait")) == 0);
  CHECK(lchown(path_of("sticky/bait"), 65534, 65534) == 0); /* nobody's link */
  CHECK(save(path_of("sticky/bait"), "overwritten") == LURN_EIO);
  CHECK(strstr(lurn_last_error(), "symbolic link of another user") != NULL);
  CHECK(has_text(path_of("victim"), "precious"));
  /* our own link there is followed */
  CHECK(symlink(path_of("victim"), path_of("sticky/mine")) == 0);
  CHECK(save(path_of("sticky/mine"), "updated") == LURN_OK);
  CHECK(has_text(path_of("victim"), "updated"));
}

static void test_character_devices_are_written_through(void) {
  const char *p = path_of("null");
  if (mknod(p, S_IFCHR | 0666, makedev(1, 3)) != 0) {
    printf("skip test_character_devices_are_written_through: mknod needs root (%s)\n", strerror(errno));
    return;
  }
  CHECK(save(p, "gone") == LURN_OK);
  CHECK(S_ISCHR(mode_of(p)));
  struct stat st;
  CHECK(stat(p, &st) == 0 && st.st_rdev == makedev(1, 3));
  /* A device that fails writes (like /dev/full) reports it. */
  const char *full = path_of("full");
  CHECK(mknod(full, S_IFCHR | 0666, makedev(1, 7)) == 0);
  CHECK(save(full, "x") == LURN_EIO);
  CHECK(strstr(lurn_last_error(), "No space left") != NULL);
  CHECK(S_ISCHR(mode_of(full)));
  CHECK(leftovers() == 0);
}

static void test_other_file_types_are_refused(void) {
  CHECK(save(dir, "x") == LURN_EIO);
  CHECK(strstr(lurn_last_error(), "it is a directory") != NULL);
  CHECK(save(path_of("no/such/dir/file"), "x") == LURN_EIO);
  CHECK(strstr(lurn_last_error(), "no/such/dir/file") != NULL);
  CHECK(leftovers() == 0);
}

/* In a child, with files limited to 4 bytes: the write fails (EFBIG), nothing is left. */
static void test_a_failed_write_leaves_nothing_behind(void) {
  const char *p = path_of("limited");
  CHECK(save(p, "old") == LURN_OK);
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {4, 4};
    setrlimit(RLIMIT_FSIZE, &lim);
    lurn_status s = save(p, "far more than four bytes");
    _exit(s == LURN_EIO && strstr(lurn_last_error(), "too large") ? 0 : 1);
  }
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK(has_text(p, "old"));
  CHECK(leftovers() == 0);
}

int main(void) {
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  RUN(test_new_files_get_the_umask_mode);
  RUN(test_replaced_files_keep_their_mode);
  RUN(test_symbolic_links_stay_links);
  RUN(test_other_users_links_in_sticky_directories_are_not_followed);
  RUN(test_names_at_name_max);
  RUN(test_fifos_are_written_through);
  RUN(test_character_devices_are_written_through);
  RUN(test_other_file_types_are_refused);
  RUN(test_a_failed_write_leaves_nothing_behind);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return check_summary();
}
