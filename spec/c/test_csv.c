/* CSV files from C: quoting, line ends, a BOM, missing values, type inference and the
 * errors that name the file and the line (ragged rows, unterminated quotes, text in a
 * float column, empty files, NUL bytes in names, limits), pandas' names for duplicates,
 * and memory that grows with the data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "lurn.h"

static char dir[] = "/tmp/lurn_test_csv_XXXXXX";

static const char *write_file(const char *name, const char *text) {
  static char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (!f) return path;
  CHECK(fwrite(text, 1, strlen(text), f) == strlen(text));
  fclose(f);
  return path;
}

static lurn_csv_table *read_ok(const char *path, const lurn_csv_options *o) {
  lurn_csv_table *t = NULL;
  lurn_status s = lurn_csv_read(path, o, &t);
  if (s != LURN_OK) fprintf(stderr, "  unexpected failure: %s\n", lurn_last_error());
  CHECK(s == LURN_OK && t != NULL);
  return t;
}

/* Expects reading to fail with a message naming the file and containing `what`. */
static void check_fails(const char *path, const lurn_csv_options *o, const char *what) {
  lurn_csv_table *t = (lurn_csv_table *)&t; /* must be reset to NULL */
  CHECK(lurn_csv_read(path, o, &t) != LURN_OK);
  CHECK(t == NULL);
  CHECK(strstr(lurn_last_error(), path) != NULL);
  if (!strstr(lurn_last_error(), what))
    fprintf(stderr, "  message: %s\n  lacks: %s\n", lurn_last_error(), what);
  CHECK(strstr(lurn_last_error(), what) != NULL);
}

static float value(const lurn_csv_table *t, int col, int64_t row) {
  return lurn_tensor_data(t->columns[col].values)[row];
}

/* Row `row` of a string column equals `want` (NULL: missing). */
static int text_is(const lurn_csv_table *t, int col, int64_t row, const char *want) {
  size_t len;
  const char *s = lurn_csv_text(&t->columns[col], row, &len);
  if (!want || !s) return !want && !s;
  return len == strlen(want) && memcmp(s, want, len) == 0;
}

static void test_numbers_and_text_columns(void) {
  lurn_csv_table *t = read_ok(write_file("basic.csv", "x,name,y\n1,a,2.5\n-3e2,b c,0.125\n"), NULL);
  if (!t) return;
  CHECK(t->nrows == 2 && t->ncols == 3);
  CHECK(strcmp(t->columns[0].name, "x") == 0 && strcmp(t->columns[2].name, "y") == 0);
  CHECK(t->columns[0].type == LURN_CSV_FLOAT && t->columns[1].type == LURN_CSV_STRING);
  CHECK(t->columns[0].values->ndim == 1 && t->columns[0].values->shape[0] == 2);
  CHECK(value(t, 0, 0) == 1.0f && value(t, 0, 1) == -300.0f);
  CHECK(value(t, 2, 0) == 2.5f && value(t, 2, 1) == 0.125f);
  CHECK(text_is(t, 1, 0, "a") && text_is(t, 1, 1, "b c"));
  lurn_csv_free(t);
}

static void test_numbers_convert_as_strtof(void) {
  const char *nums[] = {"0.1",
                        "-0",
                        "+7",
                        "1e-30",
                        "3.4028234e38",
                        "123456789012345678901234",
                        "0.000001234",
                        "1.5E+3",
                        "9007199254740993",
                        "2.2250738585072014e-308",
                        ".5",
                        "5.",
                        "  42  "};
  char text[512] = "v\n";
  for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
    strcat(text, "\"");
    strcat(text, nums[i]);
    strcat(text, "\"\n");
  }
  lurn_csv_table *t = read_ok(write_file("nums.csv", text), NULL);
  if (!t) return;
  CHECK(t->columns[0].type == LURN_CSV_FLOAT);
  for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
    float want = (float)strtod(nums[i], NULL);
    if (value(t, 0, (int64_t)i) != want)
      fprintf(stderr, "  %s read as %.9g, not %.9g\n", nums[i], value(t, 0, (int64_t)i), want);
    CHECK(value(t, 0, (int64_t)i) == want);
  }
  CHECK(signbit(value(t, 0, 1)));
  lurn_csv_free(t);
  t = read_ok(write_file("inf.csv", "v\ninf\n-Infinity\nnan\n1e39\n"), NULL);
  if (!t) return;
  CHECK(isinf(value(t, 0, 0)) && value(t, 0, 0) > 0 && isinf(value(t, 0, 1)) && value(t, 0, 1) < 0);
  CHECK(isnan(value(t, 0, 2)) && t->columns[0].missing == 0); /* "nan" is a number, not a missing value */
  CHECK(isinf(value(t, 0, 3)));
  lurn_csv_free(t);
}

