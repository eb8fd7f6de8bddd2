/* kafka_read.c: readers of the Kafka backend (one partition from an offset, librdkafka's
 * per-partition fetchers) and consumer-group committed offsets (OffsetCommit/OffsetFetch). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_int.h"
#include "log_int.h"
#include "pp_err.h"
#include "pp_util.h"

struct kafka_consumer {
    rd_kafka_t *rk;
    struct kafka_reader *readers; /* started partitions of this consumer */
};

struct kafka_reader {
    struct log_kafka *kf;
    struct kafka_consumer *c;
    struct kafka_reader *next; /* in c->readers */
    rd_kafka_topic_t *rkt;
    char topic[250];
    int partition;
    int64_t pos;               /* next offset to return */
    rd_kafka_message_t **msgs; /* returned by the last read (borrowed by the caller) */
    int nmsgs, cap;
};

static const char *const consumer_props[] = {"enable.partition.eof=false",
                                             "auto.offset.reset=earliest",
                                             "fetch.wait.max.ms=10",
                                             "fetch.error.backoff.ms=50",
                                             "queued.max.messages.kbytes=16384",
                                             "client.id=pinpipe",
                                             NULL};

/* A consumer on which topic/partition is not started yet (new if needed). Locked. */
static struct kafka_consumer *consumer_for(struct log_kafka *kf, const char *topic, int partition,
                                           char *errstr, size_t errstr_size)
{
    for (int i = 0; i < kf->ncons; i++) {
        struct kafka_reader *r = kf->cons[i]->readers;
        while (r && (r->partition != partition || strcmp(r->topic, topic)))
            r = r->next;
        if (!r)
            return kf->cons[i];
    }
    if (kf->ncons == KAFKA_MAX_CONSUMERS) {
        snprintf(errstr, errstr_size, "too many readers of %s/%d", topic, partition);
        return NULL;
    }
    struct kafka_consumer *c = calloc(1, sizeof(*c));
    rd_kafka_conf_t *conf = c ? log_kafka_conf(kf, consumer_props, errstr, errstr_size) : NULL;
    char why[512];
    if (c && conf && !(c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why)))) {
        rd_kafka_conf_destroy(conf);
        log_kafka_mask(kf, why);
        snprintf(errstr, errstr_size, "kafka consumer: %s", why);
    }
    if (!c || !c->rk) {
        if (!c)
            snprintf(errstr, errstr_size, "out of memory");
        free(c);
        return NULL;
    }
    kf->cons[kf->ncons++] = c;
    return c;
}

static void consumer_unlink(struct kafka_consumer *c, struct kafka_reader *krd)
{
    for (struct kafka_reader **p = &c->readers; *p; p = &(*p)->next)
        if (*p == krd) {
            *p = krd->next;
            return;
        }
}

