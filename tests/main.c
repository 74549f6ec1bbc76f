/* SPDX-License-Identifier: MIT */
/*
 * Test runner: runs every test in PV_TEST_LIST (test.h), or only those whose
 * name contains one of the words given on the command line.
 *
 *   build/test_pocketvec              all tests
 *   build/test_pocketvec model fault  tests with "model" or "fault" in the name
 *   build/test_pocketvec --list       print the names and exit
 *
 * Output: "ok   NAME" or "FAIL NAME" per test, then "N passed, N failed".
 */
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#include "test.h"

int tu_failures;

void tu_fail(const char *file, int line, const char *fmt, ...) {
  tu_failures++;
  if (tu_failures > TU_MAX_MESSAGES) return;
  va_list ap;
  va_start(ap, fmt);
  printf("  %s:%d: ", file, line);
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  fflush(stdout);
}

typedef struct tu_test {
  const char *name;
  void (*fn)(void);
} tu_test;

#define TU_ENTRY(name) {#name, test_##name},
static const tu_test tu_tests[] = {PV_TEST_LIST(TU_ENTRY)};
#undef TU_ENTRY

static int tu_selected(const char *name, int argc, char **argv) {
  int words = 0;
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-') continue;
    words++;
    if (strstr(name, argv[i])) return 1;
  }
  return words == 0;
}

int main(int argc, char **argv) {
  size_t ntests = sizeof tu_tests / sizeof tu_tests[0];
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--list") == 0) {
      for (size_t t = 0; t < ntests; t++) printf("%s\n", tu_tests[t].name);
      return 0;
    }
  }
  const char *times = getenv("PV_TEST_TIMES");
  int show_times = times && times[0] && strcmp(times, "0") != 0;
  int passed = 0, failed = 0;
  for (size_t t = 0; t < ntests; t++) {
    if (!tu_selected(tu_tests[t].name, argc, argv)) continue;
    tu_failures = 0;
    clock_t start = clock();
    tu_tests[t].fn();
    double secs = (double)(clock() - start) / CLOCKS_PER_SEC;
    if (tu_failures > TU_MAX_MESSAGES)
      printf("  ... %d more failures not shown\n", tu_failures - TU_MAX_MESSAGES);
    if (tu_failures == 0) {
      passed++;
      printf("ok   %s\n", tu_tests[t].name);
    } else {
      failed++;
      printf("FAIL %s\n", tu_tests[t].name);
    }
    fflush(stdout);
    if (show_times) fprintf(stderr, "  %-40s %7.2fs\n", tu_tests[t].name, secs);
  }
  pv_set_allocator(NULL);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
