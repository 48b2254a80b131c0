/* The REPL of the lurn command: GNU readline editing, persistent history in
 * ~/.lurn_history, multi-line chunks, expressions printed without `return`, errors
 * shown with a traceback, tab completion of globals and of fields after . and :
 * (the value printing and the completion lists come from lua/lurn/repl.lua), and
 * Ctrl-C at the prompt discarding the line instead of ending the session. */
#include <errno.h>
#include <lauxlib.h>
#include <readline/history.h>
#include <readline/readline.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "cli.h"

#define PROMPT "> "
#define PROMPT_MORE ">> "
#define HISTORY_LINES 1000

static lua_State *repl_state; /* readline's completion callback has no user pointer */

static char history_path[4096];

static void history_open(void) {
  const char *home = getenv("HOME");
  if (!home || !*home) return;
  snprintf(history_path, sizeof history_path, "%s/.lurn_history", home);
  using_history();
  read_history(history_path);
}

static void history_add(const char *line) {
  if (!*line) return;
  add_history(line);
  if (history_path[0] && append_history(1, history_path) != 0) write_history(history_path);
  history_truncate_file(history_path, HISTORY_LINES);
}

/* Calls require("lurn.repl")[name] with the values on top of the stack. */
static int push_repl_function(lua_State *L, const char *name) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "lurn.repl");
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) return 0;
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  return lua_isfunction(L, -1);
}

/* ---- completion ------------------------------------------------------------- */

static char **completions;
static int completion_count, completion_next;

static void free_completions(void) {
  for (int i = completion_next; i < completion_count; i++) free(completions[i]);
  free(completions);
  completions = NULL;
  completion_count = completion_next = 0;
}

static void collect_completions(const char *word) {
  lua_State *L = repl_state;
  int top = lua_gettop(L);
  free_completions();
  if (!push_repl_function(L, "complete")) goto done;
  lua_pushstring(L, word);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) goto done;
  int n = (int)luaL_len(L, -1);
  completions = calloc((size_t)n + 1, sizeof(char *));
  if (!completions) goto done;
  for (int i = 1; i <= n; i++) {
    lua_geti(L, -1, i);
    const char *s = lua_tostring(L, -1);
    if (s) completions[completion_count++] = strdup(s);
    lua_pop(L, 1);
  }
done:
  lua_settop(L, top);
}

static char *completion_generator(const char *word, int state) {
  if (state == 0) collect_completions(word);
  if (completion_next < completion_count) return completions[completion_next++];
  return NULL;
}

/* Lua names only, except inside a string, where readline's file names make sense. */
static char **attempt_completion(const char *text, int start, int end) {
  (void)start;
  (void)end;
  if (rl_completion_quote_character) return NULL;
  rl_attempted_completion_over = 1;
  rl_completion_append_character = '\0';
  return rl_completion_matches(text, completion_generator);
}

/* ---- Ctrl-C at the prompt ------------------------------------------------------------ */
/* As in Python's REPL, Ctrl-C while typing discards the line (or the unfinished chunk)
 * and gives a fresh prompt: a second Ctrl-C pressed to stop a fit must not end the
 * session. readline's own handlers would pass the signal on to the default action, so
 * it catches none (rl_catch_signals = 0); our handler sets a flag, the read it
 * interrupts fails with EINTR, and read_key ends the line for readline to return. */
static volatile sig_atomic_t prompt_interrupted;

static void on_sigint_at_prompt(int sig) {
  (void)sig;
  prompt_interrupted = 1;
}

/* Waits for a key with SIGINT unblocked (readline blocks it while it works), so that a
 * Ctrl-C typed before the next key is seen before that key is read. */
static int read_key(FILE *stream) {
  int fd = fileno(stream);
  sigset_t waiting;
  sigprocmask(SIG_SETMASK, NULL, &waiting);
  sigdelset(&waiting, SIGINT);
  for (;;) {
    if (prompt_interrupted) return '\n';
    fd_set ready;
    FD_ZERO(&ready);
    FD_SET(fd, &ready);
    if (pselect(fd + 1, &ready, NULL, NULL, NULL, &waiting) < 0) {
      if (errno == EINTR) continue;
      return EOF;
    }
    if (prompt_interrupted) return '\n';
    unsigned char c;
    ssize_t n = read(fd, &c, 1);
    if (n == 1) return c;
    if (n == 0 || errno != EINTR) return EOF;
  }
}

