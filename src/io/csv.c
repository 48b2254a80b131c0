/* CSV files, parsed by libcsv in strict mode, into columns: numbers as float32 (NaN
 * where missing), anything else as text. A column is a number column until a field
 * that is neither missing nor a number shows up; it then turns to text, and a second
 * pass over the file fetches the text of the rows read before that (rarely needed: a
 * text column usually shows it on its first row). Every size that grows with the file
 * is checked before memory is asked for it. Lines are counted as the file has them
 * (a quoted field may span several), so that errors name the line to look at.
 * Memory grows with the data read, never with what a file might hold: a field, a line
 * and the column count have limits checked as the bytes arrive (libcsv is fed slices
 * no longer than what the limits leave), and column buffers start small and double. */
#define _GNU_SOURCE /* strtod_l, newlocale */
#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/input_file.h"
#include "lurn.h"

#define CSV_CHUNK (1 << 20)
#define CSV_SHOW 40 /* bytes of a field quoted in a message */

static const char *const default_na[] = {"", "NA", "NaN", "?"};

void lurn_csv_options_init(lurn_csv_options *o) {
  memset(o, 0, sizeof *o);
  o->header = 1;
  o->delimiter = ',';
  o->quote = '"';
  o->max_field_bytes = LURN_CSV_MAX_FIELD_BYTES;
  o->max_line_bytes = LURN_CSV_MAX_LINE_BYTES;
  o->max_columns = LURN_CSV_MAX_COLUMNS;
}

/* A column being read. */
typedef struct column {
  int source;             /* 0-based position in the file */
  lurn_csv_type want;     /* from the options */
  int is_text;            /* decided: holds text */
  int64_t first_text_row; /* rows before it were read as numbers; pass 2 gets their text */
  float *values;          /* number columns: one per row */
  int64_t *offsets;       /* text columns: into text, -1 where missing */
  char *text;             /* length-prefixed, NUL-terminated texts */
  size_t text_len, text_cap;
  int64_t missing;
} column;

typedef struct reader {
  const char *path;
  const lurn_csv_options *o;
  const char *const *na;
  size_t *na_len;
  int n_na;
  locale_t c_locale;
  lurn_status status; /* the first failure; the callbacks do nothing once it is set */
  int pass;           /* 1: everything; 2: the text of rows read as numbers */
  int done;           /* pass 2 has what it came for */

  int64_t max_field, max_line; /* the limits in force */
  int max_columns;
  int64_t record_bytes; /* the bytes of the current record's fields so far */

  int64_t line;        /* 1-based line on which the next field starts */
  int64_t record_line; /* line on which the current record started */
  int prev_cr;         /* the last record ended with CR: an LF right after belongs to it */
  int field;           /* fields seen in the current record */

  int have_first;     /* the first record (header or first row) is known */
  int skip_header;    /* pass 2: the header is still to come */
  int64_t first_line; /* where it is */
  char **first;       /* its fields, until the columns are resolved */
  size_t *first_len;
  int nfirst, first_cap;

  int ncols_file;
  int *target; /* file position -> index in cols, or -1 when not kept */
  column *cols;
  char **names;
  int ncols;
  int64_t row; /* data row being read (0-based) */
  int64_t nrows, cap;
  int64_t pass2_rows; /* pass 2 stops after this many rows */
} reader;

/* ---- small helpers ------------------------------------------------------------ */

/* `s` cut to CSV_SHOW bytes, with "..." when cut, for messages. */
static const char *shown(const char *s, size_t len, char *buf, size_t size) {
  size_t n = len < CSV_SHOW ? len : CSV_SHOW;
  if (n > size - 4) n = size - 4;
  memcpy(buf, s, n);
  strcpy(buf + n, len > n ? "..." : "");
  for (size_t i = 0; i < n; i++)
    if (buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\0') buf[i] = ' ';
  return buf;
}

static lurn_status fail(reader *r, lurn_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static lurn_status fail(reader *r, lurn_status st, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  r->status = lurn_fail(st, "%s", msg);
  return r->status;
}

static lurn_status oom(reader *r) {
  return fail(r, LURN_ENOMEM, "%s: out of memory reading the CSV file", r->path);
}

/* Lines a field adds: each LF, CRLF or lone CR. */
static int64_t lines_in(const char *s, size_t len) {
  if (!memchr(s, '\n', len) && !memchr(s, '\r', len)) return 0;
  int64_t n = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '\n')
      n++;
    else if (s[i] == '\r' && (i + 1 == len || s[i + 1] != '\n'))
      n++;
  }
  return n;
}