struct kafka_reader *log_kafka_reader_open(struct pp_log *log, const char *topic, int partition,
                                           int64_t offset, char *errstr, size_t errstr_size)
{
    struct log_kafka *kf = log->kafka;
    int n = log_kafka_partitions(log, topic, 0);
    if (n < 0) {
        snprintf(errstr, errstr_size, "topic %s: %s", topic, pp_err_str(n));
        return NULL;
    }
    if (partition < 0 || partition >= n) {
        snprintf(errstr, errstr_size, "topic %s has no partition %d", topic, partition);
        return NULL;
    }
    int64_t low, high;
    if (offset < 0 || (!log_kafka_watermarks(log, topic, partition, &low, &high) && offset < low))
        offset = offset < 0 ? 0 : low; /* as the embedded log: clamped up to the low watermark */
    struct kafka_reader *krd = calloc(1, sizeof(*krd));
    if (!krd) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    krd->kf = kf;
    krd->partition = partition;
    krd->pos = offset;
    snprintf(krd->topic, sizeof(krd->topic), "%s", topic);
    pthread_mutex_lock(&kf->mu);
    krd->c = consumer_for(kf, topic, partition, errstr, errstr_size);
    if (krd->c) {
        krd->next = krd->c->readers;
        krd->c->readers = krd;
    }
    pthread_mutex_unlock(&kf->mu);
    if (!krd->c) {
        free(krd);
        return NULL;
    }
    if (!(krd->rkt = rd_kafka_topic_new(krd->c->rk, topic, NULL))) {
        snprintf(errstr, errstr_size, "kafka topic %s: %s", topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        log_kafka_reader_close(krd);
        return NULL;
    }
    if (rd_kafka_consume_start(krd->rkt, partition, offset) < 0) {
        snprintf(errstr, errstr_size, "cannot read %s/%d at %lld: %s", topic, partition,
                 (long long)offset, rd_kafka_err2str(rd_kafka_last_error()));
        rd_kafka_topic_destroy(krd->rkt);
        krd->rkt = NULL;
        log_kafka_reader_close(krd);
        return NULL;
    }
    return krd;
}

static void release_msgs(struct kafka_reader *krd)
{
    for (int i = 0; i < krd->nmsgs; i++)
        rd_kafka_message_destroy(krd->msgs[i]);
    krd->nmsgs = 0;
}

void log_kafka_reader_close(struct kafka_reader *krd)
{
    if (!krd)
        return;
    release_msgs(krd);
    if (krd->rkt) {
        rd_kafka_consume_stop(krd->rkt, krd->partition);
        rd_kafka_topic_destroy(krd->rkt);
    }
    pthread_mutex_lock(&krd->kf->mu);
    consumer_unlink(krd->c, krd);
    pthread_mutex_unlock(&krd->kf->mu);
    free(krd->msgs);
    free(krd);
}

int64_t log_kafka_reader_position(const struct kafka_reader *krd)
{
    return krd->pos;
}

int log_kafka_read(struct kafka_reader *krd, struct pp_log_rec *recs, int max, int timeout_ms)
{
    if (max <= 0)
        return PP_EINVAL;
    if (LOAD(&krd->kf->closing))
        return PP_ESHUTDOWN;
    release_msgs(krd);
    if (max > krd->cap) {
        rd_kafka_message_t **m = realloc(krd->msgs, sizeof(*m) * (size_t)max);
        if (!m)
            return PP_ENOMEM;
        krd->msgs = m;
        krd->cap = max;
    }
    /* what is there now; else wait for the first one, then take what followed it */
    ssize_t got = rd_kafka_consume_batch(krd->rkt, krd->partition, 0, krd->msgs, (size_t)max);
    if (got == 0 && timeout_ms > 0) {
        rd_kafka_message_t *m = rd_kafka_consume(krd->rkt, krd->partition, timeout_ms);
        if (m) {
            krd->msgs[0] = m;
            got = 1;
            if (max > 1) {
                ssize_t more = rd_kafka_consume_batch(krd->rkt, krd->partition, 0, krd->msgs + 1,
                                                      (size_t)max - 1);
                got += more > 0 ? more : 0;
            }
        }
    }
    if (got < 0)
        return log_kafka_err(rd_kafka_last_error()) == PP_EAGAIN ? 0 : PP_EIO;
    int n = 0;
    for (ssize_t i = 0; i < got; i++) {
        rd_kafka_message_t *m = krd->msgs[i];
        if (m->err || m->offset < krd->pos) { /* fetch errors are retried by librdkafka */
            rd_kafka_message_destroy(m);
            continue;
        }
        krd->msgs[n] = m;
        struct pp_log_rec *rec = &recs[n++];
        rec->offset = m->offset;
        rec->ts_ms = rd_kafka_message_timestamp(m, NULL);
        rec->key = m->key;
        rec->keylen = m->key_len;
        rec->value = m->payload;
        rec->vlen = m->len;
        krd->pos = m->offset + 1;
    }
    krd->nmsgs = n;
    return n;
}

/* ---- consumer groups: committed offsets ---- */

/* The commit handle of group (consumer with group.id, never subscribed). */
static rd_kafka_t *group_handle(struct log_kafka *kf, const char *group, int use)
{
    static const char *const props[] = {
        "enable.auto.commit=false", "enable.auto.offset.store=false", "client.id=pinpipe", NULL};
    rd_kafka_t *rk = NULL;
    char errstr[512], gid[300];
    pthread_mutex_lock(&kf->mu);
    for (int i = 0; i < kf->ngroups && !rk; i++)
        if (!strcmp(kf->groups[i].name, group)) {
            rk = kf->groups[i].member ? kf->groups[i].member : kf->groups[i].rk;
            kf->groups[i].used |= use;
        }
    if (rk || kf->ngroups == KAFKA_MAX_GROUPS || !log_valid_name(group))
        goto out;
    snprintf(gid, sizeof(gid), "group.id=%s", group);
    const char *extra[5] = {gid, props[0], props[1], props[2], NULL};
    rd_kafka_conf_t *conf = log_kafka_conf(kf, extra, errstr, sizeof(errstr));
    if (conf && !(rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr)))) {
        rd_kafka_conf_destroy(conf);
        log_kafka_mask(kf, errstr);
        PP_WARN(KAFKA_MOD, "consumer of group %s: %s", group, errstr);
    }
    if (rk) {
        struct kafka_group *g = &kf->groups[kf->ngroups++];
        snprintf(g->name, sizeof(g->name), "%s", group);
        g->rk = rk;
        g->used = use;
    }
