/* kafka.c: the Kafka backend of the log: the idempotent acks=all producer, its delivery-report
 * poll thread, and durability tickets settled by those reports. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kafka_int.h"
#include "log_int.h"
#include "pp_err.h"
#include "pp_util.h"

#define POLL_MS 50
#define FLUSH_MS 10000 /* at close, wait this long for outstanding delivery reports */

int log_kafka_secret(const char *name)
{
    return strstr(name, "password") || strstr(name, "secret") || strstr(name, "sasl") ||
           strstr(name, "key");
}

void log_kafka_mask(const struct log_kafka *kf, char *msg)
{
    for (int i = 0; i < kf->nprops; i++) {
        const char *eq = strchr(kf->props[i], '=');
        char name[256];
        size_t len = eq ? (size_t)(eq - kf->props[i]) : 0;
        if (!eq || !eq[1] || len >= sizeof(name))
            continue;
        memcpy(name, kf->props[i], len);
        name[len] = 0;
        if (!log_kafka_secret(name))
            continue;
        size_t vlen = strlen(eq + 1);
        for (char *p = strstr(msg, eq + 1); p; p = strstr(p, eq + 1)) {
            /* "***" then the rest of the message: never longer than the value it replaces */
            size_t keep = vlen >= 3 ? 3 : vlen;
            memcpy(p, "***", keep);
            memmove(p + keep, p + vlen, strlen(p + vlen) + 1);
            p += keep;
        }
    }
}

int log_kafka_err(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return 0;
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        return PP_EFULL;
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
        return PP_EAGAIN;
    /* the group moved on (rebalance, or this member was fenced): another member owns it */
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID:
        return PP_EBUSY;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        return PP_ENOENT;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
        return PP_ETOOBIG;
    default:
        return PP_EIO;
    }
}

/* ---- durability tickets ---- */

static struct kafka_ticket *slot(struct log_kafka *kf, uint64_t t)
{
    return &kf->tk[t & (kf->cap - 1)];
}

/* Double the ring, keeping every slot it holds. Locked. */
static int ring_grow(struct log_kafka *kf)
{
    uint64_t cap = kf->cap * 2;
    struct kafka_ticket *tk = calloc(cap, sizeof(*tk));
    if (!tk)
        return PP_ENOMEM;
    for (uint64_t i = 0; i < kf->cap; i++)
        if (kf->tk[i].ticket)
            tk[kf->tk[i].ticket & (cap - 1)] = kf->tk[i];
    free(kf->tk);
    kf->tk = tk;
    kf->cap = cap;
    return 0;
}

/* Hand out the next ticket with pending records. Locked. @returns ticket or 0 (no memory). */
static uint64_t ticket_new(struct log_kafka *kf, int pending, int nrec)
{
    uint64_t t = kf->last + 1;
    if (t - kf->low >= kf->cap && ring_grow(kf))
        return 0;
    int64_t *offsets = NULL;
    int *rcs = NULL;
    if (nrec > 1) { /* one block: the offsets, then the outcomes */
        if (!(offsets = malloc((sizeof(*offsets) + sizeof(*rcs)) * (size_t)nrec)))
            return 0;
        rcs = (int *)(offsets + nrec);
        for (int i = 0; i < nrec; i++)
            offsets[i] = -1, rcs[i] = 0;
    }
    kf->last = t;
    struct kafka_ticket *s = slot(kf, t);
    free(s->offsets); /* of the ticket cap before, long settled (rcs lives in its block) */
    memset(s, 0, sizeof(*s));
    s->ticket = t;
    s->pending = pending;
    s->nrec = nrec;
    s->offset = -1;
    s->offsets = offsets;
    s->rcs = rcs;
    return t;
}

