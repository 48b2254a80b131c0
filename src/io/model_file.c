/* Model files (docs/model-format.md): a magic, a version and named sections, each with
 * its length and a CRC-32 (zlib) of its name and bytes; and the tensor lists that the
 * weight and optimizer sections hold (named little-endian float32 tensors with shapes).
 * The whole file is read into memory first (a regular file's size is known before any
 * byte is read; a pipe's memory grows with what arrives), then every length and count in
 * it is checked against the bytes that are left before anything is allocated from it
 * (a pipe or device whose first bytes are not the magic is not read further).
 * Writing goes through src/io/atomic_file.c: the old file stays whole if a save fails. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/checked.h"
#include "io/atomic_file.h"
#include "io/input_file.h"
#include "lurn.h"

static const unsigned char MAGIC[8] = {'L', 'U', 'R', 'N', 'M', 'O', 'D', 'L'};
#define HEADER_BYTES 16              /* magic, version, section count */
#define READ_CHUNK ((size_t)1 << 20) /* a pipe is read this much at a time */

struct lurn_model_file {
  unsigned char *bytes; /* the whole file; the sections point into it */
  int n;
  lurn_model_section *sections;
};

/* ---- little-endian numbers ------------------------------------------------------------ */

static void put_u32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static uint64_t get_u64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

/* ---- section names ------------------------------------------------------------------ */

/* 1 to LURN_MODEL_SECTION_NAME_MAX bytes of [a-z0-9_]: printable in any message. */
static int valid_name(const unsigned char *s, size_t len) {
  if (len == 0 || len > LURN_MODEL_SECTION_NAME_MAX) return 0;
  for (size_t i = 0; i < len; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) return 0;
  return 1;
}

static uint32_t section_crc(const char *name, size_t name_len, const void *data, size_t len) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, (const Bytef *)name, (uInt)name_len);
  /* zlib takes uInt lengths: feed a large payload in pieces */
  const unsigned char *p = data;
  while (len > 0) {
    uInt piece = len > (1u << 30) ? (1u << 30) : (uInt)len;
    crc = crc32(crc, p, piece);
    p += piece;
    len -= piece;
  }
  return (uint32_t)crc;
}

/* ---- writing -------------------------------------------------------------------------- */

lurn_status lurn_model_file_write(const char *path, const lurn_model_section *sections, int n) {
  if (n < 0 || n > LURN_MODEL_MAX_SECTIONS)
    return lurn_fail(LURN_EINVAL, "%s: a model file holds 0 to %d sections, not %d", path,
                     LURN_MODEL_MAX_SECTIONS, n);
  for (int i = 0; i < n; i++) {
    if (!valid_name((const unsigned char *)sections[i].name, strlen(sections[i].name)))
      return lurn_fail(LURN_EINVAL, "%s: section name '%s' is not 1 to %d characters of a-z, 0-9 and _", path,
                       sections[i].name, LURN_MODEL_SECTION_NAME_MAX);
    for (int j = 0; j < i; j++)
      if (strcmp(sections[i].name, sections[j].name) == 0)
        return lurn_fail(LURN_EINVAL, "%s: section '%s' given twice", path, sections[i].name);
  }
  lurn_atomic_file f;
  lurn_status st = lurn_atomic_open(&f, path);
  if (st) return st;
  unsigned char head[HEADER_BYTES];
  memcpy(head, MAGIC, 8);
  put_u32(head + 8, LURN_MODEL_FILE_VERSION);
  put_u32(head + 12, (uint32_t)n);
  st = lurn_atomic_write(&f, head, sizeof head);
  for (int i = 0; i < n && st == LURN_OK; i++) {
    const lurn_model_section *s = &sections[i];
    size_t name_len = strlen(s->name);
    unsigned char sh[4 + LURN_MODEL_SECTION_NAME_MAX + 12];
    put_u32(sh, (uint32_t)name_len);
    memcpy(sh + 4, s->name, name_len);
    put_u64(sh + 4 + name_len, (uint64_t)s->len);
    put_u32(sh + 12 + name_len, section_crc(s->name, name_len, s->data, s->len));
    st = lurn_atomic_write(&f, sh, 16 + name_len);
    if (st == LURN_OK && s->len) st = lurn_atomic_write(&f, s->data, s->len);
  }
  if (st) {
    lurn_atomic_abort(&f);
    return st;
  }
  return lurn_atomic_commit(&f);
}

