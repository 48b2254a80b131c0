/* IDX files (the MNIST format), plain or gzip'd, read through zlib. The header is a
 * 4-byte magic 0x00 0x00 TYPE NDIM, then NDIM big-endian uint32 sizes; the values
 * follow in C order, big-endian. Every type loads as float32 (bytes as 0..255).
 * Every size read from the file is checked (checked.h) and compared with what the file
 * can hold before memory is allocated for it: a plain file must hold every byte its
 * header declares; a gzip'd file or a pipe, whose true size only reading tells, has its
 * values read into a buffer that grows as they arrive. Data after the last value is an
 * error, as is a gzip stream that is damaged or ends early (bytes after a whole gzip
 * stream zlib ignores). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/checked.h"
#include "io/input_file.h"
#include "lurn.h"

static const struct {
  unsigned char code;
  size_t size;
} idx_types[] = {{0x08, 1}, {0x09, 1}, {0x0B, 2}, {0x0C, 4}, {0x0D, 4}, {0x0E, 8}};

#define IDX_TYPES_TEXT "0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64"

/* Deflate cannot expand data by more than about 1032:1; a gzip file of s bytes thus
 * holds less than IDX_MAX_GZIP_RATIO * s bytes, which bounds what a header may claim. */
#define IDX_MAX_GZIP_RATIO 1100

