/* pp_gen.h: source-table generator (realistic rows like ../shared/data) and the posting
 * emulator (HTTP client of the three API shapes). */
#ifndef PP_GEN_H
#define PP_GEN_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "pp_buf.h"

struct pp_gen;

/* Deterministic generator for seed. @returns owned: pp_gen_destroy(). */
struct pp_gen *pp_gen_new(uint64_t seed);
void pp_gen_destroy(struct pp_gen *gen);
/* Append the pin, geo and user records (one JSON object each, no newline) of row id.
 * The records depend only on (seed, id): asking for the same id again gives the same bytes
 * (a resend). Field order, value shapes, placeholders and their rates follow the real
 * source tables (PRODUCT.md "Data model"). @returns 0, PP_ENOMEM or PP_ETOOBIG. @thread any
 * (gen is read-only after pp_gen_new). */
int pp_gen_row(struct pp_gen *gen, int64_t id, struct pp_buf *pin, struct pp_buf *geo,
               struct pp_buf *user);

/* Write dir/pin.jsonl, dir/geo.jsonl, dir/user.jsonl: rows ids 0..rows-1, one record per
 * line, aligned by line. Byte-identical for the same (rows, seed).
 * @returns 0, PP_EIO (errstr says which file) or PP_ENOMEM. */
int pp_gen_write(const char *dir, int64_t rows, uint64_t seed, char *errstr, size_t errstr_size);

/* ---- the posting emulator (emulate.c) ---- */

enum pp_emu_api { PP_EMU_FASTAPI, PP_EMU_RESTPROXY, PP_EMU_KINESIS };

struct pp_emu_conf {
    const char *url;         /* base URL, e.g. http://127.0.0.1:8080 */
    int api;                 /* enum pp_emu_api */
    const char *prefix;      /* topic/stream id for rest-proxy and kinesis ("0a1b2c3d4e5f") */
    const char *source_dir;  /* rows from *pin*.jsonl, *geo*.jsonl, *user*.jsonl; or NULL */
    const char *source_url;  /* rows from the seeds' MySQL/MariaDB tables (pp_mysql.h); or NULL */
    int source_mode;         /* with source_url: enum pp_mysql_mode (RANDOM as the seeds) */
    const char *replay_file; /* events file replayed in order; or NULL */
    int64_t rows;            /* generated rows to pick from when no source (ids 0..rows-1) */
    int64_t events;          /* events to send (0 = all of the replay file / until stopped) */
    double rate;             /* events per second, 0 = as fast as possible */
    int concurrency;         /* parallel keep-alive connections */
    uint64_t seed;
    int max_attempts;                  /* per request, including the first (default 8) */
    int progress;                      /* 0 none, 1 plain line every 5 s, 2 TTY progress bar */
    const volatile sig_atomic_t *stop; /* set asynchronously to stop early; may be NULL */
    const char *api_key; /* API key (serve --api-keys), sent as each API's clients send it:
                            FastAPI Bearer, REST proxy Basic, Kinesis x-api-key; NULL = none */
};

struct pp_emu_stats {
    int64_t events;   /* events whose three requests all finished */
    int64_t sent;     /* HTTP attempts made */
    int64_t acked;    /* 2xx */
    int64_t rejected; /* final 4xx (other than 408/429) */
    int64_t retried;  /* attempts that failed retryably and were tried again */
    int64_t failed;   /* requests given up after max_attempts */
    double elapsed_s;
    double p50_ms, p99_ms; /* per-attempt latency */
};

/* Run the emulator to completion (or until *conf->stop). Progress and the first rejected
 * responses go to stderr (this is the emulator's user interface). A MySQL source in
 * PP_MYSQL_STREAM mode ends the run at the end of its tables.
 * @returns 0 (see st for failures), PP_EINVAL/PP_EIO/PP_EPARSE/PP_ENOMEM on setup errors
 * and PP_EIO when a MySQL source fails mid-run (after the events in flight finished), with
 * errstr set. */
int pp_emu_run(const struct pp_emu_conf *conf, struct pp_emu_stats *st, char *errstr,
               size_t errstr_size);

/* ---- tables shared by gen.c and gen_words.c (internal to src/gen) ---- */

struct pp_gen_cat {
    const char *name;
    int weight; /* per mille */
    const char *const *nouns;
    int n_nouns;
    const char *const *tags;
    int n_tags;
    const char *const *posters;   /* well-known accounts of the category ... */
    const char *const *followers; /* ... and their follower counts */
    int n_posters;
};
extern const struct pp_gen_cat pp_gen_cats[];
extern const int pp_gen_ncats;
extern const char *const pp_gen_adjs[];
extern const int pp_gen_nadjs;
extern const char *const pp_gen_intl[];
extern const int pp_gen_nintl;
extern const char *const pp_gen_countries[];
extern const int pp_gen_ncountries;
extern const char *const pp_gen_first[];
extern const int pp_gen_nfirst;
extern const char *const pp_gen_last[];
extern const int pp_gen_nlast;
extern const char *const pp_gen_poster_words[];
extern const int pp_gen_nposter_words;
extern const char *const pp_gen_poster_intl[];
extern const int pp_gen_nposter_intl;
extern const int pp_gen_age_weights[41];

#endif