int log_kafka_ticket_offsets(struct pp_log *log, uint64_t ticket, int first, int64_t *offsets,
                             int *rcs, int n)
{
    struct log_kafka *kf = log->kafka;
    int rc;
    pthread_mutex_lock(&kf->mu);
    struct kafka_ticket *s = ticket ? slot(kf, ticket) : NULL;
    if (!s || s->ticket != ticket)
        rc = PP_ENOENT;
    else if (s->pending > 0)
        rc = PP_EAGAIN;
    else {
        int left = first < s->nrec ? s->nrec - first : 0;
        rc = n < left ? n : left;
        for (int i = 0; i < rc; i++) {
            offsets[i] = s->nrec == 1 ? s->offset : s->offsets[first + i];
            if (rcs)
                rcs[i] = s->nrec == 1 ? s->rc : s->rcs[first + i];
        }
    }
    pthread_mutex_unlock(&kf->mu);
    return rc;
}

/* Settle the records of ticket t: drop `done` pending ones, failing them with rc (<0) if set.
 * Locked; a callback that became due is returned in cb, arg and cb_rc for the caller to run
 * unlocked. @returns 1 if the ticket just settled. */
static int ticket_done(struct log_kafka *kf, uint64_t t, int done, int rc, void (**cb)(void *, int),
                       void **arg, int *cb_rc)
{
    struct kafka_ticket *s = slot(kf, t);
    *cb = NULL;
    if (s->ticket != t || s->pending <= 0)
        return 0;
    if (rc && !s->rc)
        s->rc = rc;
    s->pending -= done;
    if (s->pending > 0)
        return 0;
    s->pending = 0;
    *cb = s->cb;
    *arg = s->arg;
    *cb_rc = s->rc;
    s->cb = NULL;
    while (kf->low <= kf->last) {
        struct kafka_ticket *l = slot(kf, kf->low);
        if (l->ticket == kf->low && l->pending > 0)
            break;
        kf->low++;
    }
    pthread_cond_broadcast(&kf->cv);
    return 1;
}

/* Outcome of ticket t. Locked. @returns 1 settled ok, 0 pending, <0 its failure. */
static int ticket_state(struct log_kafka *kf, uint64_t t)
{
    if (t == 0 || t > kf->last)
        return 1;
    struct kafka_ticket *s = slot(kf, t);
    if (s->ticket != t)
        return 1; /* settled more than cap tickets ago (its outcome went to its waiters) */
    if (s->pending > 0)
        return 0;
    return s->rc ? s->rc : 1;
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    struct pp_log *log = opaque;
    struct log_kafka *kf = log->kafka;
    uint64_t op = (uint64_t)(uintptr_t)msg->_private, t = op >> KAFKA_IDX_BITS;
    int idx = (int)(op & (KAFKA_MAX_BATCH - 1));
    void (*cb)(void *, int);
    void *arg;
    int cb_rc = 0;
    SUB(&kf->st.pending_bytes, (uint64_t)(msg->len + msg->key_len));
    if (!msg->err) /* produce -> acked by the brokers (us since the produce call) */
        pp_hist_observe_us(&kf->st.append_lat, rd_kafka_message_latency(msg));
    pthread_mutex_lock(&kf->mu);
    struct kafka_ticket *s = slot(kf, t);
    if (s->ticket == t && idx < s->nrec) {
        if (msg->err) {
            if (s->nrec > 1)
                s->rcs[idx] = log_kafka_err(msg->err);
        } else if (s->nrec == 1) {
            s->offset = msg->offset;
        } else {
            s->offsets[idx] = msg->offset;
        }
    }
    ticket_done(kf, t, 1, log_kafka_err(msg->err), &cb, &arg, &cb_rc);
    pthread_mutex_unlock(&kf->mu);
    if (cb)
        cb(arg, cb_rc);
}

int log_kafka_durable(struct pp_log *log, uint64_t ticket)
{
    struct log_kafka *kf = log->kafka;
    pthread_mutex_lock(&kf->mu);
    int st = ticket_state(kf, ticket);
    pthread_mutex_unlock(&kf->mu);
    return st == 1;
}

