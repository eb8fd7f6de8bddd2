/* mysql_fill.c: `pinpipe gen --mysql`: create the seeds' three source tables on MySQL/MariaDB
 * and fill them with generated rows in multi-row INSERTs, in one transaction. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "pp_err.h"
#include "pp_gen.h"
#include "pp_json.h"
#include "pp_mysql.h"
#include "pp_util.h"

#define STMT_BYTES (1 << 20) /* per INSERT: well under max_allowed_packet (16 MB default) */
#define ER_DUP_ENTRY_CODE 1062

/* The seeds' schema (column names and order as their tables and the JSON records have them).
 * Text is TEXT (the real values include long descriptions, emoji: utf8mb4); the id column is
 * the primary key, which also makes the seeds' `LIMIT n,1` scans stable (InnoDB clusters by
 * it). */
static const char *const schema[3] = {
    "CREATE TABLE IF NOT EXISTS `pinterest_data` (\n"
    "  `index` INT NOT NULL PRIMARY KEY,\n"
    "  `unique_id` VARCHAR(64),\n"
    "  `title` TEXT,\n"
    "  `description` TEXT,\n"
    "  `poster_name` TEXT,\n"
    "  `follower_count` VARCHAR(64),\n"
    "  `tag_list` TEXT,\n"
    "  `is_image_or_video` VARCHAR(64),\n"
    "  `image_src` TEXT,\n"
    "  `downloaded` INT,\n"
    "  `save_location` TEXT,\n"
    "  `category` VARCHAR(64)\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE IF NOT EXISTS `geolocation_data` (\n"
    "  `ind` INT NOT NULL PRIMARY KEY,\n"
    "  `timestamp` DATETIME,\n"
    "  `latitude` DOUBLE,\n"
    "  `longitude` DOUBLE,\n"
    "  `country` TEXT\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE IF NOT EXISTS `user_data` (\n"
    "  `ind` INT NOT NULL PRIMARY KEY,\n"
    "  `first_name` TEXT,\n"
    "  `last_name` TEXT,\n"
    "  `age` INT,\n"
    "  `date_joined` DATETIME\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
};

static const char *const pin_cols[] = {
    "index",    "unique_id",         "title",     "description", "poster_name",   "follower_count",
    "tag_list", "is_image_or_video", "image_src", "downloaded",  "save_location", "category"};
static const char *const geo_cols[] = {"ind", "timestamp", "latitude", "longitude", "country"};
static const char *const user_cols[] = {"ind", "first_name", "last_name", "age", "date_joined"};
static const char *const *const cols[3] = {pin_cols, geo_cols, user_cols};
static const int ncols[3] = {12, 5, 5};

#define POOL 8 /* statement buffers: 3 being built, up to 5 queued for the connection */

/* Rows are generated and turned into INSERT statements on a producer thread while the
 * connection (this thread) sends the previous ones: the server's work and ours overlap. */
struct fill {
    MYSQL *my;
    int no_backslash; /* the session has NO_BACKSLASH_ESCAPES: quotes only */
    size_t stmt_max;
    int64_t rows;
    uint64_t seed;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pp_buf pool[POOL];
    struct pp_buf *free_[POOL]; /* buffers ready for use */
    int nfree;
    struct pp_buf *queue[POOL]; /* full statements, in order */
    int qhead, qlen;
    int produced_all; /* the producer finished (or failed: prod_rc) */
    int abort;        /* the connection failed: the producer stops */
    int prod_rc;
    int64_t prod_rows;
    char prod_err[256];
    char shown[512];
};

struct producer {
    struct fill *f;
    struct pp_buf *stmt[3]; /* the INSERT being built per table */
    int64_t nrows[3];       /* rows in it */
    struct pp_buf str;      /* a decoded JSON string */
    struct pp_json doc;
};

