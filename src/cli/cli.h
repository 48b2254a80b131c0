/* The lurn command: its argument handling (main.c), its REPL (repl.c), and how both run a
 * chunk (call.c). */
#ifndef LURN_CLI_H
#define LURN_CLI_H

#include <lua.h>

/* The program's name for messages (argv[0]). */
extern const char *cli_progname;
/* Calls the function below `nargs` arguments on the stack with a traceback handler;
 * on error prints the message and returns non-zero. */
int cli_docall(lua_State *L, int nargs, int nresults);
/* Prints the error message at the top of the stack, prefixed by the program name. */
void cli_report(lua_State *L, int status);
/* The interactive loop: readline, history, completion; returns at end of input. */
void cli_repl(lua_State *L);

#endif