int log_kafka_wait_durable(struct pp_log *log, uint64_t ticket, int timeout_ms)
{
    struct log_kafka *kf = log->kafka;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    int rc;
    pthread_mutex_lock(&kf->mu);
    while ((rc = ticket_state(kf, ticket)) == 0) {
        if (LOAD(&kf->closing) && !kf->poller_started) {
            rc = PP_ESHUTDOWN;
            break;
        }
        if (timeout_ms < 0)
            pthread_cond_wait(&kf->cv, &kf->mu);
        else if (pthread_cond_timedwait(&kf->cv, &kf->mu, &ts) == ETIMEDOUT) {
            rc = ticket_state(kf, ticket);
            if (!rc)
                rc = PP_ETIMEDOUT;
            break;
        }
    }
    pthread_mutex_unlock(&kf->mu);
    return rc == 1 ? 0 : rc;
}

int log_kafka_on_durable(struct pp_log *log, uint64_t ticket, void (*cb)(void *arg, int rc),
                         void *arg)
{
    struct log_kafka *kf = log->kafka;
    pthread_mutex_lock(&kf->mu);
    int rc = ticket_state(kf, ticket);
    if (rc == 0) {
        struct kafka_ticket *s = slot(kf, ticket);
        if (!kf->poller_started)
            rc = PP_ESHUTDOWN;
        else if (s->cb)
            rc = PP_EBUSY; /* one callback per ticket (serve registers one per request) */
        else {
            s->cb = cb;
            s->arg = arg;
        }
    }
    pthread_mutex_unlock(&kf->mu);
    return rc;
}

/* ---- producing ---- */

/* Partition of a record: as pp_log_append documents (Kafka's murmur2 for keys). */
static int pick_partition(struct pp_log *log, int nparts, const void *key, size_t keylen)
{
    if (key)
        return (int)((log_murmur2(key, keylen) & 0x7fffffff) % (uint32_t)nparts);
    return (int)(ADD(&log->rr, 1) % (uint64_t)nparts);
}

/* The producer's topic handle and partition count, creating the topic if missing. */
static int topic_for_append(struct pp_log *log, const char *topic, rd_kafka_topic_t **rkt)
{
    struct log_kafka *kf = log->kafka;
    int n = log_kafka_partitions(log, topic, !log->conf.readonly);
    if (n < 0)
        return n;
    pthread_mutex_lock(&kf->mu);
    struct kafka_topic *t = log_kafka_topic(kf, topic);
    if (t && !t->rkt)
        t->rkt = rd_kafka_topic_new(kf->rk, topic, NULL);
    *rkt = t ? t->rkt : NULL;
    pthread_mutex_unlock(&kf->mu);
    return *rkt ? n : PP_ENOMEM;
}

static int produce(struct log_kafka *kf, rd_kafka_topic_t *rkt, int partition, const void *key,
                   size_t keylen, const void *value, size_t vlen, int64_t ts_ms, uint64_t t,
                   int idx)
{
    rd_kafka_resp_err_t err = rd_kafka_producev(
        kf->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, keylen),
        RD_KAFKA_V_VALUE((void *)value, vlen), RD_KAFKA_V_TIMESTAMP(ts_ms),
        RD_KAFKA_V_OPAQUE((void *)(uintptr_t)((t << KAFKA_IDX_BITS) | (uint64_t)idx)),
        RD_KAFKA_V_END);
    if (err) {
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            ADD(&kf->st.efull, 1);
        return log_kafka_err(err);
    }
    ADD(&kf->st.appends, 1);
    ADD(&kf->st.append_bytes, (uint64_t)(keylen + vlen));
    ADD(&kf->st.pending_bytes, (uint64_t)(keylen + vlen));
    return 0;
}

static int append_check(struct pp_log *log)
{
    if (log->conf.readonly)
        return PP_EINVAL;
    if (LOAD(&log->kafka->closing))
        return PP_ESHUTDOWN;
    return 0;
}