static void test_quoted_fields_hold_delimiters_quotes_and_newlines(void) {
  const char *text =
      "id,comment,score\n"
      "1,\"a, b\",2\n"
      "2,\"say \"\"hi\"\"\",3\n"
      "3,\"two\nlines\",4\n"
      "4,\"\",5\n";
  lurn_csv_table *t = read_ok(write_file("quoted.csv", text), NULL);
  if (!t) return;
  CHECK(t->nrows == 4);
  CHECK(text_is(t, 1, 0, "a, b") && text_is(t, 1, 1, "say \"hi\"") && text_is(t, 1, 2, "two\nlines"));
  CHECK(text_is(t, 1, 3, NULL) && t->columns[1].missing == 1); /* "" is missing by default */
  CHECK(value(t, 2, 2) == 4.0f && value(t, 2, 3) == 5.0f);
  lurn_csv_free(t);
  /* Quoted numbers are numbers. */
  t = read_ok(write_file("qnum.csv", "a\n\"1.5\"\n\"-2\"\n"), NULL);
  if (t) CHECK(t->columns[0].type == LURN_CSV_FLOAT && value(t, 0, 1) == -2.0f);
  lurn_csv_free(t);
}

static void test_crlf_and_cr_line_ends_read_alike(void) {
  const char *files[] = {"a,b\r\n1,x\r\n2,\"y\r\nz\"\r\n", "a,b\r1,x\r2,\"y\r\nz\"\r"};
  for (int i = 0; i < 2; i++) {
    lurn_csv_table *t = read_ok(write_file("crlf.csv", files[i]), NULL);
    if (!t) continue;
    CHECK(t->nrows == 2 && strcmp(t->columns[1].name, "b") == 0);
    CHECK(text_is(t, 1, 0, "x") && text_is(t, 1, 1, "y\r\nz"));
    CHECK(value(t, 0, 1) == 2.0f);
    lurn_csv_free(t);
  }
  /* Line numbers count a CRLF once. */
  check_fails(write_file("crlf_ragged.csv", "a,b\r\n1,2\r\n\r\n3\r\n"), NULL,
              "crlf_ragged.csv:4: ragged row");
}

static void test_utf8_bom_is_dropped_and_utf8_kept(void) {
  lurn_csv_table *t =
      read_ok(write_file("bom.csv", "\xEF\xBB\xBFnom,caf\xC3\xA9\n\xC3\xA9t\xC3\xA9,1\n"), NULL);
  if (!t) return;
  CHECK(strcmp(t->columns[0].name, "nom") == 0);
  CHECK(strcmp(t->columns[1].name, "caf\xC3\xA9") == 0);
  CHECK(text_is(t, 0, 0, "\xC3\xA9t\xC3\xA9"));
  lurn_csv_free(t);
}

static void test_ragged_rows_name_their_line(void) {
  check_fails(write_file("short.csv", "a,b,c\n1,2,3\n4,5\n"), NULL,
              "short.csv:3: ragged row: 2 fields where the header on line 1 has 3");
  check_fails(write_file("long.csv", "a,b\n1,2\n\n3,4\n5,6,7\n"), NULL,
              "long.csv:5: ragged row: more than the 2 fields of the header on line 1");
  /* A quoted field over two lines pushes the next rows down a line. */
  check_fails(write_file("after.csv", "a,b\n1,\"x\ny\"\n2\n"), NULL, "after.csv:4: ragged row");
  lurn_csv_options o;
  lurn_csv_options_init(&o);
  o.header = 0;
  check_fails(write_file("nohead.csv", "\n1,2\n3\n"), &o,
              "nohead.csv:3: ragged row: 1 field where the first row on line 2 has 2");
}

