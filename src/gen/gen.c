/* gen.c: deterministic generator of pin/geo/user source rows shaped like the real tables.
 *
 * Rates and shapes were measured on ../shared/data/aicore_sample_*.jsonl (2019 rows):
 * categories (per-mille weights in gen_words.c), placeholders (error rows 0.74%, story
 * format 6.2%, video 3.0%, image_src error 2.4%, "No Tags" 1.4%, "No description
 * available" 1.5%), follower counts (plain 17.8%, k 73.9%, M 7.5%, "User Info Error"
 * 0.74%), 36.6% of descriptions cut at ~177 bytes with "…\u00a0", ~10% of titles and ~12% of
 * descriptions carry other non-ASCII text. Geo and user columns (latitude, longitude,
 * country, first/last name, age, date_joined) are skewed towards the start of their ranges
 * (quantile ~ u^2.67) and rank-correlated with each other (Spearman ~0.57), as in the real
 * table; geo timestamps are uniform over 2017-10-20..2022-10-19, date_joined spans
 * 2015-10-21..2017-10-19, coordinates have 6 significant digits.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pp_err.h"
#include "pp_gen.h"
#include "pp_json.h"
#include "pp_util.h"

struct pp_gen {
    uint64_t seed;
    int cat_cum[32]; /* cumulative category weights */
    int cat_total;
    int age_cum[41];
    int age_total;
};

/* ---- PRNG: xoshiro256** seeded through splitmix64 (Blackman & Vigna) ---- */

struct rng {
    uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3], s[2] ^= t, s[3] = rotl(s[3], 45);
    return result;
}

