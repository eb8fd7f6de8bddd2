/* fuzz.h: what the libFuzzer harnesses of tests/fuzz share: the entry point's prototype,
 * an always-on check that aborts (so libFuzzer and the regression driver both see a crash),
 * and an independent check of parsed JSON's structure (a known json.c bug). */
#ifndef PP_FUZZ_H
#define PP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "pp_json.h"

/* The harness entry point (libFuzzer's, also called by tests/fuzz/driver.c). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant the code under test must keep: abort with a message, independent of NDEBUG
 * (the regression build is RelWithDebInfo; assert() could be compiled out). */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Known bug, not fixed yet (src/core/json.c belongs to the lead; see docs/FUZZING.md,
 * "Findings"): pp_json_parse accepts a ':' after a closed array or object, e.g. [[]:1],
 * [4,[]:5]: jsmn hangs what follows under the closed container, outside its brackets, and
 * check_structure() does not check that a child lies inside its parent. Such a body is
 * acknowledged and stored as invalid JSON. (The same ':' after a scalar, ["a":1], is refused
 * since main's c5ff425; its inputs are regress/{json,clean,fastapi}/colon-after-value*.)
 * fuzz_json_well_nested() is the independent check the harnesses assert on every document
 * they accept; with PP_FUZZ_SKIP_KNOWN=1 in the environment (scripts/fuzz.sh --skip-known,
 * for long campaigns) it is not asserted, so fuzzing goes on past it. Remove that switch once
 * json.c refuses these documents (the known-* regression inputs then pass). */
static inline int fuzz_skip_known(void)
{
    const char *v = getenv("PP_FUZZ_SKIP_KNOWN");
    return v && v[0] == '1';
}

/* Is the subtree at token t well formed (objects: string keys of size 1 each with one value;
 * arrays: values; any other value: no children; every token inside its parent's bytes
 * [lo, hi))? *next gets the token after it. */
static inline int fuzz_json_tok_ok(const struct pp_json *doc, int t, int key, int lo, int hi,
                                   int *next)
{
    if (t >= doc->ntok)
        return 0;
    const struct pp_json_tok *tok = &doc->tok[t];
    int i = t + 1;
    if (tok->start < lo || tok->end > hi)
        return 0;
    if (key) {
        if (tok->type != PP_JSON_STRING || tok->size != 1)
            return 0;
        return fuzz_json_tok_ok(doc, i, 0, lo, hi, next);
    }
    if (tok->type == PP_JSON_OBJECT || tok->type == PP_JSON_ARRAY) {
        for (int k = 0; k < tok->size; k++)
            if (!fuzz_json_tok_ok(doc, i, tok->type == PP_JSON_OBJECT, tok->start + 1, tok->end - 1,
                                  &i))
                return 0;
    } else if (tok->size != 0) {
        return 0;
    }
    *next = i;
    return 1;
}

static inline int fuzz_json_well_nested(const struct pp_json *doc)
{
    int next = 0;
    return doc->ntok > 0 && fuzz_json_tok_ok(doc, 0, 0, 0, (int)doc->len, &next) &&
           next == doc->ntok;
}

/* Assert the known bug above is absent from a parsed document (unless told to skip it). */
#define FUZZ_CHECK_NESTING(doc)                                                                    \
    do {                                                                                           \
        if (!fuzz_skip_known())                                                                    \
            FUZZ_CHECK(fuzz_json_well_nested(doc) /* known json.c bug: see fuzz.h */);             \
    } while (0)

#endif
