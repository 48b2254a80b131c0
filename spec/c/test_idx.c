/* IDX files from C: plain and gzip'd files load alike, every type converts, and damaged,
 * truncated or lying files fail with a message naming the file, never crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "lurn.h"

static char dir[] = "/tmp/lurn_test_idx_XXXXXX";

static const char *path_of(const char *name) {
  static char buf[256];
  snprintf(buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

/* Writes bytes to dir/name, gzip'd through zlib when the name ends in .gz. */
static const char *write_file(const char *name, const void *bytes, size_t n) {
  const char *path = path_of(name);
  size_t len = strlen(name);
  if (len > 3 && strcmp(name + len - 3, ".gz") == 0) {
    gzFile gz = gzopen(path, "wb");
    CHECK(gz != NULL);
    if (!gz) return path;
    if (n) CHECK(gzwrite(gz, bytes, (unsigned)n) == (int)n);
    CHECK(gzclose(gz) == Z_OK);
  } else {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return path;
    CHECK(fwrite(bytes, 1, n, f) == n);
    fclose(f);
  }
  return path;
}

/* Reads a whole file into a malloc'd buffer. */
static unsigned char *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  *n = (size_t)ftell(f);
  rewind(f);
  unsigned char *b = malloc(*n);
  CHECK(fread(b, 1, *n, f) == *n);
  fclose(f);
  return b;
}

/* 2 images of 2x3 bytes: 0, 1, 2, ..., 10, 255. */
static const unsigned char images[] = {0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0,  0,
                                       0, 3, 0,    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255};

static void check_images(const char *path) {
  lurn_tensor *t = NULL;
  CHECK(lurn_idx_load(path, &t) == LURN_OK);
  if (!t) return;
  CHECK(t->ndim == 3 && t->shape[0] == 2 && t->shape[1] == 2 && t->shape[2] == 3);
  const float *d = lurn_tensor_data(t);
  for (int i = 0; i < 11; i++) CHECK(d[i] == (float)i);
  CHECK(d[11] == 255.0f);
  lurn_tensor_free(t);
}

static void test_plain_and_gzip_files_load_alike(void) {
  check_images(write_file("images", images, sizeof images));
  check_images(write_file("images.gz", images, sizeof images));
}

/* Expects path to fail with a message that names it and contains `what`. */
static void check_fails(const char *path, const char *what) {
  lurn_tensor *t = (lurn_tensor *)&t; /* must be reset to NULL */
  CHECK(lurn_idx_load(path, &t) != LURN_OK);
  CHECK(t == NULL);
  CHECK(strstr(lurn_last_error(), path) != NULL);
  if (!strstr(lurn_last_error(), what))
    fprintf(stderr, "  message: %s\n  lacks: %s\n", lurn_last_error(), what);
  CHECK(strstr(lurn_last_error(), what) != NULL);
}

static void test_every_type_converts_from_big_endian(void) {
  struct {
    unsigned char type;
    unsigned char data[16];
    size_t size;
    float want[2];
  } cases[] = {
      {0x09, {0xff, 0x05}, 1, {-1, 5}},
      {0x0B, {0xff, 0xfe, 0x01, 0x00}, 2, {-2, 256}},
      {0x0C, {0xff, 0xff, 0xff, 0xfd, 0x00, 0x01, 0x00, 0x00}, 4, {-3, 65536}},
      {0x0D, {0x3f, 0xc0, 0, 0, 0xc0, 0x20, 0, 0}, 4, {1.5f, -2.5f}},
      {0x0E, {0x3f, 0xd0, 0, 0, 0, 0, 0, 0, 0xc0, 0x59, 0, 0, 0, 0, 0, 0}, 8, {0.25f, -100}},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    unsigned char file[24] = {0, 0, cases[c].type, 1, 0, 0, 0, 2};
    memcpy(file + 8, cases[c].data, 2 * cases[c].size);
    lurn_tensor *t = NULL;
    CHECK(lurn_idx_load(write_file("typed.gz", file, 8 + 2 * cases[c].size), &t) == LURN_OK);
    if (!t) continue;
    CHECK(t->ndim == 1 && t->shape[0] == 2);
    CHECK(lurn_tensor_data(t)[0] == cases[c].want[0] && lurn_tensor_data(t)[1] == cases[c].want[1]);
    lurn_tensor_free(t);
  }
}

