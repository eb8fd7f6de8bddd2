/* kafka_meta.c: topics of the Kafka backend: metadata, explicit creation through the Admin
 * API (CreateTopics, conf.partitions), watermarks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka_int.h"
#include "log_int.h"
#include "pp_err.h"
#include "pp_util.h"

struct kafka_topic *log_kafka_topic(struct log_kafka *kf, const char *name)
{
    for (int i = 0; i < kf->ntopics; i++)
        if (!strcmp(kf->topics[i].name, name))
            return &kf->topics[i];
    if (kf->ntopics == KAFKA_MAX_TOPICS || strlen(name) >= sizeof(kf->topics[0].name))
        return NULL;
    struct kafka_topic *t = &kf->topics[kf->ntopics++];
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", name);
    return t;
}

/* Fetch all topics' metadata (never auto-creating one) and note partition counts.
 * @param nbrokers out: brokers in the cluster (may be NULL). @returns 0 or <0. */
static int refresh(struct log_kafka *kf, int *nbrokers)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t err = rd_kafka_metadata(kf->rk, 1, NULL, &md, KAFKA_META_TIMEOUT_MS);
    if (err)
        return log_kafka_err(err) == PP_EAGAIN ? PP_ETIMEDOUT : PP_EIO;
    pthread_mutex_lock(&kf->mu);
    for (int i = 0; i < md->topic_cnt; i++) {
        const struct rd_kafka_metadata_topic *mt = &md->topics[i];
        if (mt->err || mt->partition_cnt <= 0 || !strncmp(mt->topic, "__", 2))
            continue;
        struct kafka_topic *t = log_kafka_topic(kf, mt->topic);
        if (t)
            t->nparts = mt->partition_cnt;
    }
    pthread_mutex_unlock(&kf->mu);
    if (nbrokers)
        *nbrokers = md->broker_cnt;
    rd_kafka_metadata_destroy(md);
    return 0;
}

static int known_partitions(struct log_kafka *kf, const char *topic)
{
    int n = 0;
    pthread_mutex_lock(&kf->mu);
    for (int i = 0; i < kf->ntopics; i++)
        if (!strcmp(kf->topics[i].name, topic))
            n = kf->topics[i].nparts;
    pthread_mutex_unlock(&kf->mu);
    return n;
}

/* CreateTopics with conf.partitions partitions and min(3, brokers) replicas. */
static int create_topic(struct pp_log *log, const char *topic, int nbrokers)
{
    struct log_kafka *kf = log->kafka;
    char why[512];
    int nparts = log->conf.partitions > 0 ? log->conf.partitions : 2;
    int rf = nbrokers < 3 ? (nbrokers > 0 ? nbrokers : 1) : 3;
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, nparts, rf, why, sizeof(why));
    rd_kafka_queue_t *q = rd_kafka_queue_new(kf->rk);
    rd_kafka_AdminOptions_t *opt =
        rd_kafka_AdminOptions_new(kf->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    int rc = PP_ENOMEM;
    if (!nt || !q || !opt)
        goto out;
    rd_kafka_AdminOptions_set_request_timeout(opt, KAFKA_META_TIMEOUT_MS, why, sizeof(why));
    rd_kafka_CreateTopics(kf->rk, &nt, 1, opt, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, KAFKA_META_TIMEOUT_MS + 1000);
    if (!ev) {
        rc = PP_ETIMEDOUT;
        goto out;
    }
    rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
    const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
    size_t cnt = 0;
    const rd_kafka_topic_result_t **tr =
        res ? rd_kafka_CreateTopics_result_topics(res, &cnt) : NULL;
    if (!err && cnt == 1)
        err = rd_kafka_topic_result_error(tr[0]);
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (err)
        PP_WARN(KAFKA_MOD, "create topic %s failed: %s", topic, rd_kafka_err2str(err));
    else
        PP_INFO(KAFKA_MOD, "created topic %s partitions=%d replication=%d", topic, nparts, rf);
    rc = err ? PP_EIO : 0;
    rd_kafka_event_destroy(ev);
out:
    rd_kafka_NewTopic_destroy(nt);
    if (opt)
        rd_kafka_AdminOptions_destroy(opt);
    if (q)
        rd_kafka_queue_destroy(q);
    return rc;
}

int log_kafka_partitions(struct pp_log *log, const char *topic, int create)
{
    struct log_kafka *kf = log->kafka;
    int n = known_partitions(kf, topic), nbrokers = 0, rc;
    if (n > 0)
        return n;
    if (!log_valid_name(topic))
        return PP_EINVAL;
    if ((rc = refresh(kf, &nbrokers)))
        return rc;
    if ((n = known_partitions(kf, topic)) > 0)
        return n;
    if (!create || log->conf.readonly)
        return PP_ENOENT;
    if ((rc = create_topic(log, topic, nbrokers)))
        return rc;
    /* the new topic's metadata may take a moment to reach every broker */
    for (int i = 0; i < 50; i++) {
        if ((rc = refresh(kf, NULL)))
            return rc;
        if ((n = known_partitions(kf, topic)) > 0)
            return n;
        usleep(100 * 1000);
    }
    return PP_ENOENT;
}

int log_kafka_topics(struct pp_log *log, const char **names, int max)
{
    struct log_kafka *kf = log->kafka;
    refresh(kf, NULL); /* on failure: the topics known so far */
    int n = 0;
    pthread_mutex_lock(&kf->mu);
    for (int i = 0; i < kf->ntopics && n < max; i++)
        if (kf->topics[i].nparts > 0)
            names[n++] = kf->topics[i].name;
    pthread_mutex_unlock(&kf->mu);
    return n;
}

int log_kafka_watermarks(struct pp_log *log, const char *topic, int partition, int64_t *low,
                         int64_t *high)
{
    struct log_kafka *kf = log->kafka;
    int n = log_kafka_partitions(log, topic, 0);
    if (n < 0)
        return n;
    if (partition < 0 || partition >= n)
        return PP_ENOENT;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(kf->rk, topic, partition, low, high,
                                                               KAFKA_META_TIMEOUT_MS);
    if (err)
        return log_kafka_err(err);
    return 0;
}

void log_kafka_meta_free(struct log_kafka *kf)
{
    for (int i = 0; i < kf->ntopics; i++)
        if (kf->topics[i].rkt)
            rd_kafka_topic_destroy(kf->topics[i].rkt);
    kf->ntopics = 0;
}