static int sql_fail(struct fill *f, const char *what, char *errstr, size_t errstr_size)
{
    unsigned no = mysql_errno(f->my);
    snprintf(errstr, errstr_size, "%s on %s: %s%s", what, f->shown, mysql_error(f->my),
             no == ER_DUP_ENTRY_CODE ? " (the tables hold rows with these ids: --truncate "
                                       "empties them first)"
                                     : "");
    return PP_EIO;
}

static int exec(struct fill *f, const char *sql, size_t len, const char *what, char *errstr,
                size_t errstr_size)
{
    if (mysql_real_query(f->my, sql, len))
        return sql_fail(f, what, errstr, errstr_size);
    return 0;
}

/* A string literal for a utf8mb4 connection (no multi-byte sequence holds ' or \ bytes):
 * mysql_real_escape_string's rules, without touching the connection from this thread. */
static int put_quoted(struct producer *p, struct pp_buf *b, const char *s, size_t n)
{
    static const char from[] = "\0\n\r\032\\'\"", to[] = "0nrZ\\'\"";
    int rc = pp_buf_reserve(b, 2 * n + 3);
    if (rc)
        return rc;
    char *d = b->data + b->len;
    *d++ = '\'';
    for (size_t i = 0; i < n; i++) {
        const char *e = p->f->no_backslash ? NULL : memchr(from, s[i], sizeof(from) - 1);
        if (e)
            *d++ = '\\', *d++ = to[e - from];
        else if (s[i] == '\'') /* NO_BACKSLASH_ESCAPES: a quote is doubled */
            *d++ = '\'', *d++ = '\'';
        else
            *d++ = s[i];
    }
    *d++ = '\'';
    *d = '\0';
    b->len = (size_t)(d - b->data);
    return 0;
}

/* Append record rec (a JSON object) of table k as one "(v, v, ...)" tuple. */
static int put_tuple(struct producer *p, int k, const char *rec, size_t len)
{
    struct pp_buf *b = p->stmt[k];
    struct pp_json *doc = &p->doc;
    int rc = pp_json_parse(doc, rec, len, 0, NULL, 0);
    if (rc)
        return rc;
    if ((rc = pp_buf_append(b, p->nrows[k] ? ",(" : "(", p->nrows[k] ? 2 : 1)))
        return rc;
    for (int c = 0; c < ncols[k] && !rc; c++) {
        int t = pp_json_get(doc, 0, cols[k][c]);
        size_t n;
        const char *raw;
        if (c && (rc = pp_buf_putc(b, ',')))
            break;
        if (t < 0 || doc->tok[t].type == PP_JSON_NULL) {
            rc = pp_buf_append(b, "NULL", 4);
        } else if (doc->tok[t].type == PP_JSON_STRING) {
            pp_buf_reset(&p->str);
            if (!(rc = pp_json_str(doc, t, &p->str)))
                rc = put_quoted(p, b, p->str.data ? p->str.data : "", p->str.len);
        } else if (doc->tok[t].type == PP_JSON_NUMBER) {
            raw = pp_json_raw(doc, t, &n);
            rc = pp_buf_append(b, raw, n);
        } else if (doc->tok[t].type == PP_JSON_BOOL) {
            raw = pp_json_raw(doc, t, &n);
            rc = pp_buf_puts(b, raw[0] == 't' ? "TRUE" : "FALSE");
        } else { /* an object or array: its JSON text */
            raw = pp_json_raw(doc, t, &n);
            rc = put_quoted(p, b, raw, n);
        }
    }
    if (!rc && !(rc = pp_buf_putc(b, ')')))
        p->nrows[k]++;
    return rc;
}

/* Take a free buffer (waiting for the connection to return one). NULL when aborted. */
static struct pp_buf *take_buf(struct fill *f)
{
    struct pp_buf *b = NULL;
    pthread_mutex_lock(&f->mu);
    while (!f->nfree && !f->abort)
        pthread_cond_wait(&f->cv, &f->mu);
    if (!f->abort)
        b = f->free_[--f->nfree];
    pthread_mutex_unlock(&f->mu);
    return b;
}

