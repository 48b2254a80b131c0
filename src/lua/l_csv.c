/* lurn.core.read_csv(path[, opts]) -> names, columns, nrows: the columns of a CSV file
 * read by libcsv (src/io/csv.c). names lists the kept columns in order; columns[i]
 * is a float32 tensor (NaN where missing) or a list of strings (false where missing).
 * opts (all optional):
 *   header     boolean, default true
 *   delimiter  one-byte string, default ","
 *   quote      one-byte string, default '"'; false: no quoting
 *   na_values  list of strings read as missing, default {"", "NA", "NaN", "?"}
 *   columns    list of names or 1-based positions: the columns kept, in this order
 *   dtype      table: name or position -> "float" | "string"
 *   max_field_bytes, max_line_bytes, max_columns   positive integers: limits (lurn.h)
 * lurn.data builds the data frame from these.
 * The option tables may be proxies whose __index makes new strings: every string C keeps
 * a pointer to is stored in an anchor table on the stack until the file is read. */
#include <limits.h>
#include <string.h>

#include "l_tensor.h"

#define CSV_TABLE_MT "lurn.CsvTable"

typedef struct table_box {
  lurn_csv_table *t;
} table_box;

static int table_gc(lua_State *L) {
  table_box *b = luaL_checkudata(L, 1, CSV_TABLE_MT);
  lurn_csv_free(b->t);
  b->t = NULL;
  return 0;
}

