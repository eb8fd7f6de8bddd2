/* test_gen.c: the row generator: determinism, record shapes, value domains and rates; the
 * MySQL source's URL parser and row -> JSON conversion (no server needed). */
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mysql.h>

#include "pp_err.h"
#include "pp_gen.h"
#include "pp_json.h"
#include "pp_kind.h"
#include "pp_mysql.h"
#include "pp_test.h"
#include "pp_util.h"

#define NROWS 100000

static const char *const pin_keys[] = {
    "index",    "unique_id",         "title",     "description", "poster_name",   "follower_count",
    "tag_list", "is_image_or_video", "image_src", "downloaded",  "save_location", "category"};
static const char *const geo_keys[] = {"ind", "timestamp", "latitude", "longitude", "country"};
static const char *const user_keys[] = {"ind", "first_name", "last_name", "age", "date_joined"};

struct counts {
    int64_t cat[16], kind[3], fc_num, fc_k, fc_m, fc_uie, title_ph, story, nodesc, untitled, notags,
        imgerr, dl0, empty_title, title_intl, desc_intl, desc_cut, age20, ages[41];
    int64_t bad_order, bad_type, bad_value, bad_utf8, bad_json;
    double sx, sy, sxx, syy, sxy; /* latitude vs age, for their correlation */
};

/* Keys of the top-level object in order must be exactly keys[0..n). */
static int keys_in_order(const struct pp_json *doc, const char *const *keys, int n)
{
    if (doc->tok[0].type != PP_JSON_OBJECT || doc->tok[0].size != n)
        return 0;
    int t = 1;
    for (int i = 0; i < n; i++) {
        if (!pp_json_str_eq(doc, t, keys[i]))
            return 0;
        t = pp_json_next(doc, t + 1);
    }
    return 1;
}

static int str_of(const struct pp_json *doc, const char *key, struct pp_buf *out)
{
    int t = pp_json_get(doc, 0, key);
    pp_buf_reset(out);
    if (t < 0 || doc->tok[t].type != PP_JSON_STRING)
        return PP_EINVAL;
    int rc = pp_json_str(doc, t, out);
    if (!rc && !out->data)
        rc = pp_buf_append(out, "", 0);
    return rc;
}

static int64_t int_of(const struct pp_json *doc, const char *key)
{
    int64_t v = INT64_MIN;
    int t = pp_json_get(doc, 0, key);
    if (t >= 0)
        pp_json_int(doc, t, &v);
    return v;
}

static int non_ascii(const struct pp_buf *b)
{
    for (size_t i = 0; i < b->len; i++)
        if ((unsigned char)b->data[i] >= 0x80)
            return 1;
    return 0;
}

static int is_uuid4(const char *s)
{
    if (strlen(s) != 36 || s[14] != '4' || !strchr("89ab", s[19]))
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
            return 0;
    }
    return 1;
}

static void check_follower(const char *s, struct counts *c)
{
    size_t n = strlen(s), d = strspn(s, "0123456789");
    if (!strcmp(s, "User Info Error"))
        c->fc_uie++;
    else if (d == n && n >= 1 && n <= 3)
        c->fc_num++;
    else if (d == n - 1 && d >= 1 && s[d] == 'k')
        c->fc_k++;
    else if (d == n - 1 && d >= 1 && s[d] == 'M')
        c->fc_m++;
    else
        c->bad_value++;
}

