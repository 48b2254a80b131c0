/* libFuzzer target: lurn_csv_read on arbitrary bytes. The first byte picks the reader's
 * options, so that every option meets every file; the rest is the file:
 *   bit 0  no header                 bits 1-2  delimiter , ; tab space
 *   bit 3  no quoting                bit 4     na_values {"-", "none"}
 *   bit 5  columns {2, 1}            bit 6     dtypes {1: string, 2: float}
 *   bit 7  columns {"b", "a"} by name (over bit 5)
 * A read either fails with a message or gives a table that agrees with itself: every
 * column has nrows values, and missing counts exactly the fields read as missing. */
#include <math.h>

#include "fuzz_input.h"

static volatile unsigned char sink; /* keeps the reads of every text */

static void options_from_byte(unsigned char b, lurn_csv_options *o) {
  static const char *const na[] = {"-", "none"};
  static const lurn_csv_ref by_position[] = {{NULL, 2}, {NULL, 1}};
  static const lurn_csv_ref by_name[] = {{"b", 0}, {"a", 0}};
  static const lurn_csv_dtype dtypes[] = {{{NULL, 1}, LURN_CSV_STRING}, {{NULL, 2}, LURN_CSV_FLOAT}};
  static const unsigned char delimiters[] = {',', ';', '\t', ' '};
  lurn_csv_options_init(o);
  o->header = !(b & 1);
  o->delimiter = delimiters[(b >> 1) & 3];
  if (b & 8) o->quote = 0;
  if (b & 16) o->na_values = na, o->n_na_values = 2;
  if (b & 32) o->columns = by_position, o->n_columns = 2;
  if (b & 64) o->dtypes = dtypes, o->n_dtypes = 2;
  if (b & 128) o->columns = by_name, o->n_columns = 2;
}

static void check_table(const lurn_csv_table *t, size_t size) {
  /* Every row takes at least one byte of the file; every column one byte of a row. */
  if (t->nrows < 0 || t->nrows > (int64_t)size || t->ncols < 0 || (size_t)t->ncols > size + 1) abort();
  for (int i = 0; i < t->ncols; i++) {
    const lurn_csv_column *c = &t->columns[i];
    if (!c->name || c->missing < 0 || c->missing > t->nrows) abort();
    sink ^= (unsigned char)strlen(c->name);
    int64_t missing = 0;
    if (c->type == LURN_CSV_FLOAT) {
      if (!c->values || c->values->ndim != 1 || lurn_tensor_numel(c->values) != t->nrows) abort();
      const float *v = lurn_tensor_data(c->values);
      for (int64_t r = 0; r < t->nrows; r++) missing += isnan(v[r]) != 0;
      if (missing < c->missing) abort(); /* NaN also comes from the text "nan" */
    } else if (c->type == LURN_CSV_STRING) {
      for (int64_t r = 0; r < t->nrows; r++) {
        size_t len;
        const char *s = lurn_csv_text(c, r, &len);
        if (!s) {
          missing++;
          continue;
        }
        for (size_t k = 0; k < len; k++) sink ^= (unsigned char)s[k];
        if (s[len] != '\0') abort();
      }
      if (missing != c->missing) abort();
    } else {
      abort();
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  lurn_csv_options o;
  options_from_byte(data[0], &o);
  lurn_csv_table *t = NULL;
  fuzz_clear_error();
  lurn_status st = lurn_csv_read(fuzz_input_path(data + 1, size - 1), &o, &t);
  if (st != LURN_OK) {
    fuzz_check_failure(st);
    if (t) abort();
    return 0;
  }
  if (!t) abort();
  check_table(t, size - 1);
  lurn_csv_free(t);
  return 0;
}