out:
    pthread_mutex_unlock(&kf->mu);
    return rk;
}

static rd_kafka_resp_err_t commit_on(rd_kafka_t *rk, const char *topic, int partition,
                                     int64_t next_offset, const char *meta)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    if (!l)
        return RD_KAFKA_RESP_ERR__FAIL; /* not reached: librdkafka aborts on OOM */
    rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(l, topic, partition);
    tp->offset = next_offset;
    if (meta && *meta) { /* freed with the list */
        tp->metadata = strdup(meta);
        tp->metadata_size = tp->metadata ? strlen(meta) : 0;
        if (!tp->metadata) {
            rd_kafka_topic_partition_list_destroy(l);
            return RD_KAFKA_RESP_ERR__FAIL;
        }
    }
    rd_kafka_resp_err_t err = rd_kafka_commit(rk, l, 0);
    if (!err && l->elems[0].err)
        err = l->elems[0].err;
    rd_kafka_topic_partition_list_destroy(l);
    return err;
}

int log_kafka_commit(struct pp_log *log, const char *group, const char *topic, int partition,
                     int64_t next_offset, const char *meta)
{
    if (next_offset < 0 || partition < 0 || !log_valid_name(topic))
        return PP_EINVAL;
    rd_kafka_t *rk = group_handle(log->kafka, group, 1);
    if (!rk)
        return PP_EINVAL;
    rd_kafka_resp_err_t err = commit_on(rk, topic, partition, next_offset, meta);
    /* A member revoking its partitions commits while the group rebalances: Kafka accepts that
     * (PreparingRebalance); librdkafka's mock refuses it (REBALANCE_IN_PROGRESS), which costs
     * the next owner a rewrite (pp_lake_resume), not correctness. */
    return log_kafka_err(err);
}

