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

/* The C model behind the lurn model at idx (a model object, lurn.Sequential or functional,
 * or its C userdata), or NULL when idx holds neither or the model is closed. For a host
 * that builds or loads a model in Lua once and then predicts from C with no Lua call
 * (lurn_model_predict, lurn/model.h). The pointer is the Lua object's: valid while that
 * object is reachable (keep a reference, in a global or the registry) and not rebuilt. */
struct lurn_model;
struct lurn_model *lurn_lua_tomodel(lua_State *L, int idx);

#ifdef __cplusplus
}
#endif
#endif
