/* mysql.c: the seeds' MySQL/MariaDB source tables read over libmariadb: URLs, connections,
 * rows as JSON records, and the emulator's row source (random offsets or whole tables). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <errmsg.h>
#include <mysql.h>

#include "pp_err.h"
#include "pp_json.h"
#include "pp_mysql.h"
#include "pp_util.h"

const char *const pp_mysql_tables[3] = {"pinterest_data", "geolocation_data", "user_data"};
const char *const pp_mysql_id_cols[3] = {"index", "ind", "ind"};

/* ---------------- URLs ---------------- */

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decode s[0..n) into a new string (owned). @returns 0, PP_EINVAL (a bad escape or
 * %00, which a C string cannot carry), PP_ENOMEM. */
static int pct_decode(const char *s, size_t n, char **out)
{
    char *d = malloc(n + 1);
    size_t j = 0;
    if (!d)
        return PP_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            d[j++] = s[i];
            continue;
        }
        int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = i + 2 < n ? hexval(s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(d);
            return PP_EINVAL;
        }
        d[j++] = (char)(hi * 16 + lo);
        i += 2;
    }
    d[j] = '\0';
    *out = d;
    return 0;
}

static int url_fail(struct pp_mysql_url *u, char *errstr, size_t errstr_size, const char *why)
{
    pp_mysql_url_free(u);
    snprintf(errstr, errstr_size, "bad MySQL URL: %s (want mysql://user[:password]@host[:port]/db)",
             why);
    return PP_EINVAL;
}

/* host[:port] or [v6][:port] in s[0..n). */
static int parse_hostport(const char *s, size_t n, struct pp_mysql_url *u, const char **why)
{
    const char *e = s + n, *hend, *port = NULL;
    if (n && *s == '[') {
        const char *rb = memchr(s, ']', n);
        if (!rb || (rb + 1 < e && rb[1] != ':')) {
            *why = "bad [IPv6] host";
            return PP_EINVAL;
        }
        hend = rb, s++;
        port = rb + 1 < e ? rb + 2 : NULL;
    } else {
        const char *colon = memchr(s, ':', n);
        hend = colon ? colon : e;
        port = colon ? colon + 1 : NULL;
    }
    if (port) {
        char num[8];
        int64_t v;
        size_t pn = (size_t)(e - port);
        if (pn && pn < sizeof(num)) {
            memcpy(num, port, pn);
            num[pn] = '\0';
        }
        if (!pn || pn >= sizeof(num) || strspn(num, "0123456789") != pn ||
            pp_parse_i64(num, 1, 65535, &v)) {
            *why = "the port must be 1..65535";
            return PP_EINVAL;
        }
        u->port = (unsigned)v;
    }
    if (hend == s)
        u->host = strdup("localhost");
    else
        u->host = strndup(s, (size_t)(hend - s));
    return u->host ? 0 : PP_ENOMEM;
}

/* ?socket=PATH (the only parameter). */
static int parse_query(const char *q, struct pp_mysql_url *u, const char **why)
{
    while (*q) {
        size_t n = strcspn(q, "&");
        if (n > 7 && !strncmp(q, "socket=", 7)) {
            free(u->socket);
            u->socket = NULL;
            if (pct_decode(q + 7, n - 7, &u->socket)) {
                *why = "bad %-escape in socket=";
                return PP_EINVAL;
            }
        } else if (n) {
            *why = "unknown parameter (only ?socket=PATH is known)";
            return PP_EINVAL;
        }
        q += n + (q[n] == '&');
    }
    return 0;
}

