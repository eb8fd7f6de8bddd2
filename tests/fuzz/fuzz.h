/* fuzz.h: what the libFuzzer harnesses of tests/fuzz share: the entry point's prototype,
 * an always-on check that aborts (so libFuzzer and the regression driver both see a crash),
 * and the temporary nesting-depth guard for the JSON parser. */
#ifndef PP_FUZZ_H
#define PP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The harness entry point (libFuzzer's, also called by tests/fuzz/driver.c). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant the code under test must keep: abort with a message, independent of NDEBUG
 * (the regression build is RelWithDebInfo; assert() could be compiled out). */
#define FUZZ_CHECK(cond)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);      \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

/* Deepest nesting of [ and { outside strings in s[0..n).
 *
 * TEMPORARY: src/core/json.c has no nesting-depth cap yet: "[" x 100000 overflows the stack in
 * check_structure() (recursive), and deep nesting makes jsmn's closing-bracket search
 * quadratic. The lead is fixing that in src/core/json.c (issue 11, the JSON depth cap). Until
 * the fix lands, the harnesses skip inputs nested deeper than FUZZ_MAX_DEPTH so that fuzzing
 * keeps finding other bugs instead of that one. Remove this guard (and its callers) once
 * pp_json_parse refuses deep documents itself. */
#define FUZZ_MAX_DEPTH 1000
static inline int fuzz_json_depth(const char *s, size_t n)
{
    int depth = 0, max = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                max = depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return max;
}

#endif