static void check_pin(const struct pp_json *doc, int64_t id, struct counts *c, struct pp_buf *s)
{
    char cat[64] = "";
    if (!keys_in_order(doc, pin_keys, 12)) {
        c->bad_order++;
        return;
    }
    if (int_of(doc, "index") != id || int_of(doc, "downloaded") < 0 ||
        int_of(doc, "downloaded") > 1)
        c->bad_type++;
    for (int i = 1; i < 12; i++)
        if (i != 9 && str_of(doc, pin_keys[i], s))
            c->bad_utf8++;
    str_of(doc, "category", s);
    snprintf(cat, sizeof(cat), "%s", s->data);
    int ci = -1;
    for (int i = 0; i < pp_gen_ncats; i++)
        if (!strcmp(cat, pp_gen_cats[i].name))
            ci = i;
    if (ci < 0)
        c->bad_value++;
    else
        c->cat[ci]++;
    str_of(doc, "save_location", s);
    if (strncmp(s->data, "Local save in /data/", 20) || strcmp(s->data + 20, cat))
        c->bad_value++;
    str_of(doc, "unique_id", s);
    if (!is_uuid4(s->data))
        c->bad_value++;
    str_of(doc, "is_image_or_video", s);
    if (!strcmp(s->data, "image"))
        c->kind[0]++;
    else if (!strcmp(s->data, "video"))
        c->kind[1]++;
    else if (!strcmp(s->data, "multi-video(story page format)"))
        c->kind[2]++;
    else
        c->bad_value++;
    str_of(doc, "follower_count", s);
    check_follower(s->data, c);
    str_of(doc, "title", s);
    c->title_ph += !strcmp(s->data, "No Title Data Available");
    c->empty_title += s->len == 0;
    c->title_intl += non_ascii(s);
    str_of(doc, "description", s);
    c->story += !strcmp(s->data, "No description available Story format");
    c->nodesc += !strcmp(s->data, "No description available");
    c->untitled += !strcmp(s->data, "Untitled");
    c->desc_intl += non_ascii(s);
    c->desc_cut += s->len > 5 && !memcmp(s->data + s->len - 5, "\xE2\x80\xA6\xC2\xA0", 5);
    str_of(doc, "tag_list", s);
    c->notags += !strcmp(s->data, "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e");
    str_of(doc, "image_src", s);
    int err = !strcmp(s->data, "Image src error.");
    c->imgerr += err;
    if (!err && strncmp(s->data, "https://i.pinimg.com/originals/", 31))
        c->bad_value++;
    c->dl0 += int_of(doc, "downloaded") == 0;
    if ((int_of(doc, "downloaded") == 0) != err)
        c->bad_value++;
}

/* Coordinates are written as printf's %.6g would: re-formatting the parsed value gives the
 * same text. */
static int g6_exact(const struct pp_json *doc, const char *key, double lo, double hi)
{
    int t = pp_json_get(doc, 0, key);
    double v;
    size_t n;
    char out[64], in[64];
    if (t < 0 || pp_json_num(doc, t, &v) || v < lo || v > hi)
        return 0;
    const char *raw = pp_json_raw(doc, t, &n);
    snprintf(in, sizeof(in), "%.*s", (int)n, raw);
    snprintf(out, sizeof(out), "%.6g", v);
    return !strcmp(in, out);
}

static int in_range(const struct pp_json *doc, const char *key, struct pp_buf *s, const char *lo,
                    const char *hi)
{
    int64_t us, a, b;
    if (str_of(doc, key, s) || s->len != 19 || pp_time_parse(s->data, s->len, &us))
        return 0;
    pp_time_parse(lo, strlen(lo), &a);
    pp_time_parse(hi, strlen(hi), &b);
    return us >= a && us <= b;
}

static void check_geo_user(const struct pp_json *geo, const struct pp_json *user, int64_t id,
                           struct counts *c, struct pp_buf *s)
{
    if (!keys_in_order(geo, geo_keys, 5) || !keys_in_order(user, user_keys, 5)) {
        c->bad_order++;
        return;
    }
    if (int_of(geo, "ind") != id || int_of(user, "ind") != id)
        c->bad_type++;
    if (!g6_exact(geo, "latitude", -90, 90) || !g6_exact(geo, "longitude", -180, 180))
        c->bad_value++;
    if (!in_range(geo, "timestamp", s, "2017-10-20", "2022-10-19") ||
        !in_range(user, "date_joined", s, "2015-10-21", "2017-10-19"))
        c->bad_value++;
    if (str_of(geo, "country", s) || str_of(user, "first_name", s) ||
        str_of(user, "last_name", s) || s->len == 0)
        c->bad_type++;
    int64_t age = int_of(user, "age");
    if (age < 20 || age > 60)
        c->bad_value++;
    else
        c->ages[age - 20]++;
    double lat = 0, y = (double)age;
    pp_json_num(geo, pp_json_get(geo, 0, "latitude"), &lat);
    c->sx += lat, c->sy += y, c->sxx += lat * lat, c->syy += y * y, c->sxy += lat * y;
}

