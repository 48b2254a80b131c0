/* NumPy .npy files (format versions 1-3, C order, little-endian): float32, float64,
 * int8/uint8/bool, int32 and int64 load as float32; tensors save as float32.
 * The header is parsed as numpy reads it (a Python dict literal with exactly the keys
 * descr, fortran_order and shape; a repeated key: the last wins). Every length read from
 * the file is checked before it is used, and memory grows with the data that arrives:
 * a regular file must hold the bytes its header declares before any is allocated, and a
 * pipe's data is read in bounded chunks. Saving goes through src/io/atomic_file.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/checked.h"
#include "io/atomic_file.h"
#include "io/input_file.h"
#include "lurn.h"
#include "tensor/tensor_internal.h"

#define NPY_MAX_HEADER (1u << 20)
#define NPY_CHUNK (1 << 20) /* bytes read at a time: a multiple of every item size */

typedef enum { NPY_F4, NPY_F8, NPY_U1, NPY_B1, NPY_I1, NPY_I4, NPY_I8 } npy_type;

static const struct {
  const char *code;
  npy_type type;
  size_t size;
} npy_types[] = {{"f4", NPY_F4, 4}, {"f8", NPY_F8, 8}, {"u1", NPY_U1, 1}, {"b1", NPY_B1, 1},
                 {"i1", NPY_I1, 1}, {"i4", NPY_I4, 4}, {"i8", NPY_I8, 8}};

/* What the header says. */
typedef struct npy_header {
  npy_type type;
  size_t itemsize;
  int ndim;
  int64_t shape[LURN_MAX_DIMS];
  int have_descr, have_order, have_shape;
  /* Judged once the whole dict is read, since a repeated key's last value wins (numpy):
   * what a value lurn cannot load says, and whether the array is in Fortran order. */
  enum { DESCR_OK, DESCR_BIG_ENDIAN, DESCR_UNKNOWN } descr;
  char code[16];
  int fortran;
} npy_header;

/* ---- the header: a Python dict literal ------------------------------------------------ */

typedef struct cursor {
  const char *p, *start, *end, *path;
} cursor;

static void skip_space(cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static int accept(cursor *c, char ch) {
  skip_space(c);
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return 1;
  }
  return 0;
}

static lurn_status malformed(cursor *c, const char *what) {
  return lurn_fail(LURN_EIO, "%s: malformed .npy header: %s (at byte %ld of the header)", c->path, what,
                   (long)(c->p - c->start));
}

/* A quoted string ('...' or "..."), without escapes: *s and *len point into the header. */
static int quoted(cursor *c, const char **s, size_t *len) {
  skip_space(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return 0;
  char q = *c->p++;
  const char *start = c->p;
  while (c->p < c->end && *c->p != q && *c->p != '\\') c->p++;
  if (c->p >= c->end || *c->p != q) return 0;
  *s = start;
  *len = (size_t)(c->p - start);
  c->p++;
  return 1;
}

static int word(cursor *c, const char *w) {
  skip_space(c);
  size_t n = strlen(w);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0) return 0;
  c->p += n;
  return 1;
}

static lurn_status parse_descr(cursor *c, npy_header *h) {
  const char *s;
  size_t len;
  if (!quoted(c, &s, &len))
    return lurn_fail(LURN_EIO,
                     "%s: unsupported .npy dtype: 'descr' is not a simple type string (structured "
                     "arrays do not load)",
                     c->path);
  memset(h->code, 0, sizeof h->code);
  memcpy(h->code, s, len < sizeof h->code - 1 ? len : sizeof h->code - 1);
  h->have_descr = 1;
  h->descr = len >= 1 && s[0] == '>' ? DESCR_BIG_ENDIAN : DESCR_UNKNOWN;
  for (size_t i = 0; h->descr == DESCR_UNKNOWN && i < sizeof npy_types / sizeof npy_types[0]; i++)
    if (len == 3 && (s[0] == '<' || s[0] == '|' || s[0] == '=') && memcmp(s + 1, npy_types[i].code, 2) == 0) {
      h->type = npy_types[i].type;
      h->itemsize = npy_types[i].size;
      h->descr = DESCR_OK;
    }
  return LURN_OK;
}

static lurn_status parse_order(cursor *c, npy_header *h) {
  h->fortran = word(c, "True");
  if (!h->fortran && !word(c, "False")) return malformed(c, "'fortran_order' is neither True nor False");
  h->have_order = 1;
  return LURN_OK;
}