int pp_mysql_url_parse(const char *url, struct pp_mysql_url *u, char *errstr, size_t errstr_size)
{
    const char *p, *why = NULL;
    memset(u, 0, sizeof(*u));
    if (!url)
        return url_fail(u, errstr, errstr_size, "none given");
    if (!strncasecmp(url, "mysql://", 8))
        p = url + 8;
    else if (!strncasecmp(url, "mariadb://", 10))
        p = url + 10;
    else
        return url_fail(u, errstr, errstr_size, "not a mysql:// or mariadb:// URL");
    const char *q = strchr(p, '?'), *end = q ? q : p + strlen(p), *at = NULL;
    for (const char *x = p; x < end; x++) /* the last '@': a raw one may be in the password */
        if (*x == '@')
            at = x;
    const char *hp = at ? at + 1 : p;
    if (at && at > p) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        size_t ulen = colon ? (size_t)(colon - p) : (size_t)(at - p);
        if ((ulen && pct_decode(p, ulen, &u->user)) ||
            (colon && pct_decode(colon + 1, (size_t)(at - colon - 1), &u->password)))
            return url_fail(u, errstr, errstr_size, "bad %-escape in the user or password");
    }
    const char *slash = memchr(hp, '/', (size_t)(end - hp));
    if (!slash || slash + 1 >= end)
        return url_fail(u, errstr, errstr_size, "no database (.../db)");
    if (parse_hostport(hp, (size_t)(slash - hp), u, &why))
        return url_fail(u, errstr, errstr_size, why ? why : "out of memory");
    if (pct_decode(slash + 1, (size_t)(end - slash - 1), &u->db) || strchr(u->db, '/'))
        return url_fail(u, errstr, errstr_size, "bad database name");
    if (q && parse_query(q + 1, u, &why))
        return url_fail(u, errstr, errstr_size, why);
    return 0;
}

void pp_mysql_url_free(struct pp_mysql_url *u)
{
    if (!u)
        return;
    free(u->user);
    free(u->password);
    free(u->host);
    free(u->db);
    free(u->socket);
    memset(u, 0, sizeof(*u));
}

void pp_mysql_url_show(const struct pp_mysql_url *u, char *out, size_t size)
{
    int v6 = u->host && strchr(u->host, ':');
    char port[16] = "";
    if (u->port)
        snprintf(port, sizeof(port), ":%u", u->port);
    snprintf(out, size, "mysql://%s%s%s%s%s%s/%s", u->user ? u->user : "",
             u->user || u->password ? "@" : "", v6 ? "[" : "", u->host ? u->host : "",
             v6 ? "]" : "", port, u->db ? u->db : "");
}

/* libmariadb reports a failed TCP connect as "Can't connect to server on 'h' (115)" (the
 * errno of its non-blocking connect). For a one-line reason a user can act on, try the
 * address once more (2 s at most) and name what connect(2) says: "Connection refused". */
static const char *tcp_reason(const char *host, unsigned port, char *buf, size_t size)
{
    struct addrinfo hints, *ai = NULL;
    char serv[16];
    int err = 0;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    snprintf(serv, sizeof(serv), "%u", port ? port : 3306);
    int gai = getaddrinfo(host, serv, &hints, &ai);
    if (gai) {
        snprintf(buf, size, "%s", gai_strerror(gai));
        return buf;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err = errno;
    } else if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
        err = errno;
    } else {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        socklen_t len = sizeof(err);
        if (poll(&pfd, 1, 2000) <= 0)
            err = ETIMEDOUT;
        else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
            err = errno;
    }
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    if (!err)
        return NULL;
    snprintf(buf, size, "%s", strerror(err));
    return buf;
}

