/* lurn/io.h — files: NPY, IDX, CSV and model files.
 * Part of the C API that lurn.h gathers. */
#ifndef LURN_API_IO_H
#define LURN_API_IO_H

#include "lurn/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- files ------------------------------------------------------------------- */
/* .npy arrays: float32, float64, int8/uint8/bool, int32 and int64 (C order) load as float32.
 * Saving is atomic for regular files and writes through to devices and FIFOs (docs/api.md). */
lurn_status lurn_npy_load(const char *path, lurn_tensor **out);
lurn_status lurn_npy_save(const char *path, const lurn_tensor *t);  /* atomic */

/* ---- IDX files (MNIST format) -------------------------------------------------- */
/* Plain or gzip'd (read through zlib). uint8, int8, int16, int32, float32 and float64
 * values load as float32: bytes as 0..255. Truncated, damaged or over-long files fail. */
lurn_status lurn_idx_load(const char *path, lurn_tensor **out);

/* ---- CSV files (parsed by libcsv) ------------------------------------------------ */
/* A column is FLOAT when every field that is not missing parses as a decimal number
 * (or inf/nan), else STRING; INFER lets the data decide, the others force it. Column
 * positions count from 1, like the file's lines. Blank lines are skipped; a UTF-8 BOM
 * is dropped; CRLF, LF and CR line ends all read. */
typedef enum lurn_csv_type { LURN_CSV_INFER, LURN_CSV_FLOAT, LURN_CSV_STRING } lurn_csv_type;
typedef struct lurn_csv_ref {
  const char *name; /* the header's name, or NULL to use position */
  int position;     /* 1-based */
} lurn_csv_ref;
typedef struct lurn_csv_dtype {
  lurn_csv_ref column;
  lurn_csv_type type;
} lurn_csv_dtype;
typedef struct lurn_csv_options {
  int header;                                   /* 1: the first row names the columns; 0: "1", "2", ... */
  unsigned char delimiter, quote;               /* ',' and '"'; quote 0: no quoting */
  const char *const *na_values; int n_na_values; /* NULL: "", "NA", "NaN", "?" read as missing */
  const lurn_csv_ref *columns; int n_columns;   /* kept, in this order; NULL: all, in file order */
  const lurn_csv_dtype *dtypes; int n_dtypes;   /* types forced on some columns */
  /* Limits, checked as the file is read (0: the default); a stream that never ends a
   * field or a line fails with the file and line instead of growing until memory ends. */
  int64_t max_field_bytes;                      /* LURN_CSV_MAX_FIELD_BYTES */
  int64_t max_line_bytes;                       /* LURN_CSV_MAX_LINE_BYTES: a record's fields together */
  int max_columns;                              /* LURN_CSV_MAX_COLUMNS */
} lurn_csv_options;
#define LURN_CSV_MAX_FIELD_BYTES ((int64_t)64 << 20)
#define LURN_CSV_MAX_LINE_BYTES ((int64_t)256 << 20)
#define LURN_CSV_MAX_COLUMNS (1 << 20)
void lurn_csv_options_init(lurn_csv_options *o); /* the defaults above */

typedef struct lurn_csv_column {
  char *name;
  lurn_csv_type type;  /* FLOAT or STRING */
  int64_t missing;     /* how many fields were missing */
  lurn_tensor *values; /* FLOAT: (nrows,) float32, NaN where missing; owned by the table */
  char *text;          /* STRING: the texts, read with lurn_csv_text */
  int64_t *offsets;    /* STRING: where each row's text is in `text`; -1 where missing */
} lurn_csv_column;
typedef struct lurn_csv_table {
  int64_t nrows;
  int ncols;
  lurn_csv_column *columns;
} lurn_csv_table;
/* Reads a whole file. Ragged rows, malformed quoting, unknown columns, non-numbers in
 * FLOAT columns, a NUL byte in a header name and limits passed fail with the file's name
 * and line. Duplicate names get pandas' suffixes: a, a.1, a.2 (a, a.1, a: a, a.1, a.1.1). */
lurn_status lurn_csv_read(const char *path, const lurn_csv_options *o, lurn_csv_table **out);
void lurn_csv_free(lurn_csv_table *t);
/* Row `row` of a STRING column and its length (it may hold NUL bytes); NULL where missing. */
const char *lurn_csv_text(const lurn_csv_column *c, int64_t row, size_t *len);

/* ---- model files (docs/model-format.md) ------------------------------------------ */
/* "LURNMODL", a version, then named sections, each with a CRC-32 (zlib) of its name and
 * bytes. Writing is atomic (as .npy saves); reading checks the magic, the version, every
 * length against the file, every CRC, and that no section appears twice, before a section
 * is handed out. What the sections mean is the Lua side's (lurn.models.saving). */
#define LURN_MODEL_FILE_VERSION 1
#define LURN_MODEL_MAX_SECTIONS 64
#define LURN_MODEL_SECTION_NAME_MAX 32 /* bytes of a-z, 0-9 and _ */
typedef struct lurn_model_section {
  const char *name;
  const void *data;
  size_t len;
} lurn_model_section;
lurn_status lurn_model_file_write(const char *path, const lurn_model_section *sections, int n); /* atomic */
typedef struct lurn_model_file lurn_model_file;
lurn_status lurn_model_file_read(const char *path, lurn_model_file **out);
/* The same checks on bytes in memory (path only names them in messages); the sections
 * point into data, which must outlive the result. */
lurn_status lurn_model_file_parse(const char *path, const void *data, size_t len, lurn_model_file **out);
void lurn_model_file_free(lurn_model_file *f);
int lurn_model_file_count(const lurn_model_file *f);
const lurn_model_section *lurn_model_file_at(const lurn_model_file *f, int i);         /* 0-based; NULL past the end */
const lurn_model_section *lurn_model_file_find(const lurn_model_file *f, const char *name); /* NULL if absent */

/* Tensor lists, the payload of weight and optimizer sections: a count, then per tensor
 * its name (UTF-8, no NUL), its shape (1 to LURN_MAX_DIMS sizes) and its float32 values,
 * all little-endian. Decoding checks every size against the section before allocating. */
#define LURN_TENSOR_NAME_MAX 1024
typedef struct lurn_tensor_list {
  int n;
  char **names;
  lurn_tensor **tensors;
} lurn_tensor_list;
lurn_status lurn_tensor_list_encode(const char *const *names, lurn_tensor *const *tensors, int n,
                                    unsigned char **out, size_t *len); /* *out: malloc'd, the caller frees */
lurn_status lurn_tensor_list_decode(const char *path, const char *section, const void *data, size_t len,
                                    lurn_tensor_list **out);
void lurn_tensor_list_free(lurn_tensor_list *l);
/* Makes the directory path (its parent must exist; mode 0777 less the umask); one already
 * there is fine. For BackupAndRestore's backup_dir. */
lurn_status lurn_make_directory(const char *path);

#ifdef __cplusplus
}
#endif
#endif