static lurn_status parse_shape(cursor *c, npy_header *h) {
  if (!accept(c, '(')) return malformed(c, "'shape' is not a tuple");
  h->ndim = 0;
  for (;;) {
    if (accept(c, ')')) break;
    skip_space(c);
    if (c->p >= c->end || (unsigned)(*c->p - '0') >= 10) return malformed(c, "'shape' holds a non-integer");
    int64_t v = 0;
    for (; c->p < c->end && (unsigned)(*c->p - '0') < 10; c->p++)
      if (!lurn_mul_i64(v, 10, &v) || !lurn_add_i64(v, *c->p - '0', &v))
        return lurn_fail(LURN_EIO, "%s: .npy header: a size in 'shape' is too large", c->path);
    if (c->p < c->end && *c->p == 'L') c->p++; /* files written by Python 2 */
    if (h->ndim == LURN_MAX_DIMS)
      return lurn_fail(LURN_EIO, "%s: .npy array has more than %d dimensions", c->path, LURN_MAX_DIMS);
    h->shape[h->ndim++] = v;
    if (accept(c, ')')) break;
    if (!accept(c, ',')) return malformed(c, "'shape' is not a tuple of integers");
  }
  if (h->ndim == 0) h->shape[h->ndim++] = 1; /* a 0-d array loads as a 1-element vector */
  h->have_shape = 1;
  return LURN_OK;
}

static lurn_status parse_header(const char *path, const char *text, size_t len, npy_header *h) {
  cursor c = {text, text, text + len, path};
  memset(h, 0, sizeof *h);
  if (!accept(&c, '{')) return malformed(&c, "it is not a dict");
  for (;;) {
    if (accept(&c, '}')) break;
    const char *key;
    size_t klen;
    if (!quoted(&c, &key, &klen)) return malformed(&c, "a key is not a string");
    if (!accept(&c, ':')) return malformed(&c, "no ':' after a key");
    lurn_status s;
    if (klen == 5 && memcmp(key, "descr", 5) == 0)
      s = parse_descr(&c, h);
    else if (klen == 13 && memcmp(key, "fortran_order", 13) == 0)
      s = parse_order(&c, h);
    else if (klen == 5 && memcmp(key, "shape", 5) == 0)
      s = parse_shape(&c, h);
    else
      return lurn_fail(LURN_EIO,
                       "%s: .npy header has the unknown key '%.*s' (descr, fortran_order and shape "
                       "are expected)",
                       path, (int)(klen < 40 ? klen : 40), key);
    if (s != LURN_OK) return s;
    if (accept(&c, '}')) break;
    if (!accept(&c, ',')) return malformed(&c, "no ',' between entries");
  }
  skip_space(&c);
  if (c.p != c.end) return malformed(&c, "text after the dict");
  if (!h->have_descr) return lurn_fail(LURN_EIO, "%s: .npy header has no 'descr'", path);
  if (!h->have_order) return lurn_fail(LURN_EIO, "%s: .npy header has no 'fortran_order'", path);
  if (!h->have_shape) return lurn_fail(LURN_EIO, "%s: .npy header has no 'shape'", path);
  if (h->descr == DESCR_BIG_ENDIAN)
    return lurn_fail(LURN_EIO, "%s: big-endian .npy arrays are not supported (dtype '%s')", path, h->code);
  if (h->descr == DESCR_UNKNOWN)
    return lurn_fail(LURN_EIO,
                     "%s: unsupported .npy dtype '%s' (float32, float64, uint8, int8, bool, int32, int64 load)",
                     path, h->code);
  if (h->fortran)
    return lurn_fail(LURN_EIO,
                     "%s: Fortran-ordered .npy arrays are not supported; save with numpy.ascontiguousarray", path);
  return LURN_OK;
}

/* ---- the data ------------------------------------------------------------------------ */