static void rng_seed(struct rng *r, uint64_t seed, uint64_t id)
{
    uint64_t x = seed ^ (id * 0xD1B54A32D192ED03ull);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

/* Uniform in [0, 1). */
static inline double rng_u(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n). */
static inline int rng_n(struct rng *r, int n)
{
    return (int)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static inline int chance(struct rng *r, double p)
{
    return rng_u(r) < p;
}

/* ---- a fixed-size text builder (no allocation per row) ---- */

struct tb {
    size_t n;
    char s[1024];
};

static void tb_addn(struct tb *t, const char *s, size_t n)
{
    if (n > sizeof(t->s) - 1 - t->n)
        n = sizeof(t->s) - 1 - t->n;
    memcpy(t->s + t->n, s, n);
    t->n += n;
    t->s[t->n] = '\0';
}

static void tb_add(struct tb *t, const char *s)
{
    tb_addn(t, s, strlen(s));
}

/* Append s lower-cased (ASCII letters only). */
static void tb_add_lower(struct tb *t, const char *s)
{
    size_t start = t->n;
    tb_add(t, s);
    for (size_t i = start; i < t->n; i++)
        if (t->s[i] >= 'A' && t->s[i] <= 'Z')
            t->s[i] = (char)(t->s[i] + 32);
}

static void tb_int(struct tb *t, int64_t v)
{
    char tmp[24];
    int i = 0, neg = v < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[i++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (neg)
        tmp[i++] = '-';
    while (i > 0 && t->n < sizeof(t->s) - 1)
        t->s[t->n++] = tmp[--i];
    t->s[t->n] = '\0';
}

/* ---- value helpers ---- */

/* Skewed quantile in [0, 1): most mass near 0, as the real geo/user columns. */
static inline double skew(double u)
{
    return pow(u, 2.67);
}

static int pick_cum(const int *cum, int n, int total, struct rng *r)
{
    int x = rng_n(r, total);
    for (int i = 0; i < n; i++)
        if (x < cum[i])
            return i;
    return n - 1;
}

/* Skewed pick among n sorted names; the first few share their mass evenly, as in the real
 * table (its top countries each hold 4-5% of the rows, not one of them 13%). */
static inline int skew_pick(double u, int n)
{
    int i = (int)(skew(u) * n);
    return i < 6 ? (int)(u * 1e6) % 6 : i;
}

/* Standard normal CDF. */
static inline double phi(double z)
{
    return 0.5 * erfc(-z * M_SQRT1_2);
}

/* Fill u[0..n) with uniforms that share a common factor (Gaussian copula, rho 0.59). */
static void correlated_uniforms(struct rng *r, double *u, int n)
{
    const double a = 0.7675, b = 0.6410; /* sqrt(0.589), sqrt(1 - 0.589) */
    double z[10];
    for (int i = 0; i < n + 1; i += 2) {
        double u1 = 1.0 - rng_u(r), u2 = rng_u(r);
        double m = sqrt(-2.0 * log(u1));
        z[i] = m * cos(2 * M_PI * u2);
        z[i + 1] = m * sin(2 * M_PI * u2);
    }
    for (int i = 0; i < n; i++)
        u[i] = phi(a * z[n] + b * z[i]);
}

static const char hexd[] = "0123456789abcdef";

static void put_uuid4(struct pp_buf *b, struct rng *r)
{
    uint64_t hi = rng_next(r), lo = rng_next(r);
    char s[38];
    int k = 0;
    s[k++] = '"';
    for (int i = 0; i < 32; i++) {
        uint64_t w = i < 16 ? hi : lo;
        int nib = (int)((w >> (60 - 4 * (i % 16))) & 15);
        if (i == 12)
            nib = 4;
        if (i == 16)
            nib = 8 | (nib & 3);
        if (i == 8 || i == 12 || i == 16 || i == 20)
            s[k++] = '-';
        s[k++] = hexd[nib];
    }
    s[k++] = '"';
    pp_buf_append(b, s, (size_t)k);
}

static int put_key(struct pp_buf *b, const char *key)
{
    return pp_buf_puts(b, key);
}

static int put_text(struct pp_buf *b, const char *key, const char *s, size_t n)
{
    int rc = put_key(b, key);
    return rc ? rc : pp_json_put_str(b, s, n);
}

/* Follower count of the synthetic poster h: plain 0..999, "Nk" log-uniform, rarely "NM". */
static void follower_count(uint64_t h, struct tb *t)
{
    struct rng r;
    rng_seed(&r, h, 7);
    double x = rng_u(&r);
    if (x < 0.19) {
        tb_int(t, (int64_t)(pow(rng_u(&r), 2.6) * 1000));
    } else if (x < 0.975) {
        tb_int(t, (int64_t)exp(rng_u(&r) * log(999.0)));
        tb_add(t, "k");
    } else {
        static const int m[] = {1, 1, 2, 2, 2, 3, 4, 5, 5, 8, 15};
        tb_int(t, m[rng_n(&r, 11)]);
        tb_add(t, "M");
    }
}

/* Poster name and follower count: a skewed pick from a per-category pool whose first
 * accounts are the category's well-known posters. */
static void poster(const struct pp_gen_cat *cat, int ci, struct rng *r, struct tb *name,
                   struct tb *fc)
{
    int p = (int)(skew(rng_u(r)) * 3000);
    if (p < cat->n_posters) {
        tb_add(name, cat->posters[p]);
        tb_add(fc, cat->followers[p]);
        return;
    }
    uint64_t h = (uint64_t)ci * 100003u + (uint64_t)p;
    struct rng pr;
    rng_seed(&pr, h, 11);
    const char *first = pp_gen_first[rng_n(&pr, pp_gen_nfirst)];
    if (chance(&pr, 0.04))
        first = pp_gen_poster_intl[rng_n(&pr, pp_gen_nposter_intl)];
    const char *last = pp_gen_last[rng_n(&pr, pp_gen_nlast)];
    const char *word = pp_gen_poster_words[rng_n(&pr, pp_gen_nposter_words)];
    switch (rng_n(&pr, 6)) {
    case 0:
        tb_add(name, first), tb_add(name, " "), tb_add(name, last);
        break;
    case 1:
        tb_add(name, last), tb_add(name, " "), tb_add(name, word);
        break;
    case 2:
        tb_add(name, "The "), tb_add(name, pp_gen_adjs[rng_n(&pr, pp_gen_nadjs)]);
        tb_add(name, " "), tb_add(name, word);
        break;
    case 3:
        tb_add(name, first), tb_add(name, "'s "), tb_add(name, word);
        break;
    case 4:
        tb_add(name, first), tb_add(name, " "), tb_add(name, last), tb_add(name, " | ");
        tb_add(name, word);
        break;
    default:
        tb_add(name, cat->nouns[rng_n(&pr, cat->n_nouns)]), tb_add(name, " by "),
            tb_add(name, first);
    }
    follower_count(h, fc);
}

static void intl_fragment(struct rng *r, struct tb *t)
{
    int i = rng_n(r, pp_gen_nintl - 3);
    if (chance(r, 0.015))
        i = pp_gen_nintl - 3 + rng_n(r, 3);
    tb_add(t, pp_gen_intl[i]);
}

static void title(const struct pp_gen_cat *cat, struct rng *r, const char *pname, struct tb *t)
{
    const char *noun = cat->nouns[rng_n(r, cat->n_nouns)];
    const char *adj = pp_gen_adjs[rng_n(r, pp_gen_nadjs)];
    switch (rng_n(r, 12)) {
    case 0:
        tb_int(t, 5 + rng_n(r, 70)), tb_add(t, " "), tb_add(t, adj), tb_add(t, " ");
        tb_add(t, noun), tb_add(t, " Ideas");
        break;
    case 1:
        tb_int(t, 5 + rng_n(r, 70)), tb_add(t, " "), tb_add(t, adj), tb_add(t, " ");
        tb_add(t, noun), tb_add(t, " Ideas for "), tb_int(t, 2018 + rng_n(r, 5));
        break;
    case 2:
        tb_add(t, "How to Make "), tb_add(t, adj), tb_add(t, " "), tb_add(t, noun);
        break;
    case 3:
        tb_add(t, adj), tb_add(t, " "), tb_add(t, noun);
        break;
    case 4:
        tb_add(t, adj), tb_add(t, " "), tb_add(t, noun), tb_add(t, " | "), tb_add(t, pname);
        break;
    case 5:
        tb_add(t, "The Best "), tb_add(t, noun), tb_add(t, " for Beginners");
        break;
    case 6:
        tb_add(t, adj), tb_add(t, " "), tb_add(t, noun);
        tb_add(t, chance(r, 0.4) ? " You\xE2\x80\x99ll Love" : " You'll Love");
        break;
    case 7:
        tb_add(t, "DIY "), tb_add(t, adj), tb_add(t, " "), tb_add(t, noun);
        break;
    case 8:
        tb_add(t, noun), tb_add(t, " Inspiration");
        break;
    case 9:
        tb_int(t, 3 + rng_n(r, 30)), tb_add(t, " Ways to Style Your "), tb_add(t, noun);
        break;
    case 10:
        tb_add(t, noun), tb_add(t, " - "), tb_add(t, adj), tb_add(t, " "),
            tb_add(t, cat->nouns[rng_n(r, cat->n_nouns)]);
        break;
    default:
        tb_add(t, "Our Favourite "), tb_add(t, noun), tb_add(t, " of "),
            tb_int(t, 2018 + rng_n(r, 5));
    }
    if (chance(r, 0.075))
        intl_fragment(r, t);
}

static void sentence(const struct pp_gen_cat *cat, struct rng *r, const char *pname, struct tb *t)
{
    const char *noun = cat->nouns[rng_n(r, cat->n_nouns)];
    const char *adj = pp_gen_adjs[rng_n(r, pp_gen_nadjs)];
    switch (rng_n(r, 10)) {
    case 0:
        tb_add(t, "Looking for "), tb_add_lower(t, adj), tb_add(t, " "), tb_add_lower(t, noun);
        tb_add(t, "? Here are "), tb_int(t, 5 + rng_n(r, 40)),
            tb_add(t, " ideas to try this year.");
        break;
    case 1:
        tb_add(t, "Discover "), tb_add_lower(t, adj), tb_add(t, " "), tb_add_lower(t, noun);
        tb_add(t, " and get inspired.");
        break;
    case 2:
        tb_add(t, "The ultimate guide to "), tb_add_lower(t, noun);
        tb_add(t, ": tips, tricks and "), tb_add_lower(t, adj),
            tb_add(t, " ideas for every budget.");
        break;
    case 3:
        tb_add(t, "Check out these "), tb_add_lower(t, adj), tb_add(t, " "), tb_add_lower(t, noun),
            tb_add(t, ", perfect for any season.");
        break;
    case 4:
        tb_add(t, pname), tb_add(t, " shares "), tb_int(t, 3 + rng_n(r, 20)), tb_add(t, " ");
        tb_add_lower(t, adj), tb_add(t, " ways to get started with "), tb_add_lower(t, noun);
        tb_add(t, ".");
        break;
    case 5:
        tb_add(t, chance(r, 0.4) ? "We\xE2\x80\x99ve" : "We've"),
            tb_add(t, " rounded up the most "), tb_add_lower(t, adj), tb_add(t, " ");
        tb_add_lower(t, noun), tb_add(t, " on the internet.");
        break;
    case 6:
        tb_add(t, "Save this pin for later and follow us for more "), tb_add_lower(t, noun);
        tb_add(t, "!");
        break;
    case 7:
        tb_add(t, "From beginners to pros, everyone will love these "), tb_add_lower(t, adj);
        tb_add(t, " "), tb_add_lower(t, noun), tb_add(t, ".");
        break;
    case 8:
        tb_add(t, "It doesn't matter if you are new to "), tb_add_lower(t, noun);
        tb_add(t, " or an expert, there is something here for you.");
        break;
    default:
        tb_add(t, "Step by step instructions, free printables and "), tb_add_lower(t, adj);
        tb_add(t, " "), tb_add_lower(t, noun), tb_add(t, " you can make in an afternoon.");
    }
}

/* Cut t to at most max bytes at a UTF-8 boundary, without a trailing blank. */
static void tb_cut(struct tb *t, size_t max)
{
    if (t->n <= max)
        return;
    t->n = max;
    while (t->n > 0 && ((unsigned char)t->s[t->n] & 0xC0) == 0x80)
        t->n--;
    while (t->n > 0 && (t->s[t->n - 1] == ' ' || t->s[t->n - 1] == ','))
        t->n--;
    t->s[t->n] = '\0';
}

static void description(const struct pp_gen_cat *cat, struct rng *r, const char *pname,
                        struct tb *t)
{
    int longd = chance(r, 0.40); /* 36.6% of all rows once story rows are out */
    int k = longd ? 8 : 1 + rng_n(r, 2);
    for (int i = 0; i < k && t->n < 200; i++) {
        size_t before = t->n;
        if (i)
            tb_add(t, " ");
        sentence(cat, r, pname, t);
        if (!longd && t->n > 177) {
            t->n = before;
            break;
        }
    }
    if (chance(r, 0.07))
        intl_fragment(r, t);
    if (longd) {
        tb_cut(t, 176);
        tb_add(t, "\xE2\x80\xA6\xC2\xA0"); /* "…" and a no-break space, as Pinterest cuts */
    } else {
        tb_cut(t, 178);
    }
}

static const char *const intl_tags[] = {"Décor Ideas", "Idées Déco", "Café Style", "Crème Brûlée",
                                        "Новый год"};

static void tag_list(const struct pp_gen_cat *cat, struct rng *r, struct tb *t)
{
    int idx[32], n = cat->n_tags < 32 ? cat->n_tags : 32;
    for (int i = 0; i < n; i++)
        idx[i] = i;
    int k = chance(r, 0.99) ? 9 : 3 + rng_n(r, 6);
    if (k > n)
        k = n;
    for (int i = 0; i < k; i++) {
        int j = i + rng_n(r, n - i), tmp = idx[i];
        idx[i] = idx[j], idx[j] = tmp;
        if (i)
            tb_add(t, ",");
        if (i == k - 1 && chance(r, 0.009))
            tb_add(t, intl_tags[rng_n(r, (int)(sizeof(intl_tags) / sizeof(intl_tags[0])))]);
        else
            tb_add(t, cat->tags[idx[i]]);
    }
}

static void image_src(struct rng *r, struct tb *t)
{
    char h[32];
    uint64_t a = rng_next(r), b = rng_next(r);
    for (int i = 0; i < 16; i++) {
        h[i] = hexd[(a >> (4 * i)) & 15];
        h[16 + i] = hexd[(b >> (4 * i)) & 15];
    }
    tb_add(t, "https://i.pinimg.com/originals/");
    tb_addn(t, h, 2), tb_add(t, "/"), tb_addn(t, h + 2, 2), tb_add(t, "/");
    tb_addn(t, h + 4, 2), tb_add(t, "/"), tb_addn(t, h, 32);
    double x = rng_u(r);
    tb_add(t, x < 0.842 ? ".jpg" : x < 0.993 ? ".png" : x < 0.9985 ? ".webp" : ".gif");
}

/* ---- fast formatting (printf dominated the profile) ---- */

static int put_int(struct pp_buf *b, int64_t v)
{
    struct tb t;
    t.n = 0;
    tb_int(&t, v);
    return pp_buf_append(b, t.s, t.n);
}

/* x as printf's %.6g would write it (6 significant digits, trailing zeros dropped). */
static int put_g6(struct pp_buf *b, double x)
{
    double a = fabs(x);
    if (!(a >= 1e-4 && a < 1e5))
        return pp_buf_printf(b, "%.6g", x);
    int e = a >= 1e4    ? 4
            : a >= 1e3  ? 3
            : a >= 100  ? 2
            : a >= 10   ? 1
            : a >= 1    ? 0
            : a >= 0.1  ? -1
            : a >= 0.01 ? -2
            : a >= 1e-3 ? -3
                        : -4;
    static const double p10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    int frac = 5 - e; /* digits after the point, 1..9 */
    int64_t m = llround(a * p10[frac]);
    if (m >= 1000000 && frac > 0) /* rounded up to the next power of ten */
        m = llround(a * p10[--frac]);
    char s[40];
    int n = 0;
    if (x < 0)
        s[n++] = '-';
    int64_t ip = m / (int64_t)p10[frac], fp = m % (int64_t)p10[frac];
    char tmp[24];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip);
    while (k)
        s[n++] = tmp[--k];
    if (fp) {
        s[n++] = '.';
        for (int i = frac - 1; i >= 0; i--)
            s[n++] = (char)('0' + (fp / (int64_t)p10[i]) % 10);
        while (s[n - 1] == '0')
            n--;
    }
    return pp_buf_append(b, s, (size_t)n);
}

/* Epoch seconds as "YYYY-MM-DD HH:MM:SS" (UTC; civil-from-days after H. Hinnant). */
static int put_time(struct pp_buf *b, int64_t sec)
{
    int64_t days = sec / 86400, rem = sec % 86400;
    days += 719468;
    int64_t era = days / 146097, doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
    int64_t mo = mp < 10 ? mp + 3 : mp - 9;
    y += mo <= 2;
    int v[6] = {(int)y, (int)mo, (int)d, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60)};
    char s[21] = "0000-00-00 00:00:00\"";
    s[0] = (char)('0' + v[0] / 1000 % 10), s[1] = (char)('0' + v[0] / 100 % 10);
    s[2] = (char)('0' + v[0] / 10 % 10), s[3] = (char)('0' + v[0] % 10);
    for (int i = 1; i < 6; i++) {
        s[3 * i + 2] = (char)('0' + v[i] / 10);
        s[3 * i + 3] = (char)('0' + v[i] % 10);
    }
    return pp_buf_append(b, s, 20);
}

#define PH_TITLE "No Title Data Available"
#define PH_STORY "No description available Story format"
#define PH_NODESC "No description available"
#define PH_UIE "User Info Error"
#define PH_TAGS "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e"
#define PH_IMG "Image src error."

static int gen_pin(struct pp_gen *gen, struct rng *r, int64_t id, struct pp_buf *b)
{
    int ci = pick_cum(gen->cat_cum, pp_gen_ncats, gen->cat_total, r);
    const struct pp_gen_cat *cat = &pp_gen_cats[ci];
    struct tb pname, fc, ti, de, tags, img;
    pname.n = fc.n = ti.n = de.n = tags.n = img.n = 0;
    pname.s[0] = fc.s[0] = ti.s[0] = de.s[0] = tags.s[0] = img.s[0] = '\0';
    double x = rng_u(r);
    int err_row = x < 0.0074, story = !err_row && x < 0.0074 + 0.062;
    int video = !err_row && !story && x < 0.0074 + 0.062 + 0.030;
    int img_err = err_row || (story && chance(r, 0.27));

    poster(cat, ci, r, &pname, &fc);
    if (err_row) {
        pname.n = fc.n = 0;
        pname.s[0] = fc.s[0] = '\0';
        tb_add(&pname, PH_UIE), tb_add(&fc, PH_UIE), tb_add(&ti, PH_TITLE);
    } else {
        double y = rng_u(r);
        if (y < 0.0005)
            tb_add(&ti, "Untitled");
        else if (y >= 0.001) /* else: an empty title, as in the real table */
            title(cat, r, pname.s, &ti);
    }
    double y = rng_u(r);
    if (err_row || story)
        tb_add(&de, PH_STORY);
    else if (y < 0.016)
        tb_add(&de, PH_NODESC);
    else if (y < 0.0165)
        tb_add(&de, "Untitled");
    else
        description(cat, r, pname.s, &de);
    if (err_row || chance(r, 0.007))
        tb_add(&tags, PH_TAGS);
    else
        tag_list(cat, r, &tags);
    if (img_err)
        tb_add(&img, PH_IMG);
    else
        image_src(r, &img);

    int rc;
    if ((rc = pp_buf_puts(b, "{\"index\": ")) || (rc = put_int(b, id)) ||
        (rc = pp_buf_puts(b, ", \"unique_id\": ")))
        return rc;
    put_uuid4(b, r);
    if ((rc = put_text(b, ", \"title\": ", ti.s, ti.n)) ||
        (rc = put_text(b, ", \"description\": ", de.s, de.n)) ||
        (rc = put_text(b, ", \"poster_name\": ", pname.s, pname.n)) ||
        (rc = put_text(b, ", \"follower_count\": ", fc.s, fc.n)) ||
        (rc = put_text(b, ", \"tag_list\": ", tags.s, tags.n)))
        return rc;
    const char *kind = err_row || story ? "multi-video(story page format)"
                       : video          ? "video"
                                        : "image";
    if ((rc = pp_buf_puts(b, ", \"is_image_or_video\": \"")) || (rc = pp_buf_puts(b, kind)) ||
        (rc = pp_buf_puts(b, "\", \"image_src\": \"")) || (rc = pp_buf_append(b, img.s, img.n)) ||
        (rc = pp_buf_puts(b, img_err ? "\", \"downloaded\": 0" : "\", \"downloaded\": 1")) ||
        (rc = pp_buf_puts(b, ", \"save_location\": \"Local save in /data/")) ||
        (rc = pp_buf_puts(b, cat->name)) || (rc = pp_buf_puts(b, "\", \"category\": \"")) ||
        (rc = pp_buf_puts(b, cat->name)))
        return rc;
    return pp_buf_append(b, "\"}", 2);
}

static int gen_geo_user(struct pp_gen *gen, struct rng *r, int64_t id, struct pp_buf *geo,
                        struct pp_buf *user)
{
    double u[7];
    correlated_uniforms(r, u, 7);
    double lat = -90.0 + 180.0 * skew(u[0]), lon = -180.0 + 360.0 * skew(u[1]);
    int country = skew_pick(u[2], pp_gen_ncountries);
    int first = skew_pick(u[3], pp_gen_nfirst), last = skew_pick(u[4], pp_gen_nlast);
    int age = 0, target = (int)(u[5] * gen->age_total);
    while (age < 40 && target >= gen->age_cum[age])
        age++;
    int64_t joined = 1445385600 + (int64_t)(skew(u[6]) * (1508371200 - 1445385600));
    int64_t ts = 1508457600 + (int64_t)(rng_u(r) * (1666137600 - 1508457600));
    const char *cn = pp_gen_countries[country];
    int rc;
    if ((rc = pp_buf_puts(geo, "{\"ind\": ")) || (rc = put_int(geo, id)) ||
        (rc = pp_buf_puts(geo, ", \"timestamp\": \"")) || (rc = put_time(geo, ts)) ||
        (rc = pp_buf_puts(geo, ", \"latitude\": ")) || (rc = put_g6(geo, lat)) ||
        (rc = pp_buf_puts(geo, ", \"longitude\": ")) || (rc = put_g6(geo, lon)) ||
        (rc = pp_buf_puts(geo, ", \"country\": ")) || (rc = pp_json_put_str(geo, cn, strlen(cn))) ||
        (rc = pp_buf_putc(geo, '}')))
        return rc;
    if ((rc = pp_buf_puts(user, "{\"ind\": ")) || (rc = put_int(user, id)) ||
        (rc = pp_buf_puts(user, ", \"first_name\": \"")) ||
        (rc = pp_buf_puts(user, pp_gen_first[first])) ||
        (rc = pp_buf_puts(user, "\", \"last_name\": \"")) ||
        (rc = pp_buf_puts(user, pp_gen_last[last])) || (rc = pp_buf_puts(user, "\", \"age\": ")) ||
        (rc = put_int(user, 20 + age)) || (rc = pp_buf_puts(user, ", \"date_joined\": \"")) ||
        (rc = put_time(user, joined)))
        return rc;
    return pp_buf_putc(user, '}');
}

struct pp_gen *pp_gen_new(uint64_t seed)
{
    struct pp_gen *gen = calloc(1, sizeof(*gen));
    if (!gen)
        return NULL;
    gen->seed = seed;
    for (int i = 0; i < pp_gen_ncats && i < 32; i++) {
        gen->cat_total += pp_gen_cats[i].weight;
        gen->cat_cum[i] = gen->cat_total;
    }
    for (int i = 0; i < 41; i++) {
        gen->age_total += pp_gen_age_weights[i];
        gen->age_cum[i] = gen->age_total;
    }
    return gen;
}

void pp_gen_destroy(struct pp_gen *gen)
{
    free(gen);
}

int pp_gen_row(struct pp_gen *gen, int64_t id, struct pp_buf *pin, struct pp_buf *geo,
               struct pp_buf *user)
{
    struct rng r;
    rng_seed(&r, gen->seed, (uint64_t)id);
    int rc = gen_pin(gen, &r, id, pin);
    return rc ? rc : gen_geo_user(gen, &r, id, geo, user);
}