/* A one-byte string option; false gives 0 (no quoting) where allowed. */
static unsigned char byte_option(lua_State *L, int opts, const char *key, unsigned char def,
                                 int may_be_false) {
  int type = lua_getfield(L, opts, key);
  unsigned char c = def;
  if (type == LUA_TBOOLEAN && !lua_toboolean(L, -1) && may_be_false) {
    c = 0;
  } else if (type == LUA_TSTRING && lua_rawlen(L, -1) == 1) {
    c = (unsigned char)lua_tostring(L, -1)[0];
  } else if (type != LUA_TNIL) {
    luaL_error(L, "read_csv: %s must be a one-character string%s, got %s", key,
               may_be_false ? " or false" : "",
               type == LUA_TSTRING ? lua_pushfstring(L, "'%s'", lua_tostring(L, -1)) : luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  return c;
}

/* The string at the stack top, kept alive in the anchor table while C reads the file. */
static const char *anchored(lua_State *L, int anchor, size_t *len) {
  const char *s = lua_tolstring(L, -1, len);
  lua_pushvalue(L, -1);
  lua_rawseti(L, anchor, (lua_Integer)lua_rawlen(L, anchor) + 1);
  return s;
}

/* A column given by name (string) or 1-based position (integer), at the stack top. */
static lurn_csv_ref column_ref(lua_State *L, int anchor, const char *what) {
  lurn_csv_ref ref = {NULL, 0};
  if (lua_type(L, -1) == LUA_TSTRING) {
    size_t len;
    ref.name = anchored(L, anchor, &len);
    if (strlen(ref.name) != len) luaL_error(L, "read_csv: %s: a column name holds a NUL byte", what);
  } else if (lua_isinteger(L, -1)) {
    lua_Integer p = lua_tointeger(L, -1);
    if (p < 1 || p > INT_MAX) luaL_error(L, "read_csv: %s: column positions start at 1, got %I", what, p);
    ref.position = (int)p;
  } else {
    luaL_error(L, "read_csv: %s: a column is a name or a 1-based position, got %s", what,
               lua_type(L, -1) == LUA_TNUMBER ? "a non-integer number" : luaL_typename(L, -1));
  }
  return ref;
}

/* The length of the list at the stack top, checked before it sizes an array. */
static int list_length(lua_State *L, const char *what) {
  lua_Integer n = luaL_len(L, -1);
  if (n < 0 || n > INT_MAX / 64) luaL_error(L, "read_csv: %s has an implausible length %I", what, n);
  return (int)n;
}

/* The option readers leave their C arrays on the stack (userdata) for the call to own;
 * the strings they point to are kept in the anchor table. */
static void na_option(lua_State *L, int opts, int anchor, lurn_csv_options *o) {
  if (lua_getfield(L, opts, "na_values") == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  if (!lua_istable(L, -1)) luaL_error(L, "read_csv: na_values must be a list of strings");
  int n = list_length(L, "na_values");
  const char **na = lua_newuserdatauv(L, sizeof *na * (size_t)(n ? n : 1), 0);
  lua_insert(L, -2); /* kept on the stack, below the option, while the file is read */
  for (int i = 0; i < n; i++) {
    if (lua_geti(L, -1, i + 1) != LUA_TSTRING)
      luaL_error(L, "read_csv: na_values[%d] must be a string, got %s", i + 1, luaL_typename(L, -1));
    size_t len;
    na[i] = anchored(L, anchor, &len);
    if (strlen(na[i]) != len) luaL_error(L, "read_csv: na_values[%d] holds a NUL byte", i + 1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  o->na_values = na;
  o->n_na_values = n;
}

static void columns_option(lua_State *L, int opts, int anchor, lurn_csv_options *o) {
  if (lua_getfield(L, opts, "columns") == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  if (!lua_istable(L, -1)) luaL_error(L, "read_csv: columns must be a list of names or positions");
  int n = list_length(L, "columns");
  if (n == 0) luaL_error(L, "read_csv: columns is empty: name at least one column");
  lurn_csv_ref *refs = lua_newuserdatauv(L, sizeof *refs * (size_t)n, 0);
  lua_insert(L, -2);
  for (int i = 0; i < n; i++) {
    lua_geti(L, -1, i + 1);
    refs[i] = column_ref(L, anchor, "columns");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  o->columns = refs;
  o->n_columns = n;
}

static void dtype_option(lua_State *L, int opts, int anchor, lurn_csv_options *o) {
  if (lua_getfield(L, opts, "dtype") == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  if (!lua_istable(L, -1)) luaL_error(L, "read_csv: dtype must be a table {column = \"float\" | \"string\"}");
  int n = 0;
  for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) n++;
  lurn_csv_dtype *d = lua_newuserdatauv(L, sizeof *d * (size_t)(n ? n : 1), 0);
  lua_insert(L, -2);
  int i = 0;
  for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) {
    const char *type = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    if (strcmp(type, "float") == 0)
      d[i].type = LURN_CSV_FLOAT;
    else if (strcmp(type, "string") == 0)
      d[i].type = LURN_CSV_STRING;
    else
      luaL_error(L, "read_csv: dtype values are \"float\" or \"string\", got %s",
                 lua_type(L, -1) == LUA_TSTRING ? lua_pushfstring(L, "\"%s\"", type) : luaL_typename(L, -1));
    lua_pushvalue(L, -2); /* the key, where column_ref looks */
    d[i].column = column_ref(L, anchor, "dtype");
    lua_pop(L, 1);
    i++;
  }
  lua_pop(L, 1);
  o->dtypes = d;
  o->n_dtypes = n;
}

/* A positive integer option (a limit); 0 when absent, which means the default. */
static lua_Integer limit_option(lua_State *L, int opts, const char *key, lua_Integer most) {
  lua_Integer v = 0;
  if (lua_getfield(L, opts, key) != LUA_TNIL) {
    int ok;
    v = lua_tointegerx(L, -1, &ok);
    if (!ok || v < 1 || v > most)
      luaL_error(L, "read_csv: %s must be an integer from 1 to %I, got %s", key, most,
                 lua_type(L, -1) == LUA_TNUMBER || lua_type(L, -1) == LUA_TSTRING
                     ? lua_pushfstring(L, "%s", luaL_tolstring(L, -1, NULL))
                     : luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  return v;
}

static void push_strings(lua_State *L, const lurn_csv_column *c, int64_t nrows) {
  lua_createtable(L, (int)nrows, 0);
  for (int64_t i = 0; i < nrows; i++) {
    size_t len;
    const char *s = lurn_csv_text(c, i, &len);
    if (s)
      lua_pushlstring(L, s, len);
    else
      lua_pushboolean(L, 0);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

static int l_read_csv(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lurn_csv_options o;
  lurn_csv_options_init(&o);
  lua_settop(L, 2);
  lua_newtable(L);
  int anchor = lua_gettop(L);
  if (!lua_isnil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    if (lua_getfield(L, 2, "header") != LUA_TNIL) {
      if (!lua_isboolean(L, -1)) luaL_error(L, "read_csv: header must be true or false");
      o.header = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    o.delimiter = byte_option(L, 2, "delimiter", ',', 0);
    o.quote = byte_option(L, 2, "quote", '"', 1);
    na_option(L, 2, anchor, &o);
    columns_option(L, 2, anchor, &o);
    dtype_option(L, 2, anchor, &o);
    lua_Integer v;
    if ((v = limit_option(L, 2, "max_field_bytes", LUA_MAXINTEGER))) o.max_field_bytes = v;
    if ((v = limit_option(L, 2, "max_line_bytes", LUA_MAXINTEGER))) o.max_line_bytes = v;
    if ((v = limit_option(L, 2, "max_columns", INT_MAX))) o.max_columns = (int)v;
  }
  table_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->t = NULL;
  luaL_setmetatable(L, CSV_TABLE_MT);
  int box = lua_gettop(L);
  l_check(L, lurn_csv_read(path, &o, &b->t));
  lurn_csv_table *t = b->t;
  for (int i = 0; i < t->ncols; i++)
    if (t->columns[i].type == LURN_CSV_STRING && t->nrows > INT_MAX)
      luaL_error(L, "read_csv: %s has %I rows, more than a Lua list of strings holds", path,
                 (lua_Integer)t->nrows);

  lua_createtable(L, t->ncols, 0);
  lua_createtable(L, t->ncols, 0);
  for (int i = 0; i < t->ncols; i++) {
    lurn_csv_column *c = &t->columns[i];
    lua_pushstring(L, c->name);
    lua_rawseti(L, -3, i + 1);
    if (c->type == LURN_CSV_FLOAT) {
      l_pushtensor(L, c->values);
      c->values = NULL; /* the userdata owns it now */
    } else {
      push_strings(L, c, t->nrows);
    }
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushinteger(L, (lua_Integer)t->nrows);
  lurn_csv_free(t);
  b->t = NULL;
  lua_remove(L, box);
  return 3;
}

void l_csv_register(lua_State *L) {
  if (luaL_newmetatable(L, CSV_TABLE_MT)) {
    lua_pushcfunction(L, table_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_read_csv);
  lua_setfield(L, -2, "read_csv");
}
