/* pp_test.h: a minimal unit-test harness. Each check counts; main ends with PP_TEST_DONE(),
 * which prints "N passed, N failed" and returns non-zero on any failure. */
#ifndef PP_TEST_H
#define PP_TEST_H

#include <stdio.h>
#include <string.h>

static int pp_test_passed, pp_test_failed;

#define PP_CHECK(cond)                                                                         \
    do {                                                                                       \
        if (cond) {                                                                            \
            pp_test_passed++;                                                                  \
        } else {                                                                               \
            pp_test_failed++;                                                                  \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);           \
        }                                                                                      \
    } while (0)

#define PP_CHECK_INT(a, b)                                                                     \
    do {                                                                                       \
        long long pp_a_ = (long long)(a), pp_b_ = (long long)(b);                              \
        if (pp_a_ == pp_b_) {                                                                  \
            pp_test_passed++;                                                                  \
        } else {                                                                               \
            pp_test_failed++;                                                                  \
            fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a,      \
                    pp_a_, pp_b_);                                                             \
        }                                                                                      \
    } while (0)

#define PP_CHECK_STR(a, b)                                                                     \
    do {                                                                                       \
        const char *pp_a_ = (a), *pp_b_ = (b);                                                 \
        if (pp_a_ && pp_b_ && !strcmp(pp_a_, pp_b_)) {                                         \
            pp_test_passed++;                                                                  \
        } else {                                                                               \
            pp_test_failed++;                                                                  \
            fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,  \
                    pp_a_ ? pp_a_ : "(null)", pp_b_ ? pp_b_ : "(null)");                       \
        }                                                                                      \
    } while (0)

#define PP_TEST_DONE()                                                                         \
    do {                                                                                       \
        printf("%d passed, %d failed\n", pp_test_passed, pp_test_failed);                     \
        return pp_test_failed ? 1 : 0;                                                         \
    } while (0)

#endif