/* readline(prompt) with Ctrl-C handled: sets *interrupted (the line is then discarded). */
static char *read_line(const char *prompt, int *interrupted) {
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint_at_prompt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART: the read must fail with EINTR */
  prompt_interrupted = 0;
  sigaction(SIGINT, &sa, &old);
  char *line = readline(prompt);
  sigaction(SIGINT, &old, NULL);
  *interrupted = prompt_interrupted;
  return line;
}

/* ---- evaluation ---------------------------------------------------------------- */

/* An incomplete chunk: the parser stopped at the end of input. */
static int incomplete(lua_State *L, int status) {
  if (status != LUA_ERRSYNTAX) return 0;
  size_t len;
  const char *msg = lua_tolstring(L, -1, &len);
  static const char eof[] = "<eof>";
  size_t el = sizeof eof - 1;
  return len >= el && strcmp(msg + len - el, eof) == 0;
}

/* Compiles the buffer as "return <expr>" or, failing that, as statements. */
static int compile(lua_State *L, const char *code) {
  const char *ret = lua_pushfstring(L, "return %s;", code);
  int status = luaL_loadbuffer(L, ret, strlen(ret), "=stdin");
  lua_remove(L, -2);
  if (status == LUA_OK) return status;
  lua_pop(L, 1);
  return luaL_loadbuffer(L, code, strlen(code), "=stdin");
}

static void print_results(lua_State *L, int base) {
  int n = lua_gettop(L) - base;
  if (n == 0) return;
  if (!push_repl_function(L, "print_results")) {
    lua_settop(L, base);
    return;
  }
  lua_insert(L, base + 1);
  if (cli_docall(L, n, 0) != LUA_OK) lua_settop(L, base);
}

/* The global help(obj) of the REPL, lurn.help (docs/api.md), unless a script set one. */
static void define_help(lua_State *L) {
  int top = lua_gettop(L);
  if (lua_getglobal(L, "help") == LUA_TNIL) {
    lua_getglobal(L, "require");
    lua_pushliteral(L, "lurn.help");
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_getfield(L, -1, "help") == LUA_TFUNCTION)
      lua_setglobal(L, "help");
  }
  lua_settop(L, top);
}

void cli_repl(lua_State *L) {
  repl_state = L;
  define_help(L);
  rl_readline_name = "lurn";
  rl_basic_word_break_characters = " \t\n\"'`@$><=;|&{(,+-*/%^#~[]";
  rl_completer_quote_characters = "\"'";
  rl_attempted_completion_function = attempt_completion;
  rl_catch_signals = 0;
  rl_getc_function = read_key;
  history_open();

  /* Between prompts too (printing a result, reporting an error), Ctrl-C must not end the
   * session: the prompt's handler stays in place while the REPL runs, and each chunk
   * runs under cli_docall's own, which puts this one back. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint_at_prompt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);

  char *line;
  int interrupted;
  while ((line = read_line(PROMPT, &interrupted)) != NULL) {
    if (interrupted) { /* Ctrl-C: the line is dropped */
      free(line);
      continue;
    }
    int base = lua_gettop(L);
    lua_pushstring(L, line);
    free(line);
    int status;
    for (;;) { /* stack: source, then the compiled chunk or the error message */
      status = compile(L, lua_tostring(L, -1));
      if (!incomplete(L, status)) break;
      char *more = read_line(PROMPT_MORE, &interrupted);
      if (!more || interrupted) {
        free(more);
        break;
      }
      lua_pop(L, 1);
      lua_pushfstring(L, "%s\n%s", lua_tostring(L, -1), more);
      lua_remove(L, -2);
      free(more);
    }
    if (interrupted) { /* Ctrl-C in a continuation line: the whole chunk is dropped */
      lua_settop(L, base);
      continue;
    }
    history_add(lua_tostring(L, -2));
    lua_remove(L, -2);
    if (status == LUA_OK) {
      if (cli_docall(L, 0, LUA_MULTRET) == LUA_OK) print_results(L, base);
    } else {
      cli_report(L, status);
    }
    lua_settop(L, base);
  }
  free_completions();
  putchar('\n');
}
