/* The Lua state that last entered the C core, on this thread. A Lambda layer's callbacks
 * run on it (it may be a coroutine, not the state that made the layer): every binding that
 * runs layers sets it before calling into C. Its own file so that the bindings that set it
 * (l_layer.c, l_model.c) and the one that reads it (l_lambda.c) depend on it alone. */
#include "l_tensor.h"

static _Thread_local lua_State *active_state;

void l_set_active_state(lua_State *L) { active_state = L; }

lua_State *l_active_state(void) { return active_state; }
