/* Model files (src/io/model_file.c) for lurn.models.saving: the container of named
 * sections, and the tensor lists some sections hold. What the sections mean is Lua's. */
#include <stdlib.h>
#include <string.h>

#include "l_tensor.h"

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
  lurn_model_file *f;
  l_check(L, lurn_model_file_read(path, &f));
  int n = lurn_model_file_count(f);
  /* no Lua error may leave f behind: the tables are made with room first (memory errors
   * are the only ones lua_pushlstring raises, and then f leaks as any failed read would) */
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
  unsigned char *bytes;
  size_t len;
  l_check(L, lurn_tensor_list_encode(names, ts, (int)n, &bytes, &len));
  luaL_Buffer b;
  char *dst = luaL_buffinitsize(L, &b, len); /* may raise on memory: copy first, then free */
  memcpy(dst, bytes, len);
  free(bytes);
  luaL_pushresultsize(&b, len);
  return 1;
}

/* core.decode_tensors(path, section, bytes) -> {names}, {tensors}: path and section name
 * the data in messages. */
static int l_decode_tensors(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  const char *section = luaL_checkstring(L, 2);
  size_t len;
  const char *data = luaL_checklstring(L, 3, &len);
  lurn_tensor_list *l;
  l_check(L, lurn_tensor_list_decode(path, section, data, len, &l));
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
  return 2;
}

/* core.make_directory(path) */
static int l_make_directory(lua_State *L) {
  l_check(L, lurn_make_directory(luaL_checkstring(L, 1)));
  return 0;
}

static const luaL_Reg model_file_functions[] = {
    {"make_directory", l_make_directory},
    {"model_file_write", l_model_file_write},
    {"model_file_read", l_model_file_read},
    {"encode_tensors", l_encode_tensors},
    {"decode_tensors", l_decode_tensors},
    {NULL, NULL},
};

void l_model_file_register(lua_State *L) { luaL_setfuncs(L, model_file_functions, 0); }