/* ---- reading -------------------------------------------------------------------------- */

static ssize_t read_full(int fd, void *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t r = read(fd, (char *)buf + got, len - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

/* The whole content of fd: as many bytes as a regular file's size says (a file that
 * shrank while read is truncated), or what a pipe gives, in growing chunks. */
static lurn_status slurp(int fd, const struct stat *st, const char *path, unsigned char **out, size_t *len) {
  size_t cap = 0, got = 0;
  unsigned char *buf = NULL;
  if (S_ISREG(st->st_mode)) {
    if (st->st_size < 0 || (uint64_t)st->st_size > SIZE_MAX - 1)
      return lurn_fail(LURN_EIO, "%s: file too large to read", path);
    cap = (size_t)st->st_size;
    buf = malloc(cap ? cap : 1);
    if (!buf) return lurn_fail(LURN_ENOMEM, "out of memory reading %s (%zu bytes)", path, cap);
    ssize_t r = read_full(fd, buf, cap);
    if (r < 0) {
      free(buf);
      return lurn_fail(LURN_EIO, "%s: cannot read: %s", path, strerror(errno));
    }
    *out = buf;
    *len = (size_t)r;
    return LURN_OK;
  }
  for (;;) {
    if (got == cap) {
      size_t next;
      if (!lurn_add_size(cap, cap ? cap : READ_CHUNK, &next)) {
        free(buf);
        return lurn_fail(LURN_ENOMEM, "out of memory reading %s", path);
      }
      unsigned char *b = realloc(buf, next);
      if (!b) {
        free(buf);
        return lurn_fail(LURN_ENOMEM, "out of memory reading %s", path);
      }
      buf = b;
      cap = next;
    }
    ssize_t r = read_full(fd, buf + got, cap - got);
    if (r < 0) {
      free(buf);
      return lurn_fail(LURN_EIO, "%s: cannot read: %s", path, strerror(errno));
    }
    got += (size_t)r;
    if (got < cap) break;
    /* a device or pipe that is not a model file (/dev/zero) is not read to its end */
    if (got >= 8 && memcmp(buf, MAGIC, 8) != 0) break;
  }
  *out = buf;
  *len = got;
  return LURN_OK;
}

lurn_status lurn_model_file_parse(const char *path, const void *data, size_t len, lurn_model_file **out) {
  const unsigned char *p = data;
  *out = NULL;
  if (len < 8 || memcmp(p, MAGIC, 8) != 0)
    return lurn_fail(LURN_EIO, "%s: not a lurn model file (the first 8 bytes are not \"LURNMODL\")", path);
  if (len < HEADER_BYTES)
    return lurn_fail(LURN_EIO, "%s: truncated model file: %zu bytes, the header alone takes %d", path, len,
                     HEADER_BYTES);
  uint32_t version = get_u32(p + 8), n = get_u32(p + 12);
  if (version != LURN_MODEL_FILE_VERSION)
    return lurn_fail(LURN_EIO, "%s: model file version %u; this lurn reads version %d", path, version,
                     LURN_MODEL_FILE_VERSION);
  if (n > LURN_MODEL_MAX_SECTIONS)
    return lurn_fail(LURN_EIO, "%s: the header declares %u sections (at most %d)", path, n,
                     LURN_MODEL_MAX_SECTIONS);
  lurn_model_file *f = calloc(1, sizeof *f);
  if (!f || !(f->sections = calloc(n ? n : 1, sizeof *f->sections))) {
    free(f);
    return lurn_fail(LURN_ENOMEM, "out of memory reading %s", path);
  }
  size_t at = HEADER_BYTES;
  lurn_status st = LURN_OK;
  for (uint32_t i = 0; i < n && st == LURN_OK; i++) {
    if (len - at < 4) {
      st = lurn_fail(LURN_EIO, "%s: truncated model file: section %u of %u is cut off in its name", path,
                     i + 1, n);
      break;
    }
    uint32_t name_len = get_u32(p + at);
    if (name_len == 0 || name_len > LURN_MODEL_SECTION_NAME_MAX) {
      st = lurn_fail(LURN_EIO, "%s: section %u of %u has a name length of %u bytes (1 to %d)", path, i + 1, n,
                     name_len, LURN_MODEL_SECTION_NAME_MAX);
      break;
    }
    if (len - at - 4 < name_len) {
      st = lurn_fail(LURN_EIO, "%s: truncated model file: section %u of %u is cut off in its name", path,
                     i + 1, n);
      break;
    }
    const unsigned char *name = p + at + 4;
    if (!valid_name(name, name_len)) {
      st = lurn_fail(LURN_EIO, "%s: section %u of %u has a name that is not a-z, 0-9 and _", path, i + 1, n);
      break;
    }
    at += 4 + name_len;
    char *copy = malloc(name_len + 1);
    if (!copy) {
      st = lurn_fail(LURN_ENOMEM, "out of memory reading %s", path);
      break;
    }
    memcpy(copy, name, name_len);
    copy[name_len] = '\0';
    f->sections[i].name = copy;
    f->n = (int)i + 1;
    if (len - at < 12) {
      st = lurn_fail(LURN_EIO, "%s: truncated model file: section '%s' is cut off in its length", path, copy);
      break;
    }
    uint64_t size = get_u64(p + at);
    uint32_t crc = get_u32(p + at + 8);
    at += 12;
    if (size > len - at) {
      st = lurn_fail(LURN_EIO, "%s: truncated model file: section '%s' declares %llu bytes, %zu are left",
                     path, copy, (unsigned long long)size, len - at);
      break;
    }
    for (uint32_t j = 0; j < i; j++)
      if (strcmp(f->sections[j].name, copy) == 0) {
        st = lurn_fail(LURN_EIO, "%s: section '%s' appears twice", path, copy);
        break;
      }
    if (st) break;
    if (section_crc(copy, name_len, p + at, (size_t)size) != crc) {
      st = lurn_fail(LURN_EIO, "%s: section '%s' is corrupted (its CRC-32 does not match)", path, copy);
      break;
    }
    f->sections[i].data = p + at;
    f->sections[i].len = (size_t)size;
    at += (size_t)size;
  }
  if (st == LURN_OK && at != len)
    st = lurn_fail(LURN_EIO, "%s: %zu bytes after the last section (a damaged file?)", path, len - at);
  if (st) {
    lurn_model_file_free(f);
    return st;
  }
  *out = f;
  return LURN_OK;
}

lurn_status lurn_model_file_read(const char *path, lurn_model_file **out) {
  *out = NULL;
  struct stat st;
  int fd = lurn_open_input(path, &st);
  if (fd < 0) return LURN_EIO;
  unsigned char *bytes = NULL;
  size_t len = 0;
  lurn_status s = slurp(fd, &st, path, &bytes, &len);
  close(fd);
  if (s) return s;
  s = lurn_model_file_parse(path, bytes, len, out);
  if (s) {
    free(bytes);
    return s;
  }
  (*out)->bytes = bytes;
  return LURN_OK;
}

void lurn_model_file_free(lurn_model_file *f) {
  if (!f) return;
  for (int i = 0; i < f->n; i++) free((char *)f->sections[i].name);
  free(f->sections);
  free(f->bytes);
  free(f);
}

int lurn_model_file_count(const lurn_model_file *f) {
  return f->n;
}

const lurn_model_section *lurn_model_file_at(const lurn_model_file *f, int i) {
  return i >= 0 && i < f->n ? &f->sections[i] : NULL;
}

const lurn_model_section *lurn_model_file_find(const lurn_model_file *f, const char *name) {
  for (int i = 0; i < f->n; i++)
    if (strcmp(f->sections[i].name, name) == 0) return &f->sections[i];
  return NULL;
}

/* ---- tensor lists --------------------------------------------------------------------- */

lurn_status lurn_tensor_list_encode(const char *const *names, lurn_tensor *const *tensors, int n,
                                    unsigned char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  size_t total = 4;
  for (int i = 0; i < n; i++) {
    size_t name_len = strlen(names[i]), bytes;
    if (name_len > LURN_TENSOR_NAME_MAX)
      return lurn_fail(LURN_EINVAL, "tensor name '%.40s...' is longer than %d bytes", names[i],
                       LURN_TENSOR_NAME_MAX);
    if (tensors[i]->ndim < 1) return lurn_fail(LURN_EINVAL, "tensor '%s' has no dimensions", names[i]);
    if (!lurn_array_bytes(lurn_tensor_numel(tensors[i]), 4, &bytes) ||
        !lurn_add_size(total, 8 + name_len + 8 * (size_t)tensors[i]->ndim, &total) ||
        !lurn_add_size(total, bytes, &total))
      return lurn_fail(LURN_ENOMEM, "tensor list too large to encode");
  }
  unsigned char *buf = malloc(total);
  if (!buf) return lurn_fail(LURN_ENOMEM, "out of memory encoding %d tensors (%zu bytes)", n, total);
  unsigned char *p = buf;
  put_u32(p, (uint32_t)n);
  p += 4;
  for (int i = 0; i < n; i++) {
    const lurn_tensor *t = tensors[i];
    size_t name_len = strlen(names[i]);
    put_u32(p, (uint32_t)name_len);
    memcpy(p + 4, names[i], name_len);
    p += 4 + name_len;
    put_u32(p, (uint32_t)t->ndim);
    p += 4;
    for (int d = 0; d < t->ndim; d++, p += 8) put_u64(p, (uint64_t)t->shape[d]);
    lurn_tensor *packed = lurn_tensor_contiguous(t);
    if (!packed) {
      free(buf);
      return lurn_fail(LURN_ENOMEM, "out of memory encoding tensor '%s'", names[i]);
    }
    const float *d = lurn_tensor_data(packed);
    int64_t count = lurn_tensor_numel(packed);
    for (int64_t k = 0; k < count; k++, p += 4) {
      uint32_t bits;
      memcpy(&bits, &d[k], 4);
      put_u32(p, bits);
    }
    lurn_tensor_free(packed);
  }
  *out = buf;
  *len = total;
  return LURN_OK;
}

void lurn_tensor_list_free(lurn_tensor_list *l) {
  if (!l) return;
  for (int i = 0; i < l->n; i++) {
    free(l->names[i]);
    lurn_tensor_free(l->tensors[i]);
  }
  free(l->names);
  free(l->tensors);
  free(l);
}

/* One tensor at *at; on success *at is past it and names[i], tensors[i] are set. */
static lurn_status decode_one(const char *path, const char *section, const unsigned char *p, size_t len,
                              size_t *at, uint32_t i, lurn_tensor_list *l) {
#define BAD(...) lurn_fail(LURN_EIO, __VA_ARGS__)
  size_t a = *at;
  if (len - a < 4) return BAD("%s: section '%s': tensor %u is cut off in its name", path, section, i + 1);
  uint32_t name_len = get_u32(p + a);
  a += 4;
  if (name_len > LURN_TENSOR_NAME_MAX || name_len > len - a)
    return BAD("%s: section '%s': tensor %u has a name of %u bytes (at most %d, within the section)", path,
               section, i + 1, name_len, LURN_TENSOR_NAME_MAX);
  if (memchr(p + a, '\0', name_len))
    return BAD("%s: section '%s': tensor %u has a NUL byte in its name", path, section, i + 1);
  char *name = malloc(name_len + 1);
  if (!name) return lurn_fail(LURN_ENOMEM, "out of memory reading %s", path);
  memcpy(name, p + a, name_len);
  name[name_len] = '\0';
  l->names[i] = name;
  a += name_len;
  if (len - a < 4)
    return BAD("%s: section '%s': tensor '%s' is cut off before its shape", path, section, name);
  uint32_t ndim = get_u32(p + a);
  a += 4;
  if (ndim < 1 || ndim > LURN_MAX_DIMS)
    return BAD("%s: section '%s': tensor '%s' has %u dimensions (1 to %d)", path, section, name, ndim,
               LURN_MAX_DIMS);
  if (len - a < 8 * (size_t)ndim)
    return BAD("%s: section '%s': tensor '%s' is cut off in its shape", path, section, name);
  int64_t shape[LURN_MAX_DIMS], numel;
  for (uint32_t d = 0; d < ndim; d++, a += 8) {
    uint64_t v = get_u64(p + a);
    if (v > INT64_MAX)
      return BAD("%s: section '%s': tensor '%s' has a negative size in dimension %u", path, section, name,
                 d + 1);
    shape[d] = (int64_t)v;
  }
  size_t bytes;
  if (!lurn_shape_numel((int)ndim, shape, &numel) || !lurn_array_bytes(numel, 4, &bytes))
    return BAD("%s: section '%s': tensor '%s' has a shape whose size overflows", path, section, name);
  if (bytes > len - a)
    return BAD("%s: section '%s': tensor '%s' declares %lld values (%zu bytes), %zu bytes are left", path,
               section, name, (long long)numel, bytes, len - a);
  lurn_tensor *t = lurn_tensor_empty((int)ndim, shape);
  if (!t) return lurn_fail(LURN_ENOMEM, "out of memory reading tensor '%s' of %s", name, path);
  float *d = lurn_tensor_data(t);
  for (int64_t k = 0; k < numel; k++, a += 4) {
    uint32_t bits = get_u32(p + a);
    memcpy(&d[k], &bits, 4);
  }
  l->tensors[i] = t;
  *at = a;
  return LURN_OK;
#undef BAD
}

lurn_status lurn_tensor_list_decode(const char *path, const char *section, const void *data, size_t len,
                                    lurn_tensor_list **out) {
  const unsigned char *p = data;
  *out = NULL;
  if (len < 4)
    return lurn_fail(LURN_EIO, "%s: section '%s' is too short to hold a tensor count", path, section);
  uint32_t n = get_u32(p);
  /* every tensor takes at least 16 bytes (name length, ndim, one dimension): a count the
   * section cannot hold is refused before the lists are allocated */
  if (n > (len - 4) / 16)
    return lurn_fail(LURN_EIO, "%s: section '%s' declares %u tensors, more than its %zu bytes can hold", path,
                     section, n, len);
  lurn_tensor_list *l = calloc(1, sizeof *l);
  if (!l || !(l->names = calloc(n ? n : 1, sizeof *l->names)) ||
      !(l->tensors = calloc(n ? n : 1, sizeof *l->tensors))) {
    if (l) free(l->names);
    free(l);
    return lurn_fail(LURN_ENOMEM, "out of memory reading %s", path);
  }
  l->n = (int)n;
  size_t at = 4;
  lurn_status st = LURN_OK;
  for (uint32_t i = 0; i < n && st == LURN_OK; i++) st = decode_one(path, section, p, len, &at, i, l);
  if (st == LURN_OK && at != len)
    st = lurn_fail(LURN_EIO, "%s: section '%s' has %zu bytes after its last tensor", path, section, len - at);
  if (st) {
    lurn_tensor_list_free(l);
    return st;
  }
  *out = l;
  return LURN_OK;
}

/* ---- directories ---------------------------------------------------------------------- */

lurn_status lurn_make_directory(const char *path) {
  if (mkdir(path, 0777) == 0) return LURN_OK;
  int err = errno;
  struct stat st;
  if (err == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return LURN_OK;
  if (err == EEXIST)
    return lurn_fail(LURN_EIO, "%s: cannot make a directory: a file of that name is there", path);
  return lurn_fail(LURN_EIO, "%s: cannot make a directory: %s", path, strerror(err));
}