static void convert(float *dst, const unsigned char *src, npy_type type, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    switch (type) {
      case NPY_F4: {
        float v;
        memcpy(&v, src + 4 * i, 4);
        dst[i] = v;
        break;
      }
      case NPY_F8: {
        double v;
        memcpy(&v, src + 8 * i, 8);
        dst[i] = (float)v;
        break;
      }
      case NPY_U1:
        dst[i] = src[i];
        break;
      case NPY_B1:
        dst[i] = src[i] != 0;
        break; /* numpy: any non-zero byte is True */
      case NPY_I1:
        dst[i] = (signed char)src[i];
        break;
      case NPY_I4: {
        int32_t v;
        memcpy(&v, src + 4 * i, 4);
        dst[i] = (float)v;
        break;
      }
      case NPY_I8: {
        int64_t v;
        memcpy(&v, src + 8 * i, 8);
        dst[i] = (float)v;
        break;
      }
    }
  }
}

/* read(2) until len bytes or the end; returns how many came, or -1 (errno set). */
static ssize_t read_full(int fd, void *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, (char *)buf + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    got += (size_t)n;
  }
  return (ssize_t)got;
}

static lurn_status truncated(const char *path, int64_t expected, int64_t found) {
  return lurn_fail(LURN_EIO, "%s: truncated .npy data: expected %lld bytes, found %lld", path,
                   (long long)expected, (long long)found);
}

/* Reads and converts n values. dst: where they go when the size was checked against the
 * file; NULL for a pipe, whose values then go to a buffer that grows as they arrive
 * (*grown, handed to the caller). */
static lurn_status read_values(int fd, const char *path, const npy_header *h, int64_t n, float *dst,
                               float **grown) {
  unsigned char *chunk = malloc(NPY_CHUNK);
  if (!chunk) return lurn_fail(LURN_ENOMEM, "out of memory reading %s", path);
  int64_t bytes = n * (int64_t)h->itemsize, done = 0, cap = dst ? n : 0;
  float *buf = dst;
  lurn_status s = LURN_OK;
  while (done < bytes) {
    size_t want = bytes - done < NPY_CHUNK ? (size_t)(bytes - done) : NPY_CHUNK;
    ssize_t got = read_full(fd, chunk, want);
    if (got < 0) {
      s = lurn_fail(LURN_EIO, "%s: cannot read: %s", path, strerror(errno));
      break;
    }
    int64_t at = done / (int64_t)h->itemsize, values = got / (ssize_t)h->itemsize;
    if (at + values > cap) {
      int64_t c = cap ? cap : NPY_CHUNK / 4;
      while (c < at + values) c *= 2;
      if (c > n) c = n;
      float *b = realloc(buf, sizeof *b * (size_t)c);
      if (!b) {
        s = lurn_fail(LURN_ENOMEM, "out of memory reading %s", path);
        break;
      }
      buf = b;
      cap = c;
    }
    if (values) convert(buf + at, chunk, h->type, values); /* buf is NULL before the first value */
    done += got;
    if ((size_t)got < want) {
      s = truncated(path, bytes, done);
      break;
    }
  }
  free(chunk);
  if (!dst) {
    if (s == LURN_OK)
      *grown = buf;
    else
      free(buf);
  }
  return s;
}