static int is_na(const reader *r, const char *s, size_t len) {
  for (int i = 0; i < r->n_na; i++)
    if (r->na_len[i] == len && memcmp(r->na[i], s, len) == 0) return 1;
  return 0;
}

static int ieq(const char *s, size_t len, const char *word) {
  if (strlen(word) != len) return 0;
  for (size_t i = 0; i < len; i++)
    if ((s[i] | 0x20) != word[i]) return 0;
  return 1;
}

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* 1 and *out if the whole field (spaces around allowed) is a decimal number, inf or nan.
 * Up to 19 digits with a power of ten up to 22 convert exactly in double arithmetic
 * when the digits fit in 53 bits (as strtod would convert them); anything else goes
 * through strtod_l in the C locale. */
static int parse_number(const reader *r, const char *s, size_t len, double *out) {
  const char *p = s, *end = s + len;
  while (p < end && (*p == ' ' || *p == '\t')) p++;
  while (end > p && (end[-1] == ' ' || end[-1] == '\t')) end--;
  const char *start = p;
  int neg = 0;
  if (p < end && (*p == '+' || *p == '-')) neg = *p++ == '-';
  uint64_t mant = 0; /* wraps past 19 digits, when it is not used */
  const char *digits = p;
  for (; p < end && (unsigned)(*p - '0') < 10; p++) mant = mant * 10 + (uint64_t)(*p - '0');
  int64_t ndigits = p - digits, exp10 = 0;
  if (p < end && *p == '.') {
    const char *frac = ++p;
    for (; p < end && (unsigned)(*p - '0') < 10; p++) mant = mant * 10 + (uint64_t)(*p - '0');
    exp10 = -(p - frac);
    ndigits += p - frac;
  }
  if (ndigits == 0) {
    size_t n = (size_t)(end - p);
    if (p > digits) return 0; /* a lone "." */
    if (ieq(p, n, "inf") || ieq(p, n, "infinity"))
      *out = neg ? -INFINITY : INFINITY;
    else if (ieq(p, n, "nan"))
      *out = NAN;
    else
      return 0;
    return 1;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    int eneg = 0;
    if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
    if (p == end || (unsigned)(*p - '0') >= 10) return 0;
    int64_t e = 0;
    for (; p < end && (unsigned)(*p - '0') < 10; p++)
      if (e < 100000) e = e * 10 + (*p - '0');
    exp10 += eneg ? -e : e;
  }
  if (p != end) return 0;
  if (ndigits <= 19 && mant < (1ULL << 53) && exp10 >= -22 && exp10 <= 22) {
    double v = (double)mant;
    v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
    *out = neg ? -v : v;
    return 1;
  }
  /* strtod stops at the first space after the number, so `start` needs no copy. */
  *out = strtod_l(start, NULL, r->c_locale);
  return 1;
}

/* ---- storage -------------------------------------------------------------------- */

/* Rows start at 1024 for narrow files, fewer for wide ones (about 64k values in all), so
 * that a file with a million columns and one row does not reserve a thousand rows each. */
static int grow_rows(reader *r) {
  int64_t first = r->ncols > 64 ? (1 << 16) / r->ncols : 1024;
  int64_t cap = r->cap ? r->cap * 2 : first > 0 ? first : 1;
  if ((uint64_t)cap > SIZE_MAX / sizeof(int64_t)) return 0;
  for (int i = 0; i < r->ncols; i++) {
    column *c = &r->cols[i];
    if (c->is_text) {
      int64_t *o = realloc(c->offsets, sizeof *o * (size_t)cap);
      if (!o) return 0;
      c->offsets = o;
    } else {
      float *v = realloc(c->values, sizeof *v * (size_t)cap);
      if (!v) return 0;
      c->values = v;
    }
  }
  r->cap = cap;
  return 1;
}