static void test_empty_set_loads_as_zero_rows(void) {
  const unsigned char none[] = {0, 0, 0x08, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28};
  lurn_tensor *t = NULL;
  CHECK(lurn_idx_load(write_file("none.gz", none, sizeof none), &t) == LURN_OK);
  CHECK(t && t->ndim == 3 && t->shape[0] == 0 && t->shape[1] == 28 && lurn_tensor_numel(t) == 0);
  lurn_tensor_free(t);
}

static void test_truncated_data_names_bytes_expected_and_found(void) {
  const char *want = "truncated IDX file: expected 12 bytes of data, found 7";
  check_fails(write_file("short", images, sizeof images - 5), want);
  check_fails(write_file("short.gz", images, sizeof images - 5), want);
  check_fails(write_file("header.gz", images, 10),
              "truncated IDX header: expected 12 bytes of sizes, found 6");
  check_fails(write_file("empty", images, 0), "not an IDX file");
}

static void test_cut_gzip_stream_fails(void) {
  size_t n;
  unsigned char *gz = read_file(write_file("whole.gz", images, sizeof images), &n);
  check_fails(write_file("cut", gz, n - 4), "gzip stream ends early"); /* only the length is gone */
  check_fails(write_file("cut", gz, n / 2), "truncated");
  check_fails(write_file("cut", gz, 11), "truncated: the gzip stream ends within the IDX header");
  free(gz);
}

static void test_corrupt_gzip_fails(void) {
  unsigned char big[16 + 4096] = {0, 0, 0x08, 1, 0, 0, 0x10, 0x00};
  for (int i = 0; i < 4096; i++) big[8 + i] = (unsigned char)(i * 7 % 251);
  size_t n;
  unsigned char *gz = read_file(write_file("big.gz", big, 8 + 4096), &n);
  for (size_t i = 20; i < n - 8; i += 17) gz[i] ^= 0x5a;
  check_fails(write_file("corrupt", gz, n), "");
  free(gz);
  gz = read_file(write_file("big.gz", big, 8 + 4096), &n);
  gz[n - 6] ^= 1; /* the checksum only: the data decodes, then fails the CRC */
  check_fails(write_file("badcrc", gz, n), "corrupt gzip data (incorrect data check)");
  free(gz);
}

static void test_bad_headers_fail(void) {
  const unsigned char magic[] = {0x1f, 0x2f, 0x08, 1, 0, 0, 0, 0};
  check_fails(write_file("magic", magic, sizeof magic), "bad magic 0x1f2f0801");
  const unsigned char type[] = {0, 0, 0x0A, 1, 0, 0, 0, 0};
  check_fails(write_file("type", type, sizeof type), "unsupported IDX data type 0x0a");
  const unsigned char nodims[] = {0, 0, 0x08, 0};
  check_fails(write_file("nodims", nodims, sizeof nodims), "0 dimensions");
  const unsigned char manydims[] = {0, 0, 0x08, 200, 0, 0, 0, 1};
  check_fails(write_file("manydims", manydims, sizeof manydims), "200 dimensions");
}

