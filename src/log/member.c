/* member.c: consumer-group membership (pp_log_subscribe): Kafka's group protocol, or the
 * embedded log's single member that gets every partition. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_int.h"
#include "log_int.h"
#include "pp_err.h"

struct pp_log_member {
    struct pp_log *log;
    struct kafka_member *km; /* Kafka backend */
    struct pp_log_member_cbs cbs;
    int ntopics;
    char **topics;
    int *nparts; /* embedded: partitions assigned per topic (0: not yet) */
};

enum pp_log_backend pp_log_backend(const struct pp_log *log)
{
    return log->kafka ? PP_LOG_KAFKA : PP_LOG_EMBEDDED;
}

static void member_free(struct pp_log_member *m)
{
    for (int i = 0; i < m->ntopics; i++)
        free(m->topics[i]);
    free(m->topics);
    free(m->nparts);
    free(m);
}

struct pp_log_member *pp_log_subscribe(struct pp_log *log, const char *group,
                                       const char *const *topics, int ntopics,
                                       const struct pp_log_member_cbs *cbs, char *errstr,
                                       size_t errstr_size)
{
    if (ntopics < 1 || !cbs || !cbs->on_assign || !cbs->on_revoke) {
        snprintf(errstr, errstr_size, "subscribe: no topics or callbacks");
        return NULL;
    }
    struct pp_log_member *m = calloc(1, sizeof(*m));
    if (!m || !(m->topics = calloc((size_t)ntopics, sizeof(char *))) ||
        !(m->nparts = calloc((size_t)ntopics, sizeof(int)))) {
        snprintf(errstr, errstr_size, "out of memory");
        if (m)
            member_free(m);
        return NULL;
    }
    m->log = log;
    m->cbs = *cbs;
    for (int i = 0; i < ntopics; i++) {
        if (!log_valid_name(topics[i]) || !(m->topics[i] = strdup(topics[i]))) {
            snprintf(errstr, errstr_size, "subscribe: bad topic name");
            member_free(m);
            return NULL;
        }
        m->ntopics++;
    }
    if (log->kafka &&
        !(m->km = log_kafka_subscribe(log, group, topics, ntopics, cbs, errstr, errstr_size))) {
        member_free(m);
        return NULL;
    }
    return m;
}

int pp_log_member_poll(struct pp_log_member *m, int timeout_ms)
{
    if (m->km)
        return log_kafka_member_poll(m->km, timeout_ms);
    for (int i = 0; i < m->ntopics; i++) {
        if (m->nparts[i])
            continue;
        int np = pp_log_partitions(m->log, m->topics[i], 0);
        if (np == PP_ENOENT)
            continue;
        if (np < 0)
            return np;
        struct pp_log_tp *tps = calloc((size_t)np, sizeof(*tps));
        if (!tps)
            return PP_ENOMEM;
        for (int p = 0; p < np; p++)
            tps[p] = (struct pp_log_tp){m->topics[i], p};
        int rc = m->cbs.on_assign(m->cbs.arg, tps, np);
        free(tps);
        if (rc)
            return rc;
        m->nparts[i] = np;
    }
    return 0;
}

void pp_log_unsubscribe(struct pp_log_member *m)
{
    if (!m)
        return;
    if (m->km) {
        log_kafka_unsubscribe(m->km);
    } else {
        for (int i = 0; i < m->ntopics; i++) {
            struct pp_log_tp *tps = calloc((size_t)(m->nparts[i] + 1), sizeof(*tps));
            if (!tps)
                break;
            for (int p = 0; p < m->nparts[i]; p++)
                tps[p] = (struct pp_log_tp){m->topics[i], p};
            if (m->nparts[i])
                m->cbs.on_revoke(m->cbs.arg, tps, m->nparts[i], 0);
            free(tps);
        }
    }
    member_free(m);
}