int pp_mysql_connect(const struct pp_mysql_url *u, struct st_mysql **out, char *errstr,
                     size_t errstr_size)
{
    MYSQL *my = mysql_init(NULL);
    unsigned connect_s = 10, io_s = 600, tcp = MYSQL_PROTOCOL_TCP;
    char shown[512];
    if (!my) {
        snprintf(errstr, errstr_size, "out of memory");
        return PP_ENOMEM;
    }
    mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
    mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &io_s);
    mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &io_s);
    if (u->port && !u->socket)
        mysql_options(my, MYSQL_OPT_PROTOCOL, &tcp);
    const char *pw = u->password ? u->password : getenv("MYSQL_PWD");
    if (!mysql_real_connect(my, u->host, u->user, pw, u->db, u->port, u->socket, 0)) {
        char why[128];
        const char *reason = NULL;
        pp_mysql_url_show(u, shown, sizeof(shown));
        unsigned no = mysql_errno(my);
        if ((no == CR_CONN_HOST_ERROR || no == CR_CONNECTION_ERROR) && !u->socket &&
            (u->port || strcmp(u->host, "localhost")))
            reason = tcp_reason(u->host, u->port, why, sizeof(why));
        snprintf(errstr, errstr_size, "cannot connect to %s: %s%s%s%s", shown,
                 reason ? reason : mysql_error(my), reason ? " (" : "",
                 reason ? mysql_error(my) : "", reason ? ")" : "");
        mysql_close(my);
        return PP_EIO;
    }
    *out = my;
    return 0;
}

/* ---------------- rows as JSON ---------------- */

int pp_mysql_col_kind(int type)
{
    switch (type) {
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL:
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE:
    case MYSQL_TYPE_YEAR:
        return PP_MYSQL_COL_NUMBER;
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_DATETIME2:
    case MYSQL_TYPE_TIMESTAMP:
    case MYSQL_TYPE_TIMESTAMP2:
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_NEWDATE:
        return PP_MYSQL_COL_DATETIME;
    default:
        return PP_MYSQL_COL_STRING;
    }
}

/* RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int json_number(const char *s, size_t n)
{
    size_t i = 0, d;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0')
        i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return 0;
    if (i < n && s[i] == '.') {
        for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == d)
            return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        if (++i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == d)
            return 0;
    }
    return i == n;
}

/* A DATETIME(6) of a whole second comes as "... 10:00:00.000000": drop the zero fraction,
 * as Python's str(datetime) does in the seeds' records. */
static size_t datetime_len(const char *v, size_t n)
{
    const char *dot = memchr(v, '.', n);
    if (!dot)
        return n;
    for (const char *p = dot + 1; p < v + n; p++)
        if (*p != '0')
            return n;
    return (size_t)(dot - v);
}

int pp_mysql_row_json(const struct pp_mysql_col *cols, int ncols, const char *const *vals,
                      const unsigned long *lens, struct pp_buf *out)
{
    int rc = pp_buf_putc(out, '{');
    for (int i = 0; i < ncols && !rc; i++) {
        const char *v = vals[i];
        size_t n = v ? (size_t)lens[i] : 0;
        if ((i && (rc = pp_buf_append(out, ", ", 2))) ||
            (rc = pp_json_put_str(out, cols[i].name, cols[i].name_len)) ||
            (rc = pp_buf_append(out, ": ", 2)))
            break;
        if (!v ||
            (cols[i].kind == PP_MYSQL_COL_DATETIME && n >= 10 && !memcmp(v, "0000-00-00", 10)))
            rc = pp_buf_append(out, "null", 4);
        else if (cols[i].kind == PP_MYSQL_COL_NUMBER && json_number(v, n))
            rc = pp_buf_append(out, v, n);
        else if (cols[i].kind == PP_MYSQL_COL_DATETIME)
            rc = pp_json_put_str(out, v, datetime_len(v, n));
        else
            rc = pp_json_put_str(out, v, n);
    }
    return rc ? rc : pp_buf_putc(out, '}');
}

/* ---------------- the emulator's source ---------------- */

struct pp_mysql_src {
    struct pp_mysql_url url;
    int mode;
    MYSQL *my[3]; /* RANDOM/INDEX: my[0] for all tables; STREAM: one per table */
    MYSQL_RES *res[3];
    struct pp_mysql_col *cols[3];
    int ncols[3], idcol[3];
    int64_t rows;
    struct pp_buf cur[3]; /* STREAM: each table's current row ... */
    int64_t cur_id[3];    /* ... its id ... */
    int have[3];          /* ... and whether there is one */
    int started, ended;
    struct pp_buf sql;
    char shown[512];
};