/* Appends a length-prefixed, NUL-terminated copy of s; returns its offset or -1. */
static int64_t add_text(column *c, const char *s, size_t len) {
  size_t need = sizeof(size_t) + len + 1;
  if (len > SIZE_MAX / 2 - sizeof(size_t) - 1 || c->text_len > SIZE_MAX / 2 - need) return -1;
  if (c->text_len + need > c->text_cap) {
    size_t cap = c->text_cap ? c->text_cap : 64; /* small: a wide file has many text columns */
    while (cap < c->text_len + need) cap *= 2;
    char *t = realloc(c->text, cap);
    if (!t) return -1;
    c->text = t;
    c->text_cap = cap;
  }
  int64_t at = (int64_t)c->text_len;
  memcpy(c->text + c->text_len, &len, sizeof len);
  memcpy(c->text + c->text_len + sizeof len, s, len);
  c->text[c->text_len + sizeof len + len] = '\0';
  c->text_len += need;
  return at;
}

/* A number column met text at the current row: it holds text from now on. */
static int turn_to_text(reader *r, column *c) {
  int64_t *o = malloc(sizeof *o * (size_t)r->cap);
  if (!o) return 0;
  for (int64_t i = 0; i < r->row; i++) o[i] = -1;
  free(c->values);
  c->values = NULL;
  c->offsets = o;
  c->is_text = 1;
  c->first_text_row = r->row;
  return 1;
}

/* Returns 1 when the field was a number (so it holds no line break). */
static int store_field(reader *r, column *c, const char *s, size_t len, int64_t line) {
  int64_t row = r->row;
  if (!c->is_text) {
    double v;
    if (parse_number(r, s, len, &v) && !is_na(r, s, len)) {
      c->values[row] = (float)v;
      return 1;
    }
  }
  if (is_na(r, s, len)) {
    c->missing++;
    if (c->is_text)
      c->offsets[row] = -1;
    else
      c->values[row] = NAN;
    return 0;
  }
  if (!c->is_text) {
    if (c->want == LURN_CSV_FLOAT) {
      char buf[64];
      fail(r, LURN_EIO, "%s:%lld: column '%s' is float (dtype) but holds the non-numeric value '%s'", r->path,
           (long long)line, r->names[c - r->cols], shown(s, len, buf, sizeof buf));
      return 0;
    }
    if (!turn_to_text(r, c)) return oom(r), 0;
  }
  if ((c->offsets[row] = add_text(c, s, len)) < 0) oom(r);
  return 0;
}

/* ---- the first record: names and the columns kept ------------------------------- */

static int find_column(reader *r, const lurn_csv_ref *ref, const char *what) {
  if (!ref->name) {
    if (ref->position >= 1 && ref->position <= r->ncols_file) return ref->position - 1;
    fail(r, LURN_EINVAL, "%s: %s names column %d, but the file has %d column%s", r->path, what, ref->position,
         r->ncols_file, r->ncols_file == 1 ? "" : "s");
    return -1;
  }
  for (int i = 0; i < r->ncols_file; i++)
    if (strcmp(r->first[i], ref->name) == 0 && strlen(ref->name) == r->first_len[i]) return i;
  char list[200] = "";
  for (int i = 0; i < r->ncols_file && strlen(list) < sizeof list - 60; i++) {
    char buf[64];
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s'%s'", i ? ", " : "",
             shown(r->first[i], r->first_len[i], buf, sizeof buf));
    if (i + 1 < r->ncols_file && strlen(list) >= sizeof list - 60) strcat(list, ", ...");
  }
  fail(r, LURN_EINVAL, "%s: %s names column '%s', which the %s does not have (columns: %s)", r->path, what,
       ref->name, r->o->header ? "header" : "file", list);
  return -1;
}

/* Names by position ("1", "2", ...) for unnamed columns. */
static char *position_name(int i) {
  char num[16];
  snprintf(num, sizeof num, "%d", i + 1);
  return strdup(num);
}

/* A name seen so far and how often (pandas' counts in dedup_names). */
typedef struct name_count {
  const char *s;
  size_t len;
  int64_t count;
} name_count;

