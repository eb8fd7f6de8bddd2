/* tls.c: certificate + key generations handed to GnuTLS per handshake (libmicrohttpd's
 * MHD_OPTION_HTTPS_CERT_CALLBACK), swapped by pp_tls_reload and freed when unused (pp_tls.h). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

#include "pp_err.h"
#include "pp_tls.h"

#define MAX_CHAIN 8               /* certificates in the chain file */
#define MAX_PEM ((size_t)1 << 20) /* bytes per file: far more than any real chain */
#define NBUCKETS 256
#define NSLOTS 8

/* One loaded certificate chain + key. refs (under the owner's mu): 1 while it is the current
 * one, plus 1 per connection whose handshake got it; freed at 0. Counting per connection, not
 * per handshake, because GnuTLS keeps pointers to them in the session until gnutls_deinit. */
struct gen {
    gnutls_pcert_st pcert[MAX_CHAIN];
    unsigned npcert;
    gnutls_privkey_t key;
    long refs;
    char desc[320];
};

/* Which generation a connection got (a hash chain node, keyed by the MHD connection). */
struct conn_ref {
    struct MHD_Connection *conn;
    struct gen *gen;
    struct conn_ref *next;
};

struct pp_tls {
    char cert_path[4096], key_path[4096];
    pthread_mutex_t mu; /* cur, every gen's refs, buckets */
    struct gen *cur;
    struct conn_ref *buckets[NBUCKETS];
    int slot;
    struct MHD_OptionItem opts[3];
};

static struct MHD_OptionItem no_opts[1] = {{MHD_OPTION_END, 0, NULL}};

/* ---- loading ---------------------------------------------------------------------------- */

static int read_file(const char *what, const char *path, gnutls_datum_t *d, char *errstr,
                     size_t errstr_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errstr, errstr_size, "%s %s: cannot open: %m", what, path);
        return PP_EIO;
    }
    unsigned char *buf = malloc(MAX_PEM + 1);
    size_t n = buf ? fread(buf, 1, MAX_PEM + 1, f) : 0;
    int bad = !buf || ferror(f) || n > MAX_PEM;
    fclose(f);
    if (bad) {
        int rc = buf ? PP_EIO : PP_ENOMEM;
        snprintf(errstr, errstr_size, "%s %s: %s", what, path,
                 !buf          ? "out of memory"
                 : n > MAX_PEM ? "larger than 1 MiB"
                               : "read error");
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    d->data = buf;
    d->size = (unsigned)n;
    return 0;
}

static void gen_free(struct gen *g)
{
    if (!g)
        return;
    for (unsigned i = 0; i < g->npcert; i++)
        gnutls_pcert_deinit(&g->pcert[i]);
    gnutls_privkey_deinit(g->key);
    free(g);
}

/* The SHA-256 key id of a public key; @returns its length, 0 on error. */
static size_t key_id(gnutls_pubkey_t pub, unsigned char *out, size_t size)
{
    return gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, out, &size) < 0 ? 0 : size;
}

/* Does g->key belong to g->pcert[0]? @returns 0 or PP_EINVAL. */
static int gen_check_pair(struct gen *g)
{
    gnutls_pubkey_t pub;
    unsigned char a[64], b[64];
    size_t na = 0, nb;
    if (gnutls_pubkey_init(&pub) < 0)
        return PP_EINVAL;
    if (gnutls_pubkey_import_privkey(pub, g->key, 0, 0) >= 0)
        na = key_id(pub, a, sizeof(a));
    gnutls_pubkey_deinit(pub);
    nb = key_id(g->pcert[0].pubkey, b, sizeof(b));
    return na && na == nb && !memcmp(a, b, na) ? 0 : PP_EINVAL;
}

/* desc: the leaf's subject and expiry, for log lines. */
static void gen_describe(struct gen *g)
{
    gnutls_x509_crt_t crt;
    gnutls_datum_t dn = {NULL, 0};
    snprintf(g->desc, sizeof(g->desc), "subject=?");
    if (gnutls_x509_crt_init(&crt) < 0)
        return;
    if (gnutls_x509_crt_import(crt, &g->pcert[0].cert, GNUTLS_X509_FMT_DER) >= 0 &&
        gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0) {
        time_t t = gnutls_x509_crt_get_expiration_time(crt);
        struct tm tm;
        char when[32] = "?";
        if (t != (time_t)-1 && gmtime_r(&t, &tm))
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(g->desc, sizeof(g->desc), "subject=%.*s not_after=%s%s", (int)dn.size,
                 (const char *)dn.data, when,
                 t != (time_t)-1 && t < time(NULL) ? " (expired)" : "");
        gnutls_free(dn.data);
    }
    gnutls_x509_crt_deinit(crt);
}

