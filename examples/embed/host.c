/* A host application embedding lurn: it opens a Lua state, loads lurn into it, runs a
 * snippet that builds a tensor and reads the result back in C; then builds a model in
 * Lua once and predicts from C, one sample at a time, with no Lua call in the path
 * (lurn_model_predict), as a server or a game loop would.
 * Build: part of the CMake build (build/examples/embed_host). */
#include <lauxlib.h>
#include <lualib.h>
#include <math.h>
#include <stdio.h>

#include "lurn.h"
#include "lurn_lua.h"

static const char *snippet =
    "local a = lurn.tensor{{1, 2}, {3, 4}}\n"
    "local b = lurn.ones{2, 2}\n"
    "return lurn.matmul(a, b):sum(), a:shape()\n";

/* The model, built (or loaded: lurn.models.load_model(path)) once, kept in a global so that
 * it stays alive while C uses it; and its prediction of one sample, to compare with C's. */
static const char *model_snippet =
    "lurn.manual_seed(1)\n"
    "model = lurn.Sequential{lurn.layers.Dense(16, {activation = 'relu', input_shape = {4}}),\n"
    "                        lurn.layers.Dense(3, {activation = 'softmax'})}\n"
    "return model:predict(lurn.tensor{{0.5, -1, 2, 0.25}})\n";

static int fail(lua_State *L, const char *what) {
  fprintf(stderr, "embed_host: %s: %s\n", what, lua_tostring(L, -1));
  lua_close(L);
  return 1;
}

int main(void) {
  lua_State *L = luaL_newstate();
  if (!L) return 1;
  luaL_openlibs(L);
  if (lurn_open(L) != LUA_OK) return fail(L, "cannot open lurn");
  if (luaL_dostring(L, snippet) != LUA_OK) return fail(L, "snippet");
  double total = lua_tonumber(L, -2);  /* [[1,2],[3,4]] @ ones = [[3,3],[7,7]] */
  lua_geti(L, -1, 1);
  lua_geti(L, -2, 2);
  printf("sum = %g, shape = (%lld, %lld)\n", total, (long long)lua_tointeger(L, -2), (long long)lua_tointeger(L, -1));
  lua_settop(L, 0);
  if (total != 20.0) return 1;

  if (luaL_dostring(L, model_snippet) != LUA_OK) return fail(L, "model");
  float from_lua[3];
  for (int j = 0; j < 3; j++) { /* the (1, 3) tensor Lua's predict returned */
    lua_getfield(L, 1, "get");
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 1);
    lua_pushinteger(L, j + 1);
    lua_call(L, 3, 1);
    from_lua[j] = (float)lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
  lua_getglobal(L, "model");
  lurn_model *m = lurn_lua_tomodel(L, -1);
  lua_settop(L, 0);
  if (!m || lurn_model_input_size(m) != 4 || lurn_model_output_size(m) != 3) {
    fprintf(stderr, "embed_host: no model, or not 4 inputs and 3 outputs\n");
    lua_close(L);
    return 1;
  }
  /* from here on, no Lua: one sample in, three probabilities out, as often as the host likes */
  const float x[4] = {0.5f, -1.0f, 2.0f, 0.25f};
  float p[3];
  for (int rep = 0; rep < 1000; rep++) {
    if (lurn_model_predict(m, x, 1, p, 3) != LURN_OK) {
      fprintf(stderr, "embed_host: predict: %s\n", lurn_last_error());
      lua_close(L);
      return 1;
    }
  }
  printf("predict = %.6f %.6f %.6f (Lua's: %.6f %.6f %.6f)\n", p[0], p[1], p[2], from_lua[0], from_lua[1],
         from_lua[2]);
  int same = 1;
  for (int j = 0; j < 3; j++) same = same && fabsf(p[j] - from_lua[j]) <= 1e-6f;
  /* bad input is an error with a message, never a crash or a quiet NaN */
  const float bad[4] = {0.5f, NAN, 2.0f, 0.25f};
  int refused = lurn_model_predict(m, bad, 1, p, 3) != LURN_OK && lurn_model_predict(m, x, 1, p, 2) != LURN_OK;
  if (refused) printf("refused: %s\n", lurn_last_error());
  lua_close(L);
  return same && refused ? 0 : 1;
}
