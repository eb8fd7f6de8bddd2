/* pp_util.h: clocks, datetime parsing, diagnostics to stderr, small parsing helpers. */
#ifndef PP_UTIL_H
#define PP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The pipeline's wall clock, milliseconds since the Unix epoch: CLOCK_REALTIME plus the test
 * offset $PINPIPE_TEST_CLOCK_OFFSET_MS (tests only: lets a test start a whole pipeline at
 * 23:59:50 of some day and watch traffic cross midnight; every process given the same value
 * shares one shifted clock). Ingest timestamps, lake days, day closing and the scheduler read
 * it; request signing (S3) and TLS validity use the real clock, pp_real_now_ms. */
int64_t pp_now_ms(void);
#define PP_TEST_CLOCK_ENV "PINPIPE_TEST_CLOCK_OFFSET_MS"
/* CLOCK_REALTIME in milliseconds since the epoch, never shifted. */
int64_t pp_real_now_ms(void);
/* Monotonic clock in microseconds (CLOCK_MONOTONIC), for durations. */
int64_t pp_mono_us(void);

/* Parse a datetime as clients send it (PRODUCT.md): "YYYY-MM-DD HH:MM:SS" or with 'T',
 * optional fractional seconds, optional "Z" or "+HH:MM"/"-HH:MM"/"+HHMM" offset; a bare date
 * "YYYY-MM-DD" is midnight. No offset means UTC.
 * @param us out: microseconds since the epoch, UTC. @returns 0 or PP_EPARSE. */
int pp_time_parse(const char *s, size_t n, int64_t *us);
/* Format epoch seconds as "YYYY-MM-DD HH:MM:SS" (UTC) into out (>= 20 bytes). */
void pp_time_format(int64_t sec, char *out, size_t size);
/* Format epoch milliseconds' UTC date as "YYYY-MM-DD" into out (>= 11 bytes). */
void pp_date_format(int64_t ms, char *out, size_t size);
/* Parse "YYYY-MM-DD" to epoch ms of its UTC midnight. @returns 0 or PP_EPARSE. */
int pp_date_parse(const char *s, int64_t *ms);

/* Parse a whole decimal integer in [min, max]. @returns 0, PP_EPARSE or PP_ERANGE. */
int pp_parse_i64(const char *s, int64_t min, int64_t max, int64_t *v);
/* Parse a size with optional unit suffix k/K, m/M, g/G (powers of 1024) into bytes. */
int pp_parse_size(const char *s, uint64_t *bytes);
/* Parse a duration with unit ms, s, m, h, d (no unit = ms) into milliseconds. */
int pp_parse_duration_ms(const char *s, int64_t *ms);
/* Split "HOST:PORT" (host may be empty, "*", or [v6]). host gets a NUL-terminated copy. */
int pp_parse_hostport(const char *s, char *host, size_t host_size, int *port);

/* Take an exclusive flock(2) on path (created 0644 if missing), waiting up to wait_ms
 * (polling every 20 ms), and write "pid=<pid> host=<host>" into it (for diagnostics only: the
 * kernel drops the lock when the process dies). The lock lasts until close(fd).
 * @returns the fd, PP_EBUSY (still held: the holder's line in why), or PP_EIO (errno's text
 * in why). */
int pp_lock_file(const char *path, int wait_ms, char *why, size_t why_size);

enum pp_level { PP_LVL_ERROR, PP_LVL_WARN, PP_LVL_INFO, PP_LVL_DEBUG };
/* Diagnostics threshold for this process (default INFO): `--quiet` sets WARN, `--verbose`
 * DEBUG (src/cli/main.c). */
void pp_diag_set_level(enum pp_level level);
enum pp_level pp_diag_level(void);
/* Colour the level word (error red, warn yellow, debug dim) with ANSI codes (default off).
 * The CLI turns it on only when stderr is a terminal and NO_COLOR is unset or empty. */
void pp_diag_set_color(int on);
/* One line on stderr: "<ts> <level> <module> <msg>" with msg printf-formatted, usually
 * "what happened key=value ...". Thread-safe (one write(2) per line). */
void pp_diag(enum pp_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define PP_ERROR(mod, ...) pp_diag(PP_LVL_ERROR, mod, __VA_ARGS__)
#define PP_WARN(mod, ...) pp_diag(PP_LVL_WARN, mod, __VA_ARGS__)
#define PP_INFO(mod, ...) pp_diag(PP_LVL_INFO, mod, __VA_ARGS__)
#define PP_DEBUG(mod, ...) pp_diag(PP_LVL_DEBUG, mod, __VA_ARGS__)

#endif