static void test_empty_files_fail_and_a_header_alone_gives_no_rows(void) {
  check_fails(write_file("empty.csv", ""), NULL, "empty file");
  check_fails(write_file("bom_only.csv", "\xEF\xBB\xBF"), NULL, "empty file");
  check_fails(write_file("blank.csv", "\n\r\n  \n"), NULL, "only blank lines");
  check_fails(write_file("newline.csv", "\n"), NULL, "only blank lines");
  lurn_csv_table *t = read_ok(write_file("header.csv", "a,b\n"), NULL);
  if (!t) return;
  CHECK(t->nrows == 0 && t->ncols == 2 && t->columns[0].values->shape[0] == 0);
  lurn_csv_free(t);
}

static void test_missing_values_read_as_nan_or_null(void) {
  const char *text = "x,s\n1,a\n,b\nNA,NA\nNaN,?\n?,d\n5,\n";
  lurn_csv_table *t = read_ok(write_file("na.csv", text), NULL);
  if (!t) return;
  CHECK(t->columns[0].type == LURN_CSV_FLOAT && t->columns[0].missing == 4);
  CHECK(value(t, 0, 0) == 1.0f && value(t, 0, 5) == 5.0f);
  for (int i = 1; i <= 4; i++) CHECK(isnan(value(t, 0, i)));
  CHECK(t->columns[1].type == LURN_CSV_STRING && t->columns[1].missing == 3);
  CHECK(text_is(t, 1, 0, "a") && text_is(t, 1, 2, NULL) && text_is(t, 1, 3, NULL) && text_is(t, 1, 5, NULL));
  lurn_csv_free(t);

  /* Own na_values replace the defaults: "NA" is then text. */
  const char *na[] = {"-999"};
  lurn_csv_options o;
  lurn_csv_options_init(&o);
  o.na_values = na;
  o.n_na_values = 1;
  t = read_ok(write_file("na2.csv", "x,s\n-999,NA\n2,b\n"), &o);
  if (!t) return;
  CHECK(isnan(value(t, 0, 0)) && value(t, 0, 1) == 2.0f);
  CHECK(text_is(t, 1, 0, "NA"));
  lurn_csv_free(t);
  /* A column with nothing but missing values is a float column. */
  t = read_ok(write_file("allna.csv", "x,y\nNA,1\n,2\n"), NULL);
  if (t) CHECK(t->columns[0].type == LURN_CSV_FLOAT && isnan(value(t, 0, 1)));
  lurn_csv_free(t);
}

static void test_unterminated_quote_and_stray_quotes_fail(void) {
  check_fails(write_file("open.csv", "a,b\n1,2\n3,\"never\nclosed\n"), NULL,
              "open.csv:3: unterminated quoted field");
  check_fails(write_file("open2.csv", "a,b,c\n\"x\ny\",\"z\nw\",\"open\n"), NULL,
              "open2.csv:2: unterminated quoted field");
  check_fails(write_file("stray.csv", "a,b\n1,2\n3,x\"y\n"), NULL, "stray.csv:3: malformed CSV");
  check_fails(write_file("after_quote.csv", "a,b\n1,\"x\"y\n"), NULL, "after_quote.csv:2: malformed CSV");
}

static void test_text_after_numbers_turns_the_column_to_text(void) {
  /* 3000 numeric rows, then text: the first rows' text comes from a second pass. */
  size_t cap = 64 * 1024;
  char *text = malloc(cap);
  strcpy(text, "n,code\n");
  size_t len = strlen(text);
  for (int i = 0; i < 3000; i++)
    len += (size_t)snprintf(text + len, cap - len, "%d,%s\n", i, i == 7 ? "NA" : i % 2 ? "1.50" : "2");
  snprintf(text + len, cap - len, "3000,A12\n");
  lurn_csv_table *t = read_ok(write_file("flip.csv", text), NULL);
  free(text);
  if (!t) return;
  CHECK(t->nrows == 3001);
  CHECK(t->columns[0].type == LURN_CSV_FLOAT && value(t, 0, 2999) == 2999.0f);
  CHECK(t->columns[1].type == LURN_CSV_STRING && t->columns[1].missing == 1);
  CHECK(text_is(t, 1, 0, "2") && text_is(t, 1, 1, "1.50") && text_is(t, 1, 7, NULL) &&
        text_is(t, 1, 3000, "A12"));
  lurn_csv_free(t);
}

