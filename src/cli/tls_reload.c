/* tls_reload.c: TLS flags of serve/run and the workers, and the SIGHUP reload of their
 * certificate files (pp_cli_tls.h). */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pp_cli.h"
#include "pp_cli_tls.h"
#include "pp_util.h"

/* How often the reload thread looks at the SIGHUP count: a reload takes effect within this. */
#define POLL_US (50 * 1000)

struct pp_cli_tls {
    struct pp_tls *tls;
    const char *stage;
    pthread_t thread;
    atomic_int stop;
};

int pp_cli_tls_check(const char *cmd, const char *prefix, const char *cert, const char *key)
{
    if (!cert != !key)
        return pp_cli_fail(cmd, 2, "--%s-%s given without --%s-%s (both or neither)", prefix,
                           cert ? "cert" : "key", prefix, cert ? "key" : "cert");
    if (cert && (!*cert || !*key))
        return pp_cli_fail(cmd, 2, "--%s-cert and --%s-key want file names", prefix, prefix);
    return 0;
}

/* One reload, logged: the new subject, or one warning and the old credentials kept. */
static void reload(struct pp_cli_tls *ct)
{
    char err[600], desc[400];
    if (pp_tls_reload(ct->tls, err, sizeof(err))) {
        PP_WARN(ct->stage, "tls reload failed, still serving the previous certificate: %s", err);
        return;
    }
    pp_tls_describe(ct->tls, desc, sizeof(desc));
    PP_INFO(ct->stage, "tls certificate reloaded %s", desc);
    if (pp_tls_key_exposed(ct->tls, err, sizeof(err)))
        PP_WARN(ct->stage, "tls %s", err);
}

static void *reload_main(void *arg)
{
    struct pp_cli_tls *ct = arg;
    unsigned seen = pp_cli_hup_count();
    while (!atomic_load(&ct->stop)) {
        usleep(POLL_US);
        unsigned now = pp_cli_hup_count();
        if (now != seen) {
            seen = now; /* several SIGHUPs meanwhile: one reload reads the files as they are */
            reload(ct);
        }
    }
    return NULL;
}

struct pp_cli_tls *pp_cli_tls_start(const char *stage, const char *cert, const char *key,
                                    char *errstr, size_t errstr_size)
{
    struct pp_cli_tls *ct = calloc(1, sizeof(*ct));
    if (!ct) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    ct->stage = stage;
    if (!(ct->tls = pp_tls_new(cert, key, errstr, errstr_size))) {
        free(ct);
        return NULL;
    }
    pp_cli_hup_install();
    if (pthread_create(&ct->thread, NULL, reload_main, ct)) {
        snprintf(errstr, errstr_size, "cannot start the TLS reload thread");
        pp_tls_destroy(ct->tls);
        free(ct);
        return NULL;
    }
    char desc[400], why[600];
    pp_tls_describe(ct->tls, desc, sizeof(desc));
    PP_INFO(stage, "tls on: cert=%s %s (SIGHUP reloads it)", cert, desc);
    if (pp_tls_key_exposed(ct->tls, why, sizeof(why)))
        PP_WARN(stage, "tls %s", why);
    return ct;
}

struct pp_tls *pp_cli_tls_get(struct pp_cli_tls *ct)
{
    return ct ? ct->tls : NULL;
}

const char *pp_cli_tls_scheme(const struct pp_cli_tls *ct)
{
    return ct ? "https" : "http";
}

void pp_cli_tls_stop(struct pp_cli_tls *ct)
{
    if (!ct)
        return;
    atomic_store(&ct->stop, 1);
    pthread_join(ct->thread, NULL);
    pp_tls_destroy(ct->tls);
    free(ct);
}