static int sql_fail(struct pp_mysql_src *src, MYSQL *my, int k, char *errstr, size_t errstr_size)
{
    snprintf(errstr, errstr_size, "reading %s from %s: %s", pp_mysql_tables[k], src->shown,
             mysql_error(my));
    return PP_EIO;
}

/* Column names and kinds of result res of table k (names borrowed from res). */
static int set_cols(struct pp_mysql_src *src, int k, MYSQL_RES *res, char *errstr,
                    size_t errstr_size)
{
    unsigned n = mysql_num_fields(res);
    MYSQL_FIELD *f = mysql_fetch_fields(res);
    struct pp_mysql_col *c = realloc(src->cols[k], (n ? n : 1) * sizeof(*c));
    if (!c)
        return PP_ENOMEM;
    src->cols[k] = c, src->ncols[k] = (int)n, src->idcol[k] = -1;
    for (unsigned i = 0; i < n; i++) {
        c[i].name = f[i].name, c[i].name_len = f[i].name_length;
        c[i].kind = pp_mysql_col_kind((int)f[i].type);
        if (src->idcol[k] < 0 && !strcmp(f[i].name, pp_mysql_id_cols[k]))
            src->idcol[k] = (int)i;
    }
    if (src->idcol[k] < 0) {
        snprintf(errstr, errstr_size, "%s in %s has no `%s` column", pp_mysql_tables[k], src->shown,
                 pp_mysql_id_cols[k]);
        return PP_EIO;
    }
    return 0;
}

/* Row of table k as a JSON record into out (reset first) and its id into *id. */
static int row_json(struct pp_mysql_src *src, int k, MYSQL_RES *res, MYSQL_ROW row,
                    struct pp_buf *out, int64_t *id, char *errstr, size_t errstr_size)
{
    unsigned long *lens = mysql_fetch_lengths(res);
    const char *idv = row[src->idcol[k]];
    pp_buf_reset(out);
    if (!lens)
        return sql_fail(src, src->my[src->mode == PP_MYSQL_STREAM ? k : 0], k, errstr, errstr_size);
    if (!idv || pp_parse_i64(idv, INT64_MIN, INT64_MAX, id)) {
        snprintf(errstr, errstr_size, "%s: `%s` %s%s%s is not an integer", pp_mysql_tables[k],
                 pp_mysql_id_cols[k], idv ? "'" : "", idv ? idv : "NULL", idv ? "'" : "");
        return PP_EIO;
    }
    return pp_mysql_row_json(src->cols[k], src->ncols[k], (const char *const *)row, lens, out);
}

/* Run the query in src->sql on table k's connection; the first row (if any) into out. */
static int query_row(struct pp_mysql_src *src, int k, struct pp_buf *out, int64_t *id, int *found,
                     char *errstr, size_t errstr_size)
{
    MYSQL *my = src->my[0];
    MYSQL_RES *res;
    MYSQL_ROW row;
    int rc = 0;
    if (mysql_real_query(my, src->sql.data, src->sql.len) || !(res = mysql_store_result(my)))
        return sql_fail(src, my, k, errstr, errstr_size);
    *found = 0;
    if (!(rc = set_cols(src, k, res, errstr, errstr_size)) && (row = mysql_fetch_row(res))) {
        *found = 1;
        rc = row_json(src, k, res, row, out, id, errstr, errstr_size);
    }
    mysql_free_result(res);
    return rc;
}

static int count_rows(struct pp_mysql_src *src, int k, int64_t *n, char *errstr, size_t errstr_size)
{
    MYSQL *my = src->my[0];
    MYSQL_RES *res;
    MYSQL_ROW row;
    pp_buf_reset(&src->sql);
    int rc = pp_buf_printf(&src->sql, "SELECT COUNT(*) FROM `%s`", pp_mysql_tables[k]);
    if (rc)
        return rc;
    if (mysql_real_query(my, src->sql.data, src->sql.len) || !(res = mysql_store_result(my)))
        return sql_fail(src, my, k, errstr, errstr_size);
    row = mysql_fetch_row(res);
    if (!row || !row[0] || pp_parse_i64(row[0], 0, INT64_MAX, n))
        rc = sql_fail(src, my, k, errstr, errstr_size);
    mysql_free_result(res);
    return rc;
}