static void test_determinism(void)
{
    struct pp_gen *a = pp_gen_new(100), *b = pp_gen_new(100), *d = pp_gen_new(101);
    struct pp_buf x[3], y[3], z[3];
    int same = 1, differs = 0;
    for (int k = 0; k < 3; k++)
        pp_buf_init(&x[k], 0), pp_buf_init(&y[k], 0), pp_buf_init(&z[k], 0);
    for (int64_t id = 0; id < 2000; id++) {
        for (int k = 0; k < 3; k++)
            pp_buf_reset(&x[k]), pp_buf_reset(&y[k]), pp_buf_reset(&z[k]);
        /* b walks ids backwards: a row depends on (seed, id) only */
        PP_CHECK_INT(pp_gen_row(a, id, &x[0], &x[1], &x[2]), 0);
        PP_CHECK_INT(pp_gen_row(b, 1999 - id, &y[0], &y[1], &y[2]), 0);
        PP_CHECK_INT(pp_gen_row(b, id, &y[0], &y[1], &y[2]), 0);
        pp_gen_row(d, id, &z[0], &z[1], &z[2]);
        for (int k = 0; k < 3; k++) {
            size_t off = y[k].len - x[k].len;
            same &= y[k].len >= x[k].len && !memcmp(y[k].data + off, x[k].data, x[k].len);
            differs |= z[k].len != x[k].len || memcmp(z[k].data, x[k].data, x[k].len);
        }
    }
    PP_CHECK(same);
    PP_CHECK(differs);
    for (int k = 0; k < 3; k++)
        pp_buf_free(&x[k]), pp_buf_free(&y[k]), pp_buf_free(&z[k]);
    pp_gen_destroy(a), pp_gen_destroy(b), pp_gen_destroy(d);
}

static int files_equal(const char *p, const char *q)
{
    FILE *f = fopen(p, "rb"), *g = fopen(q, "rb");
    int eq = f && g, a, b;
    while (eq && ((a = fgetc(f)) != EOF || 1)) {
        b = fgetc(g);
        eq = a == b;
        if (a == EOF)
            break;
    }
    if (f)
        fclose(f);
    if (g)
        fclose(g);
    return eq;
}

static void test_write_files(void)
{
    char d1[] = "/tmp/pp_gen_testXXXXXX", d2[] = "/tmp/pp_gen_testXXXXXX", err[256];
    char p[3][2][300];
    static const char *const names[3] = {"pin.jsonl", "geo.jsonl", "user.jsonl"};
    PP_CHECK(mkdtemp(d1) && mkdtemp(d2));
    PP_CHECK_INT(pp_gen_write(d1, 3000, 7, err, sizeof(err)), 0);
    PP_CHECK_INT(pp_gen_write(d2, 3000, 7, err, sizeof(err)), 0);
    PP_CHECK(pp_gen_write("/nonexistent/dir", 1, 7, err, sizeof(err)) == PP_EIO &&
             strstr(err, "/nonexistent/dir"));
    for (int k = 0; k < 3; k++) {
        snprintf(p[k][0], sizeof(p[k][0]), "%s/%s", d1, names[k]);
        snprintf(p[k][1], sizeof(p[k][1]), "%s/%s", d2, names[k]);
        PP_CHECK(files_equal(p[k][0], p[k][1]));
        struct stat st;
        PP_CHECK(stat(p[k][0], &st) == 0 && st.st_size > 3000 * 50);
    }
    /* the file holds the same bytes as pp_gen_row, one record per line */
    FILE *f = fopen(p[0][0], "r");
    char line[8192];
    struct pp_gen *gen = pp_gen_new(7);
    struct pp_buf b[3];
    for (int k = 0; k < 3; k++)
        pp_buf_init(&b[k], 0);
    int lines = 0, match = 1;
    while (f && fgets(line, sizeof(line), f)) {
        for (int k = 0; k < 3; k++)
            pp_buf_reset(&b[k]);
        pp_gen_row(gen, lines, &b[0], &b[1], &b[2]);
        match &= strlen(line) == b[0].len + 1 && !memcmp(line, b[0].data, b[0].len);
        lines++;
    }
    PP_CHECK_INT(lines, 3000);
    PP_CHECK(match);
    if (f)
        fclose(f);
    for (int k = 0; k < 3; k++) {
        pp_buf_free(&b[k]);
        unlink(p[k][0]), unlink(p[k][1]);
    }
    pp_gen_destroy(gen);
    rmdir(d1), rmdir(d2);
}