static void test_dtype_forces_types_and_float_rejects_text(void) {
  const char *path = write_file("dtype.csv", "zip,v\n01234,1\n99999,x\n");
  lurn_csv_dtype d[] = {{{"zip", 0}, LURN_CSV_STRING}, {{NULL, 2}, LURN_CSV_FLOAT}};
  lurn_csv_options o;
  lurn_csv_options_init(&o);
  o.dtypes = d;
  o.n_dtypes = 1;
  lurn_csv_table *t = read_ok(path, &o);
  if (t) CHECK(t->columns[0].type == LURN_CSV_STRING && text_is(t, 0, 0, "01234"));
  lurn_csv_free(t);
  o.n_dtypes = 2;
  check_fails(path, &o, "dtype.csv:3: column 'v' is float (dtype) but holds the non-numeric value 'x'");
  lurn_csv_dtype unknown[] = {{{"nope", 0}, LURN_CSV_STRING}};
  o.dtypes = unknown;
  o.n_dtypes = 1;
  check_fails(path, &o, "dtype names column 'nope', which the header does not have (columns: 'zip', 'v')");
}

static void test_columns_pick_by_name_or_position_in_order(void) {
  const char *path = write_file("pick.csv", "a,b,c,d\n1,2,3,x\n5,6,7,y\n");
  lurn_csv_ref cols[] = {{"c", 0}, {NULL, 1}};
  lurn_csv_options o;
  lurn_csv_options_init(&o);
  o.columns = cols;
  o.n_columns = 2;
  lurn_csv_table *t = read_ok(path, &o);
  if (t) {
    CHECK(t->ncols == 2 && strcmp(t->columns[0].name, "c") == 0 && strcmp(t->columns[1].name, "a") == 0);
    CHECK(value(t, 0, 1) == 7.0f && value(t, 1, 1) == 5.0f);
  }
  lurn_csv_free(t);
  lurn_csv_ref bad[] = {{"e", 0}};
  o.columns = bad;
  o.n_columns = 1;
  check_fails(path, &o,
              "columns names column 'e', which the header does not have (columns: 'a', 'b', 'c', 'd')");
  lurn_csv_ref far[] = {{NULL, 5}};
  o.columns = far;
  check_fails(path, &o, "columns names column 5, but the file has 4 columns");
  lurn_csv_ref twice[] = {{"a", 0}, {NULL, 1}};
  o.columns = twice;
  o.n_columns = 2;
  check_fails(path, &o, "columns names column 'a' twice");
}

static void test_header_off_names_columns_by_position(void) {
  lurn_csv_options o;
  lurn_csv_options_init(&o);
  o.header = 0;
  lurn_csv_table *t = read_ok(write_file("nohead2.csv", "1,a\n2,b\n"), &o);
  if (!t) return;
  CHECK(t->nrows == 2 && strcmp(t->columns[0].name, "1") == 0 && strcmp(t->columns[1].name, "2") == 0);
  CHECK(value(t, 0, 0) == 1.0f && text_is(t, 1, 0, "a"));
  lurn_csv_free(t);
}

static void test_delimiter_and_quote_options(void) {
  lurn_csv_options o;
  lurn_csv_options_init(&o);
  o.delimiter = ';';
  lurn_csv_table *t = read_ok(write_file("semi.csv", "a;b\n1,5;\"x;y\"\n"), &o);
  if (t) CHECK(text_is(t, 0, 0, "1,5") && text_is(t, 1, 0, "x;y"));
  lurn_csv_free(t);
  o.delimiter = '\t';
  o.quote = 0; /* quotes are plain text */
  t = read_ok(write_file("tab.tsv", "a\tb\n\"1\t2\n"), &o);
  if (t) CHECK(text_is(t, 0, 0, "\"1") && value(t, 1, 0) == 2.0f);
  lurn_csv_free(t);
  o.quote = '\t';
  check_fails(write_file("same.csv", "a\n"), &o, "the delimiter and the quote are both");
}