static int open_random(struct pp_mysql_src *src, char *errstr, size_t errstr_size)
{
    int rc = pp_mysql_connect(&src->url, &src->my[0], errstr, errstr_size);
    src->rows = INT64_MAX;
    for (int k = 0; k < 3 && !rc; k++) {
        int64_t n = 0;
        if ((rc = count_rows(src, k, &n, errstr, errstr_size)))
            break;
        if ((k == 0 || src->mode == PP_MYSQL_RANDOM) && n < src->rows)
            src->rows = n;
        if (!n) {
            snprintf(errstr, errstr_size, "%s in %s is empty", pp_mysql_tables[k], src->shown);
            rc = PP_EIO;
        }
    }
    return rc;
}

static int open_stream(struct pp_mysql_src *src, char *errstr, size_t errstr_size)
{
    src->rows = -1;
    for (int k = 0; k < 3; k++) {
        int rc = pp_mysql_connect(&src->url, &src->my[k], errstr, errstr_size);
        MYSQL *my = src->my[k];
        if (rc)
            return rc;
        /* a rate-limited reader may leave the server blocked on a full socket for long */
        pp_buf_reset(&src->sql);
        if ((rc = pp_buf_printf(&src->sql, "SELECT * FROM `%s` ORDER BY `%s`", pp_mysql_tables[k],
                                pp_mysql_id_cols[k])))
            return rc;
        if (mysql_query(my, "SET SESSION net_write_timeout = 31536000") ||
            mysql_real_query(my, src->sql.data, src->sql.len) ||
            !(src->res[k] = mysql_use_result(my)))
            return sql_fail(src, my, k, errstr, errstr_size);
        if ((rc = set_cols(src, k, src->res[k], errstr, errstr_size)))
            return rc;
    }
    return 0;
}

int pp_mysql_src_open(const char *url, int mode, struct pp_mysql_src **out, char *errstr,
                      size_t errstr_size)
{
    struct pp_mysql_src *src = calloc(1, sizeof(*src));
    int rc;
    if (!src)
        return PP_ENOMEM;
    src->mode = mode;
    pp_buf_init(&src->sql, 0);
    for (int k = 0; k < 3; k++)
        pp_buf_init(&src->cur[k], 0);
    if ((rc = pp_mysql_url_parse(url, &src->url, errstr, errstr_size))) {
        pp_mysql_src_destroy(src);
        return rc;
    }
    pp_mysql_url_show(&src->url, src->shown, sizeof(src->shown));
    if (mode < PP_MYSQL_RANDOM || mode > PP_MYSQL_STREAM) {
        snprintf(errstr, errstr_size, "bad source mode %d", mode);
        rc = PP_EINVAL;
    } else {
        rc = mode == PP_MYSQL_STREAM ? open_stream(src, errstr, errstr_size)
                                     : open_random(src, errstr, errstr_size);
    }
    if (rc) {
        pp_mysql_src_destroy(src);
        return rc;
    }
    *out = src;
    return 0;
}

void pp_mysql_src_destroy(struct pp_mysql_src *src)
{
    if (!src)
        return;
    for (int k = 0; k < 3; k++) {
        if (src->res[k]) {
            /* freeing an unfinished streamed result would read the rest of the table first */
            if (src->have[k] || !src->started)
                shutdown(mysql_get_socket(src->my[k]), SHUT_RDWR);
            mysql_free_result(src->res[k]);
        }
        if (src->my[k])
            mysql_close(src->my[k]);
        free(src->cols[k]);
        pp_buf_free(&src->cur[k]);
    }
    pp_buf_free(&src->sql);
    pp_mysql_url_free(&src->url);
    free(src);
}

