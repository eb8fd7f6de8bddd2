/* kafka_member.c: consumer-group membership on Kafka (subscribe + eager rebalance callbacks);
 * the member fetches nothing itself: the caller reads its assigned partitions with readers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_int.h"
#include "log_int.h"
#include "pp_err.h"
#include "pp_util.h"

struct kafka_member {
    struct log_kafka *kf;
    rd_kafka_t *rk;
    struct pp_log_member_cbs cbs;
    char group[250];
    int rc; /* first on_assign failure */
};

/* Hand the partitions of l to the caller's callback. */
static int call_cb(struct kafka_member *km, rd_kafka_topic_partition_list_t *l, int assign,
                   int lost)
{
    struct pp_log_tp *tps = calloc((size_t)(l->cnt ? l->cnt : 1), sizeof(*tps));
    if (!tps)
        return PP_ENOMEM;
    for (int i = 0; i < l->cnt; i++) {
        tps[i].topic = l->elems[i].topic;
        tps[i].partition = (int)l->elems[i].partition;
    }
    int rc = 0;
    if (assign)
        rc = km->cbs.on_assign(km->cbs.arg, tps, l->cnt);
    else
        km->cbs.on_revoke(km->cbs.arg, tps, l->cnt, lost);
    free(tps);
    return rc;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct kafka_member *km = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        int rc = call_cb(km, parts, 1, 0);
        if (rc && !km->rc)
            km->rc = rc;
        /* the group's assignment stands; locally nothing is fetched by this handle */
        rd_kafka_topic_partition_list_t *none = rd_kafka_topic_partition_list_new(0);
        rd_kafka_assign(rk, none);
        rd_kafka_topic_partition_list_destroy(none);
    } else {
        /* the caller committed (or, lost, dropped) and stopped reading them */
        call_cb(km, parts, 0, rd_kafka_assignment_lost(rk));
        rd_kafka_assign(rk, NULL);
    }
}

struct kafka_member *log_kafka_subscribe(struct pp_log *log, const char *group,
                                         const char *const *topics, int ntopics,
                                         const struct pp_log_member_cbs *cbs, char *errstr,
                                         size_t errstr_size)
{
    struct log_kafka *kf = log->kafka;
    char gid[300], why[512];
    if (!log_valid_name(group)) {
        snprintf(errstr, errstr_size, "bad group name");
        return NULL;
    }
    struct kafka_member *km = calloc(1, sizeof(*km));
    if (!km) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    km->kf = kf;
    km->cbs = *cbs;
    snprintf(km->group, sizeof(km->group), "%s", group);
    snprintf(gid, sizeof(gid), "group.id=%s", group);
    const char *extra[] = {gid,
                           "enable.auto.commit=false",
                           "enable.auto.offset.store=false",
                           "session.timeout.ms=6000",
                           "heartbeat.interval.ms=500",
                           "topic.metadata.refresh.interval.ms=1000",
                           "client.id=pinpipe",
                           NULL};
    rd_kafka_conf_t *conf = log_kafka_conf(kf, extra, errstr, errstr_size);
    if (!conf)
        goto fail;
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_opaque(conf, km);
    if (!(km->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why)))) {
        rd_kafka_conf_destroy(conf);
        log_kafka_mask(kf, why);
        snprintf(errstr, errstr_size, "kafka consumer of group %s: %s", group, why);
        goto fail;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(ntopics);
    for (int i = 0; i < ntopics; i++)
        rd_kafka_topic_partition_list_add(l, topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(km->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err) {
        snprintf(errstr, errstr_size, "kafka subscribe of group %s: %s", group,
                 rd_kafka_err2str(err));
        rd_kafka_destroy(km->rk);
        goto fail;
    }
    log_kafka_group_member(kf, group, km->rk); /* commits of group go through the member */
    return km;
fail:
    free(km);
    return NULL;
}

int log_kafka_member_poll(struct kafka_member *km, int timeout_ms)
{
    rd_kafka_message_t *m = rd_kafka_consumer_poll(km->rk, timeout_ms);
    if (m) { /* nothing is fetched: only events such as "topic not available yet" */
        if (m->err)
            PP_DEBUG(KAFKA_MOD, "group %s: %s", km->group, rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
    }
    int rc = km->rc;
    km->rc = 0;
    return rc;
}

void log_kafka_unsubscribe(struct kafka_member *km)
{
    if (!km)
        return;
    rd_kafka_consumer_close(km->rk); /* revokes (the callback runs here) and leaves the group */
    log_kafka_group_member(km->kf, km->group, NULL);
    rd_kafka_destroy(km->rk);
    free(km);
}