static name_count *name_slot(name_count *tab, size_t mask, const char *s, size_t len) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
  size_t i = (size_t)h & mask;
  while (tab[i].s && !(tab[i].len == len && memcmp(tab[i].s, s, len) == 0)) i = (i + 1) & mask;
  return &tab[i];
}

/* Renames duplicate names as pandas.read_csv does (pandas.io.common.dedup_names): the
 * second 'a' becomes 'a.1', the third 'a.2'; a name an earlier column holds is suffixed
 * in turn ('a', 'a.1', 'a' gives 'a', 'a.1', 'a.1.1'). Hashed, so wide files stay fast. */
static int dedup_names(reader *r) {
  size_t cap = 16;
  while (cap < 2 * (size_t)r->nfirst) cap *= 2;
  name_count *tab = calloc(cap, sizeof *tab);
  if (!tab) return oom(r), 0;
  for (int i = 0; i < r->nfirst; i++) {
    char *col = r->first[i];
    size_t len = r->first_len[i];
    name_count *e = name_slot(tab, cap - 1, col, len);
    int64_t cur = e->s ? e->count : 0;
    while (cur > 0) {
      e->count = cur + 1;
      char *next = malloc(len + 24);
      if (!next) {
        if (col != r->first[i]) free(col);
        free(tab);
        return oom(r), 0;
      }
      memcpy(next, col, len);
      len += (size_t)snprintf(next + len, 24, ".%lld", (long long)cur);
      if (col != r->first[i]) free(col);
      col = next;
      e = name_slot(tab, cap - 1, col, len);
      cur = e->s ? e->count : 0;
    }
    if (col != r->first[i]) {
      free(r->first[i]);
      r->first[i] = col;
      r->first_len[i] = len;
    }
    e->s = col;
    e->len = len;
    e->count = cur + 1;
  }
  free(tab);
  return 1;
}

/* Checks the names in r->first and decides which columns are kept, in which order. */
static int resolve_columns(reader *r) {
  const lurn_csv_options *o = r->o;
  r->ncols_file = r->nfirst;
  for (int i = 0; i < r->nfirst; i++) {
    if (r->first_len[i] == 0) { /* an unnamed column (a saved index, say) is named by position */
      char *name = position_name(i);
      if (!name) return oom(r), 0;
      free(r->first[i]);
      r->first[i] = name;
      r->first_len[i] = strlen(name);
    }
  }
  if (!dedup_names(r)) return 0;
  r->target = malloc(sizeof *r->target * (size_t)r->ncols_file);
  if (!r->target) return oom(r), 0;
  for (int i = 0; i < r->ncols_file; i++) r->target[i] = -1;
  int n = o->columns ? o->n_columns : r->ncols_file;
  r->cols = calloc((size_t)(n ? n : 1), sizeof *r->cols);
  r->names = calloc((size_t)(n ? n : 1), sizeof *r->names);
  if (!r->cols || !r->names) return oom(r), 0;
  for (int i = 0; i < n; i++) {
    int src = i;
    if (o->columns) {
      src = find_column(r, &o->columns[i], "columns");
      if (src < 0) return 0;
      if (r->target[src] >= 0) {
        fail(r, LURN_EINVAL, "%s: columns names column '%s' twice", r->path, r->first[src]);
        return 0;
      }
    }
    r->ncols = i + 1; /* from here on free_reader frees it */
    r->target[src] = i;
    r->cols[i].source = src;
    if (!(r->names[i] = strdup(r->first[src]))) return oom(r), 0;
  }
  for (int i = 0; i < o->n_dtypes; i++) {
    int src = find_column(r, &o->dtypes[i].column, "dtype");
    if (src < 0) return 0;
    if (r->target[src] < 0) continue; /* a column not kept */
    column *c = &r->cols[r->target[src]];
    c->want = o->dtypes[i].type;
    c->is_text = c->want == LURN_CSV_STRING;
  }
  return 1;
}