int64_t pp_mysql_src_rows(const struct pp_mysql_src *src)
{
    return src->rows;
}

/* STREAM: table k's next row into cur[k] (have[k] = 0 at its end). */
static int stream_fetch(struct pp_mysql_src *src, int k, char *errstr, size_t errstr_size)
{
    MYSQL_ROW row = mysql_fetch_row(src->res[k]);
    if (!row) {
        src->have[k] = 0;
        return mysql_errno(src->my[k]) ? sql_fail(src, src->my[k], k, errstr, errstr_size) : 0;
    }
    src->have[k] = 1;
    return row_json(src, k, src->res[k], row, &src->cur[k], &src->cur_id[k], errstr, errstr_size);
}

/* STREAM: a merge join on the id: rows whose id is missing from another table are skipped. */
static int stream_next(struct pp_mysql_src *src, struct pp_buf rec[3], int64_t *id, char *errstr,
                       size_t errstr_size)
{
    int rc = 0;
    if (!src->started) {
        src->started = 1;
        for (int k = 0; k < 3 && !rc; k++)
            rc = stream_fetch(src, k, errstr, errstr_size);
    }
    while (!rc) {
        if (src->ended || !src->have[0] || !src->have[1] || !src->have[2]) {
            src->ended = 1;
            return 1;
        }
        int64_t hi = src->cur_id[0];
        for (int k = 1; k < 3; k++)
            if (src->cur_id[k] > hi)
                hi = src->cur_id[k];
        if (src->cur_id[0] == hi && src->cur_id[1] == hi && src->cur_id[2] == hi) {
            for (int k = 0; k < 3 && !rc; k++)
                rc = pp_buf_append(&rec[k], src->cur[k].data, src->cur[k].len);
            *id = hi;
            for (int k = 0; k < 3 && !rc; k++)
                rc = stream_fetch(src, k, errstr, errstr_size);
            return rc;
        }
        for (int k = 0; k < 3 && !rc; k++)
            if (src->cur_id[k] < hi)
                rc = stream_fetch(src, k, errstr, errstr_size);
    }
    return rc;
}

int pp_mysql_src_next(struct pp_mysql_src *src, uint64_t pick, struct pp_buf rec[3], int64_t *id,
                      char *errstr, size_t errstr_size)
{
    for (int k = 0; k < 3; k++)
        pp_buf_reset(&rec[k]);
    if (src->mode == PP_MYSQL_STREAM)
        return stream_next(src, rec, id, errstr, errstr_size);
    int64_t n = (int64_t)(pick % (uint64_t)src->rows), other;
    for (int k = 0; k < 3; k++) {
        int found = 0, rc;
        pp_buf_reset(&src->sql);
        if (k == 0 || src->mode == PP_MYSQL_RANDOM) /* as the seeds: the same offset for all */
            rc = pp_buf_printf(&src->sql, "SELECT * FROM `%s` LIMIT %lld, 1", pp_mysql_tables[k],
                               (long long)n);
        else
            rc = pp_buf_printf(&src->sql, "SELECT * FROM `%s` WHERE `%s` = %lld LIMIT 1",
                               pp_mysql_tables[k], pp_mysql_id_cols[k], (long long)*id);
        if (rc || (rc = query_row(src, k, &rec[k], k ? &other : id, &found, errstr, errstr_size)))
            return rc;
        if (!found) {
            if (k == 0 || src->mode == PP_MYSQL_RANDOM)
                snprintf(errstr, errstr_size, "%s has no row at offset %lld (did it shrink?)",
                         pp_mysql_tables[k], (long long)n);
            else
                snprintf(errstr, errstr_size, "%s has no row with %s = %lld", pp_mysql_tables[k],
                         pp_mysql_id_cols[k], (long long)*id);
            return PP_EIO;
        }
    }
    return 0;
}