#define PCT(x) (100.0 * (double)(x) / NROWS)
#define NEAR(x, want, tol) (fabs(PCT(x) - (want)) <= (tol))

static void test_rows(void)
{
    static struct counts c;
    struct pp_gen *gen = pp_gen_new(100);
    struct pp_json doc[3];
    struct pp_buf b[3], s;
    pp_buf_init(&s, 0);
    for (int k = 0; k < 3; k++)
        pp_json_init(&doc[k]), pp_buf_init(&b[k], 0);
    for (int64_t id = 0; id < NROWS; id++) {
        int ok = 1;
        for (int k = 0; k < 3; k++)
            pp_buf_reset(&b[k]);
        if (pp_gen_row(gen, id, &b[0], &b[1], &b[2])) {
            c.bad_json++;
            continue;
        }
        for (int k = 0; k < 3; k++) {
            if (!pp_utf8_valid(b[k].data, b[k].len))
                c.bad_utf8++;
            if (pp_json_parse(&doc[k], b[k].data, b[k].len, 0, NULL, 0))
                c.bad_json++, ok = 0;
        }
        if (!ok)
            continue;
        check_pin(&doc[0], id, &c, &s);
        check_geo_user(&doc[1], &doc[2], id, &c, &s);
    }
    PP_CHECK_INT(c.bad_json, 0);
    PP_CHECK_INT(c.bad_utf8, 0);
    PP_CHECK_INT(c.bad_order, 0);
    PP_CHECK_INT(c.bad_type, 0);
    PP_CHECK_INT(c.bad_value, 0);
    /* categories: each within 0.5 points of its real per-mille weight */
    for (int i = 0; i < pp_gen_ncats; i++)
        PP_CHECK(NEAR(c.cat[i], pp_gen_cats[i].weight / 10.0, 0.5));
    /* placeholders and kinds, measured on aicore_sample_pin.jsonl (see gen.c) */
    PP_CHECK(NEAR(c.title_ph, 0.74, 0.2));
    PP_CHECK(NEAR(c.fc_uie, 0.74, 0.2));
    PP_CHECK(NEAR(c.story, 6.93, 0.6));
    PP_CHECK(NEAR(c.kind[2], 6.93, 0.6));
    PP_CHECK(NEAR(c.kind[1], 2.97, 0.4));
    PP_CHECK(NEAR(c.nodesc, 1.49, 0.3));
    PP_CHECK(NEAR(c.notags, 1.44, 0.3));
    PP_CHECK(NEAR(c.imgerr, 2.43, 0.4));
    PP_CHECK(c.untitled > 0 && c.empty_title > 0);
    PP_CHECK(NEAR(c.fc_k, 73.9, 3.0));
    PP_CHECK(NEAR(c.fc_num, 17.8, 2.0));
    PP_CHECK(NEAR(c.fc_m, 7.5, 1.5));
    PP_CHECK(NEAR(c.title_intl, 9.7, 2.0));
    PP_CHECK(NEAR(c.desc_intl, 43.0, 4.0));
    PP_CHECK(NEAR(c.desc_cut, 36.6, 2.0));
    PP_CHECK(NEAR(c.ages[0], 19.1, 1.5));
    PP_CHECK(NEAR(c.ages[1], 11.1, 1.2));
    PP_CHECK(c.ages[40] > 0 && c.ages[20] > c.ages[40]);
    /* geo and user columns move together as in the real table (Pearson r there: 0.47) */
    double n = NROWS, cov = c.sxy / n - (c.sx / n) * (c.sy / n);
    double r =
        cov / sqrt((c.sxx / n - (c.sx / n) * (c.sx / n)) * (c.syy / n - (c.sy / n) * (c.sy / n)));
    PP_CHECK(r > 0.35 && r < 0.65);
    for (int k = 0; k < 3; k++)
        pp_json_free(&doc[k]), pp_buf_free(&b[k]);
    pp_buf_free(&s);
    pp_gen_destroy(gen);
}