static int keep_first_field(reader *r, const char *s, size_t len) {
  if (r->nfirst == r->max_columns) {
    fail(r, LURN_EIO, "%s:%lld: more than %d columns (max_columns)", r->path, (long long)r->record_line,
         r->max_columns);
    return 0;
  }
  if (r->o->header && memchr(s, '\0', len)) {
    char buf[64];
    fail(r, LURN_EIO, "%s:%lld: the name of column %d in the header holds a NUL byte ('%s')", r->path,
         (long long)r->record_line, r->nfirst + 1, shown(s, len, buf, sizeof buf));
    return 0;
  }
  if (r->nfirst == r->first_cap) {
    int cap = r->first_cap ? r->first_cap * 2 : 64;
    char **f = realloc(r->first, sizeof *f * (size_t)cap);
    if (f) r->first = f;
    size_t *l = realloc(r->first_len, sizeof *l * (size_t)cap);
    if (l) r->first_len = l;
    if (!f || !l) return oom(r), 0;
    r->first_cap = cap;
  }
  char *copy = malloc(len + 1);
  if (!copy) return oom(r), 0;
  memcpy(copy, s, len);
  copy[len] = '\0';
  r->first[r->nfirst] = copy;
  r->first_len[r->nfirst++] = len;
  return 1;
}

/* ---- libcsv callbacks ------------------------------------------------------------- */

/* Fails when a field of `len` bytes (whole, or read so far) starting on `line` passes
 * max_field_bytes, or the record it belongs to passes max_line_bytes. */
static int within_limits(reader *r, int64_t len, int64_t line) {
  if (len > r->max_field) {
    fail(r, LURN_EIO,
         "%s:%lld: a field longer than %lld bytes (max_field_bytes): a line or a quote that never "
         "ends, or not a CSV file?",
         r->path, (long long)line, (long long)r->max_field);
    return 0;
  }
  if (r->record_bytes + len > r->max_line) {
    fail(r, LURN_EIO, "%s:%lld: a line longer than %lld bytes (max_line_bytes): not a CSV file?", r->path,
         (long long)(r->field ? r->record_line : line), (long long)r->max_line);
    return 0;
  }
  return 1;
}

/* Returns 1 when the field was stored as a number. */
static int data_field(reader *r, int pos, const char *s, size_t len, int64_t line) {
  if (r->row == r->cap && !grow_rows(r)) return oom(r), 0;
  int c = r->target[pos];
  return c >= 0 ? store_field(r, &r->cols[c], s, len, line) : 0;
}

static void on_field(void *s_, size_t len, void *data) {
  reader *r = data;
  const char *s = s_ ? s_ : "";
  if (r->status || r->done) return;
  if (r->field == 0) r->record_line = r->line;
  int64_t line = r->line;
  if (!within_limits(r, (int64_t)len, line)) return;
  r->record_bytes += (int64_t)len + 1;
  r->prev_cr = 0;
  int pos = r->field++;
  if (r->pass == 1 && r->have_first && pos < r->ncols_file) {
    if (!data_field(r, pos, s, len, line)) r->line += lines_in(s, len);
    return;
  }
  r->line += lines_in(s, len);
  if (r->skip_header) return;
  if (!r->have_first) {
    keep_first_field(r, s, len);
    return;
  }
  if (pos >= r->ncols_file) {
    if (r->pass == 1)
      fail(r, LURN_EIO, "%s:%lld: ragged row: more than the %d fields of the %s on line %lld", r->path,
           (long long)r->record_line, r->ncols_file, r->o->header ? "header" : "first row",
           (long long)r->first_line);
    return;
  }
  /* Pass 2: the text of rows that were read as numbers. */
  int c = r->target[pos];
  if (c < 0 || r->row >= r->nrows) return;
  column *col = &r->cols[c];
  if (!col->is_text || r->row >= col->first_text_row || is_na(r, s, len)) return;
  if ((col->offsets[r->row] = add_text(col, s, len)) < 0) oom(r);
}

/* The first record ended: it names the columns or, without a header, it is also the
 * first row, read once the columns are known. */
