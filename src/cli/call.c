/* Running a chunk for the lurn command and its REPL: a traceback on error, Ctrl-C as
 * lua5.4 handles it, and errors reported with the program's name. Apart from main.c and
 * repl.c so that both use it and neither depends on the other's internals. */
#include <lauxlib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dist/dist.h"

const char *cli_progname = "lurn";

/* A frame of the traceback inside lurn's own Lua files (lua/lurn/..., installed under
 * lua/5.4/lurn/...) or the C function error() itself: noise below a message that
 * at_user_line already put at the user's line. */
static int own_frame(const char *line, size_t len) {
  static const char *const marks[] = {"lua/lurn/", "lua/5.4/lurn/", "[C]: in function 'error'"};
  for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
    size_t k = strlen(marks[m]);
    for (size_t i = 0; i + k <= len; i++)
      if (memcmp(line + i, marks[m], k) == 0) return 1;
  }
  return 0;
}

/* The message and the traceback of the user's own frames; LURN_TRACEBACK=full shows every
 * frame (lurn's developers). */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  const char *full = getenv("LURN_TRACEBACK");
  if (full && strcmp(full, "full") == 0) return 1;
  const char *text = lua_tostring(L, -1), *frames = strstr(text, "\nstack traceback:\n");
  if (!frames) return 1;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, text, (size_t)(frames - text) + strlen("\nstack traceback:"));
  for (const char *line = frames + strlen("\nstack traceback:\n"); *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    if (!own_frame(line, len)) {
      luaL_addchar(&b, '\n');
      luaL_addlstring(&b, line, len);
    }
    line += len + (end ? 1 : 0);
  }
  luaL_pushresult(&b);
  return 1;
}

/* Ctrl-C while a chunk runs, as lua5.4 does: the handler sets a hook that raises
 * "interrupted!" at the next Lua instruction (never inside a C call, so a training step
 * finishes), and puts back the default handler, so that a second Ctrl-C ends a process
 * stuck in C. fit, evaluate and predict install their own handler on top of this one,
 * to stop at the end of a batch with a clearer message (src/lua/l_interrupt.c). */
static lua_State *running_state;

static void stop_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

static void on_sigint(int sig) {
  signal(sig, SIG_DFL);
  lua_sethook(running_state, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

int cli_docall(lua_State *L, int nargs, int nresults) {
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  running_state = L;
  /* the handler in place before (the REPL's, or the default) comes back afterwards */
  void (*before)(int) = signal(SIGINT, on_sigint);
  int status = lua_pcall(L, nargs, nresults, base);
  signal(SIGINT, before == SIG_ERR ? SIG_DFL : before);
  lua_remove(L, base);
  if (status != LUA_OK) cli_report(L, status);
  return status;
}

void cli_report(lua_State *L, int status) {
  if (status == LUA_OK) return;
  const char *msg = lua_tostring(L, -1);
  msg = msg ? msg : "(error object is not a string)";
  /* under mpirun every rank writes to the same terminal: say whose error it is, unless the
   * message already begins so after its "file:line: " (lurn's collectives name the rank) */
  char rank[64];
  snprintf(rank, sizeof rank, "rank %d of %d: ", lurn_dist_rank(), lurn_dist_size());
  const char *after = strstr(msg, ": ");
  int named = strncmp(msg, rank, strlen(rank)) == 0 || (after && strncmp(after + 2, rank, strlen(rank)) == 0);
  if (lurn_dist_size() > 1 && !named)
    fprintf(stderr, "%s: %s%s\n", cli_progname, rank, msg);
  else
    fprintf(stderr, "%s: %s\n", cli_progname, msg);
  fflush(stderr);
  lua_pop(L, 1);
}