static int names_are(const lurn_csv_table *t, const char *const *want, int n) {
  if (!t || t->ncols != n) return 0;
  for (int i = 0; i < n; i++)
    if (strcmp(t->columns[i].name, want[i]) != 0) return 0;
  return 1;
}

static void test_header_problems_fail(void) {
  lurn_csv_table *t = read_ok(write_file("unnamed.csv", ",x\n0,1\n"), NULL);
  if (t) CHECK(strcmp(t->columns[0].name, "1") == 0);
  lurn_csv_free(t);
}

/* pandas.read_csv's names (pandas.io.common.dedup_names), every column's data kept. */
static void test_duplicate_names_get_pandas_suffixes(void) {
  lurn_csv_table *t = read_ok(write_file("dup.csv", "a,b,a,a.1,a\n1,2,3,4,5\n"), NULL);
  static const char *const want[] = {"a", "b", "a.1", "a.1.1", "a.2"};
  CHECK(names_are(t, want, 5));
  for (int i = 0; t && i < 5; i++) CHECK(value(t, i, 0) == (float)(i + 1));
  lurn_csv_free(t);
  t = read_ok(write_file("dup2.csv", "a,a.1,a\n1,2,3\n"), NULL);
  static const char *const want2[] = {"a", "a.1", "a.1.1"};
  CHECK(names_are(t, want2, 3));
  lurn_csv_free(t);
  /* An unnamed column is named by its position, which may be taken. */
  t = read_ok(write_file("dup3.csv", "2,,x\n1,2,3\n"), NULL);
  static const char *const want3[] = {"2", "2.1", "x"};
  CHECK(names_are(t, want3, 3));
  lurn_csv_free(t);
  /* The columns option finds the renamed columns. */
  lurn_csv_options o;
  lurn_csv_options_init(&o);
  lurn_csv_ref pick[] = {{"a.1", 0}};
  o.columns = pick;
  o.n_columns = 1;
  t = read_ok(write_file("dup4.csv", "a,b,a\n1,2,3\n"), &o);
  if (t) CHECK(t->ncols == 1 && value(t, 0, 0) == 3.0f);
  lurn_csv_free(t);
}

/* Writes n bytes (which may hold NULs) to dir/name. */
static const char *write_bytes(const char *name, const char *bytes, size_t n) {
  static char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (!f) return path;
  CHECK(fwrite(bytes, 1, n, f) == n);
  fclose(f);
  return path;
}

static void test_nul_bytes_never_cut_names_or_fields(void) {
  /* "a\0x" and "a\0y" used to read as two columns named "a": one replaced the other. */
  static const char header_nul[] = "k,a\0x,a\0y\n1,2,3\n";
  check_fails(write_bytes("nul_header.csv", header_nul, sizeof header_nul - 1), NULL,
              "nul_header.csv:1: the name of column 2 in the header holds a NUL byte");
  /* In a field the bytes are kept, and the column holds text. */
  static const char field_nul[] = "a,b\nx\0y,1\n";
  lurn_csv_table *t = read_ok(write_bytes("nul_field.csv", field_nul, sizeof field_nul - 1), NULL);
  size_t len = 0;
  const char *s = t ? lurn_csv_text(&t->columns[0], 0, &len) : NULL;
  CHECK(s && len == 3 && memcmp(s, "x\0y", 3) == 0);
  lurn_csv_free(t);
  static const char number_nul[] = "a\n1\0002\n";
  t = read_ok(write_bytes("nul_number.csv", number_nul, sizeof number_nul - 1), NULL);
  if (t) CHECK(t->columns[0].type == LURN_CSV_STRING);
  lurn_csv_free(t);
}