/* Values are decoded through a buffer of this many bytes (a multiple of every type size). */
#define IDX_CHUNK (1 << 18)

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t be64(const unsigned char *p) {
  return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void convert(float *dst, const unsigned char *src, unsigned char code, size_t n) {
  switch (code) {
    case 0x08:
      for (size_t i = 0; i < n; i++) dst[i] = src[i];
      break;
    case 0x09:
      for (size_t i = 0; i < n; i++) dst[i] = (signed char)src[i];
      break;
    case 0x0B:
      for (size_t i = 0; i < n; i++) dst[i] = (int16_t)(uint16_t)(src[2 * i] << 8 | src[2 * i + 1]);
      break;
    case 0x0C:
      for (size_t i = 0; i < n; i++) dst[i] = (float)(int32_t)be32(src + 4 * i);
      break;
    case 0x0D:
      for (size_t i = 0; i < n; i++) {
        uint32_t u = be32(src + 4 * i);
        float v;
        memcpy(&v, &u, 4);
        dst[i] = v;
      }
      break;
    case 0x0E:
      for (size_t i = 0; i < n; i++) {
        uint64_t u = be64(src + 8 * i);
        double v;
        memcpy(&v, &u, 8);
        dst[i] = (float)v;
      }
      break;
  }
}

/* zlib's message without the "<fd:3>: " it puts in front (the file came from gzdopen). */
static const char *gz_reason(gzFile gz, int *err) {
  const char *msg = gzerror(gz, err);
  const char *p = msg[0] == '<' ? strstr(msg, ">: ") : NULL;
  return p ? p + 3 : msg;
}

/* Reads up to len (<= IDX_CHUNK) bytes into buf; *got is how many came. Fails on a
 * damaged gzip stream; a short read is left to the caller, which knows what was expected. */
static lurn_status read_some(gzFile gz, const char *path, void *buf, size_t len, size_t *got) {
  *got = 0;
  while (*got < len) {
    int r = gzread(gz, (char *)buf + *got, (unsigned)(len - *got));
    if (r <= 0) break;
    *got += (size_t)r;
  }
  int err;
  const char *why = gz_reason(gz, &err);
  if (err == Z_OK || err == Z_BUF_ERROR) return LURN_OK;
  if (err == Z_DATA_ERROR) return lurn_fail(LURN_EIO, "%s: corrupt gzip data (%s)", path, why);
  if (err == Z_MEM_ERROR) return lurn_fail(LURN_ENOMEM, "out of memory reading %s", path);
  return lurn_fail(LURN_EIO, "%s: cannot read: %s", path, why);
}

/* 1 if zlib saw the gzip stream end before its trailer. */
static int gzip_cut(gzFile gz) {
  int err;
  gzerror(gz, &err);
  return err == Z_BUF_ERROR;
}

/* The message for a file that ended after `found` of `expected` data bytes. */
static lurn_status truncated(gzFile gz, const char *path, int64_t expected, int64_t found) {
  return lurn_fail(LURN_EIO, "%s: truncated IDX file: expected %lld bytes of data, found %lld%s", path,
                   (long long)expected, (long long)found,
                   gzip_cut(gz) ? " (the gzip stream ends early)" : "");
}

/* Reads the magic and the sizes; checks that the file can hold the data they describe. */
static lurn_status read_header(gzFile gz, const char *path, const struct stat *st, unsigned char *code,
                               size_t *itemsize, int *ndim, int64_t *shape, int64_t *data_bytes) {
  unsigned char magic[4];
  size_t got;
  lurn_status s = read_some(gz, path, magic, 4, &got);
  if (s != LURN_OK) return s;
  if (got < 4 && gzip_cut(gz))
    return lurn_fail(LURN_EIO, "%s: truncated: the gzip stream ends within the IDX header", path);
  if (got < 4)
    return lurn_fail(LURN_EIO, "%s: not an IDX file (%zu bytes, shorter than the header)", path, got);
  if (magic[0] != 0 || magic[1] != 0)
    return lurn_fail(LURN_EIO, "%s: not an IDX file (bad magic 0x%02x%02x%02x%02x)", path, magic[0], magic[1],
                     magic[2], magic[3]);
  *itemsize = 0;
  for (size_t i = 0; i < sizeof idx_types / sizeof idx_types[0]; i++)
    if (idx_types[i].code == magic[2]) *itemsize = idx_types[i].size;
  if (!*itemsize)
    return lurn_fail(LURN_EIO, "%s: unsupported IDX data type 0x%02x (" IDX_TYPES_TEXT " load)", path,
                     magic[2]);
  *code = magic[2];
  *ndim = magic[3];
  if (*ndim < 1 || *ndim > LURN_MAX_DIMS)
    return lurn_fail(LURN_EIO, "%s: IDX file has %d dimensions; 1 to %d load", path, *ndim, LURN_MAX_DIMS);

  unsigned char dims[4 * LURN_MAX_DIMS];
  size_t dims_bytes = 4 * (size_t)*ndim;
  if ((s = read_some(gz, path, dims, dims_bytes, &got)) != LURN_OK) return s;
  if (got < dims_bytes)
    return lurn_fail(LURN_EIO, "%s: truncated IDX header: expected %zu bytes of sizes, found %zu%s", path,
                     dims_bytes, got, gzip_cut(gz) ? " (the gzip stream ends early)" : "");
  for (int i = 0; i < *ndim; i++) shape[i] = be32(dims + 4 * i);
  int64_t n, float_bytes; /* the file's bytes, and the tensor's */
  if (!lurn_shape_numel(*ndim, shape, &n) || !lurn_mul_i64(n, (int64_t)*itemsize, data_bytes) ||
      !lurn_mul_i64(n, (int64_t)sizeof(float), &float_bytes))
    return lurn_fail(LURN_EIO, "%s: IDX sizes are too large: their product overflows", path);

  if (!S_ISREG(st->st_mode)) return LURN_OK; /* a pipe: only reading tells */
  int64_t header_bytes = 4 + (int64_t)dims_bytes;
  if (gzdirect(gz)) {
    int64_t found = st->st_size - header_bytes;
    if (found < *data_bytes) return truncated(gz, path, *data_bytes, found > 0 ? found : 0);
  } else if (*data_bytes / IDX_MAX_GZIP_RATIO > st->st_size) {
    return lurn_fail(
        LURN_EIO,
        "%s: truncated or corrupt: its header describes %lld bytes of data, more than a %lld-byte "
        "gzip file can hold",
        path, (long long)*data_bytes, (long long)st->st_size);
  }
  return LURN_OK;
}

/* Decodes the values, a chunk at a time, then checks that nothing follows. dst: where
 * they go when the file's size vouched for them; NULL: into a buffer that grows as they
 * arrive (*grown, handed to the caller). */
static lurn_status read_values(gzFile gz, const char *path, unsigned char code, size_t itemsize,
                               int64_t data_bytes, float *dst, float **grown) {
  unsigned char *chunk = malloc(IDX_CHUNK);
  if (!chunk) return lurn_fail(LURN_ENOMEM, "out of memory reading %s", path);
  int64_t n = data_bytes / (int64_t)itemsize, cap = dst ? n : 0, at = 0, done = 0;
  float *buf = dst;
  lurn_status s = LURN_OK;
  while (done < data_bytes) {
    size_t want = data_bytes - done < IDX_CHUNK ? (size_t)(data_bytes - done) : IDX_CHUNK, got;
    if ((s = read_some(gz, path, chunk, want, &got)) != LURN_OK) goto done;
    int64_t values = (int64_t)(got / itemsize);
    if (at + values > cap) {
      int64_t c = cap ? cap : IDX_CHUNK;
      while (c < at + values) c *= 2;
      if (c > n) c = n;
      float *b = realloc(buf, sizeof *b * (size_t)c);
      if (!b) {
        s = lurn_fail(LURN_ENOMEM, "out of memory reading %s", path);
        goto done;
      }
      buf = b;
      cap = c;
    }
    if (values) convert(buf + at, chunk, code, (size_t)values); /* buf is still NULL before the first value */
    at += values;
    done += (int64_t)got;
    if (got < want) {
      s = truncated(gz, path, data_bytes, done);
      goto done;
    }
  }
  /* One more byte: finds data after the last value, and makes zlib check the gzip trailer. */
  size_t extra;
  if ((s = read_some(gz, path, chunk, 1, &extra)) != LURN_OK) goto done;
  if (extra)
    s = lurn_fail(LURN_EIO, "%s: data continues after the %lld bytes its IDX header describes", path,
                  (long long)data_bytes);
  else if (gzip_cut(gz))
    s = lurn_fail(
        LURN_EIO,
        "%s: truncated: the gzip stream ends early (all %lld data bytes read, its trailer is missing)", path,
        (long long)data_bytes);
done:
  free(chunk);
  if (!dst) {
    if (s == LURN_OK)
      *grown = buf;
    else
      free(buf);
  }
  return s;
}

/* A new tensor of `shape`, or a failure naming the file. */
static lurn_status new_tensor(const char *path, int ndim, const int64_t *shape, lurn_tensor **t) {
  if ((*t = lurn_tensor_empty(ndim, shape))) return LURN_OK;
  char why[256];
  snprintf(why, sizeof why, "%s", lurn_last_error());
  return lurn_fail(LURN_ENOMEM, "%s: %s", path, why);
}

lurn_status lurn_idx_load(const char *path, lurn_tensor **out) {
  *out = NULL;
  struct stat st;
  int fd = lurn_open_input(path, &st);
  if (fd < 0) return LURN_EIO;
  gzFile gz = gzdopen(fd, "rb");
  if (!gz) {
    close(fd);
    return lurn_fail(LURN_ENOMEM, "out of memory opening %s", path);
  }
  gzbuffer(gz, 1 << 17);

  unsigned char code = 0;
  size_t itemsize = 0;
  int ndim = 0;
  int64_t shape[LURN_MAX_DIMS], data_bytes = 0;
  lurn_tensor *t = NULL;
  float *grown = NULL;
  lurn_status s = read_header(gz, path, &st, &code, &itemsize, &ndim, shape, &data_bytes);
  if (s == LURN_OK && S_ISREG(st.st_mode) && gzdirect(gz)) { /* read_header compared the sizes */
    s = new_tensor(path, ndim, shape, &t);
    if (s == LURN_OK) s = read_values(gz, path, code, itemsize, data_bytes, lurn_tensor_data(t), NULL);
  } else if (s == LURN_OK) {
    s = read_values(gz, path, code, itemsize, data_bytes, NULL, &grown);
    if (s == LURN_OK) s = new_tensor(path, ndim, shape, &t);
    if (s == LURN_OK && data_bytes)
      memcpy(lurn_tensor_data(t), grown, sizeof(float) * (size_t)(data_bytes / (int64_t)itemsize));
    free(grown);
  }
  gzclose(gz);
  if (s != LURN_OK) {
    lurn_tensor_free(t);
    return s;
  }
  *out = t;
  return LURN_OK;
}