int log_kafka_committed(struct pp_log *log, const char *group, const char *topic, int partition,
                        int64_t *next_offset, char *meta, size_t meta_size)
{
    if (partition < 0 || !log_valid_name(topic))
        return PP_EINVAL;
    rd_kafka_t *rk = group_handle(log->kafka, group, 1);
    if (!rk)
        return PP_EINVAL;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    if (!l)
        return PP_ENOMEM;
    rd_kafka_topic_partition_list_add(l, topic, partition);
    rd_kafka_resp_err_t err = rd_kafka_committed(rk, l, KAFKA_META_TIMEOUT_MS);
    if (!err)
        err = l->elems[0].err;
    int64_t off = l->elems[0].offset;
    if (meta && meta_size) {
        size_t n = l->elems[0].metadata ? l->elems[0].metadata_size : 0;
        n = n < meta_size ? n : meta_size - 1;
        if (n)
            memcpy(meta, l->elems[0].metadata, n);
        meta[n] = '\0';
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (err)
        return log_kafka_err(err);
    if (off < 0)
        return PP_ENOENT;
    *next_offset = off;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_name(char **names, int n, int max, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return n;
    if (n >= max || !(names[n] = strdup(name)))
        return n;
    return n + 1;
}

/* Has group a committed offset on some partition of the known topics? */
static int has_commits(struct pp_log *log, const char *group)
{
    const char *topics[KAFKA_MAX_TOPICS];
    int nt = log_kafka_topics(log, topics, KAFKA_MAX_TOPICS), found = 0;
    rd_kafka_t *rk = nt > 0 ? group_handle(log->kafka, group, 0) : NULL;
    rd_kafka_topic_partition_list_t *l = rk ? rd_kafka_topic_partition_list_new(64) : NULL;
    if (!l)
        return 0;
    for (int i = 0; i < nt; i++)
        for (int p = 0, np = log_kafka_partitions(log, topics[i], 0); p < np; p++)
            rd_kafka_topic_partition_list_add(l, topics[i], p);
    if (!rd_kafka_committed(rk, l, KAFKA_META_TIMEOUT_MS))
        for (int i = 0; i < l->cnt && !found; i++)
            found = !l->elems[i].err && l->elems[i].offset >= 0;
    rd_kafka_topic_partition_list_destroy(l);
    return found;
}

int log_kafka_groups(struct pp_log *log, char **names, int max)
{
    struct log_kafka *kf = log->kafka;
    int n = 0;
    /* the cluster's groups (ListGroups; the mock cluster does not answer it). The Admin API's
     * ListConsumerGroups leaks an allocation per call in librdkafka 2.0.2 (LeakSanitizer), so
     * this uses the older call, deprecated but equivalent here. */
    const struct rd_kafka_group_list *gl = NULL;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    rd_kafka_resp_err_t err = rd_kafka_list_groups(kf->rk, NULL, &gl, KAFKA_META_TIMEOUT_MS);
#pragma GCC diagnostic pop
    if ((!err || err == RD_KAFKA_RESP_ERR__PARTIAL) && gl) {
        for (int i = 0; i < gl->group_cnt; i++)
            if (!strcmp(gl->groups[i].protocol_type, "consumer") || !gl->groups[i].protocol_type[0])
                n = add_name(names, n, max, gl->groups[i].group);
    }
    if (gl)
        rd_kafka_group_list_destroy(gl);
    /* ... pinpipe's own groups where they have commits (clusters that do not list groups) ... */
    static const char *const own[] = {"lake", "stream"};
    for (int i = 0; i < 2; i++)
        if (has_commits(log, own[i]))
            n = add_name(names, n, max, own[i]);
    /* ... and those this process used */
    pthread_mutex_lock(&kf->mu);
    for (int i = 0; i < kf->ngroups; i++)
        if (kf->groups[i].used)
            n = add_name(names, n, max, kf->groups[i].name);
    pthread_mutex_unlock(&kf->mu);
    qsort(names, (size_t)n, sizeof(*names), cmp_str);
    return n;
}

void log_kafka_group_member(struct log_kafka *kf, const char *group, rd_kafka_t *member)
{
    group_handle(kf, group, 1); /* the entry exists from here on */
    pthread_mutex_lock(&kf->mu);
    for (int i = 0; i < kf->ngroups; i++)
        if (!strcmp(kf->groups[i].name, group))
            kf->groups[i].member = member;
    pthread_mutex_unlock(&kf->mu);
}

void log_kafka_read_free(struct log_kafka *kf)
{
    for (int i = 0; i < kf->ncons; i++) {
        struct kafka_reader *r = kf->cons[i]->readers;
        for (; r; r = r->next) { /* readers left open: stop their fetchers */
            release_msgs(r);
            rd_kafka_consume_stop(r->rkt, r->partition);
        }
        rd_kafka_destroy(kf->cons[i]->rk);
        free(kf->cons[i]);
    }
    kf->ncons = 0;
    for (int i = 0; i < kf->ngroups; i++) {
        rd_kafka_consumer_close(kf->groups[i].rk);
        rd_kafka_destroy(kf->groups[i].rk);
    }
    kf->ngroups = 0;
}