/* ---- the MySQL source (pp_mysql.h) ---- */

static int url_ok(const char *url, const char *user, const char *pw, const char *host,
                  unsigned port, const char *db, const char *sock)
{
    struct pp_mysql_url u;
    char err[256] = "";
    if (pp_mysql_url_parse(url, &u, err, sizeof(err))) {
        fprintf(stderr, "%s: %s\n", url, err);
        return 0;
    }
#define SAME(a, b) ((!(a) && !(b)) || ((a) && (b) && !strcmp((a), (b))))
    int ok = SAME(u.user, user) && SAME(u.password, pw) && SAME(u.host, host) && u.port == port &&
             SAME(u.db, db) && SAME(u.socket, sock);
#undef SAME
    if (!ok)
        fprintf(stderr, "%s: user %s pw %s host %s port %u db %s socket %s\n", url,
                u.user ? u.user : "-", u.password ? u.password : "-", u.host, u.port, u.db,
                u.socket ? u.socket : "-");
    pp_mysql_url_free(&u);
    return ok;
}

/* url is rejected with PP_EINVAL, errstr mentions want and not the password "secret". */
static int url_bad(const char *url, const char *want)
{
    struct pp_mysql_url u;
    char err[256] = "";
    int rc = pp_mysql_url_parse(url, &u, err, sizeof(err));
    int ok = rc == PP_EINVAL && strstr(err, want) && !strstr(err, "secret") && !u.host;
    if (!ok)
        fprintf(stderr, "%s: rc %d err \"%s\" (want \"%s\")\n", url, rc, err, want);
    return ok;
}

static void test_mysql_url(void)
{
    PP_CHECK(url_ok("mysql://pin:pw@127.0.0.1:3307/pinpipe", "pin", "pw", "127.0.0.1", 3307,
                    "pinpipe", NULL));
    PP_CHECK(
        url_ok("mysql://user@db.example.com/src", "user", NULL, "db.example.com", 0, "src", NULL));
    PP_CHECK(url_ok("MariaDB://u:@h/d", "u", "", "h", 0, "d", NULL));
    PP_CHECK(url_ok("mysql://h/d", NULL, NULL, "h", 0, "d", NULL));
    PP_CHECK(url_ok("mysql:///d?socket=/run/my%20sql.sock", NULL, NULL, "localhost", 0, "d",
                    "/run/my sql.sock"));
    PP_CHECK(url_ok("mysql://a%40b:p%40ss%2Fw%3A@[::1]:33/my%2Ddb", "a@b", "p@ss/w:", "::1", 33,
                    "my-db", NULL));
    PP_CHECK(url_ok("mysql://u:p@ss/w@h:1/d", "u", "p@ss/w", "h", 1, "d", NULL)); /* raw */
    PP_CHECK(url_ok("mysql://u:pw@[fe80::1]/d", "u", "pw", "fe80::1", 0, "d", NULL));
    PP_CHECK(url_bad("postgresql://u@h/d", "not a mysql://"));
    PP_CHECK(url_bad("mysql://u:secret@h", "no database"));
    PP_CHECK(url_bad("mysql://u:secret@h/", "no database"));
    PP_CHECK(url_bad("mysql://u:secret@h:0/d", "port"));
    PP_CHECK(url_bad("mysql://u:secret@h:65536/d", "port"));
    PP_CHECK(url_bad("mysql://u:secret@h:33a/d", "port"));
    PP_CHECK(url_bad("mysql://u:secret@h:/d", "port"));
    PP_CHECK(url_bad("mysql://u:secret@[::1/d", "IPv6"));
    PP_CHECK(url_bad("mysql://u:secret@[::1]x/d", "IPv6"));
    PP_CHECK(url_bad("mysql://u:sec%zzret@h/d", "escape"));
    PP_CHECK(url_bad("mysql://u:secret%00@h/d", "escape"));
    PP_CHECK(url_bad("mysql://u:secret@h/d/e", "database"));
    PP_CHECK(url_bad("mysql://u:secret@h/d?ssl=1", "parameter"));
    PP_CHECK(url_bad(NULL, "none"));

    struct pp_mysql_url u;
    char err[128], shown[128];
    PP_CHECK_INT(pp_mysql_url_parse("mysql://me:secret@[::1]:3306/db", &u, err, sizeof(err)), 0);
    pp_mysql_url_show(&u, shown, sizeof(shown));
    PP_CHECK_STR(shown, "mysql://me@[::1]:3306/db");
    pp_mysql_url_free(&u);
    pp_mysql_url_free(&u); /* idempotent */
    PP_CHECK_INT(pp_mysql_url_parse("mysql://h/db", &u, err, sizeof(err)), 0);
    pp_mysql_url_show(&u, shown, sizeof(shown));
    PP_CHECK_STR(shown, "mysql://h/db");
    pp_mysql_url_free(&u);
    pp_mysql_url_free(NULL);
}

