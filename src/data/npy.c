/* NumPy .npy files (format versions 1-3, C order, little-endian): float32, float64,
 * int8/uint8/bool, int32 and int64 load as float32; tensors save as float32.
 * Every length read from the file is checked before it is used. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lurn.h"
#include "tensor_internal.h"

typedef enum { NPY_F4, NPY_F8, NPY_U1, NPY_I1, NPY_I4, NPY_I8 } npy_type;

static const struct {
  const char *code;
  npy_type type;
  size_t size;
} npy_types[] = {{"f4", NPY_F4, 4}, {"f8", NPY_F8, 8}, {"u1", NPY_U1, 1}, {"b1", NPY_U1, 1},
                 {"i1", NPY_I1, 1}, {"i4", NPY_I4, 4}, {"i8", NPY_I8, 8}};

/* Finds 'key': in the header dict and returns the text after the colon. */
static const char *header_value(const char *header, const char *key) {
  char quoted[32];
  snprintf(quoted, sizeof quoted, "'%s'", key);
  const char *p = strstr(header, quoted);
  if (!p) return NULL;
  p += strlen(quoted);
  while (*p == ' ') p++;
  if (*p != ':') return NULL;
  p++;
  while (*p == ' ') p++;
  return p;
}

static lurn_status parse_header(const char *path, const char *h, npy_type *type, size_t *itemsize,
                                int *ndim, int64_t *shape) {
  const char *d = header_value(h, "descr");
  if (!d || *d != '\'') return lurn_fail(LURN_EIO, "%s: .npy header has no 'descr'", path);
  d++;
  char endian = *d++;
  if (endian == '>') return lurn_fail(LURN_EIO, "%s: big-endian .npy arrays are not supported", path);
  if (endian != '<' && endian != '|' && endian != '=')
    return lurn_fail(LURN_EIO, "%s: unsupported .npy dtype", path);
  int found = 0;
  for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++) {
    if (strncmp(d, npy_types[i].code, 2) == 0 && d[2] == '\'') {
      *type = npy_types[i].type;
      *itemsize = npy_types[i].size;
      found = 1;
    }
  }
  if (!found) {
    char code[8] = {0};
    for (int i = 0; i < 6 && d[i] && d[i] != '\''; i++) code[i] = d[i];
    return lurn_fail(LURN_EIO, "%s: unsupported .npy dtype '%c%s' (float32, float64, uint8, int8, bool, int32, int64 load)",
                     path, endian, code);
  }

  const char *f = header_value(h, "fortran_order");
  if (!f) return lurn_fail(LURN_EIO, "%s: .npy header has no 'fortran_order'", path);
  if (strncmp(f, "True", 4) == 0)
    return lurn_fail(LURN_EIO, "%s: Fortran-ordered .npy arrays are not supported; save with numpy.ascontiguousarray", path);
  if (strncmp(f, "False", 5) != 0) return lurn_fail(LURN_EIO, "%s: malformed 'fortran_order' in .npy header", path);

  const char *s = header_value(h, "shape");
  if (!s || *s != '(') return lurn_fail(LURN_EIO, "%s: .npy header has no 'shape'", path);
  s++;
  *ndim = 0;
  for (;;) {
    while (*s == ' ' || *s == ',') s++;
    if (*s == ')') break;
    if (*s < '0' || *s > '9') return lurn_fail(LURN_EIO, "%s: malformed 'shape' in .npy header", path);
    if (*ndim == LURN_MAX_DIMS)
      return lurn_fail(LURN_EIO, "%s: .npy array has more than %d dimensions", path, LURN_MAX_DIMS);
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || v < 0) return lurn_fail(LURN_EIO, "%s: malformed 'shape' in .npy header", path);
    shape[(*ndim)++] = v;
    s = end;
  }
  if (*ndim == 0) shape[(*ndim)++] = 1;  /* a 0-d array loads as a 1-element vector */
  return LURN_OK;
}

static void convert(float *dst, const unsigned char *src, npy_type type, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    switch (type) {
      case NPY_F4: { float v; memcpy(&v, src + 4 * i, 4); dst[i] = v; break; }
      case NPY_F8: { double v; memcpy(&v, src + 8 * i, 8); dst[i] = (float)v; break; }
      case NPY_U1: dst[i] = src[i]; break;
      case NPY_I1: dst[i] = (signed char)src[i]; break;
      case NPY_I4: { int32_t v; memcpy(&v, src + 4 * i, 4); dst[i] = (float)v; break; }
      case NPY_I8: { int64_t v; memcpy(&v, src + 8 * i, 8); dst[i] = (float)v; break; }
    }
  }
}

