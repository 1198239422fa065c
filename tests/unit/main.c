/*
 * main.c - runs the registered unit tests and prints "N passed, N failed".
 * An optional argument keeps only the tests whose name contains it.
 */
#include "harness.h"

#include "core/log.h"

#include <stdlib.h>

#define MAX_TESTS 2048

static struct {
    const char *name;
    void (*fn)(void);
} tests[MAX_TESTS];
static int n_tests, current_failures;

void rg_test_register(const char *name, void (*fn)(void))
{
    if (n_tests == MAX_TESTS) {
        fprintf(stderr, "harness: more than %d tests\n", MAX_TESTS);
        exit(2);
    }
    tests[n_tests].name = name;
    tests[n_tests].fn = fn;
    n_tests++;
}

void rg_test_fail(const char *file, int line, const char *what)
{
    current_failures++;
    fprintf(stderr, "  FAIL %s:%d: %s\n", file, line, what);
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    /* the code under test logs what it refuses; tests check codes, not logs */
    rg_log_set_level(getenv("RAGD_TEST_LOG") ? RG_LOG_DEBUG : RG_LOG_OFF);
    for (int i = 0; i < n_tests; i++) {
        if (argc > 1 && !strstr(tests[i].name, argv[1]))
            continue;
        current_failures = 0;
        tests[i].fn();
        if (current_failures) {
            failed++;
            fprintf(stderr, "FAIL %s\n", tests[i].name);
        } else
            passed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