/* Reads the preamble and the header; *data_at: where the data starts. */
static lurn_status read_header(int fd, const char *path, npy_header *h, int64_t *data_at) {
  unsigned char pre[12];
  ssize_t got = read_full(fd, pre, 10);
  if (got < 0) return lurn_fail(LURN_EIO, "%s: cannot read: %s", path, strerror(errno));
  if (got < 10 || memcmp(pre, "\x93NUMPY", 6) != 0)
    return lurn_fail(LURN_EIO, "%s: not a .npy file (bad magic)", path);
  uint32_t hlen;
  size_t pre_len = 10;
  if (pre[6] == 1) {
    hlen = (uint32_t)pre[8] | (uint32_t)pre[9] << 8;
  } else if (pre[6] == 2 || pre[6] == 3) {
    if (read_full(fd, pre + 10, 2) != 2) return lurn_fail(LURN_EIO, "%s: truncated .npy header", path);
    hlen = (uint32_t)pre[8] | (uint32_t)pre[9] << 8 | (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
    pre_len = 12;
  } else {
    return lurn_fail(LURN_EIO, "%s: unsupported .npy format version %d", path, pre[6]);
  }
  if (hlen > NPY_MAX_HEADER)
    return lurn_fail(LURN_EIO, "%s: .npy header length %u is implausible (more than %u bytes)", path, hlen,
                     NPY_MAX_HEADER);
  char *text = malloc(hlen ? hlen : 1);
  if (!text) return lurn_fail(LURN_ENOMEM, "out of memory reading %s", path);
  lurn_status s;
  got = read_full(fd, text, hlen);
  if (got < 0)
    s = lurn_fail(LURN_EIO, "%s: cannot read: %s", path, strerror(errno));
  else if ((size_t)got < hlen)
    s = lurn_fail(LURN_EIO, "%s: truncated .npy header", path);
  else
    s = parse_header(path, text, hlen, h);
  free(text);
  *data_at = (int64_t)pre_len + hlen;
  return s;
}

lurn_status lurn_npy_load(const char *path, lurn_tensor **out) {
  *out = NULL;
  struct stat st;
  int fd = lurn_open_input(path, &st);
  if (fd < 0) return LURN_EIO;
  npy_header h;
  int64_t data_at = 0, n = 0, bytes = 0;
  lurn_tensor *t = NULL;
  float *grown = NULL;
  lurn_status s = read_header(fd, path, &h, &data_at);
  if (s != LURN_OK) goto done;
  if (!lurn_shape_numel(h.ndim, h.shape, &n) || !lurn_mul_i64(n, (int64_t)h.itemsize, &bytes)) {
    s = lurn_fail(LURN_EIO, "%s: .npy shape is too large: its element count overflows", path);
    goto done;
  }
  if (S_ISREG(st.st_mode)) {
    /* The file must hold what the header declares before memory is asked for it. */
    int64_t found = st.st_size > data_at ? st.st_size - data_at : 0;
    if (found < bytes) {
      s = truncated(path, bytes, found);
      goto done;
    }
    if (!(t = lurn_tensor_empty(h.ndim, h.shape))) {
      s = lurn_fail(LURN_ENOMEM, "%s: out of memory for a .npy array of %lld values", path, (long long)n);
      goto done;
    }
    s = read_values(fd, path, &h, n, lurn_tensor_data(t), NULL);
  } else {
    if ((s = read_values(fd, path, &h, n, NULL, &grown)) != LURN_OK) goto done;
    if (!(t = lurn_tensor_empty(h.ndim, h.shape))) {
      s = lurn_fail(LURN_ENOMEM, "%s: out of memory for a .npy array of %lld values", path, (long long)n);
      goto done;
    }
    if (n) memcpy(lurn_tensor_data(t), grown, sizeof(float) * (size_t)n);
  }
done:
  close(fd);
  free(grown);
  if (s != LURN_OK) {
    lurn_tensor_free(t);
    return s;
  }
  *out = t;
  return LURN_OK;
}

lurn_status lurn_npy_save(const char *path, const lurn_tensor *t) {
  char dict[512];
  int len = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
  for (int i = 0; i < t->ndim; i++)
    len += snprintf(dict + len, sizeof dict - (size_t)len, "%lld,%s", (long long)t->shape[i],
                    i + 1 < t->ndim ? " " : "");
  if (t->ndim > 1) len--; /* numpy writes (2, 3) but (3,) */
  len += snprintf(dict + len, sizeof dict - (size_t)len, "), }");
  /* Pad with spaces so the data starts on a 64-byte boundary; the header ends in \n. */
  int total = 10 + len + 1;
  int pad = (64 - total % 64) % 64;
  char header[640];
  memcpy(header, "\x93NUMPY\x01\x00", 8);
  int hlen = len + pad + 1;
  header[8] = (char)(hlen & 0xff);
  header[9] = (char)(hlen >> 8);
  memcpy(header + 10, dict, (size_t)len);
  memset(header + 10 + len, ' ', (size_t)pad);
  header[10 + len + pad] = '\n';

  lurn_tensor *c = lurn_tensor_contiguous(t);
  if (!c) return lurn_fail(LURN_ENOMEM, "%s: out of memory", path);
  lurn_atomic_file f;
  lurn_status s = lurn_atomic_open(&f, path);
  if (s == LURN_OK) {
    s = lurn_atomic_write(&f, header, (size_t)(10 + hlen));
    if (s == LURN_OK)
      s = lurn_atomic_write(&f, lurn_tensor_data(c), sizeof(float) * (size_t)lurn_tensor_numel(c));
    if (s == LURN_OK)
      s = lurn_atomic_commit(&f);
    else
      lurn_atomic_abort(&f);
  }
  lurn_tensor_free(c);
  return s;
}