static int gen_load_cert(struct gen *g, const char *path, char *errstr, size_t errstr_size)
{
    gnutls_datum_t d;
    int rc = read_file("certificate", path, &d, errstr, errstr_size);
    if (rc)
        return rc;
    g->npcert = MAX_CHAIN;
    int grc = gnutls_pcert_list_import_x509_raw(g->pcert, &g->npcert, &d, GNUTLS_X509_FMT_PEM,
                                                GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
    free(d.data);
    if (grc < 0 || g->npcert == 0) {
        g->npcert = 0;
        snprintf(errstr, errstr_size,
                 "certificate %s: not a PEM certificate chain (leaf first, "
                 "at most %d): %s",
                 path, MAX_CHAIN, gnutls_strerror(grc));
        return PP_EPARSE;
    }
    return 0;
}

static int gen_load_key(struct gen *g, const char *path, char *errstr, size_t errstr_size)
{
    gnutls_datum_t d;
    int rc = read_file("key", path, &d, errstr, errstr_size);
    if (rc)
        return rc;
    int grc = gnutls_privkey_init(&g->key);
    if (grc >= 0)
        grc = gnutls_privkey_import_x509_raw(g->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
    gnutls_memset(d.data, 0, d.size); /* no copy of the key left in freed memory */
    free(d.data);
    if (grc < 0) {
        snprintf(errstr, errstr_size, "key %s: not an unencrypted PEM private key: %s", path,
                 gnutls_strerror(grc));
        return PP_EPARSE;
    }
    return 0;
}

/* Load both files into a new generation (refs 1). @returns owned gen, or NULL with errstr. */
static struct gen *gen_load(const char *cert, const char *key, char *errstr, size_t errstr_size)
{
    struct gen *g = calloc(1, sizeof(*g));
    if (!g) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    g->refs = 1;
    if (gen_load_cert(g, cert, errstr, errstr_size) || gen_load_key(g, key, errstr, errstr_size))
        goto fail;
    if (gen_check_pair(g)) {
        snprintf(errstr, errstr_size, "key %s: does not match the certificate in %s", key, cert);
        goto fail;
    }
    gen_describe(g);
    return g;
fail:
    gen_free(g);
    return NULL;
}

/* ---- per-handshake selection and per-connection references ------------------------------- */

static unsigned bucket_of(const struct MHD_Connection *conn)
{
    return (unsigned)(((uintptr_t)conn >> 4) % NBUCKETS);
}

/* Drop one reference (under tls->mu). @returns g when it must be freed (after unlocking). */
static struct gen *gen_unref(struct gen *g)
{
    return --g->refs == 0 ? g : NULL;
}

/* The certificate callback proper: give this handshake the current generation and remember
 * that its connection holds it. libmicrohttpd sets the session's pointer to its connection
 * (daemon.c, new_connection), the one link from a GnuTLS callback back to the connection. */
static int cert_pick(struct pp_tls *tls, gnutls_session_t session, gnutls_pcert_st **pcert,
                     unsigned *npcert, gnutls_privkey_t *key)
{
    struct MHD_Connection *conn = gnutls_session_get_ptr(session);
    struct conn_ref *ref = malloc(sizeof(*ref)), **pp;
    struct gen *drop = NULL;
    if (!tls || !ref) {
        free(ref);
        return -1; /* the handshake fails; the server goes on */
    }
    pthread_mutex_lock(&tls->mu);
    for (pp = &tls->buckets[bucket_of(conn)]; *pp && (*pp)->conn != conn; pp = &(*pp)->next)
        ;
    if (*pp) { /* a second handshake on one connection (TLS 1.2 renegotiation) */
        free(ref);
        ref = *pp;
        drop = gen_unref(ref->gen);
    } else {
        ref->conn = conn;
        ref->next = NULL;
        *pp = ref;
    }
    ref->gen = tls->cur;
    tls->cur->refs++;
    *pcert = ref->gen->pcert;
    *npcert = ref->gen->npcert;
    *key = ref->gen->key;
    pthread_mutex_unlock(&tls->mu);
    gen_free(drop);
    return 0;
}

/* GnuTLS's callback has no user pointer: one trampoline per slot, each bound to a pp_tls.
 * A slot is set before its daemon starts and cleared after it stopped. */
static struct pp_tls *slots[NSLOTS];
static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;

#define TRAMPOLINE(i)                                                                              \
    static int cert_cb##i(gnutls_session_t s, const gnutls_datum_t *rdn, int nrdn,                 \
                          const gnutls_pk_algorithm_t *algos, int nalgos, gnutls_pcert_st **pc,    \
                          unsigned *npc, gnutls_privkey_t *key)                                    \
    {                                                                                              \
        (void)rdn, (void)nrdn, (void)algos, (void)nalgos;                                          \
        return cert_pick(slots[i], s, pc, npc, key);                                               \
    }
TRAMPOLINE(0)
TRAMPOLINE(1)
TRAMPOLINE(2)
TRAMPOLINE(3)
TRAMPOLINE(4)
TRAMPOLINE(5)
TRAMPOLINE(6)
TRAMPOLINE(7)
static gnutls_certificate_retrieve_function2 *const trampolines[NSLOTS] = {
    cert_cb0, cert_cb1, cert_cb2, cert_cb3, cert_cb4, cert_cb5, cert_cb6, cert_cb7};

static int slot_claim(struct pp_tls *tls)
{
    int s = -1;
    pthread_mutex_lock(&slots_mu);
    for (int i = 0; i < NSLOTS && s < 0; i++)
        if (!slots[i])
            slots[s = i] = tls;
    pthread_mutex_unlock(&slots_mu);
    return s;
}

/* ---- the interface ------------------------------------------------------------------------ */

int pp_tls_supported(char *errstr, size_t errstr_size)
{
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES ||
        MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK) != MHD_YES) {
        snprintf(errstr, errstr_size,
                 "this libmicrohttpd was built without TLS (GnuTLS): "
                 "cannot serve HTTPS");
        return PP_EINVAL;
    }
    return 0;
}