static void first_record_done(reader *r) {
  r->have_first = 1;
  r->first_line = r->record_line;
  if (r->o->header) {
    resolve_columns(r);
    return;
  }
  int n = r->nfirst;
  char **fields = r->first;
  size_t *lens = r->first_len;
  char **names = calloc((size_t)n, sizeof *names);
  size_t *name_lens = calloc((size_t)n, sizeof *name_lens);
  if (!names || !name_lens) {
    free(names);
    free(name_lens);
    oom(r);
    return;
  }
  r->first = names;
  r->first_len = name_lens;
  r->first_cap = n;
  for (int i = 0; i < n; i++) {
    if (!(names[i] = position_name(i))) oom(r);
    name_lens[i] = names[i] ? strlen(names[i]) : 0;
  }
  if (!r->status && resolve_columns(r)) {
    for (int i = 0; i < n && !r->status; i++) data_field(r, i, fields[i], lens[i], r->first_line);
    if (!r->status) r->nrows = ++r->row;
  }
  for (int i = 0; i < n; i++) free(fields[i]);
  free(fields);
  free(lens);
}

static void on_record(int c, void *data) {
  reader *r = data;
  if (r->status || r->done) return;
  int blank = r->field == 0;
  if (c == '\n') {
    if (!(blank && r->prev_cr)) r->line++;
    r->prev_cr = 0;
  } else if (c == '\r') {
    r->line++;
    r->prev_cr = 1;
  }
  if (blank) return; /* a blank line, or the LF of a CRLF */
  int fields = r->field;
  r->field = 0;
  r->record_bytes = 0;
  if (r->skip_header) { /* pass 2 */
    r->skip_header = 0;
    return;
  }
  if (!r->have_first) {
    first_record_done(r);
    return;
  }
  if (fields < r->ncols_file) {
    if (r->pass == 1)
      fail(r, LURN_EIO, "%s:%lld: ragged row: %d field%s where the %s on line %lld has %d", r->path,
           (long long)r->record_line, fields, fields == 1 ? "" : "s", r->o->header ? "header" : "first row",
           (long long)r->first_line, r->ncols_file);
    return;
  }
  r->row++;
  if (r->pass == 1)
    r->nrows = r->row;
  else if (r->row >= r->pass2_rows)
    r->done = 1;
}

/* ---- reading the file --------------------------------------------------------------- */

#define CSV_MALFORMED                                                                           \
  "malformed CSV: a quote inside an unquoted field, or text after a closing quote (quote such " \
  "fields whole, doubling the quotes inside)"

/* Feeds libcsv `n` bytes in slices no longer than what the limits leave to the field and
 * the line being read, so that neither can pass its limit by more than a byte before it
 * is caught; returns how many bytes libcsv took (fewer on its own errors). */
static size_t parse_slices(reader *r, struct csv_parser *p, const unsigned char *s, size_t n) {
  size_t done = 0;
  while (done < n && !r->status && !r->done) {
    int64_t open = (int64_t)p->entry_pos; /* the field being read, so far */
    int64_t room = r->max_field - open;
    if (r->max_line - r->record_bytes - open < room) room = r->max_line - r->record_bytes - open;
    size_t slice = room < 0 ? 1 : (uint64_t)room + 1 < n - done ? (size_t)room + 1 : n - done;
    /* libcsv grows its field buffer by blk_size bytes at a time: make that doubling. */
    csv_set_blk_size(p, p->entry_size > 4096 ? p->entry_size : 4096);
    size_t used = csv_parse(p, s + done, slice, on_field, on_record, r);
    done += used;
    if (used < slice || r->status || r->done) break;
    within_limits(r, (int64_t)p->entry_pos, r->line);
  }
  return done;
}

