/*
 * harness.h - the unit test harness: TEST registers a function, CHECK records
 * a failure with file:line and carries on.  tests/unit/main.c runs every
 * registered test (or those whose name contains argv[1]) and ends with the
 * line "N passed, N failed".  Test files mirror src/ and may #include the .c
 * under test to reach its static functions.
 */
#ifndef RG_TESTS_HARNESS_H
#define RG_TESTS_HARNESS_H

#include <stdio.h>
#include <string.h>

void rg_test_register(const char *name, void (*fn)(void));
void rg_test_fail(const char *file, int line, const char *what);

#define TEST(name)                                                                                 \
    static void name(void);                                                                        \
    __attribute__((constructor)) static void name##_register(void)                                 \
    {                                                                                              \
        rg_test_register(#name, name);                                                             \
    }                                                                                              \
    static void name(void)

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            rg_test_fail(__FILE__, __LINE__, #c);                                                  \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_) {                                                                            \
            char m_[256];                                                                          \
            snprintf(m_, sizeof m_, "%s == %s (%lld != %lld)", #a, #b, a_, b_);                    \
            rg_test_fail(__FILE__, __LINE__, m_);                                                  \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                   \
            char m_[512];                                                                          \
            snprintf(m_, sizeof m_, "%s == %s (\"%.200s\" != \"%.200s\")", #a, #b,                 \
                     a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                      \
            rg_test_fail(__FILE__, __LINE__, m_);                                                  \
        }                                                                                          \
    } while (0)

#endif