int log_kafka_append(struct pp_log *log, const char *topic, int partition, const void *key,
                     size_t keylen, const void *value, size_t vlen, int64_t ts_ms,
                     int *partition_out, int64_t *offset, uint64_t *ticket)
{
    struct log_kafka *kf = log->kafka;
    rd_kafka_topic_t *rkt;
    if (keylen > PP_LOG_MAX_RECORD || vlen > PP_LOG_MAX_RECORD - keylen)
        return PP_ETOOBIG;
    ADD(&kf->active, 1);
    int rc = append_check(log), n = rc ? rc : topic_for_append(log, topic, &rkt);
    if (n < 0) {
        rc = n;
        goto out;
    }
    if (partition < 0)
        partition = pick_partition(log, n, key, keylen);
    else if (partition >= n) {
        rc = PP_ENOENT;
        goto out;
    }
    pthread_mutex_lock(&kf->mu);
    uint64_t t = ticket_new(kf, 1, 1);
    pthread_mutex_unlock(&kf->mu);
    if (!t) {
        rc = PP_ENOMEM;
        goto out;
    }
    rc = produce(kf, rkt, partition, key, keylen, value, vlen, ts_ms ? ts_ms : pp_now_ms(), t, 0);
    if (rc) { /* no report will come: settle it (nobody waits on it) */
        void (*cb)(void *, int);
        void *arg;
        int cb_rc;
        pthread_mutex_lock(&kf->mu);
        ticket_done(kf, t, 1, rc, &cb, &arg, &cb_rc);
        pthread_mutex_unlock(&kf->mu);
        goto out;
    }
    if (partition_out)
        *partition_out = partition;
    if (offset)
        *offset = -1; /* known only from the delivery report */
    if (ticket)
        *ticket = t;
out:
    SUB(&kf->active, 1);
    return rc;
}

int log_kafka_append_batch(struct pp_log *log, const char *topic, struct pp_log_entry *ents, int n,
                           int64_t ts_ms, uint64_t *ticket)
{
    struct log_kafka *kf = log->kafka;
    rd_kafka_topic_t *rkt = NULL;
    int done = 0, failed = 0;
    uint64_t t = 0;
    *ticket = 0;
    ADD(&kf->active, 1);
    int rc = append_check(log), np = rc ? rc : topic_for_append(log, topic, &rkt);
    if (np < 0)
        rc = np;
    if (!rc) {
        pthread_mutex_lock(&kf->mu);
        /* +1 holds it open until every record is produced */
        t = n < KAFKA_MAX_BATCH ? ticket_new(kf, n + 1, n) : 0;
        pthread_mutex_unlock(&kf->mu);
        if (!t)
            rc = PP_ENOMEM;
    }
    if (!ts_ms)
        ts_ms = pp_now_ms();
    for (int i = 0; i < n; i++) {
        struct pp_log_entry *e = &ents[i];
        e->offset = -1;
        e->rc = rc;
        if (rc)
            continue;
        if (e->keylen > PP_LOG_MAX_RECORD || e->vlen > PP_LOG_MAX_RECORD - e->keylen)
            e->rc = PP_ETOOBIG;
        else if (e->partition < 0)
            e->partition = pick_partition(log, np, e->key, e->keylen);
        else if (e->partition >= np)
            e->rc = PP_ENOENT;
        if (!e->rc)
            e->rc =
                produce(kf, rkt, e->partition, e->key, e->keylen, e->value, e->vlen, ts_ms, t, i);
        if (e->rc)
            failed++;
        else
            done++;
    }
    if (t) {
        void (*cb)(void *, int);
        void *arg;
        int cb_rc;
        pthread_mutex_lock(&kf->mu);
        ticket_done(kf, t, failed + 1, 0, &cb, &arg, &cb_rc);
        pthread_mutex_unlock(&kf->mu);
        if (done)
            *ticket = t;
    }
    SUB(&kf->active, 1);
    return done;
}

