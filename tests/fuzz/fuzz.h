/* fuzz.h: what the libFuzzer harnesses of tests/fuzz share: the entry point's prototype,
 * an always-on check that aborts (so libFuzzer and the regression driver both see a crash),
 * and an independent check of parsed JSON's structure. */
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

/* An independent check of a parsed document's structure, asserted on every document the
 * harnesses accept. It found pp_json_parse accepting a ':' after a value (["a":1], [[]:1]:
 * jsmn hangs what follows under the token before it, even a closed container), fixed in
 * json.c by c5ff425 and 2ae3615; regress/{json,clean,fastapi}/colon-after-* keep it fixed. */
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

#endif
