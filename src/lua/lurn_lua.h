/*
 * lurn_lua.h — lurn for a Lua host: the C module and the one call that loads lurn into a
 * Lua state. The C core's own header (lurn.h) knows nothing of Lua; this one needs lua.h.
 *
 *     lua_State *L = luaL_newstate(); luaL_openlibs(L); lurn_open(L);
 *
 * after which the global `lurn` is the module scripts use. Link with liblurn_lua.
 */
#ifndef LURN_LUA_H
#define LURN_LUA_H

#include <lua.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The C module "lurn.core" (what require "lurn.core" opens). */
int luaopen_lurn_core(lua_State *L);

/* Makes require "lurn" work in L (preloads lurn.core, adds lurn's Lua files to
 * package.path), requires it and sets the global `lurn`. Returns 0, or a Lua error code
 * with the message on the stack. */
int lurn_open(lua_State *L);

#ifdef __cplusplus
}
#endif
#endif
