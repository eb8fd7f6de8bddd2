/* fuzz_b64.c: libFuzzer harness for base64 (src/http/b64.c, REST-proxy binary values and
 * Kinesis Data): decode(encode(x)) == x for any bytes, and the decoder, being canonical-only,
 * accepts exactly what the encoder writes (padding optional). */
#include <string.h>

#include "fuzz.h"
#include "pp_buf.h"
#include "pp_err.h"
#include "pp_http.h"

/* s[0..n) without its trailing '=' padding. */
static size_t unpadded(const char *s, size_t n)
{
    while (n > 0 && s[n - 1] == '=')
        n--;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pp_buf enc, dec, again;
    pp_buf_init(&enc, 0);
    pp_buf_init(&dec, 0);
    pp_buf_init(&again, 0);

    /* round trip of arbitrary bytes, appended after existing content (as the batch does) */
    FUZZ_CHECK(pp_buf_puts(&dec, "prefix") == 0);
    FUZZ_CHECK(pp_http_b64_encode(data, size, &enc) == 0);
    FUZZ_CHECK(enc.len == (size + 2) / 3 * 4 && enc.data[enc.len] == '\0');
    FUZZ_CHECK(pp_http_b64_decode(enc.data, enc.len, &dec) == 0);
    FUZZ_CHECK(dec.len == 6 + size && !memcmp(dec.data, "prefix", 6));
    FUZZ_CHECK(size == 0 || !memcmp(dec.data + 6, data, size));
    /* unpadded input decodes the same */
    pp_buf_reset(&dec);
    FUZZ_CHECK(pp_http_b64_decode(enc.data, unpadded(enc.data, enc.len), &dec) == 0);
    FUZZ_CHECK(dec.len == size && (size == 0 || !memcmp(dec.data, data, size)));

    /* the input as base64 text: decoded, it encodes back to itself (modulo padding) */
    const char *s = (const char *)data;
    pp_buf_reset(&dec);
    FUZZ_CHECK(pp_buf_puts(&dec, "x") == 0);
    int rc = pp_http_b64_decode(s, size, &dec);
    FUZZ_CHECK(rc == 0 || rc == PP_EPARSE);
    if (rc) {
        FUZZ_CHECK(dec.len == 1); /* nothing appended on failure */
    } else {
        FUZZ_CHECK(dec.len - 1 <= size / 4 * 3 + 2);
        FUZZ_CHECK(pp_http_b64_encode(dec.data + 1, dec.len - 1, &again) == 0);
        size_t a = unpadded(again.data, again.len), b = unpadded(s, size);
        FUZZ_CHECK(a == b && (a == 0 || !memcmp(again.data, s, a)));
    }
    pp_buf_free(&enc);
    pp_buf_free(&dec);
    pp_buf_free(&again);
    return 0;
}
