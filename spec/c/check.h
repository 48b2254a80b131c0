/* A minimal C test harness: CHECK records a failure and goes on; RUN runs a test
 * function; main() ends with check_summary(). Each test_*.c is its own program. */
#ifndef LURN_CHECK_H
#define LURN_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_failures, check_count;

#define CHECK(cond)                                                          \
  do {                                                                       \
    check_count++;                                                           \
    if (!(cond)) {                                                           \
      check_failures++;                                                      \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                        \
  } while (0)

#define CHECK_NEAR(a, b, tol) CHECK(fabs((double)(a) - (double)(b)) <= (tol))

#define RUN(test)                  \
  do {                             \
    int before = check_failures;   \
    test();                        \
    printf("%s %s\n", check_failures == before ? "ok  " : "FAIL", #test); \
  } while (0)

static inline int check_summary(void) {
  printf("%d checks, %d failed\n", check_count, check_failures);
  return check_failures ? 1 : 0;
}

#endif