/* Runs libcsv over the whole file once, from the start; *bytes: how many it read, BOM aside. */
static lurn_status parse_pass(reader *r, FILE *f, unsigned char *chunk, int64_t *bytes) {
  struct csv_parser p;
  if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL | CSV_APPEND_NULL) != 0) return oom(r);
  csv_set_delim(&p, r->o->delimiter);
  csv_set_quote(&p, r->o->quote);
  csv_set_blk_size(&p, 4096);
  r->line = 1;
  r->field = 0;
  r->prev_cr = 0;
  r->row = 0;
  r->done = 0;
  r->record_bytes = 0;
  int64_t newlines = 0; /* LFs in the bytes parsed so far, for libcsv's errors */
  int first_chunk = 1;
  *bytes = 0;
  while (!r->status && !r->done) {
    size_t n = fread(chunk, 1, CSV_CHUNK, f);
    if (n == 0) {
      if (ferror(f)) fail(r, LURN_EIO, "%s: cannot read: %s", r->path, strerror(errno));
      break;
    }
    size_t skip = 0;
    if (first_chunk && n >= 3 && memcmp(chunk, "\xEF\xBB\xBF", 3) == 0) skip = 3; /* UTF-8 BOM */
    first_chunk = 0;
    *bytes += (int64_t)(n - skip);
    size_t used = parse_slices(r, &p, chunk + skip, n - skip);
    if (r->status || r->done) break;
    if (used < n - skip) {
      int e = csv_error(&p);
      for (const unsigned char *q = chunk + skip; (q = memchr(q, '\n', (size_t)(chunk + skip + used - q)));
           q++)
        newlines++;
      if (e == CSV_EPARSE)
        fail(r, LURN_EIO, "%s:%lld: " CSV_MALFORMED, r->path, (long long)newlines + 1);
      else if (e == CSV_ENOMEM)
        oom(r);
      else
        fail(r, LURN_EIO, "%s:%lld: %s", r->path, (long long)newlines + 1, csv_strerror(e));
      break;
    }
    for (const unsigned char *q = chunk + skip; (q = memchr(q, '\n', (size_t)(chunk + n - q))); q++)
      newlines++;
  }
  if (!r->status && !r->done && csv_fini(&p, on_field, on_record, r) != 0 && !r->status) {
    if (csv_error(&p) == CSV_EPARSE)
      fail(r, LURN_EIO,
           "%s:%lld: unterminated quoted field: a quote opened in the row starting on this line "
           "is never closed",
           r->path, (long long)(r->field ? r->record_line : r->line));
    else
      oom(r);
  }
  csv_free(&p);
  return r->status;
}

static void free_reader(reader *r) {
  for (int i = 0; i < r->nfirst; i++) free(r->first[i]);
  free(r->first);
  free(r->first_len);
  free(r->target);
  for (int i = 0; i < r->ncols; i++) {
    free(r->cols[i].values);
    free(r->cols[i].offsets);
    free(r->cols[i].text);
    if (r->names) free(r->names[i]);
  }
  free(r->cols);
  free(r->names);
  free(r->na_len);
  if (r->c_locale) freelocale(r->c_locale);
}

/* Moves what was read into a new table. */
static lurn_status make_table(reader *r, lurn_csv_table **out) {
  lurn_csv_table *t = calloc(1, sizeof *t);
  if (!t || !(t->columns = calloc((size_t)(r->ncols ? r->ncols : 1), sizeof *t->columns))) {
    free(t);
    return oom(r);
  }
  t->nrows = r->nrows;
  for (int i = 0; i < r->ncols; i++) {
    column *c = &r->cols[i];
    lurn_csv_column *dst = &t->columns[i];
    t->ncols = i + 1;
    dst->name = r->names[i];
    r->names[i] = NULL;
    dst->missing = c->missing;
    if (c->is_text) {
      dst->type = LURN_CSV_STRING;
      dst->text = c->text;
      dst->offsets = c->offsets;
      c->text = NULL;
      c->offsets = NULL;
      continue;
    }
    dst->type = LURN_CSV_FLOAT;
    int64_t n = r->nrows;
    dst->values = lurn_tensor_empty(1, &n);
    if (!dst->values) {
      lurn_csv_free(t);
      return oom(r);
    }
    if (n) memcpy(lurn_tensor_data(dst->values), c->values, sizeof(float) * (size_t)n);
  }
  *out = t;
  return LURN_OK;
}