static int start_stmt(struct producer *p, int k)
{
    struct pp_buf *b = p->stmt[k] = take_buf(p->f);
    if (!b)
        return PP_ESHUTDOWN;
    pp_buf_reset(b);
    p->nrows[k] = 0;
    int rc = pp_buf_printf(b, "INSERT INTO `%s` (", pp_mysql_tables[k]);
    for (int c = 0; c < ncols[k] && !rc; c++)
        rc = pp_buf_printf(b, "%s`%s`", c ? "," : "", cols[k][c]);
    return rc ? rc : pp_buf_puts(b, ") VALUES ");
}

/* Queue table k's statement for the connection (if it has rows) and start the next one. */
static int queue_stmt(struct producer *p, int k, int last)
{
    struct fill *f = p->f;
    if (p->nrows[k]) {
        pthread_mutex_lock(&f->mu);
        f->queue[(f->qhead + f->qlen++) % POOL] = p->stmt[k];
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        p->stmt[k] = NULL;
    }
    return last || p->stmt[k] ? 0 : start_stmt(p, k);
}

static void *produce(void *arg)
{
    struct producer p;
    struct fill *f = arg;
    struct pp_buf rec[3];
    struct pp_gen *gen = pp_gen_new(f->seed);
    int rc = gen ? 0 : PP_ENOMEM;
    int64_t id = 0;
    memset(&p, 0, sizeof(p));
    p.f = f;
    pp_buf_init(&p.str, 0);
    pp_json_init(&p.doc);
    for (int k = 0; k < 3; k++)
        pp_buf_init(&rec[k], 0);
    for (int k = 0; k < 3 && !rc; k++)
        rc = start_stmt(&p, k);
    for (; id < f->rows && !rc; id++) {
        for (int k = 0; k < 3; k++)
            pp_buf_reset(&rec[k]);
        if ((rc = pp_gen_row(gen, id, &rec[0], &rec[1], &rec[2])))
            break;
        for (int k = 0; k < 3 && !rc; k++)
            if (!(rc = put_tuple(&p, k, rec[k].data, rec[k].len)) && p.stmt[k]->len >= f->stmt_max)
                rc = queue_stmt(&p, k, 0);
    }
    for (int k = 0; k < 3 && !rc; k++)
        rc = queue_stmt(&p, k, 1);
    pthread_mutex_lock(&f->mu);
    for (int k = 0; k < 3; k++) /* statements not queued go back to the pool */
        if (p.stmt[k])
            f->free_[f->nfree++] = p.stmt[k];
    if (rc && rc != PP_ESHUTDOWN)
        snprintf(f->prod_err, sizeof(f->prod_err), "building row %lld: %s", (long long)id,
                 pp_err_str(rc));
    f->prod_rc = rc, f->prod_rows = rc ? 0 : id, f->produced_all = 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    for (int k = 0; k < 3; k++)
        pp_buf_free(&rec[k]);
    pp_buf_free(&p.str);
    pp_json_free(&p.doc);
    pp_gen_destroy(gen);
    return NULL;
}

/* Send the producer's statements in order until it is done. */
static int consume(struct fill *f, struct pp_mysql_fill_stats *st, char *errstr, size_t errstr_size)
{
    int rc = 0;
    for (;;) {
        struct pp_buf *b = NULL;
        pthread_mutex_lock(&f->mu);
        while (!f->qlen && !f->produced_all)
            pthread_cond_wait(&f->cv, &f->mu);
        if (f->qlen) {
            b = f->queue[f->qhead];
            f->qhead = (f->qhead + 1) % POOL, f->qlen--;
        }
        pthread_mutex_unlock(&f->mu);
        if (!b)
            break;
        const char *what = !strncmp(b->data, "INSERT INTO `p", 14) ? "INSERT INTO pinterest_data"
                           : !strncmp(b->data, "INSERT INTO `g", 14)
                               ? "INSERT INTO geolocation_data"
                               : "INSERT INTO user_data";
        rc = exec(f, b->data, b->len, what, errstr, errstr_size);
        pthread_mutex_lock(&f->mu);
        f->free_[f->nfree++] = b;
        f->abort = rc != 0;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        if (rc)
            break;
        st->statements++;
    }
    return rc;
}