struct pp_tls *pp_tls_new(const char *cert_path, const char *key_path, char *errstr,
                          size_t errstr_size)
{
    if (pp_tls_supported(errstr, errstr_size))
        return NULL;
    struct pp_tls *tls = calloc(1, sizeof(*tls));
    if (!tls) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    snprintf(tls->cert_path, sizeof(tls->cert_path), "%s", cert_path);
    snprintf(tls->key_path, sizeof(tls->key_path), "%s", key_path);
    pthread_mutex_init(&tls->mu, NULL);
    if (!(tls->cur = gen_load(cert_path, key_path, errstr, errstr_size))) {
        pthread_mutex_destroy(&tls->mu);
        free(tls);
        return NULL;
    }
    if ((tls->slot = slot_claim(tls)) < 0) {
        snprintf(errstr, errstr_size, "more than %d TLS servers in one process", NSLOTS);
        tls->slot = NSLOTS;
        pp_tls_destroy(tls);
        return NULL;
    }
    tls->opts[0] =
        (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)trampolines[tls->slot]};
    tls->opts[1] =
        (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)PP_TLS_PRIORITIES};
    tls->opts[2] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return tls;
}

int pp_tls_reload(struct pp_tls *tls, char *errstr, size_t errstr_size)
{
    struct gen *g = gen_load(tls->cert_path, tls->key_path, errstr, errstr_size);
    if (!g)
        return PP_EINVAL;
    pthread_mutex_lock(&tls->mu);
    struct gen *old = tls->cur;
    tls->cur = g;
    old = gen_unref(old); /* its "current" reference; connections may still hold it */
    pthread_mutex_unlock(&tls->mu);
    gen_free(old);
    return 0;
}

void pp_tls_describe(struct pp_tls *tls, char *out, size_t size)
{
    pthread_mutex_lock(&tls->mu);
    snprintf(out, size, "%s", tls->cur->desc);
    pthread_mutex_unlock(&tls->mu);
}

int pp_tls_key_exposed(const struct pp_tls *tls, char *why, size_t why_size)
{
    struct stat st;
    if (stat(tls->key_path, &st) || !(st.st_mode & (S_IRGRP | S_IROTH)))
        return 0;
    snprintf(why, why_size, "key %s is readable by %s (mode %03o): chmod 600 it", tls->key_path,
             st.st_mode & S_IROTH ? "everyone" : "its group", (unsigned)(st.st_mode & 0777));
    return 1;
}

unsigned pp_tls_mhd_flags(const struct pp_tls *tls)
{
    return tls ? MHD_USE_TLS : 0;
}

const struct MHD_OptionItem *pp_tls_mhd_options(const struct pp_tls *tls)
{
    return tls ? tls->opts : no_opts;
}

void pp_tls_conn_closed(struct pp_tls *tls, struct MHD_Connection *conn)
{
    if (!tls)
        return;
    struct conn_ref *ref = NULL, **pp;
    struct gen *drop = NULL;
    pthread_mutex_lock(&tls->mu);
    for (pp = &tls->buckets[bucket_of(conn)]; *pp && (*pp)->conn != conn; pp = &(*pp)->next)
        ;
    if ((ref = *pp)) {
        *pp = ref->next;
        drop = gen_unref(ref->gen);
    }
    pthread_mutex_unlock(&tls->mu);
    free(ref);
    gen_free(drop);
}

void pp_tls_destroy(struct pp_tls *tls)
{
    if (!tls)
        return;
    for (int b = 0; b < NBUCKETS; b++) /* none left once the daemons stopped; be safe */
        while (tls->buckets[b])
            pp_tls_conn_closed(tls, tls->buckets[b]->conn);
    if (tls->slot >= 0 && tls->slot < NSLOTS) {
        pthread_mutex_lock(&slots_mu);
        slots[tls->slot] = NULL;
        pthread_mutex_unlock(&slots_mu);
    }
    gen_free(tls->cur);
    pthread_mutex_destroy(&tls->mu);
    free(tls);
}
