/* core.write_file(path, bytes): writes a Lua string as a file's whole content through
 * src/io/atomic_file.c, so that a writer in Lua (lurn.plot's PNG and SVG files) saves as
 * every C writer does: a temporary file beside the target renamed over it, a failure
 * leaving the old file as it was. Returns path. */
#include "io/atomic_file.h"
#include "l_tensor.h"

static int l_write_file(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  size_t len;
  const char *bytes = luaL_checklstring(L, 2, &len);
  lurn_atomic_file f;
  l_check(L, lurn_atomic_open(&f, path));
  lurn_status s = lurn_atomic_write(&f, bytes, len);
  if (s != LURN_OK) {
    lurn_atomic_abort(&f);
    l_check(L, s);
  }
  l_check(L, lurn_atomic_commit(&f));
  lua_settop(L, 1);
  return 1;
}

void l_file_register(lua_State *L) {
  lua_pushcfunction(L, l_write_file);
  lua_setfield(L, -2, "write_file");
}