void log_kafka_stats(struct pp_log *log, struct pp_log_stats *st)
{
    struct log_kafka *kf = log->kafka;
    memset(st, 0, sizeof(*st));
    st->appends = LOAD(&kf->st.appends);
    st->append_bytes = LOAD(&kf->st.append_bytes);
    st->efull = LOAD(&kf->st.efull);
    st->pending_bytes = LOAD(&kf->st.pending_bytes);
    pp_hist_copy(&st->append_lat, &kf->st.append_lat);
}

/* ---- configuration, open, close ---- */

static int conf_set(rd_kafka_conf_t *conf, const char *prop, char *errstr, size_t errstr_size)
{
    char name[256], why[512];
    const char *eq = strchr(prop, '=');
    size_t len = eq ? (size_t)(eq - prop) : strlen(prop);
    if (!eq || len == 0 || len >= sizeof(name)) {
        snprintf(errstr, errstr_size, "bad kafka property (NAME=VALUE wanted)");
        return PP_EINVAL;
    }
    memcpy(name, prop, len);
    name[len] = 0;
    if (rd_kafka_conf_set(conf, name, eq + 1, why, sizeof(why)) == RD_KAFKA_CONF_OK)
        return 0;
    if (log_kafka_secret(name)) /* librdkafka's message may quote the value */
        snprintf(errstr, errstr_size, "kafka property %s: invalid value (***)", name);
    else
        snprintf(errstr, errstr_size, "kafka property %s: %s", name, why);
    return PP_EINVAL;
}

rd_kafka_conf_t *log_kafka_conf(struct log_kafka *kf, const char *const *extra, char *errstr,
                                size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char why[512];
    if (!conf) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, log_kafka_log_cb);
    if (rd_kafka_conf_set(conf, "bootstrap.servers", kf->brokers, why, sizeof(why))) {
        snprintf(errstr, errstr_size, "kafka brokers: %s", why);
        goto fail;
    }
    for (int i = 0; extra && extra[i]; i++)
        if (conf_set(conf, extra[i], errstr, errstr_size))
            goto fail;
    for (int i = 0; i < kf->nprops; i++) /* -X last: the user's word wins */
        if (conf_set(conf, kf->props[i], errstr, errstr_size))
            goto fail;
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

static void *poll_main(void *arg)
{
    struct pp_log *log = arg;
    struct log_kafka *kf = log->kafka;
    while (!LOAD(&kf->closing))
        rd_kafka_poll(kf->rk, POLL_MS);
    rd_kafka_flush(kf->rk, FLUSH_MS); /* serves the last delivery reports from this thread */
    return NULL;
}

