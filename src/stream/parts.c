/* parts.c: the partition readers of pin/geo/user that the stream and lake consumers share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pp_err.h"
#include "pp_util.h"
#include "stream_int.h"

void pp_parts_init(struct pp_parts *ps, struct pp_log *log, pp_part_start_fn start, void *arg)
{
    memset(ps, 0, sizeof(*ps));
    ps->log = log;
    ps->mod = "stream";
    ps->start = start;
    ps->arg = arg;
}

void pp_parts_free(struct pp_parts *ps)
{
    pp_log_unsubscribe(ps->member); /* revokes what is left */
    for (int i = 0; i < ps->n; i++)
        pp_log_reader_close(ps->v[i].rd);
    free(ps->v);
    memset(ps, 0, sizeof(*ps));
}

int pp_parts_complete(const struct pp_parts *ps)
{
    for (int k = 0; k < PP_KIND_COUNT; k++)
        if (!ps->have[k])
            return 0;
    return 1;
}

static int part_add(struct pp_parts *ps, enum pp_kind kind, int partition)
{
    const char *topic = pp_kind_name(kind);
    char err[256] = "";
    int64_t offset = 0;
    int rc = ps->start(ps->arg, topic, partition, &offset);
    if (rc) {
        PP_ERROR(ps->mod, "start position failed topic=%s partition=%d error=%s", topic, partition,
                 pp_err_str(rc));
        return rc;
    }
    if (ps->n == ps->cap) {
        int cap = ps->cap ? ps->cap * 2 : 8;
        struct pp_part *v = realloc(ps->v, (size_t)cap * sizeof(*v));
        if (!v)
            return PP_ENOMEM;
        ps->v = v;
        ps->cap = cap;
    }
    struct pp_log_reader *rd =
        pp_log_reader_open(ps->log, topic, partition, offset, err, sizeof(err));
    if (!rd) {
        PP_ERROR(ps->mod, "reader open failed topic=%s partition=%d error=\"%s\"", topic, partition,
                 err);
        return PP_EIO;
    }
    struct pp_part *part = &ps->v[ps->n++];
    memset(part, 0, sizeof(*part));
    part->topic = topic;
    part->kind = kind;
    part->partition = partition;
    part->rd = rd;
    part->committed = offset;
    part->loaded = offset;
    part->pos = pp_log_reader_position(rd);
    part->log_dirty = 1; /* the stream copies its start position to the log's group */
    part->end = -1;
    return 0;
}

/* Rebalance: partitions assigned to this member (all or none of them are added). */
static int on_assign(void *arg, const struct pp_log_tp *tps, int n)
{
    struct pp_parts *ps = arg;
    int first = ps->n;
    for (int i = 0; i < n; i++) {
        enum pp_kind kind = pp_kind_from_topic(tps[i].topic, strlen(tps[i].topic));
        const char *name = kind == PP_KIND_NONE ? NULL : pp_kind_name(kind);
        int rc =
            name && !strcmp(name, tps[i].topic) ? part_add(ps, kind, tps[i].partition) : PP_EINVAL;
        if (rc) {
            while (ps->n > first)
                pp_log_reader_close(ps->v[--ps->n].rd);
            return rc;
        }
    }
    char list[512] = "";
    size_t len = 0;
    for (int i = 0; i < n && len < sizeof(list); i++)
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s.%d", i ? "," : "",
                                tps[i].topic, tps[i].partition);
    PP_INFO(ps->mod, "assigned partitions=%d [%s]", n, list);
    ps->assigns++;
    return 0;
}

/* Rebalance: give up tps (the consumer commits first), closing their readers. */
static void on_revoke(void *arg, const struct pp_log_tp *tps, int n, int lost)
{
    struct pp_parts *ps = arg;
    if (lost)
        PP_WARN(ps->mod, "partitions lost: the group moved on without this member (stalled "
                         "past max.poll.interval.ms or its session); dropping what is open");
    if (ps->revoke)
        ps->revoke(ps->arg, lost);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < ps->n; j++) {
            struct pp_part *part = &ps->v[j];
            if (part->partition != tps[i].partition || strcmp(part->topic, tps[i].topic))
                continue;
            pp_log_reader_close(part->rd);
            ps->v[j] = ps->v[--ps->n];
            break;
        }
    PP_INFO(ps->mod, "revoked partitions=%d", n);
}

int pp_parts_subscribe(struct pp_parts *ps, const char *group, pp_part_revoke_fn revoke)
{
    static const char *const topics[] = {"pin", "geo", "user"};
    struct pp_log_member_cbs cbs = {on_assign, on_revoke, ps};
    char err[256] = "";
    if (pp_log_backend(ps->log) != PP_LOG_KAFKA)
        return 0;
    ps->revoke = revoke;
    ps->member = pp_log_subscribe(ps->log, group, topics, 3, &cbs, err, sizeof(err));
    if (!ps->member) {
        PP_ERROR(ps->mod, "subscribe failed group=%s error=\"%s\"", group, err);
        return PP_EIO;
    }
    return 0;
}

int pp_parts_discover(struct pp_parts *ps, int force)
{
    if (ps->member) {
        int rc = pp_log_member_poll(ps->member, 0);
        if (rc)
            PP_ERROR(ps->mod, "rebalance failed error=%s", pp_err_str(rc));
        return rc;
    }
    int64_t now = pp_mono_us();
    if (pp_parts_complete(ps) || (!force && now < ps->next_check_us))
        return 0;
    ps->next_check_us = now + PP_STREAM_DISCOVER_MS * 1000;
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        if (ps->have[k])
            continue;
        int np = pp_log_partitions(ps->log, pp_kind_name((enum pp_kind)k), 0);
        if (np == PP_ENOENT)
            continue;
        if (np < 0) {
            PP_ERROR(ps->mod, "partitions failed topic=%s error=%s", pp_kind_name((enum pp_kind)k),
                     pp_err_str(np));
            return np;
        }
        int first = ps->n;
        for (int p = 0; p < np; p++) {
            int rc = part_add(ps, (enum pp_kind)k, p);
            if (rc) { /* all of a topic or nothing, so a later call can retry it */
                while (ps->n > first)
                    pp_log_reader_close(ps->v[--ps->n].rd);
                return rc;
            }
        }
        ps->have[k] = 1;
    }
    return 0;
}

int pp_parts_reopen(struct pp_parts *ps, struct pp_part *part, int64_t offset)
{
    char err[256] = "";
    pp_log_reader_close(part->rd);
    part->rd = pp_log_reader_open(ps->log, part->topic, part->partition, offset, err, sizeof(err));
    if (!part->rd) {
        PP_ERROR(ps->mod, "reader reopen failed topic=%s partition=%d error=\"%s\"", part->topic,
                 part->partition, err);
        return PP_EIO;
    }
    part->pos = pp_log_reader_position(part->rd);
    part->touched = 0;
    return 0;
}

void pp_parts_nap(int ms, volatile sig_atomic_t *stop)
{
    for (int i = 0; i < ms && !*stop; i += 10) {
        struct timespec ts = {0, (ms - i < 10 ? ms - i : 10) * 1000000L};
        nanosleep(&ts, NULL);
    }
}