static void test_lying_sizes_fail_before_allocating(void) {
  const unsigned char huge[] = {0,    0,    0x0E, 4,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  check_fails(write_file("huge.gz", huge, sizeof huge), "too large");
  const unsigned char big[] = {0, 0, 0x08, 2, 0x40, 0, 0, 0, 0, 0, 0x10, 0, 1, 2, 3};
  check_fails(write_file("big", big, sizeof big), "expected 4398046511104 bytes of data, found 3");
  check_fails(write_file("big.gz", big, sizeof big), "more than a");
}

/* A zero size does not hide the overflow of the others (their strides overflow too). */
static void test_zero_size_does_not_hide_an_overflow(void) {
  const unsigned char zero[] = {0,    0,    0x08, 4,    0,    0,    0,    0,    0xff, 0xff,
                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  check_fails(write_file("zero_huge", zero, sizeof zero), "IDX sizes are too large: their product overflows");
  check_fails(write_file("zero_huge.gz", zero, sizeof zero), "IDX sizes are too large");
}

#if !defined(__SANITIZE_ADDRESS__) /* ASan reserves far more address space than a limit allows */
/* The address space this process uses now, from /proc/self/statm (pages). */
static rlim_t address_space_now(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long pages = 0;
  if (f) {
    if (fscanf(f, "%lu", &pages) != 1) pages = 0;
    fclose(f);
  }
  return (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE);
}

/* Loads path in a child allowed 64 MB more address space than it has; 1 when it fails
 * with `what` in the message (not out of memory). */
static int fails_within_memory(const char *path, const char *what) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    rlim_t now = address_space_now();
    struct rlimit lim = {now + ((rlim_t)64 << 20), now + ((rlim_t)64 << 20)};
    if (now) setrlimit(RLIMIT_AS, &lim);
    lurn_tensor *t = NULL;
    lurn_status s = lurn_idx_load(path, &t);
    if (s == LURN_OK || !strstr(lurn_last_error(), what)) fprintf(stderr, "  %s\n", lurn_last_error());
    _exit(s != LURN_OK && strstr(lurn_last_error(), what) ? 0 : 1);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return 0;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

#endif

/* A gzip'd file may hold 1,000 times its size: a header claiming that much gets memory
 * as its values arrive, not all of it up front (here 400 MB of floats for a 100 kB file). */
static void test_gzip_and_pipes_take_memory_as_values_arrive(void) {
#if defined(__SANITIZE_ADDRESS__)
  printf("skip test_gzip_and_pipes_take_memory_as_values_arrive: AddressSanitizer\n");
#else
  enum { CLAIMED = 100000000, SENT = 120000 };
  unsigned char *file = malloc(8 + SENT);
  if (!file) return;
  unsigned char head[8] = {
      0, 0, 0x08, 1, CLAIMED >> 24, (CLAIMED >> 16) & 0xff, (CLAIMED >> 8) & 0xff, CLAIMED & 0xff};
  memcpy(file, head, 8);
  uint32_t x = 12345; /* incompressible bytes, so that the file is large enough to pass */
  for (int i = 0; i < SENT; i++) file[8 + i] = (unsigned char)((x = x * 1664525u + 1013904223u) >> 24);
  CHECK(fails_within_memory(write_file("claims.gz", file, 8 + SENT), "truncated IDX file"));
  /* The same bytes through a FIFO, fed by a child. */
  const char *fifo = path_of("claims.fifo");
  char fifo_path[256];
  snprintf(fifo_path, sizeof fifo_path, "%s", fifo);
  CHECK(mkfifo(fifo_path, 0600) == 0);
  fflush(NULL);
  pid_t writer = fork();
  if (writer == 0) {
    FILE *f = fopen(fifo_path, "wb");
    if (f) {
      fwrite(file, 1, 8 + SENT, f);
      fclose(f);
    }
    _exit(0);
  }
  CHECK(fails_within_memory(fifo_path, "truncated IDX file"));
  waitpid(writer, NULL, 0);
  free(file);
#endif
}

static void test_trailing_data_fails(void) {
  unsigned char longer[sizeof images + 1];
  memcpy(longer, images, sizeof images);
  longer[sizeof images] = 0;
  check_fails(write_file("long", longer, sizeof longer), "data continues after the 12 bytes");
  check_fails(write_file("long.gz", longer, sizeof longer), "data continues after the 12 bytes");
}

static void test_missing_file_and_folder_fail(void) {
  check_fails(path_of("absent.gz"), "cannot open");
  check_fails(dir, "Is a directory");
}

int main(void) {
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  RUN(test_plain_and_gzip_files_load_alike);
  RUN(test_every_type_converts_from_big_endian);
  RUN(test_empty_set_loads_as_zero_rows);
  RUN(test_truncated_data_names_bytes_expected_and_found);
  RUN(test_cut_gzip_stream_fails);
  RUN(test_corrupt_gzip_fails);
  RUN(test_bad_headers_fail);
  RUN(test_lying_sizes_fail_before_allocating);
  RUN(test_zero_size_does_not_hide_an_overflow);
  RUN(test_gzip_and_pipes_take_memory_as_values_arrive);
  RUN(test_trailing_data_fails);
  RUN(test_missing_file_and_folder_fail);
  char cmd[64];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return check_summary();
}