static lurn_status read_file(reader *r, FILE *f, lurn_csv_table **out) {
  unsigned char *chunk = malloc(CSV_CHUNK);
  if (!chunk) return oom(r);
  int64_t bytes;
  if (parse_pass(r, f, chunk, &bytes) != LURN_OK) goto done;
  if (!r->have_first) {
    fail(r, LURN_EIO, bytes == 0 ? "%s: empty file" : "%s: no rows: the file holds only blank lines",
         r->path);
    goto done;
  }
  /* Columns that turned to text after their first row need the text of the rows before. */
  r->pass2_rows = 0;
  int who = -1;
  for (int i = 0; i < r->ncols; i++)
    if (r->cols[i].is_text && r->cols[i].first_text_row > r->pass2_rows) {
      r->pass2_rows = r->cols[i].first_text_row;
      who = i;
    }
  if (r->pass2_rows > 0) {
    if (fseek(f, 0, SEEK_SET) != 0) {
      fail(r, LURN_EIO,
           "%s: column '%s' turned out to hold text on row %lld and this file cannot be read twice: "
           "pass dtype = {['%s'] = 'string'}",
           r->path, r->names[who], (long long)r->pass2_rows + 1, r->names[who]);
      goto done;
    }
    r->pass = 2;
    r->skip_header = r->o->header;
    if (parse_pass(r, f, chunk, &bytes) != LURN_OK) goto done;
  }
  make_table(r, out);
done:
  free(chunk);
  return r->status;
}

lurn_status lurn_csv_read(const char *path, const lurn_csv_options *o, lurn_csv_table **out) {
  *out = NULL;
  lurn_csv_options defaults;
  if (!o) {
    lurn_csv_options_init(&defaults);
    o = &defaults;
  }
  if (o->delimiter == o->quote)
    return lurn_fail(LURN_EINVAL, "%s: the delimiter and the quote are both '%c'", path, o->delimiter);
  if (o->delimiter == '\n' || o->delimiter == '\r' || o->quote == '\n' || o->quote == '\r')
    return lurn_fail(LURN_EINVAL, "%s: the delimiter and the quote cannot be line ends", path);
  if ((o->columns && o->n_columns < 0) || o->n_dtypes < 0 || (o->na_values && o->n_na_values < 0))
    return lurn_fail(LURN_EINVAL, "%s: negative option count", path);

  reader r = {.path = path, .o = o, .pass = 1};
  r.max_field = o->max_field_bytes > 0 ? o->max_field_bytes : LURN_CSV_MAX_FIELD_BYTES;
  r.max_line = o->max_line_bytes > 0 ? o->max_line_bytes : LURN_CSV_MAX_LINE_BYTES;
  r.max_columns = o->max_columns > 0 ? o->max_columns : LURN_CSV_MAX_COLUMNS;
  r.na = o->na_values ? o->na_values : default_na;
  r.n_na = o->na_values ? o->n_na_values : (int)(sizeof default_na / sizeof *default_na);
  r.na_len = malloc(sizeof *r.na_len * (size_t)(r.n_na ? r.n_na : 1));
  r.c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  if (!r.na_len || !r.c_locale) {
    free_reader(&r);
    return lurn_fail(LURN_ENOMEM, "%s: out of memory", path);
  }
  for (int i = 0; i < r.n_na; i++) r.na_len[i] = strlen(r.na[i]);

  struct stat st;
  int fd = lurn_open_input(path, &st);
  if (fd < 0) {
    free_reader(&r);
    return LURN_EIO;
  }
  FILE *f = fdopen(fd, "rb");
  if (!f) {
    int e = errno;
    close(fd);
    free_reader(&r);
    return lurn_fail(LURN_EIO, "%s: cannot read: %s", path, strerror(e));
  }
  lurn_status s = read_file(&r, f, out);
  fclose(f);
  free_reader(&r);
  return s;
}

void lurn_csv_free(lurn_csv_table *t) {
  if (!t) return;
  for (int i = 0; i < t->ncols; i++) {
    lurn_csv_column *c = &t->columns[i];
    free(c->name);
    lurn_tensor_free(c->values);
    free(c->text);
    free(c->offsets);
  }
  free(t->columns);
  free(t);
}

const char *lurn_csv_text(const lurn_csv_column *c, int64_t row, size_t *len) {
  if (c->type != LURN_CSV_STRING || c->offsets[row] < 0) {
    if (len) *len = 0;
    return NULL;
  }
  const char *p = c->text + c->offsets[row];
  size_t n;
  memcpy(&n, p, sizeof n);
  if (len) *len = n;
  return p + sizeof n;
}
