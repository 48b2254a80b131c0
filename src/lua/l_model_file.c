/* Model files (src/io/model_file.c) for lurn.models.saving: the container of named
 * sections, and the tensor lists some sections hold. What the sections mean is Lua's. */
#include <stdlib.h>
#include <string.h>

#include "l_tensor.h"

/* What C hands over (a read file, a decoded list, encoded bytes) sits in a box with a
 * __gc until it is in Lua values: a memory error while they are made frees it. */
#define OWNED_MT "lurn.model_file.owned"
typedef enum { OWNED_FILE, OWNED_LIST, OWNED_BYTES } owned_kind;
typedef struct {
  owned_kind kind;
  void *p;
} owned;

static int owned_gc(lua_State *L) {
  owned *o = luaL_checkudata(L, 1, OWNED_MT);
  if (o->kind == OWNED_FILE) lurn_model_file_free(o->p);
  if (o->kind == OWNED_LIST) lurn_tensor_list_free(o->p);
  if (o->kind == OWNED_BYTES) free(o->p);
  o->p = NULL;
  return 0;
}

static owned *push_owned(lua_State *L, owned_kind kind) {
  owned *o = lua_newuserdatauv(L, sizeof *o, 0);
  o->kind = kind;
  o->p = NULL;
  luaL_setmetatable(L, OWNED_MT);
  return o;
}

/* core.model_file_write(path, {{name, bytes}, ...}): atomic. */
static int l_model_file_write(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_Integer n = l_checklen(L, 2, LURN_MODEL_MAX_SECTIONS, "the section list");
  lurn_model_section *s = lua_newuserdatauv(L, sizeof *s * (size_t)(n ? n : 1), 0);
  for (lua_Integer i = 0; i < n; i++) {
    lua_rawgeti(L, 2, i + 1);
    if (!lua_istable(L, -1)) luaL_error(L, "model_file_write: section %I is not a {name, bytes} pair", i + 1);
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "model_file_write: section %I is not a {name, bytes} pair of strings", i + 1);
    s[i].name = lua_tostring(L, -2);
    s[i].data = lua_tolstring(L, -1, &s[i].len);
    lua_pop(L, 3); /* the strings stay alive: the section list in argument 2 holds them */
  }
  l_check(L, lurn_model_file_write(path, s, (int)n));
  return 0;
}

/* core.model_file_read(path) -> {name = bytes, ...}, {names in file order} */
static int l_model_file_read(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  owned *o = push_owned(L, OWNED_FILE);
  lurn_model_file *f;
  l_check(L, lurn_model_file_read(path, &f));
  o->p = f;
  int n = lurn_model_file_count(f);
  lua_createtable(L, 0, n);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    const lurn_model_section *s = lurn_model_file_at(f, i);
    lua_pushlstring(L, s->data, s->len);
    lua_setfield(L, -3, s->name);
    lua_pushstring(L, s->name);
    lua_rawseti(L, -2, i + 1);
  }
  lurn_model_file_free(f);
  o->p = NULL;
  return 2;
}

/* core.encode_tensors({names}, {tensors}) -> bytes */
static int l_encode_tensors(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_Integer n = l_checklen(L, 1, LURN_MAX_TENSOR_LIST, "the name list");
  if (luaL_len(L, 2) != n) luaL_error(L, "encode_tensors: %I names but %I tensors", n, luaL_len(L, 2));
  const char **names = lua_newuserdatauv(L, sizeof *names * (size_t)(n ? n : 1), 0);
  lurn_tensor **ts = lua_newuserdatauv(L, sizeof *ts * (size_t)(n ? n : 1), 0);
  for (lua_Integer i = 0; i < n; i++) {
    lua_rawgeti(L, 1, i + 1);
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "encode_tensors: name %I is not a string", i + 1);
    names[i] = lua_tostring(L, -1);
    lua_rawgeti(L, 2, i + 1);
    ts[i] = l_checktensor(L, -1);
    lua_pop(L, 2);
  }
  owned *o = push_owned(L, OWNED_BYTES);
  unsigned char *bytes;
  size_t len;
  l_check(L, lurn_tensor_list_encode(names, ts, (int)n, &bytes, &len));
  o->p = bytes;
  lua_pushlstring(L, (const char *)bytes, len);
  free(bytes);
  o->p = NULL;
  return 1;
}

/* core.decode_tensors(path, section, bytes) -> {names}, {tensors}: path and section name
 * the data in messages. */
static int l_decode_tensors(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  const char *section = luaL_checkstring(L, 2);
  size_t len;
  const char *data = luaL_checklstring(L, 3, &len);
  owned *o = push_owned(L, OWNED_LIST);
  lurn_tensor_list *l;
  l_check(L, lurn_tensor_list_decode(path, section, data, len, &l));
  o->p = l;
  lua_createtable(L, l->n, 0);
  lua_createtable(L, l->n, 0);
  for (int i = 0; i < l->n; i++) {
    lua_pushstring(L, l->names[i]);
    lua_rawseti(L, -3, i + 1);
    l_pushtensor(L, l->tensors[i]); /* the userdata owns it now */
    l->tensors[i] = NULL;
    lua_rawseti(L, -2, i + 1);
  }
  lurn_tensor_list_free(l);
  o->p = NULL;
  return 2;
}

/* core.make_directory(path) */
static int l_make_directory(lua_State *L) {
  l_check(L, lurn_make_directory(luaL_checkstring(L, 1)));
  return 0;
}

/* core.with_param_budget(values, fn, ...) -> fn(...)'s results: fn runs with builds limited
 * to `values` parameter values (lurn_set_param_budget), the previous limit back afterwards,
 * whether fn returns or raises. */
static int l_with_param_budget(lua_State *L) {
  lua_Integer values = luaL_checkinteger(L, 1);
  luaL_argcheck(L, values >= 0, 1, "a budget is a number of values >= 0");
  luaL_checktype(L, 2, LUA_TFUNCTION);
  int64_t previous = lurn_param_budget();
  lurn_set_param_budget(values);
  int status = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
  lurn_set_param_budget(previous);
  if (status != LUA_OK) return lua_error(L);
  return lua_gettop(L) - 1;
}

/* core.param_budget() -> the current limit, -1 when there is none */
static int l_param_budget(lua_State *L) {
  lua_pushinteger(L, lurn_param_budget());
  return 1;
}

static const luaL_Reg model_file_functions[] = {
    {"with_param_budget", l_with_param_budget},
    {"param_budget", l_param_budget},
    {"make_directory", l_make_directory},
    {"model_file_write", l_model_file_write},
    {"model_file_read", l_model_file_read},
    {"encode_tensors", l_encode_tensors},
    {"decode_tensors", l_decode_tensors},
    {NULL, NULL},
};

void l_model_file_register(lua_State *L) {
  if (luaL_newmetatable(L, OWNED_MT)) {
    lua_pushcfunction(L, owned_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  luaL_setfuncs(L, model_file_functions, 0);
}
