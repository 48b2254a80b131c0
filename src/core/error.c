/* Error messages: C core functions return a status (or NULL) and leave the reason
 * here, per thread, for the bindings to raise as a Lua error. */
#include <stdarg.h>
#include <stdio.h>

#include "lurn.h"

static _Thread_local char last_error[512];

const char *lurn_last_error(void) { return last_error[0] ? last_error : "unknown error"; }

lurn_status lurn_fail(lurn_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return status;
}