/* Keep statements under half the server's max_allowed_packet (and STMT_BYTES). */
static void size_stmts(struct fill *f)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    int64_t map;
    f->stmt_max = STMT_BYTES;
    if (mysql_query(f->my, "SELECT @@max_allowed_packet") || !(res = mysql_store_result(f->my)))
        return;
    if ((row = mysql_fetch_row(res)) && row[0] && !pp_parse_i64(row[0], 1, INT64_MAX, &map) &&
        map / 2 < (int64_t)f->stmt_max)
        f->stmt_max = map / 2 > 4096 ? (size_t)(map / 2) : 4096;
    mysql_free_result(res);
}

static int fill_rows(struct fill *f, struct pp_mysql_fill_stats *st, char *errstr,
                     size_t errstr_size)
{
    pthread_t th;
    f->no_backslash = (f->my->server_status & SERVER_STATUS_NO_BACKSLASH_ESCAPES) != 0;
    for (int i = 0; i < POOL; i++)
        pp_buf_init(&f->pool[i], 0), f->free_[f->nfree++] = &f->pool[i];
    if (pthread_create(&th, NULL, produce, f)) {
        snprintf(errstr, errstr_size, "cannot start a thread");
        return PP_ENOMEM;
    }
    int rc = consume(f, st, errstr, errstr_size);
    pthread_join(th, NULL);
    if (!rc && f->prod_rc) {
        snprintf(errstr, errstr_size, "%s", f->prod_err);
        rc = f->prod_rc;
    }
    st->rows = rc ? 0 : f->prod_rows;
    for (int i = 0; i < POOL; i++)
        pp_buf_free(&f->pool[i]);
    return rc;
}

int pp_mysql_fill(const char *url, int64_t rows, uint64_t seed, int truncate,
                  struct pp_mysql_fill_stats *st, char *errstr, size_t errstr_size)
{
    struct pp_mysql_url u;
    struct fill f;
    char sql[128];
    int64_t t0 = pp_mono_us();
    memset(st, 0, sizeof(*st));
    int rc = pp_mysql_url_parse(url, &u, errstr, errstr_size);
    if (rc)
        return rc;
    memset(&f, 0, sizeof(f));
    f.rows = rows, f.seed = seed;
    pthread_mutex_init(&f.mu, NULL);
    pthread_cond_init(&f.cv, NULL);
    pp_mysql_url_show(&u, f.shown, sizeof(f.shown));
    if ((rc = pp_mysql_connect(&u, &f.my, errstr, errstr_size)))
        goto out;
    size_stmts(&f);
    for (int k = 0; k < 3 && !rc; k++) {
        rc = exec(&f, schema[k], strlen(schema[k]), "CREATE TABLE", errstr, errstr_size);
        snprintf(sql, sizeof(sql), "TRUNCATE TABLE `%s`", pp_mysql_tables[k]);
        if (!rc && truncate)
            rc = exec(&f, sql, strlen(sql), "TRUNCATE", errstr, errstr_size);
    }
    if (!rc)
        rc = exec(&f, "START TRANSACTION", 17, "START TRANSACTION", errstr, errstr_size);
    if (!rc)
        rc = fill_rows(&f, st, errstr, errstr_size);
    if (!rc)
        rc = exec(&f, "COMMIT", 6, "COMMIT", errstr, errstr_size);
    if (rc)
        st->rows = 0; /* the transaction is rolled back when the connection closes */
out:
    if (f.my)
        mysql_close(f.my);
    pthread_cond_destroy(&f.cv);
    pthread_mutex_destroy(&f.mu);
    pp_mysql_url_free(&u);
    st->elapsed_s = (double)(pp_mono_us() - t0) / 1e6;
    return rc;
}