int log_kafka_open(struct pp_log *log, char *errstr, size_t errstr_size)
{
    static const char *const producer[] = {
        "acks=all", "enable.idempotence=true", "allow.auto.create.topics=false",
        /* serve waits for each request's delivery report: a 0.2 ms linger batches concurrent
         * requests (linger.ms=0 makes librdkafka 2.0's broker thread spin once 5 requests are
         * in flight: 3-6x fewer requests/s at 64 connections; bench/kafka_serve.sh) */
        "linger.ms=0.2", "client.id=pinpipe", NULL};
    struct log_kafka *kf = calloc(1, sizeof(*kf));
    if (!kf) {
        snprintf(errstr, errstr_size, "out of memory");
        return PP_ENOMEM;
    }
    log->kafka = kf;
    pthread_mutex_init(&kf->mu, NULL);
    pthread_mutex_init(&kf->fail_mu, NULL);
    kf->connecting = 1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&kf->cv, &ca);
    pthread_condattr_destroy(&ca);
    kf->low = 1;
    kf->cap = KAFKA_TICKETS_MIN;
    if (!log->conf.brokers || !log->conf.brokers[0]) {
        snprintf(errstr, errstr_size, "kafka: no brokers (--brokers HOST:PORT,...)");
        return PP_EINVAL;
    }
    if (!(kf->tk = calloc(kf->cap, sizeof(*kf->tk))) ||
        !(kf->brokers = strdup(log->conf.brokers)) ||
        (log->conf.nkafka_props > 0 &&
         !(kf->props = calloc((size_t)log->conf.nkafka_props, sizeof(*kf->props))))) {
        snprintf(errstr, errstr_size, "out of memory");
        return PP_ENOMEM;
    }
    for (; kf->nprops < log->conf.nkafka_props; kf->nprops++)
        if (!(kf->props[kf->nprops] = strdup(log->conf.kafka_props[kf->nprops]))) {
            snprintf(errstr, errstr_size, "out of memory");
            return PP_ENOMEM;
        }
    log->conf.brokers = kf->brokers;
    log->conf.kafka_props = (const char *const *)kf->props;
    /* a reader process produces nothing: a plain client for metadata and watermarks (no
     * InitProducerId, so no IdempotentWrite permission needed) */
    static const char *const reader[] = {"allow.auto.create.topics=false", "client.id=pinpipe",
                                         NULL};
    rd_kafka_conf_t *conf =
        log_kafka_conf(kf, log->conf.readonly ? reader : producer, errstr, errstr_size);
    if (!conf)
        return PP_EINVAL;
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    log_kafka_conf_errors(conf);
    rd_kafka_conf_set_opaque(conf, log);
    char why[512];
    if (!(kf->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why)))) {
        rd_kafka_conf_destroy(conf);
        log_kafka_mask(kf, why);
        snprintf(errstr, errstr_size, "kafka producer: %s", why);
        return PP_EINVAL;
    }
    if (pthread_create(&kf->poller, NULL, poll_main, log)) {
        snprintf(errstr, errstr_size, "cannot start the kafka poll thread");
        return PP_ENOMEM;
    }
    kf->poller_started = 1;
    return log_kafka_contact(log, errstr, errstr_size);
}

void log_kafka_close(struct pp_log *log)
{
    struct log_kafka *kf = log->kafka;
    if (!kf)
        return;
    STORE(&kf->closing, 1);
    while (LOAD(&kf->active) > 0)
        usleep(1000);
    if (kf->poller_started) {
        pthread_join(kf->poller, NULL);
        pthread_mutex_lock(&kf->mu);
        kf->poller_started = 0;
        pthread_mutex_unlock(&kf->mu);
    }
    /* reports that never came: their waiters get PP_ESHUTDOWN */
    for (;;) {
        void (*cb)(void *, int) = NULL;
        void *arg = NULL;
        int cb_rc = 0, any = 0;
        pthread_mutex_lock(&kf->mu);
        for (uint64_t t = kf->low; t <= kf->last && !cb; t++) {
            struct kafka_ticket *s = slot(kf, t);
            if (s->ticket == t && s->pending > 0) {
                any = 1;
                ticket_done(kf, t, s->pending, PP_ESHUTDOWN, &cb, &arg, &cb_rc);
            }
        }
        pthread_cond_broadcast(&kf->cv);
        pthread_mutex_unlock(&kf->mu);
        if (cb)
            cb(arg, cb_rc);
        if (!any)
            break;
    }
    log_kafka_read_free(kf);
    log_kafka_meta_free(kf);
    if (kf->rk)
        rd_kafka_destroy(kf->rk);
    for (int i = 0; i < kf->nprops; i++)
        free(kf->props[i]);
    free(kf->props);
    free(kf->brokers);
    for (uint64_t i = 0; kf->tk && i < kf->cap; i++)
        free(kf->tk[i].offsets); /* and rcs, in the same block */
    free(kf->tk);
    pthread_mutex_destroy(&kf->mu);
    pthread_mutex_destroy(&kf->fail_mu);
    pthread_cond_destroy(&kf->cv);
    free(kf);
    log->kafka = NULL;
}