static int row_is(const struct pp_mysql_col *cols, int n, const char *const *vals, const char *want)
{
    unsigned long lens[16];
    struct pp_buf b;
    pp_buf_init(&b, 0);
    for (int i = 0; i < n; i++)
        lens[i] = vals[i] ? (unsigned long)strlen(vals[i]) : 0;
    int rc = pp_mysql_row_json(cols, n, vals, lens, &b);
    int ok = !rc && b.data && !strcmp(b.data, want);
    if (!ok)
        fprintf(stderr, "row json: rc %d\n got  %s\n want %s\n", rc, b.data ? b.data : "", want);
    pp_buf_free(&b);
    return ok;
}

static void test_mysql_row_json(void)
{
    PP_CHECK_INT(pp_mysql_col_kind(MYSQL_TYPE_LONG), PP_MYSQL_COL_NUMBER);
    PP_CHECK_INT(pp_mysql_col_kind(MYSQL_TYPE_LONGLONG), PP_MYSQL_COL_NUMBER);
    PP_CHECK_INT(pp_mysql_col_kind(MYSQL_TYPE_TINY), PP_MYSQL_COL_NUMBER);
    PP_CHECK_INT(pp_mysql_col_kind(MYSQL_TYPE_DOUBLE), PP_MYSQL_COL_NUMBER);
    PP_CHECK_INT(pp_mysql_col_kind(MYSQL_TYPE_FLOAT), PP_MYSQL_COL_NUMBER);
    PP_CHECK_INT(pp_mysql_col_kind(MYSQL_TYPE_NEWDECIMAL), PP_MYSQL_COL_NUMBER);
    PP_CHECK_INT(pp_mysql_col_kind(MYSQL_TYPE_DATETIME), PP_MYSQL_COL_DATETIME);
    PP_CHECK_INT(pp_mysql_col_kind(MYSQL_TYPE_TIMESTAMP), PP_MYSQL_COL_DATETIME);
    PP_CHECK_INT(pp_mysql_col_kind(MYSQL_TYPE_DATE), PP_MYSQL_COL_DATETIME);
    PP_CHECK_INT(pp_mysql_col_kind(MYSQL_TYPE_VAR_STRING), PP_MYSQL_COL_STRING);
    PP_CHECK_INT(pp_mysql_col_kind(MYSQL_TYPE_BLOB), PP_MYSQL_COL_STRING);
    PP_CHECK_INT(pp_mysql_col_kind(MYSQL_TYPE_TIME), PP_MYSQL_COL_STRING);
    PP_CHECK_INT(pp_mysql_col_kind(MYSQL_TYPE_JSON), PP_MYSQL_COL_STRING);

    /* the real sample's rows, as the text protocol sends them -> the sample files' bytes */
    struct pp_mysql_col geo[] = {{"ind", 3, PP_MYSQL_COL_NUMBER},
                                 {"timestamp", 9, PP_MYSQL_COL_DATETIME},
                                 {"latitude", 8, PP_MYSQL_COL_NUMBER},
                                 {"longitude", 9, PP_MYSQL_COL_NUMBER},
                                 {"country", 7, PP_MYSQL_COL_STRING}};
    const char *g1[] = {"4", "2022-07-07 00:18:41", "-88.8298", "-170.188", "Albania"};
    PP_CHECK(row_is(geo, 5, g1,
                    "{\"ind\": 4, \"timestamp\": \"2022-07-07 00:18:41\", \"latitude\": "
                    "-88.8298, \"longitude\": -170.188, \"country\": \"Albania\"}"));
    const char *g2[] = {"4315", "0000-00-00 00:00:00", "1e20", "0.0000001", "Cote d'Ivoire"};
    PP_CHECK(row_is(geo, 5, g2,
                    "{\"ind\": 4315, \"timestamp\": null, \"latitude\": 1e20, \"longitude\": "
                    "0.0000001, \"country\": \"Cote d'Ivoire\"}"));
    const char *g3[] = {NULL, NULL, NULL, NULL, NULL};
    PP_CHECK(row_is(geo, 5, g3,
                    "{\"ind\": null, \"timestamp\": null, \"latitude\": null, \"longitude\": "
                    "null, \"country\": null}"));
    /* numbers that are not JSON numbers stay text; strings are escaped, UTF-8 kept */
    struct pp_mysql_col misc[] = {
        {"a", 1, PP_MYSQL_COL_NUMBER},    {"b", 1, PP_MYSQL_COL_NUMBER},
        {"c", 1, PP_MYSQL_COL_NUMBER},    {"d", 1, PP_MYSQL_COL_NUMBER},
        {"e\"q", 3, PP_MYSQL_COL_STRING}, {"f", 1, PP_MYSQL_COL_DATETIME}};
    const char *m1[] = {
        "007", ".5", "-0.50", "", "Zo\xc3\xab \xf0\x9f\x8d\x82 \"q\" \\ \n\t\x01", "2019-06-01"};
    PP_CHECK(row_is(
        misc, 6, m1,
        "{\"a\": \"007\", \"b\": \".5\", \"c\": -0.50, \"d\": \"\", \"e\\\"q\": "
        "\"Zo\xc3\xab \xf0\x9f\x8d\x82 \\\"q\\\" \\\\ \\n\\t\\u0001\", \"f\": \"2019-06-01\"}"));
    const char *m2[] = {"1E+5", "-1e-7", "1.", "1e", "", "2020-01-01 10:00:00.500000"};
    PP_CHECK(row_is(misc, 6, m2,
                    "{\"a\": 1E+5, \"b\": -1e-7, \"c\": \"1.\", \"d\": \"1e\", \"e\\\"q\": \"\", "
                    "\"f\": \"2020-01-01 10:00:00.500000\"}"));
    const char *m3[] = {"0", "0", "0", "0", "x", "2020-01-01 10:00:00.000000"};
    PP_CHECK(row_is(misc, 6, m3,
                    "{\"a\": 0, \"b\": 0, \"c\": 0, \"d\": 0, \"e\\\"q\": \"x\", "
                    "\"f\": \"2020-01-01 10:00:00\"}"));
    /* a value with a NUL byte (BLOB) keeps its length */
    struct pp_buf b;
    unsigned long lens[1] = {3};
    const char *v[1] = {"a\0b"};
    pp_buf_init(&b, 0);
    PP_CHECK_INT(pp_mysql_row_json(misc + 4, 1, v, lens, &b), 0);
    PP_CHECK_STR(b.data, "{\"e\\\"q\": \"a\\u0000b\"}");
    pp_buf_free(&b);
    PP_CHECK_STR(pp_mysql_tables[0], "pinterest_data");
    PP_CHECK_STR(pp_mysql_id_cols[0], "index");
    PP_CHECK_STR(pp_mysql_tables[2], "user_data");
}

int main(void)
{
    test_mysql_url();
    test_mysql_row_json();
    test_determinism();
    test_write_files();
    test_rows();
    PP_TEST_DONE();
}
