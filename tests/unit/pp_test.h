/* pp_test.h: a minimal unit-test harness. Each check counts; main ends with PP_TEST_DONE(),
 * which prints "N passed, N failed[, N parts skipped]" and returns 1 on any failure, else 77
 * (ctest's SKIP_RETURN_CODE for unit tests) when a part was skipped (PP_TEST_SKIP: a missing
 * tool or the absent sample data), else 0 -- a partial run is never reported as a pass. */
#ifndef PP_TEST_H
#define PP_TEST_H

#include <stdio.h>
#include <string.h>

static int pp_test_passed, pp_test_failed, pp_test_skipped;

/* A part of the test could not run (why: printed): the whole test reports "skipped". */
#define PP_TEST_SKIP(...)                                                                      \
    do {                                                                                       \
        pp_test_skipped++;                                                                     \
        printf("SKIP: " __VA_ARGS__);                                                          \
        printf("\n");                                                                          \
    } while (0)

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
        printf("%d passed, %d failed", pp_test_passed, pp_test_failed);                       \
        if (pp_test_skipped)                                                                   \
            printf(", %d parts skipped", pp_test_skipped);                                     \
        printf("\n");                                                                          \
        return pp_test_failed ? 1 : pp_test_skipped ? 77 : 0;                                  \
    } while (0)

#endif