static void test_limits_fail_with_file_and_line(void) {
  lurn_csv_options o;
  lurn_csv_options_init(&o);
  CHECK(o.max_field_bytes == LURN_CSV_MAX_FIELD_BYTES && o.max_line_bytes == LURN_CSV_MAX_LINE_BYTES &&
        o.max_columns == LURN_CSV_MAX_COLUMNS);
  o.max_field_bytes = 8;
  lurn_csv_table *t = read_ok(write_file("field_ok.csv", "a,b\n12345678,1\n"), &o);
  lurn_csv_free(t);
  check_fails(write_file("field.csv", "a,b\n1,2\n123456789,1\n"), &o,
              "field.csv:3: a field longer than 8 bytes (max_field_bytes)");
  /* A field still open at the end of the data read so far: a quote that never closes. */
  char big[4096];
  memset(big, 'x', sizeof big - 1);
  big[0] = '"';
  big[sizeof big - 1] = '\0';
  check_fails(write_file("open_quote.csv", big), &o, "open_quote.csv:1: a field longer than 8 bytes");
  lurn_csv_options_init(&o);
  o.max_line_bytes = 10;
  check_fails(write_file("line.csv", "a,b\n1,2\n1234,5678,9\n"), &o,
              "line.csv:3: a line longer than 10 bytes (max_line_bytes)");
  lurn_csv_options_init(&o);
  o.max_columns = 3;
  check_fails(write_file("cols.csv", "a,b,c,d\n1,2,3,4\n"), &o,
              "cols.csv:1: more than 3 columns (max_columns)");
}

/* Half a million columns and one row: columns grow with the rows read, not 1,024 rows each up
 * front (4 GB for a million). Run in a child limited to 1 GB of address space (not under ASan, which
 * reserves far more). */
static void test_wide_files_take_memory_with_their_data(void) {
#if defined(__SANITIZE_ADDRESS__)
  printf("skip test_wide_files_take_memory_with_their_data: AddressSanitizer\n");
#else
  enum { N = 500000 };
  char *text = malloc(4 * (size_t)N + 2);
  if (!text) return;
  size_t at = 0;
  for (int i = 0; i < N; i++) text[at++] = ',';
  text[at - 1] = '\n';
  for (int i = 0; i < N; i++) {
    text[at++] = i % 2 ? 'x' : '1';
    text[at++] = ',';
  }
  text[at - 1] = '\n';
  const char *path = write_bytes("wide.csv", text, at);
  free(text);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    struct rlimit lim = {(rlim_t)1024 << 20, (rlim_t)1024 << 20};
    setrlimit(RLIMIT_AS, &lim);
    lurn_csv_table *t = NULL;
    lurn_status s = lurn_csv_read(path, NULL, &t);
    if (s != LURN_OK) fprintf(stderr, "  %s\n", lurn_last_error());
    int ok = s == LURN_OK && t->ncols == N && t->nrows == 1 && t->columns[1].type == LURN_CSV_STRING;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
#endif
}

static void test_missing_file_and_folder_fail(void) {
  char path[300];
  snprintf(path, sizeof path, "%s/absent.csv", dir);
  check_fails(path, NULL, "cannot open");
  check_fails(dir, NULL, "Is a directory");
}

int main(void) {
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  RUN(test_numbers_and_text_columns);
  RUN(test_numbers_convert_as_strtof);
  RUN(test_quoted_fields_hold_delimiters_quotes_and_newlines);
  RUN(test_crlf_and_cr_line_ends_read_alike);
  RUN(test_utf8_bom_is_dropped_and_utf8_kept);
  RUN(test_ragged_rows_name_their_line);
  RUN(test_empty_files_fail_and_a_header_alone_gives_no_rows);
  RUN(test_missing_values_read_as_nan_or_null);
  RUN(test_unterminated_quote_and_stray_quotes_fail);
  RUN(test_text_after_numbers_turns_the_column_to_text);
  RUN(test_dtype_forces_types_and_float_rejects_text);
  RUN(test_columns_pick_by_name_or_position_in_order);
  RUN(test_header_off_names_columns_by_position);
  RUN(test_delimiter_and_quote_options);
  RUN(test_header_problems_fail);
  RUN(test_duplicate_names_get_pandas_suffixes);
  RUN(test_nul_bytes_never_cut_names_or_fields);
  RUN(test_limits_fail_with_file_and_line);
  RUN(test_wide_files_take_memory_with_their_data);
  RUN(test_missing_file_and_folder_fail);
  char cmd[64];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return check_summary();
}
