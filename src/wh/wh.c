/* wh.c: the pp_wh interface: picks the backend by the warehouse string and dispatches to it. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pp_err.h"
#include "wh_int.h"

int pp_wh_is_url(const char *spec)
{
    return spec && (!strncmp(spec, "postgresql://", 13) || !strncmp(spec, "postgres://", 11));
}

const char *pp_wh_redact(const char *spec, char *buf, size_t size)
{
    if (!size)
        return "";
    spec = spec ? spec : "";
    if (!pp_wh_is_url(spec)) {
        snprintf(buf, size, "%s", spec);
        return buf;
    }
    /* copy from spec, replacing user:PASSWORD@ and [?&]password=VALUE by "***" */
    size_t n = 0;
    const char *auth = strstr(spec, "://") + 3, *p = spec;
    size_t authlen = strcspn(auth, "/?#");
    const char *at = memchr(auth, '@', authlen), *colon = memchr(auth, ':', authlen);
    while (*p && n + 1 < size) {
        const char *skip_to = NULL;
        if (at && p == colon + 1 && colon < at) {
            skip_to = at;
        } else if (p > auth + authlen && (p[-1] == '?' || p[-1] == '&') &&
                   !strncmp(p, "password=", 9)) {
            for (const char *c = "password="; *c && n + 1 < size; c++)
                buf[n++] = *c;
            p += 9;
            skip_to = p + strcspn(p, "&#");
        }
        if (skip_to) {
            for (const char *c = "***"; *c && n + 1 < size; c++)
                buf[n++] = *c;
            p = skip_to;
            continue;
        }
        buf[n++] = *p++;
    }
    buf[n] = '\0';
    return buf;
}

struct pp_wh *pp_wh_open(const char *spec, char *errstr, size_t errstr_size)
{
    return pp_wh_open_timeout(spec, 0, errstr, errstr_size);
}

struct pp_wh *pp_wh_open_timeout(const char *spec, int connect_timeout_ms, char *errstr,
                                 size_t errstr_size)
{
    if (pp_wh_is_url(spec))
        return wh_pg_open(spec, connect_timeout_ms > 0 ? connect_timeout_ms
                                                       : PP_WH_CONNECT_TIMEOUT_MS,
                          errstr, errstr_size);
    return wh_sqlite_open(spec, errstr, errstr_size);
}

void pp_wh_close(struct pp_wh *wh)
{
    if (wh)
        wh->ops->close(wh);
}

const char *pp_wh_errmsg(struct pp_wh *wh)
{
    return wh ? wh->ops->errmsg(wh) : "no warehouse";
}

int pp_wh_set_sync(struct pp_wh *wh, int full)
{
    return wh->ops->set_sync(wh, full);
}

int pp_wh_begin(struct pp_wh *wh)
{
    return wh->ops->begin(wh);
}

int pp_wh_commit(struct pp_wh *wh)
{
    return wh->ops->commit(wh);
}

int pp_wh_rollback(struct pp_wh *wh)
{
    return wh->ops->rollback(wh);
}

int pp_wh_upsert(struct pp_wh *wh, const struct pp_row *row)
{
    return wh->ops->upsert(wh, row, NULL);
}

void wh_conflict_msg(char *buf, size_t size, const char *group, const char *topic, int partition,
                     int64_t expect)
{
    snprintf(buf, size,
             "position of %s/%s/%d is no longer %" PRId64 ": another consumer committed it meanwhile",
             group, topic, partition, expect);
}

struct pp_wh_prep *pp_wh_prep_new(const struct pp_wh *wh)
{
    return wh->ops->prep_new ? wh->ops->prep_new(wh) : NULL;
}

int pp_wh_upsert_prep(struct pp_wh *wh, struct pp_wh_prep *prep)
{
    return wh->ops->upsert_prep ? wh->ops->upsert_prep(wh, prep) : PP_EINVAL;
}

int pp_wh_upsert_status(struct pp_wh *wh, const struct pp_row *row, int *status)
{
    int ignored;
    return wh->ops->upsert(wh, row, status ? status : &ignored);
}

int pp_wh_offset_set(struct pp_wh *wh, const char *group, const char *topic, int partition,
                     int64_t expect, int64_t next_offset)
{
    return wh->ops->offset_set(wh, group, topic, partition, expect, next_offset);
}

int pp_wh_offset_get(struct pp_wh *wh, const char *group, const char *topic, int partition,
                     int64_t *next_offset)
{
    return wh->ops->offset_get(wh, group, topic, partition, next_offset);
}

int pp_wh_dag_record(struct pp_wh *wh, const struct pp_wh_dag_task *t)
{
    return wh->ops->dag_record(wh, t);
}

int pp_wh_dag_history(struct pp_wh *wh, const char *dag, int limit,
                      void (*cb)(void *arg, const struct pp_wh_dag_task *t), void *arg)
{
    return wh->ops->dag_history(wh, dag, limit, cb, arg);
}

int pp_wh_quality_store(struct pp_wh *wh, const char *run_date, const struct pp_wh_metric *m,
                        int n)
{
    return wh->ops->quality_store(wh, run_date, m, n);
}

int pp_wh_count_ids(struct pp_wh *wh, enum pp_kind kind, const int64_t *ids, int n,
                    int64_t *found)
{
    return wh->ops->count_ids(wh, kind, ids, n, found);
}

int pp_wh_count(struct pp_wh *wh, enum pp_kind kind, int64_t *n)
{
    return wh->ops->count(wh, kind, n);
}

int pp_wh_reject(struct pp_wh *wh, const char *topic, int partition, int64_t offset,
                 const char *error, const char *value, size_t vlen)
{
    return wh->ops->reject(wh, topic, partition, offset, error, value, vlen);
}