lurn_status lurn_npy_load(const char *path, lurn_tensor **out) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return lurn_fail(LURN_EIO, "%s: cannot open: %s", path, strerror(errno));
  lurn_status st = LURN_OK;
  char *header = NULL;
  unsigned char *raw = NULL;
  lurn_tensor *t = NULL;

  unsigned char pre[12];
  if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
    st = lurn_fail(LURN_EIO, "%s: not a .npy file (bad magic)", path);
    goto done;
  }
  uint32_t hlen;
  if (pre[6] == 1) {
    hlen = (uint32_t)pre[8] | (uint32_t)pre[9] << 8;
  } else if (pre[6] == 2 || pre[6] == 3) {
    if (fread(pre + 10, 1, 2, f) != 2) {
      st = lurn_fail(LURN_EIO, "%s: truncated .npy header", path);
      goto done;
    }
    hlen = (uint32_t)pre[8] | (uint32_t)pre[9] << 8 | (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
  } else {
    st = lurn_fail(LURN_EIO, "%s: unsupported .npy format version %d", path, pre[6]);
    goto done;
  }
  if (hlen > (1u << 20)) {
    st = lurn_fail(LURN_EIO, "%s: .npy header length %u is implausible", path, hlen);
    goto done;
  }
  header = malloc(hlen + 1);
  if (!header) {
    st = lurn_fail(LURN_ENOMEM, "out of memory");
    goto done;
  }
  if (fread(header, 1, hlen, f) != hlen) {
    st = lurn_fail(LURN_EIO, "%s: truncated .npy header", path);
    goto done;
  }
  header[hlen] = '\0';

  npy_type type = NPY_F4;
  size_t itemsize = 4;
  int ndim = 0;
  int64_t shape[LURN_MAX_DIMS];
  if ((st = parse_header(path, header, &type, &itemsize, &ndim, shape)) != LURN_OK) goto done;
  t = lurn_tensor_empty(ndim, shape);
  if (!t) {
    st = LURN_ENOMEM;
    goto done;
  }
  int64_t n = lurn_tensor_numel(t);
  size_t bytes = (size_t)n * itemsize;
  raw = malloc(bytes ? bytes : 1);
  if (!raw) {
    st = lurn_fail(LURN_ENOMEM, "out of memory reading %s", path);
    goto done;
  }
  size_t got = fread(raw, 1, bytes, f);
  if (got != bytes) {
    st = lurn_fail(LURN_EIO, "%s: truncated .npy data: expected %zu bytes, found %zu", path, bytes, got);
    goto done;
  }
  convert(lurn_tensor_data(t), raw, type, n);
done:
  fclose(f);
  free(header);
  free(raw);
  if (st != LURN_OK) lurn_tensor_free(t);
  else *out = t;
  return st;
}

lurn_status lurn_npy_save(const char *path, const lurn_tensor *t) {
  char dict[512];
  int len = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
  for (int i = 0; i < t->ndim; i++)
    len += snprintf(dict + len, sizeof dict - (size_t)len, "%lld,%s", (long long)t->shape[i],
                    i + 1 < t->ndim ? " " : "");
  if (t->ndim > 1) len--;  /* numpy writes (2, 3) but (3,) */
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
  if (!c) return LURN_ENOMEM;
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 16);
  if (!tmp) {
    lurn_tensor_free(c);
    return lurn_fail(LURN_ENOMEM, "out of memory");
  }
  snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
  int fd = mkstemp(tmp);
  lurn_status st = LURN_OK;
  if (fd < 0) {
    st = lurn_fail(LURN_EIO, "%s: cannot create temporary file: %s", path, strerror(errno));
    goto done;
  }
  FILE *f = fdopen(fd, "wb");
  if (!f) {
    close(fd);
    unlink(tmp);
    st = lurn_fail(LURN_EIO, "%s: cannot write: %s", path, strerror(errno));
    goto done;
  }
  size_t n = (size_t)lurn_tensor_numel(c);
  int ok = fwrite(header, 1, (size_t)(10 + hlen), f) == (size_t)(10 + hlen) &&
           fwrite(lurn_tensor_data(c), sizeof(float), n, f) == n && fflush(f) == 0 && fsync(fileno(f)) == 0;
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp, path) != 0) {
    st = lurn_fail(LURN_EIO, "%s: write failed: %s", path, strerror(errno));
    unlink(tmp);
  }
done:
  free(tmp);
  lurn_tensor_free(c);
  return st;
}
