/* pp_mysql.h: the seeds' MySQL/MariaDB source tables (pinterest_data, geolocation_data,
 * user_data) over libmariadb: URL parsing, rows as JSON records, the emulator's row source
 * and `pinpipe gen --mysql`'s table filler. */
#ifndef PP_MYSQL_H
#define PP_MYSQL_H

#include <stddef.h>
#include <stdint.h>

#include "pp_buf.h"

/* Source table of each kind (enum pp_kind order: pin, geo, user) and its id column. */
extern const char *const pp_mysql_tables[3];
extern const char *const pp_mysql_id_cols[3];

/* mysql://[user[:password]@]host[:port]/db[?socket=PATH] (also mariadb://). user, password,
 * db and socket are percent-decoded; a password with '@' or '/' may also appear raw. */
struct pp_mysql_url {
    char *user;     /* NULL: libmariadb's default (the login name) */
    char *password; /* NULL: none in the URL (MYSQL_PWD from the environment is used then) */
    char *host;     /* never NULL; "[::1]" is given as "::1" */
    unsigned port;  /* 0: not given (3306, or the socket for "localhost") */
    char *db;       /* never NULL or empty */
    char *socket;   /* ?socket=PATH, or NULL */
};

/* Parse url into u (all fields owned: pp_mysql_url_free()). Nothing is connected.
 * @returns 0 or PP_EINVAL with errstr naming the problem (the password is never quoted). */
int pp_mysql_url_parse(const char *url, struct pp_mysql_url *u, char *errstr, size_t errstr_size);
/* Release u's strings; u may be NULL; u is left zeroed. */
void pp_mysql_url_free(struct pp_mysql_url *u);
/* u for messages, password masked: "mysql://user@host:port/db". Truncates to size. */
void pp_mysql_url_show(const struct pp_mysql_url *u, char *out, size_t size);

struct st_mysql; /* libmariadb's MYSQL */

/* Connect to u as pp_mysql_src_open() and pp_mysql_fill() do: utf8mb4, 10 s connect timeout,
 * TCP whenever a port is given (libmariadb would take "localhost" as its socket), password
 * from u or else MYSQL_PWD. @returns 0 with *out owned (mysql_close()), PP_EIO with errstr
 * "cannot connect to mysql://user@host:port/db: <server's reason>", PP_ENOMEM. */
int pp_mysql_connect(const struct pp_mysql_url *u, struct st_mysql **out, char *errstr,
                     size_t errstr_size);

/* ---- rows as JSON records (no server needed) ---- */

/* How a column's text-protocol value becomes JSON. */
enum pp_mysql_col_kind {
    PP_MYSQL_COL_NUMBER,   /* integers, DECIMAL, FLOAT/DOUBLE: the server's text as a number */
    PP_MYSQL_COL_STRING,   /* CHAR/TEXT/BLOB/ENUM/JSON/TIME...: a JSON string */
    PP_MYSQL_COL_DATETIME, /* DATETIME/TIMESTAMP/DATE: "YYYY-MM-DD HH:MM:SS[.ffffff]" as
                              Python's str(datetime) in the seeds: the server's text, an all-zero
                              fraction dropped; the zero date is null (pymysql gives None) */
};

/* The kind of a column of libmariadb type t (enum enum_field_types). */
int pp_mysql_col_kind(int type);

struct pp_mysql_col {
    const char *name; /* borrowed */
    size_t name_len;
    int kind; /* enum pp_mysql_col_kind */
};

/* Append one record: {"name": value, ...} with the columns in order, separators as the
 * seeds' json.dumps writes them (", " and ": "), strings escaped by pp_json_put_str (UTF-8
 * kept), vals[i] == NULL as null, a NUMBER whose text is not a JSON number as a string.
 * @returns 0, PP_ENOMEM or PP_ETOOBIG. */
int pp_mysql_row_json(const struct pp_mysql_col *cols, int ncols, const char *const *vals,
                      const unsigned long *lens, struct pp_buf *out);

/* ---- the emulator's source (`pinpipe emulate --source mysql://...`) ---- */

enum pp_mysql_mode {
    PP_MYSQL_RANDOM, /* as the seeds: one random offset n per event, each table LIMIT n,1 */
    PP_MYSQL_INDEX,  /* a random pin row LIMIT n,1; its geo and user rows WHERE ind = index */
    PP_MYSQL_STREAM, /* each table streamed whole in id order (mysql_use_result), joined by id */
};

struct pp_mysql_src;

/* Connect (password from the URL or MYSQL_PWD) and prepare mode's reads: RANDOM and INDEX
 * count the rows to pick from, STREAM opens one connection per table.
 * @returns 0 with *out owned (pp_mysql_src_destroy()); PP_EINVAL (bad URL), PP_EIO
 * (connection refused, access denied, unknown table...: errstr says which), PP_ENOMEM. */
int pp_mysql_src_open(const char *url, int mode, struct pp_mysql_src **out, char *errstr,
                      size_t errstr_size);
void pp_mysql_src_destroy(struct pp_mysql_src *src);
/* Rows to pick from (RANDOM: the smallest table's count; INDEX: pinterest_data's count;
 * STREAM: -1, unknown until the end). */
int64_t pp_mysql_src_rows(const struct pp_mysql_src *src);
/* The next event's three records into rec[0..2] (reset first) and the pin's index into *id.
 * RANDOM/INDEX read row offset pick % rows; STREAM ignores pick.
 * @returns 0; 1 at the end of a STREAM; PP_EIO (errstr set) when a query fails or a row is
 * missing; PP_ENOMEM/PP_ETOOBIG. @thread one at a time. */
int pp_mysql_src_next(struct pp_mysql_src *src, uint64_t pick, struct pp_buf rec[3], int64_t *id,
                      char *errstr, size_t errstr_size);

/* ---- `pinpipe gen --mysql` ---- */

struct pp_mysql_fill_stats {
    int64_t rows;       /* rows written per table */
    int64_t statements; /* INSERT statements sent */
    double elapsed_s;
};

/* Create the three tables if missing (the seeds' schema, primary key on the id columns,
 * utf8mb4), empty them first when truncate, then insert generated rows ids 0..rows-1 of seed
 * (pp_gen_row) in multi-row INSERTs of up to ~1 MB each, all in one transaction.
 * @returns 0; PP_EINVAL (bad URL); PP_EIO (errstr: connection or SQL error, with a hint on
 * duplicate keys); PP_ENOMEM. */
int pp_mysql_fill(const char *url, int64_t rows, uint64_t seed, int truncate,
                  struct pp_mysql_fill_stats *st, char *errstr, size_t errstr_size);

#endif
