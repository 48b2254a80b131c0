/* Ctrl-C while fit, evaluate or predict run (lua/lurn/models/sequential.lua): as Keras
 * stops on KeyboardInterrupt, the loop stops at the end of the current batch, so that
 * the model keeps the weights of the last finished batch.
 *   core.watch_interrupt() -> a guard for a to-be-closed variable: the first of nested
 *       guards installs a SIGINT handler that only sets a flag; closing it (on return or
 *       error) puts back the handler found there
 *   core.interrupted(guard) -> true once Ctrl-C came, for the outermost open guard only:
 *       a predict or evaluate run inside fit (a callback, validation) finishes, and fit
 *       stops at the end of its batch
 * The handler also puts back the previous handler as it runs, so that a second Ctrl-C
 * gets the old behaviour: the "interrupted!" error of lurn's REPL and lua5.4, or the end
 * of the process. Where SIGINT is ignored (a background job), it stays ignored. The C
 * core knows nothing of this: a batch always runs to its end. */
#include <signal.h>

#include "l_tensor.h"

#define LURN_INTERRUPT_MT "lurn.InterruptGuard"

static volatile sig_atomic_t caught;
static struct sigaction previous; /* the handler to put back */
static int depth;                 /* guards open */

static void on_sigint(int sig) {
  caught = 1;
  sigaction(sig, &previous, NULL); /* async-signal-safe */
}

static void install(void) {
  caught = 0;
  struct sigaction sa;
  if (sigaction(SIGINT, NULL, &previous) != 0 || previous.sa_handler == SIG_IGN) return;
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, NULL);
}

/* Puts back the previous handler unless Ctrl-C (or someone else) already replaced ours. */
static void uninstall(void) {
  struct sigaction now;
  if (sigaction(SIGINT, NULL, &now) == 0 && now.sa_handler == on_sigint) sigaction(SIGINT, &previous, NULL);
  caught = 0;
}

typedef struct {
  int open;
  int outermost;
} guard_box;

static int l_watch_interrupt(lua_State *L) {
  guard_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->open = 0;
  luaL_setmetatable(L, LURN_INTERRUPT_MT);
  b->outermost = depth++ == 0;
  if (b->outermost) install();
  b->open = 1;
  return 1;
}

/* __close and __gc: closes the guard once (a guard that was never closed, as in an
 * abandoned coroutine, is closed when collected). */
static int l_guard_close(lua_State *L) {
  guard_box *b = luaL_checkudata(L, 1, LURN_INTERRUPT_MT);
  if (!b->open) return 0;
  b->open = 0;
  if (--depth == 0) uninstall();
  return 0;
}

static int l_interrupted(lua_State *L) {
  guard_box *b = luaL_checkudata(L, 1, LURN_INTERRUPT_MT);
  lua_pushboolean(L, b->open && b->outermost && caught);
  return 1;
}

void l_interrupt_register(lua_State *L) {
  luaL_newmetatable(L, LURN_INTERRUPT_MT);
  lua_pushcfunction(L, l_guard_close);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, l_guard_close);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_watch_interrupt);
  lua_setfield(L, -2, "watch_interrupt");
  lua_pushcfunction(L, l_interrupted);
  lua_setfield(L, -2, "interrupted");
}
