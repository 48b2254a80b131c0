/* The lurn command: lua5.4's command line with the lurn module preloaded as the
 * global `lurn`.
 *   lurn script.lua args...   run a script (arg and ... as lua5.4 sets them)
 *   lurn -e 'code'            run a string
 *   lurn -i [script.lua]      run, then enter the REPL
 *   lurn                      the REPL on a terminal, else read a script from stdin
 *   lurn doctor [--html FILE] script.lua args...
 *                             run a script with lurn.doctor watching every fit
 *                             (lua/lurn/doctor/cli.lua); a script named "doctor" runs
 *                             as `lurn ./doctor` */
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lurn.h"
#include "lurn_lua.h"
#include "lurn_paths.h"


static void print_usage(FILE *f) {
  fprintf(f,
          "usage: %s [options] [script [args]]\n"
          "Runs Lua 5.4 with the lurn neural-network library loaded as the global 'lurn'.\n"
          "Options:\n"
          "  -e code     execute string 'code'\n"
          "  -i          enter the interactive REPL after running the script\n"
          "  -v, --version  show the version\n"
          "  -h, --help  show this help\n"
          "  --          stop handling options\n"
          "  -           run standard input as a script\n"
          "With no script and standard input on a terminal, starts the REPL.\n"
          "Commands:\n"
          "  doctor [--html FILE] script [args]  run the script with lurn.doctor watching every fit\n",
          cli_progname);
}

/* arg = {[-k..-1] = interpreter and options, [0] = script, [1..] = script args} */
static void create_arg_table(lua_State *L, char **argv, int argc, int script) {
  lua_createtable(L, argc - script, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int run_script(lua_State *L, char **argv, int argc, int script) {
  const char *fname = argv[script];
  if (strcmp(fname, "-") == 0 && strcmp(argv[script - 1], "--") != 0) fname = NULL;
  int status = luaL_loadfile(L, fname);
  if (status != LUA_OK) {
    cli_report(L, status);
    return status;
  }
  int n = argc - script - 1;
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for (int i = script + 1; i < argc; i++) lua_pushstring(L, argv[i]);
  return cli_docall(L, n, LUA_MULTRET) == LUA_OK ? LUA_OK : 1;
}

static int run_string(lua_State *L, const char *code) {
  int status = luaL_loadbuffer(L, code, strlen(code), "=(command line)");
  if (status != LUA_OK) {
    cli_report(L, status);
    return status;
  }
  return cli_docall(L, 0, 0);
}

/* lurn doctor ARGS: lurn.doctor.cli.main(progname, ARGS...) in a fresh state; its result
 * is the exit status. */
static int run_doctor(int argc, char **argv) {
  lua_State *L = luaL_newstate();
  if (!L) {
    fprintf(stderr, "%s: cannot create a Lua state: not enough memory\n", cli_progname);
    return 1;
  }
  luaL_openlibs(L);
  create_arg_table(L, argv, argc, 0);
  int status = 1;
  if (lurn_open(L) != LUA_OK) {
    cli_report(L, 1);
  } else {
    lua_getglobal(L, "require");
    lua_pushstring(L, "lurn.doctor.cli");
    if (cli_docall(L, 1, 1) == LUA_OK) {
      lua_getfield(L, -1, "main");
      lua_remove(L, -2);
      luaL_checkstack(L, argc + 2, "too many arguments to lurn doctor");
      lua_pushstring(L, cli_progname);
      for (int i = 2; i < argc; i++) lua_pushstring(L, argv[i]);
      if (cli_docall(L, argc - 1, 1) == LUA_OK) {
        status = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : 0;
        lua_pop(L, 1);
      }
    }
  }
  fflush(stdout);
  lua_close(L);
  return status;
}

int main(int argc, char **argv) {
  if (argv[0] && argv[0][0]) cli_progname = argv[0];
  if (argc >= 2 && strcmp(argv[1], "doctor") == 0) return run_doctor(argc, argv);
  int interactive = 0, executed = 0, script = 0;
  /* First pass: options that stop early, and where the script is. */
  for (int i = 1; i < argc && !script; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      print_usage(stdout);
      return 0;
    } else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
      printf("lurn %s (%s; kernels: %s)\n", LURN_VERSION, LUA_RELEASE, lurn_cpu_kernels());
      return 0;
    } else if (strcmp(a, "-i") == 0) {
      interactive = 1;
    } else if (strncmp(a, "-e", 2) == 0) { /* "-e code" or, as lua5.4 allows, "-ecode" */
      if (a[2] == '\0' && ++i == argc) {
        fprintf(stderr, "%s: '-e' needs an argument\n", cli_progname);
        print_usage(stderr);
        return 1;
      }
    } else if (strcmp(a, "--") == 0) {
      if (i + 1 < argc) script = i + 1;
      break;
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "%s: unrecognized option '%s'\n", cli_progname, a);
      print_usage(stderr);
      return 1;
    } else {
      script = i;
    }
  }

  lua_State *L = luaL_newstate();
  if (!L) {
    fprintf(stderr, "%s: cannot create a Lua state: not enough memory\n", cli_progname);
    return 1;
  }
  luaL_openlibs(L);
  create_arg_table(L, argv, argc, script ? script : 0);
  if (lurn_open(L) != LUA_OK) {
    cli_report(L, 1);
    lua_close(L);
    return 1;
  }
  int status = LUA_OK;
  int last = script ? script : argc;
  for (int i = 1; i < last && status == LUA_OK; i++) {
    if (strncmp(argv[i], "-e", 2) == 0) {
      status = run_string(L, argv[i][2] ? argv[i] + 2 : argv[++i]);
      executed = 1;
    }
  }
  if (status == LUA_OK && script) status = run_script(L, argv, argc, script);
  if (status == LUA_OK) {
    if (interactive) {
      cli_repl(L);
    } else if (!script && !executed) {
      if (isatty(STDIN_FILENO)) {
        printf("lurn %s (%s) -- the lurn module is loaded as 'lurn'; Ctrl-D quits\n", LURN_VERSION,
               LUA_RELEASE);
        cli_repl(L);
      } else if ((status = luaL_loadfile(L, NULL)) == LUA_OK) {
        status = cli_docall(L, 0, 0);
      } else {
        cli_report(L, status);
      }
    }
  }
  lua_close(L);
  return status == LUA_OK ? 0 : 1;
}
